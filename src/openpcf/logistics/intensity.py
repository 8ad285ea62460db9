"""Emission intensity of one transport chain element, by one of the ISO 14083 routes.

An intensity is kg CO2e per activity unit (``tkm``, ``TEU-km`` for legs; ``t``, ``TEU`` or
``container`` for hubs), split into well-to-tank (WTT) and tank-to-wheel (TTW) where the data allow:
``WTW = WTT + TTW``.

- **default**: the TOC/HOC row's values; a row without a known WTW is refused (absent, not
  guessed). A row with WTW and one part gives the other part as ``WTW - part``.
- **fuel**: ``q = c (1 + e) / (C · LF)`` kg fuel per tkm (or TEU-km) from consumption ``c``
  (kg/km loaded), empty running ``e``, capacity ``C`` and load factor ``LF``; then
  ``WTT = q · f_WTT``, ``TTW = q · f_TTW`` with the fuel factors in kg CO2e/kg. ``C`` is in TEU
  for a container ship unless the file says ``capacity_unit: t``; another vessel must name it.
- **carrier**: reported ``wtt``/``ttw``, or ``(Σ m_i f_i + E · g) / A`` for fuels ``m_i`` (kg),
  electricity ``E`` (kWh) at grid factor ``g`` (kg/kWh, counted WTT: an electric vehicle or
  hub emits nothing at the wheel) and activity ``A`` carried on the operation category.

:func:`allocate` converts between mass and TEU bases with the leg's ``t_per_teu`` or, without
one, the IMO default of 10 t per loaded TEU (:mod:`openpcf.logistics.teu`):
``I_tkm = I_TEU-km / (t/TEU)`` and ``I_TEU-km = I_tkm · (t/TEU)``. A per-container intensity
(GLEC's maritime container terminals) is never converted: no source gives the tonnes or TEUs of
"a container" (it may be 20 or 40 ft, full or part-loaded).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from openpcf.core.units import convert
from openpcf.factors import FactorSet, bundled_factor_set, grid_electricity
from openpcf.logistics.errors import MissingDefaultError, ShipmentError
from openpcf.logistics.library import Library
from openpcf.logistics.schema import CarrierMethod, DefaultMethod, FuelMethod, Operation
from openpcf.logistics.teu import LOADED_TEU
from openpcf.methods.gwp import gwp_set

MASS_UNITS = {"tkm": "mass", "t": "mass", "TEU-km": "teu", "TEU": "teu", "container": "container"}
"""The allocation basis of each activity unit."""
HUB_UNITS = ("t", "TEU", "container")
_SWAP = {"tkm": "TEU-km", "TEU-km": "tkm", "t": "TEU", "TEU": "t"}
_SHOWN = 8
"""How many fitting defaults a refusal names (the README lists them all)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Intensity:
    """kg CO2e per ``unit`` of activity; ``wtt``/``ttw`` are ``None`` without a sourced split."""

    wtt: float | None
    ttw: float | None
    wtw: float
    unit: str
    method: str
    description: str
    sources: tuple[str, ...]


def resolve(
    spec: DefaultMethod | FuelMethod | CarrierMethod,
    *,
    mode: str,
    operation: Operation,
    library: Library,
    factors: FactorSet | None,
) -> Intensity:
    """The intensity ``spec`` describes, for an element of ``mode`` ("hub" for hubs)."""
    if isinstance(spec, DefaultMethod):
        return _default(spec, mode, operation, library)
    if isinstance(spec, FuelMethod):
        return _fuel(spec, mode, operation, library)
    return _carrier(spec, library, factors)


def _default(spec: DefaultMethod, mode: str, operation: Operation, library: Library) -> Intensity:
    row = library.default(spec.toc)
    if row.mode != mode or row.temperature != operation.temperature:
        fitting = [r.toc for r in library.defaults_for(mode, operation.temperature)]
        field = "temperature" if mode == "hub" else "operation.temperature"
        more = f", … ({len(fitting)} in all)" if len(fitting) > _SHOWN else ""
        offer = (
            f"bundled {operation.temperature} {mode} defaults: {', '.join(fitting[:_SHOWN])}{more}"
            if fitting
            else f"no complete {operation.temperature} {mode} default is bundled: give carrier "
            "data or fuel consumption, or add a sourced default under 'defaults:'"
        )
        marks = f"'{field}: reefer' marks temperature control"
        if mode == "hub":
            marks += ", 'mixed' a site with ambient and temperature-controlled areas"
        raise ShipmentError(
            f"default {spec.toc!r} is for {row.temperature} {row.mode} transport, but the "
            f"element is {operation.temperature} {mode} ({marks}); {offer}"
        )
    if not row.complete:
        given = ", ".join(
            f"{n} {v:g} kg CO2e/{row.activity_unit}"
            for n, v in (("WTT", row.wtt), ("TTW", row.ttw))
            if v is not None
        )
        raise MissingDefaultError(
            f"the sourced default for TOC {spec.toc!r} gives only {given} ({row.source}); "
            f"no sourced {row.missing()} default is bundled: give carrier data or fuel "
            "consumption, or add a complete default with its source under 'defaults:'"
        )
    wtt, ttw, wtw = row.wtt, row.ttw, row.wtw
    if wtw is None:
        assert wtt is not None
        assert ttw is not None
        wtw = wtt + ttw
    elif wtt is None and ttw is not None:
        wtt = wtw - ttw
    elif ttw is None and wtt is not None:
        ttw = wtw - wtt
    return Intensity(
        wtt=wtt,
        ttw=ttw,
        wtw=wtw,
        unit=row.activity_unit,
        method="default intensity",
        description=f"default {row.toc}: {row.name}",
        sources=(f"{row.toc}: {row.source} ({row.year}; GWP {row.gwp_basis or 'unstated'})",),
    )


def capacity_unit(spec: FuelMethod, mode: str, operation: Operation) -> tuple[str, str]:
    """The unit of ``spec.capacity`` and, when it was not named in the file, why it is that.

    Named in the file: that unit. Unnamed: TEU for a container ship, t for road and rail; a
    sea or inland waterway vessel that is not named a container ship is refused.
    """
    if spec.capacity_unit is not None:
        return spec.capacity_unit, ""
    if mode in ("sea", "inland_waterway"):
        if operation.is_container_ship:
            return "TEU", " (capacity in TEU: the default for a container ship)"
        raise ShipmentError(
            f"name the unit of 'capacity' {spec.capacity:g} for this {mode} vessel: "
            "'capacity_unit: TEU' (container slots) or 'capacity_unit: t' (cargo tonnes); a "
            "capacity in TEU read as tonnes gives 4-9 × too much"
        )
    return "t", ""


def _fuel(spec: FuelMethod, mode: str, operation: Operation, library: Library) -> Intensity:
    if operation.load_factor is None:
        raise ShipmentError("the fuel-based method needs 'operation.load_factor' in (0, 1]")
    fuel = library.fuel(spec.fuel)
    cap_unit, why = capacity_unit(spec, mode, operation)
    lf, e = operation.load_factor, operation.empty_running
    q = spec.consumption_kg_per_km * (1 + e) / (spec.capacity * lf)
    unit = "tkm" if cap_unit == "t" else "TEU-km"
    description = (
        f"fuel-based: {spec.consumption_kg_per_km:g} kg/km × (1 + {e:g}) / "
        f"({spec.capacity:g} {cap_unit} × {lf:g}) = {q:.6g} kg {fuel.id}/{unit}{why}"
    )
    return Intensity(
        wtt=q * fuel.wtt,
        ttw=q * fuel.ttw,
        wtw=q * fuel.wtw,
        unit=unit,
        method="fuel-based",
        description=description,
        sources=(_fuel_source(fuel.id, library),),
    )


def _fuel_source(fuel_id: str, library: Library) -> str:
    f = library.fuel(fuel_id)
    return f"fuel {f.id}: TTW {f.ttw:g}, WTW {f.wtw:g} kg CO2e/kg, {f.source} ({f.year})"


def _carrier(spec: CarrierMethod, library: Library, factors: FactorSet | None) -> Intensity:
    if spec.wtt is not None and spec.ttw is not None:
        return Intensity(
            wtt=spec.wtt,
            ttw=spec.ttw,
            wtw=spec.wtt + spec.ttw,
            unit=spec.activity_unit,
            method="carrier primary data",
            description=f"carrier-reported intensity per {spec.activity_unit}",
            sources=(f"carrier: {spec.source}",),
        )
    assert spec.activity is not None
    wtt = ttw = 0.0
    sources = [f"carrier: {spec.source}"]
    for use in spec.fuel_used:
        fuel = library.fuel(use.fuel)
        kg = convert(use.amount, use.unit, "kg")
        wtt += kg * fuel.wtt
        ttw += kg * fuel.ttw
        sources.append(_fuel_source(fuel.id, library))
    if spec.electricity_kwh is not None and spec.grid is not None:
        choice = grid_electricity(
            geography=spec.grid.geography,
            year=spec.grid.year,
            factors=factors if factors is not None else bundled_factor_set(),
            basis=spec.grid.basis,
        )
        g = choice.factor.co2e(gwp_set("AR6").values)
        wtt += spec.electricity_kwh * g
        sources.append(
            f"electricity {choice.factor.id}: {g:g} kg/kWh, {choice.factor.source} "
            f"({choice.fallback_note}; counted WTT)"
        )
    return Intensity(
        wtt=wtt / spec.activity,
        ttw=ttw / spec.activity,
        wtw=(wtt + ttw) / spec.activity,
        unit=spec.activity_unit,
        method="carrier primary data",
        description=f"carrier energy use / {spec.activity:g} {spec.activity_unit} carried",
        sources=tuple(sources),
    )


def allocate(
    intensity: Intensity, basis: str | None, t_per_teu: float | None, source: str
) -> Intensity:
    """Express ``intensity`` on the mass or TEU basis requested (``None``: keep its own).

    Without the leg's own ``t_per_teu`` the IMO default (10 t per loaded TEU) is used and named.
    """
    own = MASS_UNITS[intensity.unit]
    if basis is None or basis == own:
        return intensity
    if own == "container":
        raise ShipmentError(
            f"'allocation: {basis}' cannot convert an intensity per container: no source gives "
            "the tonnes or TEUs of a container (20 or 40 ft, full or part-loaded); drop "
            "'allocation' and give 'cargo.containers'"
        )
    if t_per_teu is None:
        t_per_teu, source = LOADED_TEU.t_per_teu, LOADED_TEU.source
    k = 1 / t_per_teu if own == "teu" else t_per_teu

    def scale(x: float | None) -> float | None:
        return None if x is None else x * k

    return replace(
        intensity,
        wtt=scale(intensity.wtt),
        ttw=scale(intensity.ttw),
        wtw=intensity.wtw * k,
        unit=_SWAP[intensity.unit],
        description=f"{intensity.description}; converted at {t_per_teu:g} t/TEU",
        sources=(*intensity.sources, f"t per TEU {t_per_teu:g}: {source}"),
    )
