"""Uncertainty of a product's footprint: analytic first order by default, Monte Carlo on
request, and the comparison of two models with the same draws for their shared inputs
(:mod:`openpcf.model.montecarlo`; ``docs/uncertainty.md``)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Unpack

from openpcf.model.calculation import Calculation
from openpcf.model.loading import LoadedModel
from openpcf.model.montecarlo import (
    Analytic,
    Comparison,
    MonteCarlo,
    Sampler,
    analytic,
    analytic_comparison,
    new_seed,
    recompiler,
    run,
    summary,
)
from openpcf.services.calculate import CalculationOptions, calculate


@dataclass(frozen=True, slots=True, kw_only=True)
class UncertaintyResult:
    calculation: Calculation
    analytic: Analytic
    monte_carlo: MonteCarlo | None = None
    other: UncertaintyResult | None = None  # --compare
    comparison: Comparison | None = None


def uncertainty(
    model: Path | str | LoadedModel,
    *,
    compare: Path | str | LoadedModel | None = None,
    monte_carlo: bool = False,
    seed: int | None = None,
    tolerance: float = 0.01,
    max_iterations: int = 100_000,
    **options: Unpack[CalculationOptions],
) -> UncertaintyResult:
    """Calculate ``model`` (and ``compare``) with :func:`calculate` and propagate the
    uncertainty of their amounts and parameters; ``seed`` None draws a fresh one (stored)."""
    models = [m for m in (model, compare) if m is not None]
    calcs = [calculate(m, **options) for m in models]
    overrides = options.get("overrides")
    samplers = [Sampler(c.compiled, recompiler(c.compiled, overrides)) for c in calcs]
    firsts = [analytic(s) for s in samplers]
    runs: list[MonteCarlo | None] = [None] * len(calcs)
    diff = None
    p_lower, se = 0.0, 0.0
    if monte_carlo:
        seed = new_seed() if seed is None else seed
        totals, ok = run(samplers, seed=seed, tolerance=tolerance, max_iterations=max_iterations)
        runs = [summary(t, seed=seed, tolerance=tolerance, converged_=ok) for t in totals]
        if len(totals) == 2:
            delta = totals[0] - totals[1]
            diff = summary(delta, seed=seed, tolerance=tolerance, converged_=ok)
            p_lower = float((delta < 0).mean())
            se = (p_lower * (1 - p_lower) / len(delta)) ** 0.5
    results = [
        UncertaintyResult(calculation=c, analytic=a, monte_carlo=r)
        for c, a, r in zip(calcs, firsts, runs, strict=True)
    ]
    if len(results) == 1:
        return results[0]
    comparison = Comparison(
        p_a_lower=p_lower if monte_carlo else analytic_comparison(*samplers),
        standard_error=se,
        difference=diff,
        analytic_p_a_lower=analytic_comparison(*samplers),
    )
    first = results[0]
    return UncertaintyResult(
        calculation=first.calculation,
        analytic=first.analytic,
        monte_carlo=first.monte_carlo,
        other=results[1],
        comparison=comparison,
    )
