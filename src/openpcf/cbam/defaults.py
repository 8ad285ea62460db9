"""Default values of the definitive period (Implementing Regulation (EU) 2025/2621, Annex I).

The annex gives, per country and CN code, direct, indirect and total embedded emissions in
t CO2e per t of good, before mark-ups. Two rules from the annex decide which row applies:

1. **Most specific code.** Rows exist at 4, 6, 8 and 10 digits. A code matches the longest row
   code it starts with; a code shorter than every row (``2523 10 00`` against the 10-digit
   clinker rows) matches the single row under it, and is ambiguous if there are several.
   Headings whose values sit only in their subheadings (``7211``, ``3102``) never match.
2. **Row-level fallback.** Where the country has no table for the good, or its cells are empty
   or "-", the whole row "Other countries and territories" is used (direct, indirect, total
   and route together, never a mix of columns).

``cbam/data/default_values.csv`` keeps only country rows with values and every fallback row,
which gives the same answers as the annex because an empty country row and a missing one both
send the reader to the fallback (see ``data/README.md``).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from functools import cache
from importlib import resources

from openpcf.cbam.cn import format_cn, normalise_cn
from openpcf.cbam.countries import OTHER_COUNTRIES, check_in_scope, country
from openpcf.cbam.errors import AmbiguousCnCodeError, NoDefaultValueError
from openpcf.cbam.goods import classify, sector_of
from openpcf.cbam.markup import markup_percent

FALLBACK = "*"
UNIT = "t CO2e/t"


@dataclass(frozen=True, slots=True, kw_only=True)
class _Row:
    direct: float
    indirect: float | None
    total: float
    route_code: str
    source: str


@dataclass(frozen=True, slots=True, kw_only=True)
class DefaultValue:
    """One default value, with the row it came from and the mark-up for a year.

    ``good_label`` is the annex's label for the row (cut at 40 characters by the
    transcription). ``total`` is the annex's total (the annex rounds each column, so it can
    differ from ``direct + indirect`` in the last digit);
    ``total_with_markup = total * (1 + markup/100)``.
    """

    cn: str
    cn_row: str
    good_label: str
    sector: str
    country: str
    country_row_used: str
    country_listed: bool
    direct: float
    indirect: float | None
    total: float
    route_code: str | None
    year: int | None
    markup_percent: float | None
    total_with_markup: float | None
    unit: str
    source: str

    def as_json(self) -> dict[str, object]:
        """The fields of ``openpcf cbam default --json``."""
        return {
            "cn": format_cn(self.cn),
            "cn_row": format_cn(self.cn_row),
            "good": self.good_label,
            "sector": self.sector,
            "country": self.country,
            "country_row_used": self.country_row_used,
            "direct": self.direct,
            "indirect": self.indirect,
            "total": self.total,
            "year": self.year,
            "markup_percent": self.markup_percent,
            "total_with_markup": self.total_with_markup,
            "unit": self.unit,
            "production_route_code": self.route_code,
            "source": self.source,
        }


def _read(name: str) -> list[dict[str, str]]:
    text = resources.files("openpcf.cbam").joinpath(f"data/{name}").read_text("utf-8")
    return list(csv.DictReader(io.StringIO(text)))


@cache
def sources() -> dict[str, str]:
    """Source key -> full citation (``data/sources.csv``)."""
    return {r["key"]: r["citation"] for r in _read("sources.csv")}


@cache
def _labels() -> dict[str, str]:
    return {r["cn_code"]: r["label"] for r in _read("default_goods.csv")}


@cache
def _rows() -> dict[str, dict[str, _Row]]:
    out: dict[str, dict[str, _Row]] = {code: {} for code in _labels()}
    for r in _read("default_values.csv"):
        out[r["cn_code"]][r["country"]] = _Row(
            direct=float(r["direct"]) if r["direct"] else 0.0,
            indirect=float(r["indirect"]) if r["indirect"] else None,
            total=float(r["total"]) if r["total"] else float("nan"),
            route_code=r["route_code"],
            source=r["source"],
        )
    return out


def _has_values(code: str) -> bool:
    return any(row.total == row.total for row in _rows()[code].values())  # NaN != NaN


def _match(cn: str) -> str:
    """The annex row code for ``cn`` (rule 1 of the module docstring)."""
    rows = _rows()
    prefixes = sorted((c for c in rows if cn.startswith(c) and _has_values(c)), key=len)
    if prefixes:
        return prefixes[-1]
    under = sorted(c for c in rows if c.startswith(cn) and c != cn and _has_values(c))
    if len(under) == 1:
        return under[0]
    if under:
        shown = ", ".join(f"{format_cn(c)} ({_labels()[c]})" for c in under[:8])
        more = f" and {len(under) - 8} more" if len(under) > 8 else ""
        raise AmbiguousCnCodeError(
            f"CN {format_cn(cn)} matches several default-value rows: {shown}{more}; "
            "give a longer code."
        )
    good = classify(cn)  # raises for codes outside CBAM
    hint = ""
    for width in (6, 4):
        siblings = sorted(c for c in rows if c.startswith(cn[:width]) and _has_values(c))
        if siblings:
            hint = f" Rows under {format_cn(cn[:width])}: " + ", ".join(
                format_cn(c) for c in siblings[:10]
            )
            hint += "." if len(siblings) <= 10 else ", ..."
            break
    raise NoDefaultValueError(
        f"CN {format_cn(cn)} ({good.good.name}) has no default value in Annex I of "
        f"Implementing Regulation (EU) 2025/2621.{hint}"
    )


def default_value(cn: object, country_code: str, year: int | None = None) -> DefaultValue:
    """Look up the default value for a good from a country, with the mark-up for ``year``.

    Parameters
    ----------
    cn : str
        CN code, 4 to 10 digits, spaces optional.
    country_code : str
        ISO alpha-2 or alpha-3 code, or the annex's country name.
    year : int, optional
        Import year (2026 or later) for the mark-up; ``None`` gives the value without it.

    Raises
    ------
    UnknownCnCodeError, NotCbamGoodError, AmbiguousCnCodeError, NoDefaultValueError
        See :mod:`openpcf.cbam.errors`.
    """
    code = normalise_cn(cn)
    origin = country(country_code)
    check_in_scope(origin)
    row_code = _match(code)
    by_country = _rows()[row_code]
    row = by_country.get(origin.iso2)
    used = origin.name if row is not None else OTHER_COUNTRIES
    row = row or by_country.get(FALLBACK)
    if row is None or row.total != row.total:
        raise NoDefaultValueError(
            f"CN {format_cn(code)}: neither {origin.name} nor {OTHER_COUNTRIES} has a value."
        )
    sector = sector_of(row_code) or "unknown"
    markup = None if year is None else markup_percent(sector, year)
    return DefaultValue(
        cn=code,
        cn_row=row_code,
        good_label=_labels()[row_code],
        sector=sector,
        country=origin.iso2,
        country_row_used=used,
        country_listed=origin.listed,
        direct=row.direct,
        indirect=row.indirect,
        total=row.total,
        route_code=row.route_code or None,
        year=year,
        markup_percent=markup,
        # rounded to 6 decimals: exact for the annex's 3 decimals times a whole percent
        total_with_markup=None if markup is None else round(row.total * (1 + markup / 100), 6),
        unit=UNIT,
        source=sources()[row.source],
    )
