"""The PACT requests inbox of the web application: requests received and requests sent.

**Received.** RequestCreated events that our PACT host accepted
(:func:`openpcf.services.pact.host.receive_event`) from an API client of the organisation,
each with its one answer (Fulfilled with footprints, or Rejected with a PACT error) and that
answer's delivery to the requester's host (:mod:`openpcf.services.pact.outbox`: queued,
retrying with the last error, delivered, or given up after 72 hours). In the answer mode
``auto`` the host queued the answer in the transaction that stored the request (the shared
footprints that match the criteria, or Rejected ``NotFound``/``NoSuchFootprint``); in the
mode ``review`` the request waits (``pending``) until an owner or engineer fulfils or rejects
it here (:func:`fulfil_request`, :func:`reject_request`, through
:mod:`openpcf.services.pact.review`, which guarantees one answer). Owners switch the mode on
the page (:func:`set_answer_mode`).

**Sent.** Requests the organisation sent (``pact_request``: ``openpcf pact request``,
``openpcf suppliers request`` over PACT, or the page's form through :func:`send`), with the
answer our host accepted for each (:mod:`openpcf.services.pact.answers`) and the supplier
footprints held for it.

Another organisation's ids raise :class:`~openpcf.db.errors.NotFoundError` (404), like an
unknown id. Lists show the newest :data:`SHOWN` of each kind.

Design note, why only a held request has "fulfil" and "reject" buttons: in the mode
``auto`` the answer is queued or delivered by the time a person opens the page, and PACT
allows one answer per request (the requester's host refuses a second, as ours does), so a
button could only send a second answer. In the mode ``review`` nothing was sent, and the
buttons send the one answer.

Sending goes through the same path as the CLI: :func:`openpcf.services.pact.pull.send_request`
with a :class:`~openpcf.exchange.client.PactClient` made from a configured peer
(``openpcf pact peer``: the credentials that supplier's host issued us, with its checks on
token endpoints and origins) of one of the organisation's own API clients, the one the
supplier answers with. Nothing else is sent: product ids (URNs) and our host's address.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import httpx
from sqlalchemy import select

from openpcf.db.engine import session_scope
from openpcf.db.errors import NotFoundError
from openpcf.db.models import (
    ApiClient,
    Event,
    Organisation,
    OutboxEvent,
    PactRequest,
    SupplierFootprint,
)
from openpcf.errors import InputError, OpenPCFError
from openpcf.exchange.errors import PactRemoteError
from openpcf.exchange.events import TYPES
from openpcf.services.pact import review
from openpcf.services.pact.pull import send_request

if TYPE_CHECKING:
    from sqlalchemy import Engine
    from sqlalchemy.orm import Session

    from openpcf.exchange.client import PactClient
    from openpcf.services.pact.peers import MemoryPeers, Peer, PeerDirectory

#: The most requests of each kind a list shows (newest first).
SHOWN = 200
#: The most product ids one request sent from the page may name.
MAX_PRODUCT_IDS = 50
#: The longest product id (a URN) accepted from the form.
MAX_ID_LENGTH = 200
#: Form fields of :func:`send`, and the key of problems that belong to no field.
SEND_FIELDS = ("peer", "product_ids", "source", "version")
GENERAL = "_general"

_CREATED = tuple(TYPES[v]["created"] for v in ("3", "2"))
_KIND_OF_TYPE = {type_: kind for by_kind in TYPES.values() for kind, type_ in by_kind.items()}


# --------------------------------------------------------------------------------------------
# views


@dataclass(frozen=True, slots=True, kw_only=True)
class Delivery:
    """Where the answer to a received request stands in the outbox."""

    state: str
    """``queued`` (not tried yet), ``retrying``, ``delivered`` or ``abandoned``."""
    attempts: int
    last_error: str
    at: dt.datetime | None
    """When it was delivered or given up, else when the next attempt is due."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Incoming:
    """A RequestCreated event our host received from one of the organisation's clients."""

    id: int
    event_id: str
    version: str
    requester: str
    """The API client's name and id (``Buyer Co (opcf-…)``)."""
    source: str
    product_ids: tuple[str, ...]
    criteria: tuple[tuple[str, str], ...]
    """Every criterion as (name, values joined by ", "), product ids included."""
    comment: str
    received: dt.datetime
    answer: str
    """``fulfilled``, ``rejected``, ``pending`` (held for a person: answer mode ``review``),
    or ``none`` (no answer queued: a client without a peer entry is refused before the event
    is stored, so ``none`` means an answer was removed)."""
    footprints: tuple[str, ...]
    error_code: str
    error_message: str
    delivery: Delivery | None
    answered_by: str = ""
    """Who answered a held request (``web:<email>``, ``cli:<user>``); empty when the host
    answered itself."""
    answered_at: dt.datetime | None = None
    candidates: tuple[review.Candidate, ...] = ()
    """A pending request's footprints that match (:func:`openpcf.services.pact.review.
    candidates`); filled by :func:`incoming_request` only."""
    reject_codes: tuple[str, ...] = ()
    """The PACT error codes a pending request may be rejected with (its API version's)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Received:
    """A supplier footprint held for a sent request."""

    footprint_id: str
    product_ids: tuple[str, ...]
    pcf: str
    """``pcfExcludingBiogenicUptake`` (v3) or ``pCfExcludingBiogenic`` (v2.3), as sent."""
    unit: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Outgoing:
    """A RequestCreated event the organisation sent, and its answer."""

    id: int
    event_id: str
    version: str
    target_url: str
    supplier: str
    """Our API client the supplier answers with (its name and id)."""
    product_ids: tuple[str, ...]
    criteria: tuple[tuple[str, str], ...]
    comment: str
    sent_at: dt.datetime
    status: str
    """``waiting``, ``fulfilled`` or ``rejected``."""
    answered_at: dt.datetime | None
    error_code: str = ""
    error_message: str = ""
    footprints: tuple[Received, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class PeerChoice:
    """A supplier this organisation can send requests to (a configured peer)."""

    client_id: str
    name: str
    base_url: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Overview:
    incoming: list[Incoming]
    outgoing: list[Outgoing]
    peers: list[PeerChoice]
    last_source: str
    """Our host's address in the organisation's last sent request (prefills the form)."""
    answer_mode: str = "auto"
    """How the host answers received requests: ``auto`` or ``review``."""


def overview(engine: Engine, *, organisation_id: int, peers: MemoryPeers) -> Overview:
    """The organisation's newest received and sent requests, and whom it can ask."""
    with session_scope(engine) as session:
        events = session.execute(
            _incoming_query(organisation_id)
            .order_by(Event.received.desc(), Event.id.desc())
            .limit(SHOWN)
        ).all()
        answers = _answers(session, organisation_id, [e for e, _ in events])
        incoming = [_incoming(e, c, answers.get(e.event_id, ())) for e, c in events]
        requests = session.execute(
            _outgoing_query(organisation_id)
            .order_by(PactRequest.sent_at.desc(), PactRequest.id.desc())
            .limit(SHOWN)
        ).all()
        errors = _rejections(session, [r for r, _ in requests])
        outgoing = [_outgoing(r, c, errors.get(r.id, ("", ""))) for r, c in requests]
        choices = _peer_choices(session, organisation_id, peers)
        mode = review.answer_mode(session, organisation_id)
    source = str(requests[0][0].payload.get("source", "")) if requests else ""
    return Overview(
        incoming=incoming,
        outgoing=outgoing,
        peers=choices,
        last_source=_base_of(source),
        answer_mode=mode,
    )


def incoming_request(engine: Engine, *, organisation_id: int, request_id: int) -> Incoming:
    """One received request of the organisation; :class:`NotFoundError` for any other id."""
    with session_scope(engine) as session:
        found = session.execute(
            _incoming_query(organisation_id).where(Event.id == request_id)
        ).one_or_none()
        if found is None:
            raise NotFoundError(f"no PACT request {request_id} received")
        event, client = found
        answers = _answers(session, organisation_id, [event])
        incoming = _incoming(event, client, answers.get(event.event_id, ()))
        if incoming.answer != "pending":
            return incoming
        return replace(
            incoming,
            candidates=review.candidates(session, event, client),
            reject_codes=review.REJECT_CODES["2" if incoming.version == "2" else "3"],
        )


def outgoing_request(engine: Engine, *, organisation_id: int, request_id: int) -> Outgoing:
    """One sent request of the organisation with its footprints; :class:`NotFoundError` else."""
    with session_scope(engine) as session:
        found = session.execute(
            _outgoing_query(organisation_id).where(PactRequest.id == request_id)
        ).one_or_none()
        if found is None:
            raise NotFoundError(f"no PACT request {request_id} sent")
        request, client = found
        errors = _rejections(session, [request])
        return _outgoing(
            request, client, errors.get(request.id, ("", "")), held=_held(session, request)
        )


def _incoming_query(organisation_id: int) -> Any:
    return (
        select(Event, ApiClient)
        .join(ApiClient, Event.client_id == ApiClient.id)
        .where(ApiClient.organisation_id == organisation_id, Event.type.in_(_CREATED))
    )


def _outgoing_query(organisation_id: int) -> Any:
    return (
        select(PactRequest, ApiClient)
        .outerjoin(ApiClient, PactRequest.client_id == ApiClient.id)
        .where(PactRequest.organisation_id == organisation_id)
    )


def _answers(
    session: Session, organisation_id: int, events: Sequence[Event]
) -> dict[str, tuple[OutboxEvent, ...]]:
    """The queued answers of the organisation to ``events``, by the request's event id.

    The host queues an answer in the transaction that records the request, with the same
    timestamp, so only the outbox from the oldest listed request on is read.
    """
    if not events:
        return {}
    oldest = min(e.received for e in events)
    rows = session.scalars(
        select(OutboxEvent).where(
            OutboxEvent.organisation_id == organisation_id, OutboxEvent.created >= oldest
        )
    )
    wanted = {e.event_id for e in events}
    found: dict[str, list[OutboxEvent]] = {}
    for row in rows:
        data = row.payload.get("data")
        request_id = data.get("requestEventId") if isinstance(data, dict) else None
        if isinstance(request_id, str) and request_id in wanted:
            found.setdefault(request_id, []).append(row)
    return {k: tuple(v) for k, v in found.items()}


def _incoming(event: Event, client: ApiClient, answers: Sequence[OutboxEvent]) -> Incoming:
    data = event.payload.get("data")
    data = data if isinstance(data, dict) else {}
    version = "2" if event.type == TYPES["2"]["created"] else "3"
    criteria = _criteria(data, version)
    # the answer queued with the request (same timestamp); of two requests from two hosts
    # with the same event id, the nearest in time is this one's
    answer = min(answers, key=lambda a: abs(a.created - event.received), default=None)
    kind, code, message = "none", "", ""
    footprints: tuple[str, ...] = ()
    if event.answer_state == "pending":
        kind = "pending"
    elif answer is not None:
        kind = _KIND_OF_TYPE.get(str(answer.payload.get("type")), "none")
        body = answer.payload.get("data") or {}
        footprints = tuple(str(pf.get("id", "")) for pf in body.get("pfs") or [])
        code, message = _error(body)
    return Incoming(
        id=event.id,
        event_id=event.event_id,
        version=version,
        requester=f"{client.name} ({client.client_id})" if client.name else client.client_id,
        source=event.source,
        product_ids=_product_ids(criteria),
        criteria=tuple((name, ", ".join(values)) for name, values in criteria.items()),
        comment=str(data.get("comment") or ""),
        received=event.received,
        answer=kind,
        footprints=footprints,
        error_code=code,
        error_message=message,
        delivery=_delivery(answer) if answer is not None else None,
        answered_by=event.answered_by or "",
        answered_at=event.answered_at,
    )


def _rejections(session: Session, requests: Sequence[PactRequest]) -> dict[int, tuple[str, str]]:
    """The PACT error (code, message) of each rejected request, by the request's row id.

    The answer is read through the request's record (the event our host accepted as its
    answer, from the client it was sent to), never an event that merely names the request.
    """
    rejected = {
        (r.answer_event_id, r.client_id): r.id
        for r in requests
        if _KIND_OF_TYPE.get(str(r.answer_type)) == "rejected"
    }
    if not rejected:
        return {}
    rows = session.scalars(
        select(Event).where(
            Event.event_id.in_([event_id for event_id, _ in rejected]),
            Event.type.in_([TYPES[v]["rejected"] for v in ("3", "2")]),
        )
    )
    found: dict[int, tuple[str, str]] = {}
    for row in rows:
        request_id = rejected.get((row.event_id, row.client_id))
        if request_id is not None:
            found[request_id] = _error(row.payload.get("data") or {})
    return found


def _held(session: Session, request: PactRequest) -> tuple[Received, ...]:
    """The supplier footprints the organisation holds from the answer to ``request``."""
    rows = session.scalars(
        select(SupplierFootprint)
        .where(
            SupplierFootprint.organisation_id == request.organisation_id,
            SupplierFootprint.request_event_id == request.event_id,
        )
        .order_by(SupplierFootprint.id)
    )
    return tuple(_received(r) for r in rows)


def _outgoing(
    request: PactRequest,
    client: ApiClient | None,
    error: tuple[str, str],
    *,
    held: tuple[Received, ...] = (),
) -> Outgoing:
    data = request.payload.get("data")
    data = data if isinstance(data, dict) else {}
    criteria = _criteria(data, request.version)
    status = "waiting"
    if request.answered_at is not None:
        status = _KIND_OF_TYPE.get(str(request.answer_type), "fulfilled")
    code, message = error
    supplier = "—"
    if client is not None:
        supplier = f"{client.name} ({client.client_id})" if client.name else client.client_id
    return Outgoing(
        id=request.id,
        event_id=request.event_id,
        version=request.version,
        target_url=request.target_url,
        supplier=supplier,
        product_ids=_product_ids(criteria),
        criteria=tuple((name, ", ".join(values)) for name, values in criteria.items()),
        comment=str(data.get("comment") or ""),
        sent_at=request.sent_at,
        status=status,
        answered_at=request.answered_at,
        error_code=code,
        error_message=message,
        footprints=held,
    )


def _criteria(data: Mapping[str, Any], version: str) -> dict[str, list[str]]:
    """A request's criteria as lists of strings (v2.3's ``pf`` fragment flattened)."""
    source = data.get("pf") if version == "2" else data
    source = source if isinstance(source, Mapping) else {}
    out: dict[str, list[str]] = {}
    for name, value in source.items():
        if name == "comment":
            continue
        values = value if isinstance(value, list) else [value]
        out[str(name)] = [v if isinstance(v, str) else repr(v) for v in values][:MAX_PRODUCT_IDS]
    return out


def _product_ids(criteria: Mapping[str, list[str]]) -> tuple[str, ...]:
    return tuple(criteria.get("productId") or criteria.get("productIds") or ())


def _error(data: Mapping[str, Any]) -> tuple[str, str]:
    error = data.get("error")
    if not isinstance(error, Mapping):
        return "", ""
    return str(error.get("code", "")), str(error.get("message", ""))


def _delivery(answer: OutboxEvent) -> Delivery:
    at: dt.datetime | None
    if answer.delivered_at is not None:
        state, at = "delivered", answer.delivered_at
    elif answer.abandoned_at is not None:
        state, at = "abandoned", answer.abandoned_at
    else:
        state, at = ("retrying" if answer.attempts else "queued"), answer.next_attempt_at
    return Delivery(
        state=state, attempts=answer.attempts, last_error=answer.last_error or "", at=at
    )


def _received(row: SupplierFootprint) -> Received:
    document = row.document
    found = document.get("pcf")
    pcf: Mapping[str, Any] = found if isinstance(found, Mapping) else {}
    value = pcf.get("pcfExcludingBiogenicUptake", pcf.get("pCfExcludingBiogenic", ""))
    unit = pcf.get("declaredUnitOfMeasurement", pcf.get("declaredUnit", ""))
    return Received(
        footprint_id=str(row.footprint_id),
        product_ids=tuple(str(p) for p in document.get("productIds") or []),
        pcf=str(value),
        unit=str(unit),
    )


def _base_of(source: str) -> str:
    parts = urlsplit(source if "//" in source else "")
    return f"https://{parts.netloc}" if parts.scheme == "https" and parts.hostname else ""


# --------------------------------------------------------------------------------------------
# sending


def _peer_choices(session: Session, organisation_id: int, peers: MemoryPeers) -> list[PeerChoice]:
    """The configured peers whose API client is one of this organisation's, enabled."""
    configured = {p.client_id: p for p in peers.all()}
    if not configured:
        return []
    clients = session.scalars(
        select(ApiClient)
        .where(
            ApiClient.organisation_id == organisation_id,
            ApiClient.disabled.is_(False),
            ApiClient.client_id.in_(list(configured)),
        )
        .order_by(ApiClient.name, ApiClient.client_id)
    )
    return [
        PeerChoice(client_id=c.client_id, name=c.name, base_url=configured[c.client_id].base)
        for c in clients
    ]


@dataclass(frozen=True, slots=True)
class SendOutcome:
    """The sent request's id (its row), or the problems per form field."""

    request_id: int | None = None
    errors: dict[str, list[str]] = field(default_factory=dict)


def send(
    engine: Engine,
    *,
    organisation_id: int,
    values: Mapping[str, str],
    peers: MemoryPeers,
    client_factory: Callable[[Peer], PactClient],
) -> SendOutcome:
    """Send a RequestCreated event for ``values`` (:data:`SEND_FIELDS`) to a supplier's host.

    ``peer`` must be one of the organisation's configured peers (:class:`PeerChoice`),
    ``product_ids`` one to :data:`MAX_PRODUCT_IDS` URNs (one per line or comma-separated),
    ``source`` our host's ``https://`` address (where the answer goes), ``version`` 3 or 2.
    The request is recorded before it is sent (:func:`send_request`); when sending fails it
    stays on record, as with the CLI (it may have arrived), and the failure is returned.
    """
    errors: dict[str, list[str]] = {}
    with session_scope(engine) as session:
        choices = {c.client_id: c for c in _peer_choices(session, organisation_id, peers)}
    peer = peers.for_client(values.get("peer", "")) if values.get("peer") in choices else None
    if peer is None:
        errors["peer"] = ["Choose one of the suppliers listed (a configured PACT peer)."]
    ids, problems = parse_product_ids(values.get("product_ids", ""))
    if problems:
        errors["product_ids"] = problems
    source, problem = _source(values.get("source", ""))
    if problem:
        errors["source"] = [problem]
    version = values.get("version") or "3"
    if version not in ("2", "3"):
        errors["version"] = [f"PACT version {version[:10]!r}: choose 3 or 2."]
    if errors or peer is None:
        return SendOutcome(errors=errors)
    try:
        with client_factory(peer) as client:
            event_id = send_request(
                client,
                engine=engine,
                answered_by=peer.client_id,
                source=source,
                criteria={"productId": ids},
                version="2" if version == "2" else "3",
            )
    except (PactRemoteError, httpx.HTTPError, OpenPCFError) as e:
        return SendOutcome(errors={GENERAL: [f"not delivered to {peer.base}: {e}"[:600]]})
    with session_scope(engine) as session:
        row = session.scalar(select(PactRequest.id).where(PactRequest.event_id == event_id))
    return SendOutcome(request_id=row)


def parse_product_ids(text: str) -> tuple[list[str], list[str]]:
    """Product ids of the form (one per line, or separated by commas) and the problems.

    >>> parse_product_ids("urn:gtin:4712345060507, urn:gtin:4712345060507\\nurn:x:1")
    (['urn:gtin:4712345060507', 'urn:x:1'], [])
    >>> parse_product_ids("4712345060507")[1]
    ["'4712345060507' is not a URN: PACT product ids start with urn: (urn:gtin:…)"]
    """
    ids: list[str] = []
    problems: list[str] = []
    for item in _unique(p.strip() for p in text.replace(",", "\n").splitlines()):
        if len(item) > MAX_ID_LENGTH:
            problems.append(f"{item[:40]!r}… is longer than {MAX_ID_LENGTH} characters")
        elif not item.lower().startswith("urn:") or len(item) < 5 or any(c.isspace() for c in item):
            problems.append(
                f"{item[:60]!r} is not a URN: PACT product ids start with urn: (urn:gtin:…)"
            )
        else:
            ids.append(item)
    if not ids and not problems:
        problems.append("Name at least one product id (a URN such as urn:gtin:4712345060507).")
    if len(ids) > MAX_PRODUCT_IDS:
        problems.append(f"{len(ids)} product ids: one request names at most {MAX_PRODUCT_IDS}.")
    return ids, problems


def _unique(items: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(i for i in items if i))


def _source(text: str) -> tuple[str, str]:
    """Our host's base URL from the form, or the problem with it."""
    value = text.strip().rstrip("/")
    parts = urlsplit(value)
    if (
        parts.scheme != "https"
        or not parts.hostname
        or parts.query
        or parts.fragment
        or parts.username
        or len(value) > 300
    ):
        return "", (
            "Give our own PACT host's https:// address (e.g. https://pcf.example.com), where "
            "the supplier sends the answer."
        )
    return value, ""


# --------------------------------------------------------------------------------------------
# answering a held request


@dataclass(frozen=True, slots=True)
class AnswerOutcome:
    """Problems per form field (``footprints``, ``code``, ``message``, :data:`GENERAL`);
    ``answered`` when someone answered first (the page then shows that answer)."""

    errors: dict[str, list[str]] = field(default_factory=dict)
    answered: bool = False


def fulfil_request(
    engine: Engine,
    *,
    organisation_id: int,
    request_id: int,
    footprint_ids: Sequence[str],
    peers: PeerDirectory,
    by: str,
) -> AnswerOutcome:
    """Fulfil the held request with the chosen footprints (:func:`openpcf.services.pact.
    review.fulfil`); the problems, if any."""
    return _answering(
        review.fulfil,
        engine,
        organisation_id=organisation_id,
        request_id=request_id,
        footprint_ids=footprint_ids,
        peers=peers,
        by=by,
    )


def reject_request(
    engine: Engine,
    *,
    organisation_id: int,
    request_id: int,
    code: str,
    message: str,
    peers: PeerDirectory,
    by: str,
) -> AnswerOutcome:
    """Reject the held request with a PACT error code and a message (:func:`openpcf.services.
    pact.review.reject`); the problems, if any."""
    return _answering(
        review.reject,
        engine,
        organisation_id=organisation_id,
        request_id=request_id,
        code=code,
        message=message,
        peers=peers,
        by=by,
    )


def _answering(answer: Callable[..., Any], engine: Engine, **kwargs: Any) -> AnswerOutcome:
    try:
        answer(engine, **kwargs)
    except review.AnsweredAlreadyError as e:
        return AnswerOutcome(errors={GENERAL: [str(e)]}, answered=True)
    except review.AnswerInputError as e:
        return AnswerOutcome(errors={e.field: [str(e)]})
    except NotFoundError:
        raise
    except OpenPCFError as e:  # no peer configured for the client
        return AnswerOutcome(errors={GENERAL: [str(e)]})
    return AnswerOutcome()


# --------------------------------------------------------------------------------------------
# the answer mode

#: The answer mode form's input.
MODE_FIELD = "answer_mode"


def set_answer_mode(engine: Engine, *, organisation_id: int, mode: str) -> dict[str, list[str]]:
    """Set how the host answers the organisation's received requests, ``auto`` or ``review``
    (:func:`openpcf.services.pact.review.set_answer_mode`, as ``openpcf pact answer-mode``);
    the problems by input name (:data:`MODE_FIELD`), none when it is set. Who may change it
    (owners) is the page's check."""
    with session_scope(engine) as session:
        organisation = session.get(Organisation, organisation_id)
        if organisation is None:
            raise NotFoundError(f"no organisation {organisation_id}")
        name = organisation.name
    try:
        review.set_answer_mode(engine, organisation=name, mode=mode)
    except InputError as e:
        return {MODE_FIELD: [str(e)]}
    return {}


def request_key(value: str) -> int:
    """A request id from a URL path (:class:`NotFoundError` when it is not a number)."""
    if not value.isdigit() or len(value) > 18:
        raise NotFoundError(f"no PACT request {value[:40]!r}")
    return int(value)
