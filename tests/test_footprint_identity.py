"""One calculation, one footprint (issue 10): the regression tests for its three bugs.

1. ``publish`` uses the same factor policy as ``calc`` (``$OPENPCF_HOME/factors``, ``--factors``).
2. PACT v2.3 is one view of the v3 document: ``calc --pact-version 2`` and the host's ``/2``
   routes give identical documents, biogenic fields included.
3. ``publish``, ``certificate issue``, ``package`` and the audit trail name one footprint id; a
   certificate issued after ``publish`` verifies against the exact JSON the host serves at
   ``GET /3/footprints/{id}``.

Runs on SQLite and PostgreSQL (``db_url``).
"""

from __future__ import annotations

import json
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from fixtures.cli_home import cli, ok
from openpcf.certify import verify_certificate
from openpcf.exchange.pact import product_footprint
from openpcf.exchange.v2 import v2_view
from openpcf.services.calculate import calculate

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests/fixtures"
WIDGET = FIXTURES / "pact_widget.yaml"
PALLET = FIXTURES / "pact_pallet.yaml"  # has biogenic CO2 emissions and uptake
BASE = "https://pact.test"


# --------------------------------------------------------------------------------------------
# 1. publish uses the user's factor sets, as calc does


OWN_FACTORS = """
factors:
  - {id: own.sheet, name: own steel sheet, unit: t, category: material, geography: CN,
     year: 2024, source: supplier mill report 2024 (test), licence: CC0,
     emissions: {CO2-fossil: 1500}}
"""

EXTRA_FACTORS = """
factors:
  - {id: extra.paint, name: extra paint, unit: kg, category: material, geography: CN,
     year: 2024, source: paint maker EPD (test), licence: CC0, emissions: {CO2-fossil: 3}}
"""


def _own_model(folder: Path, *, paint: bool = False) -> Path:
    """pact_widget.yaml with its sheet bought in (``own.sheet``) and, optionally, paint."""
    text = WIDGET.read_text(encoding="utf-8")
    text = text.replace(
        "      - {process: sheet, amount: sheet_mass, unit: kg}",
        "      - {factor: own.sheet, amount: sheet_mass, unit: kg}"
        + ("\n      - {factor: extra.paint, amount: 0.1, unit: kg}" if paint else ""),
    )
    text = text[: text.index("  - id: sheet")]
    path = folder / ("painted.yaml" if paint else "own.yaml")
    path.write_text(text, encoding="utf-8")
    return path


def test_publish_uses_the_users_factor_sets_like_calc(home: Path, tmp_path: Path) -> None:
    """2 kg sheet x 1.5 kg/kg + 3 kWh x CN-HE 2022 grid + 1 g CH4: calc and publish agree.

    Before the fix ``publish`` failed with "Unknown factor id 'own.sheet'".
    """
    (home / "factors").mkdir(parents=True)
    (home / "factors" / "own.yaml").write_text(OWN_FACTORS, encoding="utf-8")
    model = _own_model(tmp_path)
    assert "supplier mill report" in ok("factors", "show", "own.sheet").stdout
    calc = json.loads(ok("calc", str(model), "--format", "pact").stdout)
    published = json.loads(ok("publish", str(model), "--json").stdout)
    assert published["new"] is True
    assert published["document"]["pcf"] == calc["pcf"]
    assert published["id"] == calc["id"]  # one calculation, one id

    extra = tmp_path / "extra.yaml"
    extra.write_text(EXTRA_FACTORS, encoding="utf-8")
    painted = _own_model(tmp_path, paint=True)
    missing = cli("publish", str(painted))
    assert missing.exit_code != 0
    assert "extra.paint" in str(missing.exception)
    again = json.loads(ok("publish", str(painted), "--factors", str(extra), "--json").stdout)
    total = float(again["document"]["pcf"]["pcfExcludingBiogenicUptake"])
    assert total == pytest.approx(float(calc["pcf"]["pcfExcludingBiogenicUptake"]) + 0.3)


@pytest.mark.parametrize("command", ["validate", "report", "package", "certificate"])
def test_every_calculating_command_accepts_the_shared_options(command: str) -> None:
    from openpcf.cli.main import app

    args = [command, "issue"] if command == "certificate" else [command]
    text = CliRunner().invoke(app, [*args, "--help"], terminal_width=200).output
    for option in ("--gwp", "--param", "--factors", "--solver"):
        assert option in text, f"{command} lacks {option}"


# --------------------------------------------------------------------------------------------
# 2. one PACT v2.3 mapping


CREATED = "2025-03-01T00:00:00Z"


def _models() -> list[Path]:
    return sorted([*FIXTURES.glob("*.yaml"), *(ROOT / "examples").glob("*.yaml")])


@pytest.mark.parametrize("model", _models(), ids=lambda p: p.name)
def test_calc_v2_is_the_view_of_the_v3_document(model: Path) -> None:
    """For every model that has a v2.3 form, the two routes give identical documents."""
    import datetime as dt

    from openpcf.errors import InputError

    try:
        calculation = calculate(model)
        v3 = product_footprint(calculation, created=dt.datetime(2025, 3, 1))
    except InputError:
        pytest.skip(f"{model.name} is not a product model with a PACT form")
    try:
        v2 = product_footprint(calculation, version="2", created=dt.datetime(2025, 3, 1))
    except InputError:
        with pytest.raises(InputError):
            v2_view(v3, cpc=calculation.compiled.model.product.cpc)
        return
    assert v3["created"] == CREATED
    assert v2 == v2_view(v3, cpc=calculation.compiled.model.product.cpc)
    assert v2["pcf"]["pCfIncludingBiogenic"] == v3["pcf"]["pcfIncludingBiogenicUptake"]
    assert v2["pcf"]["pCfExcludingBiogenic"] == v3["pcf"]["pcfExcludingBiogenicUptake"]


def test_biogenic_fields_are_the_same_on_both_routes(home: Path, tmp_path: Path) -> None:
    """pact_pallet.yaml has biogenic CO2: both routes name pcfIncludingBiogenicUptake's value,
    fossil + LUC + biogenic non-CO2 + uptake (PACT v3 OpenAPI x-comment formula), which
    excludes the biogenic CO2 emissions; before the fix ``calc --pact-version 2`` gave the
    ISO 14067 total (that value plus the biogenic CO2)."""
    pallet = tmp_path / "pallet_per_kg.yaml"  # v2.3 has no 'piece': the same pallet per kg
    text = PALLET.read_text(encoding="utf-8")
    text = text.replace("declared_unit: piece", "declared_unit: kilogram")
    text = text.replace("mass_per_declared_unit: 20", "mass_per_declared_unit: 1")
    text = text.replace("amount: 1, unit: piece}", "amount: 20, unit: kg}")
    pallet.write_text(text, encoding="utf-8")
    published = json.loads(ok("publish", str(pallet), "--json").stdout)
    with _serve(home, published["document"]["productIds"][0]) as http:
        answer = http.get(f"/2/footprints/{published['id']}")
    assert answer.status_code == 200, answer.text
    host_v2 = answer.json()["data"]
    calc_v2 = json.loads(ok("calc", str(pallet), "--format", "pact", "--pact-version", "2").stdout)
    result = calculate(pallet).result
    assert result.biogenic_co2 > 0  # the case that used to differ
    expected = float(host_v2["pcf"]["pCfIncludingBiogenic"])
    assert expected == pytest.approx(result.pcf_including_biogenic_uptake, abs=1e-9)
    assert calc_v2["id"] == host_v2["id"]
    calc_v2["created"] = host_v2["created"]
    assert calc_v2 == host_v2


# --------------------------------------------------------------------------------------------
# 3. one identity: certificate and package bind what the host serves


@contextmanager
def _serve(home: Path, product_id: str) -> Iterator[TestClient]:
    """The host, with the token of a client granted ``product_id``, on the configured database."""
    from openpcf.api.app import HostConfig, create_app
    from openpcf.cli.options import open_database

    made = json.loads(ok("storage", "create-client", _owner(), "--json").stdout)
    ok("storage", "grant", made["client_id"], product_id)
    engine = open_database()
    assert engine is not None
    app = create_app(engine=engine, config=HostConfig(home=home, run_sender=False))
    try:
        with TestClient(app, base_url=BASE) as http:
            answer = http.post(
                "/auth/token",
                auth=(made["client_id"], made["client_secret"]),
                data={"grant_type": "client_credentials"},
            )
            http.headers["Authorization"] = f"Bearer {answer.json()['access_token']}"
            yield http
    finally:
        engine.dispose()


def _owner() -> str:
    from openpcf.cli.options import open_database
    from openpcf.db.engine import session_scope
    from openpcf.db.models import Organisation

    engine = open_database()
    assert engine is not None
    with session_scope(engine) as s:
        names = [o.name for o in s.query(Organisation).all()]
    engine.dispose()
    assert len(names) == 1
    return names[0]


def test_certificate_after_publish_binds_the_served_document(home: Path, tmp_path: Path) -> None:
    ok("keys", "create")
    published = json.loads(ok("publish", str(WIDGET), "--json").stdout)
    pf_id = published["id"]
    cert = tmp_path / "widget.jwt"
    ok("certificate", "issue", str(WIDGET), "-o", str(cert), "--footprint-out", str(tmp_path / "w"))
    with _serve(home, "urn:openpcf:product:widget") as http:
        served = http.get(f"/3/footprints/{pf_id}").json()
    jwks = tmp_path / "jwks.json"
    ok("keys", "export-jwks", "-o", str(jwks))
    token = cert.read_text(encoding="utf-8").strip()
    verified = verify_certificate(token, jwks=jwks, footprint=served["data"])
    assert dict(verified.checks)["digest"].startswith("ok")
    assert verified.subject["id"] == f"urn:uuid:{pf_id}"

    # the same by footprint id, and the package of the same model carries the same id
    by_id = tmp_path / "by-id.jwt"
    ok("certificate", "issue", "--footprint-id", pf_id, "-o", str(by_id))
    token = by_id.read_text(encoding="utf-8").strip()
    verify_certificate(token, jwks=jwks, footprint=served["data"])
    out = tmp_path / "widget.zip"
    ok("package", str(WIDGET), "-o", str(out))
    with zipfile.ZipFile(out) as z:
        packaged = json.loads(z.read("footprint.pact.json"))
    assert packaged == served["data"]


def test_republishing_a_changed_back_model_gets_a_new_id(home: Path) -> None:
    """A → B → A: the third footprint has A's numbers but cannot reuse A's (deprecated) id."""
    first = json.loads(ok("publish", str(WIDGET), "--json").stdout)
    second = json.loads(
        ok("publish", str(WIDGET), "-p", "power=4", "--replace-live", "--json").stdout
    )
    third = json.loads(ok("publish", str(WIDGET), "--json").stdout)
    assert len({first["id"], second["id"], third["id"]}) == 3
    assert third["document"]["precedingPfIds"] == [second["id"]]
    assert third["document"]["pcf"] == first["document"]["pcf"]


def test_footprint_id_is_derived_from_the_calculation(tmp_path: Path) -> None:
    """Same model text, parameters, rows and GWP set: same id, wherever the file lies;
    any change of input: a new id."""
    a = calculate(WIDGET)
    copy = tmp_path / "elsewhere.yaml"
    copy.write_text(WIDGET.read_text(encoding="utf-8"), encoding="utf-8")
    assert calculate(copy).footprint_id == a.footprint_id
    assert calculate(WIDGET, overrides={"power": 4}).footprint_id != a.footprint_id
    assert calculate(WIDGET, gwp="AR5").footprint_id != a.footprint_id
    assert a.footprint_id.version == 5
