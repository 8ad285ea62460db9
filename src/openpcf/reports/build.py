"""Build the typed data of a CFP study report from one calculation (step 2 of 3).

:func:`build_report_data` reads the frozen :class:`~openpcf.core.results.FootprintResult` and
the compiled model beside it and returns a :class:`~openpcf.reports.data.ReportData` in one
language: every number rounded (:mod:`openpcf.reports.numbers`), every label taken from the
message catalogue (:mod:`openpcf.reports.i18n`). It recomputes nothing except the sensitivity
variants (:mod:`openpcf.reports.sensitivity`), which are new calculations by definition.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING

from openpcf import __version__
from openpcf.methods.gases import BY_ID, GAS_IDS
from openpcf.model.schema import BOUNDARY_STAGES, STAGES, Process
from openpcf.reports import i18n
from openpcf.reports.data import (
    AllocationRow,
    Bar,
    Chart,
    ChecklistRow,
    ContributorRow,
    ElectricityRow,
    FactorRow,
    Field,
    GasRow,
    GwpRow,
    Percent,
    ProcessRow,
    ReportData,
    Section,
    SensitivityRow,
    SplitRow,
    StageRow,
)
from openpcf.reports.numbers import (
    change_text,
    number_text,
    percent,
    plain,
    quantity,
    round_sig,
)
from openpcf.reports.sensitivity import Sensitivity, analyse

if TYPE_CHECKING:
    from openpcf.core.results import FootprintResult
    from openpcf.factors import Factor
    from openpcf.model.calculation import Calculation
    from openpcf.model.compiler import CompiledModel

CO2E = "kg CO2e"
TOP_CONTRIBUTORS = 10
TOP_PARAMETERS = 12


def build_report_data(
    calculation: Calculation,
    *,
    lang: str,
    today: dt.date | None = None,
    sensitivity: Sensitivity | None = None,
) -> ReportData:
    """The report data of ``calculation`` in ``lang`` (``"en"`` or ``"zh"``).

    ``today`` fixes the report date (tests); ``sensitivity`` may be passed when already
    computed, otherwise it is computed here (one recalculation per parameter and GWP set).

    Raises
    ------
    UnknownLanguageError
        If ``lang`` is not in the catalogue.
    """
    t = i18n.messages(lang)
    compiled, r = calculation.compiled, calculation.result
    sens = sensitivity or analyse(compiled, r.total)
    b = _Builder(t=t, lang=lang, compiled=compiled, r=r)
    quality_label = t[f"quality_{r.quality.label}"]
    return ReportData(
        lang=lang,
        title=t["title"],
        subtitle=t["subtitle"],
        product=b.product_name,
        generated=(today or dt.date.today()).isoformat(),
        software=f"OpenPCF {__version__}",
        sections=tuple(
            Section(number=n, anchor=key[2:], title=t[key])
            for n, key in enumerate(i18n.SECTIONS, start=1)
        ),
        total=quantity(r.total, CO2E),
        per_unit=b.per_unit,
        gwp_id=r.gwp,
        split=b.split(),
        stages=b.stages(),
        gases=b.gases(),
        contributors=b.contributors(),
        charts=b.charts(),
        product_fields=b.product_fields(),
        unit_fields=b.unit_fields(),
        boundary_fields=b.boundary_fields(),
        exclusions=tuple(compiled.model.exclusions),
        model_comment=compiled.model.comment,
        processes_intro=t["processes_intro"].format(
            n=len(compiled.model.processes), percent=plain(compiled.model.cutoff_percent)
        ),
        processes=b.processes(),
        quality_fields=b.quality_fields(quality_label),
        factors=tuple(b.factor_row(f) for f in sorted(compiled.factors, key=lambda f: f.id)),
        ghg_fields=b.ghg_fields(),
        allocations=b.allocations(),
        electricity=b.electricity(),
        electricity_factors=tuple(
            b.factor_row(f)
            for f in sorted(compiled.factors, key=lambda f: f.id)
            if f.category == "electricity"
        ),
        period_fields=b.period_fields(),
        sensitivity_intro=b.sensitivity_intro(sens),
        sensitivity=b.sensitivity_rows(sens),
        gwp_sensitivity=b.gwp_rows(sens),
        uncertainty=t["uncertainty_text"].format(
            label=quality_label,
            value=f"{r.quality.overall:.2f}",
            coverage=f"{100 * r.quality.coverage:.1f} %",
        ),
        conclusions=b.conclusions(sens, quality_label),
        limitations=b.limitations(),
        notes=tuple(r.notes),
        value_choices=b.value_choices(),
        rules_fields=(
            Field(label=t["rules_used"], text=t["rules_text"]),
            Field(label=t["critical_review"], text=t["critical_review_text"]),
            Field(label=t["scope_changes"], text=t["scope_changes_text"]),
        ),
        checklist=tuple(
            ChecklistRow(requirement=t[key], section=n, title=t[i18n.SECTIONS[n - 1]])
            for key, n in i18n.CHECKLIST
        ),
        provenance=tuple(Field(label=k, text=v) for k, v in r.provenance.items()),
    )


class _Builder:
    """Section by section; one instance per report, holding the language and the inputs."""

    def __init__(
        self, *, t: Mapping[str, str], lang: str, compiled: CompiledModel, r: FootprintResult
    ) -> None:
        self.t, self.lang, self.compiled, self.r = t, lang, compiled, r
        self.model = compiled.model
        self.by_id: dict[str, Process] = {p.id: p for p in self.model.processes}
        product = self.model.product
        self.product_name = (product.name_zh or product.name) if lang == "zh" else product.name
        self.unit = (
            i18n.DECLARED_UNITS_ZH.get(product.declared_unit, product.declared_unit)
            if lang == "zh"
            else product.declared_unit
        )
        self.per_unit = t["per_declared_unit"].format(
            amount=plain(product.declared_amount), unit=self.unit
        )

    # -- 1 results ------------------------------------------------------------------------
    def split(self) -> tuple[SplitRow, ...]:
        r = self.r
        values = {
            "fossil": r.fossil,
            "biogenic": r.biogenic,
            "uptake": r.uptake,
            "luc": r.luc,
            "aircraft": r.aircraft,
            "pcf_excl": r.pcf_excluding_biogenic_uptake,
            "pcf_incl": r.pcf_including_biogenic_uptake,
        }
        return tuple(
            SplitRow(key=k, label=self.t[k], co2e=quantity(v, CO2E)) for k, v in values.items()
        )

    def stage_label(self, stage: str) -> str:
        return self.t.get(f"stage_{stage}", stage.replace("_", " "))

    def stages(self) -> tuple[StageRow, ...]:
        included = BOUNDARY_STAGES[self.model.boundary]
        return tuple(
            StageRow(
                stage=stage,
                label=self.stage_label(stage),
                included=stage in included,
                co2e=quantity(value, CO2E),
                share=percent(value, self.r.total),
            )
            for stage, value in self.r.by_stage.items()
        )

    def gas_name(self, gas: str) -> str:
        return i18n.GAS_NAMES_ZH.get(gas, gas) if self.lang == "zh" else BY_ID[gas].name

    def gases(self) -> tuple[GasRow, ...]:
        gwp = self.compiled.gwp.values
        return tuple(
            GasRow(
                gas=gas,
                name=self.gas_name(gas),
                kg=quantity(kg, "kg"),
                gwp=f"{gwp[gas]:g}",
                co2e=quantity(self.r.by_gas_co2e[gas], CO2E),
                share=percent(self.r.by_gas_co2e[gas], self.r.total),
            )
            for gas, kg in self.r.by_gas_kg.items()
            if kg
        )

    def contributors(self) -> tuple[ContributorRow, ...]:
        pedigree = {(e.where, e.label): e.pedigree for e in self.compiled.entries}
        top = [e for e in self.r.top_contributors(TOP_CONTRIBUTORS) if e.co2e]
        rows = []
        for rank, e in enumerate(top, start=1):
            p = pedigree.get((e.where, e.label))
            rows.append(
                ContributorRow(
                    rank=rank,
                    process=e.process,
                    label=e.label,
                    amount=quantity(e.amount, e.unit),
                    co2e=quantity(e.co2e, CO2E),
                    share=percent(e.co2e, self.r.total),
                    primary=self.t["yes"] if e.primary else self.t["no"],
                    pedigree=(
                        "–"
                        if p is None
                        else f"({p.reliability},{p.completeness},{p.temporal},"
                        f"{p.geographical},{p.technological})"
                    ),
                    where=e.where,
                )
            )
        return tuple(rows)

    def charts(self) -> tuple[Chart, ...]:
        t, r, q = self.t, self.r, self.r.quality
        stages = [(self.stage_label(s), v) for s, v in r.by_stage.items()]
        contributors = [
            (f"{c.process}: {c.label}", c.co2e) for c in r.top_contributors(8) if c.co2e
        ]
        gases = [(gas, r.by_gas_co2e[gas]) for gas in GAS_IDS if r.by_gas_co2e.get(gas)]
        quality = [
            (t["dqr_technological"], q.technological),
            (t["dqr_geographical"], q.geographical),
            (t["dqr_temporal"], q.temporal),
            (t["dqr_overall"], q.overall),
        ]
        return (
            _chart("stages", t["chart_stages"], CO2E, stages),
            _chart("contributors", t["chart_contributors"], CO2E, contributors),
            _chart("gases", t["chart_gases"], CO2E, gases),
            _chart("quality", t["chart_quality"], "DQR", quality, scale=5.0, figures=3),
        )

    # -- 2 product and unit, 3 boundary -----------------------------------------------------
    def product_fields(self) -> tuple[Field, ...]:
        t, p = self.t, self.model.product
        fields = [
            (t["product_name"], p.name),
            (t["product_name"], p.name_zh),
            (t["description"], p.description),
            (t["identifiers"], ", ".join(p.ids)),
            (t["cn_code"], p.cn_code or ""),
            (t["cpc"], p.cpc or ""),
            (t["company"], p.company_name),
            (t["geography"], p.geography),
        ]
        return tuple(Field(label=k, text=v) for k, v in fields if v)

    def unit_fields(self) -> tuple[Field, ...]:
        t, p, c = self.t, self.model.product, self.compiled
        column = c.columns[c.reference_column]
        amount = plain(float(c.demand[c.reference_column]))
        return (
            Field(
                label=t["unit_kind"],
                text=t["declared_unit_text"].format(
                    amount=plain(p.declared_amount), unit=self.unit
                ),
            ),
            Field(
                label=t["reference_flow"],
                text=t["reference_flow_text"].format(
                    amount=amount, unit=column.unit, product=column.product, process=column.process
                ),
            ),
            Field(label=t["mass_per_unit"], text=f"{plain(p.mass_per_declared_unit)} kg"),
        )

    def boundary_fields(self) -> tuple[Field, ...]:
        t, m = self.t, self.model
        boundary = t[f"boundary_{m.boundary}"]
        included = BOUNDARY_STAGES[m.boundary]
        omitted = [s for s in STAGES if s not in included]
        omitted_text = (
            f"{_join(self.stage_label(s) for s in omitted)} "
            f"({t['omitted_reason'].format(boundary=boundary)})"
            if omitted
            else t["none"]
        )
        return (
            Field(label=t["boundary"], text=boundary),
            Field(label=t["stages_included"], text=_join(self.stage_label(s) for s in included)),
            Field(label=t["stages_omitted"], text=omitted_text),
            Field(label=t["elementary_flows"], text=t["elementary_flows_text"]),
            Field(
                label=t["cutoff"],
                text=t["cutoff_text"].format(percent=plain(m.cutoff_percent)),
            ),
        )

    # -- 4 processes --------------------------------------------------------------------------
    def processes(self) -> tuple[ProcessRow, ...]:
        cutoff = self.model.cutoff_percent
        rows = []
        for column, pc in zip(self.compiled.columns, self.r.processes, strict=True):
            process = self.by_id[column.process]
            share = percent(pc.total, self.r.total)
            rows.append(
                ProcessRow(
                    id=pc.id,
                    name=pc.name,
                    stage=self.stage_label(pc.stage),
                    output=f"{column.product} ({column.unit})",
                    geography=process.geography or "",
                    co2e=quantity(pc.total, CO2E),
                    share=share,
                    significant=self.t["yes"] if abs(share.value) >= cutoff else self.t["no"],
                    comment=process.comment,
                )
            )
        return tuple(rows)

    # -- 5 data and quality, 6 GHGs ---------------------------------------------------------
    def quality_fields(self, label: str) -> tuple[Field, ...]:
        t, q = self.t, self.r.quality
        return (
            Field(label=t["primary_share"], text=f"{self.r.primary_data_share:.1f} %"),
            Field(label=t["dqr"], text=t["dqr_text"].format(value=f"{q.overall:.2f}", label=label)),
            Field(label=t["dqr_technological"], text=f"{q.technological:.2f}"),
            Field(label=t["dqr_geographical"], text=f"{q.geographical:.2f}"),
            Field(label=t["dqr_temporal"], text=f"{q.temporal:.2f}"),
            Field(label=t["coverage"], text=f"{100 * q.coverage:.1f} %"),
            Field(label=t["missing_data"], text=t["missing_data_text"]),
            Field(label=t["dqr"], text=t["dqr_method"]),
        )

    def factor_row(self, f: Factor) -> FactorRow:
        name = (f.name_zh or f.name) if self.lang == "zh" else f.name
        return FactorRow(
            id=f.id,
            name=name,
            unit=f.unit,
            co2e_per_unit=quantity(f.co2e(self.compiled.gwp.values), f"{CO2E}/{f.unit}", 4),
            geography=f.geography,
            year=f.year,
            source=f.source,
            licence=f.licence,
            illustrative=self.t["yes"] if f.illustrative else self.t["no"],
        )

    def ghg_fields(self) -> tuple[Field, ...]:
        t, gwp = self.t, self.compiled.gwp
        return (
            Field(label=t["gwp_set"], text=f"{gwp.id}: {gwp.name}"),
            Field(label=t["gwp_source"], text=gwp.source),
            Field(label=t["gwp"], text=t["gwp_horizon"]),
            Field(label=t["gases_considered"], text=", ".join(GAS_IDS)),
            Field(label="CO2e", text=t["co2e_note"]),
        )

    # -- 7 allocation, 8 electricity, 9 period ------------------------------------------------
    def allocations(self) -> tuple[AllocationRow, ...]:
        t = self.t
        return tuple(
            AllocationRow(
                process=f"{p.id}: {p.name}",
                products=_join([p.output.product, *(c.product for c in p.co_products)]),
                method=t[f"method_{p.allocation.method}"],
                justification=p.allocation.justification or t["no_justification"],
            )
            for p in self.model.processes
            if p.allocation is not None
        )

    def electricity(self) -> tuple[ElectricityRow, ...]:
        seen: dict[tuple[str, str], ElectricityRow] = {}
        for g in self.compiled.grid_choices:
            f = g.factor
            seen.setdefault(
                (g.requested, f.id),
                ElectricityRow(
                    requested=g.requested,
                    level=g.used_level,
                    factor=f.id,
                    intensity=quantity(f.co2e(self.compiled.gwp.values), f"{CO2E}/{f.unit}", 4),
                    year=f.year,
                    source=f.source,
                    note=g.fallback_note,
                ),
            )
        return tuple(seen.values())

    def period_fields(self) -> tuple[Field, ...]:
        t, period = self.t, self.model.product.reference_period
        years = sorted({f.year for f in self.compiled.factors})
        fields = [
            Field(
                label=t["reference_period"],
                text=t["period_text"].format(
                    start=period.start.isoformat(), end=period.end.isoformat()
                ),
            )
        ]
        if years:
            fields.append(
                Field(
                    label=t["data_years"],
                    text=t["years_text"].format(first=years[0], last=years[-1]),
                )
            )
        return tuple(fields)

    # -- 10 sensitivity -----------------------------------------------------------------------
    def _ranked(self, sens: Sensitivity) -> list[SensitivityRow]:
        t, base = self.t, sens.base
        rows = []
        for e in sens.parameters:
            changes = [abs(x - base) / abs(base) * 100 for x in (e.low, e.high) if x is not None]
            rows.append(
                SensitivityRow(
                    parameter=e.name,
                    base=plain(e.value),
                    low=_total_text(e.low, t),
                    high=_total_text(e.high, t),
                    change=" / ".join(
                        change_text(x, base) if x is not None else "–" for x in (e.low, e.high)
                    ),
                    note=e.error,
                    max_change=round(max(changes, default=0.0), 1) + 0.0,
                )
            )
        return sorted(rows, key=lambda row: (-row.max_change, row.parameter))

    def sensitivity_intro(self, sens: Sensitivity) -> str:
        if not sens.parameters:
            return self.t["no_parameters"]
        shown = min(TOP_PARAMETERS, len(sens.parameters))
        return self.t["sensitivity_intro"].format(shown=shown, n=len(sens.parameters))

    def sensitivity_rows(self, sens: Sensitivity) -> tuple[SensitivityRow, ...]:
        return tuple(self._ranked(sens)[:TOP_PARAMETERS])

    def gwp_rows(self, sens: Sensitivity) -> tuple[GwpRow, ...]:
        from openpcf.methods.gwp import gwp_set

        totals = {self.compiled.gwp.id: sens.base, **sens.gwp}
        return tuple(
            GwpRow(
                gwp=gwp_id,
                name=gwp_set(gwp_id).name,
                total=quantity(total, CO2E),
                change=Percent(
                    value=round_sig(100 * (total - sens.base) / sens.base) if sens.base else 0.0,
                    text=change_text(total, sens.base),
                ),
            )
            for gwp_id, total in totals.items()
        )

    # -- 11 interpretation ------------------------------------------------------------------
    def conclusions(self, sens: Sensitivity, quality_label: str) -> tuple[str, ...]:
        t, r, p = self.t, self.r, self.model.product
        out = [
            t["conclusion_total"].format(
                total=quantity(r.total, CO2E).text,
                amount=plain(p.declared_amount),
                unit=self.unit,
                gwp=r.gwp,
            )
        ]
        if r.by_stage and r.total:
            stage, value = max(r.by_stage.items(), key=lambda kv: kv[1])
            out.append(
                t["conclusion_stage"].format(
                    stage=self.stage_label(stage), share=percent(value, r.total).text
                )
            )
        top = [e for e in r.top_contributors(1) if e.co2e]
        if top and r.total:
            e = top[0]
            out.append(
                t["conclusion_contributor"].format(
                    label=e.label, process=e.process, share=percent(e.co2e, r.total).text
                )
            )
        ranked = self._ranked(sens)
        if ranked and ranked[0].max_change > 0:
            out.append(
                t["conclusion_sensitivity"].format(
                    parameter=ranked[0].parameter, change=ranked[0].change
                )
            )
        out.append(
            t["conclusion_quality"].format(label=quality_label, value=f"{r.quality.overall:.2f}")
        )
        return tuple(out)

    def limitations(self) -> tuple[str, ...]:
        t = self.t
        out = [t["limitation_single"], t["not_calculated"], t["offsets"]]
        illustrative = sum(f.illustrative for f in self.compiled.factors)
        if illustrative:
            out.append(t["limitation_illustrative"].format(n=illustrative))
        return tuple(out)

    def value_choices(self) -> tuple[str, ...]:
        t, m, gwp = self.t, self.model, self.compiled.gwp
        methods = sorted({t[f"method_{p.allocation.method}"] for p in m.processes if p.allocation})
        return (
            t["choice_gwp"].format(gwp=f"{gwp.id} ({gwp.name})"),
            t["choice_boundary"].format(boundary=t[f"boundary_{m.boundary}"]),
            t["choice_cutoff"].format(percent=plain(m.cutoff_percent)),
            t["choice_allocation"].format(text=_join(methods) if methods else t["not_applicable"]),
            t["choice_electricity"],
            t["choice_biogenic"],
        )


def _chart(
    id: str,
    title: str,
    unit: str,
    items: list[tuple[str, float]],
    *,
    scale: float | None = None,
    figures: int = 3,
) -> Chart:
    """Bars as fractions of ``scale`` (default: the largest absolute value)."""
    biggest = scale or max((abs(v) for _, v in items), default=0.0) or 1.0
    bars = tuple(
        Bar(
            label=label,
            value=round_sig(value, figures),
            text=number_text(value, figures),
            fraction=round(min(abs(value) / biggest, 1.0), 4),
            negative=value < 0,
        )
        for label, value in items
    )
    return Chart(id=id, title=title, unit=unit, bars=bars)


def _total_text(total: float | None, t: Mapping[str, str]) -> str:
    if total is None:
        return t["not_computable"]
    return quantity(total, CO2E).text


def _join(items: Iterable[str]) -> str:
    return ", ".join(items)
