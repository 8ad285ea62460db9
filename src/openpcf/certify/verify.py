"""Verifying a green certificate: integrity, then origin.

:func:`verify_certificate` runs the checks in a fixed order and raises on the first failure,
each with its own error class (see :mod:`openpcf.certify.errors`): format, key, signature,
issuer, validity period, footprint digest, the verifier's attestation, revocation, and last
who signed.

Integrity and origin are two questions. A signature that verifies with a key that came with
the certificate (or a JWKS file beside it) shows that nothing changed since signing; it shows
nothing about who signed, since anyone can make a key pair and a JWKS. Who signed is known
only for a key from a trust anchor (:mod:`openpcf.certify.trust`). Each signature
(certificate, attestation) is reported with its key id, where the key came from, whether it is
trusted and why:

- no anchor given: every check can pass, and the verdict is "signature valid, signer not
  authenticated" (:attr:`Verification.trusted` is None; the CLI exits 40);
- anchors given: a signature by any other key raises :class:`UntrustedSignerError` (41).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from joserfc.jwk import KeySet

from openpcf.certify.attestation import (
    attestation_summary,
    check_attestation,
    check_binding,
    embedded_tokens,
    file_sha256,
    is_summary,
    issuer_id,
    token_digest,
)
from openpcf.certify.credential import JWKS_PATH, as_utc, check_validity, read_payload
from openpcf.certify.errors import (
    AttestationError,
    AttestationMismatchError,
    CredentialExpiredError,
    DigestMismatchError,
    IssuerMismatchError,
    KeySourceError,
    MalformedCredentialError,
    NotYetValidError,
    SignatureInvalidError,
    SignerNotAuthenticatedError,
    UnknownKeyError,
    UntrustedSignerError,
)
from openpcf.certify.jose import CompactJws, import_key_set, parse_compact, verify_compact
from openpcf.certify.keys import KeyStore
from openpcf.certify.remote import fetch_json, require_https, tls_description
from openpcf.certify.revocation import check_revocation
from openpcf.certify.subject import footprint_digest, unwrap_footprint
from openpcf.certify.trust import (
    KeyGroup,
    KeyMatch,
    TrustAnchors,
    find_key,
    read_jwks_file,
    thumbprint,
    untrusted_group,
)
from openpcf.errors import located

#: Why keys that travel with a certificate prove nothing about who signed.
UNTRUSTED_WHY = "given with the certificate, not a trust anchor: proves integrity, not who signed"
NOT_AUTHENTICATED = "signature valid, signer not authenticated (no trust anchor given)"


@dataclass(frozen=True, slots=True, kw_only=True)
class SignatureCheck:
    """One signature: which key, from where, trusted or not, and why."""

    credential: str  # "certificate" or "attestation"
    kid: str
    alg: str
    signer: str  # the credential's issuer id
    key_source: str
    trusted: bool
    why: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "credential": self.credential,
            "kid": self.kid,
            "alg": self.alg,
            "signer": self.signer,
            "key_source": self.key_source,
            "trusted": self.trusted,
            "why": self.why,
        }

    def line(self) -> str:
        state = "trusted" if self.trusted else "NOT trusted"
        return f"{self.credential}: key {self.kid} from {self.key_source}: {state} ({self.why})"


@dataclass(frozen=True, slots=True, kw_only=True)
class Verification:
    """A certificate whose checks passed; ``checks`` says what each found, ``signatures`` who
    signed, and :attr:`trusted` whether each signer is authenticated (None: no anchor given).
    """

    id: str
    issuer: str
    kid: str
    subject: Mapping[str, Any] = field(repr=False)
    valid_until: str
    checks: tuple[tuple[str, str], ...]
    signatures: tuple[SignatureCheck, ...] = ()
    anchors: tuple[str, ...] = ()
    attestation: Mapping[str, Any] | None = field(default=None, repr=False)

    @property
    def trusted(self) -> bool | None:
        """True when every signer is trusted, False when one is not, None without anchors."""
        if not self.anchors:
            return None
        return all(s.trusted for s in self.signatures)

    @property
    def verdict(self) -> str:
        if self.trusted is None:
            return NOT_AUTHENTICATED
        if self.trusted:
            return "signatures valid, every signer trusted"
        untrusted = ", ".join(s.credential for s in self.signatures if not s.trusted)
        return f"signature valid, but the signer of the {untrusted} is not trusted"

    def require_authenticated(self) -> None:
        """Raise unless every signer is trusted.

        Raises
        ------
        SignerNotAuthenticatedError
            No trust anchor was given (exit 40).
        UntrustedSignerError
            A signer is not among the anchors (exit 41).
        """
        if self.trusted is None:
            raise SignerNotAuthenticatedError(
                f"{NOT_AUTHENTICATED}: the keys used came with the certificate, which anyone "
                "can make; trust the issuer's and the verifier's keys with --trust-list, "
                "--trust-jwks, --trust-kid or --issuer-url (https)"
            )
        if self.trusted is False:
            error = UntrustedSignerError(_untrusted_message(self.signatures, self.anchors))
            error.signatures = self.signatures
            raise error

    def to_dict(self) -> dict[str, Any]:
        return {
            "valid": self.trusted is True,
            "integrity": True,
            "trusted": self.trusted,
            "verdict": self.verdict,
            "id": self.id,
            "issuer": self.issuer,
            "kid": self.kid,
            "valid_until": self.valid_until,
            "checks": dict(self.checks),
            "signatures": [s.to_dict() for s in self.signatures],
            "trust_anchors": list(self.anchors),
            "attestation": dict(self.attestation) if self.attestation else None,
            "self_declared": self.subject.get("selfDeclaredAssurance"),
            "subject": dict(self.subject),
        }


def _untrusted_message(signatures: Sequence[SignatureCheck], anchors: Sequence[str]) -> str:
    bad = [s for s in signatures if not s.trusted]
    parts = [f"the {s.credential} is signed by key {s.kid} ({s.why})" for s in bad]
    return (
        f"{'; '.join(parts)}: not among the trusted keys ({len(anchors)} trust anchor(s)); "
        "the signer is not authenticated"
    )


def verify_certificate(
    token: str,
    *,
    jwks: Mapping[str, Any] | Path | Sequence[Mapping[str, Any] | Path] | None = None,
    trust: TrustAnchors | None = None,
    issuer_url: str | None = None,
    ca_file: Path | str | None = None,
    footprint: Mapping[str, Any] | None = None,
    package: Path | str | None = None,
    status_list: str | None = None,
    keys: KeyStore | None = None,
    require_attestation: bool = False,
    now: dt.datetime | None = None,
) -> Verification:
    """Check a certificate; return what it says, or raise naming the check that failed.

    Parameters
    ----------
    jwks
        Public keys that came with the certificate (a JWKS document or file, or several): they
        check signatures but authenticate nobody.
    trust
        The trust anchors (trust list, pinned JWKS and key ids). With anchors (these,
        ``issuer_url`` or ``keys``) every signature must be by a trusted key.
    issuer_url
        The issuer's ``https://`` URL: its ``/.well-known/jwks.json`` is fetched over TLS
        (``ca_file``: a PEM bundle for a private CA) and trusted for that issuer; the status
        list the certificate names is fetched the same way.
    footprint, package
        The PACT footprint the certificate must bind, and the package file its attestation
        must bind; without them those checks say "not checked".
    status_list
        The issuer's signed status list, as text.
    keys
        The verifying party's own key store: its certificates are trusted, and revocation is
        checked against its registry.
    require_attestation
        Fail (:class:`AttestationError`) when there is no third-party attestation.

    Raises
    ------
    MalformedCredentialError, UnknownKeyError, SignatureInvalidError, IssuerMismatchError,
    CredentialExpiredError, NotYetValidError, DigestMismatchError, AttestationError,
    AttestationMismatchError, CredentialRevokedError, StatusListError, KeySourceError,
    UntrustedSignerError
        The first check that failed (each a :class:`CertificateError`).
    """
    moment = as_utc(now)
    parsed = parse_compact(token, what="certificate")
    anchors, untrusted = _key_sources(jwks, trust, issuer_url, ca_file, keys)
    match = _verified(parsed, "certificate", "issuer", anchors, untrusted)
    payload = read_payload(parsed, "certificate")
    kid = str(parsed.header["kid"])
    checks: list[tuple[str, str]] = [
        ("format", "ok: compact JWS, vc+jwt"),
        ("key", f"ok: {kid} from {match.group.source}"),
        ("signature", f"ok: {parsed.header['alg']}"),
    ]
    issuer = issuer_id(payload)
    checks.append(("issuer", _check_issuer(issuer, issuer_url, match)))
    checks.append(("validity", check_validity(payload, moment, "certificate")))
    subject = payload["credentialSubject"]
    checks.append(("digest", _check_digest(subject, footprint)))
    signatures = [_signature("certificate", parsed, issuer, match)]
    try:
        attested = _check_attestation(
            payload, match, anchors, untrusted, package, require_attestation, moment
        )
    except UntrustedSignerError as e:  # the attestation's key is nowhere: say all in one
        e.signatures = (*signatures, *e.signatures)
        e.args = (_untrusted_message(e.signatures, anchors.describe()),)
        raise
    if attested.signature is not None:
        signatures.append(attested.signature)
    checks.append(("attestation", attested.outcome))
    if "selfDeclaredAssurance" in subject or attested.legacy:
        checks.append(("assurance", _self_declared(subject)))
    registry = keys if match.group.kind == "key-store" else None
    revocation = check_revocation(
        payload,
        match.group.keys,
        status_list,
        online=issuer_url is not None,
        ca_file=ca_file,
        registry=registry,
        now=moment,
    )
    checks.append(("revocation", revocation))
    verification = Verification(
        id=str(payload.get("id", "")),
        issuer=issuer,
        kid=kid,
        subject=subject,
        valid_until=str(payload.get("validUntil", "")),
        checks=tuple(checks),
        signatures=tuple(signatures),
        anchors=tuple(anchors.describe()),
        attestation=attested.payload,
    )
    if verification.trusted is False:
        verification.require_authenticated()
    return verification


# --------------------------------------------------------------------------------------------
# keys


def _key_sources(
    jwks: Mapping[str, Any] | Path | Sequence[Mapping[str, Any] | Path] | None,
    trust: TrustAnchors | None,
    issuer_url: str | None,
    ca_file: Path | str | None,
    keys: KeyStore | None,
) -> tuple[TrustAnchors, list[KeyGroup]]:
    anchors = trust or TrustAnchors()
    if issuer_url is not None:
        url = issuer_url.rstrip("/") + JWKS_PATH
        require_https(url, KeySourceError, "the issuer's JWKS")
        data = fetch_json(url, KeySourceError, "the issuer's JWKS", ca_file=ca_file)
        group = KeyGroup(
            source=url,
            keys=import_key_set(data, source=url),
            trusted=True,
            why=f"fetched over HTTPS from the issuer URL given (TLS checked against "
            f"{tls_description(ca_file)}); trusted as the issuer {issuer_url.rstrip('/')}",
            roles=frozenset({"issuer"}),
            kind="issuer-url",
        )
        anchors = anchors + TrustAnchors((group,))
    if keys is not None and keys.exists():
        group = KeyGroup(
            source=f"the local key store {keys.folder}",
            keys=keys.public_keys(),
            trusted=True,
            why="this installation's own issuer key store",
            roles=frozenset({"issuer"}),
            kind="key-store",
        )
        anchors = anchors + TrustAnchors((group,))
    untrusted: list[KeyGroup] = []
    given = [] if jwks is None else [jwks] if isinstance(jwks, Mapping | Path) else list(jwks)
    for n, item in enumerate(given):
        if isinstance(item, Path):
            untrusted.append(untrusted_group(read_jwks_file(item), str(item), UNTRUSTED_WHY))
        else:
            source = "the JWKS given" if len(given) == 1 else f"JWKS #{n + 1} given"
            untrusted.append(untrusted_group(dict(item), source, UNTRUSTED_WHY))
    if anchors.empty and not untrusted:
        raise KeySourceError(
            "no keys to check the certificate with: give a trust anchor (--trust-list, "
            "--trust-jwks, --trust-kid, --issuer-url) or at least the issuer's JWKS (--jwks)"
        )
    return anchors, untrusted


def _verified(
    parsed: CompactJws, what: str, role: str, anchors: TrustAnchors, untrusted: list[KeyGroup]
) -> KeyMatch:
    """The key that checks ``parsed``'s signature (trusted or not), once it has checked it."""
    kid = str(parsed.header["kid"])
    match = find_key(kid, role, anchors, untrusted)
    if match is None:
        if not anchors.empty:
            error = UntrustedSignerError(
                f"the {what} was signed with key {kid!r}, which is not among the trusted keys "
                f"({'; '.join(anchors.describe())}), and no other key given has that id: the "
                "signer is not authenticated"
            )
            error.signatures = (
                SignatureCheck(
                    credential=what,
                    kid=kid,
                    alg=str(parsed.header.get("alg")),
                    signer="",
                    key_source="none",
                    trusted=False,
                    why="not among the trusted keys, and no key given has that id",
                ),
            )
            raise error
        given = ", ".join(str(k.kid) for g in untrusted for k in g.keys.keys) or "none"
        raise UnknownKeyError(
            f"the {what} was signed with key {kid!r}, which is not among the public keys given "
            f"({given}); get the signer's current JWKS or check who signed it"
        )
    verify_compact(parsed, KeySet([match.key]), what=what)
    return match


def _signature(what: str, parsed: CompactJws, signer: str, match: KeyMatch) -> SignatureCheck:
    return SignatureCheck(
        credential=what,
        kid=match.kid,
        alg=str(parsed.header["alg"]),
        signer=signer,
        key_source=match.group.source,
        trusted=match.trusted,
        why=match.why,
    )


def _check_issuer(issuer: str, issuer_url: str | None, match: KeyMatch) -> str:
    if not issuer:
        raise MalformedCredentialError("the certificate names no issuer")
    by_url = issuer_url is not None and (
        match.group.kind == "issuer-url" or issuer.startswith(("http://", "https://"))
    )
    if by_url and issuer.rstrip("/") != str(issuer_url).rstrip("/"):
        raise IssuerMismatchError(
            f"the certificate was issued by {issuer}, not by {issuer_url} whose keys were used"
        )
    entry = match.entry
    if match.trusted and entry is not None and entry.issuer and entry.issuer != issuer:
        raise IssuerMismatchError(
            f"the certificate names issuer {issuer}, but key {match.kid} is trusted for "
            f"{entry.describe()} with issuer {entry.issuer}"
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


def _self_declared(subject: Mapping[str, Any]) -> str:
    declared = subject.get("selfDeclaredAssurance") or subject.get("attestation") or {}
    verifier = declared.get("verifier", {}) if isinstance(declared, dict) else {}
    name = verifier.get("name", "") if isinstance(verifier, dict) else ""
    return (
        f"self-declared by the issuer: {declared.get('assuranceLevel', '?')} assurance, "
        f"{declared.get('standard', '?')}, verifier {name!r} named by the issuer, who alone "
        "signed this (not a third-party attestation)"
    )


# --------------------------------------------------------------------------------------------
# the verifier's attestation


@dataclass(frozen=True, slots=True)
class _Attested:
    outcome: str
    signature: SignatureCheck | None = None
    payload: Mapping[str, Any] | None = None
    legacy: bool = False


#: Failures of the attestation's own checks, reported as "attestation <check>".
_RELABELLED = (
    MalformedCredentialError,
    UnknownKeyError,
    SignatureInvalidError,
    CredentialExpiredError,
    NotYetValidError,
)


def _check_attestation(
    payload: Mapping[str, Any],
    certificate_key: KeyMatch,
    anchors: TrustAnchors,
    untrusted: list[KeyGroup],
    package: Path | str | None,
    required: bool,
    now: dt.datetime,
) -> _Attested:
    subject = payload["credentialSubject"]
    summary = subject.get("attestation")
    tokens = embedded_tokens(payload)
    if summary is None or not is_summary(summary):
        if tokens:
            raise AttestationMismatchError(
                "the certificate embeds an attestation but does not bind it in its subject"
            )
        if required:
            declared = summary is not None or "selfDeclaredAssurance" in subject
            raise AttestationError(
                "the certificate carries no third-party attestation"
                + (" (only a self-declared assurance)" if declared else "")
            )
        return _Attested("none: no third-party attestation", legacy=summary is not None)
    bound = summary.get("digest")
    digest = bound.get("value") if isinstance(bound, dict) else None
    token = next((t for t in tokens if token_digest(t) == digest), None)
    if token is None:
        raise AttestationMismatchError(
            f"the certificate binds attestation {summary.get('id')} (SHA-256 "
            f"{str(digest)[:16]}...), but embeds no attestation with that digest: it was "
            "replaced or removed"
        )
    try:
        parsed = parse_compact(token, what="attestation")
        match = _verified(parsed, "attestation", "verifier", anchors, untrusted)
        attestation = read_payload(parsed, "attestation")
        attested = check_attestation(attestation)
        check_validity(attestation, now, "attestation")
    except _RELABELLED as e:
        relabelled = located(e, "the verifier's attestation")
        relabelled.check = f"attestation {e.check}"
        raise relabelled from None
    signer = issuer_id(attestation)
    certificate_print = thumbprint(certificate_key.key)
    if thumbprint(match.key) == certificate_print or signer == issuer_id(payload):
        raise AttestationError(
            f"the attestation is signed by the certificate's own issuer ({signer}, key "
            f"{match.kid}): self-attested, not a third-party verification"
        )
    check_binding(
        attested,
        footprint_sha256=subject["footprintDigest"]["value"],
        package_sha256=file_sha256(package) if package is not None else None,
    )
    expected = attestation_summary(token, attestation)
    differs = sorted(k for k in set(expected) | set(summary) if expected.get(k) != summary.get(k))
    if differs:
        raise AttestationMismatchError(
            f"the certificate's summary of the attestation differs from the attestation it "
            f"embeds ({', '.join(differs)}): e.g. assurance {summary.get('assuranceLevel')!r} "
            f"in the certificate, {expected['assuranceLevel']!r} attested"
        )
    verifier = attested["verifier"]
    entry = match.entry
    if match.trusted and entry is not None:
        if entry.accreditation_id and entry.accreditation_id != verifier.get("accreditationId"):
            raise AttestationError(
                f"the attestation claims accreditation {verifier.get('accreditationId')!r}, but "
                f"the trust list has {entry.accreditation_id!r} for {entry.name!r}"
            )
        if entry.issuer and entry.issuer != signer:
            raise AttestationError(
                f"the attestation names issuer {signer}, but the trust list has {entry.issuer} "
                f"for {entry.name!r}"
            )
    verification = attested["verification"]
    package_check = (
        "binds the package given"
        if package is not None
        else "package not checked (no --package given)"
    )
    outcome = (
        f"ok: {verification['assuranceLevel']} assurance ({verification['standard']}; criteria "
        f"{', '.join(map(str, verification['criteria']))}) by {verifier.get('name')!r}, "
        f"accreditation {verifier.get('accreditationId')} ({verifier.get('accreditationBody')}), "
        f"completed {verification.get('completed')}; binds this footprint; {package_check}"
    )
    return _Attested(
        outcome,
        signature=_signature("attestation", parsed, signer, match),
        payload={"id": attestation.get("id"), "issuer": attestation.get("issuer"), **attested},
    )


__all__ = [
    "NOT_AUTHENTICATED",
    "SignatureCheck",
    "Verification",
    "verify_certificate",
]
