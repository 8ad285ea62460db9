"""Supplier PACT footprints as primary data: conversion into a factor, use in a model, errors."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from openpcf.db import repositories as repo
from openpcf.db.engine import session_scope
from openpcf.errors import InputError
from openpcf.exchange.pact import product_footprint
from openpcf.exchange.schema import validate_footprint
from openpcf.exchange.supplier import SupplierFootprintError, supplier_factor
from openpcf.services.calculate import calculate
from openpcf.services.suppliers import SupplierStore

FIXTURES = Path(__file__).parent / "fixtures"
BOARD = FIXTURES / "pact_supplier_board.json"
BOARD_ID = "7a0c3c4e-2f4d-4b8e-9d5a-1c2b3d4e5f60"
SHARED = Path(__file__).parents[2] / "shared/reference/pact"
V3 = SHARED / "v3/openapi.yaml"


def board() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(BOARD.read_text(encoding="utf-8"))
    return data


def write(tmp_path: Path, doc: Any, name: str = "fp.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path


# ------------------------------------------------------------------------------------------
# conversion


def test_board_footprint_as_factor() -> None:
    """Per 100 kg: fossil 60 + biogenic non-CO2 2 = 62 kg CO2e, LUC 5, uptake -150.

    Per kg: CO2e 0.62, CO2-luc 0.05, CO2-uptake 1.5 (positive mass).
    """
    f = supplier_factor("pact_supplier_board.json", base=FIXTURES)
    assert f.id == f"supplier.{BOARD_ID}"
    assert f.name == "FBB 350"
    assert f.unit == "kg"
    assert dict(f.emissions) == pytest.approx({"CO2e": 0.62, "CO2-luc": 0.05, "CO2-uptake": 1.5})
    assert f.category == "material"
    assert f.geography == "FI"
    assert f.year == 2024  # referencePeriodEnd 2025-01-01T00:00:00Z is exclusive
    assert f.gwp_basis == "AR6"
    assert f.licence == "supplier data, shared under PACT"
    assert f.source == (
        f"PACT footprint {BOARD_ID} from Example Board Mill Ltd., created 2025-03-01T08:00:00Z"
    )
    assert "pact_supplier_board.json" in f.notes
    assert "PACT 3.0.0" in f.notes
    assert "not the stated" not in f.notes  # components add up to pcfExcludingBiogenicUptake


@pytest.mark.skipif(not V3.exists(), reason="PACT v3 OpenAPI not available")
def test_board_fixture_is_valid_pact_v3() -> None:
    assert validate_footprint(board(), openapi_path=V3) == []


def test_supplier_footprint_in_a_model() -> None:
    """pact_supplier_box.yaml: 0.8 kg of board plus 0.1 kg fossil CO2 from gluing.

    The board (per 100 kg: fossil 60, biogenic non-CO2 2, LUC 5, uptake -150) per kg: CO2e
    0.62 of which 0.02 biogenic non-CO2. fossil = 0.8 x 0.60 + 0.1 = 0.58; biogenic non-CO2 =
    0.8 x 0.02 = 0.016 (the supplier's split is kept, not counted as fossil); LUC = 0.8 x 0.05
    = 0.04; uptake = -0.8 x 1.5 = -1.2; total = 0.58 + 0.016 + 0.04 - 1.2 = -0.564 kg CO2e per
    carton (AR6). Primary data share over pcfExcludingBiogenicUptake (0.636): the board
    contributes 0.8 x (0.62 + 0.05) = 0.536 of which the supplier states 80 % primary, the
    gluing 0.1 (own emission, primary): (0.8 x 0.536 + 0.1) / 0.636 = 0.5288 / 0.636 =
    83.1447 %.
    """
    calc = calculate(FIXTURES / "pact_supplier_box.yaml")
    r = calc.result
    assert r.total == pytest.approx(-0.564)
    assert r.fossil == pytest.approx(0.58)
    assert r.biogenic_non_co2 == pytest.approx(0.016)
    assert r.luc == pytest.approx(0.04)
    assert r.uptake == pytest.approx(-1.2)
    assert r.pcf_excluding_biogenic_uptake == pytest.approx(0.636)
    assert r.primary_data_share == pytest.approx(100 * 0.5288 / 0.636)
    pcf = product_footprint(calc)["pcf"]
    assert pcf["pcfIncludingBiogenicUptake"] == "-0.564"
    assert "secondaryEmissionFactorSources" not in pcf  # supplier PCFs are not secondary data


def test_declared_unit_amount_divides_and_units_map(tmp_path: Path) -> None:
    doc = board()
    doc["pcf"]["declaredUnitOfMeasurement"] = "cubic meter"
    doc["pcf"]["declaredUnitAmount"] = "2.5"
    doc["pcf"]["fossilGhgEmissions"] = "10"
    doc["pcf"]["biogenicNonCO2Emissions"] = None  # null = undefined = 0
    doc["pcf"]["landUseChangeGhgEmissions"] = "0"
    doc["pcf"]["biogenicCO2Uptake"] = "0"
    f = supplier_factor(str(write(tmp_path, doc)), base=Path("/nonexistent"))  # absolute path
    assert f.unit == "m3"
    assert dict(f.emissions) == pytest.approx({"CO2e": 4.0})
    assert "not the stated" in f.notes  # 10 != stated 67


def test_get_and_list_responses(tmp_path: Path) -> None:
    assert supplier_factor(write(tmp_path, {"data": board()}).name, base=tmp_path).name == "FBB 350"
    other = board()
    other["id"] = "00000000-0000-4000-8000-000000000001"
    other["productNameCompany"] = "FBB 300"
    write(tmp_path, {"data": [board(), other]}, "list.json")
    picked = supplier_factor("list.json#00000000-0000-4000-8000-000000000001", base=tmp_path)
    assert picked.name == "FBB 300"
    assert picked.id == "supplier.00000000-0000-4000-8000-000000000001"
    write(tmp_path, {"data": [board()]}, "one.json")
    assert supplier_factor("one.json", base=tmp_path).name == "FBB 350"


@pytest.mark.skipif(not (SHARED / "v2/examples").exists(), reason="PACT v2 examples absent")
def test_v2_footprint(tmp_path: Path) -> None:
    """The v2 spec's example: 1 liter; CO2e = fossil 1.5 + otherBiogenic 0.4 + landMgmt 0.6."""
    doc = json.loads((SHARED / "v2/examples/get-footprint-response.json").read_text())
    write(tmp_path, doc, "v2.json")
    f = supplier_factor("v2.json", base=tmp_path)
    assert f.unit == "liter"
    assert dict(f.emissions) == pytest.approx({"CO2e": 2.5, "CO2-luc": 0.8, "CO2-uptake": 1.5})
    assert f.geography == "Western Europe"
    assert f.year == 2021  # referencePeriodEnd 2022-01-01T00:00:00Z, exclusive
    assert f.gwp_basis == "AR6"
    assert "PACT 2.0.0" in f.notes


@pytest.mark.skipif(not (SHARED / "v3/examples").exists(), reason="PACT v3 examples absent")
def test_v3_spec_example(tmp_path: Path) -> None:
    """Example 1: fossil 0.35 + biogenic non-CO2 0.002 + land-management CO2 0.004 = 0.356."""
    doc = json.loads((SHARED / "v3/examples/example-1.json").read_text())
    write(tmp_path, doc, "ex1.json")
    f = supplier_factor("ex1.json", base=tmp_path)
    assert dict(f.emissions) == pytest.approx({"CO2e": 0.356, "CO2-uptake": 1.61})
    assert f.geography == "US-TX"
    assert "not the stated pcfExcludingBiogenicUptake 0.384" in f.notes


# ------------------------------------------------------------------------------------------
# errors


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(SupplierFootprintError, match=r"missing\.json does not exist"):
        supplier_factor("missing.json", base=tmp_path)


def test_malformed_json_names_line_and_column(tmp_path: Path) -> None:
    (tmp_path / "bad.json").write_text('{\n  "id": "x",\n  "pcf": {,}\n}', encoding="utf-8")
    with pytest.raises(SupplierFootprintError, match=r"bad\.json:3:11: not valid JSON"):
        supplier_factor("bad.json", base=tmp_path)


@pytest.mark.parametrize(
    "field", ["fossilGhgEmissions", "declaredUnitAmount", "pcfExcludingBiogenicUptake"]
)
def test_missing_pcf_field(tmp_path: Path, field: str) -> None:
    doc = board()
    del doc["pcf"][field]
    with pytest.raises(SupplierFootprintError, match=rf"fp\.json.*missing pcf\.{field}"):
        supplier_factor("fp.json", base=write(tmp_path, doc).parent)


def test_missing_pcf_and_id(tmp_path: Path) -> None:
    doc = board()
    del doc["pcf"]
    with pytest.raises(SupplierFootprintError, match="missing 'pcf'"):
        supplier_factor(write(tmp_path, doc).name, base=tmp_path)
    doc = board()
    del doc["id"]
    with pytest.raises(SupplierFootprintError, match="no 'id'"):
        supplier_factor(write(tmp_path, doc).name, base=tmp_path)


@pytest.mark.parametrize("value", ["1,5", "abc", "", "NaN", True, [1]])
def test_non_numeric_decimal(tmp_path: Path, value: Any) -> None:
    doc = board()
    doc["pcf"]["fossilGhgEmissions"] = value
    with pytest.raises(SupplierFootprintError, match=r"pcf\.fossilGhgEmissions"):
        supplier_factor(write(tmp_path, doc).name, base=tmp_path)


@pytest.mark.parametrize("value", ["-1", "0"])
def test_declared_unit_amount_must_be_positive(tmp_path: Path, value: Any) -> None:
    doc = board()
    doc["pcf"]["declaredUnitAmount"] = value
    with pytest.raises(SupplierFootprintError, match=r"declaredUnitAmount = -?\d+ must be > 0"):
        supplier_factor(write(tmp_path, doc).name, base=tmp_path)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("biogenicCO2Uptake", "3", "must be <= 0"),
        ("fossilGhgEmissions", "-3", "must be >= 0"),
        ("landManagementBiogenicCO2Removals", "-0.5", "not supported yet"),
        ("declaredUnitOfMeasurement", "megabit second", "not supported"),
    ],
)
def test_bad_values(tmp_path: Path, field: str, value: Any, message: str) -> None:
    doc = board()
    doc["pcf"][field] = value
    with pytest.raises(SupplierFootprintError, match=rf"pcf\.{field}.*{message}"):
        supplier_factor(write(tmp_path, doc).name, base=tmp_path)


def test_unknown_footprint_id(tmp_path: Path) -> None:
    write(tmp_path, board())
    with pytest.raises(SupplierFootprintError, match=rf"no footprint with id 'nope'.*{BOARD_ID}"):
        supplier_factor("fp.json#nope", base=tmp_path)


def test_several_footprints_need_an_id(tmp_path: Path) -> None:
    other = copy.deepcopy(board())
    other["id"] = "00000000-0000-4000-8000-000000000001"
    write(tmp_path, {"data": [board(), other]})
    with pytest.raises(SupplierFootprintError, match=r"holds 2 footprints.*'#<footprint id>'"):
        supplier_factor("fp.json", base=tmp_path)


@pytest.mark.parametrize("doc", [{"data": []}, [], "text", {"data": [1, 2]}])
def test_not_a_footprint(tmp_path: Path, doc: Any) -> None:
    with pytest.raises(SupplierFootprintError, match="expected a PACT ProductFootprint"):
        supplier_factor(write(tmp_path, doc).name, base=tmp_path)


@pytest.mark.parametrize(
    ("ref", "message"),
    [
        ("urn:pact:boardmill.example.com:product-id:fbb-350", "no PACT store"),
        ("https://x/y", "give a path to a footprint JSON"),
    ],
)
def test_references_that_cannot_be_resolved(ref: str, message: str) -> None:
    with pytest.raises(SupplierFootprintError, match=message):
        supplier_factor(ref, base=FIXTURES)


def test_error_class_is_an_input_error() -> None:
    assert issubclass(SupplierFootprintError, InputError)


def test_model_error_names_the_model_line(tmp_path: Path) -> None:
    text = (FIXTURES / "pact_supplier_box.yaml").read_text(encoding="utf-8")
    (tmp_path / "box.yaml").write_text(
        text.replace("pact_supplier_board.json", "suppliers/none.json"), encoding="utf-8"
    )
    with pytest.raises(InputError, match=r"box\.yaml:\d+.*suppliers/none\.json does not exist"):
        calculate(tmp_path / "box.yaml")


def test_received_footprints_by_id_and_product_urn(engine: Engine, tmp_path: Path) -> None:
    """Footprints received over PACT are found by footprint id or product URN; for a URN an
    Active footprint wins over a Deprecated one, whatever their creation dates.

    They are held in the database's supplier store now (no longer files in a folder)."""
    board = json.loads(BOARD.read_text(encoding="utf-8"))
    older = copy.deepcopy(board)
    older.update(id="00000000-0000-4000-8000-000000000001", status="Deprecated")
    older["created"] = "2030-01-01T00:00:00Z"
    with session_scope(engine) as session:
        org = repo.ensure_organisation(session, name="Carton Co")
        for doc in (board, older):
            repo.store_supplier_footprint(
                session, organisation=org, document=doc, origin="imported", source="test"
            )
    url = engine.url.render_as_string(hide_password=False)
    store = SupplierStore(url, organisation="Carton Co")

    by_id = supplier_factor(BOARD_ID.upper(), base=tmp_path, store=store)
    assert by_id.id == f"supplier.{BOARD_ID}"
    urn = board["productIds"][0]
    by_urn = supplier_factor(urn.upper(), base=tmp_path, store=store)
    assert by_urn.id == f"supplier.{BOARD_ID}"
    with pytest.raises(SupplierFootprintError, match="no footprint with that product id"):
        supplier_factor("urn:example:unknown", base=tmp_path, store=store)
    with pytest.raises(SupplierFootprintError, match="openpcf pact pull"):
        supplier_factor(BOARD_ID, base=tmp_path, store=None)
