"""Received PACT requests answered by a person (answer mode ``review``), SQLite and PostgreSQL.

The world is the PACT host tests' seeded data (``fixtures.api_support.seed``): "Supplier Co"
publishes the PACT v3 spec's examples; its client A may read example-1 (product
``urn:gtin:5695872369587``), example-2 and an older, Deprecated example-2 (another product),
client B example-3 and example-4; "Other Co" has one footprint and client C. A's requests
are answered at ``https://buyer.test`` (a peer entry).

Hand-worked answers: a request of A for example-1's product matches exactly example-1 (the
one footprint of product P1 shared with A), so the candidates are ``[e1]`` and example-1's
``pcf.pcfExcludingBiogenicUptake`` is ``"0.384"`` per ``kilogram``; example-3 is shared with
B only, so A may not be sent it.
"""

from __future__ import annotations

import datetime as dt
import json
import multiprocessing
import uuid
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, select

from fixtures.api_support import Seeded, example, seed
from fixtures.in_process import openpcf
from openpcf.db.engine import make_engine, session_scope
from openpcf.db.errors import NotFoundError
from openpcf.db.models import Event, Organisation, OutboxEvent
from openpcf.errors import InputError
from openpcf.exchange.events import TYPES, parse_event
from openpcf.services.pact import review
from openpcf.services.pact.auth import TokenClaims
from openpcf.services.pact.host import receive_event
from openpcf.services.pact.peers import FilePeers, MemoryPeers, Peer, peers_file
from openpcf.settings import get_settings

BUYER = "https://buyer.test"
OURS = "//supplier.test/3/events"
E1_PRODUCT = "urn:gtin:5695872369587"
SPAWN = multiprocessing.get_context("spawn")


def peers_of(seeded: Seeded) -> MemoryPeers:
    client_id = seeded.creds["A"][0]
    return MemoryPeers(
        [Peer(client_id=client_id, base_url=BUYER, remote_client_id="x", remote_client_secret="y")]
    )


def claims(seeded: Seeded, name: str = "A") -> TokenClaims:
    now = dt.datetime.now(dt.UTC)
    return TokenClaims(
        client_id=seeded.creds[name][0],
        scopes=("footprint:list", "footprint:read"),
        issued=now,
        expires=now + dt.timedelta(hours=1),
        token_id=uuid.uuid4().hex,
    )


def request_created(data: dict[str, Any], *, version: str = "3") -> Any:
    body = {
        "type": TYPES["2" if version == "2" else "3"]["created"],
        "specversion": "1.0",
        "id": str(uuid.uuid4()),
        "source": f"//buyer.test/{version}/events",
        "time": "2026-12-04T10:00:00Z",
        "data": data,
    }
    return parse_event(
        json.dumps(body).encode(),
        content_type="application/cloudevents+json",
        version="2" if version == "2" else "3",
    )


def set_mode(engine: Engine, mode: str, organisation: str = "Supplier Co") -> str:
    return review.set_answer_mode(engine, organisation=organisation, mode=mode)


def org_id(engine: Engine, name: str = "Supplier Co") -> int:
    return review.organisation_id(engine, name)


def held(engine: Engine, seeded: Seeded, data: dict[str, Any], version: str = "3") -> int:
    """Send ``data`` as A's RequestCreated event to the host; the stored request's row id."""
    event = request_created(data, version=version)
    outcome = receive_event(
        engine,
        claims=claims(seeded),
        event=event,
        peers=peers_of(seeded),
        source=OURS.replace("/3/", f"/{version}/"),
    )
    assert outcome.queued is None
    with session_scope(engine) as s:
        row = s.scalars(select(Event).where(Event.event_id == event.id)).one()
        assert (row.answer_state, row.answer_source) == ("pending", outcome_source(version))
        return row.id


def outcome_source(version: str) -> str:
    return OURS.replace("/3/", f"/{version}/")


def outbox(engine: Engine) -> list[OutboxEvent]:
    with session_scope(engine) as s:
        return list(s.scalars(select(OutboxEvent).order_by(OutboxEvent.created)))


@pytest.fixture
def seeded(engine: Engine) -> Seeded:
    return seed(engine)


# --------------------------------------------------------------------------------------------
# the mode


def test_auto_is_the_default_and_still_answers_at_once(engine: Engine, seeded: Seeded) -> None:
    with session_scope(engine) as s:
        modes = set(s.scalars(select(Organisation.pact_answer_mode)))
    assert modes == {"auto"}
    outcome = receive_event(
        engine,
        claims=claims(seeded),
        event=request_created({"productId": [E1_PRODUCT]}),
        peers=peers_of(seeded),
        source=OURS,
    )
    assert outcome.queued is not None
    [answer] = outbox(engine)
    assert [pf["id"] for pf in answer.payload["data"]["pfs"]] == [seeded.ids["e1"]]
    with session_scope(engine) as s:
        assert s.scalars(select(Event.answer_state)).one() is None
    assert review.pending_requests(engine, organisation_id=org_id(engine)) == []


def test_modes_are_checked_and_reported(engine: Engine, seeded: Seeded) -> None:
    assert set_mode(engine, "review") == "auto"
    assert set_mode(engine, "auto") == "review"
    with pytest.raises(InputError, match="choose auto or review"):
        set_mode(engine, "manual")
    with pytest.raises(InputError, match="no organisation 'Nobody'"):
        set_mode(engine, "review", organisation="Nobody")
    with pytest.raises(InputError, match="name the organisation with --org"):
        review.organisation_id(engine, None)  # two organisations: Supplier Co, Other Co


# --------------------------------------------------------------------------------------------
# fulfil and reject


def test_a_held_request_is_fulfilled_with_the_chosen_footprint(
    engine: Engine, seeded: Seeded
) -> None:
    """Nothing is queued on arrival; the candidates are example-1 only (hand-worked above);
    the Fulfilled event carries example-1 as published, the request's id and our source."""
    set_mode(engine, "review")
    request_id = held(engine, seeded, {"productId": [E1_PRODUCT], "comment": "for Q4"})
    assert outbox(engine) == []
    [pending] = review.pending_requests(engine, organisation_id=org_id(engine))
    assert pending.id == request_id
    assert [(c.footprint_id, c.pcf, c.unit) for c in pending.candidates] == [
        (seeded.ids["e1"], "0.384", "kilogram")
    ]
    queued = review.fulfil(
        engine,
        organisation_id=org_id(engine),
        request_id=request_id,
        footprint_ids=[seeded.ids["e1"], f" {seeded.ids['e1']} "],  # the same id twice: once
        peers=peers_of(seeded),
        by="web:eng@supplier.test",
    )
    [answer] = outbox(engine)
    assert answer.id == queued
    assert answer.target_url == f"{BUYER}/3/events"
    assert answer.payload["type"] == TYPES["3"]["fulfilled"]
    assert answer.payload["source"] == OURS
    assert answer.payload["data"]["pfs"] == [example(1)]
    with session_scope(engine) as s:
        row = s.get(Event, request_id)
        assert row is not None
        assert (row.answer_state, row.answered_by) == ("answered", "web:eng@supplier.test")
        request_event_id = row.event_id
    assert answer.payload["data"]["requestEventId"] == request_event_id
    assert review.pending_requests(engine, organisation_id=org_id(engine)) == []


def test_a_held_request_is_rejected_with_a_pact_code_and_message(
    engine: Engine, seeded: Seeded
) -> None:
    set_mode(engine, "review")
    request_id = held(engine, seeded, {"productId": [E1_PRODUCT]})
    common: dict[str, Any] = {
        "organisation_id": org_id(engine),
        "request_id": request_id,
        "peers": peers_of(seeded),
        "by": "cli:me",
    }
    with pytest.raises(review.AnswerInputError, match="NotFound, AccessDenied") as bad:
        review.reject(engine, code="NoSuchFootprint", message="x", **common)  # the v2.3 code
    assert bad.value.field == "code"
    with pytest.raises(review.AnswerInputError, match="1 to 1000 characters") as empty:
        review.reject(engine, code="AccessDenied", message="   ", **common)
    assert empty.value.field == "message"
    assert outbox(engine) == []
    review.reject(engine, code="AccessDenied", message=" Not for your company. ", **common)
    [answer] = outbox(engine)
    assert answer.payload["type"] == TYPES["3"]["rejected"]
    assert answer.payload["data"]["error"] == {
        "code": "AccessDenied",
        "message": "Not for your company.",
    }


def test_a_v2_request_is_answered_with_v2_views_and_v2_codes(
    engine: Engine, seeded: Seeded
) -> None:
    set_mode(engine, "review")
    request_id = held(engine, seeded, {"pf": {"productIds": [E1_PRODUCT]}}, version="2")
    common: dict[str, Any] = {
        "organisation_id": org_id(engine),
        "peers": peers_of(seeded),
        "by": "cli:me",
    }
    review.fulfil(engine, request_id=request_id, footprint_ids=[seeded.ids["e1"]], **common)
    [answer] = outbox(engine)
    assert answer.target_url == f"{BUYER}/2/events"
    assert answer.payload["type"] == TYPES["2"]["fulfilled"]
    assert answer.payload["source"] == "//supplier.test/2/events"
    [pf] = answer.payload["data"]["pfs"]
    assert pf["id"] == seeded.ids["e1"]
    assert pf["pcf"]["pCfExcludingBiogenic"] == "0.384"  # the v2.3 view
    second = held(engine, seeded, {"pf": {"productIds": [E1_PRODUCT]}}, version="2")
    review.reject(engine, request_id=second, code="NoSuchFootprint", message="none", **common)
    assert outbox(engine)[-1].payload["data"]["error"]["code"] == "NoSuchFootprint"


def test_footprints_the_client_may_not_read_are_refused(engine: Engine, seeded: Seeded) -> None:
    """Example-3 is shared with B only, Other Co's footprint belongs to another organisation,
    an unknown id is unknown: each refused at the ``footprints`` field, nothing queued."""
    set_mode(engine, "review")
    request_id = held(engine, seeded, {"productId": [E1_PRODUCT]})
    common: dict[str, Any] = {
        "organisation_id": org_id(engine),
        "request_id": request_id,
        "peers": peers_of(seeded),
        "by": "cli:me",
    }
    for ids, problem in (
        ([seeded.ids["e3"]], "is not one client"),
        ([seeded.ids["e1"], seeded.ids["other"]], "is not one client"),
        ([str(uuid.uuid4())], "is not one client"),
        (["not-a-uuid"], "is not a footprint id"),
        ([" ", ""], "at least one footprint"),
        ([str(uuid.uuid4()) for _ in range(101)], "at most 100"),
    ):
        with pytest.raises(review.AnswerInputError, match=problem) as refused:
            review.fulfil(engine, footprint_ids=ids, **common)
        assert refused.value.field == "footprints"
    assert outbox(engine) == []
    with session_scope(engine) as s:
        assert s.scalars(select(Event.answer_state)).one() == "pending"


def test_one_answer_only_and_other_organisations_ids_are_unknown(
    engine: Engine, seeded: Seeded
) -> None:
    set_mode(engine, "review")
    request_id = held(engine, seeded, {"productId": [E1_PRODUCT]})
    peers = peers_of(seeded)
    common: dict[str, Any] = {"request_id": request_id, "peers": peers, "by": "cli:first"}
    with pytest.raises(NotFoundError):
        review.fulfil(
            engine, organisation_id=org_id(engine, "Other Co"), footprint_ids=["x"], **common
        )
    with pytest.raises(NotFoundError):
        review.reject(
            engine,
            organisation_id=org_id(engine),
            **{**common, "request_id": 10**9},
            code="NotFound",
            message="m",
        )
    review.fulfil(
        engine, organisation_id=org_id(engine), footprint_ids=[seeded.ids["e1"]], **common
    )
    with pytest.raises(review.AnsweredAlreadyError, match="answered already by cli:first"):
        review.reject(
            engine, organisation_id=org_id(engine), code="NotFound", message="m", **common
        )
    assert len(outbox(engine)) == 1


def test_a_request_the_host_answered_itself_cannot_be_answered_again(
    engine: Engine, seeded: Seeded
) -> None:
    receive_event(
        engine,
        claims=claims(seeded),
        event=request_created({"productId": [E1_PRODUCT]}),
        peers=peers_of(seeded),
        source=OURS,
    )
    with session_scope(engine) as s:
        auto_id = s.scalars(select(Event.id)).one()
    with pytest.raises(NotFoundError, match="held for an answer"):
        review.reject(
            engine,
            organisation_id=org_id(engine),
            request_id=auto_id,
            code="NotFound",
            message="m",
            peers=peers_of(seeded),
            by="cli:me",
        )


def test_no_peer_for_the_client_is_a_clear_error(engine: Engine, seeded: Seeded) -> None:
    set_mode(engine, "review")
    request_id = held(engine, seeded, {"productId": [E1_PRODUCT]})
    with pytest.raises(InputError, match="openpcf pact peer"):
        review.fulfil(
            engine,
            organisation_id=org_id(engine),
            request_id=request_id,
            footprint_ids=[seeded.ids["e1"]],
            peers=MemoryPeers(),
            by="cli:me",
        )
    assert outbox(engine) == []


# --------------------------------------------------------------------------------------------
# two processes answering at once


def answer_at_barrier(
    url: str, kwargs: dict[str, Any], fulfil: bool, inside: bool, barrier: Any, results: Any
) -> None:
    """Answer the request (fulfil or reject) and put the outcome on ``results``:
    ``("sent", outbox id)``, ``("answered", message)`` or ``("error", message)``.

    ``inside``: wait at the barrier inside the transaction, right before the conditional
    UPDATE (every process has read the request as pending by then: PostgreSQL); else right
    before the call (SQLite's write transactions run one at a time, so no two can be inside).
    """
    from openpcf.services.pact import review as answering

    mark: Callable[..., bool] = vars(answering)["mark_request_answered"]

    def mark_at_barrier(*args: Any, **kw: Any) -> bool:
        barrier.wait(timeout=120)
        return mark(*args, **kw)

    if inside:
        vars(answering)["mark_request_answered"] = mark_at_barrier
    else:
        barrier.wait(timeout=120)
    engine = make_engine(url)
    peers = MemoryPeers([Peer(**kwargs.pop("peer"))])
    try:
        if fulfil:
            queued = answering.fulfil(engine, peers=peers, **kwargs)
        else:
            queued = answering.reject(
                engine, peers=peers, code="NotFound", message="none here", **kwargs
            )
        results.put(("sent", str(queued)))
    except answering.AnsweredAlreadyError as e:
        results.put(("answered", str(e)))
    except Exception as e:
        results.put(("error", f"{type(e).__name__}: {e}"))
    finally:
        engine.dispose()


@pytest.mark.slow
def test_six_processes_answering_at_once_send_one_answer(
    migrated_db_url: str, db_backend: str
) -> None:
    """Six processes (three fulfil, three reject) answer one held request at the same moment:
    exactly one answer is queued, the other five are told "answered already", none fails."""
    engine = make_engine(migrated_db_url)
    try:
        seeded = seed(engine)
        set_mode(engine, "review")
        request_id = held(engine, seeded, {"productId": [E1_PRODUCT]})
        organisation = org_id(engine)
    finally:
        engine.dispose()
    peer = {
        "client_id": seeded.creds["A"][0],
        "base_url": BUYER,
        "remote_client_id": "x",
        "remote_client_secret": "y",
    }
    barrier, results = SPAWN.Barrier(6), SPAWN.Queue()
    procs = []
    for n in range(6):
        kwargs: dict[str, Any] = {
            "organisation_id": organisation,
            "request_id": request_id,
            "by": f"worker-{n}",
            "peer": peer,
        }
        if n % 2 == 0:
            kwargs["footprint_ids"] = [seeded.ids["e1"]]
        args = (migrated_db_url, kwargs, n % 2 == 0, db_backend == "postgresql", barrier, results)
        procs.append(SPAWN.Process(target=answer_at_barrier, args=args))
    for p in procs:
        p.start()
    outcomes = [results.get(timeout=300) for _ in procs]
    for p in procs:
        p.join(timeout=60)
        assert p.exitcode == 0
    assert Counter(kind for kind, _ in outcomes) == {"sent": 1, "answered": 5}, outcomes
    assert all("answered already by worker-" in text for kind, text in outcomes if kind != "sent")
    engine = make_engine(migrated_db_url)
    try:
        with session_scope(engine) as s:
            rows = s.scalars(select(OutboxEvent)).all()
            assert [str(r.id) for r in rows] == [text for kind, text in outcomes if kind == "sent"]
            row = s.get(Event, request_id)
            assert row is not None
            assert row.answer_state == "answered"
            fulfilled = row.answered_by in ("worker-0", "worker-2", "worker-4")
            kind = TYPES["3"]["fulfilled"] if fulfilled else TYPES["3"]["rejected"]
            assert rows[0].payload["type"] == kind
            assert s.scalar(select(func.count()).select_from(Event)) == 1
    finally:
        engine.dispose()


# --------------------------------------------------------------------------------------------
# the command line


def test_cli_sets_the_mode_lists_fulfils_and_rejects(
    migrated_db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``openpcf pact answer-mode`` and ``pact requests list|fulfil|reject``; refusals are one
    line and a non-zero exit code, never a traceback."""
    home = tmp_path / "home"
    monkeypatch.setenv("OPENPCF_HOME", str(home))
    monkeypatch.setenv("OPENPCF_DATABASE_URL", migrated_db_url)
    get_settings.cache_clear()
    engine = make_engine(migrated_db_url)
    try:
        seeded = seed(engine)
        for peer in peers_of(seeded).all():
            FilePeers(peers_file(home)).save(peer)
        switched = openpcf("pact", "answer-mode", "review", "--org", "Supplier Co")
        assert switched.returncode == 0, switched.stderr
        assert "answer mode review (was auto)" in switched.stdout
        first = held(engine, seeded, {"productId": [E1_PRODUCT]})
        second = held(engine, seeded, {"productId": [E1_PRODUCT]})
        org = ("--org", "Supplier Co")
        listed = openpcf("pact", "requests", "list", *org, "--json")
        assert listed.returncode == 0, listed.stderr
        assert [(r["id"], r["matching"]) for r in json.loads(listed.stdout)] == [
            (first, [seeded.ids["e1"]]),
            (second, [seeded.ids["e1"]]),
        ]
        fulfil = ("pact", "requests", "fulfil", str(first), "--footprint", seeded.ids["e1"])
        done = openpcf(*fulfil, *org)
        assert done.returncode == 0, done.stderr
        assert f"Queued the Fulfilled answer to request {first}" in done.stdout
        again = openpcf(*fulfil, *org)
        assert again.returncode != 0
        assert "answered already by cli" in again.stderr
        foreign = openpcf(
            "pact", "requests", "fulfil", str(second), "--footprint", seeded.ids["e3"], *org
        )
        assert foreign.returncode != 0
        assert "is not one client" in foreign.stderr
        reject = ("pact", "requests", "reject", str(second))
        refused = openpcf(*reject, "--code", "Nope", "--message", "m", *org)
        assert refused.returncode != 0
        assert "choose one of NotFound" in refused.stderr
        rejected = openpcf(*reject, "--code", "NotFound", "--message", "No such product", *org)
        assert rejected.returncode == 0, rejected.stderr
        other = openpcf("pact", "requests", "list", "--org", "Other Co")
        assert "No request waits for an answer." in other.stdout
        for run in (again, foreign, refused):
            assert "Traceback" not in run.stderr
        assert len(outbox(engine)) == 2
    finally:
        engine.dispose()
        get_settings.cache_clear()
