"""Revocation by W3C Bitstring Status List v1.0.

Each certificate gets a random index into a list of 131,072 bits (16 KiB, the minimum the
specification sets for herd privacy) and a ``credentialStatus`` entry pointing at the list::

    {"id": "<list url>#<index>", "type": "BitstringStatusListEntry",
     "statusPurpose": "revocation", "statusListIndex": "<index>",
     "statusListCredential": "<list url>"}

The issuer publishes the list as a ``BitstringStatusListCredential`` signed like a certificate
(a ``vc+jwt``) whose ``encodedList`` is the multibase (``u`` + base64url, no padding) of the
GZIP-compressed bitstring; bit 0 is the most significant bit of the first byte. Setting a
certificate's bit revokes it. The issuer's bookkeeping (which index belongs to which
certificate, which are revoked) is ``status.json`` in the key folder.
"""

from __future__ import annotations

import datetime as dt
import gzip
import json
import secrets
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from openpcf.certify.errors import KeyStoreError, StatusListError
from openpcf.certify.jose import b64d, b64e
from openpcf.files.durable import atomic_write, exclusive_lock

LIST_BITS = 131_072
STATUS_FILE = "status.json"
STATUS_PATH = "/credentials/status/1"


def encode_list(revoked: Iterable[int], *, size: int = LIST_BITS) -> str:
    """``encodedList`` for a bitstring of ``size`` bits with the ``revoked`` indexes set."""
    bits = bytearray(size // 8)
    for index in revoked:
        bits[index // 8] |= 0x80 >> (index % 8)
    return "u" + b64e(gzip.compress(bytes(bits), mtime=0))


def decode_list(encoded: str) -> bytes:
    """The bitstring of an ``encodedList``.

    Raises
    ------
    StatusListError
        Not multibase base64url (``u`` prefix) or not GZIP.
    """
    if not encoded.startswith("u"):
        raise StatusListError("status list 'encodedList' is not multibase base64url ('u...')")
    try:
        return gzip.decompress(b64d(encoded[1:], "status list"))
    except (OSError, EOFError, ValueError) as e:
        raise StatusListError(f"status list 'encodedList' cannot be decoded ({e})") from None


def bit(bitstring: bytes, index: int) -> bool:
    """Whether bit ``index`` of ``bitstring`` is set.

    Raises
    ------
    StatusListError
        If the index is beyond the list.
    """
    if not 0 <= index < len(bitstring) * 8:
        raise StatusListError(
            f"status list index {index} is outside the list ({len(bitstring) * 8} bits)"
        )
    return bool(bitstring[index // 8] & (0x80 >> (index % 8)))


def status_list_url(issuer: str) -> str:
    """Where the issuer publishes its revocation list (``<issuer>/credentials/status/1``)."""
    if issuer.startswith(("http://", "https://")):
        return issuer.rstrip("/") + STATUS_PATH
    return f"{issuer}:status:1"


class StatusRegistry:
    """The issuer's record of status-list indexes and revocations (``status.json``)."""

    __slots__ = ("path",)

    def __init__(self, folder: Path) -> None:
        self.path = Path(folder) / STATUS_FILE

    def _load(self) -> dict[str, Any]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {"version": 1, "size": LIST_BITS, "issued": {}, "revoked": {}}
        except (OSError, ValueError) as e:
            raise KeyStoreError(f"{self.path}: the status registry cannot be read ({e})") from None
        return data if isinstance(data, dict) else {}

    @contextmanager
    def _locked(self) -> Iterator[dict[str, Any]]:
        with exclusive_lock(self.path):
            data = self._load()
            yield data
            atomic_write(self.path, (json.dumps(data, indent=2) + "\n").encode())

    def allocate(self, credential_id: str, *, product: str, kid: str) -> int:
        """A fresh random index for ``credential_id``.

        Raises
        ------
        KeyStoreError
            If the list is full.
        """
        with self._locked() as data:
            used = {entry["index"] for entry in data["issued"].values()}
            if len(used) >= data["size"]:
                raise KeyStoreError(f"{self.path}: the status list is full ({data['size']} bits)")
            index = secrets.randbelow(data["size"])
            while index in used:
                index = secrets.randbelow(data["size"])
            data["issued"][credential_id] = {
                "index": index,
                "product": product,
                "kid": kid,
                "issued": _now(),
            }
        return index

    def revoke(self, credential_id: str) -> int:
        """Mark ``credential_id`` revoked; return its index.

        Raises
        ------
        KeyStoreError
            If this issuer never issued that credential.
        """
        with self._locked() as data:
            entry = data["issued"].get(credential_id)
            if entry is None:
                known = len(data["issued"])
                raise KeyStoreError(
                    f"no certificate {credential_id!r} was issued from this key store "
                    f"({known} issued); `openpcf certificate verify CERT.jwt` shows a "
                    "certificate's id"
                )
            data["revoked"].setdefault(credential_id, _now())
            return int(entry["index"])

    def revoked_indexes(self) -> list[int]:
        data = self._load()
        return sorted(int(data["issued"][c]["index"]) for c in data["revoked"])

    def is_revoked(self, credential_id: str) -> bool:
        return credential_id in self._load()["revoked"]


def _now() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
