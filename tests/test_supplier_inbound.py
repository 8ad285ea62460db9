"""Supplier footprints that arrive: only solicited, valid, never overwriting (issue 11, item 1).

Our host ("Carton Co" in the seeded database of :func:`fixtures.api_host.serve_host`) asks a
board mill for footprints with :func:`~openpcf.services.pact.pull.send_request`; the mill answers
on our ``/3/events`` (or ``/2/events``) with the credentials we issued to it (client ``mill``).
Everything else that claims to be an answer is refused and stores nothing: an answer from a
customer that may only list footprints, from another client, to an unknown or already
answered request, with footprints that fail the PACT schema, for products we did not ask for,
or that would change a footprint we hold. Every test runs on SQLite and PostgreSQL.

The numbers: ``pact_supplier_box.yaml`` (0.8 kg of board, 0.1 kg fossil CO2 of its own) with the
board of ``pact_supplier_board.json`` gives -0.564 kg CO2e per carton (worked out in that file);
the forged board claims 1000 times the fossil emissions.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select
from typer.testing import CliRunner

from fixtures.api_host import BASE, Host, published_event, serve_host
from fixtures.api_support import FAKE_ID, FAKE_SECRET, check_error, fake_requester, visible
from openpcf.cli.pact import app as pact_app
from openpcf.db import repositories as repo
from openpcf.db.engine import session_scope
from openpcf.db.models import PactRequest, SupplierFootprint
from openpcf.exchange.client import PactClient
from openpcf.exchange.errors import FootprintConflictError, SupplierFootprintError
from openpcf.exchange.events import Version, build_event
from openpcf.exchange.schema import validate_footprint, validated_against
from openpcf.services.calculate import calculate
from openpcf.services.pact.pull import pull, send_request, wait_for_answer
from openpcf.services.suppliers import import_footprints
from openpcf.settings import Settings

FIXTURES = Path(__file__).parent / "fixtures"
BOARD_FILE = FIXTURES / "pact_supplier_board.json"
BOARD_ID = "7a0c3c4e-2f4d-4b8e-9d5a-1c2b3d4e5f60"
BOARD_URN = "urn:pact:boardmill.example.com:product-id:fbb-350"
SHARED = Path(__file__).resolve().parents[2] / "shared" / "reference" / "pact"
MILL = "https://mill.test"
#: -0.564 kg CO2e per carton with the genuine board (see the module docstring).
GENUINE_TOTAL = -0.564


def board() -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(BOARD_FILE.read_text(encoding="utf-8"))
    return doc


def forged(doc: dict[str, Any] | None = None) -> dict[str, Any]:
    """The board with 1000 times its fossil emissions, under the same id."""
    out = copy.deepcopy(doc or board())
    out["pcf"]["fossilGhgEmissions"] = "60000"
    out["pcf"]["pcfExcludingBiogenicUptake"] = "60007"
    out["pcf"]["pcfIncludingBiogenicUptake"] = "59857"
    return out


@dataclass
class Buyer:
    """Our host, the mill's fake host (where our requests go), and a model using the board."""

    host: Host
    engine: Engine
    mill_app: Any
    sent: list[tuple[str, dict[str, Any]]]
    model: Path
    settings: Settings

    def ask(self, product_ids: list[str] | None = None, version: Version = "3") -> str:
        """Send a request to the mill (recorded first); its id."""
        with PactClient(
            MILL, client_id=FAKE_ID, client_secret=FAKE_SECRET, http=TestClient(self.mill_app)
        ) as client:
            return send_request(
                client,
                engine=self.engine,
                answered_by=self.host.seeded.creds["mill"][0],
                source=BASE,
                criteria={"productId": product_ids or [BOARD_URN]},
                version=version,
            )

    def answer(
        self,
        request_id: str,
        pfs: list[dict[str, Any]] | None = None,
        *,
        who: str = "mill",
        version: Version = "3",
        event: dict[str, Any] | None = None,
    ) -> Any:
        """Post a Fulfilled event (or ``event``) to our host as ``who``."""
        body = event or answer_event(request_id, [board()] if pfs is None else pfs, version)
        return self.host.event(version, body, who=who)

    def total(self) -> float:
        return float(calculate(self.model, settings=self.settings).result.total)

    def held(self) -> list[tuple[str, str, str]]:
        """``(footprint id, origin, sha256)`` of every supplier footprint held."""
        with session_scope(self.engine) as session:
            rows = session.execute(
                select(
                    SupplierFootprint.footprint_id,
                    SupplierFootprint.origin,
                    SupplierFootprint.sha256,
                ).order_by(SupplierFootprint.id)
            ).all()
        return [(str(i), o, h) for i, o, h in rows]


def answer_event(
    request_id: str,
    pfs: list[dict[str, Any]],
    version: Version = "3",
    *,
    kind: str = "fulfilled",
) -> dict[str, Any]:
    data: dict[str, Any] = {"requestEventId": request_id}
    if kind == "fulfilled":
        data["pfs"] = pfs
    else:
        data["error"] = {"code": "NotFound", "message": "no such product"}
    return build_event(
        version=version,
        kind=kind,  # type: ignore[arg-type]
        source=f"//mill.test/{version}/events",
        data=data,
        now=dt.datetime.now(dt.UTC),
    )


@pytest.fixture
def buyer(engine: Engine, tmp_path: Path) -> Iterator[Buyer]:
    for host in serve_host(engine, tmp_path):  # one host; the loop runs its teardown
        with session_scope(engine) as s:
            org = repo.create_organisation(s, name="Carton Co")
            for name, scopes in (
                ("mill", repo.KNOWN_SCOPES),
                ("other-mill", repo.KNOWN_SCOPES),
                ("customer", ("footprint:list",)),
            ):
                issued = repo.create_client(s, organisation=org, name=name, scopes=scopes)
                host.seeded.creds[name] = (issued.client_id, issued.secret)
        mill_app, sent = fake_requester()
        text = (FIXTURES / "pact_supplier_box.yaml").read_text(encoding="utf-8")
        text = text.replace(
            "supplier_footprint: pact_supplier_board.json", f"supplier_footprint: {BOARD_ID}"
        )
        text = text.replace(
            "  geography: CN-GD\n", "  geography: CN-GD\n  company_name: Carton Co\n"
        )
        model = tmp_path / "carton.yaml"
        model.write_text(text, encoding="utf-8")
        settings = Settings(
            home=tmp_path / "buyer-home",
            database_url=engine.url.render_as_string(hide_password=False),
        )
        yield Buyer(host, engine, mill_app, sent, model, settings)


def _is_refused(answer: Any, status: int, code: str) -> None:
    assert answer.status_code == status, answer.text
    check_error("3", answer.json(), code)


# --------------------------------------------------------------------------------------------
# unsolicited answers


def test_unsolicited_fulfilled_from_a_list_only_client_changes_nothing(buyer: Buyer) -> None:
    """The attack of the review: a client that may only list footprints posts a Fulfilled event
    whose footprint has the id of the board we hold. Refused; the next calc uses the board."""
    report = import_footprints(buyer.engine, BOARD_FILE, organisation="Carton Co")
    assert report.stored == [BOARD_ID]
    assert buyer.total() == pytest.approx(GENUINE_TOTAL, rel=1e-9)
    before = buyer.held()
    for who in ("customer", "L"):  # list-only clients of our organisation and of another
        request_id = str(uuid.uuid4())
        answer = buyer.answer(request_id, [forged()], who=who)
        _is_refused(answer, 400, "BadRequest")
        assert "no request this host sent" in answer.json()["message"]
        assert wait_for_answer(buyer.engine, request_id=request_id, timeout=0) is None
    new_id = copy.deepcopy(forged())
    new_id["id"] = str(uuid.uuid4())  # a "newer" footprint for the same product URN
    _is_refused(buyer.answer(str(uuid.uuid4()), [new_id], who="customer"), 400, "BadRequest")
    assert buyer.held() == before
    assert buyer.total() == pytest.approx(GENUINE_TOTAL, rel=1e-9)


def test_answer_with_a_wrong_request_id_is_refused(buyer: Buyer) -> None:
    buyer.ask()
    answer = buyer.answer("not-our-request", [board()])
    _is_refused(answer, 400, "BadRequest")
    assert buyer.held() == []


def test_answer_from_another_client_than_the_peer_is_access_denied(buyer: Buyer) -> None:
    request_id = buyer.ask()
    for who in ("other-mill", "customer", "A"):
        answer = buyer.answer(request_id, [board()], who=who)
        _is_refused(answer, 403, "AccessDenied")
    assert buyer.held() == []
    # the request is still open: the mill's own answer is accepted afterwards
    assert buyer.answer(request_id, [board()]).status_code == 200
    assert [(i, o) for i, o, _ in buyer.held()] == [(BOARD_ID, "answered")]


def test_an_answer_is_accepted_once(buyer: Buyer) -> None:
    request_id = buyer.ask()
    event = answer_event(request_id, [board()])
    assert buyer.answer(request_id, event=event).status_code == 200
    _is_refused(buyer.answer(request_id, event=event), 400, "BadRequest")  # replayed
    again = buyer.answer(request_id, [board()])  # same content, new event id
    _is_refused(again, 400, "BadRequest")
    assert "answered already" in again.json()["message"]
    rejected = answer_event(request_id, [], kind="rejected")
    _is_refused(buyer.answer(request_id, event=rejected), 400, "BadRequest")
    assert len(buyer.held()) == 1


def test_rejected_answers_follow_the_same_rules(buyer: Buyer) -> None:
    request_id = buyer.ask()
    rejected = answer_event(request_id, [], kind="rejected")
    _is_refused(buyer.answer(request_id, event=rejected, who="customer"), 403, "AccessDenied")
    accepted = buyer.answer(request_id, event=rejected)
    assert accepted.status_code == 200, accepted.text
    assert wait_for_answer(buyer.engine, request_id=request_id, timeout=0) == rejected
    _is_refused(buyer.answer(request_id, [board()]), 400, "BadRequest")  # answered already
    assert buyer.held() == []


def test_answer_on_another_api_version_is_refused(buyer: Buyer) -> None:
    request_id = buyer.ask()  # a v3 request
    v2_answer = answer_event(request_id, [board()], "2")
    answer = buyer.answer(request_id, event=v2_answer, version="2")
    assert answer.status_code == 400, answer.text
    assert buyer.held() == []


# --------------------------------------------------------------------------------------------
# what an accepted answer may carry


@pytest.mark.parametrize(
    "spoil",
    [
        lambda d: d["pcf"].update(fossilGhgEmissions="1e-7"),  # not a PACT decimal
        lambda d: d.pop("companyName"),  # required
        lambda d: d.update(productIds=["not a urn"]),
        lambda d: d["pcf"].update(declaredUnitOfMeasurement="bushel"),
    ],
    ids=["exponent", "no-company", "product-id", "unit"],
)
def test_answer_with_a_schema_invalid_footprint_is_refused(buyer: Buyer, spoil: Any) -> None:
    request_id = buyer.ask()
    doc = board()
    spoil(doc)
    answer = buyer.answer(request_id, [board(), doc] if doc["id"] != BOARD_ID else [doc])
    _is_refused(answer, 400, "BadRequest")
    assert "nothing was stored" in answer.json()["message"]
    assert buyer.held() == []
    assert buyer.answer(request_id, [board()]).status_code == 200  # the request stays open


def test_answer_with_footprints_of_other_products_is_refused(buyer: Buyer) -> None:
    request_id = buyer.ask(["urn:pact:boardmill.example.com:product-id:other"])
    answer = buyer.answer(request_id, [board()])
    _is_refused(answer, 400, "BadRequest")
    assert "none of which the request asked for" in answer.json()["message"]
    assert buyer.held() == []


def test_same_id_different_content_is_refused_everywhere(buyer: Buyer, tmp_path: Path) -> None:
    """An answer, an import and a pull that would change a held footprint are refused and
    reported; the same content again is a no-op; a new id with precedingPfIds is accepted."""
    assert buyer.answer(buyer.ask(), [board()]).status_code == 200
    held = buyer.held()
    request_id = buyer.ask()
    answer = buyer.answer(request_id, [forged()])
    _is_refused(answer, 400, "BadRequest")
    assert "never changes under its id" in answer.json()["message"]
    assert "mill.test" not in answer.json()["message"]  # where ours came from stays ours
    assert buyer.held() == held
    assert buyer.total() == pytest.approx(GENUINE_TOTAL, rel=1e-9)

    forged_file = tmp_path / "forged.json"
    forged_file.write_text(json.dumps(forged()), encoding="utf-8")
    report = import_footprints(buyer.engine, forged_file, organisation="Carton Co")
    assert list(report.conflicts) == [BOARD_ID]
    assert report.stored == []
    with session_scope(buyer.engine) as session, pytest.raises(FootprintConflictError):
        repo.store_supplier_footprint(
            session,
            organisation=repo.get_organisation(session, name="Carton Co"),
            document=forged(),
            origin="pulled",
            source="test",
        )
    assert buyer.held() == held

    # the same content again is idempotent (same row), in any key order
    reordered = dict(reversed(list(board().items())))
    assert buyer.answer(request_id, [reordered]).status_code == 200
    assert buyer.held() == held

    # a changed footprint is a new id that names the old one
    successor = forged()
    successor.update(id=str(uuid.uuid4()), precedingPfIds=[BOARD_ID])
    assert buyer.answer(buyer.ask(), [successor]).status_code == 200
    assert [i for i, _, _ in buyer.held()] == [BOARD_ID, successor["id"]]


def test_published_events_store_nothing(buyer: Buyer) -> None:
    """Published only tells us that footprints changed (we may pull); it carries no data."""
    for who in ("mill", "customer"):
        answer = buyer.host.event("3", published_event("3", [BOARD_ID]), who=who)
        assert answer.status_code == 200, answer.text
    assert buyer.held() == []


# --------------------------------------------------------------------------------------------
# what is accepted


def test_request_answer_round_trip_stores_an_answered_footprint_used_by_calc(
    buyer: Buyer,
) -> None:
    with pytest.raises(SupplierFootprintError, match="not among the supplier footprints"):
        buyer.total()
    request_id = buyer.ask()
    assert [(path, event["id"]) for path, event in buyer.sent] == [("/3/events", request_id)]
    event = answer_event(request_id, [board()])
    assert buyer.answer(request_id, event=event).status_code == 200
    assert wait_for_answer(buyer.engine, request_id=request_id, timeout=0) == event
    with session_scope(buyer.engine) as session:
        row = session.scalars(select(SupplierFootprint)).one()
        assert (str(row.footprint_id), row.origin, row.request_event_id) == (
            BOARD_ID,
            "answered",
            request_id,
        )
        assert row.organisation.name == "Carton Co"
        assert (
            row.client_id
            == repo.get_client(session, client_id=buyer.host.seeded.creds["mill"][0]).id
        )
        assert row.source == "//mill.test/3/events"
        assert row.sha256 == repo.content_sha256(board())
        request = session.scalars(select(PactRequest)).one()
        assert request.answer_event_id == event["id"]
    calc = calculate(buyer.model, settings=buyer.settings)
    assert float(calc.result.total) == pytest.approx(GENUINE_TOTAL, rel=1e-9)
    assert f"supplier.{BOARD_ID}" in {f.id for f in calc.compiled.factors}


def test_v2_round_trip_validates_against_the_v2_schema(buyer: Buyer) -> None:
    e1 = buyer.host.get(f"/2/footprints/{buyer.host.seeded.ids['e1']}").json()["data"]
    request_id = buyer.ask(e1["productIds"], version="2")
    assert buyer.sent[-1][1]["data"] == {"pf": {"productIds": e1["productIds"]}}
    v3_doc = buyer.host.get(f"/3/footprints/{e1['id']}").json()["data"]
    refused = buyer.answer(request_id, [v3_doc], version="2")  # a v3 document on /2
    assert refused.status_code == 400, refused.text
    assert buyer.answer(request_id, [e1], version="2").status_code == 200
    assert [(i, o) for i, o, _ in buyer.held()] == [(e1["id"], "answered")]


def test_pull_stores_with_origin_pulled_and_reports_conflicts(buyer: Buyer) -> None:
    seeded = buyer.host.seeded
    e1 = buyer.host.get(f"/3/footprints/{seeded.ids['e1']}").json()["data"]
    changed = copy.deepcopy(e1)
    changed["comment"] = "a different copy under the same id"
    with session_scope(buyer.engine) as session:
        repo.store_supplier_footprint(
            session,
            organisation=repo.get_organisation(session, name="Carton Co"),
            document=changed,
            origin="imported",
            source="test",
        )

    def forward(request: httpx.Request) -> httpx.Response:
        """The host app behind a plain httpx transport (PactClient parses httpx responses)."""
        got = buyer.host.http.request(
            request.method, str(request.url), headers=dict(request.headers), content=request.content
        )
        return httpx.Response(got.status_code, headers=dict(got.headers), content=got.content)

    with PactClient(
        BASE,
        client_id=seeded.creds["A"][0],
        client_secret=seeded.creds["A"][1],
        http=httpx.Client(transport=httpx.MockTransport(forward)),
    ) as client:
        report = pull(client, engine=buyer.engine, organisation="Carton Co", limit=1)
        again = pull(client, engine=buyer.engine, organisation="Carton Co")
    assert report.schema == validated_against("3")  # OpenPCF's own validator, no file
    assert report.organisation == "Carton Co"
    assert set(report.stored) == visible(seeded, "A") - {seeded.ids["e1"]}
    assert list(report.conflicts) == [seeded.ids["e1"]]
    assert set(again.unchanged) == set(report.stored)
    with session_scope(buyer.engine) as session:
        rows = {str(r.footprint_id): r for r in session.scalars(select(SupplierFootprint))}
        assert {i: r.origin for i, r in rows.items()} == {
            seeded.ids["e1"]: "imported",
            **dict.fromkeys(report.stored, "pulled"),
        }
        assert rows[seeded.ids["e1"]].document["comment"] == changed["comment"]
        assert {rows[i].source for i in report.stored} == {BASE}


# --------------------------------------------------------------------------------------------
# the store's edges: import command, old inbox, organisations


@pytest.fixture
def cli_env(buyer: Buyer) -> Iterator[dict[str, str]]:
    from openpcf.settings import get_settings

    get_settings.cache_clear()
    yield {
        "OPENPCF_HOME": str(buyer.settings.home),
        "OPENPCF_DATABASE_URL": buyer.settings.database_url,
    }
    get_settings.cache_clear()


def test_import_command_stores_imported_and_refuses_invalid(
    buyer: Buyer, cli_env: dict[str, str], tmp_path: Path
) -> None:
    runner = CliRunner()
    ok = runner.invoke(
        pact_app, ["import", str(BOARD_FILE), "--org", "Carton Co", "--json"], env=cli_env
    )
    assert ok.exit_code == 0, ok.output
    assert json.loads(ok.output)["stored"] == [BOARD_ID]
    assert [(i, o) for i, o, _ in buyer.held()] == [(BOARD_ID, "imported")]
    assert buyer.total() == pytest.approx(GENUINE_TOTAL, rel=1e-9)
    bad = board()
    bad.update(id=str(uuid.uuid4()), specVersion="1.0.0")
    invalid = forged()
    invalid["pcf"]["fossilGhgEmissions"] = "-1"
    invalid["id"] = str(uuid.uuid4())
    path = tmp_path / "mixed.json"
    path.write_text(json.dumps({"data": [bad, invalid, forged()]}), encoding="utf-8")
    mixed = runner.invoke(
        pact_app, ["import", str(path), "--org", "Carton Co", "--json"], env=cli_env
    )
    assert mixed.exit_code == 1
    out = json.loads(mixed.stdout)
    assert set(out["invalid"]) == {bad["id"], invalid["id"]}
    assert list(out["conflicts"]) == [BOARD_ID]
    assert len(buyer.held()) == 1


def test_request_command_needs_to_know_who_answers(buyer: Buyer, cli_env: dict[str, str]) -> None:
    """Without --answered-by or a peer entry an answer could not be told from an unsolicited
    one, so ``pact request`` refuses before sending anything."""
    args = ["request", MILL, "--client-id", "x", "--client-secret", "y"]
    args += ["--source", BASE, "--product-id", BOARD_URN, "--wait", "0"]
    result = CliRunner().invoke(pact_app, args, env=cli_env)
    assert result.exit_code != 0
    assert "--answered-by" in str(result.exception)
    with session_scope(buyer.engine) as session:
        assert session.scalars(select(PactRequest)).all() == []


def test_the_old_file_inbox_is_not_read(buyer: Buyer) -> None:
    inbox = buyer.settings.supplier_dir
    inbox.mkdir(parents=True)
    (inbox / f"{BOARD_ID}.json").write_text(json.dumps(forged()), encoding="utf-8")
    with pytest.raises(SupplierFootprintError, match=r"old file inbox .* no longer read"):
        buyer.total()


def test_organisations_do_not_read_each_others_suppliers(buyer: Buyer, tmp_path: Path) -> None:
    """A model reads its own organisation's footprints; with no organisation of its name it
    reads all, refusing a reference that means different footprints in two of them."""
    forged_file = tmp_path / "forged.json"
    forged_file.write_text(json.dumps(forged()), encoding="utf-8")
    import_footprints(buyer.engine, forged_file, organisation="Shady Co")
    with pytest.raises(SupplierFootprintError, match="organisation 'Carton Co'"):
        buyer.total()  # Shady Co's copy is not Carton Co's
    import_footprints(buyer.engine, BOARD_FILE, organisation="Carton Co")
    assert buyer.total() == pytest.approx(GENUINE_TOTAL, rel=1e-9)
    nameless = tmp_path / "nameless.yaml"
    nameless.write_text(
        buyer.model.read_text(encoding="utf-8").replace("  company_name: Carton Co\n", ""),
        encoding="utf-8",
    )
    with pytest.raises(SupplierFootprintError, match="different footprints held by"):
        calculate(nameless, settings=buyer.settings)


def test_a_request_can_be_marked_answered_once(buyer: Buyer) -> None:
    request_id = buyer.ask()
    with session_scope(buyer.engine) as session:
        request = repo.get_request(session, event_id=request_id)
        assert request is not None
        assert repo.mark_answered(session, request=request, answer_type="t", answer_event_id="1")
        assert not repo.mark_answered(
            session, request=request, answer_type="t", answer_event_id="2"
        )
        assert request.answer_event_id == "1"
        count = session.scalar(select(func.count()).select_from(PactRequest))
        assert count == 1


@pytest.mark.skipif(
    not (SHARED / "v3" / "openapi.yaml").is_file(), reason="../shared/reference/pact is absent"
)
def test_official_file_and_own_validator_agree_on_what_arrives() -> None:
    """The footprints of these tests get the same verdict from OpenPCF's validator (the
    default, no file shipped) and from the official OpenAPI file given by path (``--openapi``);
    tests/test_footprint_schema.py compares the two on the spec's examples and many mutations."""
    bad_version = board() | {"specVersion": "3.0"}
    negative = forged()
    negative["pcf"]["fossilGhgEmissions"] = "-1"
    no_urn = board() | {"productIds": ["fbb-350"]}
    official = SHARED / "v3" / "openapi.yaml"
    for doc, valid in [
        (board(), True),
        (forged(), True),
        (bad_version, False),
        (negative, False),
        (no_urn, False),
    ]:
        ours = validate_footprint(doc)
        theirs = validate_footprint(doc, openapi_path=official)
        assert (ours == [], theirs == []) == (valid, valid), (ours, theirs)
