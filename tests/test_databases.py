"""Background databases: import, versions, browsing, footprints, factors, the CLI, real data.

Hand-worked footprints of ``jsonld_small`` are derived in ``tests/test_linking.py``.
The ``realdata`` tests import ``../shared/data`` archives and are skipped when they are absent.
"""

from __future__ import annotations

import csv
import io
import json
import math
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from openpcf.cli.db import db_app, import_app
from openpcf.errors import InputError, UnknownFactorError
from openpcf.io.inventory import Exchange, Flow, Inventory, Process
from openpcf.io.linking import build_report, gas_intensity_matrix, link
from openpcf.io.store import DatabaseNotFoundError, DatabaseStore, content_hash
from openpcf.services import databases as svc
from openpcf.settings import get_settings

FIXTURES = Path(__file__).parent / "fixtures"
SMALL = FIXTURES / "jsonld_small"
DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
USLCI = DATA / "uslci-olca1.5-json-ld-9182448.zip"
TIANGONG = DATA / "tiangong-lca-data-a55b302.zip"
WIDGET = "ee000000-0000-4000-8000-000000000006"
RTOL = 1e-12


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A fresh $OPENPCF_HOME."""
    monkeypatch.setenv("OPENPCF_HOME", str(tmp_path / "home"))
    get_settings.cache_clear()
    yield tmp_path / "home"
    get_settings.cache_clear()


def store() -> DatabaseStore:
    """The databases in $OPENPCF_HOME, as the CLI opens them."""
    return DatabaseStore(get_settings().databases_dir)


@pytest.fixture
def small(home: Path) -> svc.ImportResult:
    return svc.import_database("jsonld", SMALL, name="small", store=store())


def _footprint(ref: str, activity: str) -> float:
    return next(r.kg_co2e for r in svc.all_footprints(ref, store=store()) if r.activity == activity)


# --- import and versions --------------------------------------------------------------------


def test_import_stores_a_version(small: svc.ImportResult, home: Path):
    assert small.was_new
    assert small.version == content_hash(SMALL)[:12]
    folder = home / "databases" / "small" / small.version
    assert {p.name for p in folder.iterdir()} == {
        "A.npz",
        "B.npz",
        "intensities.npz",
        "meta.json",
        "processes.csv",
        "exchanges.csv.gz",
        "report.json",
    }
    meta = json.loads((folder / "meta.json").read_text("utf-8"))
    assert meta["format"] == "jsonld"
    assert meta["licence"].startswith("CC0")
    assert meta["imported_utc"].endswith("+00:00")
    assert meta["counts"]["processes"] == 6
    assert len(meta["content_sha256"]) == 64


def test_reimport_is_a_noop(small: svc.ImportResult):
    again = svc.import_database("jsonld", SMALL, name="small", store=store())
    assert not again.was_new
    assert again.version == small.version
    assert again.report["counts"] == small.report["counts"]


def test_changed_file_is_a_new_version(small: svc.ImportResult, tmp_path: Path):
    copy = tmp_path / "changed"
    shutil.copytree(SMALL, copy)
    widget = copy / "processes" / f"{WIDGET}.json"
    data = json.loads(widget.read_text("utf-8"))
    data["exchanges"][1]["amount"] = 4.0  # 4 kg steel instead of 2
    widget.write_text(json.dumps(data), encoding="utf-8")
    new = svc.import_database("jsonld", copy, name="small", store=store())
    assert new.was_new
    assert new.version != small.version
    # the latest is the default; the old one stays reachable as name@version
    assert svc.show_database("small", store=store())["version"] == new.version
    assert _footprint("small", WIDGET) == pytest.approx(5.503 + 2 * 2.586, rel=RTOL)
    assert _footprint(f"small@{small.version}", WIDGET) == pytest.approx(5.503, rel=RTOL)
    listed = svc.list_databases(store=store())
    assert [d["versions"] for d in listed] == [[small.version, new.version]]


def test_zip_import(home: Path, tmp_path: Path):
    target = tmp_path / "small.zip"
    shutil.make_archive(str(target.with_suffix("")), "zip", SMALL.parent, SMALL.name)
    result = svc.import_database("jsonld", target, store=store())
    assert result.name == "small"
    assert result.report["counts"]["activities"] == 7


def test_failed_import_leaves_nothing(home: Path, monkeypatch: pytest.MonkeyPatch):
    def boom(system: object) -> object:
        raise InputError("simulated failure while solving")

    monkeypatch.setattr("openpcf.services.databases.gas_intensity_matrix", boom)
    with pytest.raises(InputError, match="simulated"):
        svc.import_database("jsonld", SMALL, name="small", store=store())
    folder = home / "databases" / "small"
    assert not folder.exists() or not any(p.name != "CURRENT" for p in folder.iterdir())
    assert svc.list_databases(store=store()) == []


def test_unknown_format_and_missing_path(home: Path, tmp_path: Path):
    with pytest.raises(InputError, match="Unknown database format"):
        svc.import_database("spold9", SMALL, store=store())
    with pytest.raises(InputError, match="no such file"):
        svc.import_database("jsonld", tmp_path / "nowhere.zip", store=store())


def test_unknown_database(home: Path):
    with pytest.raises(DatabaseNotFoundError, match="No background database 'nope'"):
        svc.all_footprints("nope", store=store())


# --- browsing and footprints ----------------------------------------------------------------


def test_search_and_show(small: svc.ImportResult):
    found = svc.search_processes("small", "STEEL scrap", store=store())
    assert {c.product for c in found} == {"steel scrap", "steel, hot rolled"}
    assert [c.name for c in svc.search_processes("small", "森林", store=store())] == [
        "wood drying, 森林"
    ]
    info = svc.show_database("small", store=store())
    assert info["report"]["unlinked"]["no provider"]["count"] == 1


def test_search_chinese_names(tmp_path: Path):
    """ILCD names come in zh and en: both are searched."""
    flows = {
        "c": Flow(id="c", name="cement", name_zh="水泥", kind="product", unit="kg"),
        "co2": Flow(id="co2", name="CO2", kind="elementary", unit="kg", gas="CO2-fossil"),
    }
    proc = Process(
        id="p1",
        name="cement production",
        name_zh="水泥生产",
        location="CN",
        exchanges=(
            Exchange(flow="c", amount=1.0, is_input=False, is_reference=True),
            Exchange(flow="co2", amount=0.8, is_input=False),
        ),
    )
    inv = Inventory(format="ilcd", name="t", processes=(proc,), flows=flows)
    linked = link(inv)
    store = DatabaseStore(tmp_path / "dbs")
    store.write(
        meta={
            "name": "cn",
            "version": "000000000001",
            "format": "ilcd",
            "imported_utc": "2025-01-01T00:00:00+00:00",
            "source_file": "t.zip",
            "content_sha256": "0" * 64,
            "licence": "MIT",
            "counts": build_report(inv, linked)["counts"],
        },
        report=build_report(inv, linked),
        system=linked.system,
        columns=linked.columns,
        intensities=lambda: gas_intensity_matrix(linked.system),
    )
    assert [c.id for c in svc.search_processes("cn", "水泥", store=store)] == ["p1"]
    assert [c.id for c in svc.search_processes("cn", "Cement", store=store)] == ["p1"]
    factor = svc.background_factor("cn:水泥生产", store=store)
    assert factor.emissions == {"CO2-fossil": pytest.approx(0.8)}
    assert factor.geography == "CN"


def test_all_footprints(small: svc.ImportResult):
    rows = svc.all_footprints("small", "AR6", store=store())
    assert len(rows) == 7
    steel = [r for r in rows if r.process_id == "ee000000-0000-4000-8000-000000000003"]
    assert {r.reference_product: r.kg_co2e for r in steel} == {
        "steel, hot rolled": pytest.approx(2.586, rel=RTOL),
        "steel scrap": pytest.approx(0.862, rel=RTOL),
    }
    # AR5: fossil CH4 30 instead of 29.8 -> steel + 0.75 x 0.01 kg x 0.2 = 2.586 + 0.0015
    ar5 = {r.activity: r.kg_co2e for r in svc.all_footprints("small", "AR5", store=store())}
    assert ar5["ee000000-0000-4000-8000-000000000003"] == pytest.approx(2.5875, rel=RTOL)


# --- background factors ---------------------------------------------------------------------


def test_background_factor_by_id_and_name(small: svc.ImportResult):
    by_id = svc.background_factor(f"small:{WIDGET}", store=store())
    by_name = svc.background_factor(f"small@{small.version}:widget assembly", store=store())
    assert by_id == by_name
    assert by_id.id == f"small@{small.version}:{WIDGET}"
    assert by_id.unit == "kg"
    assert by_id.category == "material"
    assert by_id.geography == "US"
    assert by_id.licence.startswith("CC0")
    assert "jsonld_small" in by_id.source
    from openpcf.methods.gwp import gwp_set

    assert by_id.co2e(gwp_set("AR6").values) == pytest.approx(5.503, rel=RTOL)


def test_background_factor_errors(small: svc.ImportResult):
    with pytest.raises(UnknownFactorError, match="2 processes are called"):
        svc.background_factor("small:steel production, with scrap co-product", store=store())
    with pytest.raises(UnknownFactorError, match="Close matches: widget assembly"):
        svc.background_factor("small:widget asembly", store=store())
    with pytest.raises(InputError, match="must be '<database>"):
        svc.background_factor("small", store=store())


# --- CLI ------------------------------------------------------------------------------------

runner = CliRunner()


def test_cli_import_and_browse(home: Path):
    out = runner.invoke(import_app, ["jsonld", str(SMALL), "--name", "small"])
    assert out.exit_code == 0, out.output
    assert "Imported small@" in out.output
    assert "1 by same location" in out.output
    assert "unknown-unit" in out.output
    assert "kWh -> MJ x 3.6" in out.output
    again = runner.invoke(import_app, ["jsonld", str(SMALL), "--name", "small", "--json"])
    assert json.loads(again.output)["was_new"] is False
    listed = runner.invoke(db_app, ["list", "--json"])
    assert [d["name"] for d in json.loads(listed.output)] == ["small"]
    shown = runner.invoke(db_app, ["show", "small"])
    assert shown.exit_code == 0
    assert "CC0" in shown.output
    found = runner.invoke(db_app, ["search", "small", "steel", "--json"])
    assert {r["product"] for r in json.loads(found.output)} == {"steel, hot rolled", "steel scrap"}


def test_cli_footprints_csv(home: Path, tmp_path: Path):
    runner.invoke(import_app, ["jsonld", str(SMALL), "--name", "small"])
    out = runner.invoke(db_app, ["footprints", "small", "--gwp", "AR6", "--format", "csv"])
    assert out.exit_code == 0, out.output
    rows = list(csv.DictReader(io.StringIO(out.output)))
    assert list(rows[0]) == [
        "process_id",
        "name",
        "reference_product",
        "unit",
        "location",
        "reference_year",
        "fossil",
        "biogenic",
        "biogenic_uptake",
        "land_use_change",
        "kg_co2e",
        "lost_share",
        "flag",
    ]
    widget = next(r for r in rows if r["process_id"] == WIDGET)
    assert float(widget["kg_co2e"]) == pytest.approx(5.503, rel=RTOL)
    target = tmp_path / "fp.json"
    out = runner.invoke(db_app, ["footprints", "small", "-f", "json", "-o", str(target)])
    assert out.exit_code == 0
    assert len(json.loads(target.read_text("utf-8"))) == 7


def test_cli_errors_are_openpcf_errors(home: Path):
    out = runner.invoke(db_app, ["footprints", "nope"])
    assert isinstance(out.exception, DatabaseNotFoundError)


# --- real data ------------------------------------------------------------------------------


@pytest.mark.realdata
@pytest.mark.skipif(not USLCI.is_file(), reason=f"{USLCI} not present")
def test_uslci_imports_and_solves(home: Path):
    result = svc.import_database("jsonld", USLCI, name="uslci", store=store())
    report = result.report
    assert report["counts"] == {
        "processes": 766,
        "flows": 4601,
        "product_flows": 1659,
        "waste_flows": 24,
        "elementary_flows": 2918,
        "exchanges": 32526,
        "activities": 766,
        "technosphere_entries": 4238,  # 4105 before the bundled diesel default
        "intervention_entries": 1044,
        "processes_skipped": 0,
    }
    # 134 of the 135 ambiguous inputs are "Diesel, at refinery", linked by the bundled default
    assert report["linked"] == {"unique producer": 3590, "bundled default": 134}
    assert {k: v["count"] for k, v in report["unlinked"].items()} == {
        "no provider": 2829,
        "co-product without allocation factors": 256,
        "ambiguous: 2 producers": 1,
    }
    assert report["bundled_defaults"]["Diesel, at refinery"]["count"] == 134
    # USLCI's unit group gives 1 cu ft = 0.02 m3; pint (and the definition) 0.0283168
    assert {k: v["count"] for k, v in report["problems"].items()} == {"suspicious-unit": 1}
    assert report["reference_years"] == {"known": 740, "unknown": 26, "range": [1900, 2022]}
    assert "kWh -> MJ x 3.6 (1661 exchanges)" in report["unit_conversions"]
    assert report["elementary"]["mapped_flows"]["CO2-fossil"] == 9
    rows = svc.all_footprints("uslci", "AR6", store=store())
    assert len(rows) == 766
    assert all(math.isfinite(r.kg_co2e) for r in rows)
    srvc = next(r for r in rows if r.name == "Electricity, at eGrid, SRVC, 2010")
    assert srvc.unit == "MJ"
    # 0.582 kg CO2e/kWh; 0.15916 (0.573) while its diesel inputs were cut as ambiguous: the
    # refinery diesel now linked by the bundled default adds the rest
    assert srvc.kg_co2e == pytest.approx(0.161616, rel=1e-4)
    assert not svc.import_database("jsonld", USLCI, name="uslci", store=store()).was_new


@pytest.mark.realdata
@pytest.mark.skipif(not TIANGONG.is_file(), reason=f"{TIANGONG} not present")
def test_tiangong_imports_and_solves(home: Path):
    pytest.importorskip("openpcf.io.ilcd", reason="the ILCD reader is not in this build")
    result = svc.import_database("ilcd", TIANGONG, name="tiangong", store=store())
    report = result.report
    # counts as read by openpcf.io.ilcd.read_ilcd at the time of writing. Since a process
    # whose reference is a product *input* no longer provides that product (linking) and EF's
    # fossil CO2 from air is no longer uptake: 74 fewer A entries (wrong links gone), 8 fewer
    # B entries, and 2 processes that linked their reference input to themselves now solve.
    assert report["counts"] == {
        "processes": 4133,
        "flows": 3021,
        "product_flows": 2432,
        "waste_flows": 65,
        "elementary_flows": 524,
        "exchanges": 68085,
        "activities": 3847,
        "technosphere_entries": 5338,  # 4388 before the same-location and default rules
        "intervention_entries": 1090,
        "processes_skipped": 286,
    }
    # dirty data is reported, not fatal: flows that are missing or not referenced by UUID
    assert {k: v["count"] for k, v in report["problems"].items()} == {
        "bad-reference": 153,
        "malformed": 89,
        "missing-flow": 4392,
        "no-reference": 137,
        "unknown-unit": 155,
        "unmapped-elementary": 5,  # + 2 "carbon dioxide (fossil)" resources from air
    }
    # 147 CEEIO sector processes (their inputs are whole-sector totals for an output of
    # 10,000 CNY: the data is not normalised, see docs/databases.md) and 2 others use more of
    # their own reference flow than they make
    assert {k: v["count"] for k, v in report["skipped"].items()} == {
        "no net output (uses as much of its reference product as it makes)": 149,
        "no usable quantitative reference": 137,
    }
    # same location (916: provincial grid mixes above all) and the bundled national grid mix
    # (134) link 1,050 of the 2,367 inputs that were cut as ambiguous
    assert report["linked"] == {
        "unique producer": 560,
        "same location": 916,
        "bundled default": 134,
    }
    ambiguous = sum(v["count"] for k, v in report["unlinked"].items() if k.startswith("ambig"))
    assert ambiguous == 1317
    assert report["reference_years"]["unknown"] == 250
    rows = svc.all_footprints("tiangong", "AR6", store=store())
    assert len(rows) == report["counts"]["activities"]
    assert all(math.isfinite(r.kg_co2e) for r in rows)
    assert any(r.name_zh for r in rows)
    assert svc.search_processes("tiangong", "水泥", store=store())
