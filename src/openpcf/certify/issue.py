"""Issuing a green certificate for a PACT footprint, with a verifier's attestation if any."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from joserfc.jwk import KeySet

from openpcf.certify.attestation import (
    AttestationCredential,
    attestation_summary,
    check_attestation,
    check_binding,
    envelope,
    issuer_id,
)
from openpcf.certify.credential import (
    CREDENTIAL_TYPE,
    as_utc,
    check_validity,
    credential_payload,
    jwt_claims,
    read_payload,
    sign_credential,
)
from openpcf.certify.errors import AttestationError, CertificateError
from openpcf.certify.jose import parse_compact, verify_compact
from openpcf.certify.keys import KeyStore
from openpcf.certify.status import StatusRegistry, status_list_url
from openpcf.certify.subject import SelfDeclaredAssurance, footprint_digest, footprint_subject
from openpcf.certify.trust import thumbprint
from openpcf.errors import InputError, located

DEFAULT_VALIDITY = dt.timedelta(days=365)


@dataclass(frozen=True, slots=True, kw_only=True)
class Certificate:
    """An issued certificate: the ``vc+jwt`` token and what it says."""

    token: str
    id: str
    issuer: str
    kid: str
    subject: Mapping[str, Any] = field(repr=False)
    valid_from: str
    valid_until: str
    status_index: int | None
    attestation_id: str | None = None


def issue_certificate(
    footprint: Mapping[str, Any],
    *,
    keys: KeyStore,
    attestation: str | AttestationCredential | SelfDeclaredAssurance | None = None,
    self_declared: SelfDeclaredAssurance | None = None,
    verifier_keys: KeySet | None = None,
    valid_for: dt.timedelta = DEFAULT_VALIDITY,
    now: dt.datetime | None = None,
    revocable: bool = True,
) -> Certificate:
    """Sign a certificate for a PACT footprint with the key store's active key.

    Parameters
    ----------
    footprint
        A PACT ProductFootprint (the JSON of ``openpcf calc -f pact``), v3 or v2.3.
    keys
        The issuer's key store (the edge passes ``$OPENPCF_HOME/keys``).
    attestation
        The verifier's attestation credential (the ``vc+jwt`` of ``openpcf verifier attest``,
        or its :class:`AttestationCredential`): embedded as ``evidence`` and bound by its
        digest. It must be for this footprint, valid now and signed by someone else than this
        issuer.
        A :class:`SelfDeclaredAssurance` here is taken as ``self_declared`` (the Python API
        called it ``Attestation`` before there were signed attestations).
    self_declared
        An assurance the issuer declares itself: written as ``selfDeclaredAssurance``,
        labelled as such; by default the footprint's own ``pcf.assurance``, if any.
    verifier_keys
        The verifier's public keys, to check the attestation's signature before embedding it
        (a buyer checks it again, against keys it trusts).
    valid_for
        Time from issue to ``validUntil`` (one year by default).
    now
        Issue time (UTC; now by default). Tests pass a fixed time.
    revocable
        Allocate an index in the issuer's status list (default). Without it the certificate
        cannot be revoked.

    Raises
    ------
    KeyStoreError
        No active key.
    UncertifiableFootprintError
        A footprint that lacks a field the certificate binds.
    AttestationError, AttestationMismatchError
        An attestation that is not one, is for another footprint or was signed by this
        issuer; a :class:`CertificateError` naming the attestation if it is malformed,
        expired or (with ``verifier_keys``) its signature does not verify.
    InputError
        A validity that ends after the year 9999.
    """
    if isinstance(attestation, SelfDeclaredAssurance):
        attestation, self_declared = None, self_declared or attestation
    if isinstance(attestation, AttestationCredential):
        attestation = attestation.token
    subject = footprint_subject(footprint, self_declared=self_declared)
    info = keys.active()
    issuer = keys.issuer
    start = as_utc(now).replace(microsecond=0)
    embedded = None
    if attestation is not None:
        embedded = _attested(attestation, footprint, keys, verifier_keys, start)
        subject["attestation"] = embedded[1]
    try:
        end = start + valid_for
    except OverflowError:  # past 9999-12-31: Python's dates end there
        raise InputError(
            f"a validity of {valid_for.days:,} days from {start:%Y-%m-%d} ends after the year "
            "9999; give a shorter validity"
        ) from None
    cred_id = f"urn:uuid:{uuid.uuid4()}"
    payload = credential_payload(
        cred_id=cred_id,
        cred_type=CREDENTIAL_TYPE,
        issuer=issuer,
        start=start,
        end=end,
        subject=subject,
    )
    if embedded is not None:
        payload["evidence"] = [envelope(embedded[0])]
    index = None
    if revocable:
        index = StatusRegistry(keys.folder).allocate(
            cred_id, product=", ".join(subject["productIds"]), kid=info.kid
        )
        url = status_list_url(issuer)
        payload["credentialStatus"] = {
            "id": f"{url}#{index}",
            "type": "BitstringStatusListEntry",
            "statusPurpose": "revocation",
            "statusListIndex": str(index),
            "statusListCredential": url,
        }
    payload |= jwt_claims(issuer=issuer, jti=cred_id, start=start, end=end, not_before=True)
    token = sign_credential(payload, keys)
    return Certificate(
        token=token,
        id=cred_id,
        issuer=issuer,
        kid=info.kid,
        subject=subject,
        valid_from=payload["validFrom"],
        valid_until=payload["validUntil"],
        status_index=index,
        attestation_id=embedded[1]["id"] if embedded else None,
    )


def _attested(
    token: str,
    footprint: Mapping[str, Any],
    keys: KeyStore,
    verifier_keys: KeySet | None,
    now: dt.datetime,
) -> tuple[str, dict[str, Any]]:
    """The attestation token and the summary the certificate binds, once checked."""
    token = token.strip()
    try:
        parsed = parse_compact(token, what="attestation")
        if verifier_keys is not None:
            verify_compact(parsed, verifier_keys, what="attestation")
        payload = read_payload(parsed, "attestation")
        check_validity(payload, now, "attestation")
    except AttestationError:
        raise
    except CertificateError as e:
        raise located(e, "the attestation given cannot be used") from None
    attested = check_attestation(payload)
    check_binding(attested, footprint_sha256=footprint_digest(footprint))
    own = {info.kid for info in keys.list_keys()}
    kid = str(parsed.header["kid"])
    if kid in own or issuer_id(payload) == keys.issuer:
        raise AttestationError(
            f"the attestation is signed by this issuer itself ({issuer_id(payload)}, key {kid}): "
            "an attestation comes from a third-party verifier with its own keys"
        )
    if verifier_keys is not None:
        signer = next(k for k in verifier_keys.keys if k.kid == kid)
        if thumbprint(signer) in own:  # type: ignore[arg-type]
            raise AttestationError("the attestation is signed with one of this issuer's keys")
    return token, attestation_summary(token, payload)
