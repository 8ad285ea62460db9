"""The report's uncertainty section: first-order propagation of the model's distributions.

The hydrogen example: T = s x (e x 0.6849 + 0.0005 x 7.4838267) with the hydrogen share
s = 120 / 130 (energy allocation), e = kWh per kg H2 triangular (48, 53, 78), nickel 0.0005 kg at
7.4838267 kg CO2e/kg (cn.tiangong.nickel.class1.electrolytic, AR6: 5.66622 CO2 + 0.0066579 N2O
x 273). T is linear in e, so the first-order result is exact:

* E[e] = (48 + 53 + 78) / 3 = 59.6667;
  E[T] = 0.923077 x (59.6667 x 0.6849 + 0.00374191) = 37.7256;
* Var[e] = (48² + 53² + 78² − 48·53 − 48·78 − 53·78) / 18 = 775 / 18 = 43.0556, sd 6.5617;
  sd[T] = 0.923077 x 0.6849 x 6.5617 = 4.1484;
* the one uncertain parameter carries all the variance (100 %).

A model on an imported database with stored distributions (``tests/fixtures/uncertain_grid.py``:
a boxed widget taking w = 16.0625 MJ of a grid whose output a is lognormal, median 3.6,
σ 0.05, and whose CO2 X is normal, 0.36, sd 0.03; T = 5.503 + w (X / a − 0.1)): the analytic
mean 5.5009934 and sd 0.1559303 (worked out in ``tests/test_uncertainty_linked.py``), shares
0.2649 (a) and 0.7351 (X), from the database's 2 distributions, whether the model is linked into
the database or takes its precomputed row (read through the calculation's store).
"""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import pytest

from fixtures.boxed_widget import boxed_widget
from openpcf.model.compiler import Resolvers
from openpcf.reports import build_report_data
from openpcf.reports.sensitivity import propagation
from openpcf.services.calculate import calculate
from openpcf.settings import Settings

EXAMPLES = Path(__file__).parents[1] / "examples"


def test_hydrogen_report_states_the_propagated_range() -> None:
    data = build_report_data(
        calculate(EXAMPLES / "hydrogen_alkaline_inner_mongolia.yaml"), lang="en"
    )
    share = 120 / 130
    mean = share * ((48 + 53 + 78) / 3 * 0.6849 + 0.0005 * (5.66622 + 0.0066579 * 273))
    sd = share * 0.6849 * math.sqrt(775 / 18)
    assert mean == pytest.approx(37.7256, abs=1e-4)
    assert sd == pytest.approx(4.1484, abs=1e-4)
    assert "mean 37.73, standard deviation 4.15" in data.uncertainty
    low, high = mean - 1.959964 * sd, mean + 1.959964 * sd
    assert f"interval {low:.2f} to {high:.2f}" in data.uncertainty
    chart = data.uncertainty_chart
    assert chart is not None
    (bar,) = chart.bars
    assert bar.value == pytest.approx(100.0)
    zh = build_report_data(calculate(EXAMPLES / "hydrogen_alkaline_inner_mongolia.yaml"), lang="zh")
    assert "均值 37.73" in zh.uncertainty


def test_model_without_distributions_keeps_the_qualitative_statement() -> None:
    data = build_report_data(calculate(EXAMPLES / "hot_rolled_coil_hebei.yaml"), lang="en")
    assert data.uncertainty_chart is None
    assert data.uncertainty.startswith("No Monte Carlo")


@pytest.mark.parametrize("extra", ["", "background_linking: linked"])
def test_report_propagates_the_databases_distributions(
    tmp_path: Path, uncertain_grid: tuple[Settings, str], extra: str
) -> None:
    """Precomputed and linked alike: mean 5.501, sd 0.156 (module docstring), the database
    named with its 2 distributions, its entries labelled ``database › process › flow`` (the
    process name cut to fit 60 characters) in the chart and the Sobol table (N = 128: a kept
    database entry solves the database per point, the report's budget 512 // (2 + 2) = 128)."""
    settings, ref = uncertain_grid
    path = boxed_widget(tmp_path, "grid:widget assembly", extra=extra)
    calc = calculate(path, settings=settings)
    data = build_report_data(calc, lang="en")
    assert "mean 5.501, standard deviation 0.156" in data.uncertainty
    assert (
        "The propagation includes the distributions stored with the imported databases that "
        f"the background: inputs come from: {ref} (2 distributions)."
    ) in data.uncertainty
    chart = data.uncertainty_chart
    assert chart is not None
    co2 = f"{ref} › electricity production, US… › CO2-fossil"  # cut to 60 characters
    assert [b.label for b in chart.bars] == [co2, f"{ref} › electricity… › electricity, medium…"]
    assert [b.value for b in chart.bars] == pytest.approx([73.51, 26.49], abs=0.05)
    assert data.sobol is not None
    assert data.sobol.n == 128
    assert data.sobol.rows[0].input == co2
    zh = build_report_data(calc, lang="zh")
    assert f"{ref}（2 个分布）" in zh.uncertainty


def test_report_says_which_distributions_are_left_out(
    tmp_path: Path, uncertain_grid: tuple[Settings, str]
) -> None:
    """A precomputed row whose database the calculation cannot read (a resolver of factor rows
    only, no ``background_database``): the report keeps the qualitative statement and says
    that the database's distributions are not included, and why."""
    settings, ref = uncertain_grid
    calc = calculate(boxed_widget(tmp_path, "grid:widget assembly"), settings=settings)
    only_rows = Resolvers(background=calc.compiled.resolvers.background)
    compiled = dataclasses.replace(calc.compiled, resolvers=only_rows)
    found = propagation(compiled)
    assert found.analytic is None
    (use,) = found.databases
    assert (use.ref, use.included) == (ref, False)
    data = build_report_data(dataclasses.replace(calc, compiled=compiled), lang="en")
    assert data.uncertainty.startswith(
        f"The distributions stored with {ref} are not included (the calculation was given no "
        "database store to read it from). No Monte Carlo"
    )
    assert data.uncertainty_chart is None
    assert data.sobol is None
