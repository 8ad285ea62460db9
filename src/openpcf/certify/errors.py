"""Certificate errors, part of the one error tree rooted at :class:`OpenPCFError`.

Every failed check of :func:`openpcf.certify.verify_certificate` raises its own subclass of
:class:`CertificateError`, whose ``check`` names the check and whose ``exit_code`` is distinct,
so scripts can tell "the signature is wrong" from "the certificate was revoked".

| check       | class                      | exit |
|-------------|----------------------------|------|
| format      | MalformedCredentialError   | 11   |
| key         | UnknownKeyError            | 12   |
| signature   | SignatureInvalidError      | 13   |
| expiry      | CredentialExpiredError     | 14   |
| not-before  | NotYetValidError           | 15   |
| revocation  | CredentialRevokedError     | 16   |
| status-list | StatusListError            | 17   |
| digest      | DigestMismatchError        | 18   |
| issuer      | IssuerMismatchError        | 19   |
| jwks        | KeySourceError             | 10   |
"""

from __future__ import annotations

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


class KeyStoreError(InputError):
    """The local key store has no usable key, or a key operation is not allowed."""


class UncertifiableFootprintError(InputError):
    """A footprint JSON lacks what a certificate binds (id, productIds, pcf amounts, period)."""
