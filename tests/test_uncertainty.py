"""Uncertainty data, analytic propagation and Monte Carlo, with values worked out by hand."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from openpcf.core.quality import Pedigree
from openpcf.core.uncertainty import pedigree_sigma, triangular
from openpcf.errors import InputError, ModelFileError
from openpcf.model.montecarlo import Sampler, analytic, recompiler, run
from openpcf.services.calculate import calculate
from openpcf.services.uncertainty import uncertainty

HEAD = """openpcf: 1
product:
  name: Widget
  ids: [urn:openpcf:product:widget]
  declared_unit: kilogram
  mass_per_declared_unit: 1
  reference_period: {start: 2024-01-01, end: 2024-12-31}
boundary: cradle-to-gate
reference_process: make
parameters: {fuel: 2}
"""
LINEAR = (
    HEAD
    + """processes:
  - id: make
    name: Make
    stage: production
    output: {product: widget, amount: 1, unit: kg}
    emissions:
      - {gas: CO2-fossil, amount: fuel, unit: kg, uncertainty: {distribution: lognormal, gsd2: 1.2}}
      - {gas: CO2-fossil, amount: 1, unit: kg,
         uncertainty: {distribution: triangular, min: 0.5, mode: 1, max: 2}}
"""
)


def write(tmp_path: Path, text: str, name: str = "m.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_pedigree_sigma_by_hand() -> None:
    """Pedigree (2,3,1,2,4), basic GSD² 1.05 (ecoinvent v3 guideline variances):
    basic (ln 1.05 / 2)² = 0.024395² = 0.00059512; reliability 2: 0.0006, completeness 3:
    0.0006, temporal 1: 0, geographical 2: 0.000025, technological 4: 0.04;
    σ² = 0.04182012, σ = 0.2044997, GSD² = exp(2σ) = exp(0.4089994) = 1.505311."""
    p = Pedigree(reliability=2, completeness=3, temporal=1, geographical=2, technological=4)
    sigma = pedigree_sigma(p, 1.05)
    assert sigma == pytest.approx(math.sqrt(0.00059512 + 0.041225), rel=1e-6)
    assert sigma == pytest.approx(0.2044997, rel=1e-6)
    assert math.exp(2 * sigma) == pytest.approx(1.505311, rel=1e-6)


def test_triangular_moments_by_hand() -> None:
    """Triangular (0.5, 1, 2): mean (0.5+1+2)/3 = 7/6; variance (0.25+1+4-0.5-1-2)/18 =
    1.75/18 = 0.0972222."""
    mean, var = triangular(0.5, 1.0, 2.0).moments()
    assert mean == pytest.approx(7 / 6, rel=1e-12)
    assert var == pytest.approx(1.75 / 18, rel=1e-12)


def test_analytic_of_a_linear_model(tmp_path: Path) -> None:
    """T = 1 kg CO2e/kg CO2 x (X + Y); X lognormal median 2, σ = ln 1.2 / 2 = 0.0911608:
    E[X] = 2 exp(σ²/2) = 2.0083276, Var X = 4 exp(σ²)(exp(σ²)-1) = 0.0336582; Y triangular
    (0.5, 1, 2): E 1.1666667, Var 0.0972222. E[T] = 3.1749943, Var T = 0.1308804,
    sd 0.3617740; deterministic 3."""
    calc = calculate(write(tmp_path, LINEAR))
    a = analytic(Sampler(calc.compiled, recompiler(calc.compiled)))
    assert a.deterministic == pytest.approx(3.0, rel=1e-12)
    assert calc.result.total == pytest.approx(3.0, rel=1e-12)
    assert a.mean == pytest.approx(3.1749943, rel=1e-6)
    assert a.sd == pytest.approx(0.3617740, rel=1e-6)


def test_monte_carlo_mean_converges_to_analytic(tmp_path: Path) -> None:
    """The model is linear, so E[T] = 3.1749943 exactly; the Monte Carlo mean lies within
    4 standard errors of it, and the run stops on the tolerance before the maximum."""
    result = uncertainty(write(tmp_path, LINEAR), monte_carlo=True, seed=42, tolerance=0.005)
    mc = result.monte_carlo
    assert mc is not None
    assert mc.converged
    assert mc.iterations < 100_000
    assert abs(mc.mean - 3.1749943) < 4 * mc.standard_error
    assert mc.sd == pytest.approx(0.3617740, rel=0.05)
    assert sum(mc.histogram_counts) == mc.iterations
    assert mc.seed == 42


def test_same_seed_same_samples(tmp_path: Path) -> None:
    """Same seed: identical samples; another seed: different ones."""
    calc = calculate(write(tmp_path, LINEAR))
    sampler = Sampler(calc.compiled, recompiler(calc.compiled))
    (a,), _ = run([sampler], seed=7, max_iterations=1000)
    (b,), _ = run([sampler], seed=7, max_iterations=1000)
    (c,), _ = run([sampler], seed=8, max_iterations=1000)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_parameter_uncertainty_and_correlated_comparison(tmp_path: Path) -> None:
    """A: fuel normal (2, sd 0.2) plus the two emissions; B: the same model with a 0.1 kg
    extra emission, so T_B = T_A + 0.1 on every draw (shared inputs, same streams):
    P(A lower) is 1 and the difference's sd is 0. Analytic: Var T = Var from fuel
    (dT/dfuel = exp(σ²/2) = 1.0041638 at the mean, Var 0.04: 0.0403336) + 0.1308804 =
    0.1712140, sd 0.4137802."""
    text = LINEAR + "parameter_uncertainty: {fuel: {distribution: normal, sd: 0.2}}\n"
    b_text = text.replace(
        "         uncertainty: {distribution: triangular, min: 0.5, mode: 1, max: 2}}\n",
        "         uncertainty: {distribution: triangular, min: 0.5, mode: 1, max: 2}}\n"
        "      - {gas: CO2-fossil, amount: 0.1, unit: kg}\n",
    )
    result = uncertainty(
        write(tmp_path, text),
        compare=write(tmp_path, b_text, "b.yaml"),
        monte_carlo=True,
        seed=1,
        max_iterations=1000,
    )
    assert result.comparison is not None
    assert result.comparison.difference is not None
    assert result.comparison.p_a_lower == 1.0
    assert result.comparison.difference.sd == pytest.approx(0.0, abs=1e-9)
    assert result.analytic.sd == pytest.approx(0.4137802, rel=1e-5)


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("{distribution: lognormal, sigma: -0.1}", "sigma -0.1 must be"),
        ("{distribution: triangular, min: 2, mode: 1, max: 0.5}", "min < max"),
        ("{distribution: triangular, min: 0.5, mode: 3, max: 2}", "mode 3 is outside"),
        ("{distribution: uniform, min: 3, max: 4}", "outside its uniform range"),
        ("{pedigree: true, basic: 1.05}", "needs the exchange's quality"),
    ],
)
def test_bad_distributions_name_the_line(tmp_path: Path, spec: str, message: str) -> None:
    text = LINEAR.replace("{distribution: lognormal, gsd2: 1.2}", spec)
    with pytest.raises(InputError, match=message) as info:
        calculate(write(tmp_path, text))
    assert "m.yaml:" in str(info.value)


def test_pedigree_score_outside_1_to_5(tmp_path: Path) -> None:
    text = LINEAR.replace(
        "uncertainty: {distribution: lognormal, gsd2: 1.2}",
        "quality: {reliability: 6}, uncertainty: {pedigree: true, basic: 1.05}",
    )
    with pytest.raises(ModelFileError, match=r"m\.yaml:\d+.*reliability"):
        calculate(write(tmp_path, text))


def test_command_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``openpcf uncertainty``: the analytic default of :func:`test_analytic_of_a_linear_model`
    (mean 3.1749943, sd 0.3617740), a seeded Monte Carlo that repeats exactly and stores its
    seed, a comparison with itself (every input shared, so the difference's sd is 0), and a bad
    distribution as a clear error naming the line."""
    import json

    from typer.testing import CliRunner

    from openpcf.cli.main import app

    monkeypatch.setenv("OPENPCF_HOME", str(tmp_path / "home"))
    model = str(write(tmp_path, LINEAR))
    runner = CliRunner()

    def run_json(*args: str) -> dict:
        out = runner.invoke(app, ["uncertainty", model, "--json", *args])
        assert out.exit_code == 0, out.output
        return json.loads(out.output)

    default = run_json()
    assert default["analytic"]["mean"] == pytest.approx(3.1749943, rel=1e-6)
    assert default["analytic"]["sd"] == pytest.approx(0.3617740, rel=1e-6)
    assert default.get("monte_carlo") is None
    first, again = run_json("--seed", "7"), run_json("--seed", "7")
    assert first["monte_carlo"]["seed"] == 7
    assert first["monte_carlo"] == again["monte_carlo"]
    assert first["monte_carlo"]["converged"]
    se = first["monte_carlo"]["standard_error"]
    assert abs(first["monte_carlo"]["mean"] - 3.1749943) < 4 * se
    same = run_json("--seed", "3", "--compare", model)
    assert same["comparison"]["difference"]["sd"] == pytest.approx(0.0, abs=1e-12)

    bad = write(tmp_path, LINEAR.replace("gsd2: 1.2", "gsd2: 0.5"), "bad.yaml")
    out = runner.invoke(app, ["uncertainty", str(bad)])
    assert out.exit_code != 0
    assert isinstance(out.exception, InputError)
    assert "bad.yaml:" in str(out.exception)
