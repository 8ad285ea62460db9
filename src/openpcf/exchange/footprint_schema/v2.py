"""The PACT v2.3 ProductFootprint, as OpenPCF checks it (Technical Specifications 2.3.3).

Clauses (anchors of the v2 specification): #dt-pf ProductFootprint, #dt-carbonfootprint
CarbonFootprint with its scope, #dt-dataqualityindicators, #dt-assurance,
#dt-datamodelextension, #dt-emissionfactords, #dt-productorsectorspecificrule,
#dt-declaredunit, #dt-percent, #dt-decimal, #dt-strictlypositivedecimal, #dt-pfid,
#dt-datetime, #dt-urn. Properties without a default are required (M); the ``O*`` properties,
required only for reference periods from 2025 on, are optional here as in the v2 OpenAPI.

Unlike v3, v2 writes percentages and DQRs as JSON numbers, and its OpenAPI document gives the
decimal properties no pattern and no sign: the dotted-decimal form and the signs below come
from the property definitions ("expressed as a decimal equal to or greater than zero").
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from openpcf.exchange.footprint_schema.base import (
    AnyDecimal,
    DataModelExtension,
    DateTime,
    EmissionFactorSource,
    Geography,
    Int32,
    IpccReport,
    NonEmptyList,
    NonEmptyString,
    NonEmptyUniqueList,
    NonNegativeDecimal,
    NonPositiveDecimal,
    PactModel,
    PositiveDecimal,
    ProductOrSectorSpecificRule,
    Urn,
    Uuid,
    spec_version,
)
from openpcf.exchange.vocabulary import V2CrossSectoralStandard, V2DeclaredUnit

#: ``declaredUnit`` (#dt-declaredunit): no ``piece`` before v3.0.
DeclaredUnit = V2DeclaredUnit
#: ``crossSectoralStandards`` (new in 2.3): a closed list in the v2 OpenAPI document. The prose
#: spells two of them differently ("GHGP Product", "PACT Methodology 3.0") and adds PAS2050;
#: ``crossSectoralStandardsUsed`` (deprecated in 2.3, still required).
CrossSectoralStandardUsed = Literal[
    "GHG Protocol Product standard", "ISO Standard 14067", "ISO Standard 14044"
]
#: #dt-percent: a JSON number from 0 to 100 (``exemptedEmissionsPercent``: the prose's cap of
#: 5 is a methodology SHOULD; the OpenAPI allows up to 100, as does OpenPCF).
Percent = Annotated[float, Field(ge=0, le=100)]
#: v2 DQRs: "a decimal between 1 and 3 including", as a JSON number.
Dqr1To3 = Annotated[float, Field(ge=1, le=3)]


class DataQualityIndicators(PactModel):
    """All six indicators are required when ``dqi`` is given."""

    coverage_percent: Percent
    technological_dqr: Dqr1To3
    temporal_dqr: Dqr1To3
    geographical_dqr: Dqr1To3
    completeness_dqr: Dqr1To3
    reliability_dqr: Dqr1To3


class Assurance(PactModel):
    """#dt-assurance: the flag and the provider are required in v2."""

    assurance: bool
    coverage: Literal["corporate level", "product line", "PCF system", "product level"] | None = (
        None
    )
    level: Literal["limited", "reasonable"] | None = None
    boundary: Literal["Gate-to-Gate", "Cradle-to-Gate"] | None = None
    provider_name: str
    completed_at: DateTime | None = None
    standard_name: str | None = None
    comments: str | None = None


class CarbonFootprint(Geography):
    """The ``pcf`` of a v2.3 footprint; amounts are per declared unit."""

    declared_unit: DeclaredUnit
    unitary_product_amount: PositiveDecimal
    product_mass_per_declared_unit: AnyDecimal | None = None
    p_cf_excluding_biogenic: NonNegativeDecimal
    p_cf_including_biogenic: AnyDecimal | None = None
    fossil_ghg_emissions: NonNegativeDecimal
    fossil_carbon_content: NonNegativeDecimal
    biogenic_carbon_content: NonNegativeDecimal
    d_luc_ghg_emissions: NonNegativeDecimal | None = None
    land_management_ghg_emissions: AnyDecimal | None = None
    other_biogenic_ghg_emissions: NonNegativeDecimal | None = None
    i_luc_ghg_emissions: NonNegativeDecimal | None = None
    biogenic_carbon_withdrawal: NonPositiveDecimal | None = None
    aircraft_ghg_emissions: NonNegativeDecimal | None = None
    characterization_factors: Literal["AR6", "AR5"]
    ipcc_characterization_factors_sources: NonEmptyUniqueList[IpccReport]
    cross_sectoral_standards_used: NonEmptyUniqueList[CrossSectoralStandardUsed]
    cross_sectoral_standards: NonEmptyUniqueList[V2CrossSectoralStandard] | None = None
    product_or_sector_specific_rules: NonEmptyUniqueList[ProductOrSectorSpecificRule] | None = None
    biogenic_accounting_methodology: Literal["PEF", "ISO", "GHGP", "Quantis"] | None = None
    boundary_processes_description: str
    reference_period_start: DateTime
    reference_period_end: DateTime
    secondary_emission_factor_sources: NonEmptyList[EmissionFactorSource] | None = None
    exempted_emissions_percent: Percent
    exempted_emissions_description: str
    packaging_emissions_included: bool
    packaging_ghg_emissions: NonNegativeDecimal | None = None
    allocation_rules_description: str | None = None
    uncertainty_assessment_description: str | None = None
    primary_data_share: Percent | None = None
    dqi: DataQualityIndicators | None = None
    assurance: Assurance | None = None


class ProductFootprint(PactModel):
    """A v2.3 ProductFootprint: versioned in place (``version``, ``updated``)."""

    id: Uuid
    spec_version: Annotated[str, spec_version("2")]
    preceding_pf_ids: NonEmptyUniqueList[Uuid] | None = None
    version: Int32
    created: DateTime
    updated: DateTime | None = None
    status: Literal["Active", "Deprecated"]
    status_comment: str | None = None
    validity_period_start: DateTime | None = None
    validity_period_end: DateTime | None = None
    company_name: NonEmptyString
    company_ids: NonEmptyUniqueList[Urn]
    product_description: str
    product_ids: NonEmptyUniqueList[Urn]
    product_classifications: NonEmptyUniqueList[Urn] | None = None
    product_category_cpc: NonEmptyString
    product_name_company: NonEmptyString
    comment: str
    pcf: CarbonFootprint
    extensions: list[DataModelExtension] | None = None
