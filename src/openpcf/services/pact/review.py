"""Received PACT requests answered by a person: the answer mode, pending requests, fulfil, reject.

PACT v3 lets the data owner answer a RequestCreated event later, after it has found an
existing relevant footprint or made a new one. Each organisation chooses how its host answers
the requests of its API clients (``organisation.pact_answer_mode``, migration 0010):

* ``auto`` (the default): :func:`openpcf.services.pact.host.receive_event` answers at once, in
  the transaction that stores the request, with the footprints ListFootprints gives the same
  client for the same criteria, or Rejected ``NotFound`` (PACT conformance unchanged);
* ``review``: the request is stored ``pending`` and nothing is sent. An owner or engineer
  (web page ``/pact-requests/received/{id}``, or ``openpcf pact requests``) then either
  **fulfils** it with one to :data:`MAX_FULFILLED` footprints the requesting client may read
  (the organisation's own, of products shared with that client; the matching ones are
  offered, :func:`candidates`), or **rejects** it with a PACT error code of
  :data:`REJECT_CODES` and a message.

Exactly one answer per request: the answer is queued in the outbox in the transaction that
moves the request from ``pending`` to ``answered`` with one conditional UPDATE
(:func:`openpcf.db.repositories.events.mark_request_answered`); whoever loses a race gets
:class:`AnsweredAlreadyError` and nothing is queued. The answer carries the CloudEvents
``source`` the host would have used at once (stored with the request) and goes to the
requesting client's peer (``openpcf pact peer``), delivered by the outbox like every answer.

Another organisation's request id raises :class:`~openpcf.db.errors.NotFoundError`, like an
unknown id; a footprint the client may not read is refused like an unknown one.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from sqlalchemy import select

from openpcf.db import repositories as repo
from openpcf.db.base import utcnow
from openpcf.db.engine import session_scope
from openpcf.db.errors import DuplicateError, NotFoundError
from openpcf.db.models import ANSWER_MODES, ApiClient, Event, Footprint, Organisation
from openpcf.db.repositories.events import PENDING, mark_request_answered
from openpcf.errors import InputError
from openpcf.exchange.events import TYPES, CloudEvent, Version, build_event, parse_event
from openpcf.exchange.v2 import NotMappableError, v2_view

if TYPE_CHECKING:
    from sqlalchemy import Engine
    from sqlalchemy.orm import Session

    from openpcf.services.pact.peers import PeerDirectory

AnswerMode = Literal["auto", "review"]

#: The most footprints one Fulfilled event carries (as when the host answers itself).
MAX_FULFILLED = 100
#: The longest rejection message.
MAX_MESSAGE = 1000
#: The PACT error codes a person may reject a request with, per API version: the ``code`` enum
#: of the ``Error`` object that a RequestRejected event's ``data.error`` refers to (PACT v3
#: OpenAPI, ``components/schemas/Error``: BadRequest, AccessDenied, TokenExpired, NotFound,
#: InternalError, NotImplemented; v2.3 the same with ``NoSuchFootprint`` for NotFound, as its
#: prose and this host's ``/2`` routes use), "no such footprint" first, without
#: ``TokenExpired`` (it is about an access token, never about a request's answer).
REJECT_CODES: dict[Version, tuple[str, ...]] = {
    "3": ("NotFound", "AccessDenied", "BadRequest", "NotImplemented", "InternalError"),
    "2": ("NoSuchFootprint", "AccessDenied", "BadRequest", "NotImplemented", "InternalError"),
}
_CREATED: dict[str, Version] = {TYPES["3"]["created"]: "3", TYPES["2"]["created"]: "2"}


class AnsweredAlreadyError(DuplicateError):
    """The request was answered already (by someone else, or by the host itself)."""


class AnswerInputError(InputError):
    """A fulfil or reject that cannot be sent as given; ``field`` names the form field
    (``footprints``, ``code`` or ``message``)."""

    def __init__(self, message: str, *, field: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True, slots=True, kw_only=True)
class Candidate:
    """A footprint the requesting client may read, offered as (part of) the answer."""

    footprint_id: str
    product_ids: tuple[str, ...]
    pcf: str
    """``pcf.pcfExcludingBiogenicUptake`` (kg CO2e per declared unit), as published."""
    unit: str
    status: str


@dataclass(frozen=True, slots=True, kw_only=True)
class PendingRequest:
    """A held request of the organisation, for the CLI's list."""

    id: int
    event_id: str
    version: str
    requester: str
    received: dt.datetime
    criteria: dict[str, Any]
    candidates: tuple[Candidate, ...]


# --------------------------------------------------------------------------------------------
# the answer mode


def set_answer_mode(engine: Engine, *, organisation: str, mode: str) -> str:
    """Set how the host answers the requests of ``organisation``'s clients; the former mode.

    Requests held before a change to ``auto`` stay pending until a person answers them.
    """
    if mode not in ANSWER_MODES:
        raise InputError(f"answer mode {mode[:20]!r}: choose {' or '.join(ANSWER_MODES)}")
    with session_scope(engine) as session:
        org = _organisation(session, organisation)
        former, org.pact_answer_mode = org.pact_answer_mode, mode
        return former


def answer_mode(session: Session, organisation_id: int) -> str:
    """The organisation's answer mode (``auto`` or ``review``)."""
    mode = session.scalar(
        select(Organisation.pact_answer_mode).where(Organisation.id == organisation_id)
    )
    if mode is None:
        raise NotFoundError(f"no organisation {organisation_id}")
    return mode


def organisation_id(engine: Engine, name: str | None) -> int:
    """The id of the organisation ``name``; without a name, of the only one in the database."""
    with session_scope(engine) as session:
        if name:
            return _organisation(session, name).id
        found = list(session.scalars(select(Organisation).order_by(Organisation.name).limit(21)))
        if len(found) == 1:
            return found[0].id
        names = ", ".join(o.name for o in found[:20]) or "none"
        raise InputError(f"name the organisation with --org (this database holds: {names})")


def _organisation(session: Session, name: str) -> Organisation:
    try:
        return repo.get_organisation(session, name=name)
    except NotFoundError:
        raise InputError(f"no organisation {name!r} in this database") from None


# --------------------------------------------------------------------------------------------
# reading


def held_request(
    session: Session, organisation_id: int, request_id: int
) -> tuple[Event, ApiClient]:
    """The request ``request_id`` that the organisation's host held for a person (pending or
    answered), with the client that sent it; :class:`NotFoundError` for any other id."""
    found = session.execute(
        select(Event, ApiClient)
        .join(ApiClient, Event.client_id == ApiClient.id)
        .where(
            Event.id == request_id,
            ApiClient.organisation_id == organisation_id,
            Event.type.in_(list(_CREATED)),
            Event.answer_state.is_not(None),
        )
    ).one_or_none()
    if found is None:
        raise NotFoundError(f"no PACT request {request_id} held for an answer")
    event, client = found
    return event, client


def candidates(session: Session, event: Event, client: ApiClient) -> tuple[Candidate, ...]:
    """The footprints the host would answer ``event`` with in ``auto`` mode: those
    ``client`` may list that match the request's criteria (at most :data:`MAX_FULFILLED`)."""
    return tuple(_candidate(f) for f in _matching(session, _request(event), client))


def pending_requests(engine: Engine, *, organisation_id: int) -> list[PendingRequest]:
    """The organisation's requests waiting for a person, oldest first, with their candidates."""
    with session_scope(engine) as session:
        rows = session.execute(
            select(Event, ApiClient)
            .join(ApiClient, Event.client_id == ApiClient.id)
            .where(ApiClient.organisation_id == organisation_id, Event.answer_state == PENDING)
            .order_by(Event.received, Event.id)
            .limit(200)
        ).all()
        out = []
        for event, client in rows:
            request = _request(event)
            out.append(
                PendingRequest(
                    id=event.id,
                    event_id=event.event_id,
                    version=request.version,
                    requester=client.client_id,
                    received=event.received,
                    criteria=request.data.get("pf", request.data),
                    candidates=candidates(session, event, client),
                )
            )
        return out


def _request(event: Event) -> CloudEvent:
    """The stored RequestCreated event, checked again as when it arrived."""
    version = _CREATED[event.type]
    body = json.dumps(event.payload).encode()
    return parse_event(body, content_type="application/cloudevents+json", version=version)


def _matching(session: Session, request: CloudEvent, client: ApiClient) -> list[Footprint]:
    """The same footprints :func:`openpcf.services.pact.host.receive_event` would send."""
    found = list(repo.list_footprints(session, client=client, filters=request.criteria()).items)
    wanted = request.fragment_id()
    if wanted is not None:
        found = [f for f in found if str(f.id) == wanted.lower()]
    return found[:MAX_FULFILLED]


def _candidate(footprint: Footprint) -> Candidate:
    document = footprint.document
    pcf = document.get("pcf")
    pcf = pcf if isinstance(pcf, dict) else {}
    return Candidate(
        footprint_id=str(footprint.id),
        product_ids=tuple(str(p) for p in document.get("productIds") or []),
        pcf=str(pcf.get("pcfExcludingBiogenicUptake", "")),
        unit=str(pcf.get("declaredUnitOfMeasurement", "")),
        status=footprint.status,
    )


# --------------------------------------------------------------------------------------------
# answering


def fulfil(
    engine: Engine,
    *,
    organisation_id: int,
    request_id: int,
    footprint_ids: Iterable[str],
    peers: PeerDirectory,
    by: str,
    now: dt.datetime | None = None,
) -> uuid.UUID:
    """Answer the held request with the footprints ``footprint_ids``; the outbox id.

    Each id must be a footprint the requesting client may read (the organisation's own, of a
    product shared with the client); on PACT v2.3 each must also have a v2.3 form.

    Raises
    ------
    AnswerInputError
        No footprint, more than :data:`MAX_FULFILLED`, or one the client may not read.
    AnsweredAlreadyError
        Someone answered first.
    """
    with session_scope(engine, write=True) as session:
        event, client, request, target = _answerable(session, organisation_id, request_id, peers)
        chosen = [_readable(session, client, key) for key in _footprint_ids(footprint_ids)]
        pfs = [_document(f, request.version) for f in chosen]
        data = {"requestEventId": request.id, "pfs": pfs}
        return _send(session, event, client, request, target, "fulfilled", data, by, now)


def reject(
    engine: Engine,
    *,
    organisation_id: int,
    request_id: int,
    code: str,
    message: str,
    peers: PeerDirectory,
    by: str,
    now: dt.datetime | None = None,
) -> uuid.UUID:
    """Answer the held request with a PACT error (``code`` of :data:`REJECT_CODES` for the
    request's version, a message of 1 to :data:`MAX_MESSAGE` characters); the outbox id."""
    text = message.strip()
    with session_scope(engine, write=True) as session:
        event, client, request, target = _answerable(session, organisation_id, request_id, peers)
        codes = REJECT_CODES[request.version]
        if code not in codes:
            raise AnswerInputError(
                f"error code {code[:40]!r}: choose one of {', '.join(codes)} "
                f"(PACT v{'2.3' if request.version == '2' else '3'})",
                field="code",
            )
        if not text or len(text) > MAX_MESSAGE:
            raise AnswerInputError(
                f"give a message of 1 to {MAX_MESSAGE} characters (it has {len(text)}); the "
                "requester reads it",
                field="message",
            )
        data = {"requestEventId": request.id, "error": {"code": code, "message": text}}
        return _send(session, event, client, request, target, "rejected", data, by, now)


def _footprint_ids(values: Iterable[str]) -> list[uuid.UUID]:
    ids: list[uuid.UUID] = []
    for value in dict.fromkeys(v.strip() for v in values if v.strip()):
        try:
            ids.append(uuid.UUID(value[:64]))
        except ValueError:
            raise AnswerInputError(
                f"{value[:60]!r} is not a footprint id (a UUID)", field="footprints"
            ) from None
    if not ids:
        raise AnswerInputError("choose at least one footprint to send", field="footprints")
    if len(ids) > MAX_FULFILLED:
        raise AnswerInputError(
            f"{len(ids)} footprints: one answer carries at most {MAX_FULFILLED}",
            field="footprints",
        )
    return ids


def _answerable(
    session: Session, organisation_id: int, request_id: int, peers: PeerDirectory
) -> tuple[Event, ApiClient, CloudEvent, str]:
    """The pending request, its client, the parsed event and where its answer goes."""
    event, client = held_request(session, organisation_id, request_id)
    if event.answer_state != PENDING:
        raise _answered(event)
    peer = peers.for_client(client.client_id)
    if peer is None:
        raise InputError(
            f"no events endpoint is configured for client {client.client_id}, so the answer "
            "cannot be sent; configure it with `openpcf pact peer`"
        )
    request = _request(event)
    return event, client, request, peer.events_url(request.version)


def _readable(session: Session, client: ApiClient, key: uuid.UUID) -> Footprint:
    try:
        return repo.get_footprint(session, client=client, pf_id=key)
    except NotFoundError:
        raise AnswerInputError(
            f"footprint {key} is not one client {client.client_id} may read (share its "
            "product with the client: openpcf storage grant)",
            field="footprints",
        ) from None


def _document(footprint: Footprint, version: Version) -> dict[str, Any]:
    if version == "3":
        return dict(footprint.document)
    try:
        return v2_view(
            footprint.document,
            cpc=footprint.product.cpc,
            deprecated_at=footprint.status_changed_at,
        )
    except NotMappableError as e:
        raise AnswerInputError(
            f"footprint {footprint.id} has no PACT v2.3 form: {e}", field="footprints"
        ) from None


def _send(
    session: Session,
    event: Event,
    client: ApiClient,
    request: CloudEvent,
    target: str,
    kind: Literal["fulfilled", "rejected"],
    data: dict[str, Any],
    by: str,
    now: dt.datetime | None,
) -> uuid.UUID:
    """Mark the request answered (one conditional UPDATE) and queue the answer, or raise."""
    now = now or utcnow()
    if not mark_request_answered(session, event=event, by=by, now=now):
        session.refresh(event)
        raise _answered(event)
    answer = build_event(
        version=request.version,
        kind=kind,
        source=event.answer_source or "",
        data=data,
        now=now,
    )
    queued = repo.enqueue_outbox(
        session, target_url=target, payload=answer, organisation=client.organisation, now=now
    )
    return queued.id


def _answered(event: Event) -> AnsweredAlreadyError:
    who = f" by {event.answered_by}" if event.answered_by else ""
    when = f" at {event.answered_at:%Y-%m-%d %H:%M} UTC" if event.answered_at else ""
    return AnsweredAlreadyError(
        f"PACT request {event.id} was answered already{who}{when}; PACT allows one answer"
    )
