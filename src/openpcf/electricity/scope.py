"""What an electricity factor covers: the CO2 of generation only, or the life cycle.

ISO 14067:2018 wants electricity counted over its life cycle: the supply of the fuels,
generation, and transmission and distribution losses, with every greenhouse gas. Publishers do
not always give that. China's Ministry of Ecology and Environment (MEE) and National Bureau of
Statistics publish grid **CO2 emission factors** for each year, region and province; they count
the CO2 of generation only. The life-cycle **carbon-footprint factors** exist for fewer places
and years (2023, national and by technology). OpenPCF uses the life-cycle factor where the model
asks for it (``basis: footprint``) and the generation factor otherwise, and then says so: every
generation-only factor a calculation uses is named in its notes, and the report and
``openpcf calc`` repeat it (issue 12, item 6).

Each series' scope is read from ``electricity/data/grid_scopes.csv`` (factor-id prefix, scope,
what it covers, the publisher's document). A market-based claim factor
(``electricity.claim.*``, :mod:`openpcf.electricity.claims`) on the ``co2`` basis books
``CO2-fossil`` only and combines generation factors, so it is generation-only too. Any other
factor's scope is not known here and is not flagged: a user factor set states its own scope in
its notes.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from functools import cache
from importlib import resources
from types import MappingProxyType
from typing import Literal

from openpcf.core.results import frozen_map
from openpcf.factors import Factor
from openpcf.model.calculation import Calculation

Scope = Literal["generation", "life-cycle"]
NOTE_PREFIX = "electricity scope: "
PROVENANCE_KEY = "electricity_generation_only"


@dataclass(frozen=True, slots=True, kw_only=True)
class SeriesScope:
    """The scope of one published series of electricity factors (ids starting ``series``)."""

    series: str
    scope: Scope
    covers: str
    source: str


@cache
def series_scopes() -> Mapping[str, SeriesScope]:
    """The bundled scope of each series, keyed by factor-id prefix."""
    text = resources.files("openpcf.electricity").joinpath("data/grid_scopes.csv")
    kinds: Mapping[str, Scope] = {"generation": "generation", "life-cycle": "life-cycle"}
    scopes = {
        row["series"]: SeriesScope(
            series=row["series"],
            scope=kinds[row["scope"]],  # a bundled file: a typo fails loudly
            covers=row["covers"],
            source=row["source"],
        )
        for row in csv.DictReader(text.read_text("utf-8").splitlines())
    }
    return MappingProxyType(scopes)


def scope_of(factor: Factor) -> SeriesScope | None:
    """The scope of ``factor``'s series, or ``None`` where it is not known."""
    for prefix, scope in series_scopes().items():
        if factor.id.startswith(prefix):
            return scope
    if factor.id.startswith("electricity.claim.") and set(factor.emissions) == {"CO2-fossil"}:
        return SeriesScope(
            series="electricity.claim.",
            scope="generation",
            covers="market-based CO2 of generation (co2 basis): no upstream, no losses, CO2 only",
            source=factor.source,
        )
    return None


def generation_only(factors: Iterable[Factor]) -> tuple[Factor, ...]:
    """The factors among ``factors`` that count the CO2 of generation only, in order, once."""
    seen: dict[str, Factor] = {}
    for f in factors:
        found = scope_of(f)
        if found is not None and found.scope == "generation":
            seen.setdefault(f.id, f)
    return tuple(seen.values())


def scope_note(factor: Factor) -> str:
    """The note a calculation carries for one generation-only electricity factor.

    >>> from openpcf.factors import bundled_factor_set
    >>> f = bundled_factor_set().get("cn.grid.co2.2022.national")
    >>> scope_note(f)[:76]
    'electricity scope: cn.grid.co2.2022.national is a generation-only CO2 factor'
    """
    return (
        f"{NOTE_PREFIX}{factor.id} is a generation-only CO2 factor: it counts the CO2 of "
        "power generation, not the upstream fuel supply, grid losses or other greenhouse "
        "gases, so this electricity is not on a life-cycle basis; use a life-cycle factor "
        "(basis: footprint) where one is published for the place and year"
    )


def with_scope_notes(calculation: Calculation) -> Calculation:
    """``calculation`` with a note per generation-only electricity factor it uses, and their
    ids under provenance ``electricity_generation_only``; unchanged when there is none."""
    found = generation_only(calculation.compiled.factors)
    if not found:
        return calculation
    result = calculation.result
    provenance = dict(result.provenance)
    provenance[PROVENANCE_KEY] = ", ".join(f.id for f in found)
    notes = tuple(dict.fromkeys([*result.notes, *(scope_note(f) for f in found)]))
    result = replace(result, provenance=frozen_map(provenance), notes=notes)
    return replace(calculation, result=result)
