"""A simple, honest sensitivity analysis: one parameter at a time, and the GWP set.

Each parameter whose definition is a number (in the model file or through a ``--param``
override) is set to 0.9 and 1.1 times its value, every other definition kept, and the model
recompiled and solved. Parameters defined by an expression are not varied themselves: they
follow their inputs, so nothing is counted twice. The same inventory is also characterised with
every other GWP100 set. Nothing here is sampled. When the model carries distributions
(``uncertainty:``, ``parameter_uncertainty:``), :func:`propagate` adds the first-order
propagation of ``openpcf uncertainty`` (:mod:`openpcf.model.montecarlo`): instant, and exact
for amounts that enter linearly; the report points to ``--monte-carlo`` for the rest; and
:func:`global_indices` the Sobol indices of ``openpcf uncertainty --sobol``
(:mod:`openpcf.model.sobol`) at a cost bounded for a report.

Design note (the Sobol cost). The screening keeps :data:`SOBOL_TOP` inputs (five pairs of bars
are what a chart can show). A model whose uncertain inputs are amounts only is evaluated in
stacked linear solves: the command's N = 1,024 over three inputs (5,120 evaluations) took
30 ms on the 2-core development machine, so the report uses it. An uncertain parameter makes
every point a recompilation of the model (about 3 ms each for the hydrogen example), so the
base sample is the largest power of 2 with at most :data:`RECOMPILE_BUDGET` evaluations (N =
128 for one input, 64 for five): about a second, and wider confidence intervals, which the
report prints. The seed is fixed (:data:`SOBOL_SEED`) so that the report is reproducible and
its golden files stable; the report prints the command that recomputes the same indices.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from openpcf.errors import OpenPCFError
from openpcf.methods.gwp import GWP_SET_IDS
from openpcf.model import parameters
from openpcf.model.compiler import CompiledModel, compile_model
from openpcf.model.database_uncertainty import linked_samplers
from openpcf.model.loading import LoadedModel
from openpcf.model.montecarlo import Analytic, Sampler, analytic, inputs, recompiler
from openpcf.model.result import solve_compiled
from openpcf.model.sobol import DEFAULT_N, Sobol, sobol

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
    """Vary each numeric parameter ±:data:`STEP` and switch GWP sets; return the totals."""
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


def propagate(compiled: CompiledModel) -> Analytic | None:
    """First-order propagation of the model's own distributions and those of the databases
    it is linked into (``background_linking: linked``, re-pointed electricity included); None
    when it has none.

    Parameters given as numbers are held at their values (``--param`` included) while the
    uncertain ones vary; parameters defined by an expression follow them. The distributions of
    a database whose figures are precomputed factor rows are left out here (``openpcf
    uncertainty`` reads them from the store).
    """
    sampler = _sampler(compiled)
    if sampler is None:
        return None
    try:
        return analytic(sampler)
    except OpenPCFError:
        return None


def global_indices(compiled: CompiledModel, first: Analytic | None = None) -> Sobol | None:
    """Sobol indices of the model's total over its :data:`SOBOL_TOP` most contributing
    uncertain inputs, seeded with :data:`SOBOL_SEED`, base sample :func:`report_sobol_n`;
    None when the model has no distributions, SALib is not installed or the total does not
    vary. ``first``: the analytic result of :func:`propagate` to screen with."""
    sampler = _sampler(compiled)
    if sampler is None:
        return None
    try:
        return sobol(
            sampler, seed=SOBOL_SEED, n=report_sobol_n(compiled), top=SOBOL_TOP, first=first
        )
    except OpenPCFError:
        return None


def report_sobol_n(compiled: CompiledModel) -> int:
    """The report's base sample N (module design note): the command's default when only
    amounts are uncertain, else the largest power of 2 with ``N (D + 2)`` at most
    :data:`RECOMPILE_BUDGET` (``D`` the inputs kept), and at least :data:`MIN_SOBOL_N`.

    >>> [1 << ((RECOMPILE_BUDGET // (d + 2)).bit_length() - 1) for d in (1, 5)]
    [128, 64]
    """
    if not compiled.parameter_uncertainty:
        return DEFAULT_N
    kept = min(SOBOL_TOP, len(inputs(compiled)))
    most = RECOMPILE_BUDGET // (kept + 2)
    return max(MIN_SOBOL_N, 1 << (most.bit_length() - 1))


def _sampler(compiled: CompiledModel) -> Sampler | None:
    """The model's own distributions as a :class:`Sampler` (numeric parameters held at their
    values, ``--param`` included), with the databases it is linked into; None when it has
    none."""
    try:
        databases = linked_samplers(compiled)
    except OpenPCFError:
        databases = []
    if not inputs(compiled) and not compiled.parameter_uncertainty and not databases:
        return None
    numeric = {
        name: compiled.parameters[name]
        for name, value in compiled.model.parameters.items()
        if isinstance(value, int | float) and not isinstance(value, bool)
    }
    try:
        return Sampler(compiled, recompiler(compiled, numeric), databases)
    except OpenPCFError:
        return None
