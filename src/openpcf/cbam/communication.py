"""The operator's communication to EU importers, as typed JSON-ready data.

Laid out like sheet Summary_Communication of the Commission's "CBAM Communication template
for installations" v2.1.1: (1) installation, (2) processes and routes, (3) emissions by
monitoring method and data quality, (4) further information, (5) one row per product. The
xlsx writer (:mod:`openpcf.cbam.xlsx`) puts these fields into the Commission's own workbook;
its ``TEMPLATE_MAP`` says which field goes to which cell. The JSON also carries what the
template has no cell for (``see_cbam``, ``indirect_counts_definitive``, processes, source
streams) for importers and verifiers.

Carbon price paid in the country of production (product rows), by the template's own rules
(sheet Summary_Products, columns AM-AZ, and G_FurtherGuidance items on "share of total
embedded emissions"): emissions covered = SEE total × share covered (t CO2e per unit); carbon
price due per unit = covered × price per t CO2e; rebate per unit = due × rebate share;
effective carbon price due = due − rebate.
"""

from __future__ import annotations

from typing import Any

from openpcf import __version__
from openpcf.cbam.cn import format_cn
from openpcf.cbam.results import CbamResult, ProcessResult, ProductResult

TEMPLATE = (
    "CBAM Communication template for installations v2.1.1 (2024-12-13), Summary_Communication"
)

#: Significant digits of every number in the communication. Excel keeps 15; 12 keeps the
#: JSON and the xlsx identical and is far below any measurement's precision.
SIGNIFICANT_DIGITS = 12


def rounded(value: Any) -> Any:
    """``value`` with every float rounded to :data:`SIGNIFICANT_DIGITS` (recursively)."""
    if isinstance(value, float):
        return float(f"{value:.{SIGNIFICANT_DIGITS}g}")
    if isinstance(value, dict):
        return {k: rounded(v) for k, v in value.items()}
    if isinstance(value, list):
        return [rounded(v) for v in value]
    return value


def build_communication(result: CbamResult) -> dict[str, Any]:
    """Turn a result into the communication (plain JSON types, numbers to 12 digits)."""
    return rounded(_build(result))  # type: ignore[no-any-return]


def _build(result: CbamResult) -> dict[str, Any]:
    info = result.installation
    installation = info.model_dump()
    installation["reporting_period_start"] = result.period_start.isoformat()
    installation["reporting_period_end"] = result.period_end.isoformat()
    t = result.totals
    routes: dict[str, list[str]] = {}
    for p in result.processes:
        bucket = routes.setdefault(p.aggregated_good, [])
        if p.route and p.route not in bucket:
            bucket.append(p.route)
    return {
        "template": TEMPLATE,
        "installation": installation,
        "production_processes_and_routes": [
            {"aggregated_good": good, "routes": r} for good, r in routes.items()
        ],
        "emissions": {
            "calculation_based_excl_pfc": t.calculation_based,
            "pfc": t.pfc,
            "measurement_based": t.measurement_based,
            "other": t.other,
            "direct": t.direct,
            "indirect": t.indirect,
            "total": t.total,
            "data_quality": result.data_quality,
            "default_values_justification": result.default_values_justification,
        },
        "products": [_product(p) for p in result.products],
        "processes": [_process(p) for p in result.processes],
        "source_streams": [
            {"id": s.id, "method": s.kind, "t_co2e": s.co2e_t, "shares": dict(s.shares)}
            for s in result.streams
        ],
        "provenance": {
            "gwp_set": result.gwp_set,
            "gwp_source": result.gwp_source,
            "input_sha256": result.input_sha256,
            "software": f"OpenPCF {__version__}",
            "methodology": "Regulation (EU) 2023/956 Annex IV; Implementing Regulation (EU) "
            "2023/1773 Annex III; defaults: Implementing Regulation (EU) 2025/2621 Annex I",
        },
    }


def _product(row: ProductResult) -> dict[str, Any]:
    p = row.process
    price = row.carbon_price
    covered = p.see_total * price.share_covered if price else None
    due = covered * price.price_per_t_co2e if price and covered is not None else None
    rebate = due * price.rebate_share if price and due is not None else None
    return {
        "production_process": p.id,
        "aggregated_good": p.aggregated_good,
        "route": p.route,
        "cn": format_cn(row.cn),
        "cn_name": row.cn_description,
        "product_name": row.name,
        "see_direct": p.see_direct,
        "see_indirect": p.see_indirect,
        "see_total": p.see_total,
        "unit": f"t CO2e/{p.unit}",
        "default_share": p.default_share,
        "electricity_ef_source": p.electricity_ef_source or None,
        "embedded_electricity_mwh_per_unit": p.embedded_electricity_mwh_per_t,
        "electricity_ef_t_co2_per_mwh": p.electricity_ef,
        "indirect_counts_definitive": p.indirect_counts,
        "see_cbam": p.see_cbam,
        "qualifying_parameters": "; ".join(f"{k}={v}" for k, v in row.qualifying_parameters)
        or None,
        "carbon_price_instrument": price.instrument if price else None,
        "carbon_price_share_covered": price.share_covered if price else None,
        "carbon_price_emissions_covered": covered,
        "carbon_price_currency": price.currency if price else None,
        "carbon_price_per_t_co2e": price.price_per_t_co2e if price else None,
        "carbon_price_due_per_unit": due,
        "carbon_price_rebate_share": price.rebate_share if price else None,
        "carbon_price_rebate_per_unit": rebate,
        "carbon_price_effective_per_unit": (
            due - rebate if due is not None and rebate is not None else None
        ),
    }


def _process(p: ProcessResult) -> dict[str, Any]:
    return {
        "id": p.id,
        "aggregated_good": p.aggregated_good,
        "route": p.route,
        "production": p.production,
        "unit": p.unit,
        "dir_em_star_t_co2e": p.dir_em_star,
        "heat_imported_t_co2": p.heat_imported,
        "heat_exported_t_co2": p.heat_exported,
        "waste_gas_imported_t_co2": p.waste_gas_imported,
        "waste_gas_exported_t_co2": p.waste_gas_exported,
        "electricity_exported_t_co2": p.electricity_exported,
        "attributed_direct_t_co2e": p.attributed_direct,
        "electricity_consumed_mwh": p.electricity_mwh,
        "attributed_indirect_t_co2": p.attributed_indirect,
        "precursors": [
            {
                "from": c.source_id,
                "aggregated_good": c.aggregated_good,
                "kind": c.kind,
                "data_source": c.data_source,
                "mass_t": c.mass_t,
                "see_direct": c.see_direct,
                "see_indirect": c.see_indirect,
                "default_share": c.default_share,
            }
            for c in p.precursors
        ],
        "see_direct": p.see_direct,
        "see_indirect": p.see_indirect,
        "see_total": p.see_total,
        "see_cbam": p.see_cbam,
        "default_share": p.default_share,
    }
