"""PACT ProductFootprint export: numbers equal the result, documents pass the official schemas."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from openpcf.errors import InputError
from openpcf.exchange.pact import decimal_string, product_footprint
from openpcf.exchange.schema import validate_footprint
from openpcf.model.calculation import Calculation
from openpcf.services.calculate import calculate

FIXTURES = Path(__file__).parent / "fixtures"
SHARED = Path(__file__).parents[2] / "shared/reference/pact"
V3 = SHARED / "v3/openapi.yaml"
V2 = SHARED / "v2/openapi.yaml"
DECIMAL_V3 = r"^[+-]?\d+(\.\d+)?$"

needs_v3 = pytest.mark.skipif(not V3.exists(), reason=f"PACT v3 OpenAPI not found at {V3}")
needs_v2 = pytest.mark.skipif(not V2.exists(), reason=f"PACT v2 OpenAPI not found at {V2}")


@pytest.fixture(scope="module")
def widget() -> Calculation:
    """two_process.yaml: 4 (steel) + 3 x 0.7252 (Hebei grid 2022) + 0.001 x 29.8 = 6.2054."""
    return calculate(FIXTURES / "two_process.yaml")


@pytest.fixture(scope="module")
def pallet() -> Calculation:
    """pact_pallet.yaml (hand-worked totals in the file's header)."""
    return calculate(FIXTURES / "pact_pallet.yaml")


# ------------------------------------------------------------------------------------------
# decimal_string


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (1e-7, "0.0000001"),
        (1e20, "100000000000000000000"),
        (-0.0, "0"),
        (0.0, "0"),
        (0.1 + 0.2, "0.3"),
        (-1.5, "-1.5"),
        (-28.13, "-28.13"),
        (6.205399999999999, "6.2054"),
        (100.0, "100"),
        (7, "7"),
        (Decimal("2.50"), "2.5"),
        (-1e-12, "0"),  # rounds to zero: never "-0"
        (123456789.123, "123456789.123"),
    ],
)
def test_decimal_string_edge_cases(value: Any, expected: str) -> None:
    assert decimal_string(value) == expected


def test_decimal_string_places() -> None:
    assert decimal_string(4.333333333, 2) == "4.33"
    assert decimal_string(2.675, 2) == "2.68"  # half-even on the decimal repr "2.675"
    assert decimal_string(0.004, 2) == "0"


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), -float("inf")])
def test_decimal_string_rejects_non_finite(bad: float) -> None:
    with pytest.raises(ValueError, match="cannot be written as a PACT decimal"):
        decimal_string(bad)


@given(st.floats(allow_nan=False, allow_infinity=False, min_value=-1e22, max_value=1e22))
def test_decimal_string_always_matches_pact_pattern(x: float) -> None:
    import re

    text = decimal_string(x)
    assert re.match(DECIMAL_V3, text)
    assert "e" not in text.lower()
    assert text != "-0"
    assert abs(Decimal(text) - Decimal(repr(x))) <= Decimal("0.5e-10")


# ------------------------------------------------------------------------------------------
# v3


def test_v3_numbers_equal_the_result(widget: Calculation) -> None:
    r = widget.result
    doc = product_footprint(widget)
    pcf = doc["pcf"]
    assert r.total == pytest.approx(6.2054)
    assert pcf["pcfExcludingBiogenicUptake"] == "6.2054"
    assert pcf["pcfIncludingBiogenicUptake"] == "6.2054"
    assert pcf["fossilGhgEmissions"] == "6.2054"
    assert Decimal(pcf["fossilGhgEmissions"]) == pytest.approx(Decimal(repr(r.fossil)))
    assert pcf["biogenicCO2Uptake"] == "0"
    assert pcf["landUseChangeGhgEmissions"] == "0"
    assert pcf["biogenicNonCO2Emissions"] == "0"
    assert pcf["aircraftGhgEmissions"] == "0"
    assert pcf["fossilCarbonContent"] == "0"
    assert pcf["declaredUnitOfMeasurement"] == "kilogram"
    assert pcf["declaredUnitAmount"] == "1"
    assert pcf["productMassPerDeclaredUnit"] == "1"
    assert pcf["geographyCountrySubdivision"] == "CN-HE"
    assert "geographyCountry" not in pcf
    assert pcf["referencePeriodStart"] == "2024-01-01T00:00:00Z"
    assert pcf["referencePeriodEnd"] == "2025-01-01T00:00:00Z"  # exclusive end
    assert pcf["ipccCharacterizationFactors"] == ["AR6"]
    assert pcf["crossSectoralStandards"] == ["ISO14067"]
    assert "productOrSectorSpecificRules" not in pcf
    assert pcf["exemptedEmissionsPercent"] == "0"
    assert pcf["packagingEmissionsIncluded"] is False
    assert Decimal(pcf["primaryDataShare"]) == pytest.approx(
        Decimal(repr(r.primary_data_share)), abs=Decimal("0.005")
    )
    assert pcf["dqi"] == {"technologicalDQR": "5", "geographicalDQR": "5", "temporalDQR": "5"}
    assert "Steel sheet" in pcf["boundaryProcessesDescription"]
    assert "Widget assembly" in pcf["boundaryProcessesDescription"]
    assert doc["specVersion"] == "3.0.0"
    assert doc["status"] == "Active"
    assert doc["productIds"] == ["urn:openpcf:product:widget"]
    assert doc["productNameCompany"] == "Widget"
    assert doc["companyIds"] == ["urn:openpcf:company:unknown"]
    assert "productClassifications" not in doc
    assert "version" not in doc
    assert "precedingPfIds" not in doc
    uuid.UUID(doc["id"])
    assert None not in pcf.values()
    assert None not in doc.values()


def test_v3_id_and_created_are_taken_as_given(widget: Calculation) -> None:
    pf_id = uuid.UUID("12345678-9abc-4ef0-8234-567812345678")
    created = dt.datetime(2025, 5, 1, 10, 30, tzinfo=dt.timezone(dt.timedelta(hours=8)))
    doc = product_footprint(widget, footprint_id=pf_id, created=created)
    assert doc["id"] == str(pf_id)
    assert doc["created"] == "2025-05-01T02:30:00Z"
    naive = product_footprint(widget, created=dt.datetime(2025, 1, 2, 3, 4, 5))
    assert naive["created"] == "2025-01-02T03:04:05Z"
    # one calculation, one footprint id (issue 10): the default id is the calculation's own
    assert product_footprint(widget)["id"] == product_footprint(widget)["id"]
    assert product_footprint(widget)["id"] == str(widget.footprint_id)


@needs_v3
def test_v3_validates_against_openapi(widget: Calculation, pallet: Calculation) -> None:
    assert validate_footprint(product_footprint(widget), openapi_path=V3) == []
    assert validate_footprint(product_footprint(pallet), openapi_path=V3) == []


def test_biogenic_uptake_is_negative_and_lowers_the_pcf(pallet: Calculation) -> None:
    r = pallet.result
    pcf = product_footprint(pallet)["pcf"]
    assert pcf["biogenicCO2Uptake"] == "-32"
    assert pcf["landUseChangeGhgEmissions"] == "1"
    assert pcf["biogenicNonCO2Emissions"] == "0.27"
    assert pcf["fossilGhgEmissions"] == "2.6"
    assert pcf["aircraftGhgEmissions"] == "0.6"
    assert pcf["pcfExcludingBiogenicUptake"] == "3.87"
    assert pcf["pcfIncludingBiogenicUptake"] == "-28.13"
    assert Decimal(pcf["pcfIncludingBiogenicUptake"]) < Decimal(pcf["pcfExcludingBiogenicUptake"])
    assert r.total == pytest.approx(-27.63)  # ISO 14067 total keeps biogenic CO2 (0.5)


def test_model_identity_fields(pallet: Calculation) -> None:
    doc = product_footprint(pallet)
    assert doc["companyName"] == "Example Pallets Co."
    assert doc["productClassifications"] == [
        "urn:cpc:31600",
        "urn:pact:ec.europa.eu:cn-code:44152020",
    ]
    assert doc["productDescription"].startswith("Four-way wooden pallet")
    assert doc["pcf"]["declaredUnitOfMeasurement"] == "piece"
    assert doc["pcf"]["productMassPerDeclaredUnit"] == "20"
    assert doc["pcf"]["geographyCountry"] == "CN"
    assert doc["pcf"]["exemptedEmissionsPercent"] == "1"
    assert "nails and staples" in doc["pcf"]["exemptedEmissionsDescription"]


# ------------------------------------------------------------------------------------------
# v2.3


def test_v2_needs_a_cpc_code(widget: Calculation) -> None:
    with pytest.raises(InputError, match=r"two_process\.yaml.*product\.cpc"):
        product_footprint(widget, version="2")


def test_v2_has_no_piece_unit(pallet: Calculation) -> None:
    with pytest.raises(InputError, match="no declared unit 'piece'"):
        product_footprint(pallet, version="2")


def test_v2_fields() -> None:
    calc = calculate(FIXTURES / "pact_widget.yaml")
    doc = product_footprint(calc, version="2")
    pcf = doc["pcf"]
    assert doc["specVersion"] == "2.3.0"
    assert doc["version"] == 1
    assert doc["productCategoryCpc"] == "42999"
    assert "precedingPfIds" not in doc
    assert pcf["pCfExcludingBiogenic"] == "6.2054"
    assert pcf["pCfIncludingBiogenic"] == "6.2054"
    assert pcf["fossilGhgEmissions"] == "6.2054"
    assert pcf["characterizationFactors"] == "AR6"
    assert pcf["ipccCharacterizationFactorsSources"] == ["AR6"]
    assert pcf["crossSectoralStandardsUsed"] == ["ISO Standard 14067"]
    assert pcf["exemptedEmissionsPercent"] == 0
    assert isinstance(pcf["primaryDataShare"], float)
    assert "dqi" not in pcf


def test_v2_under_ar5() -> None:
    calc = calculate(FIXTURES / "pact_widget.yaml", gwp="AR5")
    pcf = product_footprint(calc, version="2")["pcf"]
    assert pcf["characterizationFactors"] == "AR5"
    # 4 + 3 x 0.7252 + 0.001 x 30 (AR5 fossil CH4)
    assert pcf["fossilGhgEmissions"] == "6.2056"


@needs_v2
def test_v2_validates_against_openapi() -> None:
    calc = calculate(FIXTURES / "pact_widget.yaml")
    assert validate_footprint(product_footprint(calc, version="2"), openapi_path=V2) == []


# ------------------------------------------------------------------------------------------
# errors and the validator


def _with_product(tmp_path: Path, **changes: str) -> Path:
    text = (FIXTURES / "two_process.yaml").read_text(encoding="utf-8")
    for old, new in changes.items():
        assert old in text
        text = text.replace(old, new, 1)
    path = tmp_path / "model.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_geography_that_is_not_iso_is_refused(tmp_path: Path) -> None:
    calc = calculate(_with_product(tmp_path, **{"geography: CN-HE": "geography: CN-GRID-NORTH"}))
    with pytest.raises(InputError, match=r"model\.yaml:\d+: product\.geography 'CN-GRID-NORTH'"):
        product_footprint(calc)


def test_global_geography_sets_no_geography_field(tmp_path: Path) -> None:
    calc = calculate(_with_product(tmp_path, **{"geography: CN-HE": "geography: GLO"}))
    pcf = product_footprint(calc)["pcf"]
    assert not any(k.startswith("geography") for k in pcf)


def test_company_ids_must_be_urns(tmp_path: Path) -> None:
    path = _with_product(
        tmp_path, **{"geography: CN-HE": "geography: CN-HE\n  company_ids: [ACME-42]"}
    )
    with pytest.raises(InputError, match="company_ids must be URNs"):
        product_footprint(calculate(path))


def test_uptake_booked_in_the_model(tmp_path: Path) -> None:
    path = _with_product(
        tmp_path,
        **{"{gas: CH4-fossil, amount: 1, unit: g}": "{gas: CO2-uptake, amount: 10, unit: kg}"},
    )
    pcf = product_footprint(calculate(path))["pcf"]  # uptake itself is fine: -10
    assert pcf["biogenicCO2Uptake"] == "-10"
    assert pcf["pcfIncludingBiogenicUptake"] == decimal_string(4 + 3 * 0.7252 - 10)


def test_negative_fossil_is_refused(tmp_path: Path) -> None:
    credit = (
        "output: {product: widget, amount: 1, unit: kg}\n"
        "    co_products:\n"
        "      - {product: heat, amount: 100, unit: kWh,"
        " substitutes: cn.grid.co2.2022.province.hebei}\n"
        "    allocation: {method: substitution}"
    )
    path = _with_product(tmp_path, **{"output: {product: widget, amount: 1, unit: kg}": credit})
    calc = calculate(path)
    assert calc.result.fossil < 0
    with pytest.raises(InputError, match="fossilGhgEmissions >= 0"):
        product_footprint(calc)


@needs_v3
def test_validator_reports_paths_and_messages(widget: Calculation) -> None:
    doc = product_footprint(widget)
    doc["pcf"]["fossilGhgEmissions"] = "1e-7"
    doc["pcf"]["biogenicCO2Uptake"] = "5"
    del doc["companyName"]
    errors = validate_footprint(doc, openapi_path=V3)
    assert any(e.startswith("pcf/fossilGhgEmissions: '1e-7' does not match") for e in errors)
    assert any(e.startswith("pcf/biogenicCO2Uptake:") for e in errors)
    assert any("'companyName' is a required property" in e for e in errors)


def test_validator_missing_openapi_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="does not exist"):
        validate_footprint({}, openapi_path=tmp_path / "nope.yaml")
