"""CBAM goods: CN code -> aggregated goods category, routes, relevant precursors, indirect flag.

Data: ``cbam/data/cn_goods.csv`` (569 CN lines) and ``cbam/data/aggregated_goods.csv``
(18 categories), both derived from the Commission's CBAM communication template v2.1.1
(2024-12-13), sheets Parameters_CNCodes and Parameters_Constants (see ``data/README.md``).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from functools import cache
from importlib import resources

from openpcf.cbam.cn import format_cn, normalise_cn
from openpcf.cbam.errors import AmbiguousCnCodeError, NotCbamGoodError, RouteError

#: The sectors of Annex I of Regulation (EU) 2023/956.
SECTORS = ("cement", "iron_steel", "aluminium", "fertilisers", "hydrogen", "electricity")


@dataclass(frozen=True, slots=True, kw_only=True)
class AggregatedGood:
    """One aggregated goods category of the communication template.

    Attributes
    ----------
    name : str
        As spelt in the template, e.g. ``"Crude steel"``.
    sector : str
        One of :data:`SECTORS`.
    unit : str
        ``"t"``, or ``"MWh"`` for electricity: the unit of the activity level and of SEE's
        denominator.
    indirect_definitive : bool
        Whether indirect emissions count from 2026 (template flag; see docs/cbam.md for the
        ammonia discrepancy).
    routes : tuple[str, ...]
        Named production routes; empty means "all production routes".
    precursors : tuple[str, ...]
        Names of the relevant precursors (aggregated goods).
    """

    name: str
    sector: str
    unit: str
    indirect_definitive: bool
    indirect_transitional: bool
    routes: tuple[str, ...]
    precursors: tuple[str, ...]

    def accepts_precursor(self, other: str) -> bool:
        """Whether ``other`` (an aggregated good name) is a relevant precursor of this good."""
        return _key(other) in {_key(p) for p in self.precursors}

    def check_route(self, route: str | None, *, where: str) -> str | None:
        """Return the route as spelt in the template, or raise :class:`RouteError`."""
        if route is None or not self.routes:
            return route
        for known in self.routes:
            if _key(known) == _key(route):
                return known
        raise RouteError(
            f"{where}: route {route!r} is not a production route of {self.name!r}; "
            f"use one of: {'; '.join(self.routes)}."
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class CbamGood:
    """A CN code resolved to its CBAM category."""

    cn: str
    description: str
    good: AggregatedGood

    @property
    def cn_display(self) -> str:
        return format_cn(self.cn)


def _key(name: str) -> str:
    return " ".join(name.casefold().split())


def _read(name: str) -> list[dict[str, str]]:
    text = resources.files("openpcf.cbam").joinpath(f"data/{name}").read_text("utf-8")
    return list(csv.DictReader(io.StringIO(text)))


def _split(cell: str) -> tuple[str, ...]:
    return tuple(x.strip() for x in cell.split(";") if x.strip())


@cache
def aggregated_goods() -> dict[str, AggregatedGood]:
    """All categories, keyed by case-folded name."""
    out = {}
    for row in _read("aggregated_goods.csv"):
        good = AggregatedGood(
            name=row["aggregated_good"],
            sector=row["sector"],
            unit=row["unit"],
            indirect_definitive=row["indirect_definitive"] == "true",
            indirect_transitional=row["indirect_transitional"] == "true",
            routes=_split(row["routes"]),
            precursors=_split(row["precursors"]),
        )
        out[_key(good.name)] = good
    return out


@cache
def _cn_lines() -> dict[str, tuple[str, str]]:
    return {r["cn_code"]: (r["aggregated_good"], r["description"]) for r in _read("cn_goods.csv")}


def aggregated_good(name: str, *, where: str = "aggregated good") -> AggregatedGood:
    """Look a category up by name (case and spacing ignored).

    Raises
    ------
    NotCbamGoodError
        If ``name`` is not one of the 18 categories.
    """
    good = aggregated_goods().get(_key(name))
    if good is None:
        names = "; ".join(g.name for g in aggregated_goods().values())
        raise NotCbamGoodError(
            f"{where}: {name!r} is not a CBAM aggregated good; use one of: {names}."
        )
    return good


def classify(code: object, *, where: str = "CN code") -> CbamGood:
    """Resolve a CN code (4-10 digits, spaces optional) to its CBAM line and category.

    A longer code (10-digit TARIC) matches the 8-digit line it starts with; a shorter code
    (a heading such as ``7208``) is accepted when every CBAM line under it belongs to one
    category.

    Raises
    ------
    UnknownCnCodeError
        If ``code`` is not a CN code at all.
    NotCbamGoodError
        If no CBAM line matches.
    AmbiguousCnCodeError
        If the lines under a short code belong to several categories.
    """
    cn = normalise_cn(code, field=where)
    lines = _cn_lines()
    hit = lines.get(cn[:8]) if len(cn) >= 8 else None
    if hit is not None:
        return CbamGood(cn=cn, description=hit[1], good=aggregated_good(hit[0]))
    under = {line: v for line, v in lines.items() if line.startswith(cn)}
    if not under:
        raise NotCbamGoodError(
            f"{where} {format_cn(cn)} is not a CBAM good: it is not among the CN codes of "
            "Annex I of Regulation (EU) 2023/956 (communication template v2.1.1). Check the "
            "code; goods outside CBAM need no CBAM data."
        )
    categories = {v[0] for v in under.values()}
    if len(categories) > 1:
        raise AmbiguousCnCodeError(
            f"{where} {format_cn(cn)} covers several CBAM categories "
            f"({'; '.join(sorted(categories))}); give the 8-digit code."
        )
    first = min(under)
    return CbamGood(cn=cn, description=under[first][1], good=aggregated_good(under[first][0]))


#: CN prefixes of each sector, as Annex I of Regulation (EU) 2023/956 groups them. Used for
#: codes of Annex I of 2025/2621 that the 2024 template list does not carry (CN 2025 splits
#: such as 3102 10 12) and to pick the mark-up group.
_SECTOR_PREFIXES = (
    ("2507", "cement"),
    ("2523", "cement"),
    ("2601", "iron_steel"),
    ("72", "iron_steel"),
    ("73", "iron_steel"),
    ("76", "aluminium"),
    ("2804", "hydrogen"),
    ("2808", "fertilisers"),
    ("2814", "fertilisers"),
    ("2834", "fertilisers"),
    ("3102", "fertilisers"),
    ("3105", "fertilisers"),
    ("2716", "electricity"),
)


def sector_of(cn: str) -> str | None:
    """The CBAM sector of a normalised CN code by its prefix, or ``None`` outside CBAM."""
    for prefix, sector in _SECTOR_PREFIXES:
        if cn.startswith(prefix):
            return sector
    return None
