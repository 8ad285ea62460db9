"""A third-party verifier's attestation: a W3C Verifiable Credential (``vc+jwt``) of its own.

The verifier reviews a verification package, reproduces it and signs, with its own key, a
``ProductCarbonFootprintAttestation`` whose subject binds:

- the footprint: the SHA-256 of its RFC 8785 canonical JSON (as the certificate does), with
  the product ids, the PCF and the reference period for a reader;
- the package: the SHA-256 of the package file the verifier reproduced;
- the verification: standard (ISO 14064-3:2019), criteria (ISO 14067:2018 by default), the
  level of assurance (ISO 14064-3:2019, 5.1.3: ``limited`` or ``reasonable``), scope, the date
  it was completed and what the reproduction found;
- the verifier: name, accreditation id and accreditation body (from its profile).

The issuer is the object ``{"id": <verifier id>, "name": <name>}`` (VC Data Model 2.0 allows
an issuer object with an ``id``); ``iss`` is that id.

The manufacturer's certificate carries the attestation as VC Data Model 2.0 ``evidence``: an
``EnvelopedVerifiableCredential`` whose ``id`` is ``data:application/vc+jwt,<the JWT>``, and
binds it by the SHA-256 of the JWT in ``credentialSubject.attestation`` together with a
summary (:func:`attestation_summary`) that a verifier of the certificate recomputes.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from openpcf.certify.credential import (
    as_utc,
    credential_payload,
    jwt_claims,
    sign_credential,
)
from openpcf.certify.errors import AttestationError, AttestationMismatchError
from openpcf.certify.keys import KeyStore
from openpcf.certify.subject import footprint_digest, footprint_subject
from openpcf.certify.verifier import VerifierProfile

ATTESTATION_TYPE = "ProductCarbonFootprintAttestation"
SUBJECT_TYPE = "ProductCarbonFootprintVerification"
SUMMARY_TYPE = "ThirdPartyAttestation"
#: ISO 14064-3:2019, 5.1.3: the level of assurance of a verification
ASSURANCE_LEVELS = ("limited", "reasonable")
#: the verification standard an attestation names
VERIFICATION_STANDARD = "ISO 14064-3:2019"
#: the criteria (rule set) the footprint is verified against, by default
PRODUCT_STANDARD = "ISO 14067:2018"
DEFAULT_VALIDITY = dt.timedelta(days=365)
ENVELOPE_TYPE = "EnvelopedVerifiableCredential"
ENVELOPE_PREFIX = "data:application/vc+jwt,"
VC_CONTEXT = "https://www.w3.org/ns/credentials/v2"
#: subject members copied from the certificate's subject for a reader of the attestation
_COPIED = (
    "id",
    "productIds",
    "productName",
    "declaredUnit",
    "declaredUnitAmount",
    "pcfExcludingBiogenicUptake",
    "pcfIncludingBiogenicUptake",
    "unit",
    "referencePeriod",
    "footprintDigest",
)


@dataclass(frozen=True, slots=True, kw_only=True)
class AttestationCredential:
    """A signed attestation: the ``vc+jwt`` token and what it says."""

    token: str
    id: str
    issuer: str
    kid: str
    subject: Mapping[str, Any] = field(repr=False)
    valid_from: str
    valid_until: str


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def token_digest(token: str) -> str:
    """SHA-256 (hex) of the attestation's compact JWS, as the certificate binds it."""
    return sha256_hex(token.strip().encode("ascii", "replace"))


def file_sha256(path: Path | str) -> str:
    """SHA-256 (hex) of a file's bytes, read in chunks (a package can be large)."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def check_assurance(level: Any) -> str:
    """``level`` if it is one of ISO 14064-3's levels of assurance.

    Raises
    ------
    AttestationError
        Anything else ("high", "Reasonable ", "none", a number, ...).
    """
    if level not in ASSURANCE_LEVELS:
        raise AttestationError(
            f"assurance level {level!r} is not one of ISO 14064-3:2019's levels of assurance "
            f"({' or '.join(ASSURANCE_LEVELS)})"
        )
    return str(level)


def sign_attestation(
    footprint: Mapping[str, Any],
    *,
    package_sha256: str,
    keys: KeyStore,
    profile: VerifierProfile,
    assurance: str,
    scope: str = "",
    criteria: Sequence[str] = (PRODUCT_STANDARD,),
    reproduction: Mapping[str, Any] | None = None,
    valid_for: dt.timedelta = DEFAULT_VALIDITY,
    now: dt.datetime | None = None,
) -> AttestationCredential:
    """Sign an attestation of ``footprint`` (from the package of digest ``package_sha256``)
    with the verifier's active key.

    Use :func:`openpcf.services.attestation.attest_package`, which reproduces the package
    first and refuses to attest when that fails; this function only writes the credential.

    Raises
    ------
    AttestationError
        An assurance level that is not "limited" or "reasonable", no criteria, or a package
        digest that is not a SHA-256.
    UncertifiableFootprintError
        A footprint that lacks a field the attestation binds.
    KeyStoreError
        The verifier has no active key.
    """
    check_assurance(assurance)
    if not criteria or not all(isinstance(c, str) and c.strip() for c in criteria):
        raise AttestationError("an attestation names the criteria it verified against")
    if len(package_sha256) != 64 or any(c not in "0123456789abcdef" for c in package_sha256):
        raise AttestationError(f"{package_sha256!r} is not a SHA-256 digest (64 hex digits)")
    certified = footprint_subject(footprint)
    subject: dict[str, Any] = {k: certified[k] for k in _COPIED if k in certified}
    subject["type"] = SUBJECT_TYPE
    subject["packageDigest"] = {"algorithm": "SHA-256", "value": package_sha256}
    start = as_utc(now).replace(microsecond=0)
    subject["verification"] = {
        "standard": VERIFICATION_STANDARD,
        "criteria": [c.strip() for c in criteria],
        "assuranceLevel": assurance,
        "scope": scope.strip() or default_scope(certified),
        "completed": start.date().isoformat(),
    }
    if reproduction:
        subject["verification"]["reproduction"] = dict(reproduction)
    subject["verifier"] = {
        "id": keys.issuer,
        "name": profile.name,
        "accreditationId": profile.accreditation_id,
        "accreditationBody": profile.accreditation_body,
    }
    info = keys.active()
    issuer = keys.issuer
    end = start + valid_for
    cred_id = f"urn:uuid:{uuid.uuid4()}"
    payload = credential_payload(
        cred_id=cred_id,
        cred_type=ATTESTATION_TYPE,
        issuer=issuer,
        start=start,
        end=end,
        subject=subject,
    )
    payload["issuer"] = {"id": issuer, "name": profile.name}
    payload |= jwt_claims(issuer=issuer, jti=cred_id, start=start, end=end, not_before=True)
    token = sign_credential(payload, keys)
    return AttestationCredential(
        token=token,
        id=cred_id,
        issuer=issuer,
        kid=info.kid,
        subject=subject,
        valid_from=payload["validFrom"],
        valid_until=payload["validUntil"],
    )


def default_scope(subject: Mapping[str, Any]) -> str:
    """The scope an attestation states when the verifier gives none."""
    product = subject.get("productName") or ", ".join(subject.get("productIds", []))
    period = subject.get("referencePeriod", {})
    return (
        f"product carbon footprint of {product} per {subject.get('declaredUnitAmount')} "
        f"{subject.get('declaredUnit')}, reference period {period.get('start')} to "
        f"{period.get('end')}, as recomputed from the verification package"
    )


# --------------------------------------------------------------------------------------------
# reading


def issuer_id(payload: Mapping[str, Any]) -> str:
    """The credential's issuer id (``issuer`` as a string or an object with ``id``)."""
    issuer = payload.get("issuer")
    if isinstance(issuer, dict):
        issuer = issuer.get("id")
    return str(issuer or payload.get("iss") or "")


def check_attestation(payload: Mapping[str, Any]) -> dict[str, Any]:
    """The subject of an attestation credential whose members are all there and valid.

    Raises
    ------
    AttestationError
        Not a ``ProductCarbonFootprintAttestation``; no footprint or package digest; an
        assurance level other than "limited"/"reasonable"; another standard than
        ISO 14064-3:2019; no criteria; no verifier accreditation id.
    """
    types = payload.get("type")
    if not isinstance(types, list) or ATTESTATION_TYPE not in types:
        raise AttestationError(f"the attestation is not a {ATTESTATION_TYPE} credential")
    subject = payload.get("credentialSubject")
    if not isinstance(subject, dict):
        raise AttestationError("the attestation has no credentialSubject")
    for name in ("footprintDigest", "packageDigest"):
        value = subject.get(name, {}).get("value") if isinstance(subject.get(name), dict) else None
        if not isinstance(value, str) or len(value) != 64:
            raise AttestationError(f"the attestation has no SHA-256 {name}")
    verification = subject.get("verification")
    if not isinstance(verification, dict):
        raise AttestationError("the attestation has no 'verification' (standard, assurance)")
    try:
        check_assurance(verification.get("assuranceLevel"))
    except AttestationError as e:
        raise AttestationError(f"the attestation's {e}") from None
    if verification.get("standard") != VERIFICATION_STANDARD:
        raise AttestationError(
            f"the attestation's verification standard is {verification.get('standard')!r}, "
            f"not {VERIFICATION_STANDARD}"
        )
    criteria = verification.get("criteria")
    if not isinstance(criteria, list) or not criteria:
        raise AttestationError("the attestation names no criteria (e.g. ISO 14067:2018)")
    verifier = subject.get("verifier")
    if not isinstance(verifier, dict) or not verifier.get("accreditationId"):
        raise AttestationError("the attestation names no verifier accreditation id")
    return subject


def attestation_summary(token: str, payload: Mapping[str, Any]) -> dict[str, Any]:
    """What a certificate's ``credentialSubject.attestation`` says of an attestation."""
    subject = payload["credentialSubject"]
    verification = subject["verification"]
    verifier = subject["verifier"]
    return {
        "type": SUMMARY_TYPE,
        "id": str(payload.get("id", "")),
        "digest": {"algorithm": "SHA-256", "value": token_digest(token)},
        "issuer": issuer_id(payload),
        "verifier": {
            "name": str(verifier.get("name", "")),
            "accreditationId": str(verifier.get("accreditationId", "")),
            "accreditationBody": str(verifier.get("accreditationBody", "")),
        },
        "assuranceLevel": verification["assuranceLevel"],
        "standard": verification["standard"],
        "criteria": list(verification["criteria"]),
        "scope": str(verification.get("scope", "")),
        "completed": str(verification.get("completed", "")),
        "packageDigest": dict(subject["packageDigest"]),
        "validUntil": str(payload.get("validUntil", "")),
    }


def is_summary(value: Any) -> bool:
    """True for a certificate's summary of a signed attestation (not a legacy typed field)."""
    return isinstance(value, dict) and value.get("type") == SUMMARY_TYPE


def envelope(token: str) -> dict[str, Any]:
    """The attestation as a VC Data Model 2.0 ``EnvelopedVerifiableCredential``."""
    return {
        "@context": [VC_CONTEXT],
        "id": ENVELOPE_PREFIX + token.strip(),
        "type": ENVELOPE_TYPE,
    }


def embedded_tokens(payload: Mapping[str, Any]) -> list[str]:
    """The ``vc+jwt`` tokens a certificate carries as enveloped credentials in ``evidence``."""
    evidence = payload.get("evidence")
    items = evidence if isinstance(evidence, list) else [evidence] if evidence else []
    found = []
    for item in items:
        if not isinstance(item, dict):
            continue
        types = item.get("type")
        types = types if isinstance(types, list) else [types]
        ident = item.get("id")
        if ENVELOPE_TYPE in types and isinstance(ident, str) and ident.startswith(ENVELOPE_PREFIX):
            found.append(ident[len(ENVELOPE_PREFIX) :])
    return found


def check_binding(
    attested: Mapping[str, Any],
    *,
    footprint: Mapping[str, Any] | None = None,
    footprint_sha256: str | None = None,
    package_sha256: str | None = None,
) -> None:
    """Check that an attestation subject binds this footprint (and package).

    Raises
    ------
    AttestationMismatchError
        The attestation is of another footprint or another package.
    """
    bound = attested["footprintDigest"]["value"]
    expected = footprint_sha256 or (footprint_digest(footprint) if footprint else None)
    if expected is not None and bound != expected:
        raise AttestationMismatchError(
            f"the attestation is for footprint SHA-256 {bound[:16]}..., not this footprint "
            f"({expected[:16]}...): the verifier attested another footprint, or the footprint "
            "was changed after it was attested. Publish the model before packaging it "
            "(`openpcf publish MODEL`), so that the package, the attestation and the "
            "certificate carry the one stored footprint, then issue the certificate for it "
            "(`openpcf certificate issue MODEL` or `--footprint-id ID`)"
        )
    package = attested["packageDigest"]["value"]
    if package_sha256 is not None and package != package_sha256:
        raise AttestationMismatchError(
            f"the attestation is for the package of SHA-256 {package[:16]}..., not the package "
            f"given ({package_sha256[:16]}...): another package, or one changed since it was "
            "reproduced"
        )
