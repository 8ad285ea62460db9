"""A simple, honest sensitivity analysis: one parameter at a time, and the GWP set.

Each parameter whose definition is a number (in the model file or through a ``--param``
override) is set to 0.9 and 1.1 times its value, every other definition kept, and the model
recompiled and solved. Parameters defined by an expression are not varied themselves: they
follow their inputs, so nothing is counted twice. The same inventory is also characterised with
every other GWP100 set. Nothing here is sampled. When the model carries distributions
(``uncertainty:``, ``parameter_uncertainty:``, or those stored with the imported databases its
``background:`` inputs come from, :mod:`openpcf.model.database_inputs`), :func:`propagation`
adds the first-order propagation of ``openpcf uncertainty`` (:mod:`openpcf.model.montecarlo`,
the same samplers): instant, and exact for amounts that enter linearly; the report points to
``--monte-carlo`` for the rest, and names the databases whose distributions it includes or
leaves out; and :func:`global_indices` the Sobol indices of ``openpcf uncertainty --sobol``
(:mod:`openpcf.model.sobol`, database entries ranked with the model's own inputs) at a cost
bounded for a report.

Design note (the Sobol cost). The screening keeps :data:`SOBOL_TOP` inputs (five pairs of bars
are what a chart can show). A model whose uncertain inputs are amounts only is evaluated in
stacked linear solves: the command's N = 1,024 over three inputs (5,120 evaluations) took
30 ms on the 2-core development machine, so the report uses it. An uncertain parameter makes
every point a recompilation of the model (about 3 ms each for the hydrogen example), so the
base sample is the largest power of 2 with at most :data:`RECOMPILE_BUDGET` evaluations (N =
128 for one input, 64 for five): about a second, and wider confidence intervals, which the
report prints. The same budget holds when the screening keeps an entry of an imported
database: each point then solves that database once (about 100 draws/s on the 20,000-activity
synthetic background of ``bench/engine.py``, so 448 points take about 5 s; ``jsonld_small``
thousands per second). The seed is fixed (:data:`SOBOL_SEED`) so that the report is reproducible and
its golden files stable; the report prints the command that recomputes the same indices.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace

from openpcf.errors import OpenPCFError
from openpcf.methods.gwp import GWP_SET_IDS
from openpcf.model import parameters
from openpcf.model.compiler import CompiledModel, compile_model
from openpcf.model.database_inputs import DatabaseUse, database_inputs, is_database_key
from openpcf.model.loading import LoadedModel
from openpcf.model.montecarlo import Analytic, Sampler, analytic, inputs, recompiler
from openpcf.model.recalculation import recalculating
from openpcf.model.result import solve_compiled
from openpcf.model.sobol import DEFAULT_N, Sobol, screen, sobol

STEP = 0.10
#: The report's Sobol analysis: its seed, the inputs kept by the screening, and the most
#: evaluations when each one recompiles the model (design note above).
SOBOL_SEED = 14067
SOBOL_TOP = 5
RECOMPILE_BUDGET = 512
MIN_SOBOL_N = 16

Solver = Callable[[CompiledModel], float]


@dataclass(frozen=True, slots=True, kw_only=True)
class ParameterEffect:
    """CFP totals with one parameter at (1 - STEP) and (1 + STEP) times its value."""

    name: str
    value: float
    low: float | None
    high: float | None
    error: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class Sensitivity:
    base: float
    parameters: tuple[ParameterEffect, ...]
    gwp: Mapping[str, float]  # other GWP set id -> CFP total
    skipped: tuple[str, ...]  # numeric parameters not varied (value 0)


def default_solver(compiled: CompiledModel) -> float:
    """Total kg CO2e of a compiled model."""
    return solve_compiled(compiled).total


def analyse(compiled: CompiledModel, base: float, *, solve: Solver = default_solver) -> Sensitivity:
    """Vary each numeric parameter ±:data:`STEP` and switch GWP sets; return the totals. The
    variants are solved inside one :func:`~openpcf.model.recalculation.recalculating` block:
    they share the model's background, whose work is done once."""
    with recalculating():
        return _analyse(compiled, base, solve)


def _analyse(compiled: CompiledModel, base: float, solve: Solver) -> Sensitivity:
    loaded = _without_model_sets(compiled.loaded)
    overrides = effective_overrides(compiled)
    numeric = numeric_parameters(compiled)
    effects = []
    for name in numeric:
        value = compiled.parameters[name]
        if value == 0:
            continue
        totals: list[float | None] = []
        error = ""
        for factor in (1 - STEP, 1 + STEP):
            try:
                variant = compile_model(
                    loaded,
                    factors=compiled.factor_set,
                    overrides={**overrides, name: value * factor},
                    gwp=compiled.gwp.id,
                    resolvers=compiled.resolvers,
                    background_electricity=compiled.background_electricity,
                )
                totals.append(solve(variant))
            except OpenPCFError as e:  # e.g. a share pushed above 1 makes an amount negative
                totals.append(None)
                error = str(e)
        effects.append(
            ParameterEffect(name=name, value=value, low=totals[0], high=totals[1], error=error)
        )
    gwp = {}
    for gwp_id in GWP_SET_IDS:
        if gwp_id != compiled.gwp.id:
            variant = compile_model(
                loaded,
                factors=compiled.factor_set,
                overrides=overrides,
                gwp=gwp_id,
                resolvers=compiled.resolvers,
                background_electricity=compiled.background_electricity,
            )
            gwp[gwp_id] = solve(variant)
    skipped = tuple(n for n in numeric if compiled.parameters[n] == 0)
    return Sensitivity(base=base, parameters=tuple(effects), gwp=gwp, skipped=skipped)


def numeric_parameters(compiled: CompiledModel) -> list[str]:
    """Names of the parameters whose effective definition is a number."""
    defs = compiled.model.parameters
    overridden = effective_overrides(compiled)
    return [n for n in defs if n in overridden or isinstance(defs[n], int | float)]


def effective_overrides(compiled: CompiledModel) -> dict[str, float]:
    """Recover the ``--param`` overrides of a calculation from its resolved parameters.

    A numeric definition whose resolved value differs was overridden; so was an expression whose
    value under the resolved parameters differs from the resolved value (it was replaced by a
    constant). Both are pinned, so every variant keeps the user's overrides.
    """
    out: dict[str, float] = {}
    resolved = compiled.parameters
    for name, definition in compiled.model.parameters.items():
        if isinstance(definition, int | float):
            expected = float(definition)
        else:
            expected = parameters.evaluate(definition, resolved, where=f"parameter {name!r}")
        if expected != resolved[name]:
            out[name] = resolved[name]
    return out


def _without_model_sets(loaded: LoadedModel) -> LoadedModel:
    # compiled.factor_set already holds the model's own factor sets; adding them again would
    # collide (ids must be unique across merged sets).
    if not loaded.model.factor_sets:
        return loaded
    model = loaded.model.model_copy(update={"factor_sets": []})
    return LoadedModel(model=model, doc=loaded.doc)


@dataclass(frozen=True, slots=True, kw_only=True)
class Propagation:
    """The report's first-order propagation (None: nothing to propagate, or it failed) and the
    imported databases with stored distributions that the model draws on, included or not."""

    analytic: Analytic | None
    databases: tuple[DatabaseUse, ...] = ()
    #: the inputs as sampled, for :func:`global_indices` (None with ``analytic``)
    sampler: Sampler | None = field(default=None, compare=False, repr=False)


def propagation(compiled: CompiledModel) -> Propagation:
    """First-order propagation of the model's own distributions and of those stored with the
    databases its ``background:`` inputs come from: linked ones as linked (re-pointed
    electricity included), precomputed rows' through the calculation's store
    (:func:`openpcf.model.database_inputs.database_inputs`, as ``openpcf uncertainty``).

    Parameters given as numbers are held at their values (``--param`` included) while the
    uncertain ones vary; parameters defined by an expression follow them. A database whose
    distributions cannot be read is counted in :attr:`Analytic.ignored`.
    """
    sampler, databases = _sampler(compiled)
    if sampler is None:
        return Propagation(analytic=None, databases=databases)
    left_out = {u.ref: u.distributions for u in databases if not u.included}
    try:
        found = replace(analytic(sampler), ignored=left_out)
    except OpenPCFError:
        return Propagation(analytic=None, databases=databases)
    return Propagation(analytic=found, databases=databases, sampler=sampler)


def propagate(compiled: CompiledModel) -> Analytic | None:
    """The analytic result of :func:`propagation`; None when the model has no distributions."""
    return propagation(compiled).analytic


def global_indices(
    compiled: CompiledModel, first: Analytic | None = None, *, sampler: Sampler | None = None
) -> Sobol | None:
    """Sobol indices of the model's total over its :data:`SOBOL_TOP` most contributing
    uncertain inputs (database entries included), seeded with :data:`SOBOL_SEED`, base sample
    :func:`report_sobol_n`; None when the model has no distributions, SALib is not installed
    or the total does not vary. ``first`` and ``sampler``: those of :func:`propagation`, to
    screen with and to evaluate (built again when not given)."""
    if sampler is None:
        sampler = _sampler(compiled)[0]
    if sampler is None:
        return None
    try:
        first = analytic(sampler) if first is None else first
        n = report_sobol_n(compiled, first)
        return sobol(sampler, seed=SOBOL_SEED, n=n, top=SOBOL_TOP, first=first)
    except OpenPCFError:
        return None


def report_sobol_n(compiled: CompiledModel, first: Analytic | None = None) -> int:
    """The report's base sample N (module design note): the command's default when only
    amounts are uncertain, else (a parameter is uncertain, or the screening of ``first``
    keeps a database entry) the largest power of 2 with ``N (D + 2)`` at most
    :data:`RECOMPILE_BUDGET` (``D`` the inputs kept), and at least :data:`MIN_SOBOL_N`.

    >>> [1 << ((RECOMPILE_BUDGET // (d + 2)).bit_length() - 1) for d in (1, 5)]
    [128, 64]
    """
    kept = screen(first, SOBOL_TOP)[0] if first is not None else []
    if not compiled.parameter_uncertainty and not any(is_database_key(k) for k in kept):
        return DEFAULT_N
    d = len(kept) if first is not None else min(SOBOL_TOP, len(inputs(compiled)))
    most = RECOMPILE_BUDGET // (max(d, 1) + 2)
    return max(MIN_SOBOL_N, 1 << (most.bit_length() - 1))


def _sampler(compiled: CompiledModel) -> tuple[Sampler | None, tuple[DatabaseUse, ...]]:
    """The model's own distributions as a :class:`Sampler` (numeric parameters held at their
    values, ``--param`` included), with the databases it draws on; None when it has none."""
    found = database_inputs(compiled)
    databases = list(found.samplers)
    if not inputs(compiled) and not compiled.parameter_uncertainty and not databases:
        return None, found.uses
    numeric = {
        name: compiled.parameters[name]
        for name, value in compiled.model.parameters.items()
        if isinstance(value, int | float) and not isinstance(value, bool)
    }
    try:
        return Sampler(compiled, recompiler(compiled, numeric), databases), found.uses
    except OpenPCFError:
        return None, found.uses
