"""Report data: rounding, the clause-7 content, sensitivity worked out by hand, bad input."""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path

import pytest

from openpcf.errors import InputError, ParameterError
from openpcf.reports import ReportData, UnknownLanguageError, build_report_data, i18n
from openpcf.reports.numbers import change_text, number_text, percent, quantity, round_sig
from openpcf.reports.sensitivity import analyse, effective_overrides, numeric_parameters
from openpcf.services.calculate import calculate

FIXTURES = Path(__file__).parent / "fixtures"
TWO_PROCESS = FIXTURES / "two_process.yaml"
EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
TODAY = dt.date(2000, 1, 1)


@pytest.mark.parametrize(
    ("x", "text"),
    [
        (0.0, "0"),
        (-0.0, "0"),
        (113.769, "114"),
        (2354.15, "2,350"),
        (6.2054, "6.21"),
        (0.00123456, "0.00123"),
        (-21.58, "-21.6"),
        (1_234_567.0, "1,230,000"),
    ],
)
def test_number_text_three_significant_figures(x: float, text: str) -> None:
    assert number_text(x) == text


def test_rounded_values_match_their_text() -> None:
    q = quantity(113.769, "kg CO2e")
    assert q.value == 114.0
    assert q.text == "114 kg CO2e"
    assert round_sig(0.000123456) == 0.000123
    assert percent(1, 3).text == "33.3 %"
    assert percent(1, 0).text == "–"
    assert change_text(5.5, 5.0) == "+10.0 %"


def test_sensitivity_by_hand() -> None:
    """two_process: 2 kg sheet x 2 kg CO2/kg + 3 kWh x 0.7252 (Hebei 2022) + 1 g CH4 x 29.8.

    power ±10 %: ±0.3 kWh x 0.7252 = ±0.21756 → 5.98784 / 6.42296.
    sheet_mass ±10 %: ±0.2 kg x 2 = ±0.4 → 5.8054 / 6.6054.
    AR5 instead of AR6: CH4 fossil 30 instead of 29.8 → 6.2054 + 0.001 x 0.2 = 6.2056.
    """
    calculation = calculate(TWO_PROCESS)
    s = analyse(calculation.compiled, calculation.result.total)
    effects = {e.name: e for e in s.parameters}
    assert effects["power"].low == pytest.approx(5.98784, rel=1e-12)
    assert effects["power"].high == pytest.approx(6.42296, rel=1e-12)
    assert effects["sheet_mass"].low == pytest.approx(5.8054, rel=1e-12)
    assert effects["sheet_mass"].high == pytest.approx(6.6054, rel=1e-12)
    assert s.gwp["AR5"] == pytest.approx(6.2056, rel=1e-12)
    assert set(s.gwp) == {"AR5", "AR5-CCF", "AR4"}


def test_sensitivity_keeps_the_users_overrides() -> None:
    """--param power=10: base 4 + 7.252 + 0.0298 = 11.2818; sheet_mass +10 % adds 0.4."""
    calculation = calculate(TWO_PROCESS, overrides={"power": 10})
    assert effective_overrides(calculation.compiled) == {"power": 10.0}
    s = analyse(calculation.compiled, calculation.result.total)
    effects = {e.name: e for e in s.parameters}
    assert s.base == pytest.approx(11.2818)
    assert effects["sheet_mass"].high == pytest.approx(11.6818, rel=1e-12)
    assert effects["power"].high == pytest.approx(11.2818 + 0.7252, rel=1e-12)


def test_expression_parameters_are_not_varied() -> None:
    calculation = calculate(EXAMPLES / "lfp_battery_pack.yaml")
    names = numeric_parameters(calculation.compiled)
    assert "cycles" in names
    assert "pack_mass" not in names  # an expression: it follows its inputs
    assert "loss_kwh" not in names


def test_a_variant_that_fails_is_reported_not_hidden() -> None:
    """round_trip_efficiency x 1.1 > 1 makes the charging losses negative: not computable."""
    calculation = calculate(EXAMPLES / "lfp_battery_pack.yaml")
    data = build_report_data(calculation, lang="en", today=TODAY)
    row = next(r for r in data.sensitivity if r.parameter == "round_trip_efficiency")
    assert row.high == "not computable"
    assert "negative" in row.note
    assert not math.isnan(row.max_change)


@pytest.fixture(scope="module")
def hydrogen() -> dict[str, ReportData]:
    calculation = calculate(EXAMPLES / "hydrogen_alkaline_inner_mongolia.yaml")
    return {lang: build_report_data(calculation, lang=lang, today=TODAY) for lang in i18n.LANGUAGES}


def test_clause_7_content(hydrogen: dict[str, ReportData]) -> None:
    data = hydrogen["en"]
    assert data.total.unit == "kg CO2e"
    keys = [row.key for row in data.split]
    assert keys == ["fossil", "biogenic", "uptake", "luc", "aircraft", "pcf_excl", "pcf_incl"]
    assert data.allocations, "the hydrogen model allocates between hydrogen and oxygen"
    assert data.allocations[0].method == "energy content"
    assert data.electricity
    assert "First-order propagation" in data.uncertainty
    assert "--monte-carlo" in data.uncertainty
    assert [c.id for c in data.charts] == ["stages", "contributors", "gases", "quality"]
    assert len(data.checklist) == 15
    assert {row.section for row in data.checklist} == set(range(1, 13))
    for chart in data.charts:
        assert all(0 <= bar.fraction <= 1 for bar in chart.bars)


def test_chinese_uses_gb_t_24067_terms(hydrogen: dict[str, ReportData]) -> None:
    zh = hydrogen["zh"]
    titles = [s.title for s in zh.sections]
    assert "系统边界与取舍准则" in titles
    assert "分配" in titles
    assert zh.title == "产品碳足迹研究报告"
    assert "千克" in zh.per_unit
    assert zh.stages[0].label == "原材料获取"


def test_catalogues_have_the_same_keys() -> None:
    assert set(i18n.messages("en")) == set(i18n.messages("zh"))


def test_unknown_language_is_an_input_error() -> None:
    calculation = calculate(TWO_PROCESS)
    with pytest.raises(UnknownLanguageError, match=r"unknown report language 'fr'.*en, zh"):
        build_report_data(calculation, lang="fr")
    assert issubclass(UnknownLanguageError, InputError)


def test_bad_override_is_a_parameter_error() -> None:
    with pytest.raises(ParameterError):
        calculate(TWO_PROCESS, overrides={"no_such": 1})
