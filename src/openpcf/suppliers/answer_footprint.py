"""A checked questionnaire answer as a PACT v3.0 ProductFootprint (a supplier footprint).

The document follows :mod:`openpcf.exchange.pact`'s conventions (decimal strings through
:func:`~openpcf.exchange.pact.decimal_string`, optional properties left out rather than
``null``). Field by field:

===============================  ==============================================================
PACT v3                          from the answer
===============================  ==============================================================
companyName, companyIds          the supplier's company name; its URN if given, else
                                 ``urn:uuid:<uuid5 of the supplier name>`` (stable per name)
productIds                       the request's material if it is a URN (so a model's
                                 ``supplier_footprint: <that URN>`` finds it), else
                                 ``urn:openpcf:supplier-request:<request id>``; plus the
                                 supplier's own product URN when given
productNameCompany,              the supplier's product name
productDescription
declaredUnitOfMeasurement        the declared unit; ``declaredUnitAmount`` is ``"1"`` (the
                                 questionnaire asks per one declared unit)
productMassPerDeclaredUnit       as answered (``"1"`` for a footprint per kilogram)
referencePeriodStart/End         the period, UTC; PACT's end is exclusive: the day after
geographyCountry / -Subdivision  the production geography (ISO 3166-1 or -2)
pcfExcludingBiogenicUptake       the total (fossil + biogenic non-CO2 + land-use change)
pcfIncludingBiogenicUptake       the total minus the biogenic CO2 removals
fossilGhgEmissions               fossil GHG emissions
biogenicNonCO2Emissions          biogenic non-CO2 GHG emissions
landUseChangeGhgEmissions        land-use change emissions
biogenicCO2Uptake                minus the biogenic CO2 removals (PACT: ≤ 0)
fossilCarbonContent              ``"0"``: not asked (the questionnaire asks no carbon content);
                                 the comment says so
ipccCharacterizationFactors      the IPCC report of the GWP values (AR6 / AR5)
crossSectoralStandards           ISO 14067 → ``ISO14067``, PACT → ``PACT-3.0``, GB/T 24067
                                 and other standards by their name (the v3 list is open)
exemptedEmissionsPercent         as answered (``"0"`` when left empty; the comment says so)
primaryDataShare                 as answered
verification                     coverage ``product level``, verifier, date, standard; the
                                 level of assurance in ``comments``
===============================  ==============================================================

What PACT v3 has no field for goes into one data model extension (``extensions``, schema
:data:`EXTENSION_SCHEMA`): the request id and template version, the process emissions, the
recycled and scrap content (pre- and post-consumer, % of mass; PACT's
``recycledCarbonContent`` is carbon mass, not a share of the material), and the electricity
rows (source, region, kWh, certificate or contract id, period). ``comment`` repeats them in
words for a reader without the extension.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from typing import Any

from openpcf.exchange.pact import SPEC_VERSIONS, decimal_string
from openpcf.suppliers.answers import SupplierAnswer
from openpcf.suppliers.template import STANDARD_CODES

#: ``dataSchema`` of the extension (a URN: OpenPCF publishes no JSON schema URL for it yet;
#: its members are documented in docs/questionnaires.md)
EXTENSION_SCHEMA = "urn:openpcf:extension:questionnaire-answer:1"
EXTENSION_VERSION = "1.0.0"
_URN = re.compile(r"^[uU][rR][nN]:\S+$")
_SUPPLIER_NAMESPACE = uuid.UUID("6f0b6a53-8d0e-4d55-9d0b-1c1a4f5e8a11")


def request_product_id(material: str, request_id: uuid.UUID) -> str:
    """The product id a request's answer is stored under (see the module docstring)."""
    if _URN.match(material.strip()):
        return material.strip()
    return f"urn:openpcf:supplier-request:{request_id}"


def answer_footprint(
    answer: SupplierAnswer,
    *,
    material: str,
    footprint_id: uuid.UUID,
    created: dt.datetime,
) -> dict[str, Any]:
    """The PACT v3.0 ProductFootprint of ``answer`` to the request for ``material``."""
    a = answer
    pcf: dict[str, Any] = {
        "declaredUnitOfMeasurement": a.declared_unit,
        "declaredUnitAmount": "1",
        "productMassPerDeclaredUnit": decimal_string(
            a.mass_per_declared_unit if a.mass_per_declared_unit is not None else 1.0
        ),
        "referencePeriodStart": _day(a.period_start),
        "referencePeriodEnd": _day(a.period_end + dt.timedelta(days=1)),
        **_geography(a.geography),
        "boundaryProcessesDescription": (
            f"{a.boundary}: {a.boundary_description}" if a.boundary_description else a.boundary
        )
        + " (supplier questionnaire answer)",
        "pcfExcludingBiogenicUptake": decimal_string(a.pcf_total),
        "pcfIncludingBiogenicUptake": decimal_string(a.pcf_total - a.removals),
        "fossilGhgEmissions": decimal_string(a.fossil),
        "fossilCarbonContent": "0",
        "landUseChangeGhgEmissions": decimal_string(a.luc),
        "biogenicCO2Uptake": decimal_string(-a.removals),
        "biogenicNonCO2Emissions": decimal_string(a.biogenic),
        "ipccCharacterizationFactors": [a.gwp],
        "crossSectoralStandards": [_standard(a)],
        "exemptedEmissionsPercent": decimal_string(a.exempted or 0.0, 4),
        "primaryDataShare": decimal_string(a.primary_share, 2),
    }
    if a.verification is not None:
        v = a.verification
        verification: dict[str, Any] = {
            "coverage": "product level",
            "providerName": v.verifier,
            "completedAt": _day(v.date),
        }
        if v.standard:
            verification["standardName"] = v.standard
        if v.assurance:
            verification["comments"] = f"level of assurance: {v.assurance}"
        pcf["verification"] = verification
    product_ids = [request_product_id(material, a.request_id)]
    if a.product_id and a.product_id not in product_ids:
        product_ids.append(a.product_id)
    return {
        "id": str(footprint_id),
        "specVersion": SPEC_VERSIONS["3"],
        "created": created.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "status": "Active",
        "companyName": a.company_name,
        "companyIds": [a.company_id or supplier_urn(a.company_name)],
        "productDescription": a.product_name,
        "productIds": product_ids,
        "productNameCompany": a.product_name,
        "comment": _comment(a),
        "pcf": pcf,
        "extensions": [
            {
                "specVersion": EXTENSION_VERSION,
                "dataSchema": EXTENSION_SCHEMA,
                "data": _extension(a),
            }
        ],
    }


def supplier_urn(name: str) -> str:
    """A stable URN for a supplier that gave no company id: a UUID of its name."""
    return f"urn:uuid:{uuid.uuid5(_SUPPLIER_NAMESPACE, ' '.join(name.split()).casefold())}"


def _standard(a: SupplierAnswer) -> str:
    return a.standard_other if a.standard == "other" else STANDARD_CODES[a.standard]


def _day(day: dt.date) -> str:
    return f"{day.isoformat()}T00:00:00Z"


def _geography(code: str) -> dict[str, str]:
    return {"geographyCountrySubdivision" if "-" in code else "geographyCountry": code}


def _percent(x: float | None) -> str | None:
    return None if x is None else decimal_string(x, 4)


def _extension(a: SupplierAnswer) -> dict[str, Any]:
    data: dict[str, Any] = {
        "requestId": str(a.request_id),
        "templateVersion": a.template_version,
        "standardAsAnswered": a.standard_other if a.standard == "other" else a.standard,
    }
    if a.process is not None:
        data["processEmissions"] = decimal_string(a.process)
    recycled = {
        k: v
        for k, v in (
            ("preConsumerPercent", _percent(a.recycled_pre)),
            ("postConsumerPercent", _percent(a.recycled_post)),
        )
        if v is not None
    }
    if recycled:
        data["recycledContent"] = recycled
    if a.electricity:
        data["electricity"] = [
            {
                "sourceType": e.source,
                "region": e.region,
                "kWh": decimal_string(e.kwh, 4),
                **({"certificateId": e.certificate} if e.certificate else {}),
                **({"periodStart": e.start.isoformat()} if e.start else {}),
                **({"periodEnd": e.end.isoformat()} if e.end else {}),
            }
            for e in a.electricity
        ]
    return data


def _comment(a: SupplierAnswer) -> str:
    parts = [
        f"Answer of {a.company_name} to OpenPCF supplier request {a.request_id} (questionnaire "
        f"template {a.template_version}, file {a.name}). Fossil carbon content was not asked "
        "and is given as 0."
    ]
    if a.exempted is None:
        parts.append("The supplier left the exempted share empty; it is given as 0.")
    if a.process is not None:
        parts.append(f"Process emissions (part of fossil): {decimal_string(a.process)} kg CO2e.")
    if a.recycled_pre is not None or a.recycled_post is not None:
        parts.append(
            "Recycled/scrap content: pre-consumer "
            f"{_percent(a.recycled_pre) or 'not stated'} %, post-consumer "
            f"{_percent(a.recycled_post) or 'not stated'} % of mass."
        )
    if a.electricity:
        total = sum(e.kwh for e in a.electricity)
        parts.append(
            f"Electricity: {len(a.electricity)} source(s), {decimal_string(total, 4)} kWh in "
            "all; details in the extension."
        )
    return " ".join(parts)
