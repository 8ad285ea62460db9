"""Factor sets: bundled data, loaders and their errors, search, merging and grid fallback."""

from __future__ import annotations

import json
import pickle
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from openpcf.cli import factors as factors_cli
from openpcf.errors import FactorSetError, InputError, UnknownFactorError
from openpcf.factors import (
    Factor,
    FactorSet,
    bundled_factor_set,
    grid_electricity,
    load_factor_set,
)
from openpcf.methods.gwp import gwp_set

HEADER = "id,name,name_zh,unit,category,geography,year,source,licence,gwp_basis,illustrative,notes"
GOOD_ROW = (
    "my.steel.coil,Steel coil,钢卷,kg,material,CN-HE,2024,Supplier EPD 2024,CC-BY-4.0,AR6,false,"
)


def _csv(tmp_path: Path, *rows: str, gases: str = "CO2-fossil,CH4-fossil") -> Path:
    path = tmp_path / "mine.csv"
    path.write_text("\n".join([f"{HEADER},{gases}", *rows]) + "\n", encoding="utf-8")
    return path


# --- bundled data -------------------------------------------------------------------------


def test_bundled_set_loads_with_provenance_everywhere() -> None:
    fs = bundled_factor_set()
    assert len(fs) > 100
    for f in fs.factors.values():
        assert all((f.source, f.licence, f.unit, f.geography)), f.id
        assert 1900 < f.year < 2100
        if f.illustrative:
            assert "illustrative: no open figure found" in f.notes


def test_other_bituminous_coal_per_kg() -> None:
    """IPCC 2006: NCV 25.8 TJ/Gg = 25.8e-6 TJ/kg; EF CO2 94600, CH4 1, N2O 1.5 kg/TJ.

    CO2 = 25.8e-6 * 94600 = 2.44068 kg/kg; CH4 = 25.8e-6 kg; N2O = 25.8e-6 * 1.5 = 3.87e-5 kg.
    AR6 CO2e = 2.44068 + 2.58e-5 * 29.8 + 3.87e-5 * 273 = 2.44068 + 0.00076884 + 0.0105651
             = 2.45201394 kg CO2e/kg.
    """
    f = bundled_factor_set().get("ipcc2006.fuel.other-bituminous-coal.kg")
    assert f.emissions["CO2-fossil"] == pytest.approx(2.44068, rel=1e-12)
    assert f.emissions["CH4-fossil"] == pytest.approx(2.58e-5, rel=1e-12)
    assert f.emissions["N2O"] == pytest.approx(3.87e-5, rel=1e-12)
    assert f.ncv_mj_per_kg == 25.8
    assert f.co2e(gwp_set("AR6").values) == pytest.approx(2.45201394, rel=1e-9)


def test_diesel_per_gj_is_ef_over_1000() -> None:
    """Gas/diesel oil: 74100 kg CO2/TJ = 74.1 kg/GJ; CH4 3 -> 0.003; N2O 0.6 -> 0.0006."""
    f = bundled_factor_set().get("ipcc2006.fuel.gas-diesel-oil.gj")
    assert dict(f.emissions) == pytest.approx(
        {"CO2-fossil": 74.1, "CH4-fossil": 0.003, "N2O": 0.0006}
    )


@pytest.mark.parametrize(
    ("factor_id", "gas", "value"),
    [
        ("cn.grid.co2.2021.national", "CO2-fossil", 0.5568),
        ("cn.grid.co2.2022.national", "CO2-fossil", 0.5366),
        ("cn.grid.co2.2023.national", "CO2-fossil", 0.5306),
        ("cn.grid.co2.2022.national.excl-market-nonfossil", "CO2-fossil", 0.5856),
        ("cn.grid.co2.2023.national.fossil", "CO2-fossil", 0.8273),
        ("cn.grid.co2.2023.grid.north", "CO2-fossil", 0.6361),
        ("cn.grid.co2.2022.grid.southwest", "CO2-fossil", 0.2268),
        ("cn.grid.co2.2022.province.hebei", "CO2-fossil", 0.7252),
        ("cn.grid.co2.2022.province.yunnan", "CO2-fossil", 0.1073),
        ("cn.grid.co2.2021.province.inner-mongolia", "CO2-fossil", 0.7025),
        ("cn.electricity.footprint.2023.national", "CO2e", 0.6205),
        ("cn.electricity.footprint.2023.tech.pv", "CO2e", 0.0545),
    ],
)
def test_grid_values(factor_id: str, gas: str, value: float) -> None:
    assert bundled_factor_set().get(factor_id).emissions[gas] == value


def test_unsourced_2021_excl_market_value_is_not_bundled() -> None:
    """0.5942 is tagged ⚠R (unverified) in the reference notes, so it is left out."""
    assert "cn.grid.co2.2021.national.excl-market-nonfossil" not in bundled_factor_set()


# --- FactorSet ----------------------------------------------------------------------------


def test_unknown_id_names_sets_and_close_matches() -> None:
    with pytest.raises(UnknownFactorError) as info:
        bundled_factor_set().get("cn.grid.co2.2022.province.hebie")
    message = str(info.value)
    assert "hebie" in message
    assert "cn_grid_co2" in message
    assert "'cn.grid.co2.2022.province.hebei'" in message


def test_search_english_and_chinese() -> None:
    fs = bundled_factor_set()
    english = {f.id for f in fs.search("hebei 2022")}
    assert english == {"cn.grid.co2.2022.province.hebei"}
    chinese = {f.id for f in fs.search("河北")}
    assert chinese == {
        "cn.grid.co2.2021.province.hebei",
        "cn.grid.co2.2022.province.hebei",
        "cn.tiangong.electricity.mix.hebei",  # the derived TianGong set (docs/factors.md)
    }
    assert [f.id for f in fs.search("无烟煤 千克")] == ["ipcc2006.fuel.anthracite.kg"]


def test_search_filters() -> None:
    fs = bundled_factor_set()
    found = fs.search("", category="electricity", geography="cn-grid-north", year=2023)
    assert [f.id for f in found] == ["cn.grid.co2.2023.grid.north"]
    assert fs.search("coal", category="material") == []


def test_set_is_immutable_hashable_and_picklable() -> None:
    fs = bundled_factor_set()
    with pytest.raises(AttributeError):
        fs.name = "x"  # type: ignore[misc]
    with pytest.raises(TypeError):
        fs.factors["x"] = fs.get("cn.grid.co2.2022.national")  # type: ignore[index]
    assert len(fs.content_hash) == 64
    copy = pickle.loads(pickle.dumps(fs))
    assert copy.content_hash == fs.content_hash
    assert copy.get("cn.grid.co2.2022.national") == fs.get("cn.grid.co2.2022.national")


def test_hash_changes_with_content(tmp_path: Path) -> None:
    a = load_factor_set(_csv(tmp_path, GOOD_ROW + ",1.5,"))
    b = load_factor_set(_csv(tmp_path, GOOD_ROW + ",1.6,"))
    assert a.content_hash != b.content_hash


def test_merge_refuses_duplicate_ids_naming_both_sets(tmp_path: Path) -> None:
    row = GOOD_ROW.replace("my.steel.coil", "cn.grid.co2.2022.national")
    user = load_factor_set(_csv(tmp_path, row + ",0.5,"))
    with pytest.raises(FactorSetError, match=r"cn_grid_co2.*mine"):
        bundled_factor_set().merged(user)


def test_merge_combines(tmp_path: Path) -> None:
    user = load_factor_set(_csv(tmp_path, GOOD_ROW + ",1.5,"))
    merged = bundled_factor_set().merged(user)
    assert len(merged) == len(bundled_factor_set()) + 1
    assert "mine" in merged.set_names
    assert merged.get("my.steel.coil").set_name == "mine"


# --- loaders ------------------------------------------------------------------------------


def test_csv_loader_reads_amounts_and_empty_cells(tmp_path: Path) -> None:
    fs = load_factor_set(_csv(tmp_path, GOOD_ROW + ",1.5,"))
    f = fs.get("my.steel.coil")
    assert dict(f.emissions) == {"CO2-fossil": 1.5}
    assert (f.name_zh, f.gwp_basis, f.illustrative, f.year) == ("钢卷", "AR6", False, 2024)


def test_yaml_loader(tmp_path: Path) -> None:
    path = tmp_path / "mine.yaml"
    path.write_text(
        """
factors:
  - id: my.h2.stack
    name: Electrolyser stack
    unit: piece
    category: material
    geography: CN-NM
    year: 2024
    source: Supplier data sheet 2024
    licence: proprietary, used with permission
    illustrative: true
    emissions: {CO2e: 1200}
""",
        encoding="utf-8",
    )
    f = load_factor_set(path).get("my.h2.stack")
    assert (f.unit, f.illustrative, dict(f.emissions)) == ("piece", True, {"CO2e": 1200.0})


@pytest.mark.parametrize(
    ("row", "gases", "pattern"),
    [
        (GOOD_ROW.replace("Supplier EPD 2024", "") + ",1,", None, r"line 2.*'source'"),
        (GOOD_ROW.replace("CC-BY-4.0", "") + ",1,", None, r"line 2.*'licence'"),
        (GOOD_ROW + ",1,", "CO2-fossil,CH4", r"line 1.*\['CH4'\].*gas"),
        (GOOD_ROW.replace(",kg,", ",bananas,") + ",1,", None, r"line 2.*unit 'bananas'"),
        (GOOD_ROW + ",lots,", None, r"line 2.*'lots', not a number"),
        (GOOD_ROW + ",nan,", None, r"line 2.*finite"),
        (GOOD_ROW + ",-1,", None, r"line 2.*negative"),
        (GOOD_ROW.replace(",2024,", ",20x4,") + ",1,", None, r"line 2.*year"),
        (GOOD_ROW + ",,", None, r"line 2.*no gas amount"),
        (GOOD_ROW.replace("my.steel.coil", "My Steel") + ",1,", None, r"line 2.*lowercase"),
    ],
)
def test_csv_errors_name_file_and_row(
    tmp_path: Path, row: str, gases: str | None, pattern: str
) -> None:
    path = _csv(tmp_path, row, gases=gases or "CO2-fossil,CH4-fossil")
    with pytest.raises(FactorSetError, match=pattern) as info:
        load_factor_set(path)
    assert str(path) in str(info.value)


def test_duplicate_id_names_both_rows(tmp_path: Path) -> None:
    path = _csv(tmp_path, GOOD_ROW + ",1,", GOOD_ROW + ",2,")
    with pytest.raises(FactorSetError, match=r"mine\.csv line 3.*already used at .*line 2"):
        load_factor_set(path)


def test_yaml_errors_name_index_and_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.yml"
    path.write_text(
        "factors:\n"
        "  - id: a.b\n    name: A\n    unit: kg\n    category: material\n    geography: CN\n"
        "    year: 2024\n    source: S\n    licence: L\n    emissions: {CO2e: 1}\n"
        "  - id: a.c\n    name: C\n    unit: kg\n    category: material\n    geography: CN\n"
        "    year: 2024\n    licence: L\n    emissions: {CO2e: 1}\n",
        encoding="utf-8",
    )
    with pytest.raises(FactorSetError, match=r"bad\.yml factors\[1\] \(line 11\).*'source'"):
        load_factor_set(path)


def test_unsupported_suffix(tmp_path: Path) -> None:
    path = tmp_path / "mine.xlsx"
    path.write_text("", encoding="utf-8")
    with pytest.raises(FactorSetError, match="suffix"):
        load_factor_set(path)


def test_factor_freezes_its_amounts() -> None:
    amounts = {"CO2e": 1.0}
    f = Factor(
        id="a.b",
        name="A",
        unit="kg",
        emissions=amounts,
        category="other",
        geography="GLO",
        year=2024,
        source="S",
        licence="L",
    )
    amounts["CO2e"] = 2.0
    assert f.emissions["CO2e"] == 1.0
    assert pickle.loads(pickle.dumps(f)) == f
    assert FactorSet("x", [f]).get("a.b") is f


# --- grid fallback ------------------------------------------------------------------------


def test_grid_province_present() -> None:
    choice = grid_electricity(geography="CN-HE", year=2022, factors=bundled_factor_set())
    assert choice.factor.id == "cn.grid.co2.2022.province.hebei"
    assert choice.used_level == "province"
    assert choice.fallback_note == "exact match: Hebei (CN-HE) province 2022"


@pytest.mark.parametrize("spelling", ["CN-HE", "cn-he", "Hebei", "hebei", "河北"])
def test_grid_province_missing_in_2023_falls_back_to_north_grid(spelling: str) -> None:
    choice = grid_electricity(geography=spelling, year=2023, factors=bundled_factor_set())
    assert choice.factor.id == "cn.grid.co2.2023.grid.north"
    assert choice.factor.emissions["CO2-fossil"] == 0.6361
    assert choice.used_level == "regional grid"
    assert choice.requested == spelling
    assert "no 2023 factor for Hebei (CN-HE)" in choice.fallback_note
    assert "North China grid 2023" in choice.fallback_note


def test_inner_mongolia_maps_to_north() -> None:
    choice = grid_electricity(geography="Inner Mongolia", year=2023, factors=bundled_factor_set())
    assert choice.factor.id == "cn.grid.co2.2023.grid.north"


def test_tibet_has_no_provincial_factor() -> None:
    choice = grid_electricity(geography="CN-XZ", year=2022, factors=bundled_factor_set())
    assert choice.factor.id == "cn.grid.co2.2022.grid.southwest"


def test_unknown_geography_is_an_input_error() -> None:
    with pytest.raises(InputError, match="Atlantis"):
        grid_electricity(geography="Atlantis", year=2022, factors=bundled_factor_set())


def test_unknown_basis() -> None:
    with pytest.raises(InputError, match="basis"):
        grid_electricity(geography="CN", year=2022, factors=bundled_factor_set(), basis="x")


def test_year_after_latest_uses_latest_and_says_so() -> None:
    choice = grid_electricity(geography="CN", year=2030, factors=bundled_factor_set())
    assert choice.factor.id == "cn.grid.co2.2023.national"
    assert "no 2030 factor" in choice.fallback_note
    assert "used national (CN) 2023" in choice.fallback_note


def test_earlier_year_prefers_the_province() -> None:
    """Pass 2 (latest earlier year) keeps the province order: Hebei 2022 beats North 2023."""
    choice = grid_electricity(geography="CN-HE", year=2025, factors=bundled_factor_set())
    assert choice.factor.id == "cn.grid.co2.2022.province.hebei"
    assert "2022" in choice.fallback_note


def test_year_before_earliest_uses_earliest_later() -> None:
    choice = grid_electricity(geography="CN-GRID-SOUTH", year=2015, factors=bundled_factor_set())
    assert choice.factor.id == "cn.grid.co2.2021.grid.south"
    assert "earliest later" in choice.fallback_note


def test_footprint_basis_only_national_2023() -> None:
    choice = grid_electricity(
        geography="CN-HE", year=2023, factors=bundled_factor_set(), basis="footprint"
    )
    assert choice.factor.id == "cn.electricity.footprint.2023.national"
    assert choice.factor.emissions["CO2e"] == 0.6205
    assert choice.used_level == "national"
    assert "only national electricity carbon-footprint factors" in choice.fallback_note


def test_no_factor_at_all(tmp_path: Path) -> None:
    empty = load_factor_set(_csv(tmp_path, GOOD_ROW + ",1,"))
    with pytest.raises(UnknownFactorError, match=r"cn\.grid\.co2\.2022\.national"):
        grid_electricity(geography="CN-HE", year=2022, factors=empty)


# --- CLI ----------------------------------------------------------------------------------

_app = typer.Typer()
_app.add_typer(factors_cli.app, name="factors")
runner = CliRunner()


def test_cli_search_table() -> None:
    result = runner.invoke(_app, ["factors", "search", "hebei", "--year", "2022"])
    assert result.exit_code == 0, result.output
    assert "cn.grid.co2.2022.province.hebei" in result.output


def test_cli_search_json_gives_ar6_co2e() -> None:
    result = runner.invoke(_app, ["factors", "search", "other bituminous", "--json"])
    assert result.exit_code == 0, result.output
    rows = {row["id"]: row for row in json.loads(result.output)}
    coal = rows["ipcc2006.fuel.other-bituminous-coal.kg"]
    assert coal["kg_co2e_per_unit_ar6"] == pytest.approx(2.45201394, rel=1e-9)


def test_cli_show_warns_for_illustrative() -> None:
    result = runner.invoke(_app, ["factors", "show", "material.battery.lfp-cathode"])
    assert result.exit_code == 0, result.output
    assert "illustrative" in result.output
    assert "Warning" in result.output


def test_cli_show_json_with_user_set(tmp_path: Path) -> None:
    path = _csv(tmp_path, GOOD_ROW + ",1.5,0.01")
    result = runner.invoke(
        _app, ["factors", "show", "my.steel.coil", "--json", "--factors", str(path)]
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["set_name"] == "mine"
    assert data["kg_co2e_per_unit_ar6"] == pytest.approx(1.5 + 0.01 * 29.8)


def test_cli_show_unknown_id_raises_the_library_error() -> None:
    result = runner.invoke(_app, ["factors", "show", "no.such.factor"])
    assert isinstance(result.exception, UnknownFactorError)
