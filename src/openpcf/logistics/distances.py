"""Transport distances for ISO 14083 legs, each with the method that produced it.

- **Air**: great-circle distance (GCD) plus 95 km, the GLEC / ISO 14083 rule for air freight
  (``d = GCD + 95 km``).
- **Sea**: the shortest sea route between the two ports or positions, from ``searoute``'s
  maritime network (``searoute.searoute(origin, destination)``, length in km).
- **Road, rail, inland waterway**: a distance the user gives (planned or actual), or
  ``d = GCD × k`` with a distance adjustment factor ``k`` the user gives with its source.
  GLEC's default adjustment factors were not retrieved (see the data README), so OpenPCF
  bundles none and asks for one rather than guessing.

GCD uses the haversine formula on a sphere of radius 6371.0088 km (the IUGG mean Earth radius).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

EARTH_RADIUS_KM = 6371.0088
AIR_UPLIFT_KM = 95.0


@dataclass(frozen=True, slots=True, kw_only=True)
class Distance:
    """A leg distance in km and the sentence that says how it was found."""

    km: float
    method: str


def great_circle_km(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Great-circle distance in km between two WGS 84 positions (haversine).

    ``d = 2 R asin( sqrt( sin²(Δφ/2) + cos φ1 cos φ2 sin²(Δλ/2) ) )``, ``R = 6371.0088 km``.
    """
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))


def air_distance(gcd_km: float) -> Distance:
    """``GCD + 95 km`` (ISO 14083 / GLEC air rule)."""
    return Distance(
        km=gcd_km + AIR_UPLIFT_KM,
        method=f"air: great-circle distance {gcd_km:.1f} km + 95 km (ISO 14083 / GLEC)",
    )


def sea_distance(lon1: float, lat1: float, lon2: float, lat2: float, label: str) -> Distance:
    """Shortest sea route in km between two positions over searoute's maritime network."""
    import searoute

    feature = searoute.searoute([lon1, lat1], [lon2, lat2], units="km")
    km = float(feature["properties"]["length"])
    return Distance(
        km=km,
        method=f"sea: shortest sea route {label} (searoute {_version()} maritime network)",
    )


def adjusted_distance(gcd_km: float, factor: float, source: str) -> Distance:
    """``GCD × k`` with the user's distance adjustment factor ``k`` and its source."""
    return Distance(
        km=gcd_km * factor,
        method=f"great-circle distance {gcd_km:.1f} km × adjustment factor {factor:g} ({source})",
    )


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("searoute")
    except PackageNotFoundError:  # pragma: no cover - searoute is a dependency
        return "unknown version"
