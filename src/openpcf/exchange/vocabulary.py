"""PACT's vocabularies, once: declared units (v3.0 and v2.3), UN M49 regions, the Decimal type.

Sources: PACT Technical Specifications v3.0 OpenAPI (``DeclaredUnit``, ``RegionOrSubregion``)
and v2.3 OpenAPI (``DeclaredUnit``), in ``shared/reference/pact``. The declared units OpenPCF
models use are :data:`openpcf.core.units.PACT_UNITS` (PACT's names mapped to pint units).
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Literal, get_args

#: Declared units of PACT v2.3 (``declaredUnit``, #dt-declaredunit), in the spec's order.
V2DeclaredUnit = Literal[
    "liter",
    "kilogram",
    "cubic meter",
    "kilowatt hour",
    "megajoule",
    "ton kilometer",
    "square meter",
]
#: Declared units of PACT v3.0 (``declaredUnitOfMeasurement``): v2.3's plus ``piece`` (ADR 33),
#: ``hour`` and ``megabit second`` (ADR 40). OpenPCF models declare those of
#: :data:`openpcf.core.units.PACT_UNITS`.
V3DeclaredUnit = Literal[V2DeclaredUnit, "piece", "hour", "megabit second"]
V2_UNITS: tuple[str, ...] = get_args(V2DeclaredUnit)
V3_UNITS: tuple[str, ...] = get_args(V3DeclaredUnit)

#: UN M49 regions and subregions (v3 and v2 ``geographyRegionOrSubregion``; v2
#: #dt-regionorsubregion).
UnRegion = Literal[
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
]
UN_REGIONS: frozenset[str] = frozenset(get_args(UnRegion))

#: ``crossSectoralStandards`` values of PACT v2.3 (an enum there; v3.0's list is open, ADR 32,
#: and adds PAS2050).
V2CrossSectoralStandard = Literal[
    "ISO14067",
    "ISO14083",
    "ISO14040-44",
    "GHGP-Product",
    "PEF",
    "PACT-1.0",
    "PACT-2.0",
    "PACT-3.0",
]
#: Values the v3.0 spec names for ``crossSectoralStandards``.
V3_CROSS_SECTORAL_STANDARDS: tuple[str, ...] = (*get_args(V2CrossSectoralStandard), "PAS2050")
GLOBAL = frozenset({"", "GLO", "GLOBAL", "WORLD", "RoW"})

#: PACT's ``Decimal`` (v3.0 ``^[+-]?\d+(\.\d+)?$``; v2.3 the same without ``+``), with ASCII
#: digits only: Python's ``\d`` and :class:`decimal.Decimal` also take other scripts' digits.
DECIMAL = re.compile(r"[+-]?[0-9]+(\.[0-9]+)?")


def pact_decimal(value: object) -> Decimal:
    """The number a PACT ``Decimal`` string stands for; :class:`ValueError` for anything else.

    :class:`decimal.Decimal` alone accepts far more than PACT does (issue 11, item 11), and
    each of these would have become a number in a calculation:

    >>> for text in ("1_000", "1e3", " 1.5", "NaN", "Infinity", ".5", "1.", "١٢"):
    ...     try:
    ...         pact_decimal(text)
    ...     except ValueError:
    ...         pass
    ...     else:
    ...         print("accepted", text)
    >>> pact_decimal("-0.25"), pact_decimal("+3")
    (Decimal('-0.25'), Decimal('3'))

    A JSON number (``1.5`` without quotes) is not a PACT decimal either.
    """
    if not isinstance(value, str) or DECIMAL.fullmatch(value) is None:
        raise ValueError(
            f"{value!r} is not a PACT decimal: a string of digits with an optional sign and "
            'decimal point, such as "1250.5" (no exponent, underscores, spaces or JSON numbers)'
        )
    return Decimal(value)
