"""Revoking certificates: the issuer's signed status list, and checking a certificate against it.

The bitstring and the issuer's bookkeeping are in :mod:`openpcf.certify.status`; this module
publishes them as a ``BitstringStatusListCredential`` (a ``vc+jwt`` like a certificate) and reads
such a list back when a certificate is verified.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from joserfc.jwk import KeySet

from openpcf.certify.credential import (
    as_utc,
    check_validity,
    credential_payload,
    jwt_claims,
    read_payload,
    sign_credential,
)
from openpcf.certify.errors import (
    CertificateError,
    CredentialRevokedError,
    MalformedCredentialError,
    StatusListError,
)
from openpcf.certify.jose import parse_compact, verify_compact
from openpcf.certify.keys import KeyStore
from openpcf.certify.remote import fetch, is_https
from openpcf.certify.status import StatusRegistry, bit, decode_list, encode_list, status_list_url

STATUS_VALIDITY = dt.timedelta(days=1)


def revoke_certificate(credential_id: str, *, keys: KeyStore) -> int:
    """Revoke a certificate this key store issued; return its status-list index.

    Publish the new list (:func:`status_list`) for verifiers to see the revocation.
    """
    return StatusRegistry(keys.folder).revoke(credential_id)


def status_list_document(*, keys: KeyStore, now: dt.datetime | None = None) -> dict[str, Any]:
    """The issuer's ``BitstringStatusListCredential`` (unsigned payload)."""
    issuer = keys.issuer
    url = status_list_url(issuer)
    start = as_utc(now).replace(microsecond=0)
    end = start + STATUS_VALIDITY
    subject = {
        "id": f"{url}#list",
        "type": "BitstringStatusList",
        "statusPurpose": "revocation",
        "encodedList": encode_list(StatusRegistry(keys.folder).revoked_indexes()),
    }
    return credential_payload(
        cred_id=url,
        cred_type="BitstringStatusListCredential",
        issuer=issuer,
        start=start,
        end=end,
        subject=subject,
    ) | jwt_claims(issuer=issuer, jti=url, start=start, end=end, not_before=False)


def status_list(*, keys: KeyStore, now: dt.datetime | None = None) -> str:
    """The issuer's revocation list as a signed ``vc+jwt`` (serve as ``application/vc+jwt``)."""
    return sign_credential(status_list_document(keys=keys, now=now), keys)


def check_revocation(
    payload: Mapping[str, Any],
    keyset: KeySet,
    status_list: str | None,
    *,
    online: bool = False,
    ca_file: Path | str | None = None,
    registry: KeyStore | None = None,
    now: dt.datetime | None = None,
) -> str:
    """What the revocation check found; ``status_list`` is the signed list, as text, if given.

    The list must be signed by one of ``keyset``: the keys of the source that vouched for the
    certificate's own key (a forger's list does not vouch for the issuer's certificate).
    Without a list, one named by the certificate is fetched over HTTPS when verifying online
    (``online``, with ``ca_file`` for a private CA); ``registry`` is the issuer's own key
    store when the certificate was verified with it, whose local registry is checked then;
    otherwise the check is "not checked".

    Raises
    ------
    CredentialRevokedError
        The certificate's bit is set.
    MalformedCredentialError, StatusListError
        A ``credentialStatus`` or a status list that cannot be read or trusted.
    """
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
    if status_list is None and online and is_https(url):
        fetched = fetch(url, StatusListError, "the status list", ca_file=ca_file)
        status_list = fetched.decode("utf-8", "replace")
    if status_list is None:
        if registry is not None:  # the issuer's own check
            if index in StatusRegistry(registry.folder).revoked_indexes():
                raise CredentialRevokedError(
                    f"certificate {payload.get('id')} was revoked (local issuer registry, "
                    f"status-list index {index})"
                )
            return f"ok: not revoked (local issuer registry, index {index})"
        if online:
            return f"not checked: the status list {url} is not an https:// URL; pass it as a file"
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
        doc = read_payload(parsed, "status list")
        check_validity(doc, as_utc(now), "status list")
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
