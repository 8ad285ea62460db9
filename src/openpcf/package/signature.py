"""The manifest signature and the certificate: signed with the issuer's key, verified offline."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from openpcf.certify import CertificateError, KeyStore, verify_certificate
from openpcf.certify.errors import KeySourceError
from openpcf.certify.jose import import_key_set, parse_compact, sign_compact, verify_compact
from openpcf.package.format import CERTIFICATE, JWKS, MANIFEST, PACT, SIGNATURE, read_json
from openpcf.package.results import Findings


def sign_manifest(manifest: bytes, store: KeyStore) -> str:
    """A compact JWS over the manifest bytes with the store's active key."""
    info, key = store.signing_key()
    header = {"alg": info.alg, "kid": info.kid, "typ": "openpcf-manifest+jws"}
    return sign_compact(header, manifest, key)


def check_signature(
    contents: Mapping[str, bytes], jwks: Mapping[str, Any] | Path | None, f: Findings
) -> None:
    """The manifest signature against ``jwks`` (by default the keys inside the package)."""
    if SIGNATURE not in contents:
        f.notes.append("the manifest is not signed (the issuer had no key)")
        return
    try:
        keyset, trusted = _keyset(contents, jwks)
        parsed = parse_compact(contents[SIGNATURE].decode("ascii"), what="manifest signature")
        verify_compact(parsed, keyset, what="manifest signature")
        if parsed.payload() != contents[MANIFEST]:
            f.problems.append("manifest.json was changed after it was signed")
            return
    except (CertificateError, UnicodeDecodeError) as e:
        f.problems.append(f"the manifest signature does not verify: {e}")
        return
    f.notes.append(
        "manifest signature verifies"
        + ("" if trusted else " (with the keys inside the package: integrity, not origin)")
    )


def _keyset(contents: Mapping[str, bytes], jwks: Mapping[str, Any] | Path | None) -> Any:
    if isinstance(jwks, Path):
        try:
            jwks = json.loads(jwks.read_text(encoding="utf-8"))
        except (OSError, ValueError) as e:
            raise KeySourceError(f"{jwks}: the JWKS file cannot be read ({e})") from None
    if jwks is not None:
        return import_key_set(jwks, source="the JWKS given"), True
    data = read_json(contents, JWKS)
    if data is None:
        raise KeySourceError(f"the package has no {JWKS} and no JWKS was given")
    return import_key_set(data, source=JWKS), False


def check_certificate(
    contents: Mapping[str, bytes], jwks: Mapping[str, Any] | Path | None, f: Findings
) -> None:
    """The packaged certificate, if any, against the packaged PACT footprint (offline)."""
    if CERTIFICATE not in contents:
        return
    footprint = read_json(contents, PACT)
    try:
        keyset_json = json.loads(jwks.read_text("utf-8")) if isinstance(jwks, Path) else jwks
        keys = keyset_json if keyset_json is not None else read_json(contents, JWKS)
        verification = verify_certificate(
            contents[CERTIFICATE].decode("ascii"), jwks=keys or {"keys": []}, footprint=footprint
        )
    except (CertificateError, OSError, ValueError) as e:
        f.problems.append(f"the packaged certificate does not verify: {e}")
        return
    f.notes.append(
        f"certificate {verification.id} verifies against {PACT} (revocation not checked offline)"
    )
