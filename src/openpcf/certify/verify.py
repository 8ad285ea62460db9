"""Verifying a green certificate.

:func:`verify_certificate` runs the checks in a fixed order and raises on the first failure,
each with its own error class (see :mod:`openpcf.certify.errors`): format, key, signature,
issuer, validity period, footprint digest, revocation.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from joserfc.jwk import KeySet

from openpcf.certify.credential import JWKS_PATH, as_utc, check_validity, read_payload
from openpcf.certify.errors import (
    DigestMismatchError,
    IssuerMismatchError,
    KeySourceError,
    MalformedCredentialError,
)
from openpcf.certify.jose import import_key_set, parse_compact, verify_compact
from openpcf.certify.keys import KeyStore
from openpcf.certify.remote import fetch_json
from openpcf.certify.revocation import check_revocation
from openpcf.certify.subject import footprint_digest, unwrap_footprint
from openpcf.files import jsonfile
from openpcf.files.bounded import read_bounded


@dataclass(frozen=True, slots=True, kw_only=True)
class Verification:
    """A certificate that passed every check; ``checks`` says what each check found."""

    id: str
    issuer: str
    kid: str
    subject: Mapping[str, Any] = field(repr=False)
    valid_until: str
    checks: tuple[tuple[str, str], ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "valid": True,
            "id": self.id,
            "issuer": self.issuer,
            "kid": self.kid,
            "valid_until": self.valid_until,
            "checks": dict(self.checks),
            "subject": dict(self.subject),
        }


def verify_certificate(
    token: str,
    *,
    jwks: Mapping[str, Any] | Path | None = None,
    issuer_url: str | None = None,
    footprint: Mapping[str, Any] | None = None,
    status_list: str | None = None,
    keys: KeyStore | None = None,
    now: dt.datetime | None = None,
) -> Verification:
    """Check a certificate; return what it says, or raise naming the check that failed.

    The issuer's public keys come from ``jwks`` (a JWKS document or file), else from
    ``<issuer_url>/.well-known/jwks.json`` (needs httpx), else from the local key store.
    Revocation is checked against ``status_list`` (the signed list, as text), else against the
    list the credential names when verifying online, else against the local issuer's registry
    when verifying with the local key store; otherwise it is reported "not checked".

    Raises
    ------
    MalformedCredentialError, UnknownKeyError, SignatureInvalidError, IssuerMismatchError,
    CredentialExpiredError, NotYetValidError, DigestMismatchError, CredentialRevokedError,
    StatusListError, KeySourceError
        The first check that failed (each a :class:`CertificateError`).
    """
    parsed = parse_compact(token, what="certificate")
    keyset, source = _key_source(jwks, issuer_url, keys)
    verify_compact(parsed, keyset, what="certificate")
    payload = read_payload(parsed, "certificate")
    kid = str(parsed.header["kid"])
    checks: list[tuple[str, str]] = [
        ("format", "ok: compact JWS, vc+jwt"),
        ("key", f"ok: {kid} from {source}"),
        ("signature", f"ok: {parsed.header['alg']}"),
    ]
    issuer = str(payload.get("issuer") or payload.get("iss") or "")
    checks.append(("issuer", _check_issuer(issuer, issuer_url)))
    checks.append(("validity", check_validity(payload, as_utc(now), "certificate")))
    subject = payload["credentialSubject"]
    checks.append(("digest", _check_digest(subject, footprint)))
    checks.append(
        ("revocation", check_revocation(payload, keyset, status_list, issuer_url, jwks, keys, now))
    )
    return Verification(
        id=str(payload.get("id", "")),
        issuer=issuer,
        kid=kid,
        subject=subject,
        valid_until=str(payload.get("validUntil", "")),
        checks=tuple(checks),
    )


def _key_source(
    jwks: Mapping[str, Any] | Path | None, issuer_url: str | None, keys: KeyStore | None
) -> tuple[KeySet, str]:
    if jwks is not None:
        if isinstance(jwks, Path):
            try:  # bounded read and depth: a JWKS is a few kB (issue 11, items 6 and 12)
                data = jsonfile.loads(read_bounded(jwks, error=KeySourceError))
            except ValueError as e:
                raise KeySourceError(f"{jwks}: the JWKS file cannot be read ({e})") from None
            return import_key_set(data, source=str(jwks)), str(jwks)
        return import_key_set(dict(jwks), source="the JWKS given"), "the JWKS given"
    if issuer_url is not None:
        url = issuer_url.rstrip("/") + JWKS_PATH
        data = fetch_json(url, KeySourceError, "the issuer's JWKS")
        return import_key_set(data, source=url), url
    if keys is None:
        raise KeySourceError("give the issuer's JWKS, its URL or the issuer's own key store")
    return keys.public_keys(), f"the local key store {keys.folder}"


def _check_issuer(issuer: str, issuer_url: str | None) -> str:
    if not issuer:
        raise MalformedCredentialError("the certificate names no issuer")
    if (
        issuer_url is not None
        and issuer.startswith(("http://", "https://"))
        and issuer.rstrip("/") != issuer_url.rstrip("/")
    ):
        raise IssuerMismatchError(
            f"the certificate was issued by {issuer}, not by {issuer_url} whose keys were used"
        )
    return f"ok: {issuer}"


def _check_digest(subject: Mapping[str, Any], footprint: Mapping[str, Any] | None) -> str:
    bound = subject.get("footprintDigest")
    expected = bound.get("value") if isinstance(bound, dict) else None
    if not isinstance(expected, str):
        raise MalformedCredentialError("the credential subject has no footprintDigest value")
    if footprint is None:
        return "not checked: no footprint JSON given"
    actual = footprint_digest(footprint)
    if actual != expected:
        doc = unwrap_footprint(footprint)
        hint = ""
        if doc.get("id") and f"urn:uuid:{doc.get('id')}" != subject.get("id"):
            hint = f" (it is footprint {doc.get('id')}, the certificate binds {subject.get('id')})"
        raise DigestMismatchError(
            f"the footprint's SHA-256 {actual[:16]}... is not the certified {expected[:16]}...: "
            f"the footprint JSON was changed or is another footprint{hint}"
        )
    return f"ok: sha-256 {actual[:16]}..."
