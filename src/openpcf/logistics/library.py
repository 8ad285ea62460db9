"""Sourced fuel factors and default intensities for ISO 14083 transport chains.

Two bundled tables live in ``logistics/data/`` (see its README for sources):

- ``fuels.csv``: fuel factors per kg of fuel, tank-to-wheel (TTW) and well-to-wheel (WTW), in
  kg CO2e/kg. The well-to-tank part is derived, never stored: ``WTT = WTW - TTW``.
- ``default_intensities.csv``: default emission intensities of transport operation categories
  (TOCs), in kg CO2e per ``activity_unit`` (``tkm`` or ``TEU-km``). A row holds whichever of
  WTT, TTW and WTW its source gives; a missing part is *absent*, not zero. Rows come from the
  GLEC Framework (v2, v3) and the UK Government (DESNZ) 2025 conversion factors; each names
  its document, table or sheet row, page where there is one, and year. Hub rows (mode ``hub``)
  are per ``t`` handled, or per ``container`` for GLEC's maritime container terminals; their
  ``temperature`` is ``ambient``, ``reefer`` or ``mixed`` (GLEC's sites with both ambient and
  temperature-controlled areas). Battery-electric truck rows give energy, ``kwh_per_unit``
  (kWh/tkm), instead of emissions; the leg names the grid.

Users add their own rows (e.g. from a licensed copy of the GLEC Framework) in the shipment
file; an id may not shadow a bundled one. Nothing here is guessed: a TOC or fuel without a
sourced row is reported as absent by :meth:`Library.fuel` / :meth:`Library.default`.
"""

from __future__ import annotations

import csv
import difflib
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from types import MappingProxyType

from openpcf.logistics.errors import MissingDefaultError, ShipmentError

ACTIVITY_UNITS = ("tkm", "TEU-km", "t", "TEU", "container")
ROUNDING_STEP = 1e-4
"""The usual step (kg CO2e per activity unit, i.e. 0.1 g) to which a source rounds each figure."""


@dataclass(frozen=True, slots=True, kw_only=True)
class FuelFactor:
    """GHG emissions of burning 1 kg of a fuel, with its upstream supply, in kg CO2e/kg.

    Attributes
    ----------
    ttw : float
        Tank-to-wheel (combustion) kg CO2e per kg of fuel.
    wtw : float
        Well-to-wheel kg CO2e per kg of fuel; ``wtt = wtw - ttw`` is the fuel supply part.
    """

    id: str
    name: str
    ttw: float
    wtw: float
    year: int
    source: str
    notes: str = ""

    def __post_init__(self) -> None:
        if not (math.isfinite(self.ttw) and math.isfinite(self.wtw)) or self.ttw < 0:
            raise ShipmentError(f"fuel {self.id!r}: TTW and WTW must be finite numbers >= 0")
        if self.wtw < self.ttw:
            raise ShipmentError(
                f"fuel {self.id!r}: WTW {self.wtw:g} is below TTW {self.ttw:g} kg CO2e/kg; "
                "WTW includes TTW"
            )
        if not self.source.strip():
            raise ShipmentError(f"fuel {self.id!r}: a fuel factor needs its source")

    @property
    def wtt(self) -> float:
        """Well-to-tank kg CO2e per kg of fuel, ``wtw - ttw``."""
        return self.wtw - self.ttw


@dataclass(frozen=True, slots=True, kw_only=True)
class DefaultIntensity:
    """A default emission intensity of one transport operation category (TOC).

    Attributes
    ----------
    wtt, ttw, wtw : float or None
        kg CO2e per ``activity_unit``; ``None`` where the source gives no such figure.
        When all three are given, ``wtw`` must equal ``wtt + ttw`` within
        ``1.5 × rounding_step``: a published table rounds each of the three to its step, so the
        parts may differ from the total by up to 1.5 steps (GLEC v3.0 Table 2, inland motor
        vessel 50-80 m: 7.3 + 24.0 = 31.3 against a published WTW of 31.2 g CO2e/tkm, step
        0.1 g; Table 8, rigid truck 12-20 t, diesel: 42 + 138 = 180 against 179 g, whole grams).
        The figures are kept as published, never adjusted to add up.
    rounding_step : float
        The step of the published figures, kg CO2e per activity unit (default
        :data:`ROUNDING_STEP`, 0.1 g; 0.001 for GLEC's road tables in whole grams).
    region : str
        The region the source gives the values for ("Europe; South America" for GLEC's road
        Tables 7-11), read by :mod:`openpcf.logistics.uplifts`.
    kwh : float or None
        An *energy* intensity, kWh of electricity per ``activity_unit`` (GLEC v3.0 Tables
        10-11, battery-electric trucks). Such a row has no ``wtt``/``ttw``/``wtw``: its
        emissions come from the grid factor the leg names (``intensity.grid``).
    """

    toc: str
    mode: str
    name: str
    activity_unit: str
    wtt: float | None
    ttw: float | None
    wtw: float | None
    year: int
    source: str
    temperature: str = "ambient"
    gwp_basis: str = ""
    notes: str = ""
    vehicle: str = ""
    rounding_step: float = ROUNDING_STEP
    region: str = ""
    kwh: float | None = None

    def __post_init__(self) -> None:
        parts = [p for p in (self.wtt, self.ttw, self.wtw) if p is not None]
        if self.kwh is not None:
            if parts or not (math.isfinite(self.kwh) and self.kwh > 0):
                raise ShipmentError(
                    f"default TOC {self.toc!r}: an energy intensity (kwh > 0 per "
                    f"{self.activity_unit}) stands alone; leave wtt, ttw and wtw empty"
                )
        elif not parts:
            raise ShipmentError(
                f"default TOC {self.toc!r}: give at least one of wtt, ttw, wtw (or kwh)"
            )
        if any(not math.isfinite(p) or p < 0 for p in parts):
            raise ShipmentError(f"default TOC {self.toc!r}: intensities must be finite and >= 0")
        if not (math.isfinite(self.rounding_step) and self.rounding_step > 0):
            raise ShipmentError(f"default TOC {self.toc!r}: rounding_step must be a number > 0")
        if self.activity_unit not in ACTIVITY_UNITS:
            raise ShipmentError(
                f"default TOC {self.toc!r}: activity unit {self.activity_unit!r} is not one of "
                f"{', '.join(ACTIVITY_UNITS)}"
            )
        if (
            self.wtt is not None
            and self.ttw is not None
            and self.wtw is not None
            and not math.isclose(
                self.wtt + self.ttw, self.wtw, rel_tol=1e-6, abs_tol=1.5 * self.rounding_step
            )
        ):
            raise ShipmentError(
                f"default TOC {self.toc!r}: wtw must equal wtt + ttw (within 1.5 × the "
                f"published rounding step {self.rounding_step:g})"
            )
        if not self.source.strip():
            raise ShipmentError(f"default TOC {self.toc!r}: a default intensity needs its source")

    @property
    def complete(self) -> bool:
        """True when the WTW intensity is known (given, or both parts given)."""
        return self.wtw is not None or (self.wtt is not None and self.ttw is not None)

    def missing(self) -> str:
        """Name the parts the source does not give, e.g. ``"TTW and WTW"``."""
        names = [
            n for n, v in (("WTT", self.wtt), ("TTW", self.ttw), ("WTW", self.wtw)) if v is None
        ]
        return " and ".join(names)


@dataclass(frozen=True, slots=True)
class Library:
    """Fuel factors and default intensities by id, bundled plus the user's own."""

    fuels: Mapping[str, FuelFactor] = field(default_factory=dict)
    defaults: Mapping[str, DefaultIntensity] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "fuels", MappingProxyType(dict(self.fuels)))
        object.__setattr__(self, "defaults", MappingProxyType(dict(self.defaults)))

    def extended(
        self, fuels: Iterable[FuelFactor] = (), defaults: Iterable[DefaultIntensity] = ()
    ) -> Library:
        """A library with extra rows; an id already present is an error (no silent override)."""
        new_fuels, new_defaults = dict(self.fuels), dict(self.defaults)
        for fuel in fuels:
            if fuel.id in new_fuels:
                raise ShipmentError(f"fuel id {fuel.id!r} is already defined; choose another id")
            new_fuels[fuel.id] = fuel
        for default in defaults:
            if default.toc in new_defaults:
                raise ShipmentError(f"TOC id {default.toc!r} is already defined; choose another")
            new_defaults[default.toc] = default
        return Library(new_fuels, new_defaults)

    def fuel(self, fuel_id: str) -> FuelFactor:
        """The fuel factor ``fuel_id`` or :class:`MissingDefaultError` listing what exists."""
        found = self.fuels.get(fuel_id)
        if found is None:
            raise MissingDefaultError(
                f"no sourced fuel factor for {fuel_id!r} ({_nearest(fuel_id, self.fuels)}). "
                "Add it under 'fuels:' in the shipment file with its TTW and WTW factors and "
                "source."
            )
        return found

    def default(self, toc: str) -> DefaultIntensity:
        """The default intensity of ``toc``, or :class:`MissingDefaultError`."""
        found = self.defaults.get(toc)
        if found is None:
            raise MissingDefaultError(
                f"no sourced default intensity for TOC {toc!r} "
                f"({_nearest(toc, self.defaults)}): give carrier data or fuel "
                "consumption, or add the default with its source under 'defaults:'"
            )
        return found

    def defaults_for(self, mode: str, temperature: str) -> tuple[DefaultIntensity, ...]:
        """The complete (WTW-known) defaults of ``mode`` and ``temperature``, by TOC id."""
        return tuple(
            row
            for _, row in sorted(self.defaults.items())
            if row.mode == mode and row.temperature == temperature and row.complete
        )


def _nearest(wanted: str, known: Mapping[str, object], n: int = 8) -> str:
    """The known ids most like ``wanted`` (containing it, then by similarity), for a message.

    >>> _nearest("lng", {"glec3-eu-lng-truck": 1, "diesel-b5": 2})
    '2 known; closest: glec3-eu-lng-truck; all listed in logistics/data/README.md'
    """
    low = wanted.lower()
    close = [k for k in sorted(known) if low and low in k.lower()]
    close += difflib.get_close_matches(wanted, sorted(known), n=n, cutoff=0.6)
    shown = list(dict.fromkeys(close))[:n]
    where = "; closest: " + ", ".join(shown) if shown else ""
    return f"{len(known)} known{where}; all listed in logistics/data/README.md"


def _number(text: str) -> float | None:
    return float(text) if text.strip() else None


@cache
def bundled_library() -> Library:
    """The fuel factors and default intensities shipped in ``logistics/data``."""
    data = resources.files("openpcf.logistics").joinpath("data")
    fuels = [
        FuelFactor(
            id=row["id"],
            name=row["name"],
            ttw=float(row["ttw_kg_co2e_per_kg"]),
            wtw=float(row["wtw_kg_co2e_per_kg"]),
            year=int(row["year"]),
            source=row["source"],
            notes=row["notes"],
        )
        for row in csv.DictReader(data.joinpath("fuels.csv").read_text("utf-8").splitlines())
    ]
    text = data.joinpath("default_intensities.csv").read_text("utf-8")
    defaults = [
        DefaultIntensity(
            toc=row["toc"],
            mode=row["mode"],
            name=row["name"],
            activity_unit=row["activity_unit"],
            wtt=_number(row["wtt"]),
            ttw=_number(row["ttw"]),
            wtw=_number(row["wtw"]),
            year=int(row["year"]),
            source=row["source"],
            temperature=row["temperature"],
            gwp_basis=row["gwp_basis"],
            notes=row["notes"],
            vehicle=row["vehicle"],
            rounding_step=_number(row["rounding_step"]) or ROUNDING_STEP,
            region=row["region"],
            kwh=_number(row["kwh_per_unit"]),
        )
        for row in csv.DictReader(text.splitlines())
    ]
    return Library().extended(fuels, defaults)
