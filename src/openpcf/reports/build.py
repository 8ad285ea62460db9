"""Build the typed data of a CFP study report from one calculation (step 2 of 3).

:func:`build_report_data` reads the frozen :class:`~openpcf.core.results.FootprintResult` and
the compiled model beside it and returns a :class:`~openpcf.reports.data.ReportData` in one
language: every number rounded (:mod:`openpcf.reports.numbers`), every label taken from the
message catalogue (:mod:`openpcf.reports.i18n`). It recomputes nothing except the sensitivity
variants (:mod:`openpcf.reports.sensitivity`), which are new calculations by definition.

What a customer reads is made readable here: exchanges carry the names of their factors,
database processes (with the database) and supplier products (with the company) beside their
ids; long source and licence texts become short labels with a reference to the annex that
prints each distinct text once; the calculation's notes are rebuilt in the report's language;
and no absolute local path (a home or temporary folder) reaches the report
(:func:`without_local_paths`).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, TypeVar

from openpcf import __version__
from openpcf.electricity import generation_only
from openpcf.electricity.scope import NOTE_PREFIX as SCOPE
from openpcf.methods.gases import BY_ID, GAS_IDS
from openpcf.model.compiler import StatedFactor
from openpcf.model.database_inputs import input_label
from openpcf.model.schema import BOUNDARY_STAGES, STAGES, Process
from openpcf.reports import i18n
from openpcf.reports.data import (
    AllocationRow,
    Bar,
    Chart,
    ChecklistRow,
    ConformanceRow,
    ContributorRow,
    ElectricityRow,
    FactorRow,
    Field,
    GasRow,
    GwpRow,
    ParameterRow,
    Percent,
    ProcessRow,
    ReferenceRow,
    ReportData,
    Section,
    SensitivityRow,
    SobolRow,
    SobolSection,
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
from openpcf.reports.sensitivity import (
    SOBOL_TOP,
    Propagation,
    Sensitivity,
    analyse,
    effective_overrides,
    global_indices,
    propagation,
)

if TYPE_CHECKING:
    from openpcf.core.quality import Pedigree
    from openpcf.core.results import ExchangeContribution, FootprintResult
    from openpcf.factors import Factor, GridChoice
    from openpcf.model.calculation import Calculation
    from openpcf.model.compiler import CompiledModel
    from openpcf.model.conformance import Conformance
    from openpcf.model.montecarlo import Analytic
    from openpcf.model.sobol import Sobol

CO2E = "kg CO2e"
TOP_CONTRIBUTORS = 10
TOP_PARAMETERS = 12
#: Longest short label of a source or licence in a table (the full text is in the annex).
LABEL_CHARS = 60
#: Factors named per source or licence in the annex before "and N more".
USED_BY_NAMES = 5
T = TypeVar("T")


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
    found = propagation(compiled)
    b = _Builder(t=t, lang=lang, compiled=compiled, r=r, ruled=calculation.conformance)
    quality_label = t[f"quality_{r.quality.label}"]
    data = ReportData(
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
        headline_label=t["headline"].format(per_unit=b.per_unit, gwp=r.gwp),
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
        factors=tuple(b.factor_row(f) for f in b.sorted_factors),
        ghg_fields=b.ghg_fields(),
        allocations=b.allocations(),
        electricity=b.electricity(),
        electricity_factors=tuple(
            b.factor_row(f) for f in b.sorted_factors if f.category == "electricity"
        ),
        period_fields=b.period_fields(),
        sensitivity_intro=b.sensitivity_intro(sens),
        sensitivity=b.sensitivity_rows(sens),
        gwp_sensitivity=b.gwp_rows(sens),
        uncertainty=b.uncertainty_text(found, quality_label),
        uncertainty_chart=b.uncertainty_chart(found.analytic),
        sobol=b.sobol_section(
            global_indices(compiled, found.analytic, sampler=found.sampler)
            if found.analytic is not None
            else None
        ),
        conclusions=b.conclusions(sens, quality_label),
        limitations=b.limitations(),
        notes=b.notes(),
        value_choices=b.value_choices(),
        rules_fields=(
            Field(label=t["rules_used"], text=b.rules_text()),
            Field(label=t["critical_review"], text=t["critical_review_text"]),
            Field(label=t["scope_changes"], text=t["scope_changes_text"]),
        ),
        conformance=b.conformance(),
        checklist=tuple(
            ChecklistRow(requirement=t[key], section=n, title=t[i18n.SECTIONS[n - 1]])
            for key, n in i18n.CHECKLIST
        ),
        provenance=tuple(Field(label=k, text=v) for k, v in r.provenance.items()),
        inventory=b.inventory(),
        parameters=b.parameters(),
        sources=b.sources.rows(),
        licences=b.licences.rows(),
    )
    return _without_local_paths(data)


# -- local paths ----------------------------------------------------------------------------
#: The folders of an absolute path (POSIX, ``~/``, or ``C:\\``), up to its last component.
#: Not inside a URL (``https://host/a/b``) or a unit (``kg CO2e/kWh``): the path must start
#: after a space, a bracket or a quote, or at the start.
_FOLDERS = re.compile(
    r"(?<![\w.~/\\:@-])(?:~|[A-Za-z]:)?[/\\](?:[^\s/\\'\"(),;:]+[/\\])+(?=[^\s/\\'\"(),;:])"
)


def without_local_paths(text: str) -> str:
    """``text`` with every absolute local path cut to its file name.

    A report goes to customers: the user's home or temporary folders (``/home/li/…``,
    ``/tmp/…``, ``C:\\Users\\…``) are none of their business, and the file name is what
    identifies the file in the verification package. Relative paths are kept as given.

    >>> without_local_paths("imported from /home/li/pact/board.json, 2025-01-01")
    'imported from board.json, 2025-01-01'
    >>> without_local_paths("see https://example.com/a/b and 0.5 kg CO2e/kWh")
    'see https://example.com/a/b and 0.5 kg CO2e/kWh'
    """
    return _FOLDERS.sub("", text)


def _without_local_paths(value: T) -> T:
    """:func:`without_local_paths` on every text of a report dataclass, recursively."""
    if isinstance(value, str):
        return without_local_paths(value)  # type: ignore[return-value]
    if isinstance(value, tuple):
        return tuple(_without_local_paths(v) for v in value)  # type: ignore[return-value]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        changes = {
            f.name: _without_local_paths(getattr(value, f.name)) for f in dataclasses.fields(value)
        }
        return dataclasses.replace(value, **changes)
    return value


# -- sources and licences -------------------------------------------------------------------
def short_label(text: str, limit: int = LABEL_CHARS) -> str:
    """The first line of ``text``, cut at a word to at most ``limit`` characters (``…``).

    >>> short_label("MIT License\\n\\nCopyright (c) 2023 linancn")
    'MIT License'
    """
    first = text.strip().split("\n", 1)[0].strip()
    if len(first) <= limit:
        return first
    cut = first[: limit - 1]
    word = cut.rsplit(" ", 1)[0]
    return (word if len(word) > limit // 2 else cut).rstrip(" ,;:([") + "…"


class _References:
    """Distinct texts numbered in order of first use (``S1``, ``S2`` … or ``L1`` …)."""

    def __init__(self, prefix: str, t: Mapping[str, str]) -> None:
        self.prefix, self.t = prefix, t
        self.refs: dict[str, str] = {}
        self.users: dict[str, list[str]] = {}

    def cite(self, text: str, user: str) -> str:
        """The short label of ``text`` with its reference, e.g. ``"MIT License [L1]"``."""
        key = text.strip()
        if not key:
            return self.t["none"]
        ref = self.refs.setdefault(key, f"{self.prefix}{len(self.refs) + 1}")
        users = self.users.setdefault(key, [])
        if user not in users:
            users.append(user)
        return f"{short_label(key)} [{ref}]"

    def rows(self) -> tuple[ReferenceRow, ...]:
        out = []
        for text, ref in self.refs.items():
            users = self.users[text]
            named = "; ".join(users[:USED_BY_NAMES])
            if len(users) > USED_BY_NAMES:
                named += " " + self.t["and_more"].format(n=len(users) - USED_BY_NAMES)
            out.append(ReferenceRow(ref=ref, text=text, used_by=named))
        return tuple(out)


_SHIPMENT_NAME = re.compile(r"^Transport of shipment (.+) \(per kg cargo\)$")
_GRID_YEAR = re.compile(r"^no (\d{4}) factor")
_CONDITIONING = re.compile(
    r"^warning: the system of processes is nearly singular \(condition number about (\S+)\), "
    r"so up to (\d+) of 16 significant digits .*; processes involved: (.+)\. Check the loops"
)


def _supplier_company(factor: Factor) -> str:
    """The supplier's company, as its footprint names it (empty for other rows)."""
    return factor.provider if isinstance(factor, StatedFactor) else ""


class _Builder:
    """Section by section; one instance per report, holding the language and the inputs."""

    def __init__(
        self,
        *,
        t: Mapping[str, str],
        lang: str,
        compiled: CompiledModel,
        r: FootprintResult,
        ruled: Conformance | None = None,
    ) -> None:
        self.t, self.lang, self.compiled, self.r = t, lang, compiled, r
        self.ruled = ruled  # the rule set's conformance, when calculated under one
        self.model = compiled.model
        self.by_id: dict[str, Process] = {p.id: p for p in self.model.processes}
        self.factors: dict[str, Factor] = {f.id: f for f in compiled.factors}
        self.sorted_factors = sorted(compiled.factors, key=lambda f: f.id)
        self.columns = {c.id: c for c in compiled.columns}
        self.pedigrees: dict[tuple[str, str], Pedigree | None] = {
            (e.where, e.label): e.pedigree for e in compiled.entries
        }
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
        # numbered in the order of the factor table, so [S1] is the first source there
        self.sources = _References("S", t)
        self.licences = _References("L", t)
        for f in self.sorted_factors:
            self.sources.cite(f.source, self.factor_name(f))
            self.licences.cite(f.licence, self.factor_name(f))

    # -- names --------------------------------------------------------------------------------
    def factor_name(self, f: Factor) -> str:
        """The factor's name in the report's language (Chinese where one is known)."""
        if self.lang != "zh":
            return f.name
        if f.name_zh:
            return f.name_zh
        shipment = _SHIPMENT_NAME.match(f.name)
        if shipment:
            return self.t["shipment_name"].format(shipment=shipment.group(1))
        return f.name

    def process_name(self, process_id: str) -> str:
        p = self.by_id.get(process_id)
        return p.name if p is not None else process_id

    def exchange_name(self, kind: str, label: str) -> str:
        """What the reader sees for the exchange ``label`` (an id) of ``kind``."""
        if kind == "emission":
            return self.gas_name(label) if label in BY_ID else label
        if kind in ("process", "process-credit"):
            column = self.columns.get(label)
            return column.name if column is not None else label
        f = self.factors.get(label)
        if f is None:
            return label
        name = self.factor_name(f)
        if kind == "background":
            database = (f.set_name or label).split("@", 1)[0]
            return self.t["background_name"].format(name=name, database=database)
        if kind == "supplier_footprint":
            company = _supplier_company(f)
            if company:
                return self.t["supplier_name"].format(name=name, company=company)
        return name

    def kind_label(self, kind: str) -> str:
        return self.t.get(f"kind_{kind}", kind)

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

    def gwp_name(self, gwp_id: str) -> str:
        from openpcf.methods.gwp import gwp_set

        name = gwp_set(gwp_id).name
        return i18n.GWP_NAMES_ZH.get(gwp_id, name) if self.lang == "zh" else name

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

    def _row(self, rank: int, e: ExchangeContribution) -> ContributorRow:
        p = self.pedigrees.get((e.where, e.label))
        return ContributorRow(
            rank=rank,
            process=e.process,
            process_name=self.process_name(e.process),
            label=e.label,
            name=self.exchange_name(e.kind, e.label),
            kind=self.kind_label(e.kind),
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
            where=self.line_ref(e.where),
        )

    def line_ref(self, where: str) -> str:
        """The line of an exchange in the model file (``"23"``), or ``"file:line"`` elsewhere;
        the rest of a location repeats the process and the input."""
        location = where.split(": ", 1)[0]
        file, _, line = location.rpartition(":")
        return line if file == str(self.compiled.loaded.path) and line.isdigit() else location

    def contributors(self) -> tuple[ContributorRow, ...]:
        top = [e for e in self.r.top_contributors(TOP_CONTRIBUTORS) if e.co2e]
        return tuple(self._row(rank, e) for rank, e in enumerate(top, start=1))

    def inventory(self) -> tuple[ContributorRow, ...]:
        """Every exchange of the model, in the order of the model file."""
        return tuple(self._row(n, e) for n, e in enumerate(self.r.exchanges, start=1))

    def charts(self) -> tuple[Chart, ...]:
        t, r, q = self.t, self.r, self.r.quality
        stages = [(self.stage_label(s), v) for s, v in r.by_stage.items()]
        top = [c for c in r.top_contributors(8) if c.co2e]
        names = [self.exchange_name(c.kind, c.label) for c in top]
        contributors = [
            # the process only where the same input appears in several processes
            (
                name
                if names.count(name) == 1
                else self.t["name_in_process"].format(
                    name=name, process=self.process_name(c.process)
                ),
                c.co2e,
            )
            for name, c in zip(names, top, strict=True)
        ]
        gases = [
            (self.gas_name(gas), r.by_gas_co2e[gas]) for gas in GAS_IDS if r.by_gas_co2e.get(gas)
        ]
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
        name = self.factor_name(f)
        return FactorRow(
            id=f.id,
            name=name,
            unit=f.unit,
            co2e_per_unit=quantity(f.co2e(self.compiled.gwp.values), f"{CO2E}/{f.unit}", 4),
            geography=f.geography,
            year=f.year,
            source=self.sources.cite(f.source, name),
            licence=self.licences.cite(f.licence, name),
            illustrative=self.t["yes"] if f.illustrative else self.t["no"],
        )

    def ghg_fields(self) -> tuple[Field, ...]:
        t, gwp = self.t, self.compiled.gwp
        return (
            Field(label=t["gwp_set"], text=f"{gwp.id}: {self.gwp_name(gwp.id)}"),
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

    def grid_note(self, g: GridChoice) -> str:
        """How the grid factor was found, in the report's language."""
        if self.lang != "zh":
            return g.fallback_note
        name = self.factor_name(g.factor)
        if g.fallback_note.startswith("exact match"):
            return self.t["grid_exact"].format(factor=name)
        year = _GRID_YEAR.match(g.fallback_note)
        return self.t["grid_fallback"].format(
            requested=g.requested,
            year=year.group(1) if year else "–",
            level=self.t.get(f"level_{g.used_level}", g.used_level),
            factor=name,
        )

    def electricity(self) -> tuple[ElectricityRow, ...]:
        seen: dict[tuple[str, str], ElectricityRow] = {}
        for g in self.compiled.grid_choices:
            f = g.factor
            seen.setdefault(
                (g.requested, f.id),
                ElectricityRow(
                    requested=g.requested,
                    level=self.t.get(f"level_{g.used_level}", g.used_level),
                    factor=self.factor_name(f),
                    factor_id=f.id,
                    intensity=quantity(f.co2e(self.compiled.gwp.values), f"{CO2E}/{f.unit}", 4),
                    year=f.year,
                    source=self.sources.cite(f.source, self.factor_name(f)),
                    note=self.grid_note(g),
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
        totals = {self.compiled.gwp.id: sens.base, **sens.gwp}
        return tuple(
            GwpRow(
                gwp=gwp_id,
                name=self.gwp_name(gwp_id),
                total=quantity(total, CO2E),
                change=Percent(
                    value=round_sig(100 * (total - sens.base) / sens.base) if sens.base else 0.0,
                    text=change_text(total, sens.base),
                ),
            )
            for gwp_id, total in totals.items()
        )

    def parameters(self) -> tuple[ParameterRow, ...]:
        """Every parameter: its value in this calculation, its definition in the model."""
        overridden = effective_overrides(self.compiled)
        definitions = self.model.parameters
        rows = []
        for name, value in self.compiled.parameters.items():
            definition = definitions.get(name)
            rows.append(
                ParameterRow(
                    name=name,
                    value=plain(value),
                    definition=(
                        plain(definition)
                        if isinstance(definition, int | float)
                        else str(definition or "")
                    ),
                    overridden=self.t["yes"] if name in overridden else self.t["no"],
                )
            )
        return tuple(rows)

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
                    label=self.exchange_name(e.kind, e.label),
                    process=self.process_name(e.process),
                    share=percent(e.co2e, r.total).text,
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

    def notes(self) -> tuple[str, ...]:
        """The calculation's notes (:func:`openpcf.model.result._notes`), rebuilt from the data
        they come from in the report's language, numbers rounded; any other note as written."""
        t, out = self.t, []
        for g in self.compiled.grid_choices:
            if g.fallback_note and not g.fallback_note.startswith("exact match"):
                out.append(t["note_electricity"].format(text=self.grid_note(g)))
        for f in generation_only(self.compiled.factors):
            out.append(t["note_generation_only"].format(name=self.factor_name(f), id=f.id))
        for f in self.compiled.factors:
            if f.illustrative:
                note = t["note_illustrative"].format(name=self.factor_name(f), id=f.id)
                out.append(f"{note} {f.notes}" if self.lang != "zh" and f.notes else note)
        for f in self.compiled.factors:
            if f.id.startswith("supplier."):
                out.append(self._supplier_note(f))
        known = ("electricity: ", "warning: the system of processes is nearly singular", SCOPE)
        for note in self.r.notes:
            if note.startswith(known[1]) and self.lang == "zh":
                match = _CONDITIONING.match(note)
                out.append(
                    t["note_conditioning"].format(
                        condition=match.group(1), digits=match.group(2), processes=match.group(3)
                    )
                    if match
                    else note
                )
            elif not (
                note.startswith(known)
                or (note.startswith("factor ") and " is illustrative " in note)
                or note.startswith("supplier.")
            ):
                out.append(note)
        return tuple(dict.fromkeys(out))

    def _supplier_note(self, f: Factor) -> str:
        t = self.t
        per = {gas: number_text(amount) for gas, amount in sorted(f.emissions.items())}
        parts = "".join(
            t[f"note_supplier_{gas}"].format(value=per[gas], unit=f.unit)
            for gas in ("CO2-luc", "CO2-uptake")
            if gas in per
        )
        return t["note_supplier"].format(
            name=self.factor_name(f),
            company=_supplier_company(f) or "–",
            footprint=f.id.removeprefix("supplier."),
            value=number_text(f.co2e(self.compiled.gwp.values)),
            unit=f.unit,
            parts=parts,
        )

    def uncertainty_text(self, found: Propagation, quality_label: str) -> str:
        """The quantitative statement when the model has distributions, which databases'
        stored distributions it includes and which it leaves out, and the qualitative one
        from the data quality rating."""
        t, r, prop = self.t, self.r, found.analytic
        quality = t["uncertainty_text" if prop is None else "uncertainty_quality"].format(
            label=quality_label,
            value=f"{r.quality.overall:.2f}",
            coverage=f"{100 * r.quality.coverage:.1f} %",
        )
        databases = self.databases_text(found)
        if prop is None:
            return f"{databases} {quality}" if databases else quality
        stated = t["propagation_text"].format(
            mean=number_text(prop.mean, 4),
            sd=number_text(prop.sd, 3),
            low=number_text(prop.p2_5, 4),
            high=number_text(prop.p97_5, 4),
            per=self.per_unit,
            n=len(prop.contributions),
        )
        return " ".join(part for part in (stated, databases, quality) if part)

    def databases_text(self, found: Propagation) -> str:
        """Which imported databases' stored distributions the propagation includes (how many
        each), and which it leaves out and why; empty when the model draws on none."""
        t = self.t
        parts = []
        included = [u for u in found.databases if u.included]
        if included:
            items = t["propagation_database_separator"].join(
                t["propagation_database"].format(ref=u.ref, n=u.distributions) for u in included
            )
            parts.append(t["propagation_databases"].format(items=items))
        for u in found.databases:
            if not u.included:
                parts.append(t["propagation_left_out"].format(ref=u.ref, why=u.note))
        return " ".join(parts)

    def uncertainty_chart(self, prop: Analytic | None) -> Chart | None:
        """The inputs' shares of the variance (the largest eight), in percent."""
        if prop is None or not prop.contributions:
            return None
        ranked = sorted(prop.contributions.items(), key=lambda kv: -kv[1])[:8]
        items = [(self.input_label(key), 100.0 * share) for key, share in ranked]
        return _chart("uncertainty", self.t["chart_uncertainty"], "%", items, scale=100.0)

    def input_label(self, key: str) -> str:
        """An uncertain input as the report names it, at most :data:`LABEL_CHARS`: a database
        entry as ``database › process › flow`` (the process name cut first,
        :func:`openpcf.model.database_inputs.input_label`), others by key."""
        return short_label(input_label(self.compiled, key, width=LABEL_CHARS))

    def sobol_section(self, g: Sobol | None) -> SobolSection | None:
        """The Sobol indices (table and paired S1/ST bars) and how to recompute them."""
        if g is None:
            return None
        t = self.t
        hidden = sum(g.screened_out.values())
        screened = (
            t["sobol_screened"].format(n=len(g.screened_out), share=f"{100 * hidden:.1f} %")
            if g.screened_out
            else ""
        )
        text = t["sobol_text"].format(
            kept=len(g.indices),
            screened=screened,
            n=g.n,
            evaluations=f"{g.evaluations:,}",
            seed=g.seed,
            top=SOBOL_TOP,
        )
        rows = tuple(
            SobolRow(
                input=self.input_label(i.key),
                share=f"{100 * i.share:.1f} %",
                s1=f"{i.s1:.2f} ± {i.s1_conf:.2f}",
                st=f"{i.st:.2f} ± {i.st_conf:.2f}",
            )
            for i in g.indices
        )
        items = [  # to two decimals, as in the table
            (f"{self.input_label(i.key)} · {name}", round(value, 2) + 0.0)
            for i in g.indices
            for name, value in (("S1", i.s1), ("ST", i.st))
        ]
        chart = _chart("sobol", t["chart_sobol"], t["sobol_unit"], items, scale=1.0, figures=2)
        return SobolSection(seed=g.seed, n=g.n, text=text, rows=rows, chart=chart)

    def rules_text(self) -> str:
        """The rules applied: the standards, and the rule set when there is one."""
        c = self.ruled
        if c is None:
            return self.t["rules_text"]
        verdict = self.t["conforms"] if c.conforms else self.t["does_not_conform"]
        return self.t["rules_text_set"].format(
            title=c.title_zh if self.lang == "zh" else c.title,
            ref=c.ref,
            documents="; ".join(c.documents),
            verdict=verdict.format(errors=c.errors, warnings=c.warnings),
        )

    def conformance(self) -> tuple[ConformanceRow, ...]:
        c = self.ruled
        if c is None:
            return ()
        zh = self.lang == "zh"
        return tuple(
            ConformanceRow(
                clause=s.clause,
                requirement=s.requirement_zh if zh else s.requirement,
                source=s.short_source,
                status=self.t[f"status_{s.status.replace('-', '_')}"],
                detail="; ".join(
                    [*([s.applied] if s.applied else []), *(f.message for f in s.findings)]
                ),
            )
            for s in c.clauses
        )

    def value_choices(self) -> tuple[str, ...]:
        t, m, gwp = self.t, self.model, self.compiled.gwp
        methods = sorted({t[f"method_{p.allocation.method}"] for p in m.processes if p.allocation})
        return (
            t["choice_gwp"].format(gwp=f"{gwp.id} ({self.gwp_name(gwp.id)})"),
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
