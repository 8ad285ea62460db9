"""Uncertainty of a product's footprint: analytic first order by default, Monte Carlo on
request, and the comparison of two models with the same draws for their shared inputs
(:mod:`openpcf.model.montecarlo`; ``docs/uncertainty.md``), including the stored distributions
of the imported databases the models' ``background:`` inputs come from (precomputed, or linked
and perhaps re-pointed: :mod:`openpcf.model.database_inputs`, as the report reads them), and
Sobol indices on request (:mod:`openpcf.model.sobol`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Unpack

from openpcf.core.solver import Backend
from openpcf.model.calculation import Calculation
from openpcf.model.database_inputs import DatabaseUse, shared_database_inputs
from openpcf.model.database_uncertainty import DatabaseSampler, database_rows
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
from openpcf.model.recalculation import recalculating
from openpcf.model.sobol import DEFAULT_N, DEFAULT_TOP, Sobol, sobol
from openpcf.services.calculate import CalculationOptions, calculate


@dataclass(frozen=True, slots=True, kw_only=True)
class DatabaseSampling:
    """One database the models' ``background:`` inputs come from, and what was sampled."""

    ref: str
    entries: int  # entries of A and B with a stored distribution
    sampled: int  # of them sampled by this run (0: none, see note)
    note: str  # how the draws were solved, or why nothing was sampled
    #: whether its distributions are in the analytic sd (and, with Monte Carlo, sampled)
    propagated: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class UncertaintyResult:
    calculation: Calculation
    analytic: Analytic
    monte_carlo: MonteCarlo | None = None
    other: UncertaintyResult | None = None  # --compare
    comparison: Comparison | None = None
    #: the databases both models draw on (shared by a comparison)
    databases: tuple[DatabaseSampling, ...] = ()
    sobol: Sobol | None = None  # --sobol


def uncertainty(
    model: Path | str | LoadedModel,
    *,
    compare: Path | str | LoadedModel | None = None,
    monte_carlo: bool = False,
    seed: int | None = None,
    tolerance: float = 0.01,
    max_iterations: int = 100_000,
    background: bool = True,
    sobol_indices: bool = False,
    sobol_n: int = DEFAULT_N,
    top: int = DEFAULT_TOP,
    **options: Unpack[CalculationOptions],
) -> UncertaintyResult:
    """Calculate ``model`` (and ``compare``) with :func:`calculate` and propagate the
    uncertainty of their amounts and parameters; ``seed`` None draws a fresh one (stored).

    ``background``: also propagate the stored distributions of the databases the
    ``background:`` inputs come from (sampled by Monte Carlo, differentiated by the analytic
    method); False leaves them out and counts them in :attr:`Analytic.ignored`.

    ``sobol_indices``: also Sobol indices (:func:`openpcf.model.sobol.sobol`) of each model
    over its ``top`` most contributing inputs, base sample ``sobol_n``, seeded by ``seed``."""
    models = [m for m in (model, compare) if m is not None]
    with recalculating():  # two models on one background: its work done once
        calcs = [calculate(m, **options) for m in models]
    overrides = options.get("overrides")
    # the databases' draws: BiCGSTAB on the CPU, or on the GPU when that backend was chosen
    sampling: Backend = "gpu" if options.get("backend") == "gpu" else "iterative"
    databases, report = _databases(calcs, background=background, backend=sampling)
    samplers = [
        Sampler(c.compiled, recompiler(c.compiled, overrides), d)
        for c, d in zip(calcs, databases, strict=True)
    ]
    ignored = {d.ref: d.entries for d in report if d.entries and not d.propagated}
    firsts = [replace(analytic(s), ignored=ignored) for s in samplers]
    runs: list[MonteCarlo | None] = [None] * len(calcs)
    sobols: list[Sobol | None] = [None] * len(calcs)
    if sobol_indices:
        seed = new_seed() if seed is None else seed
        sobols = [
            sobol(s, seed=seed, n=sobol_n, top=top, first=a)
            for s, a in zip(samplers, firsts, strict=True)
        ]
    diff = None
    p_lower, se = 0.0, 0.0
    if monte_carlo:
        seed = new_seed() if seed is None else seed
        totals, ok = run(samplers, seed=seed, tolerance=tolerance, max_iterations=max_iterations)
        runs = [summary(t, seed=seed, tolerance=tolerance, converged_=ok) for t in totals]
        solved = {d.ref: d.describe() for ds in databases for d in ds}
        report = tuple(
            replace(d, sampled=d.entries, note=solved.get(d.ref, d.note)) if d.propagated else d
            for d in report
        )
        if len(totals) == 2:
            delta = totals[0] - totals[1]
            diff = summary(delta, seed=seed, tolerance=tolerance, converged_=ok)
            p_lower = float((delta < 0).mean())
            se = (p_lower * (1 - p_lower) / len(delta)) ** 0.5
    results = [
        UncertaintyResult(calculation=c, analytic=a, monte_carlo=r, databases=report, sobol=g)
        for c, a, r, g in zip(calcs, firsts, runs, sobols, strict=True)
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
        databases=report,
        sobol=first.sobol,
    )


def _databases(
    calcs: Sequence[Calculation], *, background: bool, backend: Backend
) -> tuple[list[list[DatabaseSampler]], tuple[DatabaseSampling, ...]]:
    """Per model, a :class:`DatabaseSampler` for each database with distributions that it draws
    on (none without ``background``), as :func:`shared_database_inputs` gives them (linked ones
    as the model links them, precomputed ones shared by the models); and a line per database
    the models draw on."""
    leave_out = "" if background else "--no-background"
    found = shared_database_inputs(
        [c.compiled for c in calcs], leave_out=leave_out, backend=backend
    )
    lines: dict[str, DatabaseSampling] = {}
    for calc, inputs in zip(calcs, found, strict=True):
        for ref, _ in database_rows(calc.compiled).values():
            lines.setdefault(ref, _line(ref, None))
        for use in inputs.uses:
            lines[use.ref] = _line(use.ref, use)
    return [list(inputs.samplers) for inputs in found], tuple(lines.values())


def _line(ref: str, use: DatabaseUse | None) -> DatabaseSampling:
    """The line of one database before a run (``use`` None: it stores no distributions):
    its entries with a distribution, and whether they are propagated (``sampled`` is set by a
    Monte Carlo run)."""
    if use is None:
        note = "not sampled: this version stores no distributions (no uncertainty.npz)"
    elif not use.included:
        note = f"not sampled ({use.note})"
    else:
        note = "propagated by the analytic method (sampled with --monte-carlo)"
    entries = use.distributions if use is not None else 0
    included = use is not None and use.included
    return DatabaseSampling(ref=ref, entries=entries, sampled=0, note=note, propagated=included)
