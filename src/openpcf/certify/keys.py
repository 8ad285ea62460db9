"""The issuer's signing keys: create, rotate, list, publish as a JWKS.

Keys live in one folder (``$OPENPCF_HOME/keys`` by default)::

    keys/keyring.json        issuer id and, per key: kid, alg, created, status, retired
    keys/<kid>.private.jwk   the private JWK (file mode 0600)

A key's ``kid`` is its RFC 7638 JWK thumbprint. Exactly one key is *active* (signs new
certificates); :meth:`KeyStore.rotate` makes a new active key and marks the old one *retired*:
it signs nothing more but stays in the JWKS so that certificates it signed still verify.

Design note: private keys are stored unencrypted with owner-only permissions, like an SSH host
key. A deployment that needs an HSM or a KMS replaces :meth:`KeyStore.signing_key`.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from joserfc.jwk import ECKey, KeySet, OKPKey

from openpcf.certify.errors import KeyStoreError
from openpcf.certify.jose import SIGNING_ALG, Key, import_key_set
from openpcf.files.durable import atomic_write, exclusive_lock

KeyAlg = Literal["Ed25519", "ES256"]
KEYRING = "keyring.json"


@dataclass(frozen=True, slots=True, kw_only=True)
class KeyInfo:
    """One key of the store (no private material)."""

    kid: str
    alg: str
    created: str
    status: Literal["active", "retired"]
    retired: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "kid": self.kid,
            "alg": self.alg,
            "created": self.created,
            "status": self.status,
            "retired": self.retired,
        }


def _now() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _generate(alg: str) -> Key:
    if alg == "Ed25519":
        key: Key = OKPKey.generate_key("Ed25519")
    elif alg == "ES256":
        key = ECKey.generate_key("P-256")
    else:
        raise KeyStoreError(f"key algorithm {alg!r} is not supported; use Ed25519 or ES256")
    return key


class KeyStore:
    """The key folder at ``folder`` (the edge passes ``$OPENPCF_HOME/keys``)."""

    __slots__ = ("folder",)

    def __init__(self, folder: Path | str) -> None:
        self.folder = Path(folder)

    def __repr__(self) -> str:
        return f"KeyStore({str(self.folder)!r})"

    # -- reading ---------------------------------------------------------------------------
    def _ring(self) -> dict[str, Any]:
        path = self.folder / KEYRING
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {"version": 1, "issuer": None, "keys": []}
        except (OSError, ValueError) as e:
            raise KeyStoreError(f"{path}: the keyring cannot be read ({e})") from None
        if not isinstance(data, dict) or not isinstance(data.get("keys"), list):
            raise KeyStoreError(f"{path}: not an OpenPCF keyring; restore it from a backup")
        return data

    def exists(self) -> bool:
        """True if the store has an active key."""
        return any(k.status == "active" for k in self.list_keys())

    def list_keys(self) -> list[KeyInfo]:
        """Every key, oldest first."""
        return [KeyInfo(**k) for k in self._ring()["keys"]]

    @property
    def issuer(self) -> str:
        """The issuer id written into certificates (a URL or a URN)."""
        issuer = self._ring().get("issuer")
        if not issuer:
            raise KeyStoreError(
                f"{self.folder}: no issuer key yet; run `openpcf keys create --issuer URL`"
            )
        return str(issuer)

    def active(self) -> KeyInfo:
        """The key that signs new certificates.

        Raises
        ------
        KeyStoreError
            If there is none (run ``openpcf keys create``).
        """
        for info in self.list_keys():
            if info.status == "active":
                return info
        raise KeyStoreError(
            f"no active signing key in {self.folder}; run `openpcf keys create` first"
        )

    def signing_key(self) -> tuple[KeyInfo, Key]:
        """The active key's info and private JWK."""
        info = self.active()
        path = self.folder / f"{info.kid}.private.jwk"
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as e:
            raise KeyStoreError(f"{path}: the private key cannot be read ({e})") from None
        importer = OKPKey if data.get("kty") == "OKP" else ECKey
        return info, importer.import_key(data)

    def public_keys(self) -> KeySet:
        """Active and retired public keys, as a joserfc :class:`KeySet`."""
        return import_key_set(self.jwks(), source=str(self.folder))

    def jwks(self, *, public_only: bool = True) -> dict[str, Any]:
        """The store as a JWKS ``{"keys": [...]}``: active key first, then retired ones.

        ``public_only=False`` adds the private parts (``d``) for a backup; never publish that.
        """
        infos = sorted(self.list_keys(), key=lambda k: (k.status != "active", k.created))
        keys = []
        for info in infos:
            path = self.folder / f"{info.kid}.private.jwk"
            try:
                data = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError) as e:
                raise KeyStoreError(f"{path}: the key cannot be read ({e})") from None
            if public_only:
                data.pop("d", None)
            keys.append({**data, "kid": info.kid, "alg": info.alg, "use": "sig"})
        return {"keys": keys}

    # -- writing ---------------------------------------------------------------------------
    @contextmanager
    def _locked(self) -> Iterator[dict[str, Any]]:
        path = self.folder / KEYRING
        with exclusive_lock(path):
            ring = self._ring()
            yield ring
            atomic_write(path, (json.dumps(ring, indent=2) + "\n").encode(), mode=0o644)

    def _new_key(self, ring: dict[str, Any], alg: str) -> KeyInfo:
        key = _generate(alg)
        kid = key.thumbprint()
        data = {**key.as_dict(private=True), "kid": kid}
        atomic_write(self.folder / f"{kid}.private.jwk", json.dumps(data).encode(), mode=0o600)
        info = KeyInfo(kid=kid, alg=SIGNING_ALG[alg], created=_now(), status="active")
        ring["keys"].append(info.to_dict())
        return info

    def create(self, *, alg: KeyAlg = "Ed25519", issuer: str | None = None) -> KeyInfo:
        """Create the first signing key (and set the issuer id).

        ``issuer`` is the URL the issuer publishes ``/.well-known/jwks.json`` under (e.g.
        ``https://pcf.example.com``); without one, ``urn:openpcf:issuer:<first kid>``.

        Raises
        ------
        KeyStoreError
            If an active key exists (use :meth:`rotate`).
        """
        self.folder.mkdir(parents=True, exist_ok=True)
        os.chmod(self.folder, 0o700)
        with self._locked() as ring:
            if any(k["status"] == "active" for k in ring["keys"]):
                raise KeyStoreError(
                    f"{self.folder} already has an active key; use `openpcf keys rotate` to "
                    "replace it (the old key stays for verification)"
                )
            info = self._new_key(ring, alg)
            ring["issuer"] = issuer or ring.get("issuer") or f"urn:openpcf:issuer:{info.kid}"
        return info

    def rotate(self, *, alg: KeyAlg | None = None) -> tuple[KeyInfo, KeyInfo]:
        """Retire the active key and create a new one; return (retired, new).

        Raises
        ------
        KeyStoreError
            If there is no active key to rotate (use :meth:`create`).
        """
        with self._locked() as ring:
            active = [k for k in ring["keys"] if k["status"] == "active"]
            if not active:
                raise KeyStoreError(f"{self.folder} has no active key; run `openpcf keys create`")
            old = active[0]
            old["status"], old["retired"] = "retired", _now()
            new = self._new_key(ring, alg or ("ES256" if old["alg"] == "ES256" else "Ed25519"))
        return KeyInfo(**old), new

    def set_issuer(self, issuer: str) -> None:
        """Change the issuer id written into new certificates."""
        with self._locked() as ring:
            ring["issuer"] = issuer
