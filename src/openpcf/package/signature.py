"""The manifest signature and the certificate: signed with the issuer's key, verified offline."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from openpcf.certify import CertificateError, KeyStore, verify_certificate
from openpcf.certify.errors import KeySourceError, UnknownKeyError
from openpcf.certify.jose import import_key_set, parse_compact, sign_compact, verify_compact
from openpcf.package.format import CERTIFICATE, JWKS, MANIFEST, PACT, SIGNATURE, read_json
from openpcf.package.results import Findings


def sign_manifest(manifest: bytes, store: KeyStore) -> str:
    """A compact JWS over the manifest bytes with the store's active key."""
    info, key = store.signing_key()
    header = {"alg": info.alg, "kid": info.kid, "typ": "openpcf-manifest+jws"}
    return sign_compact(header, manifest, key)


#: The verdict when the signature verifies with the keys the package carries itself.
UNAUTHENTICATED = "signature valid, signer not authenticated (no trusted keys given)"
#: How a failure to authenticate the signer ends, when trusted keys were given.
_NOT_AUTHENTICATED = "the package's origin cannot be authenticated"
CHANGED = "manifest.json was changed after it was signed"


def trusted_keys(jwks: Mapping[str, Any] | Path | None) -> dict[str, Any] | None:
    """The trusted JWKS given (``--jwks``) as a document, read once; None when none was given.

    Raises
    ------
    KeySourceError
        If the file cannot be read or is not a JWKS: the caller asked for trust it did not get.
    """
    if jwks is None:
        return None
    document: Any = jwks
    if isinstance(jwks, Path):
        try:
            document = json.loads(jwks.read_text(encoding="utf-8"))
        except (OSError, ValueError) as e:
            raise KeySourceError(f"{jwks}: the JWKS file cannot be read ({e})") from None
    import_key_set(document, source=str(jwks) if isinstance(jwks, Path) else "the JWKS given")
    return dict(document)  # import_key_set refused anything but a JSON object with 'keys'


def check_signature(
    contents: Mapping[str, bytes], trusted: Mapping[str, Any] | None, f: Findings
) -> None:
    """The manifest signature, against the ``trusted`` keys when given.

    With trusted keys the signer must be one of them: an unsigned manifest, a key outside the
    set and a signature that does not verify each leave ``f.trusted`` False (the reproduction
    fails with :class:`~openpcf.package.format.UntrustedPackageError`). Without them the
    signature is checked with the keys inside the package, which proves that nothing changed
    since signing but not who signed: the verdict says so (:data:`UNAUTHENTICATED`).
    """
    if SIGNATURE not in contents:
        if trusted is None:
            f.signature = "not signed, signer not authenticated (no trusted keys given)"
            f.notes.append("the manifest is not signed (the issuer had no key)")
        else:
            _untrusted(f, f"not signed, but trusted keys were given: {_NOT_AUTHENTICATED}")
        return
    kid = "?"
    try:
        parsed = parse_compact(contents[SIGNATURE].decode("ascii"), what="manifest signature")
        kid = str(parsed.header["kid"])
        verify_compact(parsed, _keyset(contents, trusted), what="manifest signature")
        error = "" if parsed.payload() == contents[MANIFEST] else CHANGED
    except UnknownKeyError as e:
        if trusted is not None:
            reason = f"signed by key {kid}, which is not among the trusted keys"
            _untrusted(f, f"{reason}: {_NOT_AUTHENTICATED}")
            return
        error = f"the manifest signature does not verify: {e}"
    except (CertificateError, UnicodeDecodeError) as e:
        error = f"the manifest signature does not verify: {e}"
    if error and trusted is not None:
        _untrusted(f, f"{error}: {_NOT_AUTHENTICATED}")
    elif error:
        f.signature = f"signature invalid ({error})"
        f.problems.append(error)
    elif trusted is not None:
        f.trusted = True
        f.signature = f"signature valid, signed by trusted key {kid}"
        f.notes.append(f"manifest signature verifies with trusted key {kid}")
    else:
        f.signature = UNAUTHENTICATED
        f.notes.append(
            "manifest signature verifies with the keys inside the package (integrity, not origin)"
        )


def _untrusted(f: Findings, verdict: str) -> None:
    f.trusted = False
    f.signature = verdict
    f.problems.append(verdict)


def _keyset(contents: Mapping[str, bytes], trusted: Mapping[str, Any] | None) -> Any:
    if trusted is not None:
        return import_key_set(trusted, source="the JWKS given")
    data = read_json(contents, JWKS)
    if data is None:
        raise KeySourceError(f"the package has no {JWKS} and no JWKS was given")
    return import_key_set(data, source=JWKS)


def check_certificate(
    contents: Mapping[str, bytes], trusted: Mapping[str, Any] | None, f: Findings
) -> None:
    """The packaged certificate, if any, against the packaged PACT footprint (offline)."""
    if CERTIFICATE not in contents:
        return
    footprint = read_json(contents, PACT)
    try:
        keys = trusted if trusted is not None else read_json(contents, JWKS)
        verification = verify_certificate(
            contents[CERTIFICATE].decode("ascii"), jwks=keys or {"keys": []}, footprint=footprint
        )
    except (CertificateError, OSError, ValueError) as e:
        f.problems.append(f"the packaged certificate does not verify: {e}")
        return
    f.notes.append(
        f"certificate {verification.id} verifies against {PACT} (revocation not checked offline)"
    )
