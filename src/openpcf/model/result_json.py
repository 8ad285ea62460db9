"""A :class:`FootprintResult` as plain JSON-ready data (the ``--format json`` output)."""

from __future__ import annotations

from typing import Any

from openpcf.core.results import FootprintResult, TreeNode


def _tree(node: TreeNode) -> dict[str, Any]:
    out: dict[str, Any] = {
        "label": node.label,
        "kind": node.kind,
        "amount": node.amount,
        "unit": node.unit,
        "kg_co2e": node.co2e,
        "share": node.share,
    }
    if node.children:
        out["children"] = [_tree(c) for c in node.children]
    return out


def _repointing(result: FootprintResult) -> dict[str, Any]:
    """The re-pointed background electricity, when the model asked for it."""
    change = result.background_electricity
    if change is None:
        return {}
    return {
        "background_electricity": {
            "supply": change.supply,
            "where": change.where,
            "kwh": change.kwh,
            "kg_co2e_before": change.total_before,
            "change_kg_co2e": change.change,
            "processes": [
                {
                    "database": p.database,
                    "activity": p.activity,
                    "name": p.name,
                    "location": p.location,
                    "replaced": list(p.replaced),
                    "kwh": p.kwh,
                }
                for p in change.processes
            ],
        }
    }


def result_to_dict(result: FootprintResult) -> dict[str, Any]:
    """Every number of the result, per declared unit, with units in the key names."""
    q = result.quality
    return {
        "product": result.product,
        "declared_unit": result.declared_unit,
        "declared_amount": result.declared_amount,
        "gwp": result.gwp,
        "kg_co2e": result.total,
        "pcf_excluding_biogenic_uptake": result.pcf_excluding_biogenic_uptake,
        "pcf_including_biogenic_uptake": result.pcf_including_biogenic_uptake,
        "fossil_kg_co2e": result.fossil,
        "biogenic_kg_co2e": result.biogenic,
        "biogenic_uptake_kg_co2e": result.uptake,
        "land_use_change_kg_co2e": result.luc,
        "aircraft_kg_co2e": result.aircraft,
        "by_stage_kg_co2e": dict(result.by_stage),
        "by_gas_kg": {g: v for g, v in result.by_gas_kg.items() if v},
        "by_gas_kg_co2e": {g: v for g, v in result.by_gas_co2e.items() if v},
        "processes": [
            {
                "id": p.id,
                "name": p.name,
                "stage": p.stage,
                "scaling": p.scaling,
                "unit": p.unit,
                "kg_co2e": p.total,
                "direct_kg_co2e": p.direct,
                "upstream_kg_co2e": p.upstream,
                "gases_kg": dict(p.gases),
            }
            for p in result.processes
        ],
        "exchanges": [
            {
                "process": e.process,
                "kind": e.kind,
                "label": e.label,
                "amount": e.amount,
                "unit": e.unit,
                "kg_co2e": e.co2e,
                "primary": e.primary,
                "where": e.where,
            }
            for e in result.exchanges
        ],
        "contribution_tree": _tree(result.tree),
        "data_quality": {
            "technological_dqr": q.technological,
            "geographical_dqr": q.geographical,
            "temporal_dqr": q.temporal,
            "overall_dqr": q.overall,
            "label": q.label,
            "coverage": q.coverage,
        },
        "primary_data_share_percent": result.primary_data_share,
        "parameters": dict(result.parameters),
        "provenance": dict(result.provenance),
        "notes": list(result.notes),
        **_repointing(result),
    }
