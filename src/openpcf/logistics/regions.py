"""Where a road leg runs, for GLEC's road regions: stated, inferred from its ports, or unknown.

GLEC v3.0 gives road values for Europe and South America (Tables 7-11, pp. 91-93) and North
America (Table 6, p. 90), and uplifts for Asia and Africa (p. 94,
:mod:`openpcf.logistics.uplifts`). A leg's ``region:`` says which applies. Without it, a leg on
a GLEC Europe/South America or North American default would silently get that value even
when it runs in China, so :func:`leg_region` never leaves it silent:

- the leg's ``from``/``to`` ports (UN/LOCODE or unique port name, :mod:`openpcf.logistics.ports`)
  give their country: the first two letters of a UN/LOCODE are its ISO 3166-1 alpha-2 code;
- the country gives its UN M49 sub-region (``data/un_m49_subregions.csv``), and the sub-region
  its GLEC road region (:data:`GLEC_REGION`): Africa's and Asia's sub-regions, Europe's,
  South America and Northern America. Central America, the Caribbean, Oceania and Antarctica
  have no GLEC road region and infer nothing;
- when every end gives the same GLEC region, that region is used, and the leg's notes say it
  was inferred and from what; otherwise the leg's notes say that the default was used as
  published and how to set ``region:``;
- a stated ``region:`` that none of the ends' regions matches is an error: one of them is
  wrong, and the uplift (+ 13-22 %) depends on which.

A position (``{name, lat, lon}``) or a place that is not in the port list has no known country
here (no reverse geocoding is bundled): it infers nothing, and the note says so.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources

from openpcf.logistics.errors import ShipmentError, UnknownPortError
from openpcf.logistics.library import DefaultIntensity
from openpcf.logistics.ports import find_port
from openpcf.logistics.schema import Leg, Place
from openpcf.logistics.uplifts import EU_SA, GLEC_P94, NORTH_AMERICA, REGIONS

M49_SOURCE = (
    "UN Statistics Division, Standard country or area codes for statistical use (M49), "
    "geographic regions (as read from country_converter 1.3.2, data/un_m49_subregions.csv)"
)
GLEC_REGION: Mapping[str, str] = {
    **dict.fromkeys(
        ("Northern Africa", "Eastern Africa", "Middle Africa", "Southern Africa", "Western Africa"),
        "africa",
    ),
    **dict.fromkeys(
        ("Central Asia", "Eastern Asia", "South-eastern Asia", "Southern Asia", "Western Asia"),
        "asia",
    ),
    **dict.fromkeys(
        ("Eastern Europe", "Northern Europe", "Southern Europe", "Western Europe"), "europe"
    ),
    "South America": "south-america",
    "Northern America": "north-america",
}
"""M49 sub-region → GLEC road region (a leg's ``region:`` value). M49's regions 002 Africa,
142 Asia and 150 Europe hold exactly these sub-regions; 005 South America and 021 Northern
America are sub-regions of 019 Americas."""


GLEC_ROWS = (EU_SA, NORTH_AMERICA)
"""The regions of GLEC road rows whose use depends on where the leg runs (Tables 6-11)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class End:
    """One end of a leg: its label, and its country and M49 sub-region where known."""

    label: str
    country: str = ""
    subregion: str = ""

    @property
    def region(self) -> str | None:
        """The GLEC road region of the end's M49 sub-region, or ``None``."""
        return GLEC_REGION.get(self.subregion)

    @property
    def said(self) -> str:
        """``"from CNSHA Shanghai (CN, UN M49 Eastern Asia)"``; what is not known, said so."""
        if not self.country:
            return f"{self.label} (no country known)"
        if not self.subregion:
            return f"{self.label} ({self.country}, not in UN M49)"
        return f"{self.label} ({self.country}, UN M49 {self.subregion})"


@dataclass(frozen=True, slots=True, kw_only=True)
class LegRegion:
    """A road leg's GLEC region, what to call it in messages, and the note for its notes."""

    region: str | None
    said: str = ""
    note: str = ""


@cache
def m49_subregions() -> Mapping[str, str]:
    """ISO 3166-1 alpha-2 code → UN M49 sub-region, from the bundled table."""
    text = resources.files("openpcf.logistics").joinpath("data/un_m49_subregions.csv")
    rows = csv.DictReader(io.StringIO(text.read_text("utf-8")))
    return {row["iso2"]: row["subregion"] for row in rows}


def leg_region(leg: Leg, row: DefaultIntensity | None) -> LegRegion:
    """The GLEC region of road ``leg`` on default ``row`` (``None``: not a default).

    Raises :class:`ShipmentError` when the stated ``region`` matches none of the regions of the
    leg's ends.
    """
    if leg.mode != "road":
        return LegRegion(region=None)
    if leg.region is not None:
        _check_stated(leg.region, _ends(leg))
        return LegRegion(region=leg.region, said=f"'region: {leg.region}'")
    if row is None or not row.toc.startswith("glec3.road.") or row.region not in GLEC_ROWS:
        return LegRegion(region=None)
    ends = _ends(leg)
    known = [e.region for e in ends if e.region is not None]
    if ends and len(known) == len(ends) and len(set(known)) == 1:
        region = known[0]
        how = ", ".join(e.said for e in ends)
        said = f"inferred from its ends: {how}"
        note = (
            f"region {region!r} ({REGIONS[region]}) inferred from its ends: {how}; {M49_SOURCE}; "
            f"set 'region:' to override"
        )
        return LegRegion(region=region, said=said, note=note)
    return LegRegion(region=None, note=_unknown_note(row, ends))


def _ends(leg: Leg) -> tuple[End, ...]:
    return tuple(
        _end(ref, end)
        for ref, end in ((leg.origin, "from"), (leg.destination, "to"))
        if ref is not None
    )


def _end(ref: str | Place, end: str) -> End:
    if isinstance(ref, Place):
        name = ref.name or f"({ref.lat:g}, {ref.lon:g})"
        return End(label=f"{end} {name}")
    try:
        port = find_port(ref)
    except UnknownPortError:
        return End(label=f"{end} {ref!r}")  # a road leg's place need not be a port
    country = port.locode[:2]
    return End(
        label=f"{end} {port.locode} {port.name}",
        country=country,
        subregion=m49_subregions().get(country, ""),
    )


def _check_stated(region: str, ends: tuple[End, ...]) -> None:
    found = {e.region for e in ends if e.region is not None}
    if found and region not in found:
        how = ", ".join(e.said for e in ends)
        theirs = " or ".join(f"'region: {r}'" for r in sorted(found))
        raise ShipmentError(
            f"'region: {region}' ({REGIONS[region]}) contradicts the leg's ends: {how}; "
            f"GLEC's road values and uplifts (v3.0 pp. 90-94) depend on where "
            f"the road runs: write {theirs}, or correct 'from'/'to'"
        )


def _unknown_note(row: DefaultIntensity, ends: tuple[End, ...]) -> str:
    how = ", ".join(e.said for e in ends) if ends else "no 'from'/'to' given"
    head = f"no 'region:' given, and the leg's ends name no one GLEC road region ({how}): "
    if row.region == EU_SA:
        return (
            f"{head}{row.toc!r} is used as GLEC's Europe and South America value; a road leg in "
            f"Asia or Africa needs 'region: asia' or 'region: africa' ({GLEC_P94}: + 13 % vans, "
            "+ 22 % heavier vehicles on the Europe and South America values)"
        )
    return (
        f"{head}{row.toc!r} is used as GLEC's North American value (Table 6, p. 90); write "
        "'region: north-america' to confirm it, or, for a leg elsewhere, use a "
        f"glec3.road.*.eu-sa default with the leg's 'region:' ({GLEC_P94})"
    )
