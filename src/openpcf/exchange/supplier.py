"""A supplier's PACT ProductFootprint as an emission factor (primary data).

A model input ``supplier_footprint: <ref>`` brings a purchased product's footprint into the
calculation. The compiler calls :func:`supplier_factor`, which turns the footprint into a
:class:`~openpcf.factors.schema.Factor` per **one** declared unit (PACT amounts are per
``declaredUnitAmount`` units, so every amount is divided by it), in kilograms of OpenPCF gas
flows:

=====================================================  =================================
PACT v3 (v2.3)                                         OpenPCF gas
=====================================================  =================================
fossilGhgEmissions + biogenicNonCO2Emissions            ``CO2e`` (already characterised
(otherBiogenicGhgEmissions) + landManagement-           by the supplier with the GWP set
BiogenicCO2Emissions (landManagementGhgEmissions)       in ``gwp_basis``)
landUseChangeGhgEmissions (dLucGhgEmissions)            ``CO2-luc``
biogenicCO2Uptake (biogenicCarbonWithdrawal), ≤ 0       ``CO2-uptake``, as a positive mass
=====================================================  =================================

so that the factor reproduces the supplier's ``pcfExcludingBiogenicUptake`` (v3 formula) and
``pcfIncludingBiogenicUptake``. The row is a :class:`~openpcf.model.compiler.StatedFactor`:
a factor row with what the supplier states about its data, its primary data share and DQRs
(:mod:`openpcf.exchange.supplier_quality`) and the biogenic non-CO2 part of the ``CO2e`` flow,
which the result counts as biogenic, not fossil.
Land-management, CCS and technological *removals* are not imported yet: a footprint that
reports them non-zero is refused rather than overstated.

References: ``ref`` is a path to a JSON file (relative to the model file's folder),
optionally ``path#<footprint id>``; the file holds one ProductFootprint (v3 or v2.3), a
GetFootprint response ``{"data": {...}}`` or a ListFootprints response ``{"data": [...]}``.
A footprint id (UUID) or a product URN (``urn:...``) names a footprint *received* over PACT;
it is looked up in a :class:`ReceivedFootprints` store the caller passes in. The domain knows
only that interface: the store in use (the database, per organisation) belongs to the services
layer (:class:`openpcf.services.suppliers.SupplierStore`), wired by the calculate service.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any, Protocol

from openpcf.core.units import PACT_UNITS
from openpcf.exchange.errors import SupplierFootprintError
from openpcf.exchange.supplier_quality import stated_pedigree, stated_primary_share
from openpcf.exchange.vocabulary import pact_decimal
from openpcf.files import jsonfile
from openpcf.files.bounded import read_bounded
from openpcf.model.compiler import StatedFactor

#: ``Factor.set_name`` of supplier factors (they are primary data, not a secondary set).
SUPPLIER_SET = "supplier"
LICENCE = "supplier data, shared under PACT"
#: PACT v3 declared units pint can read, beyond the ones the model language itself allows.
UNITS: dict[str, str] = {**PACT_UNITS, "hour": "hour"}
_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.I)
#: What to do when a received footprint is missing.
#: The data model extension of a footprint made from an EPD (openpcf.services.supplier_epd):
#: its ``data`` says which EPD, valid until when, and whether it had expired when imported.
EPD_EXTENSION = "urn:openpcf:extension:epd:1"
RECEIVE_HINT = (
    "pull them with `openpcf pact pull URL --client-id ... --client-secret ...`, ask with "
    "`openpcf pact request`, or import a file with `openpcf pact import FILE.json`"
)


def names_received(ref: str) -> bool:
    """Whether ``ref`` names a received footprint (a footprint id or a product URN)."""
    return bool(_UUID.match(ref)) or ref.lower().startswith("urn:")


@dataclass(frozen=True, slots=True)
class ReceivedFootprint:
    """A footprint received over PACT, and a label saying where it is held (for notes)."""

    document: Mapping[str, Any]
    label: str


class ReceivedFootprints(Protocol):
    """Where received supplier footprints are looked up by footprint id or product URN."""

    def find(self, ref: str, /) -> ReceivedFootprint:
        """The footprint ``ref`` names; for a URN the Active one, then the newest.

        Raises :class:`SupplierFootprintError` when none matches.
        """
        ...


def supplier_factor(
    ref: str, *, base: Path, store: ReceivedFootprints | None = None
) -> StatedFactor:
    """The emission factor per one declared unit of the supplier footprint ``ref`` points to,
    with the supplier's primary data share, DQRs and biogenic non-CO2 part.

    Parameters
    ----------
    ref
        ``path/to/footprint.json`` or ``path/to/footprints.json#<footprint id>``, relative to
        ``base`` unless absolute.
    base
        Folder of the model file.
    store
        The footprints received over PACT (pulled, answered to our requests, imported),
        where a footprint id (UUID) or a product URN is looked up; without it such references
        are refused.

    Raises
    ------
    SupplierFootprintError
        Missing or unreadable file, malformed JSON (with line and column), no or several
        footprints without ``#id``, an unknown ``#id``, missing or non-numeric pcf fields,
        amounts with the wrong sign, unsupported units or removals, and references that are
        not file paths.
    """
    text = ref.strip()
    if not text:
        raise SupplierFootprintError(
            "supplier_footprint is empty: give the path of a supplier's PACT footprint JSON"
        )
    if names_received(text):
        if store is None:
            raise SupplierFootprintError(
                f"supplier_footprint {ref!r}: no PACT store to look received footprints up in "
                f"(calculate with the user's settings); {RECEIVE_HINT}"
            )
        found = store.find(text)
        return _to_factor(found.document, found.label)
    if _looks_like_path(text):
        return _from_file(text, base)
    raise SupplierFootprintError(
        f"supplier_footprint {ref!r}: give a path to a footprint JSON (e.g. suppliers/steel.json "
        "or suppliers/list.json#<footprint id>), a footprint id or a product URN"
    )


def _looks_like_path(ref: str) -> bool:
    return not re.match(r"^(urn:|[a-z][a-z0-9+.-]*://)", ref, flags=re.IGNORECASE)


# --------------------------------------------------------------------------------------------
# reading and selecting


def _from_file(ref: str, base: Path) -> StatedFactor:
    file_part, _, wanted = ref.partition("#")
    path = Path(file_part)
    if not path.is_absolute():
        path = Path(base) / path
    label = str(path)
    if not path.exists():
        raise SupplierFootprintError(
            f"supplier footprint file {label} does not exist (supplier_footprint {ref!r} is "
            f"read relative to the model's folder {base}); check the path"
        )
    # bounded read and parse (issue 11, items 6 and 12): /dev/zero or a 100,000-deep array
    # is refused, not read until memory runs out or parsed into a RecursionError
    data = read_bounded(path, error=SupplierFootprintError)
    try:
        doc = jsonfile.loads(data)
    except json.JSONDecodeError as e:
        raise SupplierFootprintError(
            f"{label}:{e.lineno}:{e.colno}: not valid JSON ({e.msg}); a supplier footprint must "
            "be a PACT ProductFootprint JSON document"
        ) from None
    except ValueError as e:
        raise SupplierFootprintError(
            f"supplier footprint file {label} cannot be read: {e}"
        ) from None
    footprint = _select(doc, wanted.strip(), label)
    return _to_factor(footprint, label)


def _select(doc: Any, wanted: str, label: str) -> Mapping[str, Any]:
    if isinstance(doc, dict) and "data" in doc and "pcf" not in doc:
        doc = doc["data"]
    candidates = doc if isinstance(doc, list) else [doc]
    footprints = [c for c in candidates if isinstance(c, dict)]
    if len(footprints) != len(candidates) or not footprints:
        raise SupplierFootprintError(
            f'{label}: expected a PACT ProductFootprint object, a {{"data": footprint}} or a '
            f'{{"data": [footprints]}} response, found {_kind(doc)}'
        )
    ids = [str(f.get("id", "")) for f in footprints]
    if wanted:
        hits = [f for f, i in zip(footprints, ids, strict=True) if i.lower() == wanted.lower()]
        if not hits:
            raise SupplierFootprintError(
                f"{label}: no footprint with id {wanted!r} (the file has: {', '.join(ids)})"
            )
        return hits[0]
    if len(footprints) > 1:
        raise SupplierFootprintError(
            f"{label}: the file holds {len(footprints)} footprints; pick one by appending "
            f"'#<footprint id>' to the path (ids: {', '.join(ids)})"
        )
    return footprints[0]


def _kind(value: Any) -> str:
    if isinstance(value, list):
        return "an empty list" if not value else "a list of non-objects"
    return f"a JSON {type(value).__name__}"


# --------------------------------------------------------------------------------------------
# conversion


class _Reader:
    """Typed access to one footprint's fields with errors that name file and field."""

    def __init__(self, footprint: Mapping[str, Any], label: str) -> None:
        self.fp = footprint
        self.label = label
        pcf = footprint.get("pcf")
        fid = footprint.get("id")
        if not isinstance(fid, str) or not fid.strip():
            raise SupplierFootprintError(f"{label}: footprint has no 'id' (a UUID string)")
        self.id = fid.strip()
        self.where = f"{label} (footprint {self.id})"
        if not isinstance(pcf, dict):
            raise SupplierFootprintError(
                f"{self.where}: missing 'pcf' (the CarbonFootprint object)"
            )
        self.pcf: Mapping[str, Any] = pcf
        spec = str(footprint.get("specVersion") or "")
        if spec.startswith("2") or (not spec and "declaredUnit" in pcf):
            self.version = "2"
        else:
            self.version = "3"
        self.spec = spec or f"{self.version}.x (no specVersion)"

    def text(self, name: str) -> str | None:
        value = self.pcf.get(name)
        return value if isinstance(value, str) and value.strip() else None

    def decimal(self, name: str, *, required: bool = False) -> Decimal:
        value = self.pcf.get(name)  # PACT: null means undefined
        if value is None:
            if required:
                raise SupplierFootprintError(
                    f"{self.where}: missing pcf.{name}, which OpenPCF needs to use the footprint"
                )
            return Decimal(0)
        try:
            # PACT's Decimal pattern: Decimal() alone took "1_000", "1e3", " 1.5" and JSON
            # numbers, so malformed supplier data became numbers (issue 11, item 11)
            return pact_decimal(value)
        except ValueError:
            raise SupplierFootprintError(
                f"{self.where}: pcf.{name} = {value!r} is not a PACT decimal; PACT decimals "
                'are strings of digits such as "1.25" (a dot as decimal separator, no '
                "exponent, underscores, spaces or units)"
            ) from None

    def sign(self, name: str, value: Decimal, *, positive: bool) -> Decimal:
        if (positive and value < 0) or (not positive and value > 0):
            need = ">= 0" if positive else "<= 0"
            raise SupplierFootprintError(
                f"{self.where}: pcf.{name} = {value} must be {need} kg CO2e per declared unit; "
                "ask the supplier to correct the footprint"
            )
        return value


_REMOVALS_V3 = (
    "landManagementBiogenicCO2Removals",
    "technologicalCO2Removals",
    "ccsTechnologicalCO2Capture",
)


def _to_factor(footprint: Mapping[str, Any], label: str) -> StatedFactor:
    r = _Reader(footprint, label)
    v3 = r.version == "3"
    unit_field = "declaredUnitOfMeasurement" if v3 else "declaredUnit"
    amount_field = "declaredUnitAmount" if v3 else "unitaryProductAmount"
    pact_unit = r.text(unit_field)
    if pact_unit is None:
        raise SupplierFootprintError(f'{r.where}: missing pcf.{unit_field} (e.g. "kilogram")')
    if pact_unit not in UNITS:
        raise SupplierFootprintError(
            f"{r.where}: pcf.{unit_field} {pact_unit!r} is not supported; OpenPCF reads "
            f"{', '.join(UNITS)}"
        )
    amount = r.decimal(amount_field, required=True)
    if amount <= 0:
        raise SupplierFootprintError(
            f"{r.where}: pcf.{amount_field} = {amount} must be > 0 (the number of "
            f"{pact_unit} the footprint is for)"
        )

    if v3:
        fossil_f, bio_f, luc_f, uptake_f = (
            "fossilGhgEmissions",
            "biogenicNonCO2Emissions",
            "landUseChangeGhgEmissions",
            "biogenicCO2Uptake",
        )
        land_f, pcf_f = "landManagementBiogenicCO2Emissions", "pcfExcludingBiogenicUptake"
        for name in _REMOVALS_V3:
            if r.decimal(name) != 0:
                raise SupplierFootprintError(
                    f"{r.where}: pcf.{name} = {r.decimal(name)} is not supported yet (OpenPCF "
                    "does not import land-management, CCS or technological removals); ask for "
                    "a footprint without them or model the supplier's product explicitly"
                )
    else:
        fossil_f, bio_f, luc_f, uptake_f = (
            "fossilGhgEmissions",
            "otherBiogenicGhgEmissions",
            "dLucGhgEmissions",
            "biogenicCarbonWithdrawal",
        )
        land_f, pcf_f = "landManagementGhgEmissions", "pCfExcludingBiogenic"
    fossil = r.sign(fossil_f, r.decimal(fossil_f, required=True), positive=True)
    bio = r.sign(bio_f, r.decimal(bio_f), positive=True)
    land = r.sign(land_f, r.decimal(land_f), positive=True)
    luc = r.sign(luc_f, r.decimal(luc_f), positive=True)
    uptake = r.sign(uptake_f, r.decimal(uptake_f), positive=False)
    stated = r.decimal(pcf_f, required=True)

    co2e = fossil + bio + land
    emissions = {"CO2e": float(co2e / amount)}
    if luc:
        emissions["CO2-luc"] = float(luc / amount)
    if uptake:
        emissions["CO2-uptake"] = float(-uptake / amount)

    reports = _reports(r)
    notes = [
        f"from {label}, PACT {r.spec} footprint {r.id}",
        f"{pcf_f} {stated} kg CO2e per {amount} {pact_unit}",
        f"CO2e = {fossil_f} {fossil} + {bio_f} {bio} + {land_f} {land}",
    ]
    if abs((co2e + luc) - stated) > Decimal("1e-6") * max(Decimal(1), abs(stated)):
        notes.append(
            f"the components sum to {co2e + luc}, not the stated {pcf_f} {stated}: the "
            "components are used"
        )
    notes += _epd_notes(footprint)
    share = stated_primary_share(r.pcf, version=r.version, where=r.where)
    pedigree = stated_pedigree(r.pcf, version=r.version, where=r.where)
    notes.append(
        "states no primaryDataShare: counted as secondary data"
        if share is None
        else f"primaryDataShare {r.pcf['primaryDataShare']} %"
    )
    if pedigree is not None:
        notes.append(
            f"DQRs as pedigree (technological, geographical, temporal) = "
            f"({pedigree.technological}, {pedigree.geographical}, {pedigree.temporal})"
        )
    return StatedFactor(
        id=f"supplier.{r.id.lower()}",
        name=_name(r),
        unit=UNITS[pact_unit],
        emissions=emissions,
        category="material",
        geography=_geography(r.pcf),
        year=_year(r),
        source=(
            f"PACT footprint {r.id} from {footprint.get('companyName') or 'unnamed company'}, "
            f"created {footprint.get('created') or 'unknown'}"
        ),
        licence=LICENCE,
        gwp_basis=", ".join(reports) if reports else "unstated",
        notes="; ".join(notes),
        set_name=SUPPLIER_SET,
        primary_share=share or 0.0,
        pedigree=pedigree,
        biogenic_non_co2=float(bio / amount),
        provider=str(footprint.get("companyName") or ""),
    )


def _epd_notes(footprint: Mapping[str, Any]) -> list[str]:
    """What the calculation must say about a footprint made from an EPD: which one, valid
    until when, and "EPD expired on DATE" when it was expired when imported."""
    extensions = footprint.get("extensions")
    for ext in extensions if isinstance(extensions, list) else []:
        if not isinstance(ext, dict) or ext.get("dataSchema") != EPD_EXTENSION:
            continue
        raw = ext.get("data")
        data: Mapping[str, Any] = raw if isinstance(raw, dict) else {}
        ref = data.get("registrationNumber") or data.get("epdUuid") or "unnamed"
        until = data.get("validUntil") or "not stated"
        notes = [f"from EPD {ref} ({data.get('standard') or 'EN 15804'}), valid until {until}"]
        if data.get("expired") is True:
            notes.append(f"EPD expired on {until}")
        return notes
    return []


def _name(r: _Reader) -> str:
    for key in ("productNameCompany", "productDescription"):
        value = r.fp.get(key)
        if isinstance(value, str) and value.strip():
            return value.strip()
    return f"supplier product {r.id}"


def _reports(r: _Reader) -> list[str]:
    found: list[str] = []
    for key in ("ipccCharacterizationFactors", "ipccCharacterizationFactorsSources"):
        value = r.pcf.get(key)
        if isinstance(value, list):
            found.extend(str(v) for v in value)
    legacy = r.pcf.get("characterizationFactors")
    if isinstance(legacy, str):
        found.append(legacy)
    return sorted({f for f in found if re.fullmatch(r"AR\d+", f)}, key=lambda s: int(s[2:]))


def _geography(pcf: Mapping[str, Any]) -> str:
    for key in ("geographyCountrySubdivision", "geographyCountry", "geographyRegionOrSubregion"):
        value = pcf.get(key)
        if isinstance(value, str) and value.strip():
            return value.strip()
    return "GLO"


def _year(r: _Reader) -> int:
    """Year of the data: the reference period's (exclusive) end, less an instant."""
    value = r.pcf.get("referencePeriodEnd")
    if not isinstance(value, str):
        raise SupplierFootprintError(
            f"{r.where}: missing pcf.referencePeriodEnd (an ISO 8601 date-time)"
        )
    try:
        end = dt.datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise SupplierFootprintError(
            f"{r.where}: pcf.referencePeriodEnd {value!r} is not an ISO 8601 date-time "
            "such as 2024-12-31T00:00:00Z"
        ) from None
    return (end - dt.timedelta(microseconds=1)).year
