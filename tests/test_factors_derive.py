"""``openpcf factors derive``: factor rows from imported databases, and the bundled derived set.

Hand-worked values (AR6: CH4 fossil 29.8), from the footprints derived in
``tests/test_linking.py`` (``jsonld_small``) and ``tests/test_ilcd.py`` (``ilcd_small``):

- US grid electricity: 1 kWh = 3.6 MJ emits 0.36 kg CO2, so 0.1 kg CO2-fossil per MJ; it cuts
  nothing, so its lost share is 0.
- steel (physical allocation 0.75 steel / 0.25 scrap) of 10 MJ US electricity (1.0 kg CO2),
  2 kg CO2, 0.01 kg CH4 and 0.5 kg slag to treatment (0.2 kg CO2 + 1 MJ US electricity = 0.3):
  CO2-fossil 0.75 x (1.0 + 2.0 + 0.5 x 0.3) = 2.3625 kg, CH4-fossil 0.75 x 0.01 = 0.0075 kg,
  2.3625 + 0.0075 x 29.8 = 2.586 kg CO2e per kg.
- ILCD cement (``...006``): 0.8 kg CO2-fossil and 1e-8 kg CF4 per kg; its lost share is the
  one the import estimated (``openpcf.io.cut_share``), carried unchanged.

The fixtures state no reference year, so each test imports a copy with one written in.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from openpcf.cli.main import app
from openpcf.errors import FactorSetError, UnknownProcessError
from openpcf.factors import bundled_factor_set, load_factor_set
from openpcf.factors.derive import read_selection, render_derived_csv
from openpcf.io.store import DatabaseNotFoundError, DatabaseStore
from openpcf.services import databases as svc
from openpcf.services.derive import derive_factor_set, licence_text
from openpcf.settings import get_settings

FIXTURES = Path(__file__).parent / "fixtures"
DATA = Path(__file__).parents[1] / "src" / "openpcf" / "factors" / "data"
SHARED = Path(__file__).parents[2] / "shared" / "data"
US_GRID = "ee000000-0000-4000-8000-000000000001"
STEEL = "ee000000-0000-4000-8000-000000000003"
WIDGET = "ee000000-0000-4000-8000-000000000006"
CEMENT = "11111111-0000-4000-8000-000000000006"
HEADER = (
    "id,family,category,name,name_zh,aliases_en,aliases_zh,database,process,"
    "expected_min,expected_max,range_source,why\n"
)
runner = CliRunner()


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[DatabaseStore]:
    monkeypatch.setenv("OPENPCF_HOME", str(tmp_path / "home"))
    get_settings.cache_clear()
    yield DatabaseStore(get_settings().databases_dir)
    get_settings.cache_clear()


def _jsonld_with_years(tmp_path: Path, *, drop_reference: str = "") -> Path:
    """``jsonld_small`` with ``validFrom`` 2015 on every process (``drop_reference``: that
    process loses its quantitative reference)."""
    copy = tmp_path / "jsonld_small"
    shutil.copytree(FIXTURES / "jsonld_small", copy)
    for path in (copy / "processes").glob("*.json"):
        data = json.loads(path.read_text("utf-8"))
        data["processDocumentation"] = {"validFrom": "2015-01-01T00:00:00Z"}
        if data["@id"] == drop_reference:
            for exchange in data["exchanges"]:
                exchange.pop("quantitativeReference", None)
                exchange.pop("isQuantitativeReference", None)
        path.write_text(json.dumps(data), encoding="utf-8")
    return copy


def _ilcd_with_years(tmp_path: Path) -> Path:
    copy = tmp_path / "ilcd_small"
    shutil.copytree(FIXTURES / "ilcd_small", copy)
    for path in (copy / "ILCD" / "processes").glob("*.xml"):
        text = path.read_text("utf-8")
        year = "<time><common:referenceYear>2019</common:referenceYear></time>"
        path.write_text(text.replace("<geography>", f"{year}<geography>", 1), encoding="utf-8")
    return copy


def _small(store: DatabaseStore, tmp_path: Path, **kwargs: str) -> None:
    svc.import_database("jsonld", _jsonld_with_years(tmp_path, **kwargs), name="small", store=store)


def _selection(tmp_path: Path, *lines: str) -> Path:
    path = tmp_path / "select.csv"
    path.write_text(HEADER + "".join(f"{line}\n" for line in lines), encoding="utf-8")
    return path


def _steel_activity(store: DatabaseStore) -> str:
    return next(
        c.id
        for c in store.get("small").columns()
        if c.process_id == STEEL and c.product == "steel, hot rolled"
    )


def test_selected_rows_carry_hand_worked_gases_and_provenance(
    store: DatabaseStore, tmp_path: Path
) -> None:
    _small(store, tmp_path)
    steel = _steel_activity(store)
    path = _selection(
        tmp_path,
        f"us.small.electricity.grid,electricity,electricity,US grid,美国电网,grid power,"
        f"电网,small,{US_GRID},0.05,0.2,test band,the only US grid",
        f"us.small.steel.hot-rolled,steel,material,Steel,钢,HRC,热卷,small,{steel},,,,test",
        "cn.gap.copper,copper,material,Copper cathode,阴极铜,,,,,,,,no open source",
    )
    derived = derive_factor_set(["small"], read_selection(path), store=store)
    assert [g.id for g in derived.gaps] == ["cn.gap.copper"]
    out = tmp_path / "derived.csv"
    out.write_text(render_derived_csv(derived.rows), encoding="utf-8")
    factors = load_factor_set(out)
    grid = factors.get("us.small.electricity.grid")
    assert dict(grid.emissions) == {"CO2-fossil": pytest.approx(0.1, rel=1e-12)}
    assert (grid.unit, grid.geography, grid.year, grid.category) == (
        "MJ",
        "US",
        2015,
        "electricity",
    )
    assert grid.licence.startswith("CC0 1.0: hand-written test data")
    assert "grid power; 电网" in grid.notes
    assert "selected because: the only US grid" in grid.notes
    hrc = factors.get("us.small.steel.hot-rolled")
    assert dict(hrc.emissions) == {
        "CO2-fossil": pytest.approx(2.3625, rel=1e-12),
        "CH4-fossil": pytest.approx(0.0075, rel=1e-12),
    }
    assert "AR6 2.586 kg CO2e" in hrc.notes
    with out.open(encoding="utf-8") as fh:
        rows = {r["id"]: r for r in csv.DictReader(fh)}
    version = store.get("small").version
    assert rows["us.small.electricity.grid"]["database"] == "small"
    assert rows["us.small.electricity.grid"]["database_version"] == version
    assert rows["us.small.electricity.grid"]["process_uuid"] == US_GRID
    assert rows["us.small.electricity.grid"]["lost_share"] == "0.000"
    assert rows["us.small.steel.hot-rolled"]["process_uuid"] == STEEL
    assert "no --rules file" in rows["us.small.steel.hot-rolled"]["linking_rules"]
    assert "=== small ===\n\nCC0 1.0" in licence_text(derived)


def test_derivation_is_byte_identical(store: DatabaseStore, tmp_path: Path) -> None:
    _small(store, tmp_path)
    first = render_derived_csv(derive_factor_set(["small"], None, store=store).rows)
    second = render_derived_csv(derive_factor_set(["small"], None, store=store).rows)
    assert first == second
    assert first.splitlines()[1].startswith("small.")  # sorted by id, "<database>.<activity>"


def test_ilcd_without_selection_gives_every_activity(store: DatabaseStore, tmp_path: Path) -> None:
    svc.import_database("ilcd", _ilcd_with_years(tmp_path), name="ilcdsmall", store=store)
    derived = derive_factor_set(["ilcdsmall"], None, store=store)
    cement = next(r for r in derived.rows if r.process_uuid == CEMENT)
    assert cement.id == f"ilcdsmall.{CEMENT}"
    assert cement.year == 2019
    assert cement.geography == "CN"
    assert dict(cement.emissions) == {
        "CO2-fossil": pytest.approx(0.8, rel=1e-12),
        "CF4": pytest.approx(1e-8, rel=1e-12),
    }
    stored = next(c for c in store.get("ilcdsmall").columns() if c.process_id == CEMENT)
    assert cement.lost_share == stored.lost_share  # the import's estimate, carried as is


def test_unknown_process_is_named(store: DatabaseStore, tmp_path: Path) -> None:
    _small(store, tmp_path)
    path = _selection(
        tmp_path, "x.small.a,steel,material,A,,,,small,00000000-0000-4000-8000-00000000dead,,,,t"
    )
    with pytest.raises(UnknownProcessError, match=r"line 2 \(x\.small\.a\).*no activity"):
        derive_factor_set(["small"], read_selection(path), store=store)


def test_process_without_reference_product_is_named(store: DatabaseStore, tmp_path: Path) -> None:
    _small(store, tmp_path, drop_reference=WIDGET)
    path = _selection(tmp_path, f"x.small.widget,other,material,Widget,,,,small,{WIDGET},,,,t")
    with pytest.raises(UnknownProcessError, match="usable reference product"):
        derive_factor_set(["small"], read_selection(path), store=store)


def test_co_product_by_activity_id(store: DatabaseStore, tmp_path: Path) -> None:
    """The scrap co-product carries 0.25 of the steel process: CO2-fossil 0.25 x 3.15 =
    0.7875 kg, CH4-fossil 0.25 x 0.01 = 0.0025 kg per kg."""
    _small(store, tmp_path)
    scrap = next(c.id for c in store.get("small").columns() if c.product == "steel scrap")
    assert scrap.startswith(f"{STEEL}#")
    path = _selection(tmp_path, f"x.small.scrap,steel,material,Scrap,,,,small,{scrap},,,,t")
    (row,) = derive_factor_set(["small"], read_selection(path), store=store).rows
    assert row.process_uuid == STEEL
    assert dict(row.emissions) == {
        "CO2-fossil": pytest.approx(0.7875, rel=1e-12),
        "CH4-fossil": pytest.approx(0.0025, rel=1e-12),
    }


def test_value_outside_its_plausible_range_is_refused(store: DatabaseStore, tmp_path: Path) -> None:
    _small(store, tmp_path)
    path = _selection(
        tmp_path, f"x.small.grid,electricity,electricity,G,,,,small,{US_GRID},0.2,0.3,band,t"
    )
    with pytest.raises(FactorSetError, match=r"0\.1 kg CO2e \(AR6\) per MJ, outside"):
        derive_factor_set(["small"], read_selection(path), store=store)


def test_database_not_imported_and_not_given(store: DatabaseStore, tmp_path: Path) -> None:
    with pytest.raises(DatabaseNotFoundError):
        derive_factor_set(["nosuchdb"], None, store=store)
    _small(store, tmp_path)
    path = _selection(tmp_path, f"x.other.grid,electricity,electricity,G,,,,other,{US_GRID},,,,t")
    with pytest.raises(FactorSetError, match="'other' is not among the databases given"):
        derive_factor_set(["small"], read_selection(path), store=store)


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("x.a,steel,material,A,,,,small,,,,,t", "give both 'database' and 'process'"),
        ("x.a,steel,metal,A,,,,,,,,,t", "category 'metal' is unknown"),
        ("x.a,steel,material,A,,,,,,1,,,t", "expected_min <= expected_max"),
        ("x.a,steel,material,A,,,,,,1,2,,t", "needs its range_source"),
        ("x.a,steel,material,A,,,,,,,,,", "column 'why' is empty"),
    ],
)
def test_bad_selection_rows(tmp_path: Path, line: str, message: str) -> None:
    with pytest.raises(FactorSetError, match=message):
        read_selection(_selection(tmp_path, line))


def test_duplicate_selection_id(tmp_path: Path) -> None:
    row = "x.a,steel,material,A,,,,,,,,,t"
    with pytest.raises(FactorSetError, match="already used on line 2"):
        read_selection(_selection(tmp_path, row, row))


def test_cli_derives_and_fails_cleanly(store: DatabaseStore, tmp_path: Path) -> None:
    _small(store, tmp_path)
    out = tmp_path / "set.csv"
    ok = runner.invoke(app, ["factors", "derive", "small", "-o", str(out)])
    assert ok.exit_code == 0, ok.output
    assert (tmp_path / "set.licences.txt").read_text("utf-8").count("=== small ===") == 1
    assert len(load_factor_set(out)) >= 4
    bad = subprocess.run(
        [sys.executable, "-m", "openpcf", "factors", "derive", "nosuchdb"],
        capture_output=True,
        text=True,
        env={**os.environ, "OPENPCF_HOME": str(get_settings().home)},
        check=False,
    )
    assert bad.returncode != 0
    assert "No background database 'nosuchdb'" in bad.stderr
    assert "Traceback" not in bad.stderr


def test_bundled_derived_set_matches_its_curation() -> None:
    """Every curated material with a process has exactly one bundled row, with its provenance
    columns; the loader takes the file as an ordinary part of the bundled set."""
    picks = read_selection(DATA / "_derived_selection.csv")
    with (DATA / "cn_derived_tiangong_uslci.csv").open(encoding="utf-8") as fh:
        rows = {r["id"]: r for r in csv.DictReader(fh)}
    covered = {p.id: p for p in picks if p.covered}
    assert rows.keys() == covered.keys()
    assert len(rows) >= 150
    for fid, row in rows.items():
        assert row["process_uuid"] == covered[fid].process.split("#")[0]
        assert row["database"] == covered[fid].database
        assert len(row["database_version"]) == 12
    bundled = bundled_factor_set()
    assert "cn_derived_tiangong_uslci" in bundled.set_names
    assert bundled.get("cn.tiangong.steel.hot-rolled-coil").year == 2006


@pytest.mark.realdata
@pytest.mark.slow
def test_bundled_set_rederives_identically(store: DatabaseStore, tmp_path: Path) -> None:
    """Import TianGong and USLCI from ../shared/data and re-derive: the same bytes."""
    tiangong = SHARED / "tiangong-lca-data-a55b302.zip"
    uslci = SHARED / "uslci-olca1.5-json-ld-9182448.zip"
    if not (tiangong.exists() and uslci.exists()):
        pytest.skip("the real databases are not in ../shared/data")
    svc.import_database("ilcd", tiangong, name="tiangong", store=store)
    svc.import_database("jsonld", uslci, name="uslci", store=store)
    derived = derive_factor_set(
        ["tiangong", "uslci"], read_selection(DATA / "_derived_selection.csv"), store=store
    )
    bundled = DATA / "cn_derived_tiangong_uslci.csv"
    assert render_derived_csv(derived.rows) == bundled.read_text("utf-8")
    licences = DATA / "cn_derived_tiangong_uslci.licences.txt"
    assert licence_text(derived) == licences.read_text("utf-8")
