"""Emission intensity of one transport chain element, by one of the ISO 14083 routes.

An intensity is kg CO2e per activity unit (``tkm``, ``TEU-km`` for legs; ``t``, ``TEU`` or
``container`` for hubs), split into well-to-tank (WTT) and tank-to-wheel (TTW) where the data allow:
``WTW = WTT + TTW``.

- **default**: the TOC/HOC row's values; a row without a known WTW is refused (absent, not
  guessed). A row with WTW and one part gives the other part as ``WTW - part``. A
  battery-electric row gives energy ``k`` (kWh/tkm): ``WTT = WTW = k · g`` at the grid factor
  ``g`` the leg names, ``TTW = 0``. A road leg in Asia or Africa, or temperature-controlled, on a
  GLEC Europe/South America row is scaled by GLEC's uplifts (:mod:`openpcf.logistics.uplifts`).
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
from openpcf.electricity.scope import scope_of
from openpcf.factors import FactorSet, bundled_factor_set, grid_electricity
from openpcf.logistics.errors import MissingDefaultError, ShipmentError
from openpcf.logistics.library import DefaultIntensity, Library
from openpcf.logistics.schema import CarrierMethod, DefaultMethod, FuelMethod, Operation
from openpcf.logistics.teu import LOADED_TEU
from openpcf.logistics.uplifts import Uplift, not_uplifted, road_uplifts
from openpcf.methods.gwp import gwp_set
from openpcf.model.schema import GridRef

MASS_UNITS = {"tkm": "mass", "t": "mass", "TEU-km": "teu", "TEU": "teu", "container": "container"}
"""The allocation basis of each activity unit."""
HUB_UNITS = ("t", "TEU", "container")
_SWAP = {"tkm": "TEU-km", "TEU-km": "tkm", "t": "TEU", "TEU": "t"}
_SHOWN = 8
"""How many fitting defaults a refusal names (the README lists them all)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Intensity:
    """kg CO2e per ``unit`` of activity; ``wtt``/``ttw`` are ``None`` without a sourced split.

    ``notes``: what was done to the source's value, one line each (GLEC uplifts with factor
    and page; a grid factor's scope, e.g. generation-only).
    """

    wtt: float | None
    ttw: float | None
    wtw: float
    unit: str
    method: str
    description: str
    sources: tuple[str, ...]
    notes: tuple[str, ...] = ()

    def scaled(self, k: float) -> Intensity:
        """The same intensity with WTT, TTW and WTW multiplied by ``k`` (an uplift, or a
        change of activity unit); the caller says why in the description."""
        return replace(
            self,
            wtt=None if self.wtt is None else self.wtt * k,
            ttw=None if self.ttw is None else self.ttw * k,
            wtw=self.wtw * k,
        )


def resolve(
    spec: DefaultMethod | FuelMethod | CarrierMethod,
    *,
    mode: str,
    operation: Operation,
    library: Library,
    factors: FactorSet | None,
    region: str | None = None,
    region_said: str = "",
) -> Intensity:
    """The intensity ``spec`` describes, for an element of ``mode`` ("hub" for hubs) that runs
    in ``region`` (a road leg's GLEC region, or ``None``; ``region_said``: how messages name
    it, :class:`~openpcf.logistics.regions.LegRegion`)."""
    if isinstance(spec, DefaultMethod):
        return _default(spec, mode, operation, (region, region_said), library, factors)
    if isinstance(spec, FuelMethod):
        return _fuel(spec, mode, operation, library)
    return _carrier(spec, library, factors)


def _default(
    spec: DefaultMethod,
    mode: str,
    operation: Operation,
    where: tuple[str | None, str],
    library: Library,
    factors: FactorSet | None,
) -> Intensity:
    row = library.default(spec.toc)
    region, said = where
    uplifts = road_uplifts(
        row, mode=mode, region=region, temperature=operation.temperature, said=said
    )
    cooled = any(u.condition == "temperature" for u in uplifts)
    if row.mode != mode or (row.temperature != operation.temperature and not cooled):
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
        if mode == "road" and operation.temperature == "reefer":
            marks += (
                "; GLEC's + 12 % (vans + 15 %) for temperature control (v3.0 p. 94) applies to "
                "its Europe and South America rows, glec3.road.*.eu-sa"
            )
        raise ShipmentError(
            f"default {spec.toc!r} is for {row.temperature} {row.mode} transport, but the "
            f"element is {operation.temperature} {mode} ({marks}); {offer}"
        )
    if row.kwh is not None:
        base = _electric(row, spec.grid, factors)
    elif spec.grid is not None:
        raise ShipmentError(
            f"'grid' is for a battery-electric default (kWh per unit, e.g. "
            f"glec3.road.rigid-26-40t.electric.eu-sa); {spec.toc!r} gives emissions: remove 'grid'"
        )
    else:
        base = _emission_row(row)
    return _uplifted(base, uplifts, row.toc) if uplifts else _noted(base, not_uplifted(row, region))


def _emission_row(row: DefaultIntensity) -> Intensity:
    """A row's published WTT/TTW/WTW (a missing part derived from the other two)."""
    if not row.complete:
        given = ", ".join(
            f"{n} {v:g} kg CO2e/{row.activity_unit}"
            for n, v in (("WTT", row.wtt), ("TTW", row.ttw))
            if v is not None
        )
        raise MissingDefaultError(
            f"the sourced default for TOC {row.toc!r} gives only {given} ({row.source}); "
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
        sources=(_row_source(row),),
    )


def _row_source(row: DefaultIntensity) -> str:
    return f"{row.toc}: {row.source} ({row.year}; GWP {row.gwp_basis or 'unstated'})"


def _electric(row: DefaultIntensity, grid: GridRef | None, factors: FactorSet | None) -> Intensity:
    """``WTT = WTW = k · g``, ``TTW = 0``: a battery-electric truck emits nothing at the wheel."""
    assert row.kwh is not None
    unit = row.activity_unit
    if grid is None:
        raise MissingDefaultError(
            f"default {row.toc!r} gives energy, {row.kwh:g} kWh/{unit} ({row.source}), not "
            "emissions: name the electricity under the leg's intensity, e.g. 'grid: {geography: "
            "CN, year: 2023, basis: footprint}' (basis 'co2' is generation-only)"
        )
    use = _grid(grid, factors)
    k = row.kwh * use.g
    grid_text = f"{use.g:g} kg CO2e/kWh ({use.factor_id}, {use.scope})"
    return Intensity(
        wtt=k,
        ttw=0.0,
        wtw=k,
        unit=unit,
        method="default intensity (electric)",
        description=f"default {row.toc}: {row.name}; {row.kwh:g} kWh/{unit} × {grid_text}",
        sources=(_row_source(row), use.source),
        notes=(use.note,),
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class _Grid:
    """A grid factor ``g`` (kg CO2e/kWh, AR6) as used: id, scope, source line, scope note."""

    g: float
    factor_id: str
    scope: str
    source: str
    note: str


def _grid(grid: GridRef, factors: FactorSet | None) -> _Grid:
    """The grid factor of ``grid``, saying whether it is generation-only (electricity.scope)."""
    choice = grid_electricity(
        geography=grid.geography,
        year=grid.year,
        factors=factors if factors is not None else bundled_factor_set(),
        basis=grid.basis,
    )
    g = choice.factor.co2e(gwp_set("AR6").values)
    scope = scope_of(choice.factor)
    if scope is None:
        short, said = "scope not known", "scope not known here (see its notes)"
    elif scope.scope == "generation":
        short = "generation-only"
        said = (
            f"is generation-only ({scope.covers}); ISO 14067 counts the life cycle: "
            "'basis: footprint' where a footprint factor exists"
        )
    else:
        short, said = "life cycle", f"life cycle ({scope.covers})"
    source = (
        f"electricity {choice.factor.id}: {g:g} kg/kWh, {short}, {choice.factor.source} "
        f"({choice.fallback_note}; counted WTT)"
    )
    return _Grid(
        g=g,
        factor_id=choice.factor.id,
        scope=short,
        source=source,
        note=f"electricity {choice.factor.id} {said}",
    )


def _uplifted(base: Intensity, uplifts: tuple[Uplift, ...], toc: str) -> Intensity:
    """``base`` × each GLEC p. 94 uplift; the description shows the row and the factors."""
    f = 1.0
    for u in uplifts:
        f *= u.factor
    times = " × ".join(f"{u.factor:g} ({u.label})" for u in uplifts)
    return replace(
        base.scaled(f),
        description=f"{base.description}; × {times}: GLEC v3.0 p. 94 uplift",
        sources=(*base.sources, *(u.note for u in uplifts)),
        notes=(*base.notes, *(f"{toc} {u.note}" for u in uplifts)),
    )


def _noted(base: Intensity, note: str) -> Intensity:
    return replace(base, notes=(*base.notes, note)) if note else base


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
    notes: tuple[str, ...] = ()
    if spec.electricity_kwh is not None and spec.grid is not None:
        grid = _grid(spec.grid, factors)
        wtt += spec.electricity_kwh * grid.g
        sources.append(grid.source)
        notes = (grid.note,)
    return Intensity(
        wtt=wtt / spec.activity,
        ttw=ttw / spec.activity,
        wtw=(wtt + ttw) / spec.activity,
        unit=spec.activity_unit,
        method="carrier primary data",
        description=f"carrier energy use / {spec.activity:g} {spec.activity_unit} carried",
        sources=tuple(sources),
        notes=notes,
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
    return replace(
        intensity.scaled(k),
        unit=_SWAP[intensity.unit],
        description=f"{intensity.description}; converted at {t_per_teu:g} t/TEU",
        sources=(*intensity.sources, f"t per TEU {t_per_teu:g}: {source}"),
    )
