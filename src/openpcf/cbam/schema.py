"""The installation file (YAML): what an operator monitors for the CBAM communication.

Structure follows the Commission's communication template v2.1.1: A_InstData (period,
identity, processes and routes, purchased precursors), B_EmInst (source streams, PFC, measured
emissions), D_Processes (production, heat, waste gases, electricity) and the product rows of
Summary_Communication. Units are in the field names: t, TJ, MWh, t CO2/TJ, t CO2/MWh.
Cross-references and numeric rules are checked in :mod:`openpcf.cbam.validation`.
"""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Period(_Strict):
    start: date
    end: date


class InstallationInfo(_Strict):
    """A_InstData section 1 / Summary_Communication section 1."""

    name: str = Field(min_length=1, description="Name of the installation, in English.")
    street: str = Field(min_length=1)
    city: str | None = None
    postcode: str | None = None
    country: str = Field(pattern=r"^[A-Z]{2}$", description="ISO 3166-1 alpha-2.")
    economic_activity: str | None = None
    unlocode: str | None = Field(default=None, pattern=r"^[A-Z]{2} ?[A-Z2-9]{3}$")
    latitude: float | None = Field(default=None, ge=-90, le=90)
    longitude: float | None = Field(default=None, ge=-180, le=180)
    operator: str | None = None


class CarbonFlow(_Strict):
    """One input or output of a mass balance: mass and carbon content."""

    name: str
    amount_t: float = Field(ge=0)
    carbon_content: float = Field(ge=0, le=1, description="t C per t of material.")
    biomass_fraction: float = Field(default=0.0, ge=0, le=1)


class SourceStream(_Strict):
    """A fuel or material whose emissions are calculated (B_EmInst).

    ``combustion``: Em = AD x NCV x EF x OxF x (1 - BioF), AD in t (or 1000 Nm3), NCV in GJ per
    unit, EF in t CO2/TJ. ``process``: Em = AD x EF x ConvF x (1 - BioF), EF in t CO2/t.
    ``mass_balance``: Em = 3.664 x (sum of fossil C in inputs - sum in outputs).
    """

    id: str = Field(min_length=1)
    method: Literal["combustion", "process", "mass_balance"]
    process: str | None = None
    split: dict[str, float] | None = None
    activity_data: float | None = Field(default=None, ge=0)
    activity_unit: Literal["t", "1000Nm3"] = "t"
    ncv_gj_per_unit: float | None = Field(default=None, gt=0)
    emission_factor: float | None = Field(
        default=None, ge=0, description="t CO2/TJ (combustion) or t CO2/t (process)."
    )
    oxidation_factor: float = Field(default=1.0, ge=0, le=1)
    conversion_factor: float = Field(default=1.0, ge=0, le=1)
    biomass_fraction: float = Field(default=0.0, ge=0, le=1)
    inputs: list[CarbonFlow] = Field(default_factory=list)
    outputs: list[CarbonFlow] = Field(default_factory=list)
    co2_reported_t: float | None = Field(default=None, ge=0)
    closure_tolerance: float = Field(default=0.01, gt=0, le=0.1)

    @model_validator(mode="after")
    def _fields_for_method(self) -> SourceStream:
        need = {
            "combustion": ("activity_data", "ncv_gj_per_unit", "emission_factor"),
            "process": ("activity_data", "emission_factor"),
            "mass_balance": (),
        }[self.method]
        missing = [f for f in need if getattr(self, f) is None]
        if missing:
            raise ValueError(f"method {self.method} needs {', '.join(missing)}")
        if self.method == "mass_balance" and not self.inputs:
            raise ValueError("method mass_balance needs at least one entry under inputs")
        if self.method != "mass_balance" and (self.inputs or self.outputs):
            raise ValueError("inputs/outputs belong to method mass_balance only")
        if (self.process is None) == (self.split is None):
            raise ValueError("give exactly one of process (an id) or split ({id: share})")
        return self


class PfcEmission(_Strict):
    """PFC emissions from anode effects (primary aluminium), per potline.

    ``slope``: CF4 [t] = SEF_CF4 [kg CF4/t Al per AE-min/cell-day] x AEM x Pr_Al / 1000;
    C2F6 [t] = CF4 x F_C2F6 (2006 IPCC Guidelines
    Vol. 3 Ch. 4.4 Tier 2/3, the method of Reg. 2023/1773 Annex III; ⚠R). ``direct``: t of CF4
    and C2F6 measured or calculated elsewhere.
    """

    id: str = Field(min_length=1)
    process: str
    method: Literal["slope", "direct"]
    anode_effect_minutes_per_cell_day: float | None = Field(default=None, ge=0)
    sef_cf4_kg: float | None = Field(
        default=None, ge=0, description="kg CF4 per t Al per (anode-effect minute/cell-day)."
    )
    primary_aluminium_t: float | None = Field(default=None, ge=0)
    c2f6_weight_fraction: float | None = Field(default=None, ge=0, le=1)
    cf4_t: float | None = Field(default=None, ge=0)
    c2f6_t: float | None = Field(default=None, ge=0)

    @model_validator(mode="after")
    def _fields_for_method(self) -> PfcEmission:
        need = {
            "slope": (
                "anode_effect_minutes_per_cell_day",
                "sef_cf4_kg",
                "primary_aluminium_t",
                "c2f6_weight_fraction",
            ),
            "direct": ("cf4_t", "c2f6_t"),
        }[self.method]
        missing = [f for f in need if getattr(self, f) is None]
        if missing:
            raise ValueError(f"method {self.method} needs {', '.join(missing)}")
        return self


class MeasuredEmission(_Strict):
    """Emissions from continuous measurement (CEMS) at one emission source."""

    id: str = Field(min_length=1)
    process: str
    gas: Literal["CO2", "N2O"]
    annual_t: float = Field(ge=0, description="t of the gas (fossil part for CO2).")


class Heat(_Strict):
    """Measurable heat crossing the process boundary (D_Processes)."""

    imported_tj: float = Field(default=0.0, ge=0)
    imported_ef_t_co2_per_tj: float | None = Field(default=None, ge=0)
    exported_tj: float = Field(default=0.0, ge=0)
    exported_ef_t_co2_per_tj: float | None = Field(default=None, ge=0)

    @model_validator(mode="after")
    def _ef_given(self) -> Heat:
        if self.imported_tj and self.imported_ef_t_co2_per_tj is None:
            raise ValueError("imported heat needs imported_ef_t_co2_per_tj")
        if self.exported_tj and self.exported_ef_t_co2_per_tj is None:
            raise ValueError("exported heat needs exported_ef_t_co2_per_tj")
        return self


class WasteGases(_Strict):
    """Energy content (V x NCV, TJ) of waste gases imported into / exported from the process."""

    imported_tj: float = Field(default=0.0, ge=0)
    exported_tj: float = Field(default=0.0, ge=0)


class ElectricitySupply(_Strict):
    mwh: float = Field(ge=0)
    ef_t_co2_per_mwh: float = Field(ge=0)
    source: str = Field(min_length=1, description="Where the factor comes from.")


class ElectricityExport(_Strict):
    mwh: float = Field(ge=0)
    ef_t_co2_per_mwh: float = Field(ge=0)


class PrecursorUse(_Strict):
    from_: str = Field(alias="from", min_length=1)
    mass_t: float = Field(gt=0)


class CarbonPrice(_Strict):
    """Carbon price paid in the country of production (Summary_Communication section 5)."""

    instrument: str
    currency: str = Field(pattern=r"^[A-Z]{3}$")
    price_per_t_co2e: float = Field(ge=0)
    share_covered: float = Field(ge=0, le=1)
    rebate_share: float = Field(default=0.0, ge=0, le=1)


class Product(_Strict):
    cn: str
    name: str | None = None
    qualifying_parameters: dict[str, str | float] = Field(default_factory=dict)
    carbon_price: CarbonPrice | None = None


class Process(_Strict):
    """A production process: one aggregated good, its route and what crosses its boundary."""

    id: str = Field(min_length=1)
    aggregated_good: str
    route: str | None = None
    production_t: float = Field(gt=0, description="Activity level AL (t, or MWh).")
    heat: Heat = Heat()
    waste_gases: WasteGases = WasteGases()
    electricity: list[ElectricitySupply] = Field(default_factory=list)
    electricity_exported: ElectricityExport | None = None
    precursors: list[PrecursorUse] = Field(default_factory=list)
    products: list[Product] = Field(default_factory=list)


class PurchasedPrecursor(_Strict):
    """A precursor bought from another installation (E_PurchPrec)."""

    id: str = Field(min_length=1)
    cn: str
    country: str = Field(pattern=r"^[A-Z]{2}$")
    supplier: str | None = None
    source: Literal["actual", "default"]
    see_direct: float | None = Field(default=None, ge=0)
    see_indirect: float | None = Field(default=None, ge=0)
    embedded_electricity_mwh_per_t: float | None = Field(default=None, ge=0)

    @model_validator(mode="after")
    def _values_for_source(self) -> PurchasedPrecursor:
        if self.source == "actual" and self.see_direct is None:
            raise ValueError("source actual needs see_direct (and see_indirect if relevant)")
        if self.source == "default" and (self.see_direct, self.see_indirect) != (None, None):
            raise ValueError("source default takes no see_* values: they come from Annex I")
        return self


class Installation(_Strict):
    """The root of an installation file."""

    openpcf_cbam: Literal[1]
    reporting_period: Period
    installation: InstallationInfo
    processes: list[Process] = Field(min_length=1)
    source_streams: list[SourceStream] = Field(default_factory=list)
    pfc: list[PfcEmission] = Field(default_factory=list)
    measured: list[MeasuredEmission] = Field(default_factory=list)
    purchased_precursors: list[PurchasedPrecursor] = Field(default_factory=list)
    data_quality: str | None = None
    default_values_justification: str | None = None
