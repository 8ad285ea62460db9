"""Where the PACT host sends its answers to asynchronous requests, and with which credentials.

A client that sends a RequestCreated event must be answered on *its own* host: the data owner
authenticates at the requester's ``/auth/token`` (or its OpenID configuration's
``token_endpoint``) with credentials the requester issued, and POSTs the Fulfilled or Rejected
event to ``<base_url>/<2|3>/events``. These peer settings are configured per API client.

Design note: the settings live in a JSON file, ``$OPENPCF_HOME/pact/peers.json`` (mode 0600:
it holds the requesters' client secrets, which must be readable to be used), behind the small
:class:`PeerDirectory` interface. The storage layer has no table for them yet; the lead's
migration ``0002_pact_peer`` (see ``docs/pact-host.md``) can move them into the database and
provide a second implementation of the same interface without touching the host.

File format::

    {"peers": [{"client_id": "opcf-…",                 # our API client (the requester)
                "base_url": "https://buyer.example",   # the requester's PACT host
                "remote_client_id": "…", "remote_client_secret": "…",
                "auth_base_url": null,                  # optional, if auth lives elsewhere
                "ca_file": null}]}                      # optional CA bundle (self-signed hosts)
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Protocol
from urllib.parse import urlsplit

from openpcf.errors import InputError
from openpcf.files.durable import atomic_write


@dataclass(frozen=True, slots=True)
class Peer:
    """A requester's PACT host and the credentials it issued to us."""

    client_id: str
    base_url: str
    remote_client_id: str
    remote_client_secret: str
    auth_base_url: str | None = None
    ca_file: str | None = None

    def __post_init__(self) -> None:
        parts = urlsplit(self.base_url)
        if parts.scheme != "https" or not parts.hostname:
            raise InputError(
                f"peer {self.client_id}: base_url {self.base_url!r} must be an https:// URL "
                "(PACT hosts serve HTTPS only)"
            )

    @property
    def base(self) -> str:
        return self.base_url.rstrip("/")

    def events_url(self, version: str) -> str:
        return f"{self.base}/{version}/events"

    def accepts_source(self, source: str) -> bool:
        """Whether an event ``source`` names this peer's host (``//host/…`` or ``https://host``)."""
        mine = urlsplit(self.base_url)
        theirs = urlsplit(source if "//" in source else f"//{source}")
        if not theirs.hostname or (theirs.scheme not in ("", "https")):
            return False
        port = theirs.port or 443
        return theirs.hostname.lower() == (mine.hostname or "").lower() and port == (
            mine.port or 443
        )


class PeerDirectory(Protocol):
    """Lookup of peer settings (a file today; a table after migration 0002)."""

    def for_client(self, client_id: str) -> Peer | None: ...

    def for_target(self, url: str) -> Peer | None: ...


class MemoryPeers:
    """Peers held in memory (tests, and the base of :class:`FilePeers`)."""

    def __init__(self, peers: Iterable[Peer] = ()) -> None:
        self._peers = {p.client_id: p for p in peers}

    def for_client(self, client_id: str) -> Peer | None:
        return self._peers.get(client_id)

    def for_target(self, url: str) -> Peer | None:
        found = [p for p in self._peers.values() if url.startswith(p.base + "/")]
        return max(found, key=lambda p: len(p.base), default=None)

    def all(self) -> list[Peer]:
        return list(self._peers.values())


class FilePeers(MemoryPeers):
    """Peers read from ``peers.json`` (re-read when the file changes)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._stamp: float | None = None
        super().__init__()
        self._reload()

    def _reload(self) -> None:
        try:
            stamp = self.path.stat().st_mtime
        except FileNotFoundError:
            self._peers, self._stamp = {}, None
            return
        if stamp == self._stamp:
            return
        try:
            doc = json.loads(self.path.read_text(encoding="utf-8"))
            peers = [Peer(**entry) for entry in doc.get("peers", [])]
        except (ValueError, TypeError, AttributeError) as e:
            raise InputError(f"{self.path}: not a valid peers file ({e})") from None
        self._peers, self._stamp = {p.client_id: p for p in peers}, stamp

    def for_client(self, client_id: str) -> Peer | None:
        self._reload()
        return super().for_client(client_id)

    def for_target(self, url: str) -> Peer | None:
        self._reload()
        return super().for_target(url)

    def save(self, peer: Peer) -> None:
        """Add or replace ``peer`` and write the file (mode 0600)."""
        self._reload()
        self._peers[peer.client_id] = peer
        text = json.dumps({"peers": [asdict(p) for p in self._peers.values()]}, indent=2)
        atomic_write(self.path, (text + "\n").encode("utf-8"), mode=0o600)
        self._stamp = None


def peers_file(home: Path) -> Path:
    return Path(home) / "pact" / "peers.json"
