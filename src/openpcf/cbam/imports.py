"""The importer's view: embedded emissions of a year's imports and what certificates cost.

For each import line (CN code, country of origin, quantity, and the supplier's actual SEE if
there is one):

- chargeable SEE = SEE_direct + SEE_indirect if indirect emissions count for the good from
  2026 (cement and most fertiliser goods; template flag), else SEE_direct;
- without actual data, the Annex I default is used with the year's mark-up:
  ``SEE_default = (total if indirect counts else direct) · (1 + markup/100)``;
- embedded emissions = quantity · chargeable SEE (t CO2e); **gross** certificates, before the
  free-allocation adjustment = Σ embedded emissions of the lines in scope (one certificate per
  t CO2e, not rounded); cost = certificates · price.
- **net** certificates (Regulation (EU) 2023/956 Article 31; Implementing Regulation (EU)
  2025/2620 Annex points 2 and 4): per line in scope, the free-allocation adjustment
  ``FAA = quantity · CBAM_y · CSCF_y · BM`` (:mod:`openpcf.cbam.free_allocation`) with ``BM``
  the CBAM benchmark the line gives, with its source (the benchmark table is not bundled);
  net = max(0, embedded − FAA) per line (⚠R: the floor at zero per good is OpenPCF's reading);
  electricity's adjustment is zero. Computed when any line gives a benchmark; then every line
  in scope except electricity must give one.
- de minimis (Reg. (EU) 2023/956 Art. 2a as inserted by Reg. (EU) 2025/2083; ✅S): an importer
  of ≤ 50 t net mass in a calendar year of iron and steel, aluminium, cement and fertiliser
  goods together is exempt for those goods; electricity and hydrogen are never exempt. If the
  50 t are exceeded, every tonne of the year is in scope.
- difference actual vs default, per line with actual data: (default − actual) embedded
  emissions in t CO2e and in euros at the given price.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

from openpcf.cbam.cn import format_cn, normalise_cn
from openpcf.cbam.communication import rounded
from openpcf.cbam.countries import check_in_scope, country
from openpcf.cbam.defaults import default_value, sources
from openpcf.cbam.errors import CbamError, MissingBenchmarkError
from openpcf.cbam.free_allocation import Adjustment, Factor, adjustment, cbam_factor
from openpcf.cbam.goods import classify
from openpcf.errors import located
from openpcf.files.csvfile import read_csv_rows

DE_MINIMIS_T = 50.0
_NOT_IN_THRESHOLD = frozenset({"electricity", "hydrogen"})
_COLUMNS = ("cn", "country", "tonnes")
_HEADER = (
    "the header is cn,country,tonnes[,see_direct,see_indirect,description,benchmark,"
    "benchmark_source]."
)
_NO_BENCHMARK = (
    "net certificates need the CBAM benchmark of each line (columns benchmark and "
    "benchmark_source; Implementing Regulation (EU) 2025/2620 Annex point 5.3)"
)
_BENCHMARK_HINT = (
    "give the CBAM benchmark in t CO2e per unit (Implementing Regulation (EU) 2025/2620, "
    "Annex point 5.3: Column B where default values are used; with actual data, Column A for "
    "the good's own process plus the precursors' benchmarks, as the producer communicates) in "
    "column benchmark and where it comes from (document, annex/table, row, year) in "
    "benchmark_source"
)


@dataclass(frozen=True, slots=True, kw_only=True)
class ImportLine:
    """One import: quantity in t (MWh for electricity), optional actual SEE (t CO2e/unit)."""

    cn: str
    country: str
    quantity: float
    see_direct: float | None = None
    see_indirect: float | None = None
    description: str = ""
    benchmark: float | None = None
    benchmark_source: str = ""
    where: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class ImportResult:
    line: ImportLine
    aggregated_good: str
    sector: str
    unit: str
    data_source: str
    see_used: float
    embedded_t: float
    default_see: float | None
    default_embedded_t: float | None
    in_scope: bool
    difference_t: float | None
    difference_eur: float | None
    sefa: float | None = None
    free_allocation_t: float | None = None
    certificates_net: float | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ImportsAssessment:
    year: int
    price_eur: float
    lines: tuple[ImportResult, ...]
    threshold_mass_t: float
    de_minimis_exempt: bool
    certificates: float
    cost_eur: float
    difference_t: float
    difference_eur: float
    adjustment: Adjustment | None = None
    free_allocation_t: float | None = None
    certificates_net: float | None = None
    cost_net_eur: float | None = None

    def as_json(self) -> dict[str, object]:
        """JSON-ready fields, numbers to 12 significant digits."""
        return rounded(self._fields())  # type: ignore[no-any-return]

    def _fields(self) -> dict[str, object]:
        return {
            "year": self.year,
            "price_eur_per_t_co2e": self.price_eur,
            "threshold_mass_t": self.threshold_mass_t,
            "de_minimis_t": DE_MINIMIS_T,
            "de_minimis_exempt": self.de_minimis_exempt,
            "certificates": self.certificates,
            "cost_eur": self.cost_eur,
            **self._net_fields(),
            "difference_actual_vs_default_t_co2e": self.difference_t,
            "difference_actual_vs_default_eur": self.difference_eur,
            "lines": [
                {
                    "cn": format_cn(normalise_cn(r.line.cn)),
                    "country": r.line.country,
                    "quantity": r.line.quantity,
                    "unit": r.unit,
                    "aggregated_good": r.aggregated_good,
                    "data_source": r.data_source,
                    "see_used": r.see_used,
                    "embedded_t_co2e": r.embedded_t,
                    "default_see_with_markup": r.default_see,
                    "default_embedded_t_co2e": r.default_embedded_t,
                    "in_scope": r.in_scope,
                    "difference_t_co2e": r.difference_t,
                    "difference_eur": r.difference_eur,
                    "benchmark_t_co2e_per_unit": r.line.benchmark,
                    "benchmark_source": r.line.benchmark_source or None,
                    "sefa_t_co2e_per_unit": r.sefa,
                    "free_allocation_adjustment_t_co2e": r.free_allocation_t,
                    "certificates_net": r.certificates_net,
                    "description": r.line.description,
                }
                for r in self.lines
            ],
        }

    def _net_fields(self) -> dict[str, object]:
        a = self.adjustment
        if a is None:
            return {"certificates_net": None, "net_note": _NO_BENCHMARK}
        cite = sources()
        return {
            "cbam_factor": a.cbam_factor.value,
            "cbam_factor_source": cite.get(a.cbam_factor.source, a.cbam_factor.source),
            "cscf": a.cscf.value,
            "cscf_source": cite.get(a.cscf.source, a.cscf.source),
            "free_allocation_adjustment_t_co2e": self.free_allocation_t,
            "certificates_net": self.certificates_net,
            "cost_net_eur": self.cost_net_eur,
            "net_method": cite["IR2025/2620"],
        }


def read_imports_csv(path: Path) -> list[ImportLine]:
    """Read ``cn,country,tonnes[,see_direct,see_indirect,description,benchmark,
    benchmark_source]`` rows.

    Raises
    ------
    CbamError
        Missing columns or a value that is not a number, with file:line.
    """
    rows = read_csv_rows(
        path,
        required=_COLUMNS,
        header=_HEADER,
        error=CbamError,
    )
    out = []
    for n, row in rows:
        where = f"{path}:{n}"
        out.append(
            ImportLine(
                cn=row["cn"] or "",
                country=row["country"] or "",
                quantity=_number(row["tonnes"], "tonnes", where, required=True) or 0.0,
                see_direct=_number(row.get("see_direct"), "see_direct", where),
                see_indirect=_number(row.get("see_indirect"), "see_indirect", where),
                description=(row.get("description") or "").strip(),
                benchmark=_number(row.get("benchmark"), "benchmark", where),
                benchmark_source=(row.get("benchmark_source") or "").strip(),
                where=where,
            )
        )
    return out


def _number(cell: str | None, field: str, where: str, *, required: bool = False) -> float | None:
    if cell is None or not cell.strip():
        if required:
            raise CbamError(f"{where}: {field} is empty; give a number.")
        return None
    try:
        value = float(cell)
    except ValueError:
        raise CbamError(f"{where}: {field} {cell!r} is not a number.") from None
    if value < 0:
        raise CbamError(f"{where}: {field} {value:g} is negative.")
    return value


@dataclass(frozen=True, slots=True, kw_only=True)
class _Priced:
    aggregated_good: str
    sector: str
    unit: str
    data_source: str
    see_used: float
    default_see: float | None


def assess_imports(
    lines: list[ImportLine], *, price_eur: float, year: int, cscf: Factor | None = None
) -> ImportsAssessment:
    """Embedded emissions, gross and net certificates, cost, and actual-vs-default difference.

    ``cscf`` gives the cross-sectoral correction factor (with its source) where the bundled
    table has none (2031-2033) or to replace it.

    Raises
    ------
    UnknownYearError
        ``year`` before 2026, or a year whose CSCF is unknown and not given.
    MissingBenchmarkError
        Some line gives a benchmark and another line in scope does not, or a benchmark has no
        source.
    CbamError
        A line's CN code, country or SEE cannot be used (with file:line).
    """
    cbam_factor(year)  # refuse an unknown year before anything else
    priced = [_price(line, year) for line in lines]
    mass = sum(
        (
            line.quantity
            for line, p in zip(lines, priced, strict=True)
            if p.sector not in _NOT_IN_THRESHOLD
        ),
        0.0,
    )
    exempt = mass <= DE_MINIMIS_T
    results = []
    for line, p in zip(lines, priced, strict=True):
        embedded = line.quantity * p.see_used
        default_t = None if p.default_see is None else line.quantity * p.default_see
        diff = default_t - embedded if default_t is not None and p.data_source == "actual" else None
        results.append(
            ImportResult(
                line=line,
                aggregated_good=p.aggregated_good,
                sector=p.sector,
                unit=p.unit,
                data_source=p.data_source,
                see_used=p.see_used,
                embedded_t=embedded,
                default_see=p.default_see,
                default_embedded_t=default_t,
                in_scope=p.sector in _NOT_IN_THRESHOLD or not exempt,
                difference_t=diff,
                difference_eur=None if diff is None else diff * price_eur,
            )
        )
    certificates = sum((r.embedded_t for r in results if r.in_scope), 0.0)
    diff_t = sum((r.difference_t or 0.0 for r in results if r.in_scope), 0.0)
    adj = None
    faa_total = net_total = None
    if any(line.benchmark is not None for line in lines):
        adj = adjustment(year, cscf_value=cscf)
        results = _net(results, adj)
        faa_total = sum((r.free_allocation_t or 0.0 for r in results), 0.0)
        net_total = sum((r.certificates_net or 0.0 for r in results), 0.0)
    return ImportsAssessment(
        year=year,
        price_eur=price_eur,
        lines=tuple(results),
        threshold_mass_t=mass,
        de_minimis_exempt=exempt,
        certificates=certificates,
        cost_eur=certificates * price_eur,
        difference_t=diff_t,
        difference_eur=diff_t * price_eur,
        adjustment=adj,
        free_allocation_t=faa_total,
        certificates_net=net_total,
        cost_net_eur=None if net_total is None else net_total * price_eur,
    )


def _net(results: list[ImportResult], adj: Adjustment) -> list[ImportResult]:
    """Each line with its free-allocation adjustment and net certificates (see module doc)."""
    missing, unsourced = [], []
    out = []
    for r in results:
        line = r.line
        label = line.where or f"line {format_cn(normalise_cn(line.cn))} {line.country}"
        if r.sector == "electricity":
            if line.benchmark is not None:
                raise CbamError(
                    f"{label}: electricity has no free-allocation adjustment (Implementing "
                    "Regulation (EU) 2025/2620, Article 1(2)); leave its benchmark empty."
                )
            sefa = 0.0
        elif line.benchmark is None:
            if r.in_scope:
                missing.append(label)
            sefa = None
        else:
            if not line.benchmark_source:
                unsourced.append(label)
            sefa = adj.sefa(line.benchmark)
        faa = line.quantity * sefa if r.in_scope and sefa is not None else 0.0
        net = max(0.0, r.embedded_t - faa) if r.in_scope else 0.0
        out.append(replace(r, sefa=sefa, free_allocation_t=faa, certificates_net=net))
    if missing or unsourced:
        problem = (
            f"{', '.join(missing[:5])}{' and more' if len(missing) > 5 else ''}: benchmark is empty"
            if missing
            else f"{', '.join(unsourced[:5])}: benchmark_source is empty"
        )
        raise MissingBenchmarkError(
            f"{problem}. Net certificates need every line in scope to {_BENCHMARK_HINT}; "
            "remove the benchmark column for the gross view only."
        )
    return out


def _price(line: ImportLine, year: int) -> _Priced:
    """Chargeable SEE of one line (actual if given, else default with mark-up)."""
    prefix = f"{line.where}: " if line.where else ""
    default_see = None
    try:
        good = classify(line.cn).good
        check_in_scope(country(line.country))
        try:
            d = default_value(line.cn, line.country, year)
            base = d.total if good.indirect_definitive else d.direct
            default_see = base * (1 + (d.markup_percent or 0.0) / 100)
        except CbamError:
            if line.see_direct is None:  # no actual data and no default: nothing to use
                raise
    except CbamError as e:
        raise (located(e, line.where) if line.where else e) from None
    if line.see_direct is not None:
        indirect = (line.see_indirect or 0.0) if good.indirect_definitive else 0.0
        see, source = line.see_direct + indirect, "actual"
    elif default_see is not None:
        see, source = default_see, "default"
    else:  # unreachable: the lookup above raised
        raise CbamError(f"{prefix}no SEE for CN {format_cn(line.cn)}")
    return _Priced(
        aggregated_good=good.name,
        sector=good.sector,
        unit=good.unit,
        data_source=source,
        see_used=see,
        default_see=default_see,
    )
