"""The recipient's side of PACT: pull a supplier's footprints, ask for footprints by event.

:func:`pull` lists a host's footprints (following pagination), validates each as a PACT
ProductFootprint of the version pulled (OpenPCF's own validator, or the OpenAPI file given) and
stores the valid ones in the organisation's supplier store with origin ``pulled``
(:mod:`openpcf.services.suppliers`), where ``supplier_footprint: <id | product URN>`` inputs
of product models find them. A footprint whose id is held with other content is refused and
reported, never replaced.

:func:`send_request` records a RequestCreated event and then sends it; the supplier answers on
*our* host (``openpcf serve``), which accepts the answer only because it matches that record
(:mod:`openpcf.services.pact.answers`). :func:`wait_for_answer` polls the database for it.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from openpcf.db import repositories as repo
from openpcf.db.base import utcnow
from openpcf.db.engine import session_scope
from openpcf.db.errors import NotFoundError
from openpcf.db.models import Event
from openpcf.errors import InputError
from openpcf.exchange.errors import FootprintConflictError
from openpcf.exchange.events import build_event
from openpcf.exchange.schema import validated_against
from openpcf.services.suppliers import check_received, receiving_organisation, store_received

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from openpcf.exchange.client import PactClient
    from openpcf.exchange.events import Version


@dataclass
class PullReport:
    """What a pull stored and refused, per footprint id (the CLI prints it, exit 1 on refusals)."""

    organisation: str = ""
    """The organisation that received the footprints."""
    stored: list[str] = field(default_factory=list)
    """Ids of footprints new in the store."""
    unchanged: list[str] = field(default_factory=list)
    """Ids held already with the same content."""
    invalid: dict[str, list[str]] = field(default_factory=dict)
    conflicts: dict[str, str] = field(default_factory=dict)
    """Ids held already with *other* content (refused, nothing replaced)."""
    schema: str = ""
    """What every footprint was validated against: the OpenAPI file given, else OpenPCF's own
    validator of the version (:func:`openpcf.exchange.schema.validated_against`)."""


def pull(
    client: PactClient,
    *,
    engine: Engine,
    organisation: str | None = None,
    peer_client_id: str | None = None,
    version: Version = "3",
    params: Mapping[str, str | list[str]] | None = None,
    openapi: Path | None = None,
    limit: int | None = 100,
) -> PullReport:
    """Fetch every listed footprint, validate it and store the valid ones (origin ``pulled``).

    The receiving organisation is ``organisation``, else that of our API client
    ``peer_client_id`` (the supplier's peer entry), else the only (or default) one
    (:func:`openpcf.services.suppliers.receiving_organisation`). Each footprint is stored in its
    own short transaction, so no database lock is held across the HTTP calls and one conflict
    does not lose the others.
    """
    with session_scope(engine, write=True) as session:
        org = receiving_organisation(session, name=organisation, client_id=peer_client_id)
        org_name = org.name
    report = PullReport(organisation=org_name, schema=validated_against(version, openapi))
    for doc in client.list_footprints(version=version, params=params, limit=limit):
        pf_id = str(doc.get("id", "")) or "<no id>"
        problems = check_received(doc, version=version, openapi=openapi)
        if problems:
            report.invalid[pf_id] = problems
            continue
        try:
            with session_scope(engine, write=True) as session:
                stored = store_received(
                    session,
                    organisation=repo.get_organisation(session, name=org_name),
                    documents=[doc],
                    origin="pulled",
                    source=client.base_url,
                )
        except FootprintConflictError as e:
            report.conflicts[pf_id] = str(e)
            continue
        report.stored += stored.new
        report.unchanged += stored.unchanged
    return report


def send_request(
    client: PactClient,
    *,
    engine: Engine,
    answered_by: str,
    source: str,
    criteria: Mapping[str, Any],
    version: Version = "3",
    comment: str | None = None,
    now: dt.datetime | None = None,
) -> str:
    """Record and send a RequestCreated event; returns its id (the answer's ``requestEventId``).

    ``source`` is the base URL of our own host, where the supplier sends the answer;
    ``answered_by`` is the id of the API client this host issued to that supplier: only an
    answer sent with its token is accepted, and the footprints go to its organisation. The
    request is recorded (committed) *before* it is sent, so a quick answer finds it; a request
    whose sending failed stays on record (it may have arrived). v3 ``criteria`` are the
    ListFootprints filters (``{"productId": [...]}``); for v2.3 they become the ``pf``
    fragment (``productId`` → ``productIds``, ``companyId`` → ``companyIds``).
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
    with session_scope(engine, write=True) as session:
        try:
            answerer = repo.get_client(session, client_id=answered_by)
        except NotFoundError:
            raise InputError(
                f"no API client {answered_by!r} on this host: create the credentials the "
                "supplier answers with (`openpcf storage create-client`) and name them"
            ) from None
        repo.record_request(
            session,
            event_id=str(event["id"]),
            client=answerer,
            target_url=client.base_url,
            version=version,
            payload=event,
            sent_at=now,
        )
    client.send_event(event, version=version)
    return str(event["id"])


def wait_for_answer(
    engine: Engine, *, request_id: str, timeout: float, poll: float = 0.5
) -> dict[str, Any] | None:
    """The Fulfilled or Rejected event our host accepted as the answer to ``request_id``.

    Read through the request's record (``answer_event_id``), so only the accepted answer is
    returned, never an event that merely names the request.
    """
    deadline = time.monotonic() + timeout
    while True:
        with session_scope(engine) as session:
            request = repo.get_request(session, event_id=request_id)
            if request is not None and request.answered_at is not None:
                event = session.scalar(
                    select(Event)
                    .where(
                        Event.event_id == request.answer_event_id,
                        Event.type == request.answer_type,
                    )
                    .order_by(Event.id.desc())
                    .limit(1)
                )
                if event is not None:
                    return dict(event.payload)
        if time.monotonic() >= deadline:
            return None
        time.sleep(poll)
