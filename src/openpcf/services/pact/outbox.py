"""Deliver queued events (the outbox) to other PACT hosts, with retries and backoff.

:func:`deliver_due` is one pass: claim each due event, POST it to its target after
authenticating at the target's host with the peer credentials, and record the outcome.
The app's lifespan runs it in a loop (:class:`OutboxSender`), ``openpcf pact deliver`` runs it
once. Retry policy is the storage layer's (``mark_failed``: 1 min doubling up to 12 h, given
up 72 h after queuing, PACT v3); a 4xx answer other than 401/408/429 means the recipient
refuses the event for good, so it is given up at once (except "already received", below).

Design note: an event is *claimed* in a short write transaction, one event at a time
(:func:`~openpcf.db.repositories.claim_outbox`: a conditional UPDATE that pushes its next
attempt ``LEASE`` into the future and succeeds for one sender only, on SQLite as on
PostgreSQL), delivered with no transaction open, and the outcome is recorded in a second
short transaction. Holding a transaction across the HTTP call would keep SQLite's write lock
while the peer (possibly this very host) needs it. Claiming one event at a time, rather than
a pass's 20 at once, keeps the lease longer than the one delivery it covers (discovery,
token, event, and token and event again after a 401: at most 150 s with the 30 s timeout),
so a slow peer cannot make a later event's claim run out while it waits its turn. A sender
that dies mid-delivery leaves the event claimed; it is tried again when the lease runs out.

PACT asks for one answer per request, so delivery is "at least once" made "exactly once" by
the claim, with one unavoidable gap: a sender that dies after the peer received the event but
before the outcome was recorded. The event is then sent again after the lease, and a peer
that answers that it has the event already (HTTP 409 Conflict, or a 4xx whose message says
the event was received before or is a duplicate, as OpenPCF's own host answers a replay)
counts as delivered, not as a refusal.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from openpcf.db import repositories as repo
from openpcf.db.base import utcnow
from openpcf.db.engine import session_scope
from openpcf.db.models import OutboxEvent
from openpcf.exchange.client import PactClient
from openpcf.exchange.errors import PactRemoteError

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from openpcf.services.pact.peers import Peer, PeerDirectory

log = logging.getLogger(__name__)

#: How long a claimed event is hidden from other senders while it is being delivered.
LEASE = dt.timedelta(minutes=5)
_RETRYABLE_4XX = frozenset({401, 408, 429})
#: An answer that says the recipient has the event already (a redelivery): delivered.
_ALREADY_RECEIVED = re.compile(r"received before|already received|duplicate", re.IGNORECASE)


@dataclass
class DeliveryReport:
    delivered: list[uuid.UUID] = field(default_factory=list)
    failed: list[uuid.UUID] = field(default_factory=list)
    abandoned: list[uuid.UUID] = field(default_factory=list)


ClientFactory = Callable[["Peer"], PactClient]


def peer_client(peer: Peer) -> PactClient:
    """A PACT client of ``peer``'s host with the credentials it gave us."""
    return PactClient(
        peer.base_url,
        client_id=peer.remote_client_id,
        client_secret=peer.remote_client_secret,
        auth_base_url=peer.auth_base_url,
        verify=peer.ca_file or True,
        timeout=30.0,
    )


class Deliverer:
    """Delivers outbox events; keeps one authenticated client per peer between passes."""

    def __init__(
        self,
        engine: Engine,
        *,
        peers: PeerDirectory,
        client_factory: ClientFactory = peer_client,
        lease: dt.timedelta = LEASE,
    ) -> None:
        self.engine = engine
        self.peers = peers
        self.lease = lease
        self._factory = client_factory
        self._clients: dict[tuple[str, str], PactClient] = {}

    def close(self) -> None:
        for client in self._clients.values():
            client.close()
        self._clients.clear()

    def deliver_due(self, *, now: dt.datetime | None = None, limit: int = 20) -> DeliveryReport:
        """One pass over the due events (at most ``limit``), each claimed just before it is sent."""
        report = DeliveryReport()
        for _ in range(limit):
            claimed = self._claim(now or utcnow())
            if claimed is None:
                break
            item_id, target, payload = claimed
            error, permanent = self._post(target, payload)
            with session_scope(self.engine, write=True) as session:
                item = session.get(OutboxEvent, item_id)
                if item is None:  # pragma: no cover - deleted meanwhile
                    continue
                moment = utcnow() if now is None else now
                if error is None:
                    repo.mark_delivered(session, event=item, now=moment)
                    report.delivered.append(item_id)
                    continue
                deadline = dt.timedelta(0) if permanent else repo.RETRY_DEADLINE
                repo.mark_failed(session, event=item, error=error, now=moment, deadline=deadline)
                (report.abandoned if item.abandoned_at else report.failed).append(item_id)
                log.warning("outbox event %s to %s failed: %s", item_id, target, error)
        return report

    def _claim(self, now: dt.datetime) -> tuple[uuid.UUID, str, dict] | None:  # type: ignore[type-arg]
        with session_scope(self.engine, write=True) as session:
            item = repo.claim_outbox(session, now=now, lease=self.lease)
            return None if item is None else (item.id, item.target_url, dict(item.payload))

    def _post(self, target: str, payload: dict) -> tuple[str | None, bool]:  # type: ignore[type-arg]
        """``(error or None, permanent?)`` of one delivery attempt."""
        peer = self.peers.for_target(target)
        if peer is None:
            return f"no peer credentials configured for {target}", False
        key = (peer.client_id, peer.base_url)
        client = self._clients.get(key)
        if client is None:
            client = self._clients[key] = self._factory(peer)
        try:
            client.send_event(payload, url=target)
        except PactRemoteError as e:
            status = getattr(e, "status", None)
            if already_received(status, str(e)):
                log.info("%s has the event already (%s); counted as delivered", target, e)
                return None, False
            permanent = status is not None and 400 <= status < 500 and status not in _RETRYABLE_4XX
            return str(e), permanent
        return None, False


def already_received(status: int | None, message: str) -> bool:
    """Whether a refusal means the recipient has the event already (a redelivery).

    That is HTTP 409 Conflict, or a 400/422 whose message says so (OpenPCF's host answers a
    replayed event 400 "event … was received before"). PACT defines no answer for a duplicate
    event, so other wording stays a refusal.
    """
    if status == 409:
        return True
    return status in (400, 422) and bool(_ALREADY_RECEIVED.search(message))


def deliver_due(
    engine: Engine, *, peers: PeerDirectory, now: dt.datetime | None = None, limit: int = 20
) -> DeliveryReport:
    """One delivery pass with fresh clients (``openpcf pact deliver``)."""
    deliverer = Deliverer(engine, peers=peers)
    try:
        return deliverer.deliver_due(now=now, limit=limit)
    finally:
        deliverer.close()


class OutboxSender:
    """A background thread that runs delivery passes every ``interval`` seconds.

    :meth:`poke` starts a pass at once (after a RequestCreated was accepted) instead of
    waiting for the next tick; :meth:`stop` ends the thread after the current pass.
    """

    def __init__(
        self,
        engine: Engine,
        *,
        peers: PeerDirectory,
        interval: float = 5.0,
        client_factory: ClientFactory = peer_client,
    ) -> None:
        self.interval = interval
        self._deliverer = Deliverer(engine, peers=peers, client_factory=client_factory)
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="pact-outbox", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def poke(self) -> None:
        self._wake.set()

    def stop(self, timeout: float = 10.0) -> None:
        self._stopping.set()
        self._wake.set()
        self._thread.join(timeout)
        self._deliverer.close()

    def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                while self._deliverer.deliver_due().delivered and not self._stopping.is_set():
                    pass  # more may be due: go again without waiting
            except Exception:  # the loop must survive a database hiccup; it logs and retries
                log.exception("outbox delivery pass failed")
            self._wake.wait(self.interval)
            self._wake.clear()
