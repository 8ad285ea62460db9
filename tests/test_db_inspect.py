"""Inspecting background data: reference years, lost shares, outliers, biogenic and unit checks,
footprint splits and ``openpcf db show DB PROCESS``.

Hand-worked values (``jsonld_small``, AR6, footprints derived in ``tests/test_linking.py``):

- lost share, slag treatment moved to DE (its 1 MJ electricity is cut as ambiguous): the cut
  flow's producers are the US grid (0.1 kg CO2e/MJ) and the CN grid (0.2), median 0.15, so the
  slag loses 1 x 0.15 = 0.15 next to its 0.2: 0.15 / 0.35 = 0.428571...; the steel column
  (share 0.75, 0.5 kg slag) carries 0.75 x 0.5 x 0.15 = 0.05625 next to 2.5485:
  0.05625 / 2.60475 = 0.0215952...; the widget cuts a lubricant no process makes: unknown
  (None); the electricity columns cut nothing: 0.0.
- footprint split, as imported (slag in US): wood drying takes up 1.5 kg CO2: biogenic
  uptake -1.5 and total -1.5; the US electricity, 0.36 kg fossil CO2 per kWh = 3.6 MJ, is all
  fossil: 0.1.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from openpcf.cli.db import db_app
from openpcf.errors import UnknownFactorError
from openpcf.io.biogenic import CO2_PER_C, biogenic_flags
from openpcf.io.cut_share import lost_shares
from openpcf.io.ilcd import read_ilcd
from openpcf.io.inventory import Exchange, Flow, Inventory, Process, plausible_year
from openpcf.io.jsonld import read_jsonld
from openpcf.io.linking import (
    Column,
    LinkedDatabase,
    build_report,
    gas_intensity_matrix,
    link,
)
from openpcf.io.outliers import outlier_flags
from openpcf.io.store import DatabaseStore
from openpcf.io.unit_check import pint_disagreement
from openpcf.methods.gwp import characterisation_vector, gwp_set
from openpcf.services import databases as svc
from openpcf.settings import get_settings

FIXTURES = Path(__file__).parent / "fixtures"
SMALL = FIXTURES / "jsonld_small"
SLAG = "ee000000-0000-4000-8000-000000000004"
STEEL = "ee000000-0000-4000-8000-000000000003"
WIDGET = "ee000000-0000-4000-8000-000000000006"
US_GRID = "ee000000-0000-4000-8000-000000000001"
WOOD = "ee000000-0000-4000-8000-000000000005"
RTOL = 1e-12
runner = CliRunner()


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv("OPENPCF_HOME", str(tmp_path / "home"))
    get_settings.cache_clear()
    yield tmp_path / "home"
    get_settings.cache_clear()


def store() -> DatabaseStore:
    return DatabaseStore(get_settings().databases_dir)


def _shares(linked: LinkedDatabase) -> dict[str, float | None]:
    """Column id -> lost share, from the AR6 footprints."""
    c = characterisation_vector(gwp_set("AR6"), linked.system.flows)
    h = gas_intensity_matrix(linked.system) @ c
    return dict(zip((col.id for col in linked.columns), lost_shares(linked, h), strict=True))


# --- reference years ------------------------------------------------------------------------


def test_plausible_year():
    assert plausible_year("2010-01-01T00:00:00-07:00") == 2010
    assert plausible_year(" 2019") == 2019
    assert plausible_year("9999-12-31") is None  # USLCI's placeholder
    assert plausible_year("") is None
    assert plausible_year(None) is None


def test_reference_year_from_jsonld_and_ilcd(tmp_path: Path):
    copy = tmp_path / "jsonld"
    shutil.copytree(SMALL, copy)
    path = copy / "processes" / f"{WIDGET}.json"
    data = json.loads(path.read_text("utf-8"))
    data["processDocumentation"] = {"validFrom": "2016-01-01", "validUntil": "2020-12-31"}
    path.write_text(json.dumps(data), encoding="utf-8")
    years = {p.id: p.reference_year for p in read_jsonld(copy).processes}
    assert years[WIDGET] == 2016
    assert years[STEEL] is None
    ilcd = tmp_path / "ilcd"
    shutil.copytree(FIXTURES / "ilcd_small", ilcd)
    xml = sorted((ilcd / "ILCD" / "processes").glob("*.xml"))[0]
    text = xml.read_text("utf-8")
    text = text.replace(
        "<geography>", "<time><common:referenceYear>2019</common:referenceYear></time><geography>"
    )
    xml.write_text(text, encoding="utf-8")
    inv = read_ilcd(ilcd)
    assert {p.id: p.reference_year for p in inv.processes}[xml.stem] == 2019
    linked = link(inv)
    assert {c.process_id: c.reference_year for c in linked.columns}.get(xml.stem) == 2019


# --- lost shares ----------------------------------------------------------------------------


def _slag_elsewhere() -> Inventory:
    inv = read_jsonld(SMALL)
    procs = tuple(replace(p, location="DE") if p.id == SLAG else p for p in inv.processes)
    return replace(inv, processes=procs)


def test_lost_share_by_hand():
    linked = link(_slag_elsewhere())
    shares = _shares(linked)
    assert shares[SLAG] == pytest.approx(0.15 / 0.35, rel=1e-9)
    assert shares[STEEL] == pytest.approx(0.05625 / 2.60475, rel=1e-9)
    assert shares[WIDGET] is None
    assert shares[US_GRID] == 0.0


def test_lost_share_is_stored_and_read_back(home: Path):
    svc.import_database("jsonld", SMALL, name="small", store=store())
    rows = {r.activity: r for r in svc.all_footprints("small", store=store())}
    assert rows[WIDGET].lost_share is None
    assert rows[US_GRID].lost_share == 0.0
    text = (next((home / "databases" / "small").glob("*/processes.csv"))).read_text("utf-8")
    assert text.splitlines()[0].endswith(",reference_year,lost_share")


# --- outliers -------------------------------------------------------------------------------


def _column(i: int, product: str = "copper", unit: str = "kg") -> Column:
    return Column(
        id=f"p{i}",
        process_id=f"p{i}",
        name=f"copper {i}",
        name_zh="",
        product_id="f",
        product=product,
        unit=unit,
        location="CN",
    )


def test_outlier_flags():
    """Peers (copper, kg) 0.1, 1, 2, 3, 100: median 2, so 100 is 50x (high) and 0.1 is
    1/20x (low); 0 is "zero", -1 "negative"; copper in t has no group of three: no flag."""
    cols = [_column(i) for i in range(7)] + [_column(7, unit="t")]
    flags = outlier_flags(cols, np.array([0.1, 1.0, 2.0, 3.0, 100.0, 0.0, -1.0, 500.0]))
    assert flags == ["low (1/20x median)", "", "", "", "high (50x median)", "zero", "negative", ""]


# --- biogenic and unit checks ---------------------------------------------------------------


def _wood_inventory(uptake: float, output: bool = False) -> Inventory:
    flows = {
        "wood": Flow(id="wood", name="wood", kind="product", unit="kg"),
        "co2": Flow(
            id="co2", name="carbon dioxide, in air", kind="elementary", unit="kg", gas="CO2-uptake"
        ),
    }
    proc = Process(
        id="w",
        name="wood growing",
        exchanges=(
            Exchange(flow="wood", amount=1.0, is_input=False, is_reference=True),
            Exchange(flow="co2", amount=uptake, is_input=not output),
        ),
    )
    return Inventory(format="jsonld", name="t", processes=(proc,), flows=flows)


def test_biogenic_flags():
    """1.5 kg CO2 per kg of wood is below 44.01/12.011 = 3.664: fine; 5 is above it; an
    uptake flow written as an output is flagged whatever its size."""
    for uptake, output, flagged in ((1.5, False, False), (5.0, False, True), (0.1, True, True)):
        linked = link(_wood_inventory(uptake, output))
        flags = biogenic_flags(linked.system, linked.columns, gas_intensity_matrix(linked.system))
        assert ("w" in flags) is flagged, (uptake, output)
    assert pytest.approx(3.664, abs=1e-3) == CO2_PER_C


def test_pint_cross_check(tmp_path: Path):
    assert pint_disagreement("kWh", "MJ", 3.6) is None
    assert pint_disagreement("t*km", "kg*km", 1000.0) is None  # not pint's: not judged
    assert "907.18" in str(pint_disagreement("t", "kg", 907.18))
    copy = tmp_path / "jsonld"
    shutil.copytree(SMALL, copy)
    group = copy / "unit_groups" / "aa000000-0000-4000-8000-000000000002.json"
    group.write_text(group.read_text("utf-8").replace("3.6", "3.0"), encoding="utf-8")
    problems = [p for p in read_jsonld(copy).problems if p.kind == "suspicious-unit"]
    assert len(problems) == 1
    assert "1 kWh = 3 MJ in the source, 3.6 by pint" in problems[0].detail


# --- dirty data -----------------------------------------------------------------------------


def test_dirty_inventory_links_and_reports():
    """A missing flow, a default provider not in the database, an ambiguous input and a
    process without a reference: linking and the checks run, and the report says what was
    skipped (nothing raises)."""
    flows = {
        "x": Flow(id="x", name="x", kind="product", unit="kg"),
        "y": Flow(id="y", name="y", kind="product", unit="kg"),
    }
    procs = (
        Process(
            id="a",
            name="a",
            location="CN",
            exchanges=(Exchange(flow="x", amount=1.0, is_input=False, is_reference=True),),
        ),
        Process(
            id="b",
            name="b",
            location="CN",
            exchanges=(Exchange(flow="x", amount=1.0, is_input=False, is_reference=True),),
        ),
        Process(
            id="c",
            name="c",
            location="US",
            exchanges=(
                Exchange(flow="y", amount=1.0, is_input=False, is_reference=True),
                Exchange(flow="x", amount=2.0, is_input=True),  # ambiguous: a and b, neither US
                Exchange(flow="x", amount=1.0, is_input=True, provider="gone"),
                Exchange(flow="nowhere", amount=1.0, is_input=True),
            ),
        ),
        Process(id="d", name="d", exchanges=()),
    )
    inv = Inventory(format="ilcd", name="dirty", processes=procs, flows=flows)
    linked = link(inv)
    report = build_report(inv, linked)
    assert report["unlinked"]["ambiguous: 2 producers"]["count"] == 2
    assert report["unlinked"]["flow not in database"]["count"] == 1
    assert report["skipped"]["no usable quantitative reference"]["examples"] == ["d"]
    shares = _shares(linked)
    assert shares["c"] is None  # a cut flow nobody makes: unknown
    assert shares["a"] == 0.0


# --- the services and the CLI ---------------------------------------------------------------


def test_footprint_split_sums_to_total(home: Path):
    svc.import_database("jsonld", SMALL, name="small", store=store())
    rows = {r.activity: r for r in svc.all_footprints("small", store=store())}
    wood = rows[WOOD]
    assert (wood.biogenic_uptake, wood.kg_co2e, wood.fossil) == (
        pytest.approx(-1.5, rel=RTOL),
        pytest.approx(-1.5, rel=RTOL),
        0.0,
    )
    assert rows[US_GRID].fossil == pytest.approx(0.1, rel=RTOL)
    for r in rows.values():
        parts = r.fossil + r.biogenic + r.biogenic_uptake + r.land_use_change
        assert parts == pytest.approx(r.kg_co2e, rel=1e-12, abs=1e-15)


def test_show_process(home: Path):
    svc.import_database("jsonld", SMALL, name="small", store=store())
    info = svc.show_process("small", WIDGET, store=store())
    assert info["kg_co2e"] == pytest.approx(5.503, rel=RTOL)
    assert info["lost_share"] is None
    cut = [(x["flow"], x["how"]) for x in info["cut_off"]]
    assert cut == [("lubricant (no producer in this database)", "no provider")]
    linked = {x["flow"]: x["provider_name"] for x in info["exchanges"] if x["provider"]}
    assert linked["steel, hot rolled"] == "steel production, with scrap co-product"
    slag = svc.show_process("small", SLAG, store=store())
    how = {x["flow"]: x["how"] for x in slag["exchanges"]}
    assert how["electricity, medium voltage"] == "same location"
    assert slag["by_gas"]["CO2-fossil"]["kg"] == pytest.approx(0.3, rel=RTOL)
    with pytest.raises(UnknownFactorError):
        svc.show_process("small", "no such process", store=store())
    out = runner.invoke(db_app, ["show", "small", WIDGET])
    assert out.exit_code == 0, out.output
    assert "no provider" in out.output
    assert "unknown" in out.output  # the lost share
    data = json.loads(runner.invoke(db_app, ["show", "small", SLAG, "--json"]).output)
    assert data["activity"] == SLAG


def test_show_process_of_an_older_version(home: Path):
    """A version stored before exchanges and the new columns: read with those empty."""
    result = svc.import_database("jsonld", SMALL, name="small", store=store())
    (result.path / "exchanges.csv.gz").unlink()
    csv_path = result.path / "processes.csv"
    lines = csv_path.read_text("utf-8").splitlines()
    cut = lines[0].count(",") - 1  # drop the last two columns
    csv_path.write_text(
        "\n".join(",".join(line.split(",")[:cut]) for line in lines) + "\n", encoding="utf-8"
    )
    svc._CACHE.clear()
    info = svc.show_process("small", WIDGET, store=store())
    assert info["exchanges_recorded"] is False
    assert info["reference_year"] is None


def test_search_shows_footprint_and_flag(home: Path):
    svc.import_database("jsonld", SMALL, name="small", store=store())
    rows = svc.search_footprints("small", "electricity", store=store())
    assert {r.location: r.kg_co2e for r in rows} == {
        "US": pytest.approx(0.1, rel=RTOL),
        "CN": pytest.approx(0.2, rel=RTOL),
    }
    assert all(r.flag == "" for r in rows)  # two peers: too few to judge


def test_background_factor_year_is_the_reference_year(home: Path, tmp_path: Path):
    copy = tmp_path / "jsonld"
    shutil.copytree(SMALL, copy)
    path = copy / "processes" / f"{WIDGET}.json"
    data = json.loads(path.read_text("utf-8"))
    data["processDocumentation"] = {"validFrom": "2016-01-01"}
    path.write_text(json.dumps(data), encoding="utf-8")
    svc.import_database("jsonld", copy, name="years", store=store())
    assert svc.background_factor(f"years:{WIDGET}", store=store()).year == 2016
