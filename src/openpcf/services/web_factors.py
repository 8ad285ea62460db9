"""The factor browser of the web pages: the active factor set, searched and explained.

The same set and the same search as ``openpcf factors search``/``show``
(:func:`openpcf.services.calculate.active_factor_set`, :meth:`FactorSet.search`): the bundled
factors plus the sets in ``$OPENPCF_HOME/factors``. Rows are plain data with the AR6 CO2e per
unit worked out once.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from openpcf.factors import Factor, FactorSet
from openpcf.methods.gwp import gwp_set
from openpcf.services.calculate import active_factor_set
from openpcf.settings import Settings

#: The most rows one search shows (the set holds a few hundred to thousands of rows).
MAX_ROWS = 200
#: The longest query the page accepts.
MAX_QUERY = 200


@dataclass(frozen=True, slots=True, kw_only=True)
class FactorRow:
    """One factor as the browser shows it."""

    id: str
    name: str
    name_zh: str
    unit: str
    kg_co2e_ar6: float
    geography: str
    year: int
    source: str
    licence: str
    illustrative: bool
    category: str


@dataclass(frozen=True, slots=True, kw_only=True)
class FactorSearch:
    """The rows found (at most :data:`MAX_ROWS`) and how many matched in all."""

    query: str
    rows: tuple[FactorRow, ...]
    matched: int
    set_name: str
    set_sha256: str


@dataclass(frozen=True, slots=True, kw_only=True)
class FactorDetail:
    """One factor with its gases and provenance."""

    row: FactorRow
    gases: tuple[tuple[str, float], ...]
    gwp_basis: str
    notes: str
    set_name: str
    ncv_mj_per_kg: float | None


def factor_set(home: Path | None) -> FactorSet:
    """The active set: bundled, and the sets in ``home/factors`` when ``home`` is given."""
    settings = Settings(home=home, database_url="") if home is not None else None
    return active_factor_set(settings=settings)


def _row(f: Factor) -> FactorRow:
    return FactorRow(
        id=f.id,
        name=f.name,
        name_zh=f.name_zh,
        unit=f.unit,
        kg_co2e_ar6=f.co2e(gwp_set("AR6").values),
        geography=f.geography,
        year=f.year,
        source=f.source,
        licence=f.licence,
        illustrative=f.illustrative,
        category=f.category,
    )


def search_factors(query: str, *, home: Path | None = None) -> FactorSearch:
    """Factors whose id, English or Chinese name or geography contain every word of
    ``query`` (an empty query lists the set), as ``openpcf factors search`` finds them."""
    query = query.strip()[:MAX_QUERY]
    factors = factor_set(home)
    found = factors.search(query)
    return FactorSearch(
        query=query,
        rows=tuple(_row(f) for f in found[:MAX_ROWS]),
        matched=len(found),
        set_name=factors.name,
        set_sha256=factors.content_hash,
    )


def factor_detail(factor_id: str, *, home: Path | None = None) -> FactorDetail:
    """One factor of the active set.

    Raises
    ------
    UnknownFactorError
        No factor has this id.
    """
    f = factor_set(home).get(factor_id)
    return FactorDetail(
        row=_row(f),
        gases=tuple(sorted(f.emissions.items())),
        gwp_basis=f.gwp_basis,
        notes=f.notes,
        set_name=f.set_name,
        ncv_mj_per_kg=f.ncv_mj_per_kg,
    )
