"""Frozen results of a CBAM calculation: per source stream, per process, per product.

Units: emissions in t CO2e over the reporting period; SEE in t CO2e per unit of good (t, or
MWh for electricity); electricity in MWh; electricity factors in t CO2/MWh.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Literal

from openpcf.cbam.schema import CarbonPrice, InstallationInfo


@dataclass(frozen=True, slots=True, kw_only=True)
class StreamResult:
    """Emissions of one source stream, PFC entry or measured source, and where they went."""

    id: str
    kind: Literal["combustion", "process", "mass_balance", "pfc", "measured"]
    co2e_t: float
    shares: tuple[tuple[str, float], ...]
    carbon_in_t: float | None = None
    carbon_out_t: float | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class PrecursorContribution:
    """``M_i · SEE_i`` of one precursor consumed by a process."""

    source_id: str
    aggregated_good: str
    kind: Literal["own", "purchased"]
    data_source: Literal["calculated", "actual", "default"]
    mass_t: float
    see_direct: float
    see_indirect: float
    default_share: float
    embedded_electricity_mwh_per_t: float | None = None

    @property
    def embedded_direct(self) -> float:
        return self.mass_t * self.see_direct

    @property
    def embedded_indirect(self) -> float:
        return self.mass_t * self.see_indirect


@dataclass(frozen=True, slots=True, kw_only=True)
class ProcessResult:
    """Attributed emissions and SEE of one production process (its aggregated good).

    ``attributed_direct = dir_em_star + heat_imported − heat_exported + waste_gas_imported
    − waste_gas_exported − electricity_exported``; ``attributed_indirect = Σ MWh · EF``;
    ``see_direct = (attributed_direct + Σ M_i·SEE_dir,i) / production`` and likewise indirect.
    """

    id: str
    aggregated_good: str
    sector: str
    unit: str
    route: str | None
    production: float
    dir_em_star: float
    heat_imported: float
    heat_exported: float
    waste_gas_imported: float
    waste_gas_exported: float
    electricity_exported: float
    attributed_direct: float
    electricity_mwh: float
    attributed_indirect: float
    precursors: tuple[PrecursorContribution, ...]
    see_direct: float
    see_indirect: float
    default_share: float
    embedded_electricity_mwh_per_t: float
    electricity_ef: float | None
    electricity_ef_source: str
    indirect_counts: bool

    @property
    def see_total(self) -> float:
        return self.see_direct + self.see_indirect

    @property
    def see_cbam(self) -> float:
        """SEE that CBAM charges from 2026: direct, plus indirect where it counts."""
        return self.see_direct + (self.see_indirect if self.indirect_counts else 0.0)


@dataclass(frozen=True, slots=True, kw_only=True)
class ProductResult:
    """One product row of Summary_Communication (SEE of its process)."""

    cn: str
    cn_description: str
    name: str
    process: ProcessResult
    qualifying_parameters: tuple[tuple[str, str | float], ...]
    carbon_price: CarbonPrice | None


@dataclass(frozen=True, slots=True, kw_only=True)
class EmissionTotals:
    """Summary_Communication section 3, t CO2e over the reporting period."""

    calculation_based: float
    pfc: float
    measurement_based: float
    other: float
    direct: float
    indirect: float

    @property
    def total(self) -> float:
        return self.direct + self.indirect


@dataclass(frozen=True, slots=True, kw_only=True)
class CbamResult:
    """Everything the communication and the reports show, computed once."""

    installation: InstallationInfo
    period_start: date
    period_end: date
    streams: tuple[StreamResult, ...]
    processes: tuple[ProcessResult, ...]
    products: tuple[ProductResult, ...]
    totals: EmissionTotals
    gwp_set: str
    gwp_source: str
    input_sha256: str | None
    data_quality: str | None
    default_values_justification: str | None
