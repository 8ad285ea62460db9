"""The analysis sections of the web pages: the contribution tree, uncertainty, and scenarios.

Views of calculations that already exist; nothing here computes a footprint its own way.

- **Contributions** (:class:`ContributionTree`): the calculation's supply-chain contribution
  tree (:func:`openpcf.core.tree.build_tree`) in its JSON form, the ``contribution_tree`` of
  :func:`openpcf.model.result_json.result_to_dict`. The editor converts its fresh result to
  that form, and the product page reads it from the stored calculation record
  (``CalculationRecord.result``, which is exactly that dict), so both pages show the same
  tree the same way: a treemap that drills down one level per click (``static/analysis.js``)
  and, for screen readers and without JavaScript, a table with each node's path.
- **Uncertainty** (:class:`UncertaintyView`): the analytic first-order propagation of the
  model's own distributions, :func:`openpcf.reports.sensitivity.propagate`, as the ISO 14067
  report states it: mean, standard deviation, the normal 95 % interval and each input's share
  of the variance. It needs the compiled model: the editor has it, and the product page
  recalculates it from the model text kept with the stored record
  (:func:`openpcf.services.publishing.kept_model_text`) with the stored parameters, showing it
  only when that gives the stored footprint again (:func:`product_analysis`). On request a Monte
  Carlo run (:func:`monte_carlo_view`) of :func:`openpcf.services.uncertainty.uncertainty`,
  bounded in iterations and expected time.
- **Scenarios**: :mod:`openpcf.services.web_scenarios`, gathered here for the editor
  (:func:`analyse_editor`).

Bounds: at most :data:`MAX_TREE_NODES` nodes of the tree and :data:`MAX_ITERATIONS` draws.
Nothing here raises for bad input: problems are messages at their fields.
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Literal

from sqlalchemy import select

from openpcf.db.engine import session_scope
from openpcf.db.errors import NotFoundError
from openpcf.db.models import CalculationRecord, Footprint, Product
from openpcf.errors import OpenPCFError
from openpcf.model.database_inputs import input_label
from openpcf.model.montecarlo import recompiler
from openpcf.model.result_json import result_to_dict
from openpcf.reports.build import LABEL_CHARS
from openpcf.reports.sensitivity import effective_overrides, propagate
from openpcf.services.uncertainty import uncertainty
from openpcf.services.web_calculation import WebCaller, owner, web_options
from openpcf.services.web_deliverables import recalculate_stored
from openpcf.services.web_models import EditorOutcome
from openpcf.services.web_scenarios import (
    MAX_SCENARIOS,
    ScenarioComparison,
    ScenarioInput,
    basis,
    compare_scenarios,
    parameter_names,
    scenarios_from_form,
)

if TYPE_CHECKING:
    from openpcf.model.calculation import Calculation

#: The most nodes of the contribution tree shown (chart and table alike), depth first.
MAX_TREE_NODES = 300
#: The deepest level of the tree shown (the root is level 0).
MAX_TREE_DEPTH = 8
#: The inputs named in the variance chart; the rest are summed into one bar.
TOP_INPUTS = 8
#: The Monte Carlo run of the editor: iterations (the CLI runs more, until converged) and the
#: longest it may be expected to take, in seconds (:func:`monte_carlo_view`'s design note).
MIN_ITERATIONS = 100
DEFAULT_ITERATIONS = 1000
MAX_ITERATIONS = 2000
MONTE_CARLO_SECONDS = 10.0

__all__ = [
    "ContributionTree",
    "EditorAnalysis",
    "MonteCarloRequest",
    "MonteCarloView",
    "ProductAnalysis",
    "TreeRow",
    "UncertaintyView",
    "analyse_editor",
    "contribution_tree",
    "monte_carlo_request",
    "monte_carlo_view",
    "product_analysis",
    "uncertainty_view",
]


def _num(value: Any) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return 0.0
    return number if number == number else 0.0  # NaN (a damaged record) reads as 0


# --------------------------------------------------------------------------------------------
# contributions


@dataclass(frozen=True, slots=True, kw_only=True)
class TreeRow:
    """One node of the contribution tree, as a table row: its path from the root."""

    path: tuple[str, ...]
    kind: str  # process | factor | emission | other (below cut-off)
    amount: float
    unit: str
    kg_co2e: float
    share: float  # of the root's total (0..1; negative for a credit)

    @property
    def depth(self) -> int:
        return len(self.path) - 1


@dataclass(frozen=True, slots=True, kw_only=True)
class ContributionTree:
    """The contribution tree, cut at :data:`MAX_TREE_NODES` nodes and :data:`MAX_TREE_DEPTH`
    levels; ``left_out`` counts the nodes not shown (their burden is in their parents')."""

    rows: tuple[TreeRow, ...]
    root: dict[str, Any]  # the shown tree, nested (label, kind, kg_co2e, share, children)
    unit: str
    left_out: int = 0

    def chart(self, names: Mapping[str, str]) -> dict[str, Any]:
        """The treemap's data for ``static/analysis.js``. ``names`` translates the two labels
        the engine makes up, by kind: ``emission`` ("direct emissions") and ``other`` ("below
        cut-off"). A box's area is the node's |kg CO2e| (a credit is as visible as a burden;
        its tooltip shows the sign); a parent's area is the sum of its children's."""
        return {"kind": "treemap", "unit": self.unit, "data": [_treemap(self.root, names)]}


def _treemap(node: Mapping[str, Any], names: Mapping[str, str]) -> dict[str, Any]:
    kind = str(node["kind"])
    label = names.get(kind, node["label"]) if kind in ("emission", "other") else node["label"]
    children = [_treemap(c, names) for c in node["children"]]
    area = sum(c["value"] for c in children) if children else abs(node["kg_co2e"])
    out: dict[str, Any] = {
        "name": label,
        "value": area,
        "co2e": node["kg_co2e"],
        "share": node["share"],
    }
    if children:
        out["children"] = children
    return out


def contribution_tree(tree: Any, *, unit: str) -> ContributionTree | None:
    """The JSON form of a contribution tree (``result_to_dict(...)["contribution_tree"]``,
    also as stored) for the page; None when ``tree`` is not one (an old or damaged record)."""
    if not isinstance(tree, Mapping) or "label" not in tree:
        return None
    rows: list[TreeRow] = []
    left_out = 0

    def visit(node: Mapping[str, Any], path: tuple[str, ...]) -> dict[str, Any]:
        nonlocal left_out
        label = str(node.get("label", ""))[:200]
        here = (*path, label)
        row = TreeRow(
            path=here,
            kind=str(node.get("kind", "")),
            amount=_num(node.get("amount")),
            unit=str(node.get("unit", ""))[:40],
            kg_co2e=_num(node.get("kg_co2e")),
            share=_num(node.get("share")),
        )
        rows.append(row)
        shown: dict[str, Any] = {
            "label": label,
            "kind": row.kind,
            "kg_co2e": row.kg_co2e,
            "share": row.share,
            "children": [],
        }
        for child in _children(node):
            if len(here) > MAX_TREE_DEPTH or len(rows) >= MAX_TREE_NODES:
                left_out += _count(child)
            else:
                shown["children"].append(visit(child, here))
        return shown

    root = visit(tree, ())
    return ContributionTree(rows=tuple(rows), root=root, unit=unit, left_out=left_out)


def _children(node: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    found = node.get("children")
    return [c for c in found if isinstance(c, Mapping)] if isinstance(found, list) else []


def _count(node: Mapping[str, Any]) -> int:
    """Nodes in a subtree (iterative: a stored tree may be deep)."""
    count, stack = 0, [node]
    while stack:
        here = stack.pop()
        count += 1
        stack.extend(_children(here))
    return count


# --------------------------------------------------------------------------------------------
# uncertainty


@dataclass(frozen=True, slots=True, kw_only=True)
class UncertaintyView:
    """The first-order propagation of the model's distributions (kg CO2e on ``unit``)."""

    deterministic: float
    mean: float
    sd: float
    p2_5: float
    p97_5: float
    inputs: int  # inputs with a distribution
    shares: tuple[tuple[str, float], ...]  # input key -> share of the variance, largest first
    rest: float  # the share of the inputs beyond the first TOP_INPUTS
    ignored: Mapping[str, int]  # database ref -> distributions left out (Monte Carlo only)
    unit: str
    #: a shown input's key -> its name in the chart (a database entry ``database › process ›
    #: flow``, :func:`openpcf.model.database_inputs.input_label`, as the report names it)
    labels: Mapping[str, str] = field(default_factory=dict)

    @property
    def relative_sd(self) -> float:
        """The coefficient of variation, sd / |mean| (0 for a zero mean)."""
        return self.sd / abs(self.mean) if self.mean else 0.0

    def chart(self, rest_label: str) -> dict[str, Any]:
        """The variance shares (percent) as a horizontal bar chart for ``static/analysis.js``."""
        labels = [self.labels.get(key, key) for key, _ in self.shares]
        values = [round(100.0 * share, 6) for _, share in self.shares]
        if self.rest > 0:
            labels.append(rest_label)
            values.append(round(100.0 * self.rest, 6))
        return {"kind": "shares", "unit": "%", "labels": labels, "values": values}


def uncertainty_view(calculation: Calculation) -> UncertaintyView | None:
    """The propagation of ``calculation``'s model as the report gives it; None when the model
    carries no distribution (``uncertainty:``, ``parameter_uncertainty:``)."""
    found = propagate(calculation.compiled)
    if found is None:
        return None
    ranked = sorted(found.contributions.items(), key=lambda kv: (-kv[1], kv[0]))
    shown = ranked[:TOP_INPUTS]
    compiled = calculation.compiled
    result = calculation.result
    return UncertaintyView(
        deterministic=found.deterministic,
        mean=found.mean,
        sd=found.sd,
        p2_5=found.p2_5,
        p97_5=found.p97_5,
        inputs=len(ranked),
        shares=tuple(shown),
        rest=sum(share for _, share in ranked[TOP_INPUTS:]),
        ignored=dict(found.ignored),
        unit=basis(result.declared_amount, result.declared_unit),
        labels={key: input_label(compiled, key, width=LABEL_CHARS) for key, _ in shown},
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class MonteCarloRequest:
    """The editor's Monte Carlo fields as typed, and the problems found in them (field →
    message key: ``range``, ``seed_bad``, ``slow``, ``failed``)."""

    iterations: str = str(DEFAULT_ITERATIONS)
    seed: str = ""
    errors: Mapping[str, str] = field(default_factory=dict)
    estimate: float = 0.0  # seconds the run was expected to take, when refused as slow
    problem: str = ""  # why the run failed (``failed``)


@dataclass(frozen=True, slots=True, kw_only=True)
class MonteCarloView:
    """A Monte Carlo run of :func:`openpcf.services.uncertainty.uncertainty` (kg CO2e on
    ``unit``); ``seed`` reproduces it (``openpcf uncertainty MODEL --seed``)."""

    seed: int
    iterations: int
    mean: float
    sd: float
    standard_error: float
    percentiles: Mapping[str, float]  # "2.5", "50", "97.5" …
    edges: tuple[float, ...]
    counts: tuple[int, ...]
    unit: str

    def chart(self) -> dict[str, Any]:
        """The histogram for ``static/analysis.js``: iterations per bin, labelled by the bin's
        middle."""
        middles = [(a + b) / 2 for a, b in zip(self.edges, self.edges[1:], strict=False)]
        return {
            "kind": "histogram",
            "unit": self.unit,
            "labels": [f"{m:.4g}" for m in middles],
            "values": list(self.counts),
        }


_SEED = re.compile(r"^[0-9]{1,39}$")


def monte_carlo_request(items: Iterable[tuple[str, Any]]) -> MonteCarloRequest:
    """The fields ``mc-iterations`` (:data:`MIN_ITERATIONS` to :data:`MAX_ITERATIONS`) and
    ``mc-seed`` (empty: a fresh seed; else a whole number below 2¹²⁸) of the editor's form."""
    typed = {k: v.strip()[:40] for k, v in items if isinstance(v, str) and k.startswith("mc-")}
    iterations = typed.get("mc-iterations", "") or str(DEFAULT_ITERATIONS)
    seed = typed.get("mc-seed", "")
    errors = {}
    if not (iterations.isdigit() and MIN_ITERATIONS <= int(iterations) <= MAX_ITERATIONS):
        errors["mc-iterations"] = "range"
    if seed and not (_SEED.match(seed) and int(seed) < 2**128):
        errors["mc-seed"] = "seed_bad"
    return MonteCarloRequest(iterations=iterations, seed=seed, errors=errors)


def monte_carlo_view(
    calculation: Calculation, request: MonteCarloRequest, *, caller: WebCaller | None = None
) -> tuple[MonteCarloView | None, MonteCarloRequest]:
    """A Monte Carlo run of ``calculation``'s model with the ``request``'s iterations and seed,
    through :func:`openpcf.services.uncertainty.uncertainty` (the model's own distributions;
    the same parameters, factors and ``caller``'s supplier data as the calculation). None,
    with the request marked, when its fields are wrong or the run would take more than
    :data:`MONTE_CARLO_SECONDS`.

    Design note (the time bound). Uncertain amounts cost little (2,000 iterations of the test
    model in 16 ms: stacked linear solves); an uncertain parameter recompiles the model per
    iteration (0.9 ms for the test model, 1.8 s for 2,000). So one recompilation is timed
    first and the run refused when ``iterations`` times it exceeds the bound.
    """
    if request.errors:
        return None, request
    compiled = calculation.compiled
    iterations = int(request.iterations)
    if compiled.parameter_uncertainty:
        started = time.perf_counter()
        recompiler(compiled, effective_overrides(compiled))({})
        estimate = iterations * (time.perf_counter() - started)
        if estimate > MONTE_CARLO_SECONDS:
            slow = replace(request, errors={"mc-iterations": "slow"}, estimate=estimate)
            return None, slow
    options = web_options(caller, overrides=effective_overrides(compiled), gwp=compiled.gwp.id)
    # uncertainty() hands its options to calculate() as they are: the caller's organisation
    # pins whose supplier data the model reads (calculate's organisation=)
    pinned: dict[str, Any] = {**options, "organisation": owner(caller)}
    try:
        found = uncertainty(
            compiled.loaded,
            monte_carlo=True,
            seed=int(request.seed) if request.seed else None,
            max_iterations=iterations,
            background=False,
            **pinned,
        ).monte_carlo
    except OpenPCFError as e:  # a draw the model cannot take, e.g. a share above 1
        failed = replace(request, errors={"mc-iterations": "failed"}, problem=str(e)[:500])
        return None, failed
    if found is None:  # not reached: monte_carlo=True always runs
        return None, request
    result = calculation.result
    return MonteCarloView(
        seed=found.seed,
        iterations=found.iterations,
        mean=found.mean,
        sd=found.sd,
        standard_error=found.standard_error,
        percentiles=dict(found.percentiles),
        edges=found.histogram_edges,
        counts=found.histogram_counts,
        unit=basis(result.declared_amount, result.declared_unit),
    ), request


# --------------------------------------------------------------------------------------------
# the editor and the product page


@dataclass(frozen=True, slots=True, kw_only=True)
class EditorAnalysis:
    """What the editor shows below its total: contributions, uncertainty, scenarios."""

    contributions: ContributionTree | None = None
    uncertainty: UncertaintyView | None = None
    parameters: tuple[str, ...] = ()
    scenarios: tuple[ScenarioInput, ...] = ()
    comparison: ScenarioComparison | None = None
    monte_carlo_request: MonteCarloRequest = field(default_factory=MonteCarloRequest)
    monte_carlo: MonteCarloView | None = None

    @property
    def max_scenarios(self) -> int:
        return MAX_SCENARIOS

    @property
    def min_iterations(self) -> int:
        return MIN_ITERATIONS

    @property
    def max_iterations(self) -> int:
        return MAX_ITERATIONS

    @property
    def columns(self) -> tuple[ScenarioInput, ...]:
        """The scenario columns of the form: those typed, and one empty column to add one
        (while fewer than :data:`MAX_SCENARIOS`)."""
        if len(self.scenarios) >= MAX_SCENARIOS:
            return self.scenarios
        used = {s.number for s in self.scenarios}
        free = next(n for n in range(1, MAX_SCENARIOS + 1) if n not in used)
        return (*self.scenarios, ScenarioInput(number=free, name="", values={}))


def analyse_editor(
    outcome: EditorOutcome,
    *,
    text: str,
    overrides: Mapping[str, str],
    form: Iterable[tuple[str, Any]] = (),
    compare: bool = False,
    monte_carlo: bool = False,
    caller: WebCaller | None = None,
) -> EditorAnalysis:
    """The editor's analysis of ``outcome`` (the model ``text`` evaluated with ``overrides``):
    the contribution tree and the uncertainty when it calculated, the scenarios and Monte
    Carlo fields of the ``form`` (kept as typed); when ``compare``, the scenarios calculated
    side by side, when ``monte_carlo`` (and the model has distributions) a Monte Carlo run;
    each with ``caller``'s data, as ``outcome`` was calculated."""
    items = list(form)
    scenarios = scenarios_from_form(items)
    request = monte_carlo_request(items)
    calc = outcome.calculation
    if calc is None:
        return EditorAnalysis(
            parameters=parameter_names(outcome),
            scenarios=scenarios,
            monte_carlo_request=request,
        )
    result = calc.result
    unit = basis(result.declared_amount, result.declared_unit)
    comparison = None
    if compare and scenarios:
        comparison, scenarios = compare_scenarios(
            text, overrides, scenarios, base=outcome, caller=caller
        )
    spread = uncertainty_view(calc)
    run = None
    if monte_carlo and spread is not None:
        run, request = monte_carlo_view(calc, request, caller=caller)
    return EditorAnalysis(
        contributions=contribution_tree(result_to_dict(result)["contribution_tree"], unit=unit),
        uncertainty=spread,
        parameters=parameter_names(outcome),
        scenarios=scenarios,
        comparison=comparison,
        monte_carlo_request=request if monte_carlo else replace(request, errors={}),
        monte_carlo=run,
    )


#: Why the product page shows, or does not show, the uncertainty (``ProductAnalysis.spread``).
SpreadState = Literal["shown", "not_kept", "no_distributions", "differs"]


@dataclass(frozen=True, slots=True, kw_only=True)
class ProductAnalysis:
    """The product page's analysis: the contribution tree from the stored calculation record,
    and the uncertainty recalculated from the model text kept with it.

    ``spread`` says which: ``shown`` (``uncertainty`` holds it), ``not_kept`` (no model text is
    stored: an older record, or a model with side files), ``no_distributions`` (the model has
    none) or ``differs`` (recalculated here, the model does not give the stored footprint
    again; ``problem`` says why, and no number is shown)."""

    footprint_id: str
    name: str
    contributions: ContributionTree | None  # None: no record, or one without a tree
    uncertainty: UncertaintyView | None = None
    spread: SpreadState = "not_kept"
    problem: str = ""


def product_analysis(
    caller: WebCaller, *, organisation_id: int, footprint_id: str
) -> ProductAnalysis:
    """The contribution tree of one of the organisation's footprints, as stored, and its
    first-order uncertainty when the model text is kept with the record: recalculated from
    that text with the stored parameters and ``caller``'s data
    (:func:`openpcf.services.web_deliverables.recalculate_stored`, the report's way), shown
    only when it gives the stored footprint again (the same totals and PACT document).

    Raises
    ------
    NotFoundError
        No such footprint, or another organisation's (the message does not say which).
    """
    try:
        key = uuid.UUID(footprint_id)
    except ValueError:
        raise NotFoundError(f"no footprint {footprint_id[:64]!r}") from None
    query = (
        select(
            Product.name, Footprint.document, CalculationRecord.result, CalculationRecord.model_text
        )
        .select_from(Footprint)
        .join(Product, Product.id == Footprint.product_id)
        .outerjoin(CalculationRecord, CalculationRecord.id == Footprint.calculation_id)
        .where(Footprint.id == key, Footprint.organisation_id == organisation_id)
    )
    with session_scope(caller.engine) as session:
        found = session.execute(query).first()
    if found is None:
        raise NotFoundError(f"no footprint {key}")
    result = found.result if isinstance(found.result, Mapping) else {}
    unit = basis(_num(result.get("declared_amount")) or 1.0, str(result.get("declared_unit", "")))
    analysis = ProductAnalysis(
        footprint_id=str(key),
        name=found.name,
        contributions=contribution_tree(result.get("contribution_tree"), unit=unit),
    )
    if found.model_text is None:
        return analysis
    parameters = result.get("parameters")
    calculation, errors = recalculate_stored(
        found.model_text,
        parameters if isinstance(parameters, Mapping) else {},
        dict(found.document),
        caller=caller,
    )
    if calculation is None:
        problem = "; ".join(e.message for e in errors)[:500]
        return replace(analysis, spread="differs", problem=problem)
    spread = uncertainty_view(calculation)
    if spread is None:
        return replace(analysis, spread="no_distributions")
    return replace(analysis, uncertainty=spread, spread="shown")
