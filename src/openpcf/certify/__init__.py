"""Green certificates: W3C Verifiable Credentials secured with JOSE (``vc+jwt``).

Public API: :func:`issue_certificate`, :func:`verify_certificate`, :func:`revoke_certificate`,
:func:`jwks` (the ``/.well-known/jwks.json`` document), :func:`status_list` (the signed
revocation list served at :data:`STATUS_LIST_PATH`), :class:`KeyStore`; a third-party
verifier's :func:`sign_attestation` with its :class:`VerifierHome` and :class:`VerifierProfile`;
the buyer's trust anchors (:class:`TrustList`, :class:`TrustAnchors`); and the errors in
:mod:`openpcf.certify.errors`. See ``docs/certificates.md``.
"""

from __future__ import annotations

from typing import Any

from openpcf.certify.attestation import (
    ASSURANCE_LEVELS,
    PRODUCT_STANDARD,
    VERIFICATION_STANDARD,
    AttestationCredential,
    file_sha256,
    sign_attestation,
)
from openpcf.certify.credential import JWKS_PATH, MEDIA_TYPE
from openpcf.certify.errors import (
    AttestationError,
    AttestationMismatchError,
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
    SignerNotAuthenticatedError,
    StatusListError,
    TrustListError,
    UncertifiableFootprintError,
    UnknownKeyError,
    UntrustedSignerError,
    VerifierProfileError,
)
from openpcf.certify.issue import Certificate, issue_certificate
from openpcf.certify.keys import KeyInfo, KeyStore
from openpcf.certify.revocation import revoke_certificate, status_list, status_list_document
from openpcf.certify.status import STATUS_PATH as STATUS_LIST_PATH
from openpcf.certify.subject import (
    Attestation,
    SelfDeclaredAssurance,
    footprint_digest,
    footprint_subject,
)
from openpcf.certify.trust import (
    TrustAnchors,
    TrustEntry,
    TrustList,
    pinned_jwks,
    pinned_kids,
    trust_list_anchors,
)
from openpcf.certify.verifier import VerifierHome, VerifierProfile
from openpcf.certify.verify import SignatureCheck, Verification, verify_certificate


def jwks(public_only: bool = True, *, keys: KeyStore) -> dict[str, Any]:
    """The issuer's JWKS (active key first, then retired ones) for ``/.well-known/jwks.json``.

    ``public_only=False`` includes private key material, for a backup only.
    """
    return keys.jwks(public_only=public_only)


__all__ = [
    "ASSURANCE_LEVELS",
    "JWKS_PATH",
    "MEDIA_TYPE",
    "PRODUCT_STANDARD",
    "STATUS_LIST_PATH",
    "VERIFICATION_STANDARD",
    "Attestation",
    "AttestationCredential",
    "AttestationError",
    "AttestationMismatchError",
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
    "SelfDeclaredAssurance",
    "SignatureCheck",
    "SignatureInvalidError",
    "SignerNotAuthenticatedError",
    "StatusListError",
    "TrustAnchors",
    "TrustEntry",
    "TrustList",
    "TrustListError",
    "UncertifiableFootprintError",
    "UnknownKeyError",
    "UntrustedSignerError",
    "Verification",
    "VerifierHome",
    "VerifierProfile",
    "VerifierProfileError",
    "file_sha256",
    "footprint_digest",
    "footprint_subject",
    "issue_certificate",
    "jwks",
    "pinned_jwks",
    "pinned_kids",
    "revoke_certificate",
    "sign_attestation",
    "status_list",
    "status_list_document",
    "trust_list_anchors",
    "verify_certificate",
]
