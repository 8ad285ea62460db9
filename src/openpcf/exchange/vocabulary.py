"""PACT's vocabularies, once: declared units (v3.0 and v2.3) and UN M49 regions.

Sources: PACT Technical Specifications v3.0 OpenAPI (``DeclaredUnit``, ``RegionOrSubregion``)
and v2.3 OpenAPI (``DeclaredUnit``), in ``shared/reference/pact``. The declared units OpenPCF
models use are :data:`openpcf.core.units.PACT_UNITS` (PACT's names mapped to pint units).
"""

from __future__ import annotations

from openpcf.core.units import PACT_UNITS

#: Declared units of PACT v3.0 (``declaredUnitOfMeasurement``).
V3_UNITS: tuple[str, ...] = (*PACT_UNITS, "hour", "megabit second")
#: Declared units of PACT v2.3 (``declaredUnit``): those of v3.0 that OpenPCF uses, but piece.
V2_UNITS: tuple[str, ...] = tuple(u for u in PACT_UNITS if u != "piece")

#: UN M49 regions and subregions PACT accepts in ``geographyRegionOrSubregion``.
UN_REGIONS: frozenset[str] = frozenset(
    {
        "Africa",
        "Americas",
        "Asia",
        "Europe",
        "Oceania",
        "Australia and New Zealand",
        "Central Asia",
        "Eastern Asia",
        "Eastern Europe",
        "Latin America and the Caribbean",
        "Melanesia",
        "Micronesia",
        "Northern Africa",
        "Northern America",
        "Northern Europe",
        "Polynesia",
        "South-eastern Asia",
        "Southern Asia",
        "Southern Europe",
        "Sub-Saharan Africa",
        "Western Asia",
        "Western Europe",
    }
)
GLOBAL = frozenset({"", "GLO", "GLOBAL", "WORLD", "RoW"})
