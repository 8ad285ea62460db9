"""A PACT v3 footprint as a Catena-X PCF data model 8.0.0 document (``io.catenax.pcf:8.0.0``).

Catena-X 8.0.0 is PACT v3's field names in a flat shape with JSON numbers instead of decimal
strings, a few renamed or re-shaped members and Rulebook-v4 fields PACT does not have. What
PACT cannot supply is a keyword argument of :func:`catenax_pcf` with the Rulebook's default.
The mapping (also in ``docs/pact-host.md``):

==========================================  =================================================
Catena-X 8.0.0                              from PACT v3 (or argument)
==========================================  =================================================
specVersion                                 ``["urn:io.catenax.pcf:datamodel:version:8.0.0"]``
id, created, status, companyName,           copied
companyIds, productIds, productNameCompany,
productDescription, productClassifications,
comment, validityPeriodStart
version                                     ``0`` (Catena-X: "must be set to 0")
precedingPfIds                              ``[{"id": …}]`` (objects, not strings)
validityPeriodEnd (required)                validityPeriodEnd, else referencePeriodEnd + 3 y
partialFullPcf (required)                   ``partial_full`` (default ``Cradle-to-gate``)
retroOrProspectivePcfType (required)        ``pcf_type`` (default retrospective)
ccsTechnologicalCO2CaptureIncluded (req.)   pcf.ccsTechnologicalCO2CaptureIncluded, else false
pcfLegalStatement                           ``legal_statement``
pcf.* amounts                               the same names, decimal strings → JSON numbers
pcf.geographyRegionOrSubregion (required)   the region, else ``region``, else ``Global`` when
                                            no geography is given at all
pcf.crossSectoralStandards                  ISO14067 → "ISO 14067", GHGP-Product → "GHG
                                            Protocol Product standard", PACT-3.0 → "PACT
                                            Methodology 3.0", PAS2050 → "PAS 2050", … (open)
pcf.productOrSectorSpecificRules (req.)     the rule names (strings; ``[]`` when none)
pcf.ipccCharacterizationFactors             the newest report listed (one string), else
                                            ``unspecified``
pcf.secondaryEmissionFactorSources (req.)   ``"<name> <version>"`` strings
pcf.dataQualityRating                       dqi (numbers)
pcf.packagingPcfIncludingBiogenicUptake     packagingGhgEmissions when packaging is included,
(required)                                  else 0
pcf.carbonContentTotal                      fossilCarbonContent + biogenicCarbonContent
pcf.distributionStageIncluded (required)    ``distribution_stage_included`` (default: true
                                            when outboundLogisticsGhgEmissions is given);
                                            outboundLogisticsGhgEmissions →
                                            distributionStageFossilGhgEmissions
pcf.allocationWasteIncineration (required)  ``allocation_waste_incineration`` (``cut-off``)
pcf.massBalancingUsed (required)            ``mass_balancing_used`` (false)
==========================================  =================================================

Not mapped (outside Catena-X Rulebook v4 or without a Catena-X field): landCarbonLeakage,
landManagementFossilGhgEmissions, landAreaOccupation, ccsTechnologicalCO2Capture,
technologicalCO2CaptureOrigin, technologicalCO2Removals, the ccu* fields, and
``verification`` (Catena-X attestations need an attestation id and standard PACT lacks).
The ``megabit second`` unit has no Catena-X counterpart (it has ``megabit`` and ``second``)
and is refused.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from decimal import Decimal
from typing import Any, Literal

from openpcf.errors import InputError
from openpcf.exchange.vocabulary import UN_REGIONS, V3_UNITS, pact_decimal

SPEC_VERSION = "urn:io.catenax.pcf:datamodel:version:8.0.0"
#: Catena-X's declared units: PACT's, with "megabit second" split into two units
UNITS = frozenset({*V3_UNITS, "megabit", "second"} - {"megabit second"})
REGIONS = UN_REGIONS | {"Global", "Several"}  # Catena-X adds two values to PACT's list
PCF_TYPES = (
    "Retrospective PCF, Prospective PCF without forerunner",
    "Prospective PCF without forerunner",
    "Prospective PCF of further developed product with forerunner",
    "Prospective PCF for current product for future production date",
    "Progressive PCF",
)
WASTE_INCINERATION = ("cut-off", "reverse cut-off", "system expansion", "polluter pays principle")
_STANDARDS = {
    "ISO14067": "ISO 14067",
    "ISO14083": "ISO 14083",
    "ISO14040-44": "ISO 14040-44",
    "GHGP-Product": "GHG Protocol Product standard",
    "PEF": "PEF",
    "PAS2050": "PAS 2050",
}
#: PACT v3 pcf members copied as numbers under the same name.
_AMOUNTS = (
    "declaredUnitAmount",
    "productMassPerDeclaredUnit",
    "pcfExcludingBiogenicUptake",
    "pcfIncludingBiogenicUptake",
    "fossilGhgEmissions",
    "fossilCarbonContent",
    "biogenicCarbonContent",
    "recycledCarbonContent",
    "landUseChangeGhgEmissions",
    "landManagementBiogenicCO2Emissions",
    "landManagementBiogenicCO2Removals",
    "biogenicCO2Uptake",
    "biogenicNonCO2Emissions",
    "aircraftGhgEmissions",
    "packagingBiogenicCarbonContent",
    "exemptedEmissionsPercent",
    "primaryDataShare",
)
_TEXTS = (
    "referencePeriodStart",
    "referencePeriodEnd",
    "geographyCountry",
    "geographyCountrySubdivision",
    "boundaryProcessesDescription",
    "exemptedEmissionsDescription",
    "allocationRulesDescription",
)


class CatenaXMappingError(InputError):
    """A PACT footprint cannot be written as Catena-X PCF 8.0.0; the message says why."""


def catenax_pcf(
    document: Mapping[str, Any],
    *,
    partial_full: Literal["Cradle-to-gate", "Cradle-to-grave"] = "Cradle-to-gate",
    pcf_type: str = PCF_TYPES[0],
    region: str | None = None,
    allocation_waste_incineration: str = "cut-off",
    mass_balancing_used: bool = False,
    distribution_stage_included: bool | None = None,
    legal_statement: str | None = None,
) -> dict[str, Any]:
    """The Catena-X PCF 8.0.0 document of a PACT v3 ``document`` (see the module's table)."""
    where = f"footprint {document.get('id')}"
    if not str(document.get("specVersion", "")).startswith("3."):
        raise CatenaXMappingError(f"{where}: give a PACT v3 footprint (specVersion 3.x)")
    if pcf_type not in PCF_TYPES:
        raise CatenaXMappingError(f"{where}: pcf_type must be one of {', '.join(PCF_TYPES)}")
    if allocation_waste_incineration not in WASTE_INCINERATION:
        raise CatenaXMappingError(
            f"{where}: allocation_waste_incineration must be one of {', '.join(WASTE_INCINERATION)}"
        )
    p: Mapping[str, Any] = document["pcf"]
    out: dict[str, Any] = {"specVersion": [SPEC_VERSION], "id": document["id"]}
    for key in (
        "companyIds",
        "productIds",
        "productClassifications",
        "created",
        "companyName",
        "productNameCompany",
        "productDescription",
        "comment",
        "validityPeriodStart",
    ):
        if document.get(key) is not None:
            out[key] = document[key]
    out["version"] = 0
    out["status"] = document["status"]
    if document.get("precedingPfIds"):
        out["precedingPfIds"] = [{"id": i} for i in document["precedingPfIds"]]
    out["validityPeriodEnd"] = document.get("validityPeriodEnd") or _plus_three_years(
        p["referencePeriodEnd"], where
    )
    out["partialFullPcf"] = partial_full
    out["retroOrProspectivePcfType"] = pcf_type
    out["ccsTechnologicalCO2CaptureIncluded"] = bool(p.get("ccsTechnologicalCO2CaptureIncluded"))
    if legal_statement:
        out["pcfLegalStatement"] = legal_statement
    out["pcf"] = _pcf(
        p,
        where,
        region=region,
        waste=allocation_waste_incineration,
        mass_balancing=mass_balancing_used,
        distribution=distribution_stage_included,
    )
    return out


def _pcf(
    p: Mapping[str, Any],
    where: str,
    *,
    region: str | None,
    waste: str,
    mass_balancing: bool,
    distribution: bool | None,
) -> dict[str, Any]:
    unit = p.get("declaredUnitOfMeasurement")
    if unit not in UNITS:
        raise CatenaXMappingError(f"{where}: Catena-X 8.0.0 has no declared unit {unit!r}")
    out: dict[str, Any] = {"declaredUnitOfMeasurement": unit}
    for key in _AMOUNTS:
        if p.get(key) is not None:
            out[key] = _number(p[key], f"{where} pcf/{key}")
    if out.get("exemptedEmissionsPercent", 0) > 10:
        raise CatenaXMappingError(f"{where}: Catena-X allows at most 10 % exempted emissions")
    for key in _TEXTS:
        if p.get(key) is not None:
            out[key] = p[key]
    out["geographyRegionOrSubregion"] = _region(p, region, where)
    standards = [
        _STANDARDS.get(s, _pact_methodology(s)) for s in p.get("crossSectoralStandards", [])
    ]
    out["crossSectoralStandards"] = list(dict.fromkeys(standards))
    rules = [n for rule in p.get("productOrSectorSpecificRules") or [] for n in rule["ruleNames"]]
    out["productOrSectorSpecificRules"] = list(dict.fromkeys(rules))
    reports = sorted(p.get("ipccCharacterizationFactors") or [], key=_report_number)
    known = [r for r in reports if r in ("AR4", "AR5", "AR6")]
    out["ipccCharacterizationFactors"] = known[-1] if known else "unspecified"
    out["secondaryEmissionFactorSources"] = [
        f"{s['name']} {s['version']}".strip() for s in p.get("secondaryEmissionFactorSources") or []
    ]
    included = bool(p.get("packagingEmissionsIncluded", False))
    out["packagingEmissionsIncluded"] = included
    packaging = p.get("packagingGhgEmissions") if included else None
    out["packagingPcfIncludingBiogenicUptake"] = _number(packaging or "0", f"{where} packaging")
    if "fossilCarbonContent" in out and "biogenicCarbonContent" in out:
        out["carbonContentTotal"] = _number(
            str(Decimal(str(p["fossilCarbonContent"])) + Decimal(str(p["biogenicCarbonContent"]))),
            where,
        )
    outbound = p.get("outboundLogisticsGhgEmissions")
    out["distributionStageIncluded"] = (
        outbound is not None if distribution is None else distribution
    )
    if outbound is not None:
        out["distributionStageFossilGhgEmissions"] = _number(outbound, f"{where} outbound")
    out["allocationWasteIncineration"] = waste
    out["massBalancingUsed"] = mass_balancing
    dqi = p.get("dqi")
    if isinstance(dqi, Mapping):
        out["dataQualityRating"] = {k: _number(v, f"{where} dqi/{k}") for k, v in dqi.items()}
    return out


def _region(p: Mapping[str, Any], region: str | None, where: str) -> str:
    value = p.get("geographyRegionOrSubregion") or region
    if value is None:
        if p.get("geographyCountry") or p.get("geographyCountrySubdivision"):
            raise CatenaXMappingError(
                f"{where}: Catena-X requires geographyRegionOrSubregion; the footprint names a "
                "country only: pass region= (the UN M49 region of that country)"
            )
        value = "Global"
    if value not in REGIONS:
        raise CatenaXMappingError(f"{where}: {value!r} is not a Catena-X region")
    return str(value)


def _pact_methodology(code: str) -> str:
    match = re.fullmatch(r"PACT-(\d+\.\d+)", code)
    return f"PACT Methodology {match.group(1)}" if match else code


def _report_number(report: str) -> int:
    digits = re.sub(r"\D", "", report)
    return int(digits) if digits else 0


def _number(value: object, where: str) -> int | float:
    """A PACT decimal as a JSON number; ``"1_000"``, ``"NaN"`` or ``"1e3"`` are refused."""
    try:
        number = pact_decimal(value)
    except ValueError:
        raise CatenaXMappingError(f"{where}: {value!r} is not a PACT decimal number") from None
    return int(number) if number == number.to_integral_value() else float(number)


def _plus_three_years(end: str, where: str) -> str:
    try:
        moment = dt.datetime.fromisoformat(str(end).replace("Z", "+00:00"))
    except ValueError:
        raise CatenaXMappingError(
            f"{where}: referencePeriodEnd {end!r} is not a date-time"
        ) from None
    if moment.year + 3 > dt.MAXYEAR:  # a 9999 period: no date-time three years later
        raise CatenaXMappingError(
            f"{where}: referencePeriodEnd {end!r} is too late to add the three years of "
            "validity Catena-X needs"
        )
    try:
        later = moment.replace(year=moment.year + 3)
    except ValueError:
        later = moment.replace(year=moment.year + 3, day=28)
    return later.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
