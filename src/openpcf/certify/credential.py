"""The green certificate's format: a W3C Verifiable Credential secured with JOSE (``vc+jwt``).

The JWT payload *is* the credential (VC Data Model 2.0, VC-JOSE-COSE), with the JWT registered
claims ``iss``, ``jti``, ``iat``, ``nbf`` and ``exp`` mirroring ``issuer``, ``id``,
``validFrom`` and ``validUntil``; the header is ``{"alg", "kid", "typ": "vc+jwt", "cty": "vc"}``.
Certificates (:mod:`openpcf.certify.issue`) and the issuer's revocation list
(:mod:`openpcf.certify.revocation`) are both such credentials: this module writes and reads
what they share.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from typing import Any

from openpcf.certify.errors import (
    CredentialExpiredError,
    MalformedCredentialError,
    NotYetValidError,
)
from openpcf.certify.jose import CompactJws, sign_compact
from openpcf.certify.keys import KeyStore

VC_CONTEXT = "https://www.w3.org/ns/credentials/v2"
CREDENTIAL_TYPE = "ProductCarbonFootprintCredential"
JWKS_PATH = "/.well-known/jwks.json"
MEDIA_TYPE = "application/vc+jwt"


# --------------------------------------------------------------------------------------------
# writing


def as_utc(moment: dt.datetime | None) -> dt.datetime:
    """``moment`` (now by default) as an aware UTC time; a naive time is taken as UTC."""
    moment = moment or dt.datetime.now(dt.UTC)
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def iso_time(moment: dt.datetime) -> str:
    """``moment`` as ``YYYY-MM-DDTHH:MM:SSZ``."""
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def credential_payload(
    *,
    cred_id: str,
    cred_type: str,
    issuer: str,
    start: dt.datetime,
    end: dt.datetime,
    subject: Mapping[str, Any],
) -> dict[str, Any]:
    """The credential's own members, up to ``credentialSubject``."""
    return {
        "@context": [VC_CONTEXT],
        "id": cred_id,
        "type": ["VerifiableCredential", cred_type],
        "issuer": issuer,
        "validFrom": iso_time(start),
        "validUntil": iso_time(end),
        "credentialSubject": subject,
    }


def jwt_claims(
    *, issuer: str, jti: str, start: dt.datetime, end: dt.datetime, not_before: bool
) -> dict[str, Any]:
    """The JWT registered claims that mirror the credential's issuer, id and validity."""
    claims: dict[str, Any] = {"iss": issuer, "jti": jti, "iat": int(start.timestamp())}
    if not_before:
        claims["nbf"] = int(start.timestamp())
    claims["exp"] = int(end.timestamp())
    return claims


def sign_credential(payload: Mapping[str, Any], store: KeyStore) -> str:
    """The ``vc+jwt`` of ``payload``, signed with the key store's active key."""
    info, key = store.signing_key()
    header = {"alg": info.alg, "kid": info.kid, "typ": "vc+jwt", "cty": "vc"}
    body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return sign_compact(header, body, key)


# --------------------------------------------------------------------------------------------
# reading


def read_payload(parsed: CompactJws, what: str) -> dict[str, Any]:
    """The credential in a verified JWS (``what``: "certificate" or "status list").

    Raises
    ------
    MalformedCredentialError
        Not a JSON Verifiable Credential (a certificate: not a
        ``ProductCarbonFootprintCredential`` with a ``credentialSubject``).
    """
    try:
        payload = json.loads(parsed.payload())
    except (ValueError, UnicodeDecodeError):
        raise MalformedCredentialError(f"the {what}'s payload is not JSON") from None
    if not isinstance(payload, dict):
        raise MalformedCredentialError(f"the {what}'s payload is not a JSON object")
    types = payload.get("type")
    if not isinstance(types, list) or "VerifiableCredential" not in types:
        raise MalformedCredentialError(f"the {what} is not a Verifiable Credential (type)")
    if what == "certificate" and (
        CREDENTIAL_TYPE not in types or not isinstance(payload.get("credentialSubject"), dict)
    ):
        raise MalformedCredentialError(
            f"the credential is not a {CREDENTIAL_TYPE} with a credentialSubject"
        )
    return payload


def _timestamp(payload: Mapping[str, Any], claim: str, field: str) -> dt.datetime | None:
    if isinstance(payload.get(claim), int | float):
        return dt.datetime.fromtimestamp(payload[claim], dt.UTC)
    value = payload.get(field)
    if isinstance(value, str):
        try:
            return as_utc(dt.datetime.fromisoformat(value.replace("Z", "+00:00")))
        except ValueError:
            raise MalformedCredentialError(f"{field} {value!r} is not an ISO 8601 time") from None
    return None


def check_validity(payload: Mapping[str, Any], now: dt.datetime, what: str) -> str:
    """What the validity check found (``exp`` / ``validUntil``, ``nbf`` / ``validFrom``).

    Raises
    ------
    CredentialExpiredError, NotYetValidError
        ``now`` is outside the validity period.
    MalformedCredentialError
        A time that is not ISO 8601.
    """
    end = _timestamp(payload, "exp", "validUntil")
    start = _timestamp(payload, "nbf", "validFrom")
    if end is not None and now >= end:
        raise CredentialExpiredError(
            f"the {what} expired on {iso_time(end)} (checked at {iso_time(now)}); "
            "ask the issuer for a new one"
        )
    if start is not None and now < start:
        raise NotYetValidError(
            f"the {what} is valid only from {iso_time(start)} (now {iso_time(now)})"
        )
    return f"ok: valid until {iso_time(end)}" if end else "ok: no expiry"
