"""Certificate errors, part of the one error tree rooted at :class:`OpenPCFError`.

Every failed check of :func:`openpcf.certify.verify_certificate` raises its own subclass of
:class:`CertificateError`, whose ``check`` names the check and whose ``exit_code`` is distinct,
so scripts can tell "the signature is wrong" from "the certificate was revoked".

Exit codes come in families of ten: 10-19 the integrity of one credential (its format, key,
signature, validity, revocation, the footprint it binds), 20-21 the audit trail, 30-31 a
verification package (30 not reproduced, 31 not signed by a trusted key), 40-44 who signed and
what a third party attested. A check of the verifier's attestation embedded in a certificate
fails with the code of the same check on the certificate (a changed attestation: 13; an
expired one: 14) and its ``check`` says ``attestation <check>``.

| check               | class                       | exit |
|---------------------|-----------------------------|------|
| jwks                | KeySourceError              | 10   |
| format              | MalformedCredentialError    | 11   |
| key                 | UnknownKeyError             | 12   |
| signature           | SignatureInvalidError       | 13   |
| expiry              | CredentialExpiredError      | 14   |
| not-before          | NotYetValidError            | 15   |
| revocation          | CredentialRevokedError      | 16   |
| status-list         | StatusListError             | 17   |
| digest              | DigestMismatchError         | 18   |
| issuer              | IssuerMismatchError         | 19   |
| trust               | SignerNotAuthenticatedError | 40   |
| trust               | UntrustedSignerError        | 41   |
| attestation         | AttestationError            | 42   |
| attestation-binding | AttestationMismatchError    | 43   |
| trust-list          | TrustListError              | 44   |

40 is not a failed signature: every signature verified, but no trust anchor was given, so
nothing says who signed (a key that came with the certificate proves integrity, not origin).
41 is the certificate's counterpart of a package's 31: trust anchors were given and a signer
is not among them.
"""

from __future__ import annotations

from typing import Any

from openpcf.errors import InputError, OpenPCFError


class CertificateError(OpenPCFError):
    """A certificate (or the material to check it) failed a check; ``check`` names which."""

    exit_code = 10
    check = "certificate"


class KeySourceError(CertificateError):
    """The issuer's public keys cannot be read (JWKS file or URL) or fetched."""

    check = "jwks"


class MalformedCredentialError(CertificateError, ValueError):
    """The token is not a compact JWS carrying a verifiable credential."""

    exit_code = 11
    check = "format"


class UnknownKeyError(CertificateError, LookupError):
    """The token names a key (``kid``) that is not among the issuer's public keys."""

    exit_code = 12
    check = "key"


class SignatureInvalidError(CertificateError):
    """The signature does not verify: the header, payload or signature were changed."""

    exit_code = 13
    check = "signature"


class CredentialExpiredError(CertificateError):
    """The credential is past its ``exp`` / ``validUntil``."""

    exit_code = 14
    check = "expiry"


class NotYetValidError(CertificateError):
    """The credential's ``nbf`` / ``validFrom`` is in the future."""

    exit_code = 15
    check = "not-before"


class CredentialRevokedError(CertificateError):
    """The issuer's status list marks the credential as revoked."""

    exit_code = 16
    check = "revocation"


class StatusListError(CertificateError):
    """The status list cannot be read, is not signed by the issuer, or is not the one named."""

    exit_code = 17
    check = "status-list"


class DigestMismatchError(CertificateError):
    """The footprint JSON given is not the one the certificate binds (digest differs)."""

    exit_code = 18
    check = "digest"


class IssuerMismatchError(CertificateError):
    """The credential names another issuer than the one whose keys were used."""

    exit_code = 19
    check = "issuer"


class SignerNotAuthenticatedError(CertificateError):
    """Every signature verifies, but no trust anchor was given: the signer is not authenticated.

    The keys used came with the certificate (or a JWKS file beside it), which proves that
    nothing changed since signing, not who signed: anyone can make a key pair and a JWKS.
    """

    exit_code = 40
    check = "trust"


class UntrustedSignerError(CertificateError):
    """Trust anchors were given, but a signature is not by one of their keys (or not in the
    role the anchor trusts it for: a manufacturer's key does not sign attestations).

    ``signatures`` holds what was found for each signature, for the JSON output.
    """

    exit_code = 41
    check = "trust"
    signatures: tuple[Any, ...] = ()


class AttestationError(CertificateError):
    """A verifier's attestation is refused: not an attestation credential, an assurance level
    other than ISO 14064-3's "limited" or "reasonable", signed by the certificate's own issuer,
    missing where one is required, or claiming another accreditation than the trust list."""

    exit_code = 42
    check = "attestation"


class AttestationMismatchError(AttestationError):
    """The attestation binds another footprint or package (digest), or the certificate's
    summary of it differs from the attestation it embeds."""

    exit_code = 43
    check = "attestation-binding"


class TrustListError(CertificateError):
    """A trust list cannot be read or is not a trust list (see ``docs/certificates.md``)."""

    exit_code = 44
    check = "trust-list"


class KeyStoreError(InputError):
    """The local key store has no usable key, or a key operation is not allowed."""


class UncertifiableFootprintError(InputError):
    """A footprint JSON lacks what a certificate binds (id, productIds, pcf amounts, period)."""


class VerifierProfileError(InputError):
    """The verifier's profile (name, accreditation) is missing or cannot be read."""
