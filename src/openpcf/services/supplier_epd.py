"""Import a supplier's EPD (ILCD+EPD, EN 15804) as a supplier footprint (origin ``epd``).

The EPD's A1-A3 climate change indicators become a PACT v3 ProductFootprint (cradle-to-gate)
for the customer's product URN, validated (:func:`~openpcf.services.suppliers.check_received`)
and stored for the organisation; a model's ``supplier_footprint: <URN>`` input then uses it.

The mapping (EN 15804+A2 clause 6.5 / Annex C names; PACT v3 fields from
``/work/shared/reference/pact/v3/openapi.yaml``), per the EPD's declared unit:

===========================  =================================================================
PACT v3 pcf field            from the EPD (A1-A3)
===========================  =================================================================
fossilGhgEmissions           GWP-fossil (EN 15804+A1: GWP, the only indicator; a negative
                             value is refused: PACT requires >= 0)
landUseChangeGhgEmissions    GWP-luluc (negative refused: PACT requires >= 0)
biogenicCO2Uptake            GWP-biogenic when < 0: under EN 15804+A2's -1/+1 convention the
                             net A1-A3 biogenic figure is the biogenic CO2 held in the product
                             at the gate, which is what PACT's "temporary CO2 uptake of
                             biomass in the product at the factory gate" means
biogenicNonCO2Emissions      GWP-biogenic when > 0: a net positive biogenic figure can only come
                             from biogenic emissions weighing more than the uptake (biogenic
                             CH4); it is counted in pcfExcludingBiogenicUptake (conservative)
pcfExcludingBiogenicUptake   fossil + luluc + biogenicNonCO2Emissions (PACT's formula)
pcfIncludingBiogenicUptake   that + biogenicCO2Uptake (= GWP-total up to rounding)
fossilCarbonContent          "0": the EPD does not declare it, PACT requires the field (said
                             so in ``comment``)
declaredUnit...              kg -> kilogram, t -> 1000 kilogram, m2, m3, l, piece, kWh, MJ
ipccCharacterizationFactors  EN 15804+A2 (EF 3.x) -> AR5, EN 15804+A1 (CML) -> AR4
crossSectoralStandards       ISO14040-44 (EN 15804 is built on ISO 14040/14044 and ISO 14025;
                             PACT's list has no EN 15804 or ISO 14025 entry)
productOrSectorSpecific...   operator "Other" = the programme operator, ruleNames = the EPD's
                             standard (EN 15804+A2 is the core PCR of construction products)
                             and its PCR
verification                 coverage "product level", providerName = the EPD's verifier,
                             standardName = "ISO 14025 / <standard>"
validityPeriodStart/End      the reference year's start / the EPD's valid-until date
extensions                   one OpenPCF extension (``urn:openpcf:extension:epd:1``: no public
                             schema exists for it) holding the EPD's UUID, registration
                             number, programme operator, verifier, valid-until, subtype, file
                             SHA-256, and ``expired`` as checked on the import day
===========================  =================================================================

Design note, identity: the footprint id is a UUID v5 of the file's SHA-256, the product URN and
the supplier, so the same EPD imported twice for the same product is the same footprint and
a no-op; the footprint's ``created`` is the EPD's data entry time stamp (or its reference year),
not the import time, for the same reason. A footprint already held under that id is never
rewritten: an EPD valid when first imported and expired by the second import stays as stored,
and the import's report says it is expired now.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from openpcf.db import repositories as repo
from openpcf.db.engine import session_scope
from openpcf.exchange.pact import decimal_string
from openpcf.exchange.supplier import EPD_EXTENSION
from openpcf.files.bounded import read_bounded
from openpcf.services.suppliers import check_received, receiving_organisation, store_received
from openpcf.suppliers.epd import MAX_BYTES, Epd, EpdError, read_epd

if TYPE_CHECKING:
    from sqlalchemy import Engine

#: namespace of the footprint ids made from EPDs
EPD_NAMESPACE = uuid.UUID("6b0e8f5e-5d7a-4f1c-9a54-0c1f2e3d4b5a")
EXTENSION_SCHEMA = EPD_EXTENSION
ORIGIN = "epd"
#: EPD declared unit -> (PACT declaredUnitOfMeasurement, factor to that unit, kg per unit)
UNITS: dict[str, tuple[str, Decimal, Decimal | None]] = {
    "kg": ("kilogram", Decimal(1), Decimal(1)),
    "t": ("kilogram", Decimal(1000), Decimal(1)),
    "m2": ("square meter", Decimal(1), None),
    "m3": ("cubic meter", Decimal(1), None),
    "l": ("liter", Decimal(1), None),
    "piece": ("piece", Decimal(1), None),
    "kWh": ("kilowatt hour", Decimal(1), None),
    "MJ": ("megajoule", Decimal(1), None),
}
#: IPCC report behind each standard's GWP characterisation (see docs/epd.md for sources)
IPCC: dict[str, str] = {"EN 15804+A2": "AR5", "EN 15804+A1": "AR4"}


@dataclass(frozen=True, slots=True, kw_only=True)
class EpdImport:
    """What one import did: the EPD, the footprint made from it, and whether it was new."""

    epd: Epd
    footprint: dict[str, Any]
    organisation: str
    new: bool

    @property
    def warnings(self) -> list[str]:
        out = []
        if self.epd.expired and self.epd.valid_until is not None:
            out.append(
                f"EPD {self.epd.registration or self.epd.uuid} expired on "
                f"{self.epd.valid_until.isoformat()} (checked on {self.epd.checked_on}); it is "
                "stored flagged, and calculations using it say so"
            )
        if self.epd.gwp_fossil is None:
            out.append(
                f"EPD {self.epd.registration or self.epd.uuid} follows "
                f"{self.epd.standard or 'EN 15804+A1'}: "
                "only GWP total is declared, the fossil/biogenic/luluc split is missing and the "
                "total is used as fossil"
            )
        return out


def import_epd(
    source: Path | bytes,
    *,
    product_id: str,
    supplier: str,
    engine: Engine,
    organisation: str | None = None,
    today: dt.date,
    declared_unit: str,
    mass_per_declared_unit: float | None = None,
    label: str | None = None,
) -> EpdImport:
    """Read the EPD ``source`` and store it as ``supplier``'s footprint of ``product_id``.

    Raises :class:`EpdError` (nothing stored) for a bad EPD, an unknown unit, a missing mass
    for a non-mass unit, a value PACT cannot hold, or a footprint that does not validate.
    """
    if isinstance(source, bytes):
        data, name = source, label or "uploaded EPD"
        if len(data) > MAX_BYTES:
            raise EpdError(f"{name}: larger than {MAX_BYTES // (1 << 20)} MiB")
    else:
        data = read_bounded(Path(source), limit=MAX_BYTES, error=EpdError)
        name = label or str(source)
    if not re.fullmatch(r"urn:[A-Za-z0-9][A-Za-z0-9-]{0,31}:\S+", product_id.strip()):
        raise EpdError(f"product id {product_id!r} is not a URN such as urn:pact:example:steel")
    if not supplier.strip():
        raise EpdError("the supplier (company name) is empty")
    epd = read_epd(data, label=name, today=today, declared_unit=declared_unit)
    doc = footprint(
        epd,
        product_id=product_id.strip(),
        supplier=supplier.strip(),
        label=name,
        mass_per_declared_unit=mass_per_declared_unit,
    )
    problems = check_received(doc, version="3")
    if problems:
        raise EpdError(
            f"{name}: the footprint made from it is not valid PACT v3: " + "; ".join(problems)
        )
    with session_scope(engine, write=True) as session:
        org = receiving_organisation(session, name=organisation)
        held = repo.find_supplier_footprints(session, ref=doc["id"], organisation=org)
        if held:
            return EpdImport(
                epd=epd, footprint=dict(held[0].document), organisation=org.name, new=False
            )
        stored = store_received(
            session, organisation=org, documents=[doc], origin=ORIGIN, source=Path(name).name
        )
        return EpdImport(epd=epd, footprint=doc, organisation=org.name, new=bool(stored.new))


def footprint(
    epd: Epd,
    *,
    product_id: str,
    supplier: str,
    label: str,
    mass_per_declared_unit: float | None = None,
) -> dict[str, Any]:
    """The PACT v3 ProductFootprint of ``epd``'s A1-A3 (see the module's mapping table)."""
    if epd.declared_unit not in UNITS:
        raise EpdError(
            f"{label}: declared unit {epd.declared_unit!r} is not one of {', '.join(UNITS)}"
        )
    pact_unit, factor, kg_per_unit = UNITS[epd.declared_unit]
    amount = Decimal(repr(epd.declared_amount)) * factor
    if kg_per_unit is not None:
        mass = amount * kg_per_unit
    elif mass_per_declared_unit is not None and mass_per_declared_unit >= 0:
        mass = Decimal(repr(mass_per_declared_unit))
    else:
        raise EpdError(
            f"{label}: the declared unit is {epd.declared_amount:g} "
            f"{epd.declared_unit}; give its mass in kg (--mass-kg), which PACT "
            "requires and the EPD file does not carry"
        )
    where = f"{label}: /processDataSet/LCIAResults"
    a1 = epd.gwp_fossil is None
    fossil = epd.gwp_total if a1 else epd.gwp_fossil
    assert fossil is not None
    luluc = epd.gwp_luluc or 0.0
    biogenic = epd.gwp_biogenic or 0.0
    for what, value in (("GWP-fossil" if not a1 else "GWP", fossil), ("GWP-luluc", luluc)):
        if value < 0:
            raise EpdError(
                f"{where}: A1-A3 {what} {value:g} is negative; a PACT footprint "
                "holds fossil and land-use change emissions as >= 0"
            )
    uptake = min(biogenic, 0.0)
    bio_non_co2 = max(biogenic, 0.0)
    excluding = fossil + luluc + bio_non_co2
    standard = epd.standard or "EN 15804"
    year = epd.reference_year or (epd.valid_until.year - 5 if epd.valid_until else None)
    if year is None:
        raise EpdError(
            f"{label}: /processDataSet/processInformation/time/common:referenceYear:"
            " missing, and PACT needs a reference period"
        )
    pf_id = uuid.uuid5(EPD_NAMESPACE, f"{epd.sha256}|{product_id.lower()}|{supplier}")
    ref = epd.registration or epd.uuid
    comment = (
        f"From the EPD {ref} ({standard}, {epd.subtype or 'subtype not stated'} data set, "
        f"programme operator {epd.program_operator or 'not stated'}, verified by "
        f"{epd.verifier or 'no verifier stated'}, valid until "
        f"{epd.valid_until or 'not stated'}); modules {epd.modules} (product stage, "
        f"cradle-to-gate); ILCD data set {epd.uuid}, file SHA-256 {epd.sha256}. "
        "fossilCarbonContent is not declared by the EPD and written as 0."
        + (
            " EN 15804+A1 declares GWP only: the total is used as fossil emissions, the "
            "fossil/biogenic/luluc split is missing."
            if a1
            else ""
        )
    )
    pcf: dict[str, Any] = {
        "declaredUnitOfMeasurement": pact_unit,
        "declaredUnitAmount": decimal_string(amount),
        "productMassPerDeclaredUnit": decimal_string(mass),
        "referencePeriodStart": f"{year}-01-01T00:00:00Z",
        "referencePeriodEnd": f"{year + 1}-01-01T00:00:00Z",
        "boundaryProcessesDescription": (
            f"EN 15804 product stage, modules A1-A3 (raw material supply, transport, "
            f"manufacturing), as declared in EPD {ref}"
        ),
        "pcfExcludingBiogenicUptake": decimal_string(excluding),
        "pcfIncludingBiogenicUptake": decimal_string(excluding + uptake),
        "fossilGhgEmissions": decimal_string(fossil),
        "fossilCarbonContent": "0",
        "landUseChangeGhgEmissions": decimal_string(luluc),
        "biogenicCO2Uptake": decimal_string(uptake),
        "biogenicNonCO2Emissions": decimal_string(bio_non_co2),
        "ipccCharacterizationFactors": [IPCC.get(standard, "AR5")],
        "crossSectoralStandards": ["ISO14040-44"],
        "productOrSectorSpecificRules": [
            {
                "operator": "Other",
                "otherOperatorName": epd.program_operator or "EPD programme operator not stated",
                "ruleNames": list(dict.fromkeys(r for r in (standard, epd.pcr) if r)),
            }
        ],
        "exemptedEmissionsPercent": "0",
    }
    if re.fullmatch(r"[A-Z]{2}", epd.geography):
        pcf["geographyCountry"] = epd.geography
    if epd.verifier:
        pcf["verification"] = {
            "coverage": "product level",
            "providerName": epd.verifier,
            "standardName": f"ISO 14025 / {standard}",
        }
    doc: dict[str, Any] = {
        "id": str(pf_id),
        "specVersion": "3.0.0",
        "created": f"{year}-01-01T00:00:00Z",
        "status": "Active",
        "companyName": supplier,
        "companyIds": [f"urn:openpcf:company:{_slug(supplier)}"],
        "productDescription": epd.name,
        "productIds": [product_id],
        "productNameCompany": epd.name,
        "comment": comment,
        "pcf": pcf,
        "extensions": [
            {
                "specVersion": "2.0.0",
                "dataSchema": EXTENSION_SCHEMA,
                "data": {
                    "epdUuid": epd.uuid,
                    "registrationNumber": epd.registration,
                    "programOperator": epd.program_operator,
                    "verifier": epd.verifier,
                    "standard": standard,
                    "subtype": epd.subtype,
                    "modules": epd.modules,
                    "validUntil": epd.valid_until.isoformat() if epd.valid_until else None,
                    "expired": epd.expired,
                    "gwpTotal": decimal_string(epd.gwp_total),
                    "fileSha256": epd.sha256,
                },
            }
        ],
    }
    if epd.valid_until is not None:
        doc["validityPeriodStart"] = f"{year}-01-01T00:00:00Z"
        end = epd.valid_until + dt.timedelta(days=1)
        doc["validityPeriodEnd"] = f"{end.isoformat()}T00:00:00Z"
    return doc


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") or "unknown"
