"""PACT v2.3 as a view of a PACT v3 footprint: the one v3 → v2.3 mapping.

Storage keeps one document per footprint, the v3 document as published; the host's ``/2``
routes and ``openpcf calc --format pact --pact-version 2`` both serve :func:`v2_view` of it.
The mapping (also in ``docs/pact-host.md``):

====================================  =========================================================
v2.3                                  from v3
====================================  =========================================================
specVersion                           ``"2.3.0"``
version, updated                      ``1`` for an Active footprint; a Deprecated one is at
                                      ``2`` with ``updated`` = when it was deprecated (the v2
                                      lifecycle bumps the version on deprecation)
comment                               ``comment`` or ``""`` (mandatory in v2)
productCategoryCpc                    the product's CPC code, else the code of a
                                      ``urn:cpc:<code>`` / ``…:un-cpc:<code>`` /
                                      ``…:cpc:<code>`` classification
pcf.declaredUnit, unitaryProductAmount  declaredUnitOfMeasurement, declaredUnitAmount
pCfExcludingBiogenic / Including      pcfExcludingBiogenicUptake / pcfIncludingBiogenicUptake
dLucGhgEmissions                      landUseChangeGhgEmissions
landManagementGhgEmissions            landManagementBiogenicCO2Emissions +
                                      landManagementBiogenicCO2Removals
otherBiogenicGhgEmissions             biogenicNonCO2Emissions
biogenicCarbonWithdrawal              biogenicCO2Uptake
biogenicCarbonContent                 biogenicCarbonContent, ``"0"`` when undefined (as the
                                      OpenPCF v2 export does)
characterizationFactors               ``AR6`` if listed in ipccCharacterizationFactors, else
                                      ``AR5``
ipccCharacterizationFactorsSources    ipccCharacterizationFactors
crossSectoralStandardsUsed            ISO14067 → "ISO Standard 14067", GHGP-Product → "GHG
                                      Protocol Product standard", ISO14040-44 → "ISO Standard
                                      14044"
crossSectoralStandards                the values v2.3's enum knows (PAS2050 is dropped)
exemptedEmissionsPercent,             JSON numbers (v3: decimal strings)
primaryDataShare
assurance                             verification, when it names a provider (``assurance:
                                      true``; coverage "PCF calculation model" → "PCF system",
                                      "product level" → "product level", "PCF program" →
                                      left out)
packagingEmissionsIncluded,           as in v3 (``false`` and ``""`` when undefined)
boundaryProcessesDescription,
exemptedEmissionsDescription
everything else that v2.3 has         copied unchanged
====================================  =========================================================

**Cannot be mapped** (:class:`NotMappableError`, the footprint is not offered on ``/2``):
a declared unit v2.3 lacks (``piece``, ``hour``, ``megabit second``); no CPC code; no AR5 or
AR6 characterisation; no cross-sectoral standard v2.3's ``crossSectoralStandardsUsed`` knows.
**Dropped** (v2.3 has no field): recycledCarbonContent, landCarbonLeakage,
landManagementFossilGhgEmissions, landAreaOccupation, outboundLogisticsGhgEmissions,
packagingBiogenicCarbonContent, the CCS/CCU/technological-removal fields, and ``dqi`` (v2
needs six 1–3 ratings, v3 gives three 1–5 ratings).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any, get_args

from openpcf.errors import InputError
from openpcf.exchange.vocabulary import V2_UNITS, V2CrossSectoralStandard

SPEC_VERSION = "2.3.0"
_STANDARDS_USED = {
    "ISO14067": "ISO Standard 14067",
    "GHGP-Product": "GHG Protocol Product standard",
    "ISO14040-44": "ISO Standard 14044",
}
_V2_STANDARDS = get_args(V2CrossSectoralStandard)
_COVERAGE = {"PCF calculation model": "PCF system", "product level": "product level"}
_RENAMED = {
    "declaredUnitOfMeasurement": "declaredUnit",
    "declaredUnitAmount": "unitaryProductAmount",
    "pcfExcludingBiogenicUptake": "pCfExcludingBiogenic",
    "pcfIncludingBiogenicUptake": "pCfIncludingBiogenic",
    "landUseChangeGhgEmissions": "dLucGhgEmissions",
    "biogenicNonCO2Emissions": "otherBiogenicGhgEmissions",
    "biogenicCO2Uptake": "biogenicCarbonWithdrawal",
    "ipccCharacterizationFactors": "ipccCharacterizationFactorsSources",
}
_COPIED = (
    "productMassPerDeclaredUnit",
    "referencePeriodStart",
    "referencePeriodEnd",
    "geographyRegionOrSubregion",
    "geographyCountry",
    "geographyCountrySubdivision",
    "fossilGhgEmissions",
    "fossilCarbonContent",
    "aircraftGhgEmissions",
    "productOrSectorSpecificRules",
    "secondaryEmissionFactorSources",
    "allocationRulesDescription",
)
_CPC_URN = re.compile(r"^urn:(?:cpc|.*:(?:un-)?cpc):(?:[a-z0-9.-]*:)?(\d[\d.]*)$", re.IGNORECASE)


class NotMappableError(InputError):
    """A v3 footprint cannot be expressed in PACT v2.3; the message says why."""


def v2_view(
    document: Mapping[str, Any],
    *,
    cpc: str | None = None,
    deprecated_at: dt.datetime | None = None,
) -> dict[str, Any]:
    """The v2.3 ProductFootprint of a v3 ``document`` (see the module's table).

    ``cpc`` is the product's UN CPC code, if the data owner recorded one; ``deprecated_at``
    when the footprint was deprecated. Raises :class:`NotMappableError`.
    """
    v3pcf: Mapping[str, Any] = document["pcf"]
    why: list[str] = []
    unit = v3pcf.get("declaredUnitOfMeasurement")
    if unit not in V2_UNITS:
        why.append(f"declared unit {unit!r} does not exist in v2.3")
    code = _cpc(cpc, document.get("productClassifications") or [])
    if code is None:
        why.append("no UN CPC code (productCategoryCpc is mandatory in v2.3)")
    reports = list(v3pcf.get("ipccCharacterizationFactors") or [])
    factors = "AR6" if "AR6" in reports else "AR5" if "AR5" in reports else None
    if factors is None:
        why.append("characterizationFactors must be AR5 or AR6 in v2.3")
    standards = list(v3pcf.get("crossSectoralStandards") or [])
    used = list(dict.fromkeys(_STANDARDS_USED[s] for s in standards if s in _STANDARDS_USED))
    if not used:
        why.append(
            "no standard v2.3's crossSectoralStandardsUsed knows (ISO 14067, GHG "
            "Protocol Product, ISO 14044)"
        )
    if why:
        raise NotMappableError(f"footprint {document.get('id')}: {'; '.join(why)}")
    return {
        **_header(document, code or "", deprecated_at),
        "pcf": _pcf(v3pcf, factors or "", used, standards),
    }


def _header(doc: Mapping[str, Any], cpc: str, deprecated_at: dt.datetime | None) -> dict[str, Any]:
    out: dict[str, Any] = {"id": doc["id"], "specVersion": SPEC_VERSION}
    if doc.get("precedingPfIds"):
        out["precedingPfIds"] = list(doc["precedingPfIds"])
    deprecated = doc.get("status") == "Deprecated"
    out["version"] = 2 if deprecated else 1
    out["created"] = doc["created"]
    if deprecated and deprecated_at is not None:
        created = dt.datetime.fromisoformat(str(doc["created"]))
        moment = max(deprecated_at, created + dt.timedelta(seconds=1))
        out["updated"] = moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    out["status"] = doc["status"]
    for key in (
        "validityPeriodStart",
        "validityPeriodEnd",
        "companyName",
        "companyIds",
        "productDescription",
        "productIds",
        "productClassifications",
    ):
        if doc.get(key) is not None:
            out[key] = doc[key]
    out["productCategoryCpc"] = cpc
    out["productNameCompany"] = doc["productNameCompany"]
    out["comment"] = doc.get("comment") or ""
    if doc.get("extensions"):
        out["extensions"] = doc["extensions"]
    return out


def _pcf(
    p: Mapping[str, Any], factors: str, used: list[str], standards: list[str]
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for v3, v2 in _RENAMED.items():
        if p.get(v3) is not None:
            out[v2] = p[v3]
    for key in _COPIED:
        if p.get(key) is not None:
            out[key] = p[key]
    out["biogenicCarbonContent"] = p.get("biogenicCarbonContent") or "0"
    management = [
        p.get(k)
        for k in ("landManagementBiogenicCO2Emissions", "landManagementBiogenicCO2Removals")
    ]
    if any(v is not None for v in management):
        out["landManagementGhgEmissions"] = _plain(sum((_dec(v) for v in management), Decimal()))
    out["characterizationFactors"] = factors
    out["crossSectoralStandardsUsed"] = used
    known = [s for s in standards if s in _V2_STANDARDS]
    if known:
        out["crossSectoralStandards"] = known
    out["boundaryProcessesDescription"] = p.get("boundaryProcessesDescription") or ""
    out["exemptedEmissionsPercent"] = _number(p.get("exemptedEmissionsPercent", "0"))
    out["exemptedEmissionsDescription"] = p.get("exemptedEmissionsDescription") or ""
    included = bool(p.get("packagingEmissionsIncluded", False))
    out["packagingEmissionsIncluded"] = included
    if included and p.get("packagingGhgEmissions") is not None:
        out["packagingGhgEmissions"] = p["packagingGhgEmissions"]
    if p.get("primaryDataShare") is not None:
        out["primaryDataShare"] = _number(p["primaryDataShare"])
    verification = p.get("verification")
    if isinstance(verification, Mapping) and verification.get("providerName"):
        assurance: dict[str, Any] = {
            "assurance": True,
            "providerName": verification["providerName"],
        }
        if verification.get("coverage") in _COVERAGE:
            assurance["coverage"] = _COVERAGE[verification["coverage"]]
        for key in ("completedAt", "standardName", "comments"):
            if verification.get(key):
                assurance[key] = verification[key]
        out["assurance"] = assurance
    return out


def _cpc(known: str | None, classifications: list[str]) -> str | None:
    if known and re.sub(r"[\s.]", "", known).isdigit():
        return re.sub(r"[\s.]", "", known)
    for urn in classifications:
        match = _CPC_URN.match(str(urn))
        if match:
            return match.group(1).replace(".", "")
    return None


def _dec(value: object) -> Decimal:
    try:
        return Decimal(str(value)) if value is not None else Decimal()
    except InvalidOperation:
        return Decimal()


def _plain(value: Decimal) -> str:
    text = format(value, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def _number(value: object) -> int | float:
    number = _dec(value)
    return int(number) if number == number.to_integral_value() else float(number)
