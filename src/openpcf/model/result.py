"""Solve a compiled model and assemble every breakdown of its footprint from one solution.

This is the step from :class:`~openpcf.model.compiler.CompiledModel` to a frozen
:class:`~openpcf.core.results.FootprintResult`: per stage, process, exchange and gas, the
fossil/biogenic split, the contribution tree, data quality and provenance hashes.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import overload

import numpy as np
import scipy.sparse as sp

from openpcf import __version__
from openpcf.core.engine import (
    LayeredSolution,
    foreground_intensities,
    layer_intensities,
    solve_background,
    solve_layered,
    solve_linked,
    solver_used,
)
from openpcf.core.quality import primary_share, rate
from openpcf.core.results import (
    ElectricityRepointing,
    ExchangeContribution,
    FootprintResult,
    ProcessContribution,
    RepointedProcess,
    TreeNode,
    frozen_map,
)
from openpcf.core.solver import Backend, involved_activities
from openpcf.core.system import MatrixSystem
from openpcf.core.tree import Edge, TreeBounds, TreeLimits, build_bounded_tree
from openpcf.core.units import conversion_factor
from openpcf.factors import Factor
from openpcf.methods.gases import BY_ID, GAS_IDS
from openpcf.methods.gwp import characterisation_vector
from openpcf.model.background import BackgroundDatabase, link_matrix
from openpcf.model.compiler import CompiledModel, Entry, StatedFactor
from openpcf.model.recalculation import current_recalculation
from openpcf.model.schema import BOUNDARY_STAGES

FACTOR_KINDS = (
    "factor",
    "background",
    "electricity",
    "electricity_claim",
    "supplier_footprint",
    "shipment",
    "substitution",
)


def solve_compiled(
    compiled: CompiledModel, *, backend: Backend = "auto", tree_limits: TreeLimits | None = None
) -> FootprintResult:
    """Solve a compiled model and assemble every breakdown from one solution; the contribution
    tree is bounded by ``tree_limits`` (default :class:`~openpcf.core.tree.TreeLimits`), and a
    note says what the node budget cut when it applied. Inside
    :func:`~openpcf.model.recalculation.recalculating` the background's work is reused from the
    last model solved on the same background (the same result, computed faster)."""
    system = compiled.system
    identity = np.eye(len(GAS_IDS))
    c = characterisation_vector(compiled.gwp, GAS_IDS)
    keeper = current_recalculation()
    sol = (
        solve_layered(system, compiled.demand, identity, backend=backend)
        if keeper is None
        else keeper.solve(system, compiled.demand, identity, backend=backend)
    )
    per_gas_kg = sol.total
    per_gas_co2e = per_gas_kg * c
    columns = compiled.columns

    processes = tuple(
        ProcessContribution(
            id=col.id,
            name=col.name,
            stage=col.stage,
            scaling=float(sol.s_f[j]),
            unit=col.unit,
            direct=float(sol.direct[j] @ c),
            upstream=float(sol.upstream[j] @ c),
            gases=frozen_map(
                {g: float(v) for g, v in zip(GAS_IDS, sol.per_process[j], strict=True) if v}
            ),
        )
        for j, col in enumerate(columns)
    )
    lam_b = sol.lambda_b @ c
    exchanges = tuple(_exchange(e, sol.s_f, lam_b, c) for e in compiled.entries)
    stages = dict.fromkeys(BOUNDARY_STAGES[compiled.model.boundary], 0.0)
    for pc in processes:
        stages[pc.stage] = stages.get(pc.stage, 0.0) + pc.total

    weights = pcf_weights(compiled, exchanges)
    repointed = _repointing(compiled, sol, float(per_gas_co2e.sum()), backend)
    moved = stated_biogenic(compiled, exchanges)  # suppliers' biogenic non-CO2, booked as CO2e
    tree, bounds = _tree(compiled, sol, c, tree_limits)
    return FootprintResult(
        product=compiled.model.product.name,
        declared_unit=compiled.model.product.declared_unit,
        declared_amount=compiled.model.product.declared_amount,
        gwp=compiled.gwp.id,
        total=float(per_gas_co2e.sum()),
        by_stage=frozen_map(stages),
        by_gas_kg=frozen_map(dict(zip(GAS_IDS, map(float, per_gas_kg), strict=True))),
        by_gas_co2e=frozen_map(dict(zip(GAS_IDS, map(float, per_gas_co2e), strict=True))),
        **origin_split(per_gas_co2e, moved),
        aircraft=float(
            sum(pc.total for pc, col in zip(processes, columns, strict=True) if col.aircraft)
        ),
        processes=processes,
        exchanges=exchanges,
        tree=tree,
        quality=rate(weights, [e.pedigree for e in compiled.entries]),
        primary_data_share=primary_share(weights, [e.primary_share for e in compiled.entries]),
        parameters=frozen_map(compiled.parameters),
        provenance=frozen_map(provenance(compiled, backend=backend)),
        notes=_notes(compiled)
        + _conditioning(compiled, sol.condition)
        + _moved(repointed)
        + tuple(n for n in (bounds.note(),) if n),
        background_electricity=repointed,
    )


def _moved(change: ElectricityRepointing | None) -> tuple[str, ...]:
    """One sentence on what re-pointing the background's electricity did."""
    if change is None:
        return ()
    return (
        f"background electricity re-pointed to {change.supply} ({change.where}): "
        f"{change.kwh:.6g} kWh in {len(change.processes)} background processes; the total "
        f"moved by {change.change:+.6g} kg CO2e from {change.total_before:.6g}",
    )


def _repointing(
    compiled: CompiledModel, sol: LayeredSolution, total: float, backend: Backend
) -> ElectricityRepointing | None:
    """Which background processes were re-pointed, their kWh and how far the total moved.

    The total before is the same model linked into the databases' own systems (one more solve,
    each database's factorisation cached by its content hash).
    """
    linked = compiled.linked
    if linked is None or linked.supply is None:
        return None
    system = compiled.system
    s_l = solve_linked(system, solve_background(system, sol.s_f))
    offsets = system.linked_offsets
    per_kwh = conversion_factor(linked.supply.unit, "kWh")
    processes = []
    for r in linked.repointed:
        db = linked.databases[r.database]
        supply = linked.supply_index(r.database)
        assert supply is not None  # a re-pointed database has its supply appended
        draws = -float(db.system.A[supply, r.activity])  # supply units per unit of activity
        scaling = float(s_l[offsets[r.database] + r.activity])
        if scaling == 0.0:  # not in this product's chain
            continue
        processes.append(
            RepointedProcess(
                database=db.ref,
                activity=db.system.activities[r.activity],
                name=db.names[r.activity],
                location=db.locations[r.activity],
                replaced=tuple(db.names[e] for e in r.replaced),
                kwh=scaling * draws * per_kwh,
            )
        )
    kwh = sum(
        float(s_l[offsets[d] + i]) * per_kwh
        for d in range(len(linked.databases))
        if (i := linked.supply_index(d)) is not None
    )
    before = replace(
        system,
        linked=linked.original,
        A_lb=link_matrix(linked.links, linked.original, system.background.size),
    )
    c = characterisation_vector(compiled.gwp, GAS_IDS)
    total_before = float(solve_layered(before, compiled.demand, c, backend=backend).total[0])
    return ElectricityRepointing(
        supply=linked.supply.id,
        where=linked.where,
        kwh=kwh,
        total_before=total_before,
        change=total - total_before,
        processes=tuple(sorted(processes, key=lambda p: -abs(p.kwh))),
    )


#: Gases outside PACT's pcfExcludingBiogenicUptake (fossil + land-use change + biogenic
#: non-CO2): biogenic CO2 emissions and uptake.
NOT_IN_PCF = frozenset({"CO2-biogenic", "CO2-uptake"})


def pcf_weights(compiled: CompiledModel, exchanges: Sequence[ExchangeContribution]) -> np.ndarray:
    """Each exchange's kg CO2e in the PCF excluding biogenic uptake, the weights of the DQR and
    the primary data share (see :mod:`openpcf.core.quality`).

    ``exchanges`` are the result's, one per entry of ``compiled``. A factor row is an
    aggregated datum (the compiler's background is the identity), so an exchange's amount
    times the row's characterised gases is its whole contribution; a linked row's gases are
    its database chain's, as solved.
    """
    values = compiled.gwp.values
    per_unit = [
        sum(kg * values[g] for g, kg in f.emissions.items() if g not in NOT_IN_PCF)
        for f in compiled.factors
    ]
    if compiled.linked is not None:  # linked rows: the database's chain, as solved
        in_pcf = np.array([0.0 if g in NOT_IN_PCF else values[g] for g in GAS_IDS])
        lam_b, _ = layer_intensities(
            compiled.system, np.eye(len(GAS_IDS)), backend="auto", content_hash=_hasher()
        )
        per_unit = list(lam_b @ in_pcf)
    weights = np.zeros(len(exchanges))
    for k, (e, x) in enumerate(zip(compiled.entries, exchanges, strict=True)):
        if e.kind in FACTOR_KINDS:
            weights[k] = x.amount * per_unit[e.row]
        elif e.kind == "emission" and e.label not in NOT_IN_PCF:
            weights[k] = x.amount * values[e.label]
    return weights


def origin_split(co2e: np.ndarray, moved: float) -> dict[str, float]:
    """``fossil``, ``biogenic``, ``biogenic_co2``, ``uptake`` and ``luc`` of a per-gas CO2e
    vector (ordered as ``GAS_IDS``), by each gas's origin (:mod:`openpcf.methods.gases`), with
    ``moved`` (suppliers' biogenic non-CO2 booked on their ``CO2e`` flow, :func:`stated_biogenic`)
    taken from fossil to biogenic."""

    def origin(name: str) -> float:
        return float(sum(v for g, v in zip(GAS_IDS, co2e, strict=True) if BY_ID[g].origin == name))

    return {
        "fossil": origin("fossil") - moved,
        "biogenic": origin("biogenic") + moved,
        "biogenic_co2": float(co2e[GAS_IDS.index("CO2-biogenic")]),
        "uptake": origin("uptake"),
        "luc": origin("luc"),
    }


def stated_biogenic(
    compiled: CompiledModel,
    exchanges: Sequence[ExchangeContribution],
    *,
    stages: Sequence[str] = (),
) -> float:
    """kg CO2e of biogenic non-CO2 emissions inside supplier rows' ``CO2e`` flow (which counts
    as fossil), over the exchanges of processes in ``stages`` (every stage when empty)."""
    stage_of = {c.process: c.stage for c in compiled.columns}
    total = 0.0
    for e, x in zip(compiled.entries, exchanges, strict=True):
        if e.kind not in FACTOR_KINDS or (stages and stage_of[e.process] not in stages):
            continue
        row = compiled.factors[e.row]
        if isinstance(row, StatedFactor):
            total += x.amount * row.biogenic_non_co2
    return total


def _exchange(e: Entry, s_f: np.ndarray, lam_b: np.ndarray, c: np.ndarray) -> ExchangeContribution:
    qty = e.amount * float(s_f[e.column])
    if e.kind in FACTOR_KINDS:
        co2e = qty * float(lam_b[e.row])
    elif e.kind == "emission":
        co2e = qty * float(c[e.row])
    else:  # links between foreground processes: their burden sits with the supplying process
        co2e = 0.0
    return ExchangeContribution(
        process=e.process,
        kind=e.kind,
        label=e.label,
        amount=qty,
        unit=e.unit,
        co2e=co2e,
        primary=e.primary,
        where=e.where,
    )


def _tree(
    compiled: CompiledModel, sol: LayeredSolution, c: np.ndarray, limits: TreeLimits | None
) -> tuple[TreeNode, TreeBounds]:
    """The contribution tree: foreground processes, then (for linked background inputs) the
    databases' processes. Nodes are numbered foreground columns first, then linked
    activities (stacked in database order). Bounded by ``limits`` (``core/tree.py``)."""
    system = compiled.system
    lam_b = sol.lambda_b @ c
    lam_f = foreground_intensities(system, sol.lambda_b, np.eye(len(GAS_IDS))) @ c
    outputs = system.foreground.A.diagonal()
    p = len(compiled.columns)
    into = _linked_nodes(compiled, p)
    by_column: dict[int, list[Edge]] = {j: [] for j in range(p)}
    direct: dict[int, float] = {}
    for e in compiled.entries:
        per_unit = e.amount / outputs[e.column]
        if e.kind == "emission":
            direct[e.column] = direct.get(e.column, 0.0) + per_unit * float(c[e.row])
            continue
        foreground = e.kind not in FACTOR_KINDS  # a supply from, or credit to, a process
        linked = into.get(e.row) if not foreground else None
        child = e.row if foreground else linked
        by_column[e.column].append(
            Edge(
                kind="factor" if child is None else "process",
                label=e.label,
                child=child,
                amount=per_unit,
                unit=e.unit,
                intensity=float(lam_f[e.row] if foreground else lam_b[e.row]),
            )
        )
    for j, value in direct.items():
        by_column[j].append(_direct_edge(value))
    databases = compiled.linked.databases if compiled.linked is not None else ()
    labels = _NodeLabels([col.id for col in compiled.columns], databases)
    units = [col.unit for col in compiled.columns]
    intensity: list[float] = lam_f.tolist()
    lam_l = sol.lambda_l @ c if sol.lambda_l is not None else np.zeros(0)
    for db in databases:
        units += db.units
    if databases:
        intensity += lam_l.tolist()
    offsets = system.linked_offsets
    ref = compiled.reference_column
    return build_bounded_tree(
        root=ref,
        amount=float(compiled.demand[ref]),
        labels=labels,
        units=units,
        intensity=intensity,
        edges=lambda j: (
            by_column[j] if j < p else _linked_edges(compiled, offsets, j - p, p, c, lam_l)
        ),
        cutoff=compiled.model.cutoff_percent / 100.0,
        limits=limits,
    )


def _direct_edge(value: float) -> Edge:
    return Edge(
        kind="emission", label="direct emissions", child=None, amount=1.0, unit="", intensity=value
    )


def _linked_nodes(compiled: CompiledModel, p: int) -> dict[int, int]:
    """Background row -> tree node of the database activity it is linked to."""
    if compiled.linked is None:
        return {}
    offsets = compiled.system.linked_offsets
    return {k.row: p + offsets[k.database] + k.activity for k in compiled.linked.links}


class _NodeLabels(Sequence[str]):
    """The tree's node names: the foreground columns' ids, then each linked database's
    activities, named when the tree reaches them (a database has thousands of activities, a
    bounded tree names a few hundred)."""

    def __init__(self, foreground: list[str], databases: Sequence[BackgroundDatabase]) -> None:
        self._foreground = foreground
        self._databases = databases
        self._starts = np.cumsum([len(foreground), *(db.system.size for db in databases)])

    def __len__(self) -> int:
        return int(self._starts[-1])

    @overload
    def __getitem__(self, index: int) -> str: ...

    @overload
    def __getitem__(self, index: slice) -> list[str]: ...

    def __getitem__(self, index: int | slice) -> str | list[str]:
        if isinstance(index, slice):
            return [self[k] for k in range(*index.indices(len(self)))]
        if not -len(self) <= index < len(self):
            raise IndexError(f"tree node {index} out of range")
        index %= len(self)
        if index < len(self._foreground):
            return self._foreground[index]
        d = int(np.searchsorted(self._starts, index, side="right")) - 1
        return self._databases[d].label(index - int(self._starts[d]))


def _linked_edges(
    compiled: CompiledModel,
    offsets: tuple[int, ...],
    i: int,
    p: int,
    c: np.ndarray,
    lam_l: np.ndarray,
) -> list[Edge]:
    """What one unit of linked activity ``i`` (stacked index; ``offsets``, the system's
    ``linked_offsets``) draws on: its database's column; ``lam_l`` are the linked activities'
    kg CO2e per unit."""
    assert compiled.linked is not None
    d = max(k for k, o in enumerate(offsets) if o <= i)
    db, a = compiled.linked.databases[d], i - offsets[d]
    rows, values = _column(db.system.A, a)
    output = float(values[rows == a].sum())
    edges = [
        Edge(
            kind="process",
            label=db.label(int(r)),
            child=p + offsets[d] + int(r),
            amount=-float(v) / output,
            unit=db.units[int(r)],
            intensity=float(lam_l[offsets[d] + int(r)]),
        )
        for r, v in zip(rows, values, strict=True)
        if int(r) != a and v != 0.0
    ]
    gases, kg = _column(db.system.B, a)
    emitted = float(kg @ c[gases]) / output
    if emitted:
        edges.append(_direct_edge(emitted))
    return edges


def _column(M: sp.csc_array, j: int) -> tuple[np.ndarray, np.ndarray]:
    """Rows and values of the entries stored in column ``j`` of ``M`` (duplicates summed, rows
    ascending), read from the CSC arrays.

    Design note: the tree visits hundreds of database activities per calculation; slicing
    ``M[:, [j]]`` built two sparse arrays per visit and took 56 % of a linked model's
    calculation (5.5 of 9.8 ms, USLCI, ``bench/parameters.py``).
    """
    if not M.has_canonical_format:  # (imported databases are stored canonical)
        M = sp.csc_array(M, copy=True)
        M.sum_duplicates()
    lo, hi = M.indptr[j], M.indptr[j + 1]
    return M.indices[lo:hi], M.data[lo:hi]


def _hasher() -> Callable[[MatrixSystem], str]:
    """How to find a system's content hash: once per object inside a recalculation."""
    keeper = current_recalculation()
    return MatrixSystem.content_hash if keeper is None else keeper.content_hash


def factor_rows_hash(factors: Sequence[Factor]) -> str:
    """SHA-256 of the exact factor rows used (canonical JSON, sorted by id)."""
    rows = [
        {
            "id": f.id,
            "unit": f.unit,
            "emissions": dict(sorted(f.emissions.items())),
            "geography": f.geography,
            "year": f.year,
            "source": f.source,
        }
        for f in sorted(factors, key=lambda f: f.id)
    ]
    return hashlib.sha256(json.dumps(rows, sort_keys=True).encode()).hexdigest()


def provenance(compiled: CompiledModel, *, backend: Backend) -> dict[str, str]:
    text = compiled.loaded.doc.text
    params = json.dumps(dict(sorted(compiled.parameters.items())), sort_keys=True)
    return {
        "model_file": str(compiled.loaded.path),
        "model_sha256": hashlib.sha256(text.encode()).hexdigest(),
        "parameters_sha256": hashlib.sha256(params.encode()).hexdigest(),
        "factor_rows_sha256": factor_rows_hash(compiled.factors),
        "factor_set": compiled.factor_set.name,
        "factor_set_sha256": compiled.factor_set.content_hash,
        "gwp_set": compiled.gwp.id,
        "gwp_source": compiled.gwp.source,
        "solver": solver_provenance(compiled, backend),
        "openpcf_version": __version__,
        **_linking_provenance(compiled),
    }


def solver_provenance(compiled: CompiledModel, backend: Backend) -> str:
    """The solver that actually solved the system ``backend`` applies to: the background, or
    for a linked model the linked databases (distinct descriptions joined by ``"; "``); the
    foreground is always solved with SuperLU. An iterative solve that fell back to LU says so
    and why (:func:`openpcf.core.engine.solver_used`), e.g. ``"iterative, fell back to
    superlu: BiCGSTAB reached a relative residual of …"``."""
    system = compiled.system
    solved = system.linked or (system.background,)
    return "; ".join(dict.fromkeys(solver_used(s, backend=backend) for s in solved))


def _linking_provenance(compiled: CompiledModel) -> dict[str, str]:
    """For a linked model: the databases linked into (content hash of each system as solved)
    and the supply their electricity was re-pointed to; nothing for a precomputed one."""
    linked = compiled.linked
    if linked is None:
        return {}
    content_hash = _hasher()
    out = {
        "background_linking": "linked",
        "linked_databases": "; ".join(
            f"{db.ref} (system sha256 {content_hash(db.system)})" for db in linked.databases
        ),
    }
    if linked.supply is not None:
        out["background_electricity"] = f"{linked.supply.id} ({linked.supply.source})"
    return out


#: Condition number of the (equilibrated) foreground above which a result carries a warning:
#: about 8 of a double's 16 significant digits are then lost, and a loop of processes nearly
#: cancels (a loop that needs 0.99999999 of its own product per unit multiplies its inputs
#: 100 million times), which is almost always a mistake in amounts or units.
ILL_CONDITIONED = 1e8


def _conditioning(compiled: CompiledModel, condition: float) -> tuple[str, ...]:
    """A warning note when the foreground system is nearly singular (issue 11, item 11)."""
    if not condition > ILL_CONDITIONED:
        return ()
    fg = compiled.system.foreground
    involved = involved_activities(fg.A, fg.activities)
    named = ", ".join(repr(x) for x in involved[:10])
    more = f" and {len(involved) - 10} more" if len(involved) > 10 else ""
    digits = min(16, round(math.log10(condition)))
    return (
        f"warning: the system of processes is nearly singular (condition number about "
        f"{condition:.1e}), so up to {digits} of 16 significant digits of the result may be "
        f"lost; processes involved: {named}{more}. Check the loops between them: they nearly "
        "consume as much as they produce",
    )


def _notes(compiled: CompiledModel) -> tuple[str, ...]:
    notes = [
        f"electricity: {g.fallback_note}"
        for g in compiled.grid_choices
        if g.fallback_note and not g.fallback_note.startswith("exact match")
    ]
    notes += [
        f"factor {f.id} is illustrative (no open published figure): {f.notes}"
        for f in compiled.factors
        if f.illustrative
    ]
    notes += [f"{f.id}: {f.notes}" for f in compiled.factors if f.id.startswith("supplier.")]
    notes += compiled.notes
    return tuple(dict.fromkeys(notes))
