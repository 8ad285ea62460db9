"""Web calculations on the record: the organisation's accepted supplier data, and the audit
trail (issue 16, H12 item 1). Runs on SQLite and PostgreSQL (``engine``).

The bracket of tests/test_supplier_requests.py, typed into the editor: its factor set sits in
the host's own factor folder (``$OPENPCF_HOME/factors``, as ``openpcf calc`` reads it), since a
web model may name no file. 1 kg of bracket = 3 kg steel coil (t.steel, 2.0 kg CO2e/kg,
supplier "Steel Example Co") + 2 kg resin (t.resin, 1.5) + 10 kWh power (t.power, 0.5):

* secondary data only: 3·2.0 + 2·1.5 + 10·0.5 = 6 + 3 + 5 = 14 kg CO2e;
* Bracket Maker Co accepts Steel Example Co's footprint of 1.2 kg CO2e per kg: steel brings
  3·1.2 = 3.6, the total is 3.6 + 3 + 5 = 11.6 kg CO2e, as ``openpcf calc`` gives it;
* Rival Ltd types the same model (``company_name: Bracket Maker Co``): it never gets Bracket
  Maker Co's accepted figure, 14 kg CO2e.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from fixtures.web import csrf_token
from openpcf.audit import list_records
from openpcf.services.calculate import calculate
from openpcf.services.supplier_requests import decide
from openpcf.services.web_calculation import WebCaller
from openpcf.services.web_models import evaluate_model_text
from openpcf.services.web_verifier import grant
from openpcf.settings import Settings
from openpcf.web.auth import WebUser
from test_supplier_requests import FACTORS, NOW, ORG, answer, make_requests, steel_footprint
from test_supplier_requests import MODEL as FILE_MODEL

MakeUser = Callable[..., WebUser]
Login = Callable[..., httpx.Response]
#: The bracket as typed into the editor: no ``factor_sets:`` (the host's folder has them).
MODEL = FILE_MODEL.replace("factor_sets: [factors.yaml]\n", "")
FIGURE = "0d9b3a52-1c7e-4f4e-9a3c-6f1f2b7c8d90"


@pytest.fixture
def home(tmp_path: Path) -> Path:
    """The web app's home (``web_app`` serves ``tmp_path / "home"``) with the factor set."""
    folder = tmp_path / "home" / "factors"
    folder.mkdir(parents=True)
    (folder / "bracket.yaml").write_text(FACTORS, encoding="utf-8")
    return tmp_path / "home"


@pytest.fixture
def settings(engine: Engine, home: Path) -> Settings:
    return Settings(home=home, database_url=engine.url.render_as_string(hide_password=False))


@pytest.fixture
def accepted(engine: Engine, tmp_path: Path, settings: Settings) -> Path:
    """Bracket Maker Co's steel request answered and accepted; the model file on disk."""
    model = tmp_path / "bracket.yaml"
    model.write_text(MODEL, encoding="utf-8")
    report = make_requests(engine, model, tmp_path, settings)
    steel = report.created[0].request_id
    answer(engine, steel, steel_footprint())
    decide(engine, request_id=steel, status="accepted", now=NOW, note="checked")
    return model


def _caller(engine: Engine, home: Path, organisation: str) -> WebCaller:
    return WebCaller(engine=engine, home=home, email="eng@example.com", organisation=organisation)


def test_the_editor_uses_the_accepted_figure_as_openpcf_calc_does(
    engine: Engine, home: Path, settings: Settings, accepted: Path
) -> None:
    """11.6 kg CO2e with Bracket Maker Co's accepted figure, exactly the CLI's number (the
    module docstring); without a caller (bundled data only) the model names unknown factors."""
    cli = calculate(accepted, settings=settings)
    assert cli.result.total == pytest.approx(11.6, rel=1e-12)
    shown = evaluate_model_text(MODEL, caller=_caller(engine, home, ORG))
    assert not shown.errors, shown.errors
    assert shown.total == cli.result.total  # bit for bit: one calculation, same data
    assert shown.calculation is not None
    assert shown.calculation.footprint_id == cli.footprint_id
    note = f"supplier Steel Example Co's figure ({FIGURE}, accepted 2025-03-01) replaced t.steel"
    assert note in shown.calculation.result.notes
    assert not (home / "audit" / "trail.jsonl").exists()  # the live result is not recorded
    assert evaluate_model_text(MODEL).errors  # bundled only: t.steel is not a bundled factor


@pytest.fixture
def rival(engine: Engine, make_user: MakeUser) -> WebUser:
    """An engineer of Rival Ltd (a web caller's organisation always exists)."""
    return make_user(engine, organisation="Rival Ltd", email="eng@rival.example")


def test_another_organisation_never_gets_the_accepted_figure(
    engine: Engine, home: Path, accepted: Path, rival: WebUser
) -> None:
    """Rival Ltd types the bracket naming Bracket Maker Co: 14 kg CO2e, no supplier note."""
    del accepted, rival
    theirs = evaluate_model_text(MODEL, caller=_caller(engine, home, "Rival Ltd"))
    assert not theirs.errors, theirs.errors
    assert theirs.total == pytest.approx(14.0, rel=1e-12)
    assert theirs.calculation is not None
    assert not any("Steel Example Co" in n for n in theirs.calculation.result.notes)
    assert "supplier_substitutions" not in theirs.calculation.result.provenance


def test_a_model_naming_a_received_footprint_reads_its_own_organisations_store(
    engine: Engine, home: Path, accepted: Path, rival: WebUser
) -> None:
    """``supplier_footprint: <id>`` is looked up in the caller's store only: Bracket Maker Co
    holds the steel figure (3·1.2 + 3 + 5 = 11.6), Rival Ltd does not (an error, no number)."""
    del accepted, rival
    text = MODEL.replace(
        "{factor: t.steel, amount: 3, unit: kg, supplier: Steel Example Co}",
        f"{{supplier_footprint: {FIGURE}, amount: 3, unit: kg}}",
    )
    ours = evaluate_model_text(text, caller=_caller(engine, home, ORG))
    assert not ours.errors, ours.errors
    assert ours.total == pytest.approx(11.6, rel=1e-12)
    theirs = evaluate_model_text(text, caller=_caller(engine, home, "Rival Ltd"))
    assert theirs.total is None
    assert theirs.errors


def _post(client: TestClient, url: str, **fields: str) -> httpx.Response:
    token = csrf_token(client.get("/models/edit").text)
    return client.post(url, data={"model": MODEL, "csrf_token": token} | fields)


def test_a_web_publish_is_on_the_audit_trail_and_the_verifiers_audit_page(
    web_app: TestClient,
    engine: Engine,
    home: Path,
    settings: Settings,
    accepted: Path,
    make_user: MakeUser,
    login: Login,
) -> None:
    """Published from the editor: the stored footprint is 11.6 kg CO2e (the accepted figure),
    the trail holds its calculation with the context ``web publish``, the person and the
    organisation, and a granted verifier's audit page shows that record."""
    engineer = make_user(engine, organisation=ORG, email="eng@bracket.example")
    owner = make_user(engine, organisation=ORG, email="own@bracket.example", role="owner")
    make_user(engine, organisation="Audit Co", email="vera@audit.example", role="verifier")
    assert login(web_app, engineer.email).status_code == 303
    page = _post(web_app, "/models/publish")
    assert page.status_code == 200, page.text
    found = re.search(r"<code data-published-id>([0-9a-f-]{36})</code>", page.text)
    assert found
    footprint_id = found.group(1)
    cli = calculate(accepted, settings=settings)
    assert footprint_id == str(cli.footprint_id)  # the same calculation as openpcf calc

    records = [
        r for r in list_records(settings.audit_trail) if r.data.get("context", {}).get("email")
    ]
    (record,) = records
    assert record.kind == "calculation"
    assert record.data["context"] == {
        "command": "web publish",
        "email": "eng@bracket.example",
        "organisation": ORG,
    }
    assert record.data["kg_co2e"] == pytest.approx(11.6, rel=1e-12)
    assert record.data["model_file"] == "model.yaml"  # no folder of the server's

    said, _ = grant(
        engine,
        organisation_id=owner.organisation_id,
        email="vera@audit.example",
        product="urn:openpcf:product:bracket",
        granted_by_id=owner.user_id,
    )
    assert "granted" in said
    web_app.cookies.clear()
    assert login(web_app, "vera@audit.example").status_code == 303
    audit = web_app.get(f"/verifier/products/{footprint_id}/audit")
    assert audit.status_code == 200, audit.text
    assert "web publish" in audit.text
    assert "eng@bracket.example" in audit.text
    assert record.hash in audit.text


def test_report_and_package_from_the_editor_are_recorded(
    web_app: TestClient,
    engine: Engine,
    settings: Settings,
    accepted: Path,
    make_user: MakeUser,
    login: Login,
) -> None:
    """As ``openpcf report`` (a calculation record) and ``openpcf package`` (a package
    record) do, with the web's context; the package's manifest names no server folder."""
    import io
    import json
    import zipfile

    del accepted
    make_user(engine, organisation=ORG, email="eng@bracket.example")
    assert login(web_app, "eng@bracket.example").status_code == 303
    report = _post(web_app, "/models/report", report_format="html", report_lang="en")
    assert report.status_code == 200, report.text[:500]
    package = _post(web_app, "/models/package")
    assert package.status_code == 200, package.text[:500]
    with zipfile.ZipFile(io.BytesIO(package.content)) as z:
        manifest = json.loads(z.read("manifest.json"))
        result = json.loads(z.read("result.json"))
    assert manifest["model"] == "model/model.yaml"
    assert manifest["model_dir"] == "."
    assert manifest["result"]["kg_co2e"] == pytest.approx(11.6, rel=1e-12)
    assert "openpcf-web-package" not in json.dumps([manifest, result])
    kinds: list[tuple[str, Any]] = [
        (r.kind, r.data["context"]["command"])
        for r in list_records(settings.audit_trail)
        if r.data.get("context", {}).get("email") == "eng@bracket.example"
    ]
    assert kinds == [("calculation", "web report"), ("package", "web package")]
