"""Concurrent writers keep every guarantee, on SQLite and PostgreSQL, with real processes.

Issue 11 items 2 and 5. Publishing: however many processes publish one product at once,
exactly one footprint stays Active for the product and reference period, the footprints form
one linear chain of ``precedingPfIds`` (each Deprecated footprint superseded by exactly one
successor), a new organisation is created once, and no process crashes; a publisher killed
with SIGKILL inside its transaction leaves nothing behind. Outbox: several sender processes
on one database deliver each queued answer exactly once, a crashed sender's claim runs out
and its event is sent again, and a peer that answers "already received" counts as delivered.

The worker code is in ``tests/concurrency_workers.py`` (spawned interpreters import it).
"""

from __future__ import annotations

import datetime as dt
import json
import multiprocessing
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, select

import concurrency_workers as workers
from openpcf.db import repositories as repo
from openpcf.db.concurrency import write_transaction
from openpcf.db.engine import make_engine, session_scope
from openpcf.db.errors import WriteConflictError
from openpcf.db.models import ACTIVE, DEPRECATED, Footprint, Organisation, OutboxEvent, Product
from openpcf.exchange.errors import PactRemoteError
from openpcf.services.pact.outbox import LEASE, Deliverer, already_received
from openpcf.services.publishing import publish

ROOT = Path(__file__).parents[1]
WIDGET = ROOT / "tests/fixtures/two_process.yaml"
WIDGET_ID = "urn:openpcf:product:widget"
SPAWN = multiprocessing.get_context("spawn")


# --------------------------------------------------------------------------------------------
# the guarantees, checked on what is stored


def chain(engine: Engine, organisation: str) -> list[Footprint]:
    """The widget's footprints of ``organisation`` in chain order, after checking the
    guarantees: one product, one Active footprint (the last), and a single linear chain in
    which every footprint but the first names exactly its predecessor and every Deprecated
    footprint has exactly one successor (no forks)."""
    with session_scope(engine) as s:
        assert s.scalar(select(func.count()).where(Organisation.name == organisation)) == 1
        org = s.scalar(select(Organisation).where(Organisation.name == organisation))
        assert org is not None
        products = s.scalars(select(Product).where(Product.organisation_id == org.id)).all()
        assert [p.product_ids for p in products] == [[WIDGET_ID]]
        rows = s.scalars(select(Footprint).where(Footprint.product_id == products[0].id)).all()
    by_id = {str(f.id): f for f in rows}
    assert [f.status for f in rows].count(ACTIVE) == 1
    successors: dict[str, list[str]] = {i: [] for i in by_id}
    roots = []
    for f in rows:
        assert f.document["status"] == f.status
        assert f.document.get("precedingPfIds", []) == f.preceding_pf_ids
        assert len(f.preceding_pf_ids) <= 1, f"{f.id} names {f.preceding_pf_ids}"
        if f.preceding_pf_ids:
            successors[f.preceding_pf_ids[0]].append(str(f.id))
        else:
            roots.append(str(f.id))
    assert len(roots) == 1, f"{len(roots)} footprints name no predecessor: {roots}"
    forks = {k: v for k, v in successors.items() if len(v) > 1}
    assert not forks, f"forked chain: {forks}"
    ordered = [by_id[roots[0]]]
    while successors[str(ordered[-1].id)]:
        ordered.append(by_id[successors[str(ordered[-1].id)][0]])
    assert len(ordered) == len(rows), "footprints outside the chain"
    assert [f.status for f in ordered] == [DEPRECATED] * (len(rows) - 1) + [ACTIVE]
    return ordered


def edges(ordered: list[Footprint]) -> dict[str | None, str]:
    """``{predecessor id (None for the first): footprint id}`` of a chain."""
    return {(f.preceding_pf_ids[0] if f.preceding_pf_ids else None): str(f.id) for f in ordered}


def wait_for(condition: Callable[[], bool], worker: BaseProcess, timeout: float = 120) -> None:
    """Poll ``condition`` until it holds; fail if ``worker`` dies or time runs out first."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert worker.is_alive(), f"the worker exited ({worker.exitcode}) before it got there"
        assert time.monotonic() < deadline, "the worker did not get there in time"
        time.sleep(0.05)


def cli(home: Path, url: str, *args: str) -> subprocess.Popen[str]:
    env = {**os.environ, "OPENPCF_HOME": str(home), "OPENPCF_DATABASE_URL": url}
    return subprocess.Popen(
        [sys.executable, "-m", "openpcf", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


# --------------------------------------------------------------------------------------------
# publishing: real processes


@pytest.mark.slow
def test_twenty_parallel_publish_commands_leave_one_active_footprint_and_one_chain(
    db_backend: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    """20 ``openpcf publish`` processes, ``--param power=1..20``, into an organisation that
    does not exist yet: all exit 0 without a traceback, and what they report is the chain.

    On SQLite the database file does not exist yet either, so the 20 processes also race to
    create and migrate it (``openpcf publish`` migrates a SQLite file on first use); a
    PostgreSQL database is migrated by ``openpcf storage upgrade`` beforehand.
    """
    url = (
        f"sqlite:///{tmp_path / 'fresh.db'}"
        if db_backend == "sqlite"
        else request.getfixturevalue("migrated_db_url")
    )
    runs = [
        cli(
            tmp_path / "home",
            url,
            "publish",
            str(WIDGET),
            "--org",
            "Parallel Co",
            "--param",
            f"power={i}",
            "--replace-live",
            "--json",
        )
        for i in range(1, 21)
    ]
    outputs = [(*run.communicate(timeout=600), run.returncode) for run in runs]
    for _out, err, rc in outputs:
        assert "Traceback" not in err, err
        assert rc == 0, err
    reported = [json.loads(out) for out, _err, _rc in outputs]
    assert all(r["new"] for r in reported)  # 20 different footprints
    engine = make_engine(url)
    try:
        ordered = chain(engine, "Parallel Co")
    finally:
        engine.dispose()
    assert len(ordered) == 20
    assert {r["deprecated"]: r["id"] for r in reported} == edges(ordered)


@pytest.mark.slow
def test_publishers_released_at_once_into_a_new_organisation(
    migrated_db_url: str,
) -> None:
    """Eight processes calculate, wait at a barrier and then store at the same moment into a
    new organisation: one organisation, one product, one chain of eight, no error.

    Before this change, 16 or 17 of 20 such processes crashed (a unique violation on the
    organisation name or on the one-Active index) on both backends."""
    barrier, results = SPAWN.Barrier(8), SPAWN.Queue()
    procs = [
        SPAWN.Process(
            target=workers.publish_at_barrier,
            args=(migrated_db_url, str(WIDGET), "Barrier Co", power, barrier, results),
        )
        for power in range(1, 9)
    ]
    for p in procs:
        p.start()
    outcomes = [results.get(timeout=300) for _ in procs]
    for p in procs:
        p.join(timeout=60)
        assert p.exitcode == 0
    assert all(len(o) == 5 for o in outcomes), outcomes  # no OpenPCFError either
    engine = make_engine(migrated_db_url)
    try:
        ordered = chain(engine, "Barrier Co")
    finally:
        engine.dispose()
    assert len(ordered) == 8
    assert {o[3]: o[1] for o in outcomes} == edges(ordered)


@pytest.mark.slow
def test_publisher_killed_inside_its_transaction_leaves_nothing_behind(
    migrated_db_url: str, tmp_path: Path
) -> None:
    """SIGKILL while the new footprint and the deprecation of the old one are written but not
    committed: the old footprint stays the Active one, and the next publish supersedes it."""
    engine = make_engine(migrated_db_url)
    try:
        first = publish(WIDGET, engine=engine, organisation="Killed Co")
        ready = tmp_path / "ready"
        doomed = SPAWN.Process(
            target=workers.publish_then_hang,
            args=(migrated_db_url, str(WIDGET), "Killed Co", 7, str(ready)),
        )
        doomed.start()
        wait_for(ready.exists, doomed)
        os.kill(doomed.pid, signal.SIGKILL)  # type: ignore[arg-type]
        doomed.join(timeout=30)
        assert doomed.exitcode == -signal.SIGKILL
        lost = uuid.UUID(ready.read_text(encoding="utf-8"))
        assert [f.id for f in chain(engine, "Killed Co")] == [first.id]
        with session_scope(engine) as s:
            assert s.get(Footprint, lost) is None
        run = cli(
            tmp_path / "home",
            migrated_db_url,
            "publish",
            str(WIDGET),
            "--org",
            "Killed Co",
            "--param",
            "power=7",
            "--replace-live",
            "--json",
        )
        out, err = run.communicate(timeout=300)
        assert run.returncode == 0, err
        after = json.loads(out)
        assert after["deprecated"] == str(first.id)
        assert [str(f.id) for f in chain(engine, "Killed Co")] == [str(first.id), after["id"]]
    finally:
        engine.dispose()


# --------------------------------------------------------------------------------------------
# publishing: each race, made to happen


def test_a_stale_read_is_refused_by_the_index_and_retried(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first attempt reads "no Active footprint" although one is stored (what a
    concurrent publisher's commit looks like): the partial unique index refuses the second
    Active footprint, and the retry reads the Active one and supersedes it."""
    first = publish(WIDGET, engine=engine, organisation="Widget Co")
    real = repo.find_active_footprint
    calls: list[int] = []

    def stale_once(session: Any, **kwargs: Any) -> Footprint | None:
        calls.append(1)
        return None if len(calls) == 1 else real(session, **kwargs)

    monkeypatch.setattr(repo, "find_active_footprint", stale_once)
    second = publish(
        WIDGET, engine=engine, organisation="Widget Co", overrides={"power": 4}, replace_live=True
    )
    assert len(calls) == 2
    assert second.deprecated == first.id
    assert [f.id for f in chain(engine, "Widget Co")] == [first.id, second.id]


def test_a_predecessor_superseded_meanwhile_is_a_write_conflict(engine: Engine) -> None:
    """Two publishers read the same Active footprint; the second to store finds it superseded
    and gets WriteConflictError (retried by write_transaction), never a fork."""
    first = publish(WIDGET, engine=engine, organisation="Widget Co")
    with session_scope(engine) as slow:
        org = repo.get_organisation(slow, name="Widget Co")
        product = repo.get_product(slow, organisation=org, product_id=WIDGET_ID)
        read = slow.get(Footprint, first.id)
        assert read is not None
        assert read.status == ACTIVE
        winner = publish(
            WIDGET,
            engine=engine,
            organisation="Widget Co",
            overrides={"power": 4},
            replace_live=True,
        )
        assert winner.deprecated == first.id
        doc = {**first.document, "id": str(uuid.uuid4())}
        doc.pop("precedingPfIds", None)
        with pytest.raises(WriteConflictError, match="superseded by another publisher"):
            repo.publish_footprint(
                slow, organisation=org, product=product, document=doc, preceding=[read]
            )
    assert [f.id for f in chain(engine, "Widget Co")] == [first.id, winner.id]


def test_a_second_active_footprint_is_refused_with_a_clear_error(engine: Engine) -> None:
    first = publish(WIDGET, engine=engine, organisation="Widget Co")
    with session_scope(engine) as s:
        org = repo.get_organisation(s, name="Widget Co")
        product = repo.get_product(s, organisation=org, product_id=WIDGET_ID)
        doc = {**first.document, "id": str(uuid.uuid4())}
        with pytest.raises(WriteConflictError, match="another Active footprint"):
            repo.publish_footprint(s, organisation=org, product=product, document=doc)
        # the savepoint kept the transaction usable
        assert repo.find_active_footprint(
            s, product=product, reference_period=repo.footprint_facts(doc).reference_period
        )


def test_a_new_organisation_created_twice_at_once_is_created_once(engine: Engine) -> None:
    """Transaction A creates "New Co" and commits 0.3 s later; B asks for it meanwhile.
    PostgreSQL: B's insert waits for A, fails on the unique name inside its savepoint, and
    B reads A's row. SQLite: B waits for A's write lock and then finds the row."""
    created = threading.Event()
    ids: dict[str, int] = {}

    def first() -> None:
        with session_scope(engine, write=True) as s:
            ids["A"] = repo.ensure_organisation(s, name="New Co").id
            s.flush()
            created.set()
            time.sleep(0.3)

    def second() -> None:
        created.wait(10)
        with session_scope(engine, write=True) as s:
            org = repo.ensure_organisation(s, name="New Co")
            repo.upsert_product(s, organisation=org, product_ids=["urn:new:1"], name="n")
            ids["B"] = org.id

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert ids["A"] == ids["B"]
    with session_scope(engine) as s:
        assert s.scalar(select(func.count()).select_from(Organisation)) == 1


def test_write_transaction_retries_a_bounded_number_of_times(engine: Engine) -> None:
    waits: list[float] = []
    runs: list[int] = []

    def always_conflicts(_session: Any) -> None:
        runs.append(1)
        raise WriteConflictError("simulated race")

    with pytest.raises(WriteConflictError, match="collided with concurrent writers 4 times"):
        write_transaction(engine, always_conflicts, attempts=4, sleep=waits.append)
    assert len(runs) == 4
    assert len(waits) == 3
    assert all(0 <= w <= 0.01 * 2**k for k, w in enumerate(waits))

    def fails_for_another_reason(_session: Any) -> None:
        runs.append(1)
        raise ValueError("not a race")

    runs.clear()
    with pytest.raises(ValueError, match="not a race"):
        write_transaction(engine, fails_for_another_reason, sleep=waits.append)
    assert len(runs) == 1


# --------------------------------------------------------------------------------------------
# the outbox


def enqueue(engine: Engine, n: int) -> list[str]:
    """Queue ``n`` answers to the fake peer; their event ids."""
    ids = []
    with session_scope(engine) as s:
        for i in range(n):
            event = workers.answer(i)
            repo.enqueue_outbox(s, target_url=f"{workers.PEER}/3/events", payload=event)
            ids.append(event["id"])
    return ids


def deliveries(log: Path) -> list[tuple[str, str, str]]:
    if not log.exists():
        return []
    lines = log.read_text(encoding="utf-8").splitlines()
    return [(a, b, c) for a, b, c in (line.split() for line in lines)]


@pytest.mark.slow
def test_three_sender_processes_deliver_each_answer_exactly_once(
    migrated_db_url: str, tmp_path: Path
) -> None:
    engine = make_engine(migrated_db_url)
    try:
        ids = enqueue(engine, 40)
        log, barrier = tmp_path / "peer.log", SPAWN.Barrier(3)
        procs = [
            SPAWN.Process(
                target=workers.deliver_at_barrier,
                args=(migrated_db_url, str(log), f"w{k}", barrier),
            )
            for k in range(3)
        ]
        for p in procs:
            p.start()
        for p in procs:
            p.join(timeout=300)
            assert p.exitcode == 0
        got = deliveries(log)
        assert Counter(event for event, _w, _v in got) == Counter(ids)  # each exactly once
        assert {verdict for _e, _w, verdict in got} == {"accepted"}
        with session_scope(engine) as s:
            rows = s.scalars(select(OutboxEvent)).all()
            assert all(r.delivered_at is not None and r.attempts == 1 for r in rows)
    finally:
        engine.dispose()


@pytest.mark.slow
def test_a_killed_senders_event_is_sent_again_after_its_lease_and_counted_delivered(
    migrated_db_url: str, tmp_path: Path
) -> None:
    """A sender dies (SIGKILL) after the peer received the event, before recording it. Other
    senders leave the claimed event alone until the 3 s lease runs out; then it is sent again,
    the peer answers 409 "received before", and the event counts as delivered."""
    engine = make_engine(migrated_db_url)
    try:
        [event_id] = enqueue(engine, 1)
        log = tmp_path / "peer.log"
        doomed = SPAWN.Process(
            target=workers.deliver_then_hang, args=(migrated_db_url, str(log), 3.0)
        )
        doomed.start()
        wait_for(lambda: bool(deliveries(log)), doomed)
        claimed_at = time.monotonic()
        os.kill(doomed.pid, signal.SIGKILL)  # type: ignore[arg-type]
        doomed.join(timeout=30)

        def factory(_peer: Any) -> workers.RecordingPeer:
            return workers.RecordingPeer(str(log), "rescuer", delay=0, hang_after_send=False)

        rescuer = Deliverer(engine, peers=workers.peers(), client_factory=factory)
        try:
            if time.monotonic() - claimed_at < 1.0:
                assert rescuer.deliver_due().delivered == []  # still claimed
            time.sleep(max(0.0, 3.3 - (time.monotonic() - claimed_at)))
            assert rescuer.deliver_due().delivered != []
        finally:
            rescuer.close()
        assert deliveries(log) == [
            (event_id, "doomed", "accepted"),
            (event_id, "rescuer", "duplicate"),
        ]
        with session_scope(engine) as s:
            [row] = s.scalars(select(OutboxEvent)).all()
            assert row.delivered_at is not None
            assert row.abandoned_at is None
    finally:
        engine.dispose()


def test_a_claimed_event_is_hidden_until_its_lease_runs_out(engine: Engine) -> None:
    t0 = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
    with session_scope(engine) as s:
        queued = repo.enqueue_outbox(s, target_url=f"{workers.PEER}/3/events", payload={}, now=t0)
    with session_scope(engine, write=True) as s:
        claimed = repo.claim_outbox(s, now=t0, lease=LEASE)  # a sender that then dies
        assert claimed is not None
        assert claimed.id == queued.id
        assert claimed.next_attempt_at == t0 + LEASE
    with session_scope(engine, write=True) as s:
        assert repo.claim_outbox(s, now=t0 + LEASE - dt.timedelta(seconds=1), lease=LEASE) is None
        again = repo.claim_outbox(s, now=t0 + LEASE, lease=LEASE)
        assert again is not None
        assert again.id == queued.id


class _Refusing:
    """A peer client whose every send fails with ``status`` and ``message``."""

    def __init__(self, status: int, message: str) -> None:
        self.status, self.message = status, message

    def send_event(self, *_a: Any, **_k: Any) -> None:
        error = PactRemoteError(f"POST {workers.PEER}/3/events answered {self.message}")
        error.status = self.status  # type: ignore[attr-defined]
        raise error

    def close(self) -> None:
        pass


@pytest.mark.parametrize(
    ("status", "message", "outcome"),
    [
        (409, "409: Conflict", "delivered"),
        (
            400,
            '400: {"code":"BadRequest","message":"event \'e\' from \'s\' was received before"}',
            "delivered",
        ),
        (422, "422: duplicate event", "delivered"),
        (400, '400: {"code":"BadRequest","message":"unknown requestEventId"}', "abandoned"),
        (503, "503: busy", "failed"),
    ],
)
def test_a_peer_that_has_the_event_already_counts_as_delivered(
    engine: Engine, status: int, message: str, outcome: str
) -> None:
    enqueue(engine, 1)
    deliverer = Deliverer(
        engine,
        peers=workers.peers(),
        client_factory=lambda _peer: _Refusing(status, message),  # type: ignore[arg-type,return-value]
    )
    report = deliverer.deliver_due()
    assert {k: len(v) for k, v in vars(report).items() if v} == {outcome: 1}
    assert already_received(status, message) is (outcome == "delivered")
