"""The report's uncertainty section: first-order propagation of the model's distributions.

The hydrogen example: T = s x (e x 0.6849 + 0.0005 x 13) with the hydrogen share
s = 120 / 130 (energy allocation), e = kWh per kg H2 triangular (48, 53, 78), nickel 0.0005 kg at
13 kg CO2e/kg (illustrative factor). T is linear in e, so the first-order result is exact:

* E[e] = (48 + 53 + 78) / 3 = 59.6667; E[T] = 0.923077 x (59.6667 x 0.6849 + 0.0065) = 37.7282;
* Var[e] = (48² + 53² + 78² − 48·53 − 48·78 − 53·78) / 18 = 775 / 18 = 43.0556, sd 6.5617;
  sd[T] = 0.923077 x 0.6849 x 6.5617 = 4.1484;
* the one uncertain parameter carries all the variance (100 %).
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from openpcf.reports import build_report_data
from openpcf.services.calculate import calculate

EXAMPLES = Path(__file__).parents[1] / "examples"


def test_hydrogen_report_states_the_propagated_range() -> None:
    data = build_report_data(
        calculate(EXAMPLES / "hydrogen_alkaline_inner_mongolia.yaml"), lang="en"
    )
    share = 120 / 130
    mean = share * ((48 + 53 + 78) / 3 * 0.6849 + 0.0005 * 13)
    sd = share * 0.6849 * math.sqrt(775 / 18)
    assert mean == pytest.approx(37.7282, abs=1e-4)
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
