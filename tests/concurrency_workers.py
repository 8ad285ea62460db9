"""Code that runs in the worker processes of ``tests/test_concurrency.py``.

The workers are started with multiprocessing's ``spawn`` context, so each is a fresh
interpreter that imports this module by name (``tests/`` is on the path the parent passes
on) and opens its own engine: nothing is shared with the test process but the database and
the files named in the arguments.
"""

from __future__ import annotations

import datetime as dt
import os
import time
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import httpx

from openpcf.exchange.client import PactClient
from openpcf.exchange.errors import PactRemoteError
from openpcf.services.pact.peers import MemoryPeers, Peer

PEER = "https://peer.test"


# --------------------------------------------------------------------------------------------
# publishing


def publish_at_barrier(
    url: str, model: str, organisation: str, power: int, barrier: Any, results: Any
) -> None:
    """Publish ``model`` with ``power``, entering the database at the same moment as every
    other worker; put the outcome on ``results`` as ``(power, id, new, deprecated,
    retries)``, or ``(power, error)``.

    The barrier is passed after the calculation (which takes a different time in each
    process), right before the publishing transaction, so that all the transactions overlap.
    """
    import logging

    from openpcf.db.engine import make_engine
    from openpcf.errors import OpenPCFError
    from openpcf.services import publishing
    from openpcf.services.publishing import publish

    calculate = publishing.calculate  # type: ignore[attr-defined]

    def calculate_then_wait(*args: Any, **kwargs: Any) -> Any:
        calculation = calculate(*args, **kwargs)
        barrier.wait(timeout=120)
        return calculation

    publishing.calculate = calculate_then_wait  # type: ignore[attr-defined]

    retries: list[str] = []

    class Count(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            retries.append(record.getMessage())

    log = logging.getLogger("openpcf.db.concurrency")
    log.setLevel(logging.INFO)
    log.addHandler(Count())
    engine = make_engine(url)
    try:
        out = publish(
            model,
            engine=engine,
            organisation=organisation,
            overrides={"power": power},
            replace_live=True,
        )
    except OpenPCFError as e:
        results.put((power, f"{type(e).__name__}: {e}"))
        return
    finally:
        engine.dispose()
    deprecated = str(out.deprecated) if out.deprecated else None
    results.put((power, str(out.id), out.new, deprecated, len(retries)))


def publish_then_hang(url: str, model: str, organisation: str, power: int, ready: str) -> None:
    """Publish, but stop inside the transaction, after the new footprint and the deprecation
    of its predecessor were sent to the database and before the commit; touch ``ready`` and
    wait to be killed."""
    from openpcf.db import repositories
    from openpcf.db.engine import make_engine
    from openpcf.services.publishing import publish

    original = repositories.publish_footprint

    def publish_footprint(*args: Any, **kwargs: Any) -> Any:
        footprint = original(*args, **kwargs)
        Path(ready).write_text(str(footprint.id), encoding="utf-8")
        time.sleep(600)  # killed here
        return footprint

    repositories.publish_footprint = publish_footprint  # the service calls repo.publish_footprint
    publish(
        model,
        engine=make_engine(url),
        organisation=organisation,
        overrides={"power": power},
        replace_live=True,
    )


# --------------------------------------------------------------------------------------------
# the outbox


class RecordingPeer(PactClient):
    """A requester host that records each event it receives in a shared log file.

    One line per POST, ``<event id> <worker> <accepted|duplicate>``, written with O_APPEND (a
    short write to a local file lands whole). Like a host that remembers event ids, it answers
    an event it has seen before with 409 Conflict. ``hang_after_send`` makes the worker stop
    (to be killed) after the peer received the event, before the sender records it.
    """

    def __init__(self, log: str, worker: str, *, delay: float, hang_after_send: bool) -> None:
        super().__init__(PEER, client_id="peer", client_secret="secret", http=httpx.Client())
        self.log, self.worker = log, worker
        self.delay, self.hang_after_send = delay, hang_after_send

    def send_event(
        self, event: Mapping[str, Any], *, url: str | None = None, version: str = "3"
    ) -> httpx.Response:
        time.sleep(self.delay)  # the HTTP round trip: widens the window for a second sender
        event_id = str(event["id"])
        seen = Path(self.log).exists() and any(
            line.split()[0] == event_id and line.split()[2] == "accepted"
            for line in Path(self.log).read_text(encoding="utf-8").splitlines()
        )
        verdict = "duplicate" if seen else "accepted"
        fd = os.open(self.log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, f"{event_id} {self.worker} {verdict}\n".encode())
        finally:
            os.close(fd)
        if self.hang_after_send:
            time.sleep(600)  # killed here
        if seen:
            error = PactRemoteError(f"POST {url} answered 409: event {event_id} received before")
            error.status = 409  # type: ignore[attr-defined]
            raise error
        return httpx.Response(200)


def peers() -> MemoryPeers:
    return MemoryPeers(
        [Peer(client_id="buyer", base_url=PEER, remote_client_id="x", remote_client_secret="y")]
    )


def deliver_at_barrier(
    url: str, log: str, worker: str, barrier: Any, *, delay: float = 0.01, lease_s: float = 300
) -> None:
    """Wait for every worker, then run delivery passes until nothing is due."""
    from openpcf.db.engine import make_engine
    from openpcf.services.pact.outbox import Deliverer

    engine = make_engine(url)
    deliverer = Deliverer(
        engine,
        peers=peers(),
        client_factory=lambda _peer: RecordingPeer(log, worker, delay=delay, hang_after_send=False),
        lease=dt.timedelta(seconds=lease_s),
    )
    barrier.wait(timeout=120)
    try:
        while True:
            report = deliverer.deliver_due(limit=5)
            if not (report.delivered or report.failed or report.abandoned):
                return
    finally:
        deliverer.close()
        engine.dispose()


def deliver_then_hang(url: str, log: str, lease_s: float) -> None:
    """Claim and send one event, then stop before recording the outcome (to be killed)."""
    from openpcf.db.engine import make_engine
    from openpcf.services.pact.outbox import Deliverer

    deliverer = Deliverer(
        make_engine(url),
        peers=peers(),
        client_factory=lambda _peer: RecordingPeer(log, "doomed", delay=0, hang_after_send=True),
        lease=dt.timedelta(seconds=lease_s),
    )
    deliverer.deliver_due(limit=1)


def answer(n: int) -> dict[str, Any]:
    """The ``n``-th queued answer: a RequestFulfilled event with a unique id."""
    return {
        "type": "org.wbcsd.pact.ProductFootprint.RequestFulfilledEvent.3",
        "specversion": "1.0",
        "id": f"{uuid.uuid4()}-{n}",
        "source": "//openpcf.test",
        "data": {"requestEventId": f"request-{n}", "pfs": []},
    }
