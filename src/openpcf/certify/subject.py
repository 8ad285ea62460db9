"""What a certificate binds: the PACT footprint's digest and the credential subject.

The subject carries the SHA-256 digest of the footprint's RFC 8785 canonical JSON together with
the values a reader checks at a glance: product ids, declared unit and amount, the PCF with and
without biogenic uptake and the reference period.

Who verified the footprint is said in one of two ways, never mixed up:

- ``attestation``: a summary of a third-party verifier's signed attestation credential, which
  the certificate embeds and binds by digest (:mod:`openpcf.certify.attestation`);
- ``selfDeclaredAssurance``: what the issuer itself declares (``--self-declared-verifier``, or
  the footprint's own ``pcf.assurance``), labelled as such: nobody but the issuer signed it, and
  ``certificate verify`` reports it as "self-declared".
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

import rfc8785

from openpcf.certify.errors import UncertifiableFootprintError

#: The statement every self-declared assurance carries in the certificate.
SELF_DECLARED = "declared by the certificate's issuer; not signed by the verifier named"


@dataclass(frozen=True, slots=True, kw_only=True)
class SelfDeclaredAssurance:
    """An assurance the issuer declares itself (a verifier's name it typed in).

    It is written into the certificate as ``selfDeclaredAssurance``, labelled as declared by the
    issuer, and never counts as an attestation: a third party attests with its own signed
    credential (:func:`openpcf.certify.attestation.sign_attestation`).
    """

    verifier_name: str
    assurance: Literal["limited", "reasonable"]
    standard: str = "ISO14064-3"
    verifier_id: str = ""
    completed: str = ""  # date the verification was completed (ISO 8601)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "statement": SELF_DECLARED,
            "source": "issuer",
            "assuranceLevel": self.assurance,
            "standard": self.standard,
            "verifier": {"name": self.verifier_name},
        }
        if self.verifier_id:
            out["verifier"]["id"] = self.verifier_id
        if self.completed:
            out["completed"] = self.completed
        return out


#: The former name of :class:`SelfDeclaredAssurance`, kept for callers of the Python API: it
#: was never more than the issuer's own declaration, and is now labelled so.
Attestation = SelfDeclaredAssurance


def footprint_digest(footprint: Mapping[str, Any]) -> str:
    """SHA-256 (hex) of the RFC 8785 canonical JSON of a PACT footprint."""
    try:
        return hashlib.sha256(rfc8785.dumps(unwrap_footprint(footprint))).hexdigest()
    except rfc8785.CanonicalizationError as e:
        raise UncertifiableFootprintError(f"the footprint cannot be canonicalised: {e}") from None


def unwrap_footprint(doc: Mapping[str, Any]) -> Mapping[str, Any]:
    """A ProductFootprint, also out of a PACT API envelope ``{"data": ...}`` of one."""
    if "pcf" not in doc and "data" in doc:
        data = doc["data"]
        if isinstance(data, list) and len(data) == 1:
            data = data[0]
        if isinstance(data, dict):
            return data
    return doc


#: unit, amount, PCF excluding and including biogenic uptake, in PACT v3.0 and v2.3
V3_FIELDS = (
    "declaredUnitOfMeasurement",
    "declaredUnitAmount",
    "pcfExcludingBiogenicUptake",
    "pcfIncludingBiogenicUptake",
)
V2_FIELDS = ("declaredUnit", "unitaryProductAmount", "pcfExcludingBiogenic", "pcfIncludingBiogenic")


def footprint_subject(
    footprint: Mapping[str, Any], *, self_declared: SelfDeclaredAssurance | None = None
) -> dict[str, Any]:
    """The ``credentialSubject`` for a PACT v3 (or v2.3) ProductFootprint.

    ``self_declared`` (else the footprint's own ``pcf.assurance``) becomes the subject's
    ``selfDeclaredAssurance``; a third-party attestation is added by the issuer afterwards.

    Raises
    ------
    UncertifiableFootprintError
        If the document lacks an id, productIds, the declared unit, the PCF amounts or the
        reference period.
    """
    doc = unwrap_footprint(footprint)
    pcf = doc.get("pcf")
    if not isinstance(pcf, dict):
        raise UncertifiableFootprintError(
            "the footprint has no 'pcf' object: give a PACT footprint"
        )
    v3 = str(doc.get("specVersion", "3")).startswith("3")
    names = V3_FIELDS if v3 else V2_FIELDS
    need = {"id": doc.get("id"), "productIds": doc.get("productIds")}
    need |= {f"pcf.{n}": pcf.get(n) for n in (*names[:3], "referencePeriodStart")}
    need["pcf.referencePeriodEnd"] = pcf.get("referencePeriodEnd")
    missing = [k for k, v in need.items() if v in (None, "", [])]
    if missing:
        raise UncertifiableFootprintError(
            f"the footprint lacks {', '.join(missing)}: a certificate binds them; export the "
            "footprint with `openpcf calc MODEL -f pact`"
        )
    subject: dict[str, Any] = {
        "id": f"urn:uuid:{doc['id']}",
        "type": "ProductCarbonFootprint",
        "specVersion": doc.get("specVersion", ""),
        "companyName": doc.get("companyName", ""),
        "productIds": list(doc["productIds"]),
        "productName": doc.get("productNameCompany", ""),
        "declaredUnit": pcf[names[0]],
        "declaredUnitAmount": pcf[names[1]],
        "pcfExcludingBiogenicUptake": pcf[names[2]],
        "pcfIncludingBiogenicUptake": pcf.get(names[3], ""),
        "unit": "kg CO2e",
        "referencePeriod": {"start": pcf["referencePeriodStart"], "end": pcf["referencePeriodEnd"]},
        "footprintDigest": {
            "algorithm": "SHA-256",
            "canonicalization": "RFC8785",
            "value": footprint_digest(doc),
        },
    }
    rules = pcf.get("productOrSectorSpecificRules")
    if isinstance(rules, list) and rules:  # the rule set(s) the footprint was calculated under
        subject["productOrSectorSpecificRules"] = rules
    found = self_declared.to_dict() if self_declared else _pact_assurance(pcf)
    if found:
        subject["selfDeclaredAssurance"] = found
    return subject


def _pact_assurance(pcf: Mapping[str, Any]) -> dict[str, Any] | None:
    """The assurance a PACT footprint states itself (``pcf.assurance``), if any: the data
    owner's own statement, so self-declared like any other the issuer makes."""
    a = pcf.get("assurance")
    if not isinstance(a, dict) or not a.get("assurance", True):
        return None
    out: dict[str, Any] = {
        "statement": SELF_DECLARED,
        "source": "footprint pcf.assurance",
        "assuranceLevel": a.get("level", ""),
        "standard": a.get("standardName", ""),
        "verifier": {"name": a.get("providerName", "")},
    }
    if a.get("completedAt"):
        out["completed"] = a["completedAt"]
    return out
