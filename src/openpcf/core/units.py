"""Unit parsing and conversion with pint.

Every amount is converted into its flow's reference unit when a system is compiled; nothing is
assumed. OpenPCF's registry adds the units LCA data uses that pint lacks (``tkm``, ``m3``,
``Nm3``, ``piece``) and makes ``ton`` the metric tonne.

Design note: pint's own ``ton`` is the US short ton (907 kg). In LCA, customs and CBAM
data a "ton" is 1000 kg, and silently reading it as 907 kg would be a 9 % error, so ``ton``
is redefined here as the tonne.
"""

from __future__ import annotations

import math
from functools import cache
from typing import Literal

import pint

from openpcf.errors import UnitError

_DEFINITIONS = """
tkm = tonne * kilometer
m3 = meter ** 3
Nm3 = meter ** 3 = normal_cubic_meter
m2 = meter ** 2
piece = [piece] = pcs = item = unit_item
TEU = [teu]
"""

#: The declared units of a product model: PACT's names (v3.0 ``DeclaredUnit`` less "hour" and
#: "megabit second", which no OpenPCF model declares).
DeclaredUnit = Literal[
    "kilogram",
    "liter",
    "cubic meter",
    "kilowatt hour",
    "megajoule",
    "ton kilometer",
    "square meter",
    "piece",
]

#: PACT declared-unit names mapped to pint expressions (one entry per :data:`DeclaredUnit`).
PACT_UNITS: dict[str, str] = {
    "kilogram": "kg",
    "liter": "liter",
    "cubic meter": "m3",
    "kilowatt hour": "kWh",
    "megajoule": "MJ",
    "ton kilometer": "tkm",
    "square meter": "m2",
    "piece": "piece",
}


@cache
def registry() -> pint.UnitRegistry:  # type: ignore[type-arg]
    """The one unit registry of OpenPCF (created once; pint registries are expensive)."""
    ureg: pint.UnitRegistry = pint.UnitRegistry(  # type: ignore[type-arg]
        on_redefinition="ignore", cache_folder=None
    )
    for line in _DEFINITIONS.strip().splitlines():
        ureg.define(line)
    ureg.define("ton = tonne")
    return ureg


def normalise(unit: str) -> str:
    """Return the pint spelling of ``unit``, accepting PACT's declared-unit names."""
    text = unit.strip()
    return PACT_UNITS.get(text.lower(), text)


@cache
def parse(unit: str) -> pint.Unit:
    """Parse ``unit`` or raise :class:`UnitError` naming it."""
    text = normalise(unit)
    if not text:
        raise UnitError("empty unit: give a unit such as 'kg', 'kWh' or 'tkm'")
    try:
        return registry().parse_units(text)
    except (pint.UndefinedUnitError, pint.DefinitionSyntaxError, AttributeError, ValueError) as e:
        raise UnitError(f"unknown unit {unit!r}: {e}") from None


@cache
def conversion_factor(from_unit: str, to_unit: str) -> float:
    """Multiplier that turns an amount in ``from_unit`` into ``to_unit``.

    Raises
    ------
    UnitError
        When either unit is unknown or the two have different dimensions
        (e.g. ``kg`` into ``kWh``).
    """
    src, dst = parse(from_unit), parse(to_unit)
    ureg = registry()
    try:
        factor = float(ureg.Quantity(1.0, src).to(dst).magnitude)
    except pint.DimensionalityError:
        raise UnitError(
            f"cannot convert {from_unit!r} into {to_unit!r}: "
            f"{src.dimensionality} is not {dst.dimensionality}"
        ) from None
    if not math.isfinite(factor) or factor == 0.0:
        raise UnitError(f"conversion from {from_unit!r} into {to_unit!r} is not a finite factor")
    return factor


def convert(amount: float, from_unit: str, to_unit: str) -> float:
    """Convert ``amount`` from ``from_unit`` into ``to_unit``."""
    return amount * conversion_factor(from_unit, to_unit)


def same_dimension(a: str, b: str) -> bool:
    """True when amounts in ``a`` can be converted into ``b``."""
    return parse(a).dimensionality == parse(b).dimensionality
