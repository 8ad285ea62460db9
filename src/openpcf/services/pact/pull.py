"""The recipient's side of PACT: pull a supplier's footprints, ask for footprints by event.

:func:`pull` lists a host's footprints (following pagination), checks each against the
official PACT OpenAPI when its file is available (else structurally: id, specVersion,
productIds, pcf with a reference period, a decimal ``pcfExcludingBiogenicUptake`` /
``pCfExcludingBiogenic``; the report says which was done) and writes the valid ones to
``<folder>/<id>.json``, where ``supplier_footprint: <path>`` in a product model can use them.

:func:`send_request` sends a RequestCreated event; the supplier answers on *our* host
(``openpcf serve``), which records the answer and stores the footprints of a Fulfilled event
in the same folder. :func:`wait_for_answer` polls the database for that answer.
"""

from __future__ import annotations

import datetime as dt
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from openpcf.db.base import utcnow
from openpcf.db.engine import session_scope
from openpcf.db.models import Event
from openpcf.db.repositories import footprint_facts
from openpcf.errors import InputError
from openpcf.exchange.events import TYPES, build_event
from openpcf.exchange.inbox import SupplierInbox
from openpcf.exchange.schema import validate_footprint

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from openpcf.exchange.client import PactClient
    from openpcf.exchange.events import Version


def default_openapi(version: str) -> Path | None:
    """``../shared/reference/pact/v<version>/openapi.yaml`` beside the repository, if present."""
    import openpcf

    repo = Path(openpcf.__file__).resolve().parents[2]
    path = repo.parent / "shared" / "reference" / "pact" / f"v{version}" / "openapi.yaml"
    return path if path.is_file() else None


@dataclass
class PullReport:
    stored: list[Path] = field(default_factory=list)
    invalid: dict[str, list[str]] = field(default_factory=dict)
    schema: Path | None = None
    """The OpenAPI file used, or ``None``: structural checks only."""


def check_footprint(doc: Mapping[str, Any], *, version: str, openapi: Path | None) -> list[str]:
    """Problems of a received footprint (empty when it can be used)."""
    if openapi is not None:
        return validate_footprint(dict(doc), openapi_path=openapi)
    problems = []
    try:
        footprint_facts(doc)
    except InputError as e:
        problems.append(str(e))
    total = "pcfExcludingBiogenicUptake" if version == "3" else "pCfExcludingBiogenic"
    value = (doc.get("pcf") or {}).get(total) if isinstance(doc.get("pcf"), Mapping) else None
    try:
        float(str(value))
    except ValueError:
        problems.append(f"pcf/{total}: {value!r} is not a decimal")
    return problems


def pull(
    client: PactClient,
    *,
    folder: Path,
    version: Version = "3",
    params: Mapping[str, str | list[str]] | None = None,
    openapi: Path | None = None,
    limit: int | None = 100,
) -> PullReport:
    """Fetch every listed footprint, check it and store the valid ones as ``<id>.json``."""
    report = PullReport(schema=openapi)
    inbox = SupplierInbox(folder)
    folder.mkdir(parents=True, exist_ok=True)
    for doc in client.list_footprints(version=version, params=params, limit=limit):
        pf_id = str(doc.get("id", ""))
        problems = check_footprint(doc, version=version, openapi=openapi)
        try:
            uuid.UUID(pf_id)
        except ValueError:
            problems.append(f"id {pf_id!r} is not a UUID")
        if problems:
            report.invalid[pf_id or "<no id>"] = problems
            continue
        report.stored.append(inbox.write(doc))
    return report


def send_request(
    client: PactClient,
    *,
    source: str,
    criteria: Mapping[str, Any],
    version: Version = "3",
    comment: str | None = None,
    now: dt.datetime | None = None,
) -> str:
    """Send a RequestCreated event; returns its id (the answer's ``requestEventId``).

    ``source`` is the base URL of our own host, where the supplier sends the answer. v3
    ``criteria`` are the ListFootprints filters (``{"productId": [...]}``); for v2.3 they
    become the ``pf`` fragment (``productId`` → ``productIds``, ``companyId`` → ``companyIds``).
    """
    if version == "3":
        data: dict[str, Any] = {k: v for k, v in criteria.items() if v}
    else:
        names = {"productId": "productIds", "companyId": "companyIds"}
        data = {"pf": {names.get(k, k): v for k, v in criteria.items() if v}}
    if comment:
        data["comment"] = comment
    event = build_event(
        version=version, kind="created", source=source, data=data, now=now or utcnow()
    )
    client.send_event(event, version=version)
    return str(event["id"])


def wait_for_answer(
    engine: Engine, *, request_id: str, timeout: float, poll: float = 0.5
) -> dict[str, Any] | None:
    """The Fulfilled or Rejected event answering ``request_id`` once our host received it."""
    answers = [TYPES[v][k] for v in TYPES for k in ("fulfilled", "rejected")]
    deadline = time.monotonic() + timeout
    while True:
        with session_scope(engine) as session:
            for event in session.scalars(
                select(Event).where(Event.type.in_(answers)).order_by(Event.id.desc()).limit(200)
            ):
                if (event.payload.get("data") or {}).get("requestEventId") == request_id:
                    return dict(event.payload)
        if time.monotonic() >= deadline:
            return None
        time.sleep(poll)
