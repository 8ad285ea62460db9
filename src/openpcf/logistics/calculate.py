"""Compute an ISO 14083 transport chain: activity × intensity for every element, then the sum.

For each transport chain element (TCE) ``i``:

- leg activity ``a_i = m · d_i`` in tkm (cargo mass ``m`` in t, distance ``d_i`` in km), or
  ``a_i = n_TEU · d_i`` in TEU-km on a TEU basis;
- hub activity ``a_i = m`` in t, ``n_TEU`` in TEU, or ``n_containers`` per container;
- emissions ``E_i = a_i · I_i`` (kg CO2e), separately for WTT and TTW, ``WTW = WTT + TTW``.

The shipment total is ``Σ E_i``. WTT and TTW totals are reported only when every element has
the split; a WTW-only default makes them ``None`` (shown as "not separable"), never guessed.
Each leg is also checked against the bundled defaults' range
(:mod:`openpcf.logistics.plausibility`); a warning is reported, the numbers stay as computed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from openpcf.core.units import convert
from openpcf.errors import OpenPCFError, located
from openpcf.factors import FactorSet
from openpcf.logistics.distances import (
    Distance,
    adjusted_distance,
    air_distance,
    great_circle_km,
    sea_distance,
)
from openpcf.logistics.errors import MissingDefaultError, ShipmentError
from openpcf.logistics.intensity import HUB_UNITS, MASS_UNITS, Intensity, allocate, resolve
from openpcf.logistics.library import DefaultIntensity, FuelFactor, Library, bundled_library
from openpcf.logistics.plausibility import plausibility_warnings
from openpcf.logistics.ports import find_port
from openpcf.logistics.regions import LegRegion, leg_region
from openpcf.logistics.schema import (
    Cargo,
    DefaultMethod,
    Hub,
    Leg,
    Operation,
    Place,
    ShipmentSpec,
)

Where = Callable[[tuple[str | int, ...]], str]


@dataclass(frozen=True, slots=True, kw_only=True)
class ElementResult:
    """Result of one transport chain element (``kind`` "leg" or "hub"); masses in kg CO2e."""

    index: int
    kind: str
    name: str
    mode: str
    category: str
    distance_km: float | None
    distance_method: str
    activity: float
    activity_unit: str
    intensity: Intensity
    wtt_kg: float | None
    ttw_kg: float | None
    wtw_kg: float
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class ShipmentResult:
    """Emissions of one shipment, per element and in total, with methods and sources."""

    shipment: str
    year: int
    cargo_t: float
    teu: float | None
    elements: tuple[ElementResult, ...]
    origin: str = ""
    containers: float | None = None

    @property
    def wtw_kg(self) -> float:
        return sum(e.wtw_kg for e in self.elements)

    @property
    def wtt_kg(self) -> float | None:
        parts = [e.wtt_kg for e in self.elements]
        return None if None in parts else sum(p for p in parts if p is not None)

    @property
    def ttw_kg(self) -> float | None:
        parts = [e.ttw_kg for e in self.elements]
        return None if None in parts else sum(p for p in parts if p is not None)

    @property
    def methods(self) -> tuple[str, ...]:
        """Distinct intensity and distance methods, in chain order."""
        seen: dict[str, None] = {}
        for e in self.elements:
            seen[f"{e.kind} {e.index}: {e.intensity.method}; {e.intensity.description}"] = None
            if e.distance_method:
                seen[f"{e.kind} {e.index}: {e.distance_method}"] = None
        return tuple(seen)

    @property
    def sources(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(s for e in self.elements for s in e.intensity.sources))

    @property
    def notes(self) -> tuple[str, ...]:
        """What was done to a source's value (uplifts, grid scope), prefixed with its element."""
        return tuple(f"{e.kind} {e.index}: {n}" for e in self.elements for n in e.intensity.notes)

    @property
    def warnings(self) -> tuple[str, ...]:
        """Plausibility warnings, each prefixed with its element."""
        return tuple(f"{e.kind} {e.index}: {w}" for e in self.elements for w in e.warnings)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (ISO 14083 report contents: per element, totals, methods, sources)."""
        return {
            "shipment": self.shipment,
            "year": self.year,
            "file": self.origin,
            "cargo_t": self.cargo_t,
            "teu": self.teu,
            "containers": self.containers,
            "elements": [_element_dict(e) for e in self.elements],
            "total": {"wtt_kg": self.wtt_kg, "ttw_kg": self.ttw_kg, "wtw_kg": self.wtw_kg},
            "unit": "kg CO2e",
            "methods": list(self.methods),
            "sources": list(self.sources),
            "notes": list(self.notes),
            "warnings": list(self.warnings),
        }


def _element_dict(e: ElementResult) -> dict[str, Any]:
    i = e.intensity
    return {
        "index": e.index,
        "kind": e.kind,
        "name": e.name,
        "mode": e.mode,
        "category": e.category,
        "distance_km": e.distance_km,
        "distance_method": e.distance_method,
        "activity": e.activity,
        "activity_unit": e.activity_unit,
        "intensity": {"wtt": i.wtt, "ttw": i.ttw, "wtw": i.wtw, "unit": f"kg CO2e/{i.unit}"},
        "intensity_method": i.method,
        "intensity_description": i.description,
        "wtt_kg": e.wtt_kg,
        "ttw_kg": e.ttw_kg,
        "wtw_kg": e.wtw_kg,
        "sources": list(i.sources),
        "notes": list(i.notes),
        "warnings": list(e.warnings),
    }


def library_for(spec: ShipmentSpec, base: Library | None = None) -> Library:
    """The bundled library (or ``base``) extended with the shipment's own fuels and defaults."""
    fuels = [FuelFactor(**row.model_dump()) for row in spec.fuels]
    defaults = [DefaultIntensity(**row.model_dump()) for row in spec.defaults]
    return (base or bundled_library()).extended(fuels, defaults)


def calculate_shipment(
    spec: ShipmentSpec,
    *,
    library: Library | None = None,
    factors: FactorSet | None = None,
    where: Where | None = None,
    origin: str = "",
) -> ShipmentResult:
    """Compute every element of ``spec`` and return the frozen result.

    Errors name the element (``where(("chain", i))`` gives ``file:line`` when loaded from YAML).
    """
    place = where or (lambda loc: ".".join(str(x) for x in loc))
    lib = library_for(spec, library)
    cargo_t = convert(spec.cargo.mass, spec.cargo.unit, "t")
    results = []
    for i, element in enumerate(spec.chain):
        label = f"{place(('chain', i))}: chain[{i}] ({element.type} {element.name!r})"
        try:
            results.append(_element(i + 1, element, spec.cargo, cargo_t, lib, factors))
        except OpenPCFError as e:
            raise located(e, label) from None
    return ShipmentResult(
        shipment=spec.shipment,
        year=spec.year,
        cargo_t=cargo_t,
        teu=spec.cargo.teu,
        elements=tuple(results),
        origin=origin,
        containers=spec.cargo.containers,
    )


def _element(
    index: int,
    element: Leg | Hub,
    cargo: Cargo,
    cargo_t: float,
    lib: Library,
    factors: FactorSet | None,
) -> ElementResult:
    where = LegRegion(region=None)
    if isinstance(element, Leg):
        mode: str = element.mode
        operation = element.operation
        distance: Distance | None = leg_distance(element)
        where = _leg_region(element, lib)
        category = ", ".join(
            x
            for x in (
                operation.category,
                operation.vehicle,
                operation.vessel,
                operation.size,
                operation.fuel,
            )
            if x
        )
    else:
        mode, operation, distance = "hub", Operation(temperature=element.temperature), None
        category = element.category
    intensity = resolve(
        element.intensity,
        mode=mode,
        operation=operation,
        library=lib,
        factors=factors,
        region=where.region,
        region_said=where.said,
    )
    if where.note:
        intensity = replace(intensity, notes=(where.note, *intensity.notes))
    if (distance is None) != (intensity.unit in HUB_UNITS):
        want = "t, TEU or container" if distance is None else "tkm or TEU-km"
        raise ShipmentError(f"intensity is per {intensity.unit}; a {mode} element needs {want}")
    intensity = allocate(intensity, element.allocation, element.t_per_teu, element.t_per_teu_source)
    basis = MASS_UNITS[intensity.unit]
    if basis == "teu":
        if cargo.teu is None:
            raise ShipmentError("a TEU basis needs 'cargo.teu' (the TEUs the cargo fills)")
        amount = cargo.teu
    elif basis == "container":
        if cargo.containers is None:
            raise ShipmentError(
                "an intensity per container needs 'cargo.containers' (the containers the cargo "
                "fills, a share for part of one)"
            )
        amount = cargo.containers
    else:
        amount = cargo_t
    activity = amount * (distance.km if distance else 1.0)

    def times(x: float | None) -> float | None:
        return None if x is None else activity * x

    warnings: tuple[str, ...] = ()
    if distance is not None:
        warnings = plausibility_warnings(
            intensity, mode=mode, operation=operation, t_per_teu=element.t_per_teu, library=lib
        )

    return ElementResult(
        index=index,
        kind=element.type,
        name=element.name,
        mode=mode,
        category=category,
        distance_km=distance.km if distance else None,
        distance_method=distance.method if distance else "",
        activity=activity,
        activity_unit=intensity.unit,
        intensity=intensity,
        wtt_kg=times(intensity.wtt),
        ttw_kg=times(intensity.ttw),
        wtw_kg=activity * intensity.wtw,
        warnings=warnings,
    )


def _leg_region(leg: Leg, lib: Library) -> LegRegion:
    """Where ``leg`` runs, for GLEC's road regions (:mod:`openpcf.logistics.regions`)."""
    method = leg.intensity
    row = lib.default(method.toc) if isinstance(method, DefaultMethod) else None
    return leg_region(leg, row)


def _position(ref: str | Place | None, end: str) -> tuple[float, float, str]:
    """(lon, lat, label) of a port code/name or a position."""
    if ref is None:
        raise ShipmentError(f"give '{end}' (a port UN/LOCODE or name, or {{name, lat, lon}})")
    if isinstance(ref, Place):
        return ref.lon, ref.lat, ref.name or f"({ref.lat:g}, {ref.lon:g})"
    port = find_port(ref)
    return port.lon, port.lat, f"{port.locode} {port.name}"


def leg_distance(leg: Leg) -> Distance:
    """The leg's distance by the rules of :mod:`openpcf.logistics.distances`."""
    if leg.mode == "sea":
        for ref in (leg.origin, leg.destination):
            if isinstance(ref, str):
                find_port(ref)  # a sea leg's ports must exist even when a distance is given
    if leg.distance_km is not None:
        return Distance(km=leg.distance_km, method=f"{leg.mode}: distance given by the user")
    if leg.mode == "air":
        if leg.great_circle_km is not None:
            return air_distance(leg.great_circle_km)
        lon1, lat1, _ = _position(leg.origin, "from")
        lon2, lat2, _ = _position(leg.destination, "to")
        return air_distance(great_circle_km(lon1, lat1, lon2, lat2))
    if leg.mode == "sea" and leg.great_circle_km is None:
        lon1, lat1, a = _position(leg.origin, "from")
        lon2, lat2, b = _position(leg.destination, "to")
        return sea_distance(lon1, lat1, lon2, lat2, f"{a} → {b}")
    if leg.adjustment_factor is None:
        raise MissingDefaultError(
            f"no sourced GLEC distance adjustment factor is bundled for {leg.mode}: give "
            "'distance_km', or 'adjustment_factor' with its 'adjustment_source'"
        )
    if leg.great_circle_km is not None:
        gcd = leg.great_circle_km
    else:
        lon1, lat1, _ = _position(leg.origin, "from")
        lon2, lat2, _ = _position(leg.destination, "to")
        gcd = great_circle_km(lon1, lat1, lon2, lat2)
    return adjusted_distance(gcd, leg.adjustment_factor, leg.adjustment_source)
