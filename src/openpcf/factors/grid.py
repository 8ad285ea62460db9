"""Choose a China grid-electricity factor for a place and year, falling back openly.

Published factors do not cover every province and year (e.g. no 2023 provincial CO2 factors
had been retrieved when this was written; Tibet has none at all), yet a footprint must use
*some* defensible number and say which. The search order is:

1. the requested year at the province, then its regional grid, then national (CN);
2. if none has that year: the latest earlier year, again province -> grid -> national;
3. if nothing is that old: the earliest later year, in the same order.

Spatial specificity wins over recency within each pass, because a province's mix differs from
the national mean far more (Yunnan 0.11 vs Hebei 0.73 kg CO2/kWh in 2022) than it changes
from one year to the next. Every choice is described in :attr:`GridChoice.fallback_note`.

Two bases exist (see ``docs/factors.md``): ``"co2"`` is the MEE/NBS CO2 emission factor
series (ids ``cn.grid.co2.<year>.<level>``, booked on ``CO2-fossil``), ``"footprint"`` the
life-cycle electricity carbon-footprint factors (``cn.electricity.footprint.<year>.<level>``,
booked on ``CO2e``), of which only the 2023 national value exists so far.

The province -> regional grid map is ``factors/data/_cn_provinces.csv`` (with its source).
Inner Mongolia is mapped wholly to the North China grid although its eastern leagues are
operated in the Northeast grid.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Literal

from openpcf.errors import InputError, UnknownFactorError
from openpcf.factors.schema import Factor
from openpcf.factors.store import FactorSet

Level = Literal["province", "regional grid", "national"]
_PREFIX = {"co2": "cn.grid.co2", "footprint": "cn.electricity.footprint"}
_GRIDS: Mapping[str, str] = {
    "CN-GRID-NORTH": "North China grid",
    "CN-GRID-NORTHEAST": "Northeast China grid",
    "CN-GRID-EAST": "East China grid",
    "CN-GRID-CENTRAL": "Central China grid",
    "CN-GRID-NORTHWEST": "Northwest China grid",
    "CN-GRID-SOUTH": "South China grid",
    "CN-GRID-SOUTHWEST": "Southwest China grid",
}


@dataclass(frozen=True, slots=True, kw_only=True)
class GridChoice:
    """The grid factor chosen for a request, and how it was found.

    Attributes
    ----------
    factor : Factor
        The factor to use.
    requested : str
        The geography as the caller gave it.
    used_level : str
        "province", "regional grid" or "national".
    fallback_note : str
        One sentence saying what was used and why, for the report.
    """

    factor: Factor
    requested: str
    used_level: Level
    fallback_note: str


@dataclass(frozen=True, slots=True)
class _Province:
    code: str
    slug: str
    name: str
    name_zh: str
    grid: str


@cache
def _provinces() -> Mapping[str, _Province]:
    """Province records keyed by every accepted spelling (code, English, Chinese; folded)."""
    text = resources.files("openpcf.factors").joinpath("data/_cn_provinces.csv").read_text("utf-8")
    keyed: dict[str, _Province] = {}
    for row in csv.DictReader(text.splitlines()):
        p = _Province(row["code"], row["slug"], row["name"], row["name_zh"], row["grid"])
        for key in (p.code, p.name, p.name_zh, p.slug):
            keyed[_fold(key)] = p
    return keyed


def _fold(text: str) -> str:
    return re.sub(r"[\s_\-]+", " ", text.strip().lower())


def _chain(geography: str) -> list[tuple[Level, str, str]]:
    """Return the (level, id suffix, label) sequence to try for ``geography``."""
    national: tuple[Level, str, str] = ("national", "national", "national (CN)")
    key = _fold(geography)
    if key in ("cn", "china"):
        return [national]
    for grid_id, label in _GRIDS.items():
        if key == _fold(grid_id):
            return [("regional grid", _grid_suffix(grid_id), label), national]
    province = _provinces().get(key)
    if province is None:
        raise InputError(
            f"Unknown geography {geography!r} for China grid electricity. Give an ISO 3166-2:CN "
            "code (e.g. CN-HE), an English province name (e.g. 'Inner Mongolia'), a grid id "
            f"({', '.join(_GRIDS)}) or CN."
        )
    return [
        ("province", f"province.{province.slug}", f"{province.name} ({province.code}) province"),
        ("regional grid", _grid_suffix(province.grid), _GRIDS[province.grid]),
        national,
    ]


def _grid_suffix(grid_id: str) -> str:
    return "grid." + grid_id.removeprefix("CN-GRID-").lower()


def _years(factors: FactorSet, prefix: str, suffix: str) -> dict[int, Factor]:
    pattern = re.compile(rf"^{re.escape(prefix)}\.(\d{{4}})\.{re.escape(suffix)}$")
    found = {}
    for factor_id, factor in factors.factors.items():
        match = pattern.match(factor_id)
        if match:
            found[int(match.group(1))] = factor
    return found


def grid_electricity(
    *, geography: str, year: int, factors: FactorSet, basis: str = "co2"
) -> GridChoice:
    """Return the grid-electricity factor for ``geography`` and ``year`` (see module doc).

    Parameters
    ----------
    geography : str
        "CN-HE", "Hebei", "河北", a grid id such as "CN-GRID-NORTH", or "CN".
    year : int
        Reference year of the electricity use.
    factors : FactorSet
        Set to search (usually :func:`bundled_factor_set`, possibly merged with user sets).
    basis : {"co2", "footprint"}
        MEE/NBS CO2 emission factors, or the life-cycle carbon-footprint factors.

    Raises
    ------
    InputError
        Unknown geography or basis.
    UnknownFactorError
        No factor at any level in any year.
    """
    prefix = _PREFIX.get(basis)
    if prefix is None:
        raise InputError(f"Unknown grid basis {basis!r}; use 'co2' or 'footprint'.")
    chain = _chain(geography)
    found = [(level, label, _years(factors, prefix, suffix)) for level, suffix, label in chain]
    passes = (
        ("exact", lambda ys: year if year in ys else None),
        ("earlier", lambda ys: max((y for y in ys if y < year), default=None)),
        ("later", lambda ys: min((y for y in ys if y > year), default=None)),
    )
    for kind, pick in passes:
        for level, label, by_year in found:
            chosen = pick(by_year)
            if chosen is not None:
                note = _note(kind, chosen, year, level, label, chain[0][2], basis)
                return GridChoice(
                    factor=by_year[chosen],
                    requested=geography,
                    used_level=level,
                    fallback_note=note,
                )
    raise UnknownFactorError(
        f"No {basis} grid-electricity factor for {geography!r} at any level or year in set(s) "
        f"{', '.join(factors.set_names)}. Load a factor set with ids like "
        f"'{prefix}.{year}.national' (--factors)."
    )


def _note(kind: str, chosen: int, year: int, level: str, label: str, first: str, basis: str) -> str:
    """Say in one sentence what was used and why."""
    used = f"used {label} {chosen}"
    if kind == "exact" and label == first:
        return f"exact match: {label} {year}"
    if kind == "exact":
        why = f"no {year} factor for {first}"
    elif kind == "earlier":
        why = f"no {year} factor at any level for {first}; latest earlier {level} year is {chosen}"
    else:
        why = (
            f"no factor for {year} or earlier for {first}; earliest later {level} year is {chosen}"
        )
    extra = ""
    if basis == "footprint" and level == "national":
        extra = " (only national electricity carbon-footprint factors are published)"
    return f"{why}; {used}{extra}"
