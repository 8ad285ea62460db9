"""A third-party verifier's identity: its profile and its signing keys.

A verifier works from its own ``OPENPCF_HOME``; its identity lives in ``verifier/`` there::

    verifier/profile.json      name, accreditation id and body, verifier id, created
    verifier/keys/             a :class:`~openpcf.certify.keys.KeyStore` (keyring, private JWKs)

The keys are the verifier's own, apart from any issuer keys in ``keys/`` of the same home: an
attestation is worth something because the manufacturer cannot make it.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from openpcf.certify.errors import VerifierProfileError
from openpcf.certify.keys import KeyAlg, KeyInfo, KeyStore
from openpcf.files.durable import atomic_write

PROFILE_FILE = "profile.json"
_LIMIT = 300


def _text(value: Any, what: str, *, required: bool = True) -> str:
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise VerifierProfileError(f"the verifier profile needs {what}")
        return ""
    if not isinstance(value, str) or len(value) > _LIMIT or not value.isprintable():
        raise VerifierProfileError(f"{what} must be printable text of at most {_LIMIT} characters")
    return value.strip()


@dataclass(frozen=True, slots=True, kw_only=True)
class VerifierProfile:
    """Who the verifier is: what its attestations name and a buyer's trust list checks."""

    name: str
    accreditation_id: str
    accreditation_body: str
    id: str  # the verifier's id, the ``issuer`` of its attestations (URL or URN)
    created: str = ""

    def __post_init__(self) -> None:
        _text(self.name, "a name")
        _text(self.accreditation_id, "an accreditation id")
        _text(self.accreditation_body, "an accreditation body")
        _text(self.id, "an id")

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "accreditationId": self.accreditation_id,
            "accreditationBody": self.accreditation_body,
            "id": self.id,
            "created": self.created,
        }

    @classmethod
    def from_dict(cls, data: Any, where: str) -> VerifierProfile:
        if not isinstance(data, dict):
            raise VerifierProfileError(f"{where}: not a verifier profile (a JSON object)")
        try:
            return cls(
                name=data.get("name"),  # type: ignore[arg-type]  # checked in __post_init__
                accreditation_id=data.get("accreditationId"),  # type: ignore[arg-type]
                accreditation_body=data.get("accreditationBody"),  # type: ignore[arg-type]
                id=data.get("id"),  # type: ignore[arg-type]
                created=str(data.get("created") or ""),
            )
        except VerifierProfileError as e:
            raise VerifierProfileError(f"{where}: {e}") from None


class VerifierHome:
    """The verifier's folder (the edge passes ``$OPENPCF_HOME/verifier``)."""

    __slots__ = ("folder",)

    def __init__(self, folder: Path | str) -> None:
        self.folder = Path(folder)

    @property
    def keys(self) -> KeyStore:
        return KeyStore(self.folder / "keys")

    @property
    def profile_path(self) -> Path:
        return self.folder / PROFILE_FILE

    def profile(self) -> VerifierProfile:
        """The verifier's profile.

        Raises
        ------
        VerifierProfileError
            None yet (run ``openpcf verifier init``), or one that cannot be read.
        """
        path = self.profile_path
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise VerifierProfileError(
                f"{self.folder}: no verifier profile here; run `openpcf verifier init --name "
                "NAME --accreditation-id ID --accreditation-body BODY` in the verifier's "
                "OPENPCF_HOME"
            ) from None
        except (OSError, ValueError) as e:
            raise VerifierProfileError(f"{path}: the profile cannot be read ({e})") from None
        return VerifierProfile.from_dict(data, str(path))

    def init(
        self,
        *,
        name: str,
        accreditation_id: str,
        accreditation_body: str,
        verifier_id: str | None = None,
        alg: KeyAlg = "Ed25519",
    ) -> tuple[VerifierProfile, KeyInfo]:
        """Create the verifier's first key and its profile.

        ``verifier_id`` is the id its attestations name as issuer (a URL it controls, or
        ``urn:openpcf:verifier:<first kid>`` by default).

        Raises
        ------
        VerifierProfileError
            A profile exists already, or a field is empty or not printable text.
        KeyStoreError
            The verifier already has an active key.
        """
        if self.profile_path.exists():
            raise VerifierProfileError(
                f"{self.profile_path}: a verifier profile exists already; `openpcf verifier "
                "rotate` replaces the key"
            )
        now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        draft = VerifierProfile(  # checks the fields before a key is made
            name=name,
            accreditation_id=accreditation_id,
            accreditation_body=accreditation_body,
            id=verifier_id or "urn:openpcf:verifier:pending",
            created=now,
        )
        store = self.keys
        info = store.create(alg=alg, issuer=verifier_id)
        if not verifier_id:
            store.set_issuer(f"urn:openpcf:verifier:{info.kid}")
        profile = VerifierProfile(**{**_fields(draft), "id": store.issuer})
        text = json.dumps(profile.to_dict(), indent=2, ensure_ascii=False) + "\n"
        atomic_write(self.profile_path, text.encode("utf-8"), mode=0o644)
        return profile, info


def _fields(profile: VerifierProfile) -> dict[str, Any]:
    return {name: getattr(profile, name) for name in VerifierProfile.__slots__}
