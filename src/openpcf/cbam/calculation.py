"""Embedded emissions of an installation's goods by the CBAM methodology.

For each production process (Reg. (EU) 2023/956 Annex IV; Reg. (EU) 2023/1773 Annex III,
section F; ⚠R for the exact notation):

- ``AttrEm_dir = DirEm* + Em_H,imp − Em_H,exp + WG_corr,imp − WG_corr,exp − Em_el,exp``, with
  heat emissions ``Q [TJ] · EF [t CO2/TJ]``, waste-gas corrections
  ``E_WG [TJ] · EF_NG · Corr_η`` (EF_NG = 56.1 t CO2/TJ, Corr_η = 0.667; ⚠R) and exported
  electricity ``E [MWh] · EF [t CO2/MWh]``;
- ``AttrEm_indir = Σ E_el [MWh] · EF_el [t CO2/MWh]``;
- ``SEE = (AttrEm + Σ_i M_i · SEE_i) / AL``, direct and indirect separately, where ``M_i`` is
  the mass of precursor i consumed, ``SEE_i`` its specific embedded emissions (own process,
  supplier's actual value, or the Annex I default *without* mark-up, ⚠R) and ``AL`` the
  activity level (total production of the process);
- share from default values ``= Σ_i M_i · SEE_tot,i · s_i / (AttrEm_tot + Σ_i M_i · SEE_tot,i)``
  with ``s_i`` = 1 for a default-valued purchased precursor, 0 for actual data and the
  process's own share for an own precursor.

Gases are weighed with AR5 GWP100 without climate-carbon feedback (N2O 265, CF4 6630, C2F6
11100), the constants of the communication template.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import replace

from openpcf.cbam import emissions
from openpcf.cbam.defaults import default_value
from openpcf.cbam.errors import CbamError, CbamModelError
from openpcf.cbam.goods import AggregatedGood, classify
from openpcf.cbam.loading import LoadedInstallation, Locator
from openpcf.cbam.results import (
    CbamResult,
    EmissionTotals,
    PrecursorContribution,
    ProcessResult,
    ProductResult,
    StreamResult,
)
from openpcf.cbam.schema import Installation, Process, PurchasedPrecursor
from openpcf.cbam.validation import validate
from openpcf.errors import located
from openpcf.methods.gwp import gwp_set

#: Emission factor of natural gas for waste-gas corrections, t CO2/TJ (⚠R).
EF_NATURAL_GAS = 56.1
#: Efficiency correction of waste gas against natural gas (⚠R).
CORR_ETA = 0.667


def calculate_installation(
    inst: Installation | LoadedInstallation, locate: Locator | None = None
) -> CbamResult:
    """Validate and calculate an installation.

    Raises
    ------
    CbamError
        Any of the input errors of :mod:`openpcf.cbam.errors` (with file:line when
        ``inst`` was loaded from a file).
    """
    sha = None
    if isinstance(inst, LoadedInstallation):
        locate, sha = inst.locate, inst.sha256
        inst = inst.installation
    locate = locate or Locator()
    goods = validate(inst, locate)
    gwp = gwp_set("AR5")
    streams = _streams(inst, locate, gwp.values)
    dir_em: dict[str, float] = defaultdict(float)
    for s in streams:
        for pid, share in s.shares:
            dir_em[pid] += s.co2e_t * share
    purchased = {pp.id: _purchased(pp, i, locate) for i, pp in enumerate(inst.purchased_precursors)}
    done: dict[str, ProcessResult] = {}
    index = {p.id: i for i, p in enumerate(inst.processes)}
    for p in _ordered(inst, locate):
        where = locate("processes", index[p.id])
        done[p.id] = _process(p, goods[p.id], dir_em[p.id], done, purchased, where)
    processes = tuple(done[p.id] for p in inst.processes)
    return CbamResult(
        installation=inst.installation,
        period_start=inst.reporting_period.start,
        period_end=inst.reporting_period.end,
        streams=streams,
        processes=processes,
        products=tuple(_products(inst, done)),
        totals=_totals(streams, processes),
        gwp_set=gwp.id,
        gwp_source=gwp.source,
        input_sha256=sha,
        data_quality=inst.data_quality,
        default_values_justification=inst.default_values_justification,
    )


def _streams(
    inst: Installation, locate: Locator, gwp: Mapping[str, float]
) -> tuple[StreamResult, ...]:
    out = []
    for i, s in enumerate(inst.source_streams):
        shares = ((s.process, 1.0),) if s.process is not None else tuple((s.split or {}).items())
        c_in = c_out = None
        if s.method == "mass_balance":
            check = emissions.mass_balance(s, where=locate("source_streams", i))
            co2, c_in, c_out = check.co2_fossil, check.carbon_in, check.carbon_out
        else:
            co2 = emissions.source_stream(s)
        out.append(
            StreamResult(
                id=s.id,
                kind=s.method,
                co2e_t=co2,
                shares=shares,
                carbon_in_t=c_in,
                carbon_out_t=c_out,
            )
        )
    for p in inst.pfc:
        co2e = emissions.pfc_co2e(p, gwp)
        out.append(StreamResult(id=p.id, kind="pfc", co2e_t=co2e, shares=((p.process, 1.0),)))
    for m in inst.measured:
        co2e = emissions.measured_co2e(m, gwp)
        out.append(StreamResult(id=m.id, kind="measured", co2e_t=co2e, shares=((m.process, 1.0),)))
    return tuple(out)


def _purchased(pp: PurchasedPrecursor, i: int, locate: Locator) -> PrecursorContribution:
    """A purchased precursor's SEE per tonne (mass filled in per use)."""
    good = classify(pp.cn).good
    if pp.source == "actual":
        direct, indirect, share = pp.see_direct or 0.0, pp.see_indirect or 0.0, 0.0
    else:
        try:
            value = default_value(pp.cn, pp.country)
        except CbamError as e:  # name the field, keep the type
            raise located(e, locate("purchased_precursors", i, "cn")) from None
        direct, indirect, share = value.direct, value.indirect or 0.0, 1.0
    return PrecursorContribution(
        embedded_electricity_mwh_per_t=pp.embedded_electricity_mwh_per_t,
        source_id=pp.id,
        aggregated_good=good.name,
        kind="purchased",
        data_source=pp.source,
        mass_t=0.0,
        see_direct=direct,
        see_indirect=indirect,
        default_share=share,
    )


def _ordered(inst: Installation, locate: Locator) -> list[Process]:
    """Processes with own precursors before their consumers (refuses cycles)."""
    by_id = {p.id: p for p in inst.processes}
    index = {p.id: i for i, p in enumerate(inst.processes)}
    order: list[Process] = []
    state: dict[str, int] = {}  # 1 visiting, 2 done

    def visit(pid: str, path: list[str]) -> None:
        if state.get(pid) == 2:
            return
        if state.get(pid) == 1:
            cycle = " -> ".join([*path[path.index(pid) :], pid])
            raise CbamModelError(
                f"{locate('processes', index[pid], 'precursors')}: precursors form a cycle "
                f"({cycle}); a process cannot consume, even indirectly, its own output."
            )
        state[pid] = 1
        for use in by_id[pid].precursors:
            if use.from_ in by_id:
                visit(use.from_, [*path, pid])
        state[pid] = 2
        order.append(by_id[pid])

    for p in inst.processes:
        visit(p.id, [])
    return order


def _process(
    p: Process,
    good: AggregatedGood,
    dir_em_star: float,
    done: Mapping[str, ProcessResult],
    purchased: Mapping[str, PrecursorContribution],
    where: str,
) -> ProcessResult:
    heat_imp = p.heat.imported_tj * (p.heat.imported_ef_t_co2_per_tj or 0.0)
    heat_exp = p.heat.exported_tj * (p.heat.exported_ef_t_co2_per_tj or 0.0)
    wg_imp = p.waste_gases.imported_tj * EF_NATURAL_GAS * CORR_ETA
    wg_exp = p.waste_gases.exported_tj * EF_NATURAL_GAS * CORR_ETA
    el_exp = p.electricity_exported
    el_exp_em = el_exp.mwh * el_exp.ef_t_co2_per_mwh if el_exp else 0.0
    attr_dir = dir_em_star + heat_imp - heat_exp + wg_imp - wg_exp - el_exp_em
    if attr_dir < -1e-9:
        raise CbamModelError(
            f"{where}: attributed direct emissions of process {p.id!r} are negative "
            f"({attr_dir:.6g} t CO2e): exported heat, waste gas or electricity exceed its "
            "emissions. Check the exported quantities and their emission factors."
        )
    el_mwh = sum((e.mwh for e in p.electricity), 0.0)
    attr_ind = sum((e.mwh * e.ef_t_co2_per_mwh for e in p.electricity), 0.0)
    contributions = []
    emb_el, em_el_known = el_mwh, attr_ind
    sources = list(dict.fromkeys(e.source for e in p.electricity))
    for use in p.precursors:
        if use.from_ in done:
            own = done[use.from_]
            c = PrecursorContribution(
                source_id=own.id,
                aggregated_good=own.aggregated_good,
                kind="own",
                data_source="calculated",
                mass_t=use.mass_t,
                see_direct=own.see_direct,
                see_indirect=own.see_indirect,
                default_share=own.default_share,
            )
            emb_el += use.mass_t * own.embedded_electricity_mwh_per_t
            em_el_known += (
                use.mass_t * own.embedded_electricity_mwh_per_t * (own.electricity_ef or 0)
            )
            sources += [s for s in own.electricity_ef_source.split("; ") if s]
        else:
            base = purchased[use.from_]
            c = replace(base, mass_t=use.mass_t)
            if base.embedded_electricity_mwh_per_t is not None:
                emb_el += use.mass_t * base.embedded_electricity_mwh_per_t
                em_el_known += c.embedded_indirect
                sources.append(f"supplier data ({base.source_id})")
        contributions.append(c)
    emb_dir = attr_dir + sum(c.embedded_direct for c in contributions)
    emb_ind = attr_ind + sum(c.embedded_indirect for c in contributions)
    from_defaults = sum(
        (c.embedded_direct + c.embedded_indirect) * c.default_share for c in contributions
    )
    total = emb_dir + emb_ind
    return ProcessResult(
        id=p.id,
        aggregated_good=good.name,
        sector=good.sector,
        unit=good.unit,
        route=p.route,
        production=p.production_t,
        dir_em_star=dir_em_star,
        heat_imported=heat_imp,
        heat_exported=heat_exp,
        waste_gas_imported=wg_imp,
        waste_gas_exported=wg_exp,
        electricity_exported=el_exp_em,
        attributed_direct=attr_dir,
        electricity_mwh=el_mwh,
        attributed_indirect=attr_ind,
        precursors=tuple(contributions),
        see_direct=emb_dir / p.production_t,
        see_indirect=emb_ind / p.production_t,
        default_share=from_defaults / total if total > 0 else 0.0,
        embedded_electricity_mwh_per_t=emb_el / p.production_t,
        electricity_ef=em_el_known / emb_el if emb_el > 0 else None,
        electricity_ef_source="; ".join(dict.fromkeys(sources)),
        indirect_counts=good.indirect_definitive,
    )


def _products(inst: Installation, done: Mapping[str, ProcessResult]) -> list[ProductResult]:
    out = []
    for p in inst.processes:
        for product in p.products:
            found = classify(product.cn)
            out.append(
                ProductResult(
                    cn=found.cn,
                    cn_description=found.description,
                    name=product.name or found.description,
                    process=done[p.id],
                    qualifying_parameters=tuple(product.qualifying_parameters.items()),
                    carbon_price=product.carbon_price,
                )
            )
    return out


def _totals(
    streams: tuple[StreamResult, ...], processes: tuple[ProcessResult, ...]
) -> EmissionTotals:
    calc = sum((s.co2e_t for s in streams if s.kind not in ("pfc", "measured")), 0.0)
    pfc = sum((s.co2e_t for s in streams if s.kind == "pfc"), 0.0)
    measured = sum((s.co2e_t for s in streams if s.kind == "measured"), 0.0)
    return EmissionTotals(
        calculation_based=calc,
        pfc=pfc,
        measurement_based=measured,
        other=0.0,
        direct=calc + pfc + measured,
        indirect=sum((p.attributed_indirect for p in processes), 0.0),
    )
