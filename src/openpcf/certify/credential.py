"""The green certificate: a W3C Verifiable Credential secured with JOSE (``vc+jwt``).

The credential binds one PACT footprint. Its subject carries the SHA-256 digest of the
footprint's RFC 8785 canonical JSON together with the values a reader checks at a glance:
product ids, declared unit and amount, the PCF with and without biogenic uptake, the reference
period and, where present, the verifier's attestation (assurance level, standard, verifier).
The JWT payload *is* the credential (VC Data Model 2.0, VC-JOSE-COSE), with the JWT registered
claims ``iss``, ``jti``, ``iat``, ``nbf`` and ``exp`` mirroring ``issuer``, ``id``,
``validFrom`` and ``validUntil``; the header is ``{"alg", "kid", "typ": "vc+jwt", "cty": "vc"}``.

:func:`verify_certificate` runs the checks in a fixed order and raises on the first failure,
each with its own error class (see :mod:`openpcf.certify.errors`): format, key, signature,
issuer, validity period, footprint digest, revocation.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import rfc8785
from joserfc.jwk import KeySet

from openpcf.certify.errors import (
    CertificateError,
    CredentialExpiredError,
    CredentialRevokedError,
    DigestMismatchError,
    IssuerMismatchError,
    KeySourceError,
    MalformedCredentialError,
    NotYetValidError,
    StatusListError,
    UncertifiableFootprintError,
)
from openpcf.certify.jose import (
    CompactJws,
    import_key_set,
    parse_compact,
    sign_compact,
    verify_compact,
)
from openpcf.certify.keys import KeyStore
from openpcf.certify.status import (
    StatusRegistry,
    bit,
    decode_list,
    encode_list,
    status_list_url,
)

VC_CONTEXT = "https://www.w3.org/ns/credentials/v2"
CREDENTIAL_TYPE = "ProductCarbonFootprintCredential"
JWKS_PATH = "/.well-known/jwks.json"
MEDIA_TYPE = "application/vc+jwt"
DEFAULT_VALIDITY = dt.timedelta(days=365)
STATUS_VALIDITY = dt.timedelta(days=1)


@dataclass(frozen=True, slots=True, kw_only=True)
class Attestation:
    """A third-party verifier's attestation of the footprint (ISO 14064-3 / ISO 14067)."""

    verifier_name: str
    assurance: Literal["limited", "reasonable"]
    standard: str = "ISO14064-3"
    verifier_id: str = ""
    completed: str = ""  # date the verification was completed (ISO 8601)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "assuranceLevel": self.assurance,
            "standard": self.standard,
            "verifier": {"name": self.verifier_name},
        }
        if self.verifier_id:
            out["verifier"]["id"] = self.verifier_id
        if self.completed:
            out["completed"] = self.completed
        return out


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


# --------------------------------------------------------------------------------------------
# the footprint and its digest


def footprint_digest(footprint: Mapping[str, Any]) -> str:
    """SHA-256 (hex) of the RFC 8785 canonical JSON of a PACT footprint."""
    try:
        return hashlib.sha256(rfc8785.dumps(_unwrap(footprint))).hexdigest()
    except rfc8785.CanonicalizationError as e:
        raise UncertifiableFootprintError(f"the footprint cannot be canonicalised: {e}") from None


def _unwrap(doc: Mapping[str, Any]) -> Mapping[str, Any]:
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
    footprint: Mapping[str, Any], *, attestation: Attestation | None = None
) -> dict[str, Any]:
    """The ``credentialSubject`` for a PACT v3 (or v2.3) ProductFootprint.

    Raises
    ------
    UncertifiableFootprintError
        If the document lacks an id, productIds, the declared unit, the PCF amounts or the
        reference period.
    """
    doc = _unwrap(footprint)
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
    found = attestation.to_dict() if attestation else _pact_assurance(pcf)
    if found:
        subject["attestation"] = found
    return subject


def _pact_assurance(pcf: Mapping[str, Any]) -> dict[str, Any] | None:
    """The attestation a PACT footprint states itself (``pcf.assurance``), if any."""
    a = pcf.get("assurance")
    if not isinstance(a, dict) or not a.get("assurance", True):
        return None
    out: dict[str, Any] = {
        "assuranceLevel": a.get("level", ""),
        "standard": a.get("standardName", ""),
        "verifier": {"name": a.get("providerName", "")},
    }
    if a.get("completedAt"):
        out["completed"] = a["completedAt"]
    return out


# --------------------------------------------------------------------------------------------
# issuing


def _utc(moment: dt.datetime | None) -> dt.datetime:
    moment = moment or dt.datetime.now(dt.UTC)
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def _iso(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def issue_certificate(
    footprint: Mapping[str, Any],
    *,
    keys: KeyStore | None = None,
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
        The key store; ``$OPENPCF_HOME/keys`` by default.
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
    """
    store = keys or KeyStore()
    subject = footprint_subject(footprint, attestation=attestation)
    info = store.active()
    issuer = store.issuer
    start = _utc(now).replace(microsecond=0)
    end = start + valid_for
    cred_id = f"urn:uuid:{uuid.uuid4()}"
    payload: dict[str, Any] = {
        "@context": [VC_CONTEXT],
        "id": cred_id,
        "type": ["VerifiableCredential", CREDENTIAL_TYPE],
        "issuer": issuer,
        "validFrom": _iso(start),
        "validUntil": _iso(end),
        "credentialSubject": subject,
    }
    index = None
    if revocable:
        index = StatusRegistry(store.folder).allocate(
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
    payload |= {
        "iss": issuer,
        "jti": cred_id,
        "iat": int(start.timestamp()),
        "nbf": int(start.timestamp()),
        "exp": int(end.timestamp()),
    }
    token = _sign(payload, store)
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


def _sign(payload: Mapping[str, Any], store: KeyStore) -> str:
    info, key = store.signing_key()
    header = {"alg": info.alg, "kid": info.kid, "typ": "vc+jwt", "cty": "vc"}
    body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return sign_compact(header, body, key)


def revoke_certificate(credential_id: str, *, keys: KeyStore | None = None) -> int:
    """Revoke a certificate this key store issued; return its status-list index.

    Publish the new list (:func:`status_list`) for verifiers to see the revocation.
    """
    store = keys or KeyStore()
    return StatusRegistry(store.folder).revoke(credential_id)


def status_list_document(
    *, keys: KeyStore | None = None, now: dt.datetime | None = None
) -> dict[str, Any]:
    """The issuer's ``BitstringStatusListCredential`` (unsigned payload)."""
    store = keys or KeyStore()
    issuer = store.issuer
    url = status_list_url(issuer)
    start = _utc(now).replace(microsecond=0)
    end = start + STATUS_VALIDITY
    return {
        "@context": [VC_CONTEXT],
        "id": url,
        "type": ["VerifiableCredential", "BitstringStatusListCredential"],
        "issuer": issuer,
        "validFrom": _iso(start),
        "validUntil": _iso(end),
        "credentialSubject": {
            "id": f"{url}#list",
            "type": "BitstringStatusList",
            "statusPurpose": "revocation",
            "encodedList": encode_list(StatusRegistry(store.folder).revoked_indexes()),
        },
        "iss": issuer,
        "jti": url,
        "iat": int(start.timestamp()),
        "exp": int(end.timestamp()),
    }


def status_list(*, keys: KeyStore | None = None, now: dt.datetime | None = None) -> str:
    """The issuer's revocation list as a signed ``vc+jwt`` (serve as ``application/vc+jwt``)."""
    store = keys or KeyStore()
    return _sign(status_list_document(keys=store, now=now), store)


# --------------------------------------------------------------------------------------------
# verifying


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
    payload = _payload(parsed, "certificate")
    kid = str(parsed.header["kid"])
    checks: list[tuple[str, str]] = [
        ("format", "ok: compact JWS, vc+jwt"),
        ("key", f"ok: {kid} from {source}"),
        ("signature", f"ok: {parsed.header['alg']}"),
    ]
    issuer = str(payload.get("issuer") or payload.get("iss") or "")
    checks.append(("issuer", _check_issuer(issuer, issuer_url)))
    checks.append(("validity", _check_validity(payload, _utc(now), "certificate")))
    subject = payload["credentialSubject"]
    checks.append(("digest", _check_digest(subject, footprint)))
    checks.append(
        ("revocation", _check_status(payload, keyset, status_list, issuer_url, jwks, keys, now))
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
            try:
                data = json.loads(jwks.read_text(encoding="utf-8"))
            except (OSError, ValueError) as e:
                raise KeySourceError(f"{jwks}: the JWKS file cannot be read ({e})") from None
            return import_key_set(data, source=str(jwks)), str(jwks)
        return import_key_set(dict(jwks), source="the JWKS given"), "the JWKS given"
    if issuer_url is not None:
        url = issuer_url.rstrip("/") + JWKS_PATH
        data = _fetch_json(url, KeySourceError, "the issuer's JWKS")
        return import_key_set(data, source=url), url
    store = keys or KeyStore()
    return store.public_keys(), f"the local key store {store.folder}"


def _fetch(url: str, error: type[CertificateError], what: str) -> bytes:
    try:
        import httpx
    except ImportError:
        raise error(
            f"online verification needs httpx (pip install httpx); or download {url} and pass "
            "it as a file"
        ) from None
    try:
        response = httpx.get(url, timeout=10.0, follow_redirects=True)
        response.raise_for_status()
    except httpx.HTTPError as e:
        raise error(f"{what} cannot be fetched from {url}: {e}") from None
    return response.content


def _fetch_json(url: str, error: type[CertificateError], what: str) -> Any:
    try:
        return json.loads(_fetch(url, error, what))
    except ValueError:
        raise error(f"{what} at {url} is not JSON") from None


def _payload(parsed: CompactJws, what: str) -> dict[str, Any]:
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


def _timestamp(payload: Mapping[str, Any], claim: str, field: str) -> dt.datetime | None:
    if isinstance(payload.get(claim), int | float):
        return dt.datetime.fromtimestamp(payload[claim], dt.UTC)
    value = payload.get(field)
    if isinstance(value, str):
        try:
            return _utc(dt.datetime.fromisoformat(value.replace("Z", "+00:00")))
        except ValueError:
            raise MalformedCredentialError(f"{field} {value!r} is not an ISO 8601 time") from None
    return None


def _check_validity(payload: Mapping[str, Any], now: dt.datetime, what: str) -> str:
    end = _timestamp(payload, "exp", "validUntil")
    start = _timestamp(payload, "nbf", "validFrom")
    if end is not None and now >= end:
        raise CredentialExpiredError(
            f"the {what} expired on {_iso(end)} (checked at {_iso(now)}); ask the issuer for a "
            "new one"
        )
    if start is not None and now < start:
        raise NotYetValidError(f"the {what} is valid only from {_iso(start)} (now {_iso(now)})")
    return f"ok: valid until {_iso(end)}" if end else "ok: no expiry"


def _check_digest(subject: Mapping[str, Any], footprint: Mapping[str, Any] | None) -> str:
    bound = subject.get("footprintDigest")
    expected = bound.get("value") if isinstance(bound, dict) else None
    if not isinstance(expected, str):
        raise MalformedCredentialError("the credential subject has no footprintDigest value")
    if footprint is None:
        return "not checked: no footprint JSON given"
    actual = footprint_digest(footprint)
    if actual != expected:
        doc = _unwrap(footprint)
        hint = ""
        if doc.get("id") and f"urn:uuid:{doc.get('id')}" != subject.get("id"):
            hint = f" (it is footprint {doc.get('id')}, the certificate binds {subject.get('id')})"
        raise DigestMismatchError(
            f"the footprint's SHA-256 {actual[:16]}... is not the certified {expected[:16]}...: "
            f"the footprint JSON was changed or is another footprint{hint}"
        )
    return f"ok: sha-256 {actual[:16]}..."


def _check_status(
    payload: Mapping[str, Any],
    keyset: KeySet,
    status_list: str | None,
    issuer_url: str | None,
    jwks: Any,
    keys: KeyStore | None,
    now: dt.datetime | None,
) -> str:
    entry = payload.get("credentialStatus")
    if entry is None:
        return "not applicable: the certificate carries no credentialStatus"
    if not isinstance(entry, dict) or entry.get("type") != "BitstringStatusListEntry":
        raise MalformedCredentialError("credentialStatus is not a BitstringStatusListEntry")
    try:
        index = int(entry["statusListIndex"])
        url = str(entry["statusListCredential"])
    except (KeyError, TypeError, ValueError):
        raise MalformedCredentialError(
            "credentialStatus lacks a numeric statusListIndex or a statusListCredential"
        ) from None
    if status_list is None and issuer_url is not None and url.startswith(("http://", "https://")):
        status_list = _fetch(url, StatusListError, "the status list").decode("utf-8", "replace")
    if status_list is None:
        if jwks is None and issuer_url is None:  # the issuer checking its own certificate
            registry = StatusRegistry((keys or KeyStore()).folder)
            if index in registry.revoked_indexes():
                raise CredentialRevokedError(
                    f"certificate {payload.get('id')} was revoked (local issuer registry, "
                    f"status-list index {index})"
                )
            return f"ok: not revoked (local issuer registry, index {index})"
        return "not checked: give the issuer's status list (--status-list) or verify online"
    bits = _status_bits(status_list, keyset, url, str(entry.get("statusPurpose")), now)
    if bit(bits, index):
        raise CredentialRevokedError(
            f"certificate {payload.get('id')} is revoked: bit {index} of status list {url} is set"
        )
    return f"ok: not revoked (index {index} of {url})"


def _status_bits(
    text: str, keyset: KeySet, url: str, purpose: str, now: dt.datetime | None
) -> bytes:
    try:
        parsed = parse_compact(text, what="status list")
        verify_compact(parsed, keyset, what="status list")
        doc = _payload(parsed, "status list")
        _check_validity(doc, _utc(now), "status list")
    except StatusListError:
        raise
    except CertificateError as e:
        raise StatusListError(f"the status list cannot be trusted: {e}") from None
    if "BitstringStatusListCredential" not in doc.get("type", []):
        raise StatusListError("the status list is not a BitstringStatusListCredential")
    if doc.get("id") != url:
        raise StatusListError(
            f"the status list given is {doc.get('id')}, but the certificate names {url}"
        )
    subject = doc.get("credentialSubject")
    if not isinstance(subject, dict) or subject.get("statusPurpose") != purpose:
        raise StatusListError(f"the status list is not a {purpose!r} list")
    return decode_list(str(subject.get("encodedList", "")))
