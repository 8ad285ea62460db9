"""The PACT v3.0 ProductFootprint, as OpenPCF checks it (Technical Specifications 3.0.3).

Clauses: §Data Model (ProductFootprint, CarbonFootprint, DataQualityIndicators, Verification,
EmissionFactorSource, ProductOrSectorSpecificRule, DataModelExtension), §Basic Types and
§Qualifiers (Required, NonEmpty, Unique), and the changelog of 3.0.0 (ADR 39: every fractional
number a decimal string; ADR 41: ``version``, ``updated`` and ``statusComment`` removed).
Properties without a default are required. The sign of each decimal is in its type
(:mod:`.base`).
"""

from __future__ import annotations

from typing import Annotated, Literal

from openpcf.exchange.footprint_schema.base import (
    AnyDecimal,
    DataModelExtension,
    DateTime,
    Dqr1To5,
    EmissionFactorSource,
    Geography,
    IpccReport,
    NonEmptyList,
    NonEmptyString,
    NonEmptyUniqueList,
    NonNegativeDecimal,
    NonPositiveDecimal,
    PactModel,
    PercentDecimal,
    PositiveDecimal,
    ProductOrSectorSpecificRule,
    Uri,
    Urn,
    Uuid,
    spec_version,
)
from openpcf.exchange.vocabulary import V3_CROSS_SECTORAL_STANDARDS, V3DeclaredUnit

#: ``declaredUnitOfMeasurement``: v2.3's units plus ``piece`` (ADR 33), ``hour`` and
#: ``megabit second`` (ADR 40).
DeclaredUnit = V3DeclaredUnit
#: Values the spec names for ``crossSectoralStandards`` (ADR 32). The list is open: a host
#: MUST accept values of later revisions, so any non-empty list of strings is valid.
CROSS_SECTORAL_STANDARDS = V3_CROSS_SECTORAL_STANDARDS


class DataQualityIndicators(PactModel):
    """Technological, geographical and temporal DQR, each a decimal from 1 to 5."""

    technological_dqr: Dqr1To5
    geographical_dqr: Dqr1To5
    temporal_dqr: Dqr1To5


class Verification(PactModel):
    """Renamed from v2's Assurance; the boolean flag is gone (ADR 44), nothing is required."""

    coverage: Literal["PCF calculation model", "PCF program", "product level"] | None = None
    provider_name: str | None = None
    completed_at: DateTime | None = None
    standard_name: str | None = None
    comments: str | None = None


class CarbonFootprint(Geography):
    """The ``pcf`` of a v3.0 footprint; amounts are per declared unit."""

    declared_unit_of_measurement: DeclaredUnit
    declared_unit_amount: PositiveDecimal
    product_mass_per_declared_unit: AnyDecimal
    reference_period_start: DateTime
    reference_period_end: DateTime
    boundary_processes_description: str | None = None
    # totals: removals and CCS may make them negative
    pcf_excluding_biogenic_uptake: AnyDecimal
    pcf_including_biogenic_uptake: AnyDecimal
    # carbon content, kg C per declared unit
    fossil_carbon_content: NonNegativeDecimal
    biogenic_carbon_content: NonNegativeDecimal | None = None
    recycled_carbon_content: NonNegativeDecimal | None = None
    # emissions (>= 0) and removals (<= 0), kg CO2e per declared unit
    fossil_ghg_emissions: NonNegativeDecimal
    land_use_change_ghg_emissions: NonNegativeDecimal | None = None
    land_carbon_leakage: NonNegativeDecimal | None = None
    land_management_fossil_ghg_emissions: NonNegativeDecimal | None = None
    land_management_biogenic_co2_emissions: NonNegativeDecimal | None = None
    land_management_biogenic_co2_removals: NonPositiveDecimal | None = None
    biogenic_co2_uptake: NonPositiveDecimal | None = None
    biogenic_non_co2_emissions: NonNegativeDecimal | None = None
    land_area_occupation: NonNegativeDecimal | None = None
    aircraft_ghg_emissions: NonNegativeDecimal | None = None
    packaging_emissions_included: bool | None = None
    packaging_ghg_emissions: NonNegativeDecimal | None = None
    packaging_biogenic_carbon_content: NonNegativeDecimal | None = None
    outbound_logistics_ghg_emissions: NonNegativeDecimal | None = None
    # carbon capture (ADR 46)
    ccs_technological_co2_capture_included: bool | None = None
    ccs_technological_co2_capture: NonPositiveDecimal | None = None
    technological_co2_capture_origin: str | None = None
    technological_co2_removals: NonPositiveDecimal | None = None
    ccu_carbon_content: NonNegativeDecimal | None = None
    ccu_calculation_approach: Literal["Cut-off", "Credit"] | None = None
    ccu_credit_certification: Uri | None = None
    # methodology
    ipcc_characterization_factors: NonEmptyUniqueList[IpccReport]
    cross_sectoral_standards: NonEmptyUniqueList[str]
    product_or_sector_specific_rules: NonEmptyUniqueList[ProductOrSectorSpecificRule] | None = None
    exempted_emissions_percent: PercentDecimal
    exempted_emissions_description: str | None = None
    allocation_rules_description: str | None = None
    secondary_emission_factor_sources: NonEmptyList[EmissionFactorSource] | None = None
    primary_data_share: PercentDecimal | None = None
    dqi: DataQualityIndicators | None = None
    verification: Verification | None = None


class ProductFootprint(PactModel):
    """A v3.0 ProductFootprint: immutable, so no ``version`` or ``updated`` (ADR 41)."""

    id: Uuid
    spec_version: Annotated[str, spec_version("3")]
    preceding_pf_ids: NonEmptyUniqueList[Uuid] | None = None
    created: DateTime
    status: Literal["Active", "Deprecated"]
    validity_period_start: DateTime | None = None
    validity_period_end: DateTime | None = None
    company_name: NonEmptyString
    company_ids: NonEmptyUniqueList[Urn]
    product_description: str
    product_ids: NonEmptyUniqueList[Urn]
    product_classifications: NonEmptyUniqueList[Urn] | None = None
    product_name_company: NonEmptyString
    comment: str | None = None
    pcf: CarbonFootprint
    extensions: list[DataModelExtension] | None = None
