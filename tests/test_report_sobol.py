"""The report's Sobol indices (section 10), against values worked out by hand.

The additive model: T = X1 + X2 + a3 X3 kg CO2e (three CO2 emissions, GWP 1, independent):

* X1 uniform [1, 4] kg: Var = (4 − 1)² / 12 = 0.75;
* X2 normal, mean 2 kg, sd 0.5 kg: Var = 0.25;
* X3 uniform [500, 1500] g, a3 = 0.001 kg/g: Var(a3 X3) = (1.5 − 0.5)² / 12 = 1/12.

Var T = 0.75 + 0.25 + 1/12 = 13/12. An additive model has no interactions, so for each input
S1 = ST = Var(a_i X_i) / Var T: 0.75 / (13/12) = 9/13 = 0.6923, 0.25 / (13/12) = 3/13 = 0.2308,
(1/12) / (13/12) = 1/13 = 0.0769 (the analytic first-order shares are the same numbers).
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from openpcf.model.calculation import Calculation
from openpcf.reports import build_report_data, render_html, render_pdf
from openpcf.reports.sensitivity import (
    SOBOL_SEED,
    SOBOL_TOP,
    global_indices,
    propagate,
    report_sobol_n,
)
from openpcf.services.calculate import calculate
from openpcf.services.uncertainty import uncertainty

EXAMPLES = Path(__file__).parents[1] / "examples"
MODEL = """openpcf: 1
product:
  name: Widget
  ids: [urn:openpcf:product:widget]
  declared_unit: kilogram
  mass_per_declared_unit: 1
  reference_period: {start: 2024-01-01, end: 2024-12-31}
boundary: cradle-to-gate
reference_process: make
processes:
  - id: make
    name: Make
    stage: production
    output: {product: widget, amount: 1, unit: kg}
    emissions:
      - {gas: CO2-fossil, amount: 2, unit: kg, uncertainty: {distribution: uniform, min: 1, max: 4}}
      - {gas: CO2-fossil, amount: 2, unit: kg, uncertainty: {distribution: normal, sd: 0.5}}
      - {gas: CO2-fossil, amount: 1000, unit: g,
         uncertainty: {distribution: uniform, min: 500, max: 1500}}
"""
KEYS = ("make/gas:CO2-fossil", "make/gas:CO2-fossil#1", "make/gas:CO2-fossil#2")
EXACT = dict(zip(KEYS, (9 / 13, 3 / 13, 1 / 13), strict=True))


@pytest.fixture(scope="module")
def additive(tmp_path_factory: pytest.TempPathFactory) -> Calculation:
    path = tmp_path_factory.mktemp("sobol") / "additive.yaml"
    path.write_text(MODEL, encoding="utf-8")
    return calculate(path)


def test_report_indices_equal_the_analytic_values(additive: Calculation) -> None:
    """Amounts only are uncertain, so the report uses the command's N = 1024: 1024 x (3 + 2) =
    5,120 evaluations; each index within its 95 % half-width (and 0.05) of the exact value."""
    g = global_indices(additive.compiled, propagate(additive.compiled))
    assert g is not None
    assert (g.seed, g.n, g.evaluations) == (SOBOL_SEED, 1024, 5120)
    assert [i.key for i in g.indices] == list(KEYS)  # by decreasing ST
    assert g.variance == pytest.approx(13 / 12, rel=0.05)
    for i in g.indices:
        assert i.share == pytest.approx(EXACT[i.key], rel=1e-6)
        assert abs(i.s1 - EXACT[i.key]) <= min(i.s1_conf, 0.05)
        assert abs(i.st - EXACT[i.key]) <= min(i.st_conf, 0.05)

    data = build_report_data(additive, lang="en")
    section = data.sobol
    assert section is not None
    assert (section.seed, section.n) == (SOBOL_SEED, 1024)
    assert "N = 1024 base samples (5,120 model evaluations, SALib), seed 14067" in section.text
    assert f"--sobol-n 1024 --seed 14067 --top {SOBOL_TOP}" in section.text
    assert [r.input for r in section.rows] == list(KEYS)
    assert [r.share for r in section.rows] == ["69.2 %", "23.1 %", "7.7 %"]
    for row, i in zip(section.rows, g.indices, strict=True):
        assert row.s1 == f"{i.s1:.2f} ± {i.s1_conf:.2f}"
        assert row.st == f"{i.st:.2f} ± {i.st_conf:.2f}"
    bars = section.chart.bars
    assert [b.label for b in bars[:2]] == [f"{KEYS[0]} · S1", f"{KEYS[0]} · ST"]
    assert bars[0].fraction == round(g.indices[0].s1, 2)  # scale: index 1, two decimals


def test_report_seed_reproduces_the_command(additive: Calculation) -> None:
    """The printed command (`openpcf uncertainty MODEL --sobol --sobol-n N --seed S --top K`)
    gives the report's indices bit for bit."""
    g = global_indices(additive.compiled, propagate(additive.compiled))
    cli = uncertainty(
        additive.compiled.loaded,
        sobol_indices=True,
        sobol_n=1024,
        seed=SOBOL_SEED,
        top=SOBOL_TOP,
    ).sobol
    assert cli is not None
    assert g is not None
    assert cli.indices == g.indices


def test_html_pdf_and_chinese_show_the_indices(additive: Calculation) -> None:
    en = build_report_data(additive, lang="en")
    html = render_html(en)
    assert '<figure id="chart-sobol">' in html
    assert "Global sensitivity: Sobol indices" in html
    assert "make/gas:CO2-fossil · ST" in html  # the chart's bar label
    assert render_pdf(en).startswith(b"%PDF")
    zh = build_report_data(additive, lang="zh")
    assert zh.sobol is not None
    assert "随机种子 14067" in zh.sobol.text
    assert "全局敏感性" in render_html(zh)


def test_uncertain_parameter_bounds_the_sample() -> None:
    """The hydrogen example's one uncertain input is a parameter (each point recompiles):
    N = the largest power of 2 with N x (1 + 2) <= 512, i.e. 128 (384 evaluations). T is
    linear in it, so it carries all the variance: S1 = ST = 1 (within the half-width)."""
    calc = calculate(EXAMPLES / "hydrogen_alkaline_inner_mongolia.yaml")
    assert report_sobol_n(calc.compiled) == 128
    section = build_report_data(calc, lang="en").sobol
    assert section is not None
    assert section.n == 128
    assert "(384 model evaluations, SALib)" in section.text
    (row,) = section.rows
    assert row.input == "parameter:kwh_per_kg"
    s1, conf = (float(x) for x in row.s1.split(" ± "))
    assert abs(s1 - 1.0) <= conf


def test_screened_inputs_are_named_in_the_text(tmp_path: Path) -> None:
    """Three more inputs, normal sd 0.001 kg (Var 1e-6 each): six inputs, the screening keeps
    SOBOL_TOP = 5 and holds the last (ties ranked by key) at its median; its share is
    1e-6 / (13/12 + 3e-6), about 1e-4 %, printed as 0.0 %."""
    tiny = (
        "      - {gas: CO2-fossil, amount: 1, unit: kg,"
        " uncertainty: {distribution: normal, sd: 0.001}}\n"
    )
    path = tmp_path / "six.yaml"
    path.write_text(MODEL + tiny * 3, encoding="utf-8")
    section = build_report_data(calculate(path), lang="en").sobol
    assert section is not None
    assert len(section.rows) == SOBOL_TOP
    assert (
        "(5 kept by the screening on the first-order shares of the variance; 1 more held at"
        " their median, 0.0 % of it together)" in section.text
    )
    assert {b.text for b in section.chart.bars[-4:]} == {"0"}  # indices to two decimals


def test_no_distributions_no_section() -> None:
    data = build_report_data(calculate(EXAMPLES / "hot_rolled_coil_hebei.yaml"), lang="en")
    assert data.sobol is None
    assert "chart-sobol" not in render_html(data)


def test_without_salib_the_report_still_builds(
    additive: Calculation, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("SALib", "SALib.analyze", "SALib.sample"):
        monkeypatch.setitem(sys.modules, name, None)  # `import` raises ImportError
    data = build_report_data(additive, lang="en")
    assert data.sobol is None
    assert data.uncertainty_chart is not None  # the analytic shares are still shown
