"""CBAM default values (Implementing Regulation (EU) 2025/2621 Annex I), mark-ups, CN codes.

Expected values are the annex's China rows as listed in standards-facts §3.5 (✅S, two
independent secondary sources), times the mark-up of the year.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from openpcf.cbam import classify, default_value, markup_percent
from openpcf.cbam.cn import format_cn, normalise_cn
from openpcf.cbam.errors import (
    AmbiguousCnCodeError,
    CbamError,
    NoDefaultValueError,
    NotCbamGoodError,
    UnknownCnCodeError,
)
from openpcf.errors import InputError

SHARED = Path(__file__).resolve().parents[2] / "shared" / "reference" / "cbam"


@pytest.mark.parametrize(
    ("cn", "base", "year", "markup"),
    [
        ("7208 39 00", 3.187, 2026, 10),  # hot-rolled flat, row 7208
        ("7208 39 00", 3.187, 2027, 20),
        ("7208 39 00", 3.187, 2028, 30),
        ("7208 39 00", 3.187, 2035, 30),  # 30 % from 2028 onwards
        ("7601 10 90", 3.0, 2026, 10),  # unwrought aluminium, row 7601
        ("2523 29 00", 1.42, 2027, 20),  # grey Portland cement: total incl. indirect 0.07
        ("2804 10 000", 26.64, 2028, 30),  # hydrogen, 9-digit notation of Reg. 2023/956
        ("2814 10 00", 4.36, 2026, 1),  # anhydrous ammonia: fertilisers +1 %
        ("2814 10 00", 4.36, 2028, 1),
    ],
)
def test_china_default_with_markup(cn: str, base: float, year: int, markup: float) -> None:
    value = default_value(cn, "CN", year)
    assert value.country_row_used == "China"
    assert value.total == pytest.approx(base, abs=1e-12)
    assert value.markup_percent == markup
    assert value.total_with_markup == pytest.approx(base * (1 + markup / 100), rel=1e-12)


def test_published_rounded_values() -> None:
    """cbamdefaults.com lists HR flat China 3.51 / 3.82 / 4.14 for 2026 / 2027 / 2028."""
    got = [
        round(default_value("7208", "CN", y).total_with_markup or 0, 2) for y in (2026, 2027, 2028)
    ]
    assert got == [3.51, 3.82, 4.14]


def test_cement_split_direct_indirect() -> None:
    value = default_value("25232900", "CN", 2026)
    assert (value.direct, value.indirect, value.total) == (1.35, 0.07, 1.42)
    assert value.unit == "t CO2e/t"
    assert "2025/2621" in value.source


def test_fallback_row_when_country_cell_empty() -> None:
    """China's DRI (7203) cells are empty in the annex: the whole fallback row applies."""
    value = default_value("7203 10 00", "CN", 2026)
    assert value.country_row_used == "Other countries and territories"
    assert value.total == 1.325
    assert value.total_with_markup == pytest.approx(1.325 * 1.1, rel=1e-12)


def test_fallback_row_for_unlisted_country() -> None:
    value = default_value("7208 39 00", "BT", 2026)  # Bhutan: not in the annex
    assert value.country_row_used == "Other countries and territories"
    assert not value.country_listed
    assert value.total == 4.049


def test_most_specific_row_and_10_digit_codes() -> None:
    assert default_value("7211 90 20", "CN").cn_row == "721190"
    assert default_value("7211 13 00", "CN").cn_row == "72111300"
    # grey clinker only exists at 10 digits; the 10-digit input picks it
    assert default_value("2523 10 00 90", "CN").total == 1.39
    # a single 10-digit row under an 8-digit code is found from the 8 digits
    assert default_value("2507 00 80", "CN").cn_row == "2507008080"


def test_country_codes_alpha3_and_name() -> None:
    assert default_value("7208", "CHN").country == "CN"
    assert default_value("7208", "china").country_row_used == "China"


def test_json_fields() -> None:
    data = default_value("7208 39 00", "CN", 2026).as_json()
    for key in ("direct", "indirect", "total", "markup_percent", "total_with_markup", "unit"):
        assert key in data
    assert data["country_row_used"] == "China"
    assert "Ddscully" in str(data["source"])


@pytest.mark.parametrize(
    ("cn", "error", "text"),
    [
        ("abc", UnknownCnCodeError, "not a CN code"),
        ("72083", UnknownCnCodeError, "4, 6, 8 or 10 digits"),
        ("9999 99 99", UnknownCnCodeError, "chapter 99"),
        ("3901 10 10", NotCbamGoodError, "not a CBAM good"),
        ("7202 21 00", NotCbamGoodError, "not a CBAM good"),  # ferro-silicon: outside CBAM
        ("2523 10 00", AmbiguousCnCodeError, "2523 10 00 10"),
        ("7211", AmbiguousCnCodeError, "give a longer code"),
        ("2716 00 00", NoDefaultValueError, "no default value"),
        ("3102 10 10", NoDefaultValueError, "3102 10 12"),
    ],
)
def test_bad_codes(cn: str, error: type[Exception], text: str) -> None:
    with pytest.raises(error, match=text) as info:
        default_value(cn, "CN", 2026)
    assert isinstance(info.value, InputError)


def test_bad_year_and_origin() -> None:
    with pytest.raises(CbamError, match="from 2026"):
        default_value("7208", "CN", 2025)
    with pytest.raises(CbamError, match="outside CBAM"):
        default_value("7208", "DE", 2026)
    with pytest.raises(CbamError, match="not an ISO 3166"):
        default_value("7208", "C1", 2026)


def test_markup_schedule() -> None:
    assert [markup_percent("cement", y) for y in (2026, 2027, 2028, 2030)] == [10, 20, 30, 30]
    assert [markup_percent("fertilisers", y) for y in (2026, 2027, 2028)] == [1, 1, 1]
    assert markup_percent("electricity", 2026) == 0


def test_cn_normalisation() -> None:
    assert normalise_cn(" 7208.39.00 ") == "72083900"
    assert format_cn("2523100090") == "2523 10 00 90"
    good = classify("7208 39 00")
    assert good.good.name == "Iron or steel products"
    assert good.good.indirect_definitive is False
    assert classify("7208").good.name == "Iron or steel products"  # all lines in one category
    with pytest.raises(AmbiguousCnCodeError):
        classify("2523")  # clinker, cement, aluminous cement


@pytest.mark.skipif(not SHARED.is_dir(), reason="../shared/reference/cbam not present")
def test_bundled_defaults_equal_the_shared_transcription() -> None:
    """Every annex cell with a value is bundled unchanged; every fallback row is kept."""
    data = Path(__file__).parents[1] / "src/openpcf/cbam/data"
    with (data / "default_values.csv").open(encoding="utf-8") as f:
        bundled = {
            (r["cn_code"], r["country"]): (r["direct"], r["indirect"], r["total"], r["route_code"])
            for r in csv.DictReader(f)
        }
    with (data / "countries.csv").open(encoding="utf-8") as f:
        iso2 = {r["iso3"]: r["iso2"] for r in csv.DictReader(f)}
    expected = {}
    with (SHARED / "default_values_2025_2621.csv").open(encoding="utf-8") as f:
        for r in csv.DictReader(f):
            total = r["default_total_t_co2e_per_t"]
            if r["country_iso3"] and not total:
                continue
            key = (r["good_key"].split("-")[0], iso2.get(r["country_iso3"], "*"))
            expected[key] = (
                r["default_direct_t_co2e_per_t"],
                r["default_indirect_t_co2e_per_t"],
                total,
                r["production_route_code"],
            )
    assert bundled == expected
