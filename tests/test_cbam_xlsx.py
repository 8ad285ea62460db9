"""The communication in the Commission's template: opened with openpyxl as an importer's tool
opens it, it keeps the template's sheets, names, validations, protection and formats, holds
our values in the template's cells (CN names whole, numbers unrounded in the template's number
formats, zeros entered), and a workbook that is not the template is refused cleanly."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import warnings
from datetime import datetime
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook, load_workbook

from fixtures.in_process import openpcf as openpcf_in_process
from openpcf.cbam import (
    build_communication,
    calculate_installation,
    load_installation,
    read_xlsx,
    template_path,
    write_xlsx,
)
from openpcf.cbam.errors import CbamError, TemplateError
from openpcf.cbam.xlsx import QUALIFYING_COLUMNS, TEMPLATE_MAP

EXAMPLES = Path(__file__).parents[1] / "examples" / "cbam"
SC = "Summary_Communication"
SHA256 = "5a4e28fdbccfdca45a2c0520184b551a20c0c7bba3db79f87d78c9e58a6c0917"
LONG_NAME = "Hot-rolled coil for the importer's ERP, " * 12  # 480 characters


def _open(path: Path, *, data_only: bool = False) -> Any:
    with warnings.catch_warnings():  # the template's x14 extensions are "not supported"
        warnings.simplefilter("ignore", UserWarning)
        return load_workbook(path, data_only=data_only)


@pytest.fixture(scope="module")
def template() -> Any:
    return _open(template_path())


@pytest.fixture(scope="module")
def template_values() -> Any:
    """The shipped template's stored formula results (what Excel last computed)."""
    return _open(template_path(), data_only=True)


@pytest.fixture(scope="module")
def steel_values(steel: tuple[dict[str, Any], Path]) -> Any:
    return _open(steel[1], data_only=True)


@pytest.fixture(scope="module")
def steel(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], Path]:
    """The steel example through the entry point: ``openpcf cbam calc -f xlsx``."""
    target = tmp_path_factory.mktemp("steel") / "communication.xlsx"
    source = str(EXAMPLES / "steel_bf_bof_tianjin.yaml")
    out = openpcf_in_process("cbam", "calc", source, "-f", "xlsx", "-o", str(target))
    assert out.returncode == 0, out.stderr
    out = openpcf_in_process("cbam", "calc", source, "-f", "json")
    return json.loads(out.stdout), target


@pytest.fixture(scope="module")
def aluminium(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], Path]:
    """The aluminium example, its product renamed with a 480-character name."""
    result = calculate_installation(load_installation(EXAMPLES / "aluminium_smelter_xinjiang.yaml"))
    communication = build_communication(result)
    communication["products"][0]["product_name"] = LONG_NAME
    target = tmp_path_factory.mktemp("aluminium") / "communication.xlsx"
    write_xlsx(communication, target)
    return communication, target


def test_shipped_template_is_the_commissions_file() -> None:
    assert hashlib.sha256(template_path().read_bytes()).hexdigest() == SHA256
    readme = template_path().with_name("README.md").read_text(encoding="utf-8")
    assert SHA256 in readme
    assert "2011/833/EU" in readme
    assert "6ee15a7f99edd49f73bbecd06c6c1ce1d716ab43" in readme


@pytest.mark.slow
def test_template_structure_is_kept(template: Any, steel: tuple[dict[str, Any], Path]) -> None:
    """Sheets (names, order, visibility), defined names, data validations and protection of
    every sheet, and the number format and lock of every cell OpenPCF writes, are the
    shipped template's."""
    filled = _open(steel[1])
    assert filled.sheetnames == template.sheetnames
    assert len(filled.sheetnames) == 19
    assert {n: d.attr_text for n, d in filled.defined_names.items()} == {
        n: d.attr_text for n, d in template.defined_names.items()
    }
    for name in template.sheetnames:
        old, new = template[name], filled[name]
        assert new.sheet_state == old.sheet_state, name
        assert old.protection.sheet, name
        assert new.protection.sheet, name
        assert [
            (str(v.sqref), v.type, v.formula1) for v in new.data_validations.dataValidation
        ] == [(str(v.sqref), v.type, v.formula1) for v in old.data_validations.dataValidation], name
    for t in TEMPLATE_MAP:
        old, new = template[t.sheet][t.cell], filled[t.sheet][t.cell]
        assert new.number_format == old.number_format, (t.sheet, t.cell)
        assert new.protection.locked == old.protection.locked, (t.sheet, t.cell)
    assert filled.calculation.fullCalcOnLoad


@pytest.mark.slow
def test_values_in_the_templates_cells(
    steel: tuple[dict[str, Any], Path], steel_values: Any
) -> None:
    """Read as CarbonComply (tecnomod-um/CBAM) reads it: ``data_only=True``, fixed cells."""
    communication = steel[0]
    sc, inst = steel_values[SC], steel_values["A_InstData"]
    p = communication["products"][0]
    # section 1, and the same facts in the input sheet
    assert sc["G12"].value == inst["I20"].value == "Example Binhai Iron and Steel Works"
    assert sc["G15"].value == inst["I25"].value == "Tianjin"  # city (label says "Country:")
    assert sc["G16"].value == "CN"
    assert inst["I26"].value == "China"  # the template's country list
    assert sc["G17"].value == "CNTSN"
    assert sc["G18"].value == inst["I28"].value == "38.98"
    assert sc["G20"].value == inst["I9"].value == datetime(2025, 1, 1)
    assert sc["G21"].value == inst["L9"].value == datetime(2025, 12, 31)
    # section 2: goods with their production routes, processes
    assert [sc[f"{c}12"].value for c in "HIJ"] == ["G1", "Pig iron", "Blast furnace route"]
    assert [sc[f"{c}13"].value for c in "HIJ"] == ["G2", "Crude steel", "Basic oxygen steelmaking"]
    assert sc["I14"].value == "Iron or steel products"
    assert [sc[f"{c}14"].value for c in "QRS"] == ["P3", "hot_strip_mill", "Iron or steel products"]
    # section 3: t CO2e, zeros entered as 0
    e = communication["emissions"]
    assert sc["AA13"].value == e["calculation_based_excl_pfc"] == 1493439
    assert sc["AC13"].value == 0
    assert sc["AE13"].value == 0
    assert (sc["AI15"].value, sc["AI16"].value, sc["AI17"].value) == (
        e["direct"],
        e["indirect"],
        e["total"],
    )
    assert sc["AD20"].value == e["default_values_justification"]
    assert "SHA-256" in sc["AM13"].value
    # section 5: the product row
    assert sc["C26"].value == 1
    assert sc["D26"].value == "hot_strip_mill"
    assert sc["F26"].value == "72083900"  # 8 digits, text, as the template's CN list keys
    assert sc["I26"].value == p["see_direct"] == pytest.approx(1.528801, abs=1e-6)
    assert (sc["J26"].value, sc["K26"].value) == (p["see_indirect"], p["see_total"])
    assert sc["L26"].value == "tCO2e/t"
    assert sc["M26"].value == p["default_share"] == pytest.approx(0.095, abs=5e-4)
    assert sc["P26"].value == pytest.approx(0.5366)
    assert sc["R26"].value == "EX-TJ-01"
    assert sc["W26"].value == pytest.approx(0.0018)  # carbon 0.18 % in a 0.00% cell
    assert (sc["AQ26"].value, sc["AR26"].value, sc["AS26"].value) == ("CNY", 0, "CNY/t")
    assert sc["D27"].value is None  # one product only: row 2 keeps the template's formula


@pytest.mark.slow
def test_cn_and_goods_names_whole(
    template_values: Any, steel_values: Any, aluminium: tuple[dict[str, Any], Path]
) -> None:
    """CN names are the template's own full texts (the column its formula shows); OpenPCF's
    CN list holds exactly those texts for all 569 lines; long product names are kept whole."""
    full = {
        str(row[3]): row[7]
        for row in template_values["Parameters_CNCodes"].iter_rows(
            min_row=4, max_row=572, values_only=True
        )
    }
    text = resources.files("openpcf.cbam").joinpath("data/cn_goods.csv").read_text("utf-8")
    ours = {r["cn_code"]: r["description"] for r in csv.DictReader(io.StringIO(text))}
    assert ours == full
    sc = steel_values[SC]
    assert sc["G26"].value == full["72083900"]
    assert len(sc["G26"].value) > 150
    wb = _open(aluminium[1], data_only=True)
    assert wb[SC]["H26"].value == LONG_NAME
    assert wb[SC]["G26"].value == full["76011090"]


@pytest.mark.slow
def test_rounding_as_the_template_asks(
    template: Any, aluminium: tuple[dict[str, Any], Path]
) -> None:
    """No rounding rule in the template (its instructions, formulas and the Commission's
    examples keep unrounded values): values are the JSON's 12 significant digits, shown
    through the template's number formats; a zero is entered as 0 (instruction 7)."""
    communication, path = aluminium
    sc = _open(path)[SC]
    p = communication["products"][0]
    assert sc["I26"].value == p["see_direct"] == pytest.approx(1.632555, abs=1e-6)
    assert sc["I26"].value != round(sc["I26"].value, 3)
    formats = {c: template[SC][c].number_format for c in ("I26", "K26", "M26", "AA13", "AB26")}
    assert formats == {
        "I26": "0.000",
        "K26": "0.000",
        "M26": "0%",
        "AA13": "#,##0",
        "AB26": "0.00%",
    }
    assert {c: sc[c].number_format for c in formats} == formats
    assert sc["AC13"].value == communication["emissions"]["pfc"] == pytest.approx(57007.665)
    assert sc["M26"].value == 0  # no default values: 0, not empty
    assert sc["AB26"].value == pytest.approx(0.003)  # 0.3 % non-aluminium elements


@pytest.mark.slow
def test_read_back_equals_the_json(steel: tuple[dict[str, Any], Path]) -> None:
    communication, path = steel
    back = read_xlsx(path)
    inst = dict(communication["installation"])
    assert back["installation"] == {k: inst[k] for k in back["installation"]}
    assert back["emissions"] == communication["emissions"]
    assert (
        back["production_processes_and_routes"] == communication["production_processes_and_routes"]
    )
    assert back["processes"] == [
        {"id": p["id"], "aggregated_good": p["aggregated_good"]} for p in communication["processes"]
    ]
    [product] = back["products"]
    [expected] = communication["products"]
    for key, value in product.items():
        if key not in ("unit", "qualifying"):
            assert value == expected[key], key
    assert product["unit"] == expected["unit"].replace("t CO2e", "tCO2e")
    assert product["qualifying"] == {"R": "EX-TJ-01", "W": pytest.approx(0.0018)}


def test_every_mapped_label_is_the_templates(template: Any) -> None:
    """The map and the shipped template agree (what check_template verifies on every write)."""
    for t in TEMPLATE_MAP:
        assert template[t.sheet][t.label_cell].value == t.label, t
    for _, column, label in QUALIFYING_COLUMNS:
        assert template[SC][f"{column}25"].value == label


def test_not_the_template_is_refused(tmp_path: Path) -> None:
    communication = build_communication(
        calculate_installation(load_installation(EXAMPLES / "cement_anhui.yaml"))
    )
    text = tmp_path / "notes.xlsx"
    text.write_text("not a workbook", encoding="utf-8")
    with pytest.raises(TemplateError, match=r"notes\.xlsx: cannot open it as an xlsx workbook"):
        write_xlsx(communication, tmp_path / "out.xlsx", template=text)
    other = tmp_path / "other.xlsx"
    Workbook().save(other)
    with pytest.raises(TemplateError, match=r"no sheet 'Summary_Communication'"):
        write_xlsx(communication, tmp_path / "out.xlsx", template=other)
    lookalike = Workbook()
    for name in (
        "Summary_Communication",
        "A_InstData",
        "Translations",
        "Parameters_CNCodes",
        "0_Versions",
        "c_CodeLists",
    ):
        lookalike.create_sheet(name)
    lookalike["0_Versions"]["E38"] = "2.1"
    lookalike.save(other)
    with pytest.raises(TemplateError, match=r"0_Versions!E38 holds '2\.1', v2\.1\.1 has '2\.1\.1'"):
        write_xlsx(communication, tmp_path / "out.xlsx", template=other)
    with pytest.raises(TemplateError, match="no such file"):
        write_xlsx(communication, tmp_path / "out.xlsx", template=tmp_path / "missing.xlsx")
    assert not (tmp_path / "out.xlsx").exists()


def test_bad_template_at_the_cli_has_no_traceback(tmp_path: Path) -> None:
    bad = tmp_path / "template.xlsx"
    bad.write_bytes(b"PK\x03\x04 broken zip")
    out = openpcf_in_process(
        "cbam",
        "calc",
        str(EXAMPLES / "cement_anhui.yaml"),
        "-f",
        "xlsx",
        "-o",
        str(tmp_path / "c.xlsx"),
        "--template",
        str(bad),
    )
    assert out.returncode == 2
    assert "cannot open it as an xlsx workbook" in out.stderr
    assert "Traceback" not in out.stderr


def test_qualifying_parameter_without_a_column(tmp_path: Path) -> None:
    communication = build_communication(
        calculate_installation(load_installation(EXAMPLES / "cement_anhui.yaml"))
    )
    communication["products"][0]["qualifying_parameters"] = "colour=grey"
    with pytest.raises(CbamError, match="'colour' has no column in the communication template"):
        write_xlsx(communication, tmp_path / "out.xlsx")
