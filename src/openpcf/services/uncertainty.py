"""Uncertainty of a product's footprint: analytic first order by default, Monte Carlo on
request, and the comparison of two models with the same draws for their shared inputs
(:mod:`openpcf.model.montecarlo`; ``docs/uncertainty.md``), including the stored distributions
of the imported databases the models' ``background:`` inputs come from, and Sobol indices on
request (:mod:`openpcf.model.sobol`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Unpack

import numpy as np

from openpcf.core.uncertainty import NO_UNCERTAINTY
from openpcf.io.store import DatabaseNotFoundError, DatabaseStore, StoredVersion
from openpcf.methods.gwp import characterisation_vector
from openpcf.model.calculation import Calculation
from openpcf.model.loading import LoadedModel
from openpcf.model.montecarlo import (
    Analytic,
    Comparison,
    DatabaseSampler,
    MonteCarlo,
    Sampler,
    analytic,
    analytic_comparison,
    database_rows,
    new_seed,
    recompiler,
    repointed,
    run,
    summary,
)
from openpcf.model.sobol import DEFAULT_N, DEFAULT_TOP, Sobol, sobol
from openpcf.services.calculate import CalculationOptions, calculate


@dataclass(frozen=True, slots=True, kw_only=True)
class DatabaseSampling:
    """One database the models' ``background:`` inputs come from, and what was sampled."""

    ref: str
    entries: int  # entries of A and B with a stored distribution
    sampled: int  # of them sampled by this run (0: none, see note)
    note: str  # how the draws were solved, or why nothing was sampled


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

    ``background``: a Monte Carlo run also samples the stored distributions of the databases
    the ``background:`` inputs come from (the analytic method leaves them out and counts them
    in :attr:`Analytic.ignored`).

    ``sobol_indices``: also Sobol indices (:func:`openpcf.model.sobol.sobol`) of each model
    over its ``top`` most contributing inputs, base sample ``sobol_n``, seeded by ``seed``."""
    models = [m for m in (model, compare) if m is not None]
    calcs = [calculate(m, **options) for m in models]
    overrides = options.get("overrides")
    settings = options.get("settings")
    store = DatabaseStore(settings.databases_dir) if settings is not None else None
    databases, report = _databases(calcs, store, sample=background and monte_carlo)
    samplers = [Sampler(c.compiled, recompiler(c.compiled, overrides), databases) for c in calcs]
    ignored = {d.ref: d.entries for d in report if d.entries}
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
        solved = {d.ref: d.describe() for d in databases}
        report = tuple(replace(d, note=solved[d.ref]) if d.ref in solved else d for d in report)
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
    calcs: Sequence[Calculation], store: DatabaseStore | None, *, sample: bool
) -> tuple[list[DatabaseSampler], tuple[DatabaseSampling, ...]]:
    """A :class:`DatabaseSampler` per stored database with distributions that the models draw
    on (when ``sample``), and a report line for every database they draw on."""
    used: dict[str, dict[str, None]] = {}
    skipped: dict[str, str] = {}
    for calc in calcs:
        for ref, activity in database_rows(calc.compiled).values():
            used.setdefault(ref, {})[activity] = None
        for ref in repointed(calc.compiled):
            skipped[ref] = "not sampled: the model re-points its electricity"
    samplers: list[DatabaseSampler] = []
    report: list[DatabaseSampling] = []
    for ref, activities in used.items():
        stored = _stored(store, ref)
        if stored is None:
            continue  # a factor set whose ids look like a database's
        params = stored.uncertainty()
        entries = 0 if params is None else _count(params.A) + _count(params.B)
        why = skipped.get(ref, "")
        if params is None or not entries:
            why = "not sampled: this version stores no distributions (no uncertainty.npz)"
        elif not sample:
            why = why or "not sampled (analytic, or --no-background)"
        if why or params is None:
            report.append(DatabaseSampling(ref=ref, entries=entries, sampled=0, note=why))
            continue
        system = stored.system()
        gwp = calcs[0].compiled.gwp
        db = DatabaseSampler(
            ref, system, params, characterisation_vector(gwp, system.flows), list(activities)
        )
        samplers.append(db)
        report.append(DatabaseSampling(ref=ref, entries=entries, sampled=db.entries, note=""))
    return samplers, tuple(report)


def _stored(store: DatabaseStore | None, ref: str) -> StoredVersion | None:
    if store is None:
        return None
    try:
        return store.get(ref)
    except DatabaseNotFoundError:
        return None


def _count(params: np.ndarray) -> int:
    return int((params["uncertainty_type"] > NO_UNCERTAINTY).sum())
