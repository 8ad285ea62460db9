"""Issuing a green certificate for a PACT footprint."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from openpcf.certify.credential import (
    CREDENTIAL_TYPE,
    as_utc,
    credential_payload,
    jwt_claims,
    sign_credential,
)
from openpcf.certify.keys import KeyStore
from openpcf.certify.status import StatusRegistry, status_list_url
from openpcf.certify.subject import Attestation, footprint_subject
from openpcf.errors import InputError

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


def issue_certificate(
    footprint: Mapping[str, Any],
    *,
    keys: KeyStore,
    attestation: Attestation | None = None,
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
        The verifier's attestation; by default the footprint's own ``pcf.assurance``, if any.
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
    InputError
        A validity that ends after the year 9999.
    """
    subject = footprint_subject(footprint, attestation=attestation)
    info = keys.active()
    issuer = keys.issuer
    start = as_utc(now).replace(microsecond=0)
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
    )
