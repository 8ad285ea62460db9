"""Cross-check a database's unit conversion factors against pint.

A reader converts an exchange amount from the unit it was written in to its flow's reference
unit with the factor the *source* states (its unit group). :func:`pint_disagreement` asks pint
for the same conversion: where pint knows both unit names and their dimensions match, a factor
that differs from pint's by more than :data:`RTOL` is suspicious (a typo in the unit group, a
short ton taken for a tonne). Units pint does not know (``t*km``, ``Item(s)``, ``m2*a``) and
conversions across flow properties (MJ -> kg through a heating value) are not checked.
"""

from __future__ import annotations

from functools import cache
from typing import Any

#: Relative difference from pint's factor above which a conversion is reported: 1 %, so that
#: factors the source rounds to three digits (btu -> MJ 0.00106 for 0.00105506) pass.
RTOL = 1e-2

#: Source spellings pint reads differently or not at all (pint's ``gal`` is the galileo, an
#: acceleration; openLCA's ``gal`` is the US gallon, ``sh tn`` the short ton).
_ALIASES = {
    "Item(s)": "",
    "m3": "m**3",
    "m2": "m**2",
    "l": "liter",
    "a": "year",
    "gal": "US_liquid_gallon",
    "cu ft": "ft**3",
    "sh tn": "short_ton",
    "btu": "Btu",
}


@cache
def _registry() -> Any:
    import pint  # a pinned dependency; imported on use (it takes a while to build)

    return pint.UnitRegistry()


def _quantity(unit: str) -> Any:
    name = _ALIASES.get(unit, unit)
    if not name:
        return None
    try:
        return _registry()(name)
    except Exception:  # pint raises its own errors, and SyntaxError/TypeError on odd names
        return None


def pint_disagreement(source: str, target: str, factor: float) -> str | None:
    """Why ``1 source = factor target`` disagrees with pint, or ``None`` (agrees or unknown)."""
    a, b = _quantity(source), _quantity(target)
    if a is None or b is None or not hasattr(a, "dimensionality"):
        return None
    if a.dimensionality != b.dimensionality:
        return None
    expected = float((a / b).to("dimensionless").magnitude)
    if expected == 0.0 or abs(factor - expected) <= RTOL * abs(expected):
        return None
    return f"1 {source} = {factor:.6g} {target} in the source, {expected:.6g} by pint"
