"""Bad installation files: each error names the file, the line and the field."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from openpcf.cbam import calculate_installation, load_installation
from openpcf.cbam.errors import (
    CbamModelError,
    MassBalanceError,
    NotCbamGoodError,
    PrecursorNotRelevantError,
    ReportingPeriodError,
    RouteError,
    UnknownCnCodeError,
)
from openpcf.errors import InputError, ModelFileError

EXAMPLES = Path(__file__).parents[1] / "examples" / "cbam"
STEEL = (EXAMPLES / "steel_bf_bof_tianjin.yaml").read_text(encoding="utf-8")


def run(tmp_path: Path, text: str) -> None:
    path = tmp_path / "plant.yaml"
    path.write_text(text, encoding="utf-8")
    calculate_installation(load_installation(path))


def changed(old: str, new: str) -> str:
    assert old in STEEL, old
    return STEEL.replace(old, new, 1)


def line_of(text: str, needle: str) -> int:
    return text[: text.index(needle)].count("\n") + 1


@pytest.mark.parametrize(
    ("old", "new", "error", "message"),
    [
        (
            "cn: 7208 39 00",
            "cn: 72AB 39 00",
            UnknownCnCodeError,
            r"products\[0\]\.cn.*not a CN code",
        ),
        ("cn: 7208 39 00", "cn: 3901 10 10", NotCbamGoodError, r"3901 10 10 is not a CBAM good"),
        (
            "end: 2025-12-31",
            "end: 2026-01-01",
            ReportingPeriodError,
            r"reporting_period: .*longer than 12 months.*end it by 2025-12-31",
        ),
        ("end: 2025-12-31", "end: 2025-02-28", ReportingPeriodError, "shorter than 3 months"),
        ("end: 2025-12-31", "end: 2024-12-31", ReportingPeriodError, "before start"),
        (
            "co2_reported_t: 1377000",
            "co2_reported_t: 1200000",
            MassBalanceError,
            r"source_streams\[0\]: mass balance 'bf_carbon' does not close: .* 1\.37766e\+06 t CO2"
            r".*co2_reported_t is 1\.2e\+06",
        ),
        (
            "{name: pig iron, amount_t: 1000000, carbon_content: 0.045}",
            "{name: pig iron, amount_t: 1000000, carbon_content: 0.5}",
            MassBalanceError,
            "carbon out 500000 t C exceeds carbon in 421000 t C",
        ),
        (
            "route: Blast furnace route",
            "route: Electric arc furnace",
            RouteError,
            r"processes\[0\]\.route: route 'Electric arc furnace' is not a production route",
        ),
        (
            "split: {bof: 0.2, hot_strip_mill: 0.8}",
            "split: {bof: 0.2, hot_strip_mill: 0.7}",
            CbamModelError,
            "sum to 1",
        ),
        (
            "process: bof\n    activity_data: 40000",
            "process: bfo\n    activity_data: 40000",
            CbamModelError,
            "no process with id 'bfo'",
        ),
        ("cn: 7208 39 00", "cn: 7601 10 90", CbamModelError, "move the product"),
    ],
)
def test_bad_steel_files(
    tmp_path: Path, old: str, new: str, error: type[Exception], message: str
) -> None:
    text = changed(old, new)
    with pytest.raises(error, match=message) as info:
        run(tmp_path, text)
    assert isinstance(info.value, InputError)
    assert re.search(r"plant\.yaml:\d+", str(info.value)), str(info.value)


def test_line_number_points_at_the_value(tmp_path: Path) -> None:
    text = changed("cn: 7208 39 00", "cn: 3901 10 10")
    with pytest.raises(NotCbamGoodError) as info:
        run(tmp_path, text)
    assert f"plant.yaml:{line_of(text, 'cn: 3901')}:" in str(info.value)


def test_precursor_not_relevant_to_route(tmp_path: Path) -> None:
    """Sintered ore is a precursor of pig iron and DRI, not of BOF crude steel."""
    text = changed(
        "      - {from: purchased_pig_iron, mass_t: 100000}\n",
        "      - {from: purchased_pig_iron, mass_t: 100000}\n      - {from: sinter, mass_t: 5}\n",
    )
    text = text.replace(
        "    source: default\n",
        "    source: default\n  - {id: sinter, cn: 2601 12 00, country: CN, source: default}\n",
    )
    with pytest.raises(PrecursorNotRelevantError) as info:
        run(tmp_path, text)
    message = str(info.value)
    assert f"plant.yaml:{line_of(text, '{from: sinter')}:" in message
    assert "'Sintered Ore' is not a relevant precursor of 'Crude steel', route" in message
    assert "Pig iron; Direct reduced iron" in message


def test_fiscal_year_is_accepted(tmp_path: Path) -> None:
    text = changed("{start: 2025-01-01, end: 2025-12-31}", "{start: 2024-04-01, end: 2025-03-31}")
    run(tmp_path, text)


def test_schema_errors_have_lines(tmp_path: Path) -> None:
    text = changed("production_t: 1100000", "production_t: -5")
    with pytest.raises(ModelFileError, match=r"plant\.yaml:\d+: processes\[1\]\.production_t"):
        run(tmp_path, text)
    text = changed("method: combustion", "method: combustion\n    colour: blue")
    with pytest.raises(ModelFileError, match="colour"):
        run(tmp_path, text)


def test_pfc_only_for_aluminium(tmp_path: Path) -> None:
    text = STEEL + ("pfc:\n  - {id: x, process: bof, method: direct, cf4_t: 1, c2f6_t: 0.1}\n")
    with pytest.raises(CbamModelError, match="PFC emissions count only for aluminium"):
        run(tmp_path, text)


def test_installation_inside_eu_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="outside CBAM"):
        run(tmp_path, changed("country: CN\n  economic", "country: DE\n  economic"))
