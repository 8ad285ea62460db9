"""The importer's view: embedded emissions of a year's imports and what certificates cost.

For each import line (CN code, country of origin, quantity, and the supplier's actual SEE if
there is one):

- chargeable SEE = SEE_direct + SEE_indirect if indirect emissions count for the good from
  2026 (cement and most fertiliser goods; template flag), else SEE_direct;
- without actual data, the Annex I default is used with the year's mark-up:
  ``SEE_default = (total if indirect counts else direct) · (1 + markup/100)``;
- embedded emissions = quantity · chargeable SEE (t CO2e); certificates needed before any
  free-allocation adjustment = Σ embedded emissions of the lines in scope (one certificate per
  t CO2e, not rounded); cost = certificates · price.
- de minimis (Reg. (EU) 2023/956 Art. 2a as inserted by Reg. (EU) 2025/2083; ✅S): an importer
  of ≤ 50 t net mass in a calendar year of iron and steel, aluminium, cement and fertiliser
  goods together is exempt for those goods; electricity and hydrogen are never exempt. If the
  50 t are exceeded, every tonne of the year is in scope.
- difference actual vs default, per line with actual data: (default − actual) embedded
  emissions in t CO2e and in euros at the given price.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from openpcf.cbam.cn import format_cn, normalise_cn
from openpcf.cbam.communication import rounded
from openpcf.cbam.countries import check_in_scope, country
from openpcf.cbam.defaults import default_value
from openpcf.cbam.errors import CbamError
from openpcf.cbam.goods import classify
from openpcf.errors import located
from openpcf.files.csvfile import read_csv_rows

DE_MINIMIS_T = 50.0
_NOT_IN_THRESHOLD = frozenset({"electricity", "hydrogen"})
_COLUMNS = ("cn", "country", "tonnes")


@dataclass(frozen=True, slots=True, kw_only=True)
class ImportLine:
    """One import: quantity in t (MWh for electricity), optional actual SEE (t CO2e/unit)."""

    cn: str
    country: str
    quantity: float
    see_direct: float | None = None
    see_indirect: float | None = None
    description: str = ""
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
                    "description": r.line.description,
                }
                for r in self.lines
            ],
        }


def read_imports_csv(path: Path) -> list[ImportLine]:
    """Read ``cn,country,tonnes[,see_direct,see_indirect,description]`` rows.

    Raises
    ------
    CbamError
        Missing columns or a value that is not a number, with file:line.
    """
    rows = read_csv_rows(
        path,
        required=_COLUMNS,
        header="the header is cn,country,tonnes[,see_direct,see_indirect,description].",
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


def assess_imports(lines: list[ImportLine], *, price_eur: float, year: int) -> ImportsAssessment:
    """Embedded emissions, certificates, cost and actual-vs-default difference of imports."""
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
    )


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
