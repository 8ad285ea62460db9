"""Data requests to suppliers, primary-data substitution and coverage (issue 15, items 1, 4).

The model (its own factor set): 1 kg of bracket from 3 kg of steel coil (t.steel, 2.0 kg
CO2e/kg, supplier "Steel Example Co"), 2 kg of resin (t.resin, 1.5 kg CO2e/kg, supplier
"Resin Example Co") and 10 kWh of power (t.power, 0.5 kg CO2e/kWh, no ``supplier:``).

* secondary data only: total = 3·2.0 + 2·1.5 + 10·0.5 = 6 + 3 + 5 = 14 kg CO2e, primary
  share 0 %.
* Steel Example Co answers with a PACT v3 footprint of 1.2 kg CO2e per kg
  (fossilGhgEmissions 1.2, nothing else) stating primaryDataShare 50 %. Accepted, it
  replaces t.steel: steel brings 3·1.2 = 3.6, the total is 3.6 + 3 + 5 = 11.6 kg CO2e, a
  change of 11.6 − 14 = −2.4 kg CO2e.
* primary share by emissions = 100 · (3.6 · 0.5) / 11.6 = 15.517… %.
* primary share by mass (purchased inputs in a mass unit: steel 3 kg, resin 2 kg; power in
  kWh listed apart) = 100 · (3 · 0.5) / (3 + 2) = 30 %.
"""

from __future__ import annotations

import copy
import datetime as dt
import hashlib
import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select

from fixtures.api_host import Host, serve_host
from fixtures.api_support import example
from openpcf.db import repositories as repo
from openpcf.db.concurrency import write_transaction
from openpcf.db.engine import session_scope
from openpcf.db.errors import NotFoundError
from openpcf.db.models import SupplierRequest
from openpcf.errors import InputError
from openpcf.services.calculate import calculate
from openpcf.services.supplier_coverage import coverage
from openpcf.services.supplier_requests import decide, list_requests, request_data, summary
from openpcf.services.suppliers import store_received
from openpcf.settings import Settings, get_settings
from openpcf.suppliers.spec import QuestionnaireRequest

FACTORS = """
factors:
  - {id: t.steel, name: hot-rolled steel coil, unit: kg, category: material, geography: GLO,
     year: 2024, source: hand-made test factor, licence: CC0, emissions: {CO2-fossil: 2.0}}
  - {id: t.resin, name: polypropylene resin, unit: kg, category: material, geography: GLO,
     year: 2024, source: hand-made test factor, licence: CC0, emissions: {CO2-fossil: 1.5}}
  - {id: t.power, name: test power, unit: kWh, category: electricity, geography: GLO,
     year: 2024, source: hand-made test factor, licence: CC0, emissions: {CO2-fossil: 0.5}}
"""
MODEL = """\
openpcf: 1
product:
  name: Bracket
  ids: [urn:openpcf:product:bracket]
  declared_unit: kilogram
  mass_per_declared_unit: 1
  reference_period: {start: 2024-01-01, end: 2024-12-31}
  company_name: Bracket Maker Co
boundary: cradle-to-gate
reference_process: main
factor_sets: [factors.yaml]
processes:
  - id: main
    name: Making brackets
    stage: production
    output: {product: bracket, amount: 1, unit: kg}
    inputs:
      - {factor: t.steel, amount: 3, unit: kg, supplier: Steel Example Co}
      - {factor: t.resin, amount: 2, unit: kg, supplier: Resin Example Co}
      - {factor: t.power, amount: 10, unit: kWh}
"""
ORG = "Bracket Maker Co"
PRODUCT = "urn:openpcf:product:bracket"
STEEL_KEY = "main/factor:t.steel"
RESIN_KEY = "main/factor:t.resin"
NOW = dt.datetime(2025, 3, 1, 9, 0, tzinfo=dt.UTC)
DUE = dt.date(2025, 3, 31)


def fake_workbook(request: QuestionnaireRequest) -> bytes:
    return f"workbook {request.request_id} {request.material}".encode()


@pytest.fixture
def model(tmp_path: Path) -> Path:
    (tmp_path / "factors.yaml").write_text(FACTORS, encoding="utf-8")
    path = tmp_path / "model.yaml"
    path.write_text(MODEL, encoding="utf-8")
    return path


@pytest.fixture
def settings(engine: Engine, tmp_path: Path) -> Settings:
    return Settings(home=tmp_path / "home", database_url=engine.url.render_as_string(False))


def steel_footprint() -> dict[str, Any]:
    """A PACT v3 footprint of 1 kg of steel coil: 1.2 kg CO2e, 50 % primary data."""
    doc = copy.deepcopy(example(1))
    doc["id"] = "0d9b3a52-1c7e-4f4e-9a3c-6f1f2b7c8d90"
    doc["companyName"] = "Steel Example Co"
    doc["productIds"] = ["urn:gtin:4012345000016"]
    doc["productNameCompany"] = "Hot-rolled coil"
    pcf = doc["pcf"]
    for name in (
        "landManagementFossilGhgEmissions",
        "landManagementBiogenicCO2Emissions",
        "biogenicCO2Uptake",
        "biogenicNonCO2Emissions",
        "biogenicCarbonContent",
    ):
        pcf[name] = "0"
    pcf.update(
        fossilGhgEmissions="1.2",
        pcfExcludingBiogenicUptake="1.2",
        pcfIncludingBiogenicUptake="1.2",
        primaryDataShare="50",
    )
    return doc


def make_requests(engine: Engine, model: Path, tmp_path: Path, settings: Settings) -> Any:
    return request_data(
        model,
        engine=engine,
        due=DUE,
        out_dir=tmp_path / "out",
        now=NOW,
        settings=settings,
        workbook_builder=fake_workbook,
    )


def answer(engine: Engine, request_id: str, doc: dict[str, Any]) -> None:
    """The supplier's answer held: the footprint stored, the request answered."""

    def work(session: Any) -> None:
        org = repo.get_organisation(session, name=ORG)
        store_received(
            session, organisation=org, documents=[doc], origin="imported", source="test", now=NOW
        )
        row = repo.get_supplier_request(session, request_id=uuid.UUID(request_id))
        repo.set_supplier_request_status(
            session,
            request=row,
            status="answered",
            at=NOW,
            supplier_footprint_id=uuid.UUID(doc["id"]),
        )

    write_transaction(engine, work)


# --------------------------------------------------------------------------------------------
# requests


def test_requests_created_per_input_with_a_supplier(
    engine: Engine, model: Path, tmp_path: Path, settings: Settings
) -> None:
    report = make_requests(engine, model, tmp_path, settings)
    assert [(c.supplier, c.material, c.channel) for c in report.created] == [
        ("Steel Example Co", "t.steel", "questionnaire"),
        ("Resin Example Co", "t.resin", "questionnaire"),
    ]
    assert [c.material_name for c in report.created] == [
        "hot-rolled steel coil",
        "polypropylene resin",
    ]
    assert [x.material for x in report.no_supplier] == ["t.power"]
    steel = report.created[0]
    assert steel.workbook == tmp_path / "out" / f"steel-example-co_{steel.request_id}.xlsx"
    assert steel.workbook.read_bytes() == f"workbook {steel.request_id} t.steel".encode()
    with session_scope(engine) as s:
        row = repo.get_supplier_request(s, request_id=uuid.UUID(steel.request_id))
        assert (row.input_key, row.amount, row.unit, row.status) == (STEEL_KEY, 3.0, "kg", "sent")
        assert row.organisation.name == ORG
        assert row.product_id == PRODUCT
        assert len(row.token_sha256) == 64
        assert row.model_sha256 == hashlib.sha256(model.read_bytes()).hexdigest()
    # a second run creates nothing and says why
    again = make_requests(engine, model, tmp_path, settings)
    assert again.created == []
    assert [(x.input_key, rid, st) for x, rid, st in again.already_open] == [
        (STEEL_KEY, steel.request_id, "sent"),
        (RESIN_KEY, report.created[1].request_id, "sent"),
    ]


def test_due_date_in_the_past_is_refused(
    engine: Engine, model: Path, tmp_path: Path, settings: Settings
) -> None:
    with pytest.raises(InputError, match="in the past"):
        request_data(
            model,
            engine=engine,
            due=dt.date(2025, 2, 1),
            out_dir=tmp_path,
            now=NOW,
            settings=settings,
            workbook_builder=fake_workbook,
        )


def test_statuses_overdue_and_lifecycle(
    engine: Engine, model: Path, tmp_path: Path, settings: Settings
) -> None:
    """Due 2025-03-31: on 2025-03-31 a sent request is not overdue, on 2025-04-01 it is."""
    report = make_requests(engine, model, tmp_path, settings)
    steel, resin = (c.request_id for c in report.created)
    on_due = list_requests(engine, today=DUE, organisation=ORG)
    assert [v.status for v in on_due] == ["sent", "sent"]
    late = dt.date(2025, 4, 1)
    assert [v.status for v in list_requests(engine, today=late, organisation=ORG)] == [
        "overdue",
        "overdue",
    ]
    # accepting an unanswered request is refused
    with pytest.raises(InputError, match="is sent; it cannot become accepted"):
        decide(engine, request_id=steel, status="accepted", now=NOW)
    answer(engine, steel, steel_footprint())
    views = list_requests(engine, today=late, organisation=ORG)
    assert [v.status for v in views] == ["answered", "overdue"]
    assert summary(engine, organisation_id_=_org_id(engine), today=late) == {
        "counts": {
            "sent": 0,
            "overdue": 1,
            "answered": 1,
            "accepted": 0,
            "rejected": 0,
            "cancelled": 0,
        },
        "open": 2,
        "overdue_suppliers": ["Resin Example Co"],
        "overdue": [resin],
    }
    with pytest.raises(InputError, match="reason"):
        decide(engine, request_id=steel, status="rejected", now=NOW, note=" ")
    rejected = decide(engine, request_id=steel, status="rejected", now=NOW, note="no boundary")
    assert (rejected.status, rejected.decision_note) == ("rejected", "no boundary")
    with pytest.raises(InputError, match="is rejected; it cannot become accepted"):
        decide(engine, request_id=steel, status="accepted", now=NOW)
    # a rejected request's input may be asked again: a new request, the old one stays
    again = make_requests(engine, model, tmp_path, settings)
    assert [c.material for c in again.created] == ["t.steel"]
    cancelled = decide(engine, request_id=resin, status="cancelled", now=NOW)
    assert cancelled.status == "cancelled"
    with pytest.raises(NotFoundError):
        decide(engine, request_id=str(uuid.uuid4()), status="cancelled", now=NOW)
    assert [
        v.status for v in list_requests(engine, today=DUE, organisation=ORG, status="sent")
    ] == ["sent"]


def _org_id(engine: Engine) -> int:
    with session_scope(engine) as s:
        return repo.get_organisation(s, name=ORG).id


# --------------------------------------------------------------------------------------------
# substitution and coverage


def test_accepted_figure_replaces_the_factor(
    engine: Engine, model: Path, tmp_path: Path, settings: Settings
) -> None:
    """The numbers of the module docstring."""
    before = calculate(model, settings=settings)
    assert before.result.total == pytest.approx(14.0, rel=1e-12)
    assert before.result.primary_data_share == 0.0
    assert "supplier_substitutions" not in before.result.provenance
    without_settings = calculate(model)
    assert without_settings.footprint_id == before.footprint_id  # nothing accepted: as before

    report = make_requests(engine, model, tmp_path, settings)
    steel = report.created[0].request_id
    answer(engine, steel, steel_footprint())
    answered = calculate(model, settings=settings)  # answered is not accepted: no change
    assert answered.footprint_id == before.footprint_id
    decide(engine, request_id=steel, status="accepted", now=NOW, note="checked")

    after = calculate(model, settings=settings)
    assert after.result.total == pytest.approx(11.6, rel=1e-12)
    assert after.result.total - before.result.total == pytest.approx(-2.4, rel=1e-12)
    assert after.result.primary_data_share == pytest.approx(100 * 1.8 / 11.6, rel=1e-12)
    assert after.footprint_id != before.footprint_id
    figure = "0d9b3a52-1c7e-4f4e-9a3c-6f1f2b7c8d90"
    assert (
        f"supplier Steel Example Co's figure ({figure}, accepted 2025-03-01) replaced t.steel"
        in after.result.notes
    )
    recorded = json.loads(after.result.provenance["supplier_substitutions"])
    assert [(r["input_key"], r["footprint_id"], r["request_id"]) for r in recorded] == [
        (STEEL_KEY, figure, steel)
    ]

    found = coverage(model, settings=settings, engine=engine, today=dt.date(2025, 4, 1))
    assert found.total == pytest.approx(11.6, rel=1e-12)
    assert found.total_without_supplier_data == pytest.approx(14.0, rel=1e-12)
    assert found.combined_change == pytest.approx(-2.4, rel=1e-12)
    assert found.primary_share_by_emissions == pytest.approx(100 * 1.8 / 11.6, rel=1e-12)
    assert found.primary_share_without_supplier_data == 0.0
    assert found.by_mass.share == pytest.approx(30.0, rel=1e-12)
    assert found.by_mass.total_kg == pytest.approx(5.0, rel=1e-12)
    assert [x.material for x in found.by_mass.not_mass] == ["t.power"]
    (effect,) = found.substitutions
    assert effect.substitution.material == "t.steel"
    assert effect.change == pytest.approx(-2.4, rel=1e-12)
    data = found.to_dict()
    assert data["requests"]["counts"]["accepted"] == 1
    assert data["requests"]["overdue_suppliers"] == ["Resin Example Co"]
    assert found.footprint_id == str(after.footprint_id)


# --------------------------------------------------------------------------------------------
# concurrency: real processes


def test_four_parallel_request_commands_leave_one_open_request_per_input(
    engine: Engine, model: Path, tmp_path: Path
) -> None:
    url = engine.url.render_as_string(hide_password=False)
    env = {**os.environ, "OPENPCF_HOME": str(tmp_path / "home"), "OPENPCF_DATABASE_URL": url}
    runs = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "openpcf",
                "suppliers",
                "request",
                str(model),
                "--due",
                "2099-12-31",
                "--out",
                str(tmp_path / f"out{n}"),
                "--json",
            ],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for n in range(4)
    ]
    outputs = [run.communicate(timeout=300) for run in runs]
    for run, (_, err) in zip(runs, outputs, strict=True):
        assert run.returncode == 0, err
        assert "Traceback" not in err
    created = [c for out, _ in outputs for c in json.loads(out)["created"]]
    assert sorted(c["input_key"] for c in created) == [RESIN_KEY, STEEL_KEY]
    with session_scope(engine) as s:
        rows = s.scalars(select(SupplierRequest)).all()
        assert sorted((r.input_key, r.status) for r in rows) == [
            (RESIN_KEY, "sent"),
            (STEEL_KEY, "sent"),
        ]
    files = sorted(p.name for p in tmp_path.glob("out*/*.xlsx"))
    assert files == sorted(
        f"{'steel' if c['input_key'] == STEEL_KEY else 'resin'}-example-co_{c['request_id']}.xlsx"
        for c in created
    )


# --------------------------------------------------------------------------------------------
# HTTP


@pytest.fixture
def host(engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Host]:
    monkeypatch.setenv("OPENPCF_HOME", str(tmp_path / "home"))
    get_settings.cache_clear()
    yield from serve_host(engine, tmp_path)
    get_settings.cache_clear()


def _token(host: Host, organisation: str, scopes: list[str]) -> str:
    with session_scope(host.engine, write=True) as s:
        org = repo.ensure_organisation(s, name=organisation)
        issued = repo.create_client(s, organisation=org, scopes=scopes, name="ui")
        creds = (issued.client_id, issued.secret)
    answer_ = host.http.post("/auth/token", auth=creds, data={"grant_type": "client_credentials"})
    assert answer_.status_code == 200, answer_.text
    return str(answer_.json()["access_token"])


def test_http_routes_isolation_and_scope(
    host: Host, model: Path, tmp_path: Path, settings: Settings
) -> None:
    report = make_requests(host.engine, model, tmp_path, settings)
    steel = report.created[0].request_id
    answer(host.engine, steel, steel_footprint())
    mine = {"authorization": f"Bearer {_token(host, ORG, ['suppliers:manage'])}"}
    theirs = {"authorization": f"Bearer {_token(host, 'Other Buyer', ['suppliers:manage'])}"}
    unscoped = {"authorization": f"Bearer {_token(host, ORG, ['footprint:list'])}"}

    listed = host.http.get("/supplier-requests", headers=mine)
    assert listed.status_code == 200, listed.text
    assert [r["material"] for r in listed.json()] == ["t.steel", "t.resin"]
    assert host.http.get("/supplier-requests", headers=theirs).json() == []
    assert host.http.get("/supplier-requests", headers=unscoped).status_code == 403
    assert host.http.get(f"/supplier-requests/{steel}", headers=mine).json()["status"] == (
        "answered"
    )
    assert host.http.get(f"/supplier-requests/{steel}", headers=theirs).status_code == 404
    assert host.http.get("/supplier-requests/not-a-uuid", headers=mine).status_code == 404
    refused = host.http.post(f"/supplier-requests/{steel}/accept", headers=theirs, json={})
    assert refused.status_code == 404
    no_reason = host.http.post(f"/supplier-requests/{steel}/reject", headers=mine, json={})
    assert no_reason.status_code == 400
    accepted = host.http.post(
        f"/supplier-requests/{steel}/accept", headers=mine, json={"note": "ok"}
    )
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["status"] == "accepted"
    twice = host.http.post(f"/supplier-requests/{steel}/accept", headers=mine, json={})
    assert twice.status_code == 400
    summary_ = host.http.get(f"/supplier-requests/summary?product={PRODUCT}", headers=mine)
    assert summary_.status_code == 200
    assert summary_.json()["counts"]["accepted"] == 1
    counts = summary_.json()["counts"]
    assert counts["sent"] + counts["overdue"] == 1  # the resin request; overdue after its due


def test_http_coverage_of_the_organisations_own_model(
    host: Host, model: Path, tmp_path: Path, settings: Settings
) -> None:
    """``POST /supplier-coverage`` with the model's YAML, its factor set in the host's
    ``factors`` folder: after the steel figure is accepted, 11.6 kg CO2e and 15.517 % primary
    data (the hand-worked numbers of test_accepted_figure_replaces_the_factor); a model of
    another company is refused."""
    report = make_requests(host.engine, model, tmp_path, settings)
    steel = report.created[0].request_id
    answer(host.engine, steel, steel_footprint())
    mine = {"authorization": f"Bearer {_token(host, ORG, ['suppliers:manage'])}"}
    assert host.http.post(f"/supplier-requests/{steel}/accept", headers=mine, json={}).is_success
    (host.home / "factors").mkdir(parents=True, exist_ok=True)
    (host.home / "factors" / "test.yaml").write_text(FACTORS, encoding="utf-8")
    text = MODEL.replace("factor_sets: [factors.yaml]\n", "")
    answer_ = host.http.post("/supplier-coverage", content=text, headers=mine)
    assert answer_.status_code == 200, answer_.text
    data = answer_.json()
    assert data["total"] == pytest.approx(11.6, rel=1e-12)
    assert data["primary_share_by_emissions_percent"] == pytest.approx(100 * 1.8 / 11.6, rel=1e-9)
    other = text.replace("company_name: Bracket Maker Co", "company_name: Other Buyer")
    refused = host.http.post("/supplier-coverage", content=other, headers=mine)
    assert refused.status_code == 400
    assert "not this token's organisation" in refused.json()["message"]


# --------------------------------------------------------------------------------------------
# the CLI, with helper B's real workbook


def test_cli_request_list_decide_and_coverage(
    engine: Engine, model: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The commands end to end; the workbooks are the real ones (openpyxl opens them)."""
    from openpyxl import load_workbook

    from fixtures.in_process import openpcf

    monkeypatch.setenv("OPENPCF_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("OPENPCF_DATABASE_URL", engine.url.render_as_string(hide_password=False))
    get_settings.cache_clear()
    try:
        made = openpcf(
            "suppliers", "request", str(model), "--due", "2099-12-31", "--out",
            str(tmp_path / "out"), "--json",
        )  # fmt: skip
        assert made.returncode == 0, made.stderr
        created = json.loads(made.stdout)["created"]
        assert [c["material"] for c in created] == ["t.steel", "t.resin"]
        book = load_workbook(created[0]["workbook"])
        assert book.sheetnames
        listed = openpcf("suppliers", "list", "--org", ORG, "--status", "sent", "--json")
        assert listed.returncode == 0, listed.stderr
        assert [r["material"] for r in json.loads(listed.stdout)] == ["t.steel", "t.resin"]
        steel, resin = (c["request_id"] for c in created)
        early = openpcf("suppliers", "accept", steel)
        assert early.returncode == 2
        assert "is sent; it cannot become accepted" in early.stderr
        assert "Traceback" not in early.stderr
        answer(engine, steel, steel_footprint())
        assert openpcf("suppliers", "accept", steel, "--note", "checked").returncode == 0
        assert openpcf("suppliers", "reject", resin, "--reason", "x").returncode == 2
        assert openpcf("suppliers", "cancel", resin).returncode == 0
        unknown = openpcf("suppliers", "cancel", str(uuid.uuid4()))
        assert unknown.returncode != 0
        assert "no supplier request" in unknown.stderr
        shown = openpcf("suppliers", "coverage", str(model), "--json")
        assert shown.returncode == 0, shown.stderr
        data = json.loads(shown.stdout)
        assert data["total"] == pytest.approx(11.6, rel=1e-12)
        assert data["combined_change"] == pytest.approx(-2.4, rel=1e-12)
        assert data["by_mass"]["share_percent"] == pytest.approx(30.0, rel=1e-12)
        assert data["requests"]["counts"]["accepted"] == 1
        assert data["requests"]["counts"]["cancelled"] == 1
        text = openpcf("suppliers", "coverage", str(model))
        assert "replaced t.steel" in text.stdout
    finally:
        get_settings.cache_clear()


# --------------------------------------------------------------------------------------------
# the PACT channel


def test_a_pact_peer_gets_a_request_created_event(
    engine: Engine, model: Path, tmp_path: Path, settings: Settings
) -> None:
    """Steel Example Co is an API client of the organisation with a peer entry: its request
    goes out as a RequestCreated (recorded, its id kept); Resin Example Co gets a workbook."""
    from fastapi.testclient import TestClient

    from fixtures.api_support import FAKE_ID, FAKE_SECRET, fake_requester
    from openpcf.exchange.client import PactClient
    from openpcf.services.pact.peers import MemoryPeers, Peer
    from openpcf.services.supplier_requests import PactChannel

    with session_scope(engine, write=True) as s:
        org = repo.ensure_organisation(s, name=ORG)
        client_id = repo.create_client(s, organisation=org, name="steel example co").client_id
    app, received = fake_requester()
    peer = Peer(
        client_id=client_id,
        base_url="https://steel.test",
        remote_client_id=FAKE_ID,
        remote_client_secret=FAKE_SECRET,
    )

    def factory(p: Peer) -> PactClient:
        return PactClient(
            p.base_url,
            client_id=p.remote_client_id,
            client_secret=p.remote_client_secret,
            http=TestClient(app),
        )

    report = request_data(
        model,
        engine=engine,
        due=DUE,
        out_dir=tmp_path / "out",
        now=NOW,
        settings=settings,
        workbook_builder=fake_workbook,
        pact=PactChannel(
            peers=MemoryPeers([peer]), source="https://buyer.test", client_factory=factory
        ),
    )
    steel, resin = report.created
    assert (steel.channel, resin.channel) == ("pact", "questionnaire")
    ((path, event),) = received
    assert path == "/3/events"
    assert event["id"] == steel.pact_event_id
    assert steel.request_id in event["data"]["comment"]
    with session_scope(engine) as s:
        row = repo.get_supplier_request(s, request_id=uuid.UUID(steel.request_id))
        assert row.pact_event_id == steel.pact_event_id
        assert row.supplier_url == "https://steel.test"
        assert repo.get_request(s, event_id=str(steel.pact_event_id)) is not None
