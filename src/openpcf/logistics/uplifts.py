"""GLEC v3.0 road uplifts: Asia and Africa, and temperature-controlled road freight.

GLEC Framework v3.0 (edition of 2 April 2024), Module 2, p. 94, gives no road tables for Asia
and Africa or for temperature control; it says to scale its Europe and South America values
(Tables 7-11, pp. 91-93):

- **Asia and Africa**: vans (up to 3.5 t GVW) + 13 %, heavier vehicles (> 3.5 t GVW) + 22 %,
  "to the regional values for Europe and South America" (an NTM extrapolation of ICCT data);
- **temperature controlled**: vans + 15 %, heavier vehicles + 12 %, "to the regional values
  for Europe, South America, Asia and Africa" (TK'Blue, validated with US EPA SmartWay).

A road leg says where it runs (``region:``) and whether it is temperature-controlled
(``operation.temperature: reefer``). With a bundled GLEC Europe/South America row
(``glec3.road.*.eu-sa``, including the battery-electric energy rows of Tables 10-11) the
intensity is the row × the uplifts, and the result names the row, each factor and the page.

Design note: the uplifts are applied when a leg is calculated, not stored as derived rows.
The factor depends on the leg (its region and temperature), and a derived row would hide the
published value it came from; applying it here keeps one published row and shows
``row × factor`` in the leg's provenance. Both uplifts together multiply
(``1.22 × 1.12 = 1.3664``): the temperature uplift applies to "the regional values for ...
Asia and Africa", which are themselves the uplifted Europe/South America values.

What does not fit is refused rather than scaled: North American rows (Table 6, p. 90, SmartWay
fleet data) for a leg outside North America (GLEC derives Asia and Africa from Europe/South
America, not from North America), and Europe/South America rows for a North American leg
(Table 6 is GLEC's North American road table). Other rows (DESNZ UK, GLEC v2, the user's own)
carry no region of GLEC's: they are used as given, and a leg in Asia or Africa says that no
uplift was applied.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from openpcf.logistics.errors import ShipmentError
from openpcf.logistics.library import DefaultIntensity

EU_SA = "Europe; South America"
NORTH_AMERICA = "North America"
GLEC_P94 = (
    "Smart Freight Centre, GLEC Framework v3.0 (2023; edition updated 2 April 2024), Module 2, "
    "p. 94"
)
REGIONS = {
    "europe": "Europe",
    "south-america": "South America",
    "north-america": "North America",
    "asia": "Asia",
    "africa": "Africa",
}
"""The regions GLEC v3.0 names for road (the keys are the values of a leg's ``region:``)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Uplift:
    """One factor of GLEC v3.0 p. 94; ``quote`` is the sentence, word for word."""

    factor: float
    condition: Literal["asia-africa", "temperature"]
    van: bool
    quote: str

    @property
    def label(self) -> str:
        """``"Asia and Africa, > 3.5 t GVW"``: the condition and the vehicles."""
        what = "Asia and Africa" if self.condition == "asia-africa" else "temperature controlled"
        return f"{what}, {'vans up to 3.5 t' if self.van else '> 3.5 t'} GVW"

    @property
    def note(self) -> str:
        """``× 1.22: <GLEC v3.0, Module 2, p. 94>, Asia and Africa, > 3.5 t GVW: '<quote>'``."""
        return f"× {self.factor:g}: {GLEC_P94}, {self.label}: {self.quote!r}"


UPLIFTS = (
    Uplift(
        factor=1.13,
        condition="asia-africa",
        van=True,
        quote="For vans (up to 3.5 t GVW) apply a 13% uplift to the regional values for "
        "Europe and South America.",
    ),
    Uplift(
        factor=1.22,
        condition="asia-africa",
        van=False,
        quote="For heavier vehicles (> 3.5 t GVW) apply a 22% uplift to the regional values "
        "for Europe and South America.",
    ),
    Uplift(
        factor=1.15,
        condition="temperature",
        van=True,
        quote="For vans (up to 3.5 t GVW) apply a 15% uplift to the regional values for "
        "Europe, South America, Asia and Africa.",
    ),
    Uplift(
        factor=1.12,
        condition="temperature",
        van=False,
        quote="For heavier vehicles (> 3.5 t GVW) apply a 12% uplift to the regional values "
        "for Europe, South America, Asia and Africa.",
    ),
)


def _is_glec3_road(row: DefaultIntensity) -> bool:
    return row.mode == "road" and row.toc.startswith("glec3.road.")


def is_van(row: DefaultIntensity) -> bool:
    """True for GLEC's vans (< 3.5 t GVW), whose uplifts differ from heavier vehicles'."""
    return row.vehicle.lower().startswith("van")


def _pick(condition: str, van: bool) -> Uplift:
    return next(u for u in UPLIFTS if u.condition == condition and u.van == van)


def road_uplifts(
    row: DefaultIntensity,
    *,
    mode: str,
    region: str | None,
    temperature: str,
    said: str = "",
) -> tuple[Uplift, ...]:
    """The GLEC p. 94 uplifts for ``row`` on a ``mode`` leg in ``region`` at ``temperature``.

    ``said``: how messages name the region (default ``'region: <region>'``; an inferred region
    says what it was inferred from, :mod:`openpcf.logistics.regions`).

    Raises :class:`ShipmentError` when a GLEC road row is for another region than the leg's.
    """
    if mode != "road" or not _is_glec3_road(row):
        return ()
    if region is not None:
        _check_region(row, region, said or f"'region: {region}'")
    if row.region != EU_SA:
        return ()
    found = []
    if region in ("asia", "africa"):
        found.append(_pick("asia-africa", is_van(row)))
    if row.temperature == "ambient" and temperature == "reefer":
        found.append(_pick("temperature", is_van(row)))
    return tuple(found)


def _check_region(row: DefaultIntensity, region: str, said: str) -> None:
    name = REGIONS[region]
    if row.region == NORTH_AMERICA and region != "north-america":
        raise ShipmentError(
            f"default {row.toc!r} is GLEC's North American value (Table 6, p. 90), but the leg "
            f"runs in {name} ({said}); GLEC v3.0 gives Europe and South America "
            "values (Tables 7-11, pp. 91-93) and, for Asia and Africa, uplifts on those (p. 94): "
            "choose a glec3.road.*.eu-sa default"
        )
    if row.region == EU_SA and region == "north-america":
        raise ShipmentError(
            f"default {row.toc!r} is GLEC's Europe and South America value, but the leg runs in "
            f"North America ({said}); GLEC's North American road values are "
            "Table 6, p. 90: choose a glec3.road.smartway-*.na default"
        )


def not_uplifted(row: DefaultIntensity, region: str | None) -> str:
    """A note for a leg in Asia or Africa whose default has no GLEC uplift, else ``""``."""
    if region not in ("asia", "africa") or (_is_glec3_road(row) and row.region == EU_SA):
        return ""
    return (
        f"no GLEC Asia/Africa uplift applied: {GLEC_P94} gives it for GLEC's Europe and South "
        f"America road values only, and {row.toc!r} is not one of them"
    )
