"""Solve a compiled model and assemble every breakdown of its footprint from one solution.

This is the step from :class:`~openpcf.model.compiler.CompiledModel` to a frozen
:class:`~openpcf.core.results.FootprintResult`: per stage, process, exchange and gas, the
fossil/biogenic split, the contribution tree, data quality and provenance hashes.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Sequence

import numpy as np

from openpcf import __version__
from openpcf.core.engine import foreground_intensities, solve_layered
from openpcf.core.quality import primary_share, rate
from openpcf.core.results import (
    ExchangeContribution,
    FootprintResult,
    ProcessContribution,
    TreeNode,
    frozen_map,
)
from openpcf.core.solver import Backend, involved_activities, resolve_backend
from openpcf.core.tree import Edge, build_tree
from openpcf.factors import Factor
from openpcf.methods.gases import BY_ID, GAS_IDS
from openpcf.methods.gwp import characterisation_vector
from openpcf.model.compiler import CompiledModel, Entry, StatedFactor
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


def solve_compiled(compiled: CompiledModel, *, backend: Backend = "auto") -> FootprintResult:
    """Solve a compiled model and assemble every breakdown from one solution."""
    system = compiled.system
    identity = np.eye(len(GAS_IDS))
    c = characterisation_vector(compiled.gwp, GAS_IDS)
    sol = solve_layered(system, compiled.demand, identity, backend=backend)
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

    def origin_sum(origin: str) -> float:
        return float(
            sum(v for g, v in zip(GAS_IDS, per_gas_co2e, strict=True) if BY_ID[g].origin == origin)
        )

    weights = pcf_weights(compiled, exchanges)
    moved = stated_biogenic(compiled, exchanges)  # suppliers' biogenic non-CO2, booked as CO2e
    return FootprintResult(
        product=compiled.model.product.name,
        declared_unit=compiled.model.product.declared_unit,
        declared_amount=compiled.model.product.declared_amount,
        gwp=compiled.gwp.id,
        total=float(per_gas_co2e.sum()),
        by_stage=frozen_map(stages),
        by_gas_kg=frozen_map(dict(zip(GAS_IDS, map(float, per_gas_kg), strict=True))),
        by_gas_co2e=frozen_map(dict(zip(GAS_IDS, map(float, per_gas_co2e), strict=True))),
        fossil=origin_sum("fossil") - moved,
        biogenic=origin_sum("biogenic") + moved,
        biogenic_co2=float(per_gas_co2e[GAS_IDS.index("CO2-biogenic")]),
        uptake=origin_sum("uptake"),
        luc=origin_sum("luc"),
        aircraft=float(
            sum(pc.total for pc, col in zip(processes, columns, strict=True) if col.aircraft)
        ),
        processes=processes,
        exchanges=exchanges,
        tree=_tree(compiled, sol.lambda_b, c, lam_b),
        quality=rate(weights, [e.pedigree for e in compiled.entries]),
        primary_data_share=primary_share(weights, [e.primary_share for e in compiled.entries]),
        parameters=frozen_map(compiled.parameters),
        provenance=frozen_map(provenance(compiled, backend=backend)),
        notes=_notes(compiled) + _conditioning(compiled, sol.condition),
    )


#: Gases outside PACT's pcfExcludingBiogenicUptake (fossil + land-use change + biogenic
#: non-CO2): biogenic CO2 emissions and uptake.
NOT_IN_PCF = frozenset({"CO2-biogenic", "CO2-uptake"})


def pcf_weights(compiled: CompiledModel, exchanges: Sequence[ExchangeContribution]) -> np.ndarray:
    """Each exchange's kg CO2e in the PCF excluding biogenic uptake, the weights of the DQR and
    the primary data share (see :mod:`openpcf.core.quality`).

    ``exchanges`` are the result's, one per entry of ``compiled``. A factor row is an
    aggregated datum (the compiler's background is the identity), so an exchange's amount
    times the row's characterised gases is its whole contribution.
    """
    values = compiled.gwp.values
    per_unit = [
        sum(kg * values[g] for g, kg in f.emissions.items() if g not in NOT_IN_PCF)
        for f in compiled.factors
    ]
    weights = np.zeros(len(exchanges))
    for k, (e, x) in enumerate(zip(compiled.entries, exchanges, strict=True)):
        if e.kind in FACTOR_KINDS:
            weights[k] = x.amount * per_unit[e.row]
        elif e.kind == "emission" and e.label not in NOT_IN_PCF:
            weights[k] = x.amount * values[e.label]
    return weights


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
    compiled: CompiledModel, lambda_b: np.ndarray, c: np.ndarray, lam_b: np.ndarray
) -> TreeNode:
    system = compiled.system
    lam_f = foreground_intensities(system, lambda_b, np.eye(len(GAS_IDS))) @ c
    outputs = system.foreground.A.diagonal()
    by_column: dict[int, list[Edge]] = {j: [] for j in range(len(compiled.columns))}
    direct: dict[int, float] = {}
    for e in compiled.entries:
        per_unit = e.amount / outputs[e.column]
        if e.kind == "emission":
            direct[e.column] = direct.get(e.column, 0.0) + per_unit * float(c[e.row])
            continue
        foreground = e.kind not in FACTOR_KINDS  # a supply from, or credit to, a process
        by_column[e.column].append(
            Edge(
                kind="process" if foreground else "factor",
                label=e.label,
                child=e.row if foreground else None,
                amount=per_unit,
                unit=e.unit,
                intensity=float(lam_f[e.row] if foreground else lam_b[e.row]),
            )
        )
    for j, value in direct.items():
        by_column[j].append(
            Edge(
                kind="emission",
                label="direct emissions",
                child=None,
                amount=1.0,
                unit="",
                intensity=value,
            )
        )
    ref = compiled.reference_column
    return build_tree(
        root=ref,
        amount=float(compiled.demand[ref]),
        labels=[col.id for col in compiled.columns],
        units=[col.unit for col in compiled.columns],
        intensity=[float(x) for x in lam_f],
        edges=lambda j: by_column[j],
        cutoff=compiled.model.cutoff_percent / 100.0,
    )


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
        # the background's solver: the foreground is always solved with SuperLU
        "solver": resolve_backend(backend, compiled.system.background.size),
        "openpcf_version": __version__,
    }


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
    return tuple(dict.fromkeys(notes))
