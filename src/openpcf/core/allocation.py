"""Allocation of multi-output processes (ISO 14044 4.3.4).

ISO 14044 asks, in this order: (1) avoid allocation by dividing the process into sub-processes
or (2) by expanding the system to include the functions of the co-products (substitution);
(3) where allocation cannot be avoided, partition inputs and outputs by an underlying physical
relationship (mass, energy content); (4) otherwise by another relationship, such as economic
value. OpenPCF lets each multi-output process choose, and records the choice with the result.

This module holds the numbers only: given the amounts of each output and a property per unit
(kg, MJ, currency), it returns the share of the process's inputs and emissions each output
carries. Substitution is applied by the model compiler (it adds a credit for the avoided
product); it needs no shares.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Literal

from openpcf.errors import AllocationError

Method = Literal["mass", "energy", "economic", "factors"]
METHODS: tuple[str, ...] = ("mass", "energy", "economic", "factors", "substitution")


def allocation_shares(
    *,
    amounts: Mapping[str, float],
    properties: Mapping[str, float],
    method: Method,
    where: str = "",
) -> dict[str, float]:
    """Share of the burdens carried by each output.

    ``share_i = a_i p_i / Σ_k a_k p_k`` where ``a_i`` is the output amount and ``p_i`` its
    property per unit (mass per unit for "mass", energy content for "energy", price for
    "economic"). For ``method="factors"`` the properties *are* the shares and must sum to 1.

    Raises
    ------
    AllocationError
        A property is missing, negative or not finite, or the weighted sum is zero.
    """
    missing = [name for name in amounts if name not in properties]
    if missing:
        raise AllocationError(
            f"{where}allocation by {method} needs a value for every output; missing for "
            + ", ".join(repr(m) for m in missing)
        )
    for name, value in properties.items():
        if not math.isfinite(value) or value < 0:
            raise AllocationError(f"{where}{method} value of {name!r} is {value}: must be >= 0")
    if method == "factors":
        total = sum(properties[name] for name in amounts)
        if not math.isclose(total, 1.0, rel_tol=1e-9, abs_tol=1e-9):
            raise AllocationError(f"{where}allocation factors sum to {total:g}, not 1")
        return {name: properties[name] for name in amounts}
    weights = {name: amounts[name] * properties[name] for name in amounts}
    total = sum(weights.values())
    if total <= 0:
        raise AllocationError(f"{where}allocation by {method}: the outputs' total {method} is 0")
    return {name: w / total for name, w in weights.items()}
