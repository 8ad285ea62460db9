"""EPDs in the ILCD+EPD format (EN 15804) as supplier data (issue 15, item 3).

The fixture ``tests/fixtures/epd/steel_section_a2.xml`` (built from the InData ILCD+EPD schema
and sample) declares per 1 t of steel section, modules A1-A3:
GWP-fossil 1130, GWP-biogenic -2.5, GWP-luluc 0.5, GWP-total 1128 kg CO2e.
The split variant declares A1 / A2 / A3:
fossil 1010 + 30 + 90 = 1130; biogenic -2.0 + 0 - 0.5 = -2.5; luluc 0.4 + 0.05 + 0.05 = 0.5;
total 1008.4 + 30.05 + 89.55 = 1128.

PACT v3 per 1000 kilogram: fossilGhgEmissions 1130, landUseChangeGhgEmissions 0.5,
biogenicCO2Uptake -2.5 (net biogenic < 0), biogenicNonCO2Emissions 0,
pcfExcludingBiogenicUptake = 1130 + 0.5 + 0 = 1130.5, pcfIncludingBiogenicUptake = 1128.

A bracket of 2.5 kg of that steel plus 0.2 kg fossil CO2 on site (AR6):
per kg steel CO2e 1.130, CO2-luc 0.0005, CO2-uptake 0.0025, so
total = 2.5 x (1.130 + 0.0005 - 0.0025) + 0.2 = 2.5 x 1.128 + 0.2 = 3.02 kg CO2e.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select

from fixtures.api_host import Host, serve_host
from fixtures.in_process import openpcf
from openpcf.db import repositories as repo
from openpcf.db.engine import session_scope
from openpcf.db.models import SupplierFootprint
from openpcf.exchange.supplier import supplier_factor
from openpcf.services.calculate import calculate
from openpcf.services.supplier_epd import import_epd
from openpcf.services.suppliers import SupplierStore
from openpcf.settings import Settings, get_settings
from openpcf.suppliers.epd import EpdError, read_epd

EPDS = Path(__file__).parent / "fixtures" / "epd"
GOOD = EPDS / "steel_section_a2.xml"
SPLIT = EPDS / "steel_section_a2_split.xml"
EXPIRED = EPDS / "steel_section_a2_expired.xml"
TODAY = dt.date(2026, 1, 15)
URN = "urn:pact:steel.example.com:product:s355"
ORG = "Bracket Co"

MODEL = f"""\
openpcf: 1
product:
  name: Bracket
  ids: [urn:pact:brackets.example.com:product:b1]
  declared_unit: piece
  mass_per_declared_unit: 2.5
  reference_period: {{start: 2025-01-01, end: 2025-12-31}}
  company_name: {ORG}
boundary: cradle-to-gate
reference_process: bracket
processes:
  - id: bracket
    name: Bracket forming
    stage: production
    output: {{product: bracket, amount: 1, unit: piece}}
    inputs:
      - {{supplier_footprint: "{URN}", amount: 2.5, unit: kg}}
    emissions:
      - {{gas: CO2-fossil, amount: 0.2, unit: kg}}
"""


def _import(engine: Engine, path: Path = GOOD, **kw: object):  # type: ignore[no-untyped-def]
    args: dict[str, object] = {
        "product_id": URN,
        "supplier": "Example Steel AG",
        "engine": engine,
        "organisation": ORG,
        "today": TODAY,
        "declared_unit": "t",
    }
    args.update(kw)
    return import_epd(path, **args)  # type: ignore[arg-type]


def _count(engine: Engine) -> int:
    with session_scope(engine) as s:
        return int(s.scalar(select(func.count()).select_from(SupplierFootprint)) or 0)


# --------------------------------------------------------------------------------------------
# parsing


def test_parse_a1_a3_by_hand() -> None:
    epd = read_epd(GOOD.read_bytes(), label=GOOD.name, today=TODAY, declared_unit="t")
    assert (epd.gwp_total, epd.gwp_fossil, epd.gwp_biogenic, epd.gwp_luluc) == (
        1128.0,
        1130.0,
        -2.5,
        0.5,
    )
    assert epd.uuid == "3f6d2a1e-8b7c-4d5e-9f01-2a3b4c5d6e7f"
    assert epd.name == "Hot-rolled steel section S355"
    assert (epd.declared_amount, epd.declared_unit, epd.modules) == (1.0, "t", "A1-A3")
    assert epd.registration == "EPD-EXS-20240123-IBA1-EN"
    assert epd.valid_until == dt.date(2029, 12, 31)
    assert not epd.expired
    assert epd.verifier == "Dr. Erika Example, Example Verification GmbH"
    assert epd.program_operator == "Example EPD Programme"
    assert (epd.standard, epd.subtype, epd.reference_year) == ("EN 15804+A2", "specific", 2024)
    assert len(epd.sha256) == 64


def test_parse_split_modules_are_summed() -> None:
    """A1 + A2 + A3 per indicator, as in the module docstring."""
    epd = read_epd(SPLIT.read_bytes(), label=SPLIT.name, today=TODAY, declared_unit="t")
    assert epd.modules == "A1+A2+A3"
    assert epd.gwp_total == pytest.approx(1008.4 + 30.05 + 89.55, rel=1e-12)
    assert epd.gwp_total == pytest.approx(1128.0, rel=1e-12)
    assert epd.gwp_fossil == pytest.approx(1130.0, rel=1e-12)
    assert epd.gwp_biogenic == pytest.approx(-2.5, rel=1e-12)
    assert epd.gwp_luluc == pytest.approx(0.5, rel=1e-12)


def test_parse_expired_is_flagged_not_refused() -> None:
    epd = read_epd(EXPIRED.read_bytes(), label=EXPIRED.name, today=TODAY, declared_unit="t")
    assert epd.expired
    assert epd.valid_until == dt.date(2023, 12, 31)
    # the same EPD checked on its last valid day is not expired
    assert not read_epd(
        EXPIRED.read_bytes(), label="x", today=dt.date(2023, 12, 31), declared_unit="t"
    ).expired


def test_en15804_a1_has_total_only() -> None:
    text = GOOD.read_text(encoding="utf-8").replace(
        "6a37f984-a4b3-458a-a20a-64418c145fa2", "77e416eb-a363-4258-a04e-171d843a6460"
    )
    for uid in ("5f635281", "2356e1ab", "4331bbdb"):  # drop the A2 split
        start = text.index(f'refObjectId="{uid}')
        a, b = text.rindex("<LCIAResult>", 0, start), text.index("</LCIAResult>", start)
        text = text[:a] + text[b + len("</LCIAResult>") :]
    text = text.replace(">EN 15804+A2<", ">EN 15804+A1<")
    epd = read_epd(text.encode(), label="a1.xml", today=TODAY, declared_unit="t")
    assert epd.standard == "EN 15804+A1"
    assert epd.gwp_total == 1128.0
    assert (epd.gwp_fossil, epd.gwp_biogenic, epd.gwp_luluc) == (None, None, None)


@pytest.mark.parametrize(
    ("name", "where", "reason"),
    [
        ("no_gwp.xml", "/processDataSet/LCIAResults", "no GWP-total"),
        ("not_xml.xml", "line 1", "not well-formed XML"),
        ("external_entity.xml", "line 2", "document type"),
        ("entity_bomb.xml", "line 2", "document type"),
    ],
)
def test_bad_epds_are_refused_with_path_and_reason(
    engine: Engine, name: str, where: str, reason: str
) -> None:
    before = _count(engine)
    with pytest.raises(EpdError) as err:
        _import(engine, EPDS / name)
    assert name in str(err.value)
    assert where in str(err.value)
    assert reason in str(err.value)
    assert _count(engine) == before


def test_incomplete_split_and_bad_sum_are_refused() -> None:
    text = SPLIT.read_text(encoding="utf-8")
    no_a2 = text.replace('<epd:amount epd:module="A2">30</epd:amount>', "", 1)
    with pytest.raises(EpdError, match=r"GWP-fossil declares A1, A3 but not A2"):
        read_epd(no_a2.encode(), label="s.xml", today=TODAY, declared_unit="t")
    # fossil 1300 - 2.5 + 0.5 = 1298, not 1128 (beyond 1 %)
    wrong = GOOD.read_text(encoding="utf-8").replace('"A1-A3">1130<', '"A1-A3">1300<')
    with pytest.raises(EpdError, match=r"= 1298 does not add up to GWP-total 1128"):
        read_epd(wrong.encode(), label="s.xml", today=TODAY, declared_unit="t")


def test_depth_is_bounded() -> None:
    deep = b"<processDataSet>" + b"<a>" * 100 + b"</a>" * 100 + b"</processDataSet>"
    with pytest.raises(EpdError, match="nest deeper than"):
        read_epd(deep, label="deep.xml", today=TODAY, declared_unit="t")


# --------------------------------------------------------------------------------------------
# PACT mapping and storage


def test_pact_mapping_field_by_field(engine: Engine) -> None:
    done = _import(engine)
    pcf = done.footprint["pcf"]
    assert done.new
    assert done.footprint["productIds"] == [URN]
    assert done.footprint["companyName"] == "Example Steel AG"
    assert (pcf["declaredUnitOfMeasurement"], pcf["declaredUnitAmount"]) == ("kilogram", "1000")
    assert pcf["productMassPerDeclaredUnit"] == "1000"
    assert pcf["fossilGhgEmissions"] == "1130"
    assert pcf["landUseChangeGhgEmissions"] == "0.5"
    assert pcf["biogenicCO2Uptake"] == "-2.5"
    assert pcf["biogenicNonCO2Emissions"] == "0"
    assert pcf["pcfExcludingBiogenicUptake"] == "1130.5"
    assert pcf["pcfIncludingBiogenicUptake"] == "1128"
    assert pcf["ipccCharacterizationFactors"] == ["AR5"]
    assert pcf["crossSectoralStandards"] == ["ISO14040-44"]
    assert pcf["productOrSectorSpecificRules"][0]["ruleNames"][0] == "EN 15804+A2"
    assert pcf["verification"]["providerName"].startswith("Dr. Erika Example")
    assert (pcf["referencePeriodStart"], pcf["referencePeriodEnd"]) == (
        "2024-01-01T00:00:00Z",
        "2025-01-01T00:00:00Z",
    )
    assert done.footprint["validityPeriodEnd"] == "2030-01-01T00:00:00Z"
    data = done.footprint["extensions"][0]["data"]
    assert data["registrationNumber"] == "EPD-EXS-20240123-IBA1-EN"
    assert data["expired"] is False
    with session_scope(engine) as s:
        rows = repo.find_supplier_footprints(s, ref=URN, organisation=None)
        assert [r.origin for r in rows] == ["epd"]


def test_same_epd_twice_is_a_no_op(engine: Engine) -> None:
    first = _import(engine)
    second = _import(engine)
    assert first.new
    assert not second.new
    assert second.footprint["id"] == first.footprint["id"]
    assert _count(engine) == 1


def test_model_uses_the_epd_and_expired_note(engine: Engine, tmp_path: Path) -> None:
    """Total 3.02 kg CO2e per bracket (module docstring)."""
    _import(engine)
    model = tmp_path / "bracket.yaml"
    model.write_text(MODEL, encoding="utf-8")
    settings = Settings(
        home=tmp_path / "home", database_url=engine.url.render_as_string(hide_password=False)
    )
    calc = calculate(model, settings=settings)
    assert float(calc.result.total) == pytest.approx(3.02, rel=1e-9)
    assert not any("expired" in n for n in calc.result.notes)
    assert any("from EPD EPD-EXS-20240123-IBA1-EN" in n for n in calc.result.notes)


def test_expired_epd_is_stored_flagged_and_noted(engine: Engine) -> None:
    done = _import(engine, EXPIRED, product_id="urn:pact:steel.example.com:product:old")
    assert done.new
    assert done.epd.expired
    assert any("expired on 2023-12-31" in w for w in done.warnings)
    store = SupplierStore(engine.url.render_as_string(hide_password=False), organisation=ORG)
    factor = supplier_factor("urn:pact:steel.example.com:product:old", base=Path("."), store=store)
    assert "EPD expired on 2023-12-31" in factor.notes
    assert factor.emissions["CO2e"] == pytest.approx(1.130, rel=1e-12)


# --------------------------------------------------------------------------------------------
# CLI and HTTP


def test_cli_import_epd(engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENPCF_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("OPENPCF_DATABASE_URL", engine.url.render_as_string(hide_password=False))
    get_settings.cache_clear()
    try:
        args = [
            "suppliers",
            "import-epd",
            str(GOOD),
            "--product-id",
            URN,
            "--supplier",
            "Example Steel AG",
            "--unit",
            "t",
            "--org",
            ORG,
        ]
        out = openpcf(*args, "--json")
        assert out.returncode == 0, out.stderr
        report = json.loads(out.stdout)
        assert report["new"]
        assert report["footprint"]["pcf"]["pcfIncludingBiogenicUptake"] == "1128"
        again = openpcf(*args)
        assert again.returncode == 0
        assert "held already" in again.stdout
        bad = openpcf(
            "suppliers",
            "import-epd",
            str(EPDS / "no_gwp.xml"),
            "--product-id",
            URN,
            "--supplier",
            "X",
            "--unit",
            "t",
        )
        assert bad.returncode == 2
        assert "no GWP-total" in bad.stderr
        assert "Traceback" not in bad.stderr
    finally:
        get_settings.cache_clear()


@pytest.fixture
def host(engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Host]:
    monkeypatch.setenv("OPENPCF_HOME", str(tmp_path / "home"))
    get_settings.cache_clear()
    yield from serve_host(engine, tmp_path)
    get_settings.cache_clear()


def test_http_post_supplier_epd(host: Host) -> None:
    with session_scope(host.engine) as s:
        org = repo.get_organisation(s, name="Supplier Co")
        issued = repo.create_client(s, organisation=org, name="M", scopes=["suppliers:manage"])
        host.seeded.creds["M"] = (issued.client_id, issued.secret)
    url = f"/supplier-epds?productId={URN}&supplier=Example%20Steel%20AG&unit=t"
    plain = host.http.post(
        url, content=GOOD.read_bytes(), headers={"authorization": f"Bearer {host.token('A')}"}
    )
    assert plain.status_code == 403, plain.text
    auth = {"authorization": f"Bearer {host.token('M', scope='suppliers:manage')}"}
    ok = host.http.post(url, content=GOOD.read_bytes(), headers=auth)
    assert ok.status_code == 201, ok.text
    assert ok.json()["footprint"]["pcf"]["fossilGhgEmissions"] == "1130"
    bad = host.http.post(url, content=(EPDS / "entity_bomb.xml").read_bytes(), headers=auth)
    assert bad.status_code == 400
    assert "document type" in bad.text
    with session_scope(host.engine) as s:
        rows = repo.find_supplier_footprints(s, ref=URN, organisation=None)
        assert [r.organisation.name for r in rows] == ["Supplier Co"]
