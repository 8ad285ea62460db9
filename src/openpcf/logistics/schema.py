"""The shipment file: an ISO 14083 transport chain as validated pydantic models.

A shipment carries one cargo through a chain of transport chain elements (TCEs): **legs**
(``type: leg``; road, rail, sea, inland waterway, air), each in a transport operation category
(:class:`Operation`), and **hubs** (``type: hub``; port, warehouse, transhipment), each in a hub
operation category. Every element says how its emission intensity is found (``intensity.method``):

- ``default``: a default intensity by TOC/HOC id, bundled or added under ``defaults:``;
- ``fuel``: vehicle fuel consumption per km, payload capacity, load factor and empty running;
- ``carrier``: the carrier's (or hub operator's) primary data, either reported WTT/TTW
  intensities, or fuel and electricity used and activity carried on the operation category.

See ``docs/logistics.md`` for a full example.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator

from openpcf.files.schema import Strict
from openpcf.logistics.library import ROUNDING_STEP
from openpcf.model.schema import GridRef

Mode = Literal["road", "rail", "sea", "inland_waterway", "air"]
ActivityUnit = Literal["tkm", "TEU-km", "t", "TEU", "container"]
"""``container``: hubs only, per container handled (GLEC v3.0 Table 3, maritime container
terminals); it needs ``cargo.containers`` and is never converted to t or TEU."""
Region = Literal["europe", "south-america", "north-america", "asia", "africa"]
"""The regions GLEC v3.0 names for road (Module 2, pp. 90-94): a road leg's ``region`` selects
GLEC's Asia and Africa uplift (:mod:`openpcf.logistics.uplifts`)."""
Temperature = Literal["ambient", "reefer", "mixed"]
"""``reefer``: temperature-controlled; ``mixed``: a hub site with ambient and temperature-controlled
areas (GLEC Framework v3.0, Module 2 Table 3). Legs are ``ambient`` or ``reefer``."""


class Place(Strict):
    """A position in decimal degrees (WGS 84)."""

    name: str = ""
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)


class Cargo(Strict):
    """The shipment's cargo: its mass and, for containers, the TEUs and containers it fills.

    ``containers`` is the number of containers (of any length) the cargo occupies, a share for
    part of one; it is the activity of a hub whose intensity is per container.
    """

    mass: float
    unit: str = "t"
    teu: float | None = None
    containers: float | None = None

    @field_validator("mass")
    @classmethod
    def _mass(cls, v: float) -> float:
        if not v > 0:
            raise ValueError(f"cargo mass must be > 0, got {v:g}")
        return v

    @field_validator("teu", "containers")
    @classmethod
    def _count(cls, v: float | None) -> float | None:
        if v is not None and not v > 0:
            raise ValueError(f"a TEU or container count must be > 0, got {v:g}")
        return v


class Operation(Strict):
    """Transport (or hub) operation category: what moves the cargo and how full it runs.

    ``load_factor`` is the payload carried over the payload capacity on loaded distance, in
    (0, 1]; ``empty_running`` the empty distance as a share of the loaded distance (≥ 0).
    """

    category: str = ""
    vehicle: str = ""
    vessel: str = ""
    size: str = ""
    fuel: str = ""
    load_factor: float | None = None
    empty_running: float = 0.0
    temperature: Temperature = "ambient"

    @property
    def is_container_ship(self) -> bool:
        """True when ``vessel``, ``category`` or ``vehicle`` names a container vessel."""
        return "container" in f"{self.vessel} {self.category} {self.vehicle}".lower()

    @field_validator("load_factor")
    @classmethod
    def _load_factor(cls, v: float | None) -> float | None:
        if v is not None and not 0 < v <= 1:
            raise ValueError(
                f"load factor must be in (0, 1] (payload / capacity, e.g. 0.6 for 60 %), got {v:g}"
            )
        return v

    @field_validator("empty_running")
    @classmethod
    def _empty(cls, v: float) -> float:
        if v < 0:
            raise ValueError(f"empty running must be >= 0 (share of loaded distance), got {v:g}")
        return v


class FuelUse(Strict):
    """An amount of one fuel (a mass; kg unless ``unit`` says otherwise)."""

    fuel: str
    amount: float = Field(ge=0)
    unit: str = "kg"


class DefaultMethod(Strict):
    """Use a sourced default intensity of a TOC/HOC.

    ``grid``: the electricity of a battery-electric default, whose row gives kWh per tkm
    (GLEC v3.0 Tables 10-11), not emissions; it is required there and refused elsewhere.
    """

    method: Literal["default"]
    toc: str
    grid: GridRef | None = None


class FuelMethod(Strict):
    """Intensity from a vehicle's fuel consumption (fuel-based, ISO 14083).

    kg fuel per activity unit = ``consumption × (1 + empty_running) / (capacity × load_factor)``
    with consumption in kg per km driven loaded and capacity in t (→ per tkm) or TEU (→ per
    TEU-km); then × the fuel's WTT and TTW factors.

    ``capacity_unit`` unset: TEU for a container ship, t for road and rail; a sea or inland
    waterway vessel that is not named a container ship must name the unit (a 14 000-TEU ship
    read as 14 000 t would give 4-9 × too much).
    """

    method: Literal["fuel"]
    fuel: str
    consumption_kg_per_km: float = Field(gt=0)
    capacity: float = Field(gt=0)
    capacity_unit: Literal["t", "TEU"] | None = None


class CarrierMethod(Strict):
    """The carrier's or hub operator's primary data (with its ``source``).

    Either reported intensities ``wtt`` and ``ttw`` (kg CO2e per ``activity_unit``), or the
    energy used on the operation category (``fuel_used``, ``electricity_kwh`` with ``grid``)
    together with the ``activity`` (in ``activity_unit``) carried on it in the same period.
    """

    method: Literal["carrier"]
    source: str = Field(min_length=1)
    activity_unit: ActivityUnit = "tkm"
    wtt: float | None = Field(None, ge=0)
    ttw: float | None = Field(None, ge=0)
    fuel_used: tuple[FuelUse, ...] = ()
    electricity_kwh: float | None = Field(None, ge=0)
    grid: GridRef | None = None
    activity: float | None = Field(None, gt=0)

    @model_validator(mode="after")
    def _one_form(self) -> CarrierMethod:
        reported = self.wtt is not None or self.ttw is not None
        energy = bool(self.fuel_used) or self.electricity_kwh is not None
        if reported == energy:
            raise ValueError(
                "carrier data is either reported intensities (wtt and ttw) or energy used "
                "(fuel_used / electricity_kwh with activity), not both or neither"
            )
        if reported and (self.wtt is None or self.ttw is None):
            raise ValueError("give both 'wtt' and 'ttw' (0 where a part is truly zero)")
        if energy and self.activity is None:
            raise ValueError("energy-based carrier data needs the 'activity' carried with it")
        if (self.electricity_kwh is None) != (self.grid is None):
            raise ValueError("'electricity_kwh' and 'grid' go together")
        return self


Intensity = Annotated[DefaultMethod | FuelMethod | CarrierMethod, Field(discriminator="method")]


class Leg(Strict):
    """A transport leg: mode, operation category, distance inputs and intensity method.

    ``region`` (road only): where the leg runs, in GLEC's road regions; ``asia`` or ``africa``
    applies GLEC v3.0's p. 94 uplift to a Europe/South America default. Without it, a GLEC
    road default infers it from the UN M49 region of the ports' countries, or notes that it
    could not; a stated region the ports contradict is an error (:mod:`openpcf.logistics.regions`).
    """

    type: Literal["leg"]
    name: str = ""
    mode: Mode
    origin: str | Place | None = Field(None, alias="from")
    destination: str | Place | None = Field(None, alias="to")
    distance_km: float | None = None
    great_circle_km: float | None = None
    adjustment_factor: float | None = Field(None, gt=0)
    adjustment_source: str = ""
    region: Region | None = None
    operation: Operation = Operation()
    intensity: Intensity
    allocation: Literal["mass", "teu"] | None = None
    t_per_teu: float | None = Field(None, gt=0)
    t_per_teu_source: str = ""

    @field_validator("distance_km", "great_circle_km")
    @classmethod
    def _distance(cls, v: float | None) -> float | None:
        if v is not None and not v > 0:
            raise ValueError(f"a distance must be > 0 km, got {v:g}")
        return v

    @model_validator(mode="after")
    def _distance_inputs(self) -> Leg:
        if self.mode == "air" and self.distance_km is not None:
            raise ValueError(
                "air legs use great-circle distance + 95 km: give 'from'/'to' positions or "
                "'great_circle_km' instead of 'distance_km'"
            )
        if self.adjustment_factor is not None and not self.adjustment_source:
            raise ValueError("'adjustment_factor' needs its 'adjustment_source'")
        if self.t_per_teu is not None and not self.t_per_teu_source:
            raise ValueError("'t_per_teu' needs its 't_per_teu_source'")
        if self.region is not None and self.mode != "road":
            raise ValueError(
                f"'region' selects GLEC's road uplifts (Asia and Africa, GLEC v3.0 p. 94) and is "
                f"for road legs only; remove it from this {self.mode} leg"
            )
        if self.operation.temperature == "mixed":
            raise ValueError(
                "'mixed' describes a hub site; a leg's operation.temperature is 'ambient' or "
                "'reefer'"
            )
        return self


class Hub(Strict):
    """A hub: transhipment, storage or port handling, in a hub operation category."""

    type: Literal["hub"]
    name: str = ""
    category: str = ""
    location: str | Place | None = None
    temperature: Temperature = "ambient"
    intensity: Intensity
    allocation: Literal["mass", "teu"] | None = None
    t_per_teu: float | None = Field(None, gt=0)
    t_per_teu_source: str = ""

    @model_validator(mode="after")
    def _no_fuel_method(self) -> Hub:
        if isinstance(self.intensity, FuelMethod):
            raise ValueError("hubs use 'default' or 'carrier' (operator data), not 'fuel'")
        if self.t_per_teu is not None and not self.t_per_teu_source:
            raise ValueError("'t_per_teu' needs its 't_per_teu_source'")
        return self


Element = Annotated[Leg | Hub, Field(discriminator="type")]


class FuelRow(Strict):
    """A user fuel factor: kg CO2e per kg of fuel, TTW and WTW, with its source."""

    id: str
    name: str = ""
    ttw: float = Field(ge=0)
    wtw: float = Field(ge=0)
    year: int
    source: str = Field(min_length=1)
    notes: str = ""


class DefaultRow(Strict):
    """A user default intensity of a TOC (legs) or HOC (hubs: activity unit t, TEU or container).

    ``rounding_step``: the step of the published figures (kg CO2e per unit; 0.1 g by default),
    within 1.5 × which ``wtt + ttw`` must equal a given ``wtw``. ``kwh``: an electric
    vehicle's energy per activity unit instead of ``wtt``/``ttw``/``wtw``; the leg names the grid.
    """

    toc: str
    mode: Literal["road", "rail", "sea", "inland_waterway", "air", "hub"]
    name: str = ""
    activity_unit: ActivityUnit = "tkm"
    wtt: float | None = Field(None, ge=0)
    ttw: float | None = Field(None, ge=0)
    wtw: float | None = Field(None, ge=0)
    kwh: float | None = Field(None, gt=0)
    temperature: Temperature = "ambient"
    year: int
    source: str = Field(min_length=1)
    gwp_basis: str = ""
    notes: str = ""
    rounding_step: float = Field(ROUNDING_STEP, gt=0)


class ShipmentSpec(Strict):
    """A shipment file: id, reference year, cargo, optional own data and the chain."""

    shipment: str
    year: int = Field(ge=1990, le=2100)
    description: str = ""
    cargo: Cargo
    fuels: tuple[FuelRow, ...] = ()
    defaults: tuple[DefaultRow, ...] = ()
    chain: list[Element] = Field(min_length=1)
