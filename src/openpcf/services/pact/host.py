"""Use cases of the PACT host: list and get footprints, receive events, issue tokens.

Each function opens one transaction (:func:`~openpcf.db.engine.session_scope`) and takes
keyword arguments only; the API routers call exactly one of them. Visibility is the storage
layer's rule (:mod:`openpcf.db.repositories.footprints`): a client sees the footprints of the
products its data owner granted it, and "not yours" is indistinguishable from "no such id".

Asynchronous requests (RequestCreated) are answered 200 at once; in the same transaction the
host records the event, looks the footprints up with the same criteria as ListFootprints
(so the async and sync paths agree, as PACT v3 demands) and queues exactly one Fulfilled or
Rejected event in the outbox for the requester's host. :mod:`openpcf.services.pact.outbox`
delivers it, retrying with backoff for up to 72 hours, across restarts.

Inbound Fulfilled and Rejected events are answers to requests *this* host sent; they are
accepted only from the peer the request went to, once, and with valid footprints
(:mod:`openpcf.services.pact.answers`). No other event writes supplier data.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from openpcf.db import repositories as repo
from openpcf.db.base import utcnow
from openpcf.db.engine import session_scope
from openpcf.db.errors import NotFoundError
from openpcf.db.models import ApiClient, Footprint
from openpcf.db.repositories.footprints import (
    ClientFacts,
    PageKey,
    client_facts,
    list_v2_sources,
    shared_document,
    shared_v2_source,
)
from openpcf.exchange.criteria import FootprintFilter
from openpcf.exchange.errors import (
    AccessDeniedError,
    BadRequestError,
    InvalidTokenError,
    OAuthError,
)
from openpcf.exchange.events import CloudEvent, Version, build_event, not_found_code
from openpcf.exchange.v2 import NotMappableError, v2_view
from openpcf.services.pact.answers import accept_answer
from openpcf.services.pact.auth import IssuedToken, TokenClaims, TokenSigner, granted_scopes
from openpcf.services.pact.cursor import decode_cursor, encode_cursor, query_digest
from openpcf.services.pact.filter import V2Filter, parse_filter
from openpcf.services.pact.v2_views import VIEWS

if TYPE_CHECKING:
    from sqlalchemy import Connection, Engine
    from sqlalchemy.orm import Session

    from openpcf.services.pact.peers import PeerDirectory

#: The most footprints one page holds (PACT: the host MAY return fewer than ``limit``).
MAX_PAGE = 1000
#: The most footprints one Fulfilled event carries.
MAX_FULFILLED = 100
#: v3 ListFootprints filters; PACT's own example writes ``productid`` and ``validon``, so the
#: names are matched ignoring case.
FILTER_NAMES = {
    n.lower(): n
    for n in (
        "productId",
        "companyId",
        "geography",
        "classification",
        "validOn",
        "validAfter",
        "validBefore",
        "status",
    )
}


#: The stored client (the ORM object) or only the facts the v3 routes read of it.
_C = TypeVar("_C", ApiClient, ClientFacts)


@dataclass(frozen=True, slots=True)
class Page:
    """Footprint documents of one page, as JSON texts, and the cursor of the next page
    (:mod:`openpcf.services.pact.cursor`; ``None``: the last page)."""

    documents: list[str]
    next_cursor: str | None

    def body(self) -> bytes:
        """The ListFootprints response body, ``{"data": [...]}`` (UTF-8 JSON)."""
        return ('{"data":[' + ",".join(self.documents) + "]}").encode()


def document_body(document: str) -> bytes:
    """The GetFootprint response body ``{"data": ...}`` around one document's JSON text."""
    return ('{"data":' + document + "}").encode()


# --------------------------------------------------------------------------------------------
# tokens


def issue_token(
    engine: Engine,
    *,
    client_id: str,
    client_secret: str,
    scope: str | None,
    signer: TokenSigner,
    now: dt.datetime | None = None,
) -> IssuedToken:
    """An access token for valid client credentials; :class:`OAuthError` otherwise."""
    with session_scope(engine) as session:
        client = repo.authenticate_client(session, client_id=client_id, secret=client_secret)
        if client is None:
            raise OAuthError("invalid_client", "Authentication failed", status=401)
        scopes = granted_scopes(client, scope)
    return signer.sign(client_id=client_id, scopes=scopes, now=now or utcnow())


def acting_organisation(session: Session, claims: TokenClaims, scope: str) -> int:
    """The organisation an API client acts for with a :data:`~openpcf.db.repositories.
    MANAGE_SCOPES` token (its own: the one that issued the client), checked like every token.

    Raises
    ------
    InvalidTokenError, AccessDeniedError
        The client is gone or disabled; the token lacks ``scope``.
    """
    return _client(session, claims, scope).organisation_id


def _client(session: Session, claims: TokenClaims, scope: str | None) -> ApiClient:
    try:
        client = repo.get_client(session, client_id=claims.client_id)
    except NotFoundError:
        client = None
    return _admitted(client, claims, scope)


def _admitted(client: _C | None, claims: TokenClaims, scope: str | None) -> _C:
    """``client`` if the token's client exists, is enabled and the token holds ``scope``.

    Raises
    ------
    InvalidTokenError
        The client is gone or disabled (checked on every request: this is how a token is
        revoked, :mod:`openpcf.services.pact.auth`).
    AccessDeniedError
        The token lacks ``scope``.
    """
    if client is None:
        raise InvalidTokenError("the access token's client no longer exists")
    if client.disabled:
        raise InvalidTokenError("the access token's client has been disabled")
    if scope is not None and scope not in claims.scopes:
        raise AccessDeniedError(f"this access token lacks the scope {scope!r}")
    return client


@contextmanager
def _reading(engine: Engine) -> Iterator[Connection]:
    """A connection that runs each statement on its own (autocommit) for the read-only list
    and get routes (v3 and v2.3).

    Design note: without ``BEGIN`` and ``COMMIT`` a GetFootprint is one round trip to the
    database instead of four. Nothing is lost: the routes only read, and under PostgreSQL's
    READ COMMITTED (the default) each statement took its own snapshot inside the transaction
    as well.
    """
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        yield connection


# --------------------------------------------------------------------------------------------
# ListFootprints and GetFootprint


def v3_filter_query(params: Sequence[tuple[str, str]]) -> dict[str, list[str]]:
    """The v3 filter parameters of a query string (names ignoring case, values repeatable)."""
    query: dict[str, list[str]] = {}
    for name, value in params:
        canonical = FILTER_NAMES.get(name.lower())
        if canonical is not None:
            query.setdefault(canonical, []).append(value)
    return query


def list_footprints(
    engine: Engine,
    *,
    claims: TokenClaims,
    version: Version,
    params: Sequence[tuple[str, str]] = (),
    limit: int | None = None,
    cursor: str | None = None,
) -> Page:
    """One page of the footprints the token's client may see, filtered, starting where
    ``cursor`` (from the previous page's :attr:`Page.next_cursor`) says.

    v3: the ``productId`` … ``status`` parameters (:func:`v3_filter_query`); each document is
    the stored JSON text, served as it was published (:func:`openpcf.db.repositories.
    list_document_texts`: no parsing and serialising again per request). v2.3: the optional
    ``$filter`` subset (:func:`openpcf.services.pact.filter.parse_filter`); footprints that
    cannot be expressed in v2.3 are left out; each document is the v2.3 view's text, built
    once per stored document and remembered (:mod:`openpcf.services.pact.v2_views`).

    A cursor is valid only with the filters it was made for (:func:`~openpcf.services.pact.
    cursor.decode_cursor`: else :class:`BadRequestError`); it only positions the listing, and
    the client's visibility and the filters are applied again on every page.
    """
    if limit is not None and limit < 1:
        raise BadRequestError(f"limit must be a positive integer, not {limit}")
    size = min(limit or MAX_PAGE, MAX_PAGE)
    if version == "3":
        query = v3_filter_query(params)
        digest = query_digest(version, query)
        after = decode_cursor(cursor, digest=digest) if cursor is not None else None
        filters = FootprintFilter.from_query(query)
        with _reading(engine) as connection:
            facts = client_facts(connection, client_id=claims.client_id)
            page = repo.list_document_texts(
                connection,
                client=_admitted(facts, claims, "footprint:list"),
                filters=filters,
                limit=size,
                after=after,
            )
        return _page(page.texts, page.next_key, digest)
    odata = [v for k, v in params if k == "$filter"]
    odata = odata[-1:] if odata and odata[-1].strip() else []
    digest = query_digest(version, {"$filter": odata})
    after = decode_cursor(cursor, digest=digest) if cursor is not None else None
    with _reading(engine) as connection:
        facts = client_facts(connection, client_id=claims.client_id)
        client = _admitted(facts, claims, "footprint:list")
        wanted = parse_filter(odata[0]) if odata else None
        documents, next_key = _v2_page(connection, client, wanted, size=size, after=after)
    return _page(documents, next_key, digest)


def _page(documents: list[str], next_key: PageKey | None, digest: str) -> Page:
    cursor = None if next_key is None else encode_cursor(next_key, digest=digest)
    return Page(documents, cursor)


#: The fewest rows read per query while filling a v2.3 page, after the first query (which
#: reads one row more than the page: all a page needs when every footprint has a v2.3 form).
V2_BATCH = 200


def _v2_page(
    connection: Connection,
    client: ClientFacts,
    wanted: V2Filter | None,
    *,
    size: int,
    after: PageKey | None,
) -> tuple[list[str], PageKey | None]:
    """A v2.3 page of ``size`` documents after the key ``after``, filtered *before* paging,
    and the key of its last footprint if a next page has footprints (else ``None``).

    Rows of the SQL-filtered list (:meth:`V2Filter.prefilter`) are read in batches, each
    starting after the last row read, until the page is full and one more match is seen (then
    there is a next page), or the rows end: footprints without a v2.3 form or failing the
    ``$filter`` never leave an empty page with a ``next`` link (PACT conformance TC5). The
    next page starts after the page's last footprint, so it reads again the rows between that
    one and the match seen (at most the ones skipped here).

    Each row is the stored document's text with the other inputs of its view, and the view's
    text comes from :data:`~openpcf.services.pact.v2_views.VIEWS` (built on first use); a
    ``$filter`` is tested on that text parsed again, so it sees exactly what is served.
    """
    filters = wanted.prefilter() if wanted is not None else None
    documents: list[str] = []
    last = after
    rows = size + 1
    while True:
        batch, next_key = list_v2_sources(
            connection, client=client, filters=filters, limit=rows, after=after
        )
        for source in batch:
            text = VIEWS.form(source.text, cpc=source.cpc, deprecated_at=source.deprecated_at).text
            if text is None:
                continue
            if wanted is not None and not wanted.matches(json.loads(text)):
                continue
            if len(documents) == size:  # a further match: there is a next page
                return documents, last
            documents.append(text)
            last = source.key
        if next_key is None:
            return documents, None
        after = next_key
        rows = max(size + 1 - len(documents), V2_BATCH)


def get_footprint(engine: Engine, *, claims: TokenClaims, version: Version, pf_id: str) -> str:
    """The footprint ``pf_id`` (in ``version``'s shape) as JSON text if the client may see it.

    v3 answers the stored text as published, read with the client check in one statement
    (:func:`openpcf.db.repositories.footprints.shared_document`); v2.3 reads the inputs of
    the view the same way (:func:`~openpcf.db.repositories.footprints.shared_v2_source`) and
    answers the view's text (:mod:`openpcf.services.pact.v2_views`).
    """
    try:
        key = uuid.UUID(pf_id)
    except ValueError:
        raise BadRequestError(f"{pf_id!r} is not a footprint id (a UUID)") from None
    if version == "3":
        with _reading(engine) as connection:
            facts, text = shared_document(connection, client_id=claims.client_id, pf_id=key)
        _admitted(facts, claims, "footprint:read")
        if text is None:
            raise NotFoundError(f"no footprint {key}")
        return text
    with _reading(engine) as connection:
        facts, source = shared_v2_source(connection, client_id=claims.client_id, pf_id=key)
    _admitted(facts, claims, "footprint:read")
    if source is None:
        raise NotFoundError(f"no footprint {key}")
    form = VIEWS.form(source.text, cpc=source.cpc, deprecated_at=source.deprecated_at)
    if form.text is None:
        raise NotFoundError(f"footprint {key} is not available in PACT v2.3: {form.why}")
    return form.text


def _v2(footprint: Footprint) -> dict[str, Any]:
    return v2_view(
        footprint.document,
        cpc=footprint.product.cpc,
        deprecated_at=footprint.status_changed_at,
    )


def _v2_documents(footprints: Sequence[Footprint]) -> list[dict[str, Any]]:
    """The v2.3 views of ``footprints``, leaving out those without a v2.3 form."""
    out = []
    for footprint in footprints:
        try:
            out.append(_v2(footprint))
        except NotMappableError:
            continue
    return out


# --------------------------------------------------------------------------------------------
# Events


@dataclass(frozen=True, slots=True)
class EventOutcome:
    """What the host did with an accepted event."""

    kind: str
    queued: uuid.UUID | None = None
    """The outbox id of the answer to a RequestCreated event."""
    stored: tuple[str, ...] = ()
    """Ids of the supplier footprints held for the request a Fulfilled event answers."""


def receive_event(
    engine: Engine,
    *,
    claims: TokenClaims,
    event: CloudEvent,
    peers: PeerDirectory,
    source: str,
    now: dt.datetime | None = None,
) -> EventOutcome:
    """Accept an inbound event (a replay of ``(source, id)`` is refused, nothing stored).

    * RequestCreated: needs ``footprint:read`` and a peer configured for the client whose
      ``base_url`` is the host named in the event's ``source``; queues one Fulfilled (with the
      footprints matching the criteria) or Rejected (``NotFound``/``NoSuchFootprint``) event;
      when the data owner's answer mode is ``review`` it is stored pending instead and a
      person answers it later (:mod:`openpcf.services.pact.review`).
    * Fulfilled and Rejected: accepted only as the one answer to a request this host sent,
      from the peer it was sent to (:func:`openpcf.services.pact.answers.accept_answer`); the
      footprints of a Fulfilled event must validate and are stored in the organisation's
      supplier store (origin ``answered``), never replacing one held with other content.
    * Published: recorded only. It tells us that footprints changed, so we may pull them; it
      carries no data we store.

    ``source`` is this host's CloudEvents source for the answers (``//<host>/<v>/events``).
    """
    now = now or utcnow()
    # write=True: on SQLite the transaction must begin before record_event's savepoint, or
    # pysqlite's implicit transactions let RELEASE commit the event although a later check
    # (an answer from the wrong peer, say) refuses it; it also serialises answer checks.
    with session_scope(engine, write=True) as session:
        scope = "footprint:read" if event.kind == "created" else None
        client = _client(session, claims, scope)
        peer = None
        if event.kind == "created":
            peer = peers.for_client(client.client_id)
            if peer is None:
                raise BadRequestError(
                    f"this host cannot answer requests of client {client.client_id}: the data "
                    "owner has configured no events endpoint for it"
                )
            if not peer.accepts_source(event.source):
                raise BadRequestError(
                    f"event source {event.source!r} is not the host registered for this client "
                    f"({peer.base_url}); answers go only to the registered host"
                )
        held = event.kind == "created" and client.organisation.pact_answer_mode == "review"
        repo.record_event(
            session,
            event_id=event.id,
            source=event.source,
            type=event.type,
            payload=event.raw,
            client=client,
            received=now,
            held_for=source if held else None,
        )
        if event.kind in ("fulfilled", "rejected"):
            stored = accept_answer(session, client=client, event=event, now=now)
            return EventOutcome(event.kind, stored=stored)
        if peer is None or held:  # held: nothing queued until a person answers
            return EventOutcome(event.kind)
        answer = _answer(session, client, event, source=source, now=now)
        queued = repo.enqueue_outbox(
            session,
            target_url=peer.events_url(event.version),
            payload=answer,
            organisation=client.organisation,
            now=now,
        )
        return EventOutcome("created", queued=queued.id)


def _answer(
    session: Session, client: ApiClient, event: CloudEvent, *, source: str, now: dt.datetime
) -> dict[str, Any]:
    """The Fulfilled or Rejected event answering the RequestCreated ``event``."""
    page = repo.list_footprints(session, client=client, filters=event.criteria())
    found = list(page.items)
    wanted_id = event.fragment_id()
    if wanted_id is not None:
        found = [fp for fp in found if str(fp.id) == wanted_id.lower()]
    pfs = [dict(fp.document) for fp in found] if event.version == "3" else _v2_documents(found)
    if pfs:
        data: dict[str, Any] = {"requestEventId": event.id, "pfs": pfs[:MAX_FULFILLED]}
        kind = "fulfilled"
    else:
        message = "No footprint shared with you matches the request's criteria."
        data = {
            "requestEventId": event.id,
            "error": {"code": not_found_code(event.version), "message": message},
        }
        kind = "rejected"
    return build_event(version=event.version, kind=kind, source=source, data=data, now=now)  # type: ignore[arg-type]
