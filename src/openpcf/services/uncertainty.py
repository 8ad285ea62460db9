"""Uncertainty of a product's footprint: analytic first order by default, Monte Carlo on
request, and the comparison of two models with the same draws for their shared inputs
(:mod:`openpcf.model.montecarlo`; ``docs/uncertainty.md``), including the stored distributions
of the imported databases the models' ``background:`` inputs come from (precomputed, or linked
and perhaps re-pointed: :mod:`openpcf.model.database_uncertainty`), and Sobol indices on
request (:mod:`openpcf.model.sobol`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Unpack

import numpy as np

from openpcf.core.uncertainty import NO_UNCERTAINTY
from openpcf.io.store import DatabaseNotFoundError, DatabaseStore, StoredVersion
from openpcf.io.uncertainty import MatrixUncertainty
from openpcf.methods.gwp import characterisation_vector
from openpcf.model.calculation import Calculation
from openpcf.model.database_uncertainty import DatabaseSampler, database_rows, linked_samplers
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
    calcs = [calculate(m, **options) for m in models]
    overrides = options.get("overrides")
    settings = options.get("settings")
    store = DatabaseStore(settings.databases_dir) if settings is not None else None
    databases, report = _databases(calcs, store, background=background)
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
    calcs: Sequence[Calculation], store: DatabaseStore | None, *, background: bool
) -> tuple[list[list[DatabaseSampler]], tuple[DatabaseSampling, ...]]:
    """Per model, a :class:`DatabaseSampler` for each database with distributions that it draws
    on (when ``background``): a linked one as the model links it (re-pointed electricity
    included), the others from the store, shared by the models; and a report line per
    database."""
    linked = [{d.ref: d for d in linked_samplers(c.compiled)} if background else {} for c in calcs]
    lines: dict[str, DatabaseSampling] = {}
    used: dict[str, dict[str, None]] = {}
    for calc, mine in zip(calcs, linked, strict=True):
        dbs = calc.compiled.linked.databases if calc.compiled.linked is not None else ()
        for db in dbs:
            params = db.uncertainty.params if db.uncertainty is not None else None
            lines[db.ref] = _line(db.ref, params, background=background, found=db.ref in mine)
        for ref, activity in database_rows(calc.compiled).values():
            if not any(db.ref == ref for db in dbs):
                used.setdefault(ref, {})[activity] = None
    shared: list[DatabaseSampler] = []
    for ref, activities in used.items():
        stored = _stored(store, ref)
        if stored is None:
            continue  # a factor set whose ids look like a database's
        params = stored.uncertainty()
        lines[ref] = _line(ref, params, background=background, found=True)
        if lines[ref].propagated and params is not None:
            system = stored.system()
            c = characterisation_vector(calcs[0].compiled.gwp, system.flows)
            shared.append(DatabaseSampler(ref, system, params, c, list(activities)))
    samplers = [[*mine.values(), *shared] for mine in linked]
    return samplers, tuple(lines.values())


def _line(
    ref: str, params: MatrixUncertainty | None, *, background: bool, found: bool
) -> DatabaseSampling:
    """The report line of one database before a run: its entries with a distribution, and
    whether they are propagated (``sampled`` is set by a Monte Carlo run)."""
    entries = 0 if params is None else _count(params.A) + _count(params.B)
    if not entries:
        why = "not sampled: this version stores no distributions (no uncertainty.npz)"
    elif not background:
        why = "not sampled (--no-background)"
    else:
        why = "" if found else "not sampled"
    note = why or "propagated by the analytic method (sampled with --monte-carlo)"
    return DatabaseSampling(ref=ref, entries=entries, sampled=0, note=note, propagated=not why)


def _stored(store: DatabaseStore | None, ref: str) -> StoredVersion | None:
    if store is None:
        return None
    try:
        return store.get(ref)
    except DatabaseNotFoundError:
        return None


def _count(params: np.ndarray) -> int:
    return int((params["uncertainty_type"] > NO_UNCERTAINTY).sum())
