"""Compact JWS: strict parsing, signing and signature checks with joserfc.

joserfc does the cryptography; this module adds what a certificate verifier needs before it:

- **strict base64url**: a segment must be the canonical encoding of its bytes (no padding, no
  stray bits in the last character), so *any* changed character of a token is a failure rather
  than silently decoding to the same bytes;
- **algorithm pinning**: the header's ``alg`` must be one the key type allows (``Ed25519`` or
  ``EdDSA`` for an Ed25519 key, ``ES256`` for a P-256 key); ``none`` and HMAC never pass;
- **a key chosen by ``kid``** from a JWKS, with :class:`UnknownKeyError` naming the kid.

Design note: new tokens are signed with ``Ed25519``, the fully specified algorithm name of
RFC 9864, which deprecates the polymorphic ``EdDSA``; tokens signed ``EdDSA`` by other tools are
still accepted for an Ed25519 key.
"""

from __future__ import annotations

import base64
import binascii
import json
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from joserfc import jws
from joserfc.errors import JoseError
from joserfc.jwk import ECKey, KeySet, OKPKey

from openpcf.certify.errors import (
    KeySourceError,
    MalformedCredentialError,
    SignatureInvalidError,
    UnknownKeyError,
)

Key = OKPKey | ECKey
SIGNING_ALG = {"Ed25519": "Ed25519", "ES256": "ES256"}  # key kind -> alg written
ALLOWED_ALGS = {("OKP", "Ed25519"): ("Ed25519", "EdDSA"), ("EC", "P-256"): ("ES256",)}


def b64e(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64d(segment: str, part: str) -> bytes:
    """Decode one base64url segment, refusing anything but its canonical form."""
    try:
        data = base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
    except (binascii.Error, ValueError):
        raise MalformedCredentialError(f"the {part} is not base64url") from None
    if b64e(data) != segment:
        raise MalformedCredentialError(
            f"the {part} is not canonical base64url (a character changed)"
        )
    return data


@dataclass(frozen=True, slots=True, kw_only=True)
class CompactJws:
    """A parsed, not yet verified, compact JWS."""

    token: str
    header: Mapping[str, Any]
    payload_segment: str
    signature: bytes

    def payload(self) -> bytes:
        return b64d(self.payload_segment, "payload")


def parse_compact(token: str, *, what: str = "token") -> CompactJws:
    """Split and decode the header of a compact JWS (the payload is decoded after verifying).

    Raises
    ------
    MalformedCredentialError
        Not three segments, a segment that is not canonical base64url, a header that is not a
        JSON object with ``alg`` and ``kid``.
    """
    token = token.strip()
    parts = token.split(".")
    if len(parts) != 3:
        raise MalformedCredentialError(
            f"the {what} is not a compact JWS (header.payload.signature): found {len(parts)} "
            "part(s)"
        )
    try:
        header_bytes = b64d(parts[0], "header")
    except MalformedCredentialError as e:
        raise MalformedCredentialError(f"the {what} is malformed: {e}") from None
    try:
        header = json.loads(header_bytes)
    except (ValueError, UnicodeDecodeError):
        raise MalformedCredentialError(f"the {what}'s header is not JSON") from None
    if not isinstance(header, dict) or not isinstance(header.get("alg"), str):
        raise MalformedCredentialError(f"the {what}'s header has no 'alg'")
    if not isinstance(header.get("kid"), str):
        raise MalformedCredentialError(
            f"the {what}'s header has no 'kid': the issuer's key cannot be chosen"
        )
    try:
        signature = b64d(parts[2], "signature")
    except MalformedCredentialError as e:
        raise SignatureInvalidError(f"the {what}'s signature does not verify: {e}") from None
    return CompactJws(token=token, header=header, payload_segment=parts[1], signature=signature)


def key_kind(key: Key) -> tuple[str, str]:
    data = key.as_dict(private=False)
    return str(data.get("kty")), str(data.get("crv"))


def sign_compact(header: Mapping[str, Any], payload: bytes, key: Key) -> str:
    """Sign ``payload`` with ``key`` under ``header`` (which must carry ``alg`` and ``kid``)."""
    alg = str(header["alg"])
    return jws.serialize_compact(dict(header), payload, key, algorithms=[alg])


def verify_compact(parsed: CompactJws, keys: KeySet, *, what: str = "token") -> Key:
    """Check the signature of ``parsed`` with the key its ``kid`` names; return that key.

    Raises
    ------
    UnknownKeyError
        No key with that ``kid``.
    SignatureInvalidError
        A disallowed ``alg`` for the key type, or a signature that does not verify.
    """
    kid, alg = str(parsed.header["kid"]), str(parsed.header["alg"])
    key = next((k for k in keys.keys if k.kid == kid), None)
    if key is None:
        known = ", ".join(str(k.kid) for k in keys.keys) or "none"
        raise UnknownKeyError(
            f"the {what} was signed with key {kid!r}, which is not among the issuer's public "
            f"keys ({known}); fetch the issuer's current JWKS or check who issued it"
        )
    if not isinstance(key, OKPKey | ECKey):
        raise SignatureInvalidError(
            f"the {what}'s signature does not verify: key {kid!r} is neither Ed25519 nor P-256"
        )
    allowed = ALLOWED_ALGS.get(key_kind(key), ())
    if alg not in allowed:
        raise SignatureInvalidError(
            f"the {what}'s signature does not verify: algorithm {alg!r} is not allowed for key "
            f"{kid!r} ({'/'.join(key_kind(key))}; allowed: {', '.join(allowed)})"
        )
    # A JWK that names its own ``alg`` (ours say "Ed25519") is refused by joserfc for a token
    # signed under the other name of the same algorithm ("EdDSA", RFC 8037, still what most
    # JOSE libraries write): check with the key's material only; the key type was checked above.
    checking = key
    if key.get("alg") not in (None, alg):
        checking = type(key).import_key(
            {k: v for k, v in key.as_dict(private=False).items() if k != "alg"}
        )
    try:
        with warnings.catch_warnings():
            # joserfc warns that EdDSA is deprecated (RFC 9864); accepted here for interop
            warnings.simplefilter("ignore")
            jws.deserialize_compact(parsed.token, checking, algorithms=[alg])
    except JoseError as e:
        raise SignatureInvalidError(
            f"the {what}'s signature does not verify with key {kid!r} ({alg}): the header, "
            f"payload or signature was changed ({e.error})"
        ) from None
    return key


def import_key_set(data: Any, *, source: str) -> KeySet:
    """A :class:`KeySet` of the Ed25519 and P-256 public keys in a JWKS document."""
    if not isinstance(data, dict) or not isinstance(data.get("keys"), list):
        raise KeySourceError(f"{source}: not a JWKS (a JSON object with a 'keys' list)")
    keys: list[Key] = []
    for n, item in enumerate(data["keys"]):
        if not isinstance(item, dict):
            raise KeySourceError(f"{source}: keys[{n}] is not a JSON object")
        public = {k: v for k, v in item.items() if k != "d"}  # never use private parts here
        try:
            if (public.get("kty"), public.get("crv")) == ("OKP", "Ed25519"):
                keys.append(OKPKey.import_key(public))
            elif (public.get("kty"), public.get("crv")) == ("EC", "P-256"):
                keys.append(ECKey.import_key(public))
        except (JoseError, ValueError, TypeError) as e:
            raise KeySourceError(f"{source}: keys[{n}] is not a valid JWK ({e})") from None
    return KeySet(keys)  # type: ignore[arg-type]
