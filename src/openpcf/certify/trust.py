"""Trust anchors: which public keys a buyer trusts, for what, and why.

A signature that verifies proves that nothing changed since signing (integrity). Who signed
(origin) is only known when the key comes from somewhere the buyer trusts on its own account,
never from the certificate or a JWKS file that travels with it: anyone can make a key pair, a
JWKS and a status list. The anchors, each trusted for a role (``issuer``: signs certificates;
``verifier``: signs attestations):

- a **trust list** the buyer keeps (:class:`TrustList`, ``openpcf verifier trust add`` or a
  ``--trust-list`` file): per entry a name, a role, for a verifier its accreditation, and its
  keys as a JWKS or as key ids;
- a pinned **JWKS file** (``--trust-jwks``) or **key id** (``--trust-kid``), trusted for both
  roles because the buyer named them explicitly;
- the issuer's **HTTPS URL** (``--issuer-url``), whose ``/.well-known/jwks.json`` is fetched
  over TLS (:mod:`openpcf.certify.remote`): trusted as the issuer at that URL;
- the buyer's **own key store**: certificates it issued itself.

A key id pins a key by its RFC 7638 JWK thumbprint: the key material may then come from an
untrusted JWKS, as the thumbprint is recomputed from that material (a forger cannot give its
own key the pinned id).

The trust-list file (``$OPENPCF_HOME/trust-list.json`` or ``--trust-list FILE``)::

    {"type": "OpenPCFTrustList", "version": 1,
     "entries": [
       {"name": "Example Verification Ltd", "role": "verifier",
        "accreditationId": "CNAS V0123", "accreditationBody": "CNAS",
        "issuer": "urn:openpcf:verifier:...",          (optional: the credentials' issuer)
        "jwks": {"keys": [...]},                        (public keys, and/or)
        "kids": ["<RFC 7638 thumbprint>", ...]},
       {"name": "Transformer Works", "role": "issuer", "jwks": {"keys": [...]}}]}
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from joserfc.jwk import KeySet

from openpcf.certify.errors import KeySourceError, TrustListError
from openpcf.certify.jose import Key, import_key_set
from openpcf.files import jsonfile
from openpcf.files.bounded import read_bounded
from openpcf.files.durable import atomic_write

Role = Literal["issuer", "verifier"]
ROLES: tuple[Role, ...] = ("issuer", "verifier")
TRUST_LIST_TYPE = "OpenPCFTrustList"
TRUST_LIST_FILE = "trust-list.json"
_ENTRY_FIELDS = {
    "name",
    "role",
    "accreditationId",
    "accreditationBody",
    "issuer",
    "jwks",
    "kids",
    "added",
    "note",
}
_TEXT_LIMIT = 300


# --------------------------------------------------------------------------------------------
# the trust list


@dataclass(frozen=True, slots=True, kw_only=True)
class TrustEntry:
    """One party the buyer trusts, for one role."""

    name: str
    role: Role
    accreditation_id: str = ""
    accreditation_body: str = ""
    issuer: str = ""  # the issuer id its credentials must name, if set
    jwks: Mapping[str, Any] | None = field(default=None, repr=False)
    kids: tuple[str, ...] = ()
    added: str = ""
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name, "role": self.role}
        if self.accreditation_id:
            out["accreditationId"] = self.accreditation_id
        if self.accreditation_body:
            out["accreditationBody"] = self.accreditation_body
        if self.issuer:
            out["issuer"] = self.issuer
        if self.jwks is not None:
            out["jwks"] = dict(self.jwks)
        if self.kids:
            out["kids"] = list(self.kids)
        if self.added:
            out["added"] = self.added
        if self.note:
            out["note"] = self.note
        return out

    def key_ids(self) -> list[str]:
        """The ids of the keys this entry trusts (JWKS kids, then pinned kids)."""
        found = [str(k.get("kid")) for k in (self.jwks or {}).get("keys", [])]
        return list(dict.fromkeys([*found, *self.kids]))

    def describe(self) -> str:
        what = f"{self.role} {self.name!r}"
        if self.accreditation_id:
            body = f" by {self.accreditation_body}" if self.accreditation_body else ""
            what += f", accreditation {self.accreditation_id}{body}"
        return what


def _text(value: Any, where: str, *, required: bool = False) -> str:
    if value is None or value == "":
        if required:
            raise TrustListError(f"{where} is missing")
        return ""
    if not isinstance(value, str) or len(value) > _TEXT_LIMIT or not value.isprintable():
        raise TrustListError(f"{where} must be printable text of at most {_TEXT_LIMIT} characters")
    return value.strip()


def entry_from_dict(data: Any, where: str) -> TrustEntry:
    """A :class:`TrustEntry` from its JSON object.

    Raises
    ------
    TrustListError
        Not an object, an unknown member, no name, a role other than ``issuer`` or
        ``verifier``, a verifier without an accreditation id, no keys (``jwks`` or ``kids``),
        a JWKS that is not one or that holds private key material.
    """
    if not isinstance(data, dict):
        raise TrustListError(f"{where} is not a JSON object")
    unknown = sorted(set(data) - _ENTRY_FIELDS)
    if unknown:
        raise TrustListError(
            f"{where} has unknown member(s) {', '.join(unknown)} (allowed: "
            f"{', '.join(sorted(_ENTRY_FIELDS))})"
        )
    name = _text(data.get("name"), f"{where}.name", required=True)
    role = data.get("role")
    if role not in ROLES:
        raise TrustListError(f"{where}.role is {role!r}; use 'issuer' or 'verifier'")
    accreditation = _text(data.get("accreditationId"), f"{where}.accreditationId")
    if role == "verifier" and not accreditation:
        raise TrustListError(f"{where} is a verifier without an accreditationId")
    jwks = data.get("jwks")
    if jwks is not None:
        if isinstance(jwks, dict) and any(
            isinstance(k, dict) and "d" in k for k in jwks.get("keys") or []
        ):
            raise TrustListError(
                f"{where}.jwks holds private key material ('d'): a trust list holds public "
                "keys only; export them with `openpcf keys export-jwks`"
            )
        try:
            keys = import_key_set(jwks, source=f"{where}.jwks")
        except KeySourceError as e:
            raise TrustListError(str(e)) from None
        if not keys.keys:
            raise TrustListError(f"{where}.jwks has no Ed25519 or P-256 key")
    kids = data.get("kids", [])
    if not isinstance(kids, list) or not all(isinstance(k, str) and k for k in kids):
        raise TrustListError(f"{where}.kids must be a list of key ids (strings)")
    if jwks is None and not kids:
        raise TrustListError(f"{where} names no keys: give 'jwks' or 'kids'")
    return TrustEntry(
        name=name,
        role=role,
        accreditation_id=accreditation,
        accreditation_body=_text(data.get("accreditationBody"), f"{where}.accreditationBody"),
        issuer=_text(data.get("issuer"), f"{where}.issuer"),
        jwks=jwks,
        kids=tuple(kids),
        added=_text(data.get("added"), f"{where}.added"),
        note=_text(data.get("note"), f"{where}.note"),
    )


@dataclass(frozen=True, slots=True)
class TrustList:
    """The parties a buyer trusts; ``path`` is the file it came from, if any."""

    entries: tuple[TrustEntry, ...] = ()
    path: Path | None = None

    @classmethod
    def load(cls, path: Path | str, *, missing_ok: bool = False) -> TrustList:
        """Read and check a trust-list file.

        Raises
        ------
        TrustListError
            The file cannot be read (or is missing, unless ``missing_ok``), is not JSON or not
            a trust list; the message names the entry and member at fault.
        """
        path = Path(path)
        if missing_ok and not path.exists():
            return cls((), path)
        try:
            data = jsonfile.loads(read_bounded(path, error=TrustListError))
        except (OSError, ValueError) as e:
            raise TrustListError(f"{path}: the trust list cannot be read ({e})") from None
        return cls.from_dict(data, path=path)

    @classmethod
    def from_dict(cls, data: Any, *, path: Path | None = None) -> TrustList:
        where = str(path) if path else "the trust list"
        if not isinstance(data, dict) or data.get("type") != TRUST_LIST_TYPE:
            raise TrustListError(
                f'{where}: not a trust list (a JSON object with "type": "{TRUST_LIST_TYPE}")'
            )
        if data.get("version") != 1:
            raise TrustListError(f"{where}: trust-list version {data.get('version')!r} is not 1")
        entries = data.get("entries")
        if not isinstance(entries, list):
            raise TrustListError(f"{where}: 'entries' is not a list")
        parsed = tuple(entry_from_dict(e, f"{where}: entries[{n}]") for n, e in enumerate(entries))
        names = [(e.name.casefold(), e.role) for e in parsed]
        if len(set(names)) != len(names):
            raise TrustListError(f"{where}: an entry name appears twice for the same role")
        return cls(parsed, path)

    def to_dict(self) -> dict[str, Any]:
        return {
            "type": TRUST_LIST_TYPE,
            "version": 1,
            "entries": [e.to_dict() for e in self.entries],
        }

    def save(self, path: Path | str | None = None) -> Path:
        target = Path(path or self.path or TRUST_LIST_FILE)
        target.parent.mkdir(parents=True, exist_ok=True)
        text = json.dumps(self.to_dict(), indent=2, ensure_ascii=False) + "\n"
        atomic_write(target, text.encode("utf-8"), mode=0o644)
        return target

    def add(self, entry: TrustEntry) -> TrustList:
        """A new list with ``entry`` (replacing one of the same name and role)."""
        if not entry.added:
            now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
            entry = TrustEntry(**{**_fields(entry), "added": now})
        entry_from_dict(entry.to_dict(), f"entry {entry.name!r}")  # the same checks as a file
        kept = [e for e in self.entries if not _same(e, entry.name, entry.role)]
        return TrustList((*kept, entry), self.path)

    def remove(self, name: str, role: Role | None = None) -> tuple[TrustList, list[TrustEntry]]:
        """A new list without the entries named ``name`` (of ``role``, if given)."""
        gone = [e for e in self.entries if _same(e, name, role)]
        kept = tuple(e for e in self.entries if e not in gone)
        return TrustList(kept, self.path), gone


def _same(entry: TrustEntry, name: str, role: Role | None) -> bool:
    return entry.name.casefold() == name.strip().casefold() and role in (None, entry.role)


def _fields(entry: TrustEntry) -> dict[str, Any]:
    return {name: getattr(entry, name) for name in TrustEntry.__slots__}


# --------------------------------------------------------------------------------------------
# anchors and key look-up


@dataclass(frozen=True, slots=True, kw_only=True)
class KeyGroup:
    """Public keys from one source, trusted (for ``roles``) or not."""

    source: str  # where the keys came from, in words
    keys: KeySet = field(repr=False)
    trusted: bool
    why: str  # why they are trusted, or why they prove nothing about who signed
    roles: frozenset[str] = frozenset(ROLES)
    entry: TrustEntry | None = None
    kind: str = "jwks"  # trust-list, pinned-jwks, issuer-url, key-store, untrusted


@dataclass(frozen=True, slots=True, kw_only=True)
class PinnedKid:
    """A key trusted by its RFC 7638 thumbprint, whatever JWKS its material comes from."""

    thumbprint: str
    source: str
    roles: frozenset[str] = frozenset(ROLES)
    entry: TrustEntry | None = None


@dataclass(frozen=True, slots=True)
class TrustAnchors:
    """Everything the buyer trusts: key groups and pinned key ids."""

    groups: tuple[KeyGroup, ...] = ()
    pinned: tuple[PinnedKid, ...] = ()

    @property
    def empty(self) -> bool:
        return not self.groups and not self.pinned

    def describe(self) -> list[str]:
        """One line per anchor, for the report of what was trusted."""
        lines = [f"{g.source}: {', '.join(str(k.kid) for k in g.keys.keys)}" for g in self.groups]
        lines += [f"{p.source}: {p.thumbprint}" for p in self.pinned]
        return lines

    def __add__(self, other: TrustAnchors) -> TrustAnchors:
        return TrustAnchors(self.groups + other.groups, self.pinned + other.pinned)


def trust_list_anchors(trust_list: TrustList) -> TrustAnchors:
    """The anchors of a trust list: one key group per entry with a JWKS, one pin per kid."""
    where = f"the trust list {trust_list.path}" if trust_list.path else "the trust list"
    groups: list[KeyGroup] = []
    pinned: list[PinnedKid] = []
    for entry in trust_list.entries:
        source = f"{where}, {entry.describe()}"
        roles = frozenset({entry.role})
        if entry.jwks is not None:
            keys = import_key_set(entry.jwks, source=source)
            groups.append(
                KeyGroup(
                    source=source,
                    keys=keys,
                    trusted=True,
                    why=f"on {where} as {entry.describe()}",
                    roles=roles,
                    entry=entry,
                    kind="trust-list",
                )
            )
        pinned += [
            PinnedKid(thumbprint=k, source=source, roles=roles, entry=entry) for k in entry.kids
        ]
    return TrustAnchors(tuple(groups), tuple(pinned))


def pinned_jwks(document: Mapping[str, Any], source: str) -> TrustAnchors:
    """A JWKS the buyer pinned (``--trust-jwks``): trusted for both roles."""
    if any(isinstance(k, dict) and "d" in k for k in document.get("keys") or []):
        raise KeySourceError(f"{source}: holds private key material ('d'); pin public keys only")
    keys = import_key_set(dict(document), source=source)
    group = KeyGroup(
        source=source,
        keys=keys,
        trusted=True,
        why=f"pinned by the buyer ({source})",
        kind="pinned-jwks",
    )
    return TrustAnchors((group,))


def pinned_kids(kids: Iterable[str]) -> TrustAnchors:
    """Key ids the buyer pinned (``--trust-kid``): trusted for both roles."""
    pins = (PinnedKid(thumbprint=k, source=f"pinned key id (--trust-kid {k})") for k in kids)
    return TrustAnchors(pinned=tuple(pins))


def read_jwks_file(path: Path, error: type[KeySourceError] = KeySourceError) -> dict[str, Any]:
    """A JWKS file as a document (bounded read and depth: a JWKS is a few kB)."""
    try:
        data = jsonfile.loads(read_bounded(path, error=error))
    except (OSError, ValueError) as e:
        raise error(f"{path}: the JWKS file cannot be read ({e})") from None
    import_key_set(data, source=str(path))
    return dict(data)


@dataclass(frozen=True, slots=True, kw_only=True)
class KeyMatch:
    """The key found for a signature's ``kid``, where it came from and whether it is trusted."""

    key: Key = field(repr=False)
    kid: str
    group: KeyGroup
    trusted: bool
    why: str
    entry: TrustEntry | None = None


def thumbprint(key: Key) -> str:
    """The RFC 7638 thumbprint of a public key (what OpenPCF uses as ``kid``)."""
    return str(key.thumbprint())


def find_key(
    kid: str, role: str, anchors: TrustAnchors, untrusted: Sequence[KeyGroup]
) -> KeyMatch | None:
    """The key named ``kid`` for a signature in ``role``: a trusted one if any, else one that
    only proves integrity, else None.

    A key of a trusted group that is trusted for another role only (a manufacturer's key on
    an attestation) is returned untrusted, saying so.
    """
    other_role: KeyMatch | None = None
    for group in anchors.groups:
        key = _by_kid(group.keys, kid)
        if key is None:
            continue
        if role in group.roles:
            return KeyMatch(
                key=key, kid=kid, group=group, trusted=True, why=group.why, entry=group.entry
            )
        other_role = other_role or KeyMatch(
            key=key,
            kid=kid,
            group=group,
            trusted=False,
            why=f"{group.why}, which trusts it to sign as {'/'.join(sorted(group.roles))}, "
            f"not as {role}",
            entry=group.entry,
        )
    for group in untrusted:
        key = _by_kid(group.keys, kid)
        if key is None:
            continue
        print_ = thumbprint(key)
        for pin in anchors.pinned:
            if pin.thumbprint == print_ and role in pin.roles:
                why = (
                    f"its RFC 7638 thumbprint is pinned ({pin.source}); key material from "
                    f"{group.source}"
                )
                return KeyMatch(
                    key=key, kid=kid, group=group, trusted=True, why=why, entry=pin.entry
                )
        if other_role is None:
            return KeyMatch(key=key, kid=kid, group=group, trusted=False, why=group.why)
    return other_role


def _by_kid(keys: KeySet, kid: str) -> Key | None:
    return next((k for k in keys.keys if k.kid == kid), None)  # type: ignore[return-value]


def untrusted_group(document: Mapping[str, Any], source: str, why: str) -> KeyGroup:
    """Keys that only prove integrity: a JWKS that came with the certificate or beside it."""
    return KeyGroup(
        source=source,
        keys=import_key_set(dict(document), source=source),
        trusted=False,
        why=why,
        kind="untrusted",
    )
