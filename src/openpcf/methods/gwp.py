"""GWP100 sets: the weights that turn kilograms of each gas into kilograms of CO2e.

The values live in ``methods/data/gwp100.csv``, one row per gas id of
:mod:`openpcf.methods.gases` and one column per IPCC assessment, each row naming its table.
Keeping them in data rather than code lets a verifier diff them against the IPCC tables and
lets a study switch sets (AR6 for ISO 14067 work, AR5 without climate-carbon feedback for
CBAM / EU ETS) without touching the engine.

Design note: ``CO2-uptake`` is characterised -1. Removals are booked as positive masses on
their own flow so that the report can show them separately (ISO 14067:2018, 7.2); the sign
appears only here, when the masses are weighed.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from types import MappingProxyType
from typing import Any

import numpy as np
import numpy.typing as npt

from openpcf.errors import InputError
from openpcf.methods.gases import GAS_IDS

GWP_SET_IDS: tuple[str, ...] = ("AR6", "AR5", "AR5-CCF", "AR4")

_NAMES: Mapping[str, str] = {
    "AR6": "IPCC AR6 GWP100",
    "AR5": "IPCC AR5 GWP100 (without climate-carbon feedback)",
    "AR5-CCF": "IPCC AR5 GWP100 (with climate-carbon feedback)",
    "AR4": "IPCC AR4 GWP100",
}
_SOURCES: Mapping[str, str] = {
    "AR6": "IPCC AR6 WG1 (2021) Ch.7 Table 7.15 and Table 7.SM.7",
    "AR5": "IPCC AR5 WG1 (2013) Ch.8 Table 8.A.1 (no climate-carbon feedback)",
    "AR5-CCF": "IPCC AR5 WG1 (2013) Ch.8 Table 8.7 (with climate-carbon feedback)",
    "AR4": "IPCC AR4 WG1 (2007) Ch.2 Table 2.14",
}


@dataclass(frozen=True, slots=True, kw_only=True)
class GWPSet:
    """One set of GWP100 characterisation factors.

    Attributes
    ----------
    id : str
        One of :data:`GWP_SET_IDS`.
    name : str
        Human-readable name, used in reports.
    source : str
        The IPCC tables the values come from.
    values : Mapping[str, float]
        Gas id -> kg CO2e per kg of gas. Read-only.
    """

    id: str
    name: str
    source: str
    values: Mapping[str, float]

    def __post_init__(self) -> None:
        # Read-only, whatever mapping the caller passed.
        object.__setattr__(self, "values", MappingProxyType(dict(self.values)))

    def __reduce__(self) -> tuple[Any, tuple[str, str, str, dict[str, float]]]:
        # MappingProxyType cannot be pickled; Monte Carlo workers must receive GWP sets.
        return (_rebuild, (self.id, self.name, self.source, dict(self.values)))


def _rebuild(id: str, name: str, source: str, values: dict[str, float]) -> GWPSet:
    """Unpickle a :class:`GWPSet` (module-level so pickle can find it)."""
    return GWPSet(id=id, name=name, source=source, values=values)


def _normalise(name: str) -> str:
    """Fold case and drop separators so "ar5ccf", "AR5-CCF" and "ar5_ccf" compare equal."""
    return "".join(ch for ch in name.upper() if ch.isalnum())


@cache
def _table() -> Mapping[str, Mapping[str, float]]:
    """Read the bundled CSV once; return set id -> gas id -> GWP.

    Raises
    ------
    InputError
        If the bundled file misses a gas id or has a non-numeric value (a packaging bug,
        reported rather than silently producing a wrong footprint).
    """
    text = resources.files("openpcf.methods").joinpath("data/gwp100.csv").read_text("utf-8")
    columns: dict[str, dict[str, float]] = {set_id: {} for set_id in GWP_SET_IDS}
    for line, row in enumerate(csv.DictReader(io.StringIO(text)), start=2):
        gas = row["gas"].strip()
        for set_id in GWP_SET_IDS:
            try:
                columns[set_id][gas] = float(row[set_id])
            except (TypeError, ValueError) as exc:
                raise InputError(
                    f"methods/data/gwp100.csv line {line}: {set_id} value for {gas!r} is "
                    f"{row[set_id]!r}, not a number; reinstall OpenPCF or fix the file."
                ) from exc
    missing = [g for g in GAS_IDS if g not in columns["AR6"]]
    if missing:
        raise InputError(
            f"methods/data/gwp100.csv lacks rows for {', '.join(missing)}; "
            "every gas id in methods/gases.py needs a GWP row."
        )
    return MappingProxyType({k: MappingProxyType(v) for k, v in columns.items()})


def gwp_set(name: str) -> GWPSet:
    """Return the GWP set called ``name`` (case-insensitive; "ar5ccf" means "AR5-CCF").

    Raises
    ------
    InputError
        If ``name`` is not one of :data:`GWP_SET_IDS`.
    """
    by_key = {_normalise(set_id): set_id for set_id in GWP_SET_IDS}
    set_id = by_key.get(_normalise(name))
    if set_id is None:
        raise InputError(f"Unknown GWP set {name!r}; choose one of {', '.join(GWP_SET_IDS)}.")
    return GWPSet(id=set_id, name=_NAMES[set_id], source=_SOURCES[set_id], values=_table()[set_id])


def characterisation_vector(gwp: GWPSet, gas_ids: Sequence[str]) -> npt.NDArray[np.float64]:
    """Return the GWP of each gas in ``gas_ids``, in that order, as a float64 array.

    This is the row vector ``c`` of the matrix method: the footprint is ``c @ g`` where ``g``
    is the inventory in kg of each gas.

    Raises
    ------
    InputError
        If a gas id has no value in ``gwp``.
    """
    unknown = [g for g in gas_ids if g not in gwp.values]
    if unknown:
        raise InputError(
            f"No {gwp.id} GWP for gas id(s) {', '.join(map(repr, unknown))}; "
            f"use one of {', '.join(GAS_IDS)}."
        )
    return np.array([gwp.values[g] for g in gas_ids], dtype=np.float64)
