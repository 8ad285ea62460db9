"""Green certificates: W3C Verifiable Credentials secured with JOSE (``vc+jwt``).

Public API: :func:`issue_certificate`, :func:`verify_certificate`, :func:`revoke_certificate`,
:func:`jwks` (the ``/.well-known/jwks.json`` document), :func:`status_list` (the signed
revocation list served at :data:`STATUS_LIST_PATH`), :class:`KeyStore`, and the errors in
:mod:`openpcf.certify.errors`. See ``docs/certificates.md``.
"""

from __future__ import annotations

from typing import Any

from openpcf.certify.credential import JWKS_PATH, MEDIA_TYPE
from openpcf.certify.errors import (
    CertificateError,
    CredentialExpiredError,
    CredentialRevokedError,
    DigestMismatchError,
    IssuerMismatchError,
    KeySourceError,
    KeyStoreError,
    MalformedCredentialError,
    NotYetValidError,
    SignatureInvalidError,
    StatusListError,
    UncertifiableFootprintError,
    UnknownKeyError,
)
from openpcf.certify.issue import Certificate, issue_certificate
from openpcf.certify.keys import KeyInfo, KeyStore
from openpcf.certify.revocation import revoke_certificate, status_list, status_list_document
from openpcf.certify.status import STATUS_PATH as STATUS_LIST_PATH
from openpcf.certify.subject import Attestation, footprint_digest, footprint_subject
from openpcf.certify.verify import Verification, verify_certificate


def jwks(public_only: bool = True, *, keys: KeyStore) -> dict[str, Any]:
    """The issuer's JWKS (active key first, then retired ones) for ``/.well-known/jwks.json``.

    ``public_only=False`` includes private key material, for a backup only.
    """
    return keys.jwks(public_only=public_only)


__all__ = [
    "JWKS_PATH",
    "MEDIA_TYPE",
    "STATUS_LIST_PATH",
    "Attestation",
    "Certificate",
    "CertificateError",
    "CredentialExpiredError",
    "CredentialRevokedError",
    "DigestMismatchError",
    "IssuerMismatchError",
    "KeyInfo",
    "KeySourceError",
    "KeyStore",
    "KeyStoreError",
    "MalformedCredentialError",
    "NotYetValidError",
    "SignatureInvalidError",
    "StatusListError",
    "UncertifiableFootprintError",
    "UnknownKeyError",
    "Verification",
    "footprint_digest",
    "footprint_subject",
    "issue_certificate",
    "jwks",
    "revoke_certificate",
    "status_list",
    "status_list_document",
    "verify_certificate",
]
