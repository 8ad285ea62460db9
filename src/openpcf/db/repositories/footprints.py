"""Footprints: publishing, deprecation, and what an API client may see (with the v3 filters).

Visibility rule of the host: a client sees a footprint only if the footprint belongs to the
client's organisation (the data owner that issued the credentials) *and* the owner granted the
client the footprint's product (:func:`~openpcf.db.repositories.grant_access`).
:func:`get_footprint` raises :class:`NotFoundError` both for an unknown id and for one the
client may not see, so that a client cannot learn that a footprint exists.
"""

from __future__ import annotations

import copy
import datetime as dt
import functools
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    Connection,
    Integer,
    Text,
    and_,
    bindparam,
    cast,
    exists,
    false,
    func,
    select,
    tuple_,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from openpcf.db.base import utcnow
from openpcf.db.concurrency import is_unique_violation
from openpcf.db.engine import begin_write
from openpcf.db.errors import (
    DuplicateError,
    ImmutableFootprintError,
    NotFoundError,
    StorageError,
    WriteConflictError,
)
from openpcf.db.models import (
    ACTIVE,
    DEPRECATED,
    STATUSES,
    ApiClient,
    CalculationRecord,
    Footprint,
    FootprintAccess,
    FootprintKey,
    Organisation,
    Product,
)
from openpcf.db.repositories.owners import lock_organisation
from openpcf.errors import InputError
from openpcf.exchange.criteria import FootprintFilter, parse_datetime
from openpcf.exchange.errors import FootprintDocumentError

# --------------------------------------------------------------------------------------------
# footprints: facts copied out of the document


@dataclass(frozen=True, slots=True)
class _Facts:
    id: uuid.UUID
    spec_version: str
    created: dt.datetime
    reference_period: tuple[dt.datetime, dt.datetime]
    validity: tuple[dt.datetime, dt.datetime]
    geography: tuple[str | None, str | None, str | None]  # region, country, subdivision
    keys: frozenset[tuple[str, str]]


def add_years(moment: dt.datetime, years: int) -> dt.datetime:
    """``moment`` plus calendar years (29 February becomes 28 February).

    Past the year 9999 (a reference period ending in 9998 or 9999) the latest moment Python
    can hold stands for "forever", rather than an OverflowError for a valid document.
    """
    if moment.year + years > dt.MAXYEAR:
        return dt.datetime.max.replace(tzinfo=moment.tzinfo)
    try:
        return moment.replace(year=moment.year + years)
    except ValueError:
        return moment.replace(year=moment.year + years, day=28)


#: PACT: without a validity period a footprint is valid for 3 years after its reference period.
DEFAULT_VALIDITY_YEARS = 3


def footprint_facts(document: Mapping[str, Any]) -> _Facts:
    """What storage copies out of a PACT v3 (or v2.x) ProductFootprint document."""
    pf = document.get("id", "<no id>")
    try:
        pf_id = uuid.UUID(str(document.get("id")))
    except ValueError:
        raise FootprintDocumentError(f"footprint id {pf!r} is not a UUID") from None
    spec = str(document.get("specVersion", ""))
    if not (spec.startswith("3.") or spec.startswith("2.")):
        raise FootprintDocumentError(
            f"footprint {pf}: specVersion {spec!r} is not a PACT 3.x or 2.x version"
        )
    pcf = document.get("pcf")
    if not isinstance(pcf, Mapping):
        raise FootprintDocumentError(f"footprint {pf}: the document has no 'pcf' object")
    start = parse_datetime(pcf.get("referencePeriodStart"), f"footprint {pf} referencePeriodStart")
    end = parse_datetime(pcf.get("referencePeriodEnd"), f"footprint {pf} referencePeriodEnd")
    valid_from = document.get("validityPeriodStart")
    valid_to = document.get("validityPeriodEnd")
    validity = (
        parse_datetime(valid_from, f"footprint {pf} validityPeriodStart") if valid_from else end,
        parse_datetime(valid_to, f"footprint {pf} validityPeriodEnd")
        if valid_to
        else add_years(end, DEFAULT_VALIDITY_YEARS),
    )
    geography = tuple(
        (str(pcf[k]) if pcf.get(k) else None)
        for k in ("geographyRegionOrSubregion", "geographyCountry", "geographyCountrySubdivision")
    )
    keys: set[tuple[str, str]] = set()
    for kind, member in (
        ("productId", "productIds"),
        ("companyId", "companyIds"),
        ("classification", "productClassifications"),
    ):
        values = document.get(member) or []
        if not isinstance(values, list):
            raise FootprintDocumentError(f"footprint {pf}: {member} must be a list of URNs")
        keys.update((kind, str(v).strip().lower()) for v in values)
    if not any(kind == "productId" for kind, _ in keys):
        raise FootprintDocumentError(f"footprint {pf}: productIds is missing or empty")
    keys.update(("geography", g.lower()) for g in geography if g)
    return _Facts(
        id=pf_id,
        spec_version=spec,
        created=parse_datetime(document.get("created"), f"footprint {pf} created"),
        reference_period=(start, end),
        validity=validity,
        geography=geography,  # type: ignore[arg-type]
        keys=frozenset(keys),
    )


# --------------------------------------------------------------------------------------------
# footprints: publishing and deprecation


def publish_footprint(
    session: Session,
    *,
    organisation: Organisation,
    product: Product,
    document: Mapping[str, Any],
    preceding: Sequence[Footprint] | None = None,
    calculation: CalculationRecord | None = None,
    now: dt.datetime | None = None,
) -> Footprint:
    """Store a new, Active PACT footprint of ``product``; it is immutable from now on.

    ``preceding`` are the footprints this one replaces (PACT v3 ADR-41): their ids are added to
    the stored document's ``precedingPfIds`` and each is deprecated (:func:`deprecate_footprint`).
    Ids the document already lists in ``precedingPfIds`` that belong to this organisation are
    deprecated too. The caller's ``document`` is not modified.

    Raises
    ------
    FootprintDocumentError
        The document is not an Active PACT footprint of this product (id, productIds,
        reference period, ...).
    DuplicateError
        A footprint with this id exists: a changed footprint needs a new id.
    ImmutableFootprintError
        A preceding footprint is Deprecated already (supersede its successor instead).
    WriteConflictError
        The database refused the footprint because of a row stored concurrently (or before):
        another Active footprint of the product for this reference period (the partial
        unique index ``uq_footprint_one_active``), a footprint with the same id, or a
        predecessor that was Active when the caller read it and has been superseded since.
        The caller's transaction is still usable, but what it read is stale: roll back and
        start again (:func:`openpcf.db.concurrency.write_transaction`).

    Design note: the predecessors are locked (``FOR UPDATE`` on PostgreSQL) and read again
    before they are deprecated, so that two publishers that both read the same Active
    footprint cannot both supersede it (a fork of ``precedingPfIds``); the index makes sure
    that at most one footprint is Active per product and period whatever the callers read.
    """
    now = now or utcnow()
    if product.organisation_id != organisation.id:
        raise StorageError(f"product {product.product_ids[0]} belongs to another organisation")
    doc = copy.deepcopy(dict(document))
    if doc.get("status") != ACTIVE:
        raise FootprintDocumentError(
            f"footprint {doc.get('id')}: a published footprint must have status 'Active', "
            f"not {doc.get('status')!r}"
        )
    listed = [str(i) for i in doc.get("precedingPfIds") or []]
    ids = list(dict.fromkeys([*listed, *(str(p.id) for p in preceding or [])]))
    if ids:
        doc["precedingPfIds"] = ids
    facts = footprint_facts(doc)
    if str(facts.id) in ids:
        raise FootprintDocumentError(f"footprint {facts.id} cannot precede itself")
    own = {i.lower() for i in product.product_ids}
    if not any(kind == "productId" and value in own for kind, value in facts.keys):
        raise FootprintDocumentError(
            f"footprint {facts.id}: none of its productIds is an id of product "
            f"{product.product_ids[0]}"
        )
    if session.get(Footprint, facts.id) is not None:
        raise DuplicateError(
            f"footprint {facts.id} exists already; a changed footprint needs a new id"
        )
    read_active = frozenset(p.id for p in preceding or [] if p.status == ACTIVE)
    begin_write(session.connection())  # SQLite: the write lock first; a savepoint needs it too
    stored_at = _listing_stamp(session, organisation)
    predecessors = _predecessors(session, organisation, ids, read_active=read_active)
    region, country, subdivision = facts.geography
    footprint = Footprint(
        id=facts.id,
        organisation_id=organisation.id,
        product_id=product.id,
        calculation_id=calculation.id if calculation else None,
        spec_version=facts.spec_version,
        status=ACTIVE,
        created=facts.created,
        stored_at=stored_at,  # the listing order (:func:`_listing_stamp`)
        document=doc,
        preceding_pf_ids=ids,
        reference_period_start=facts.reference_period[0],
        reference_period_end=facts.reference_period[1],
        validity_start=facts.validity[0],
        validity_end=facts.validity[1],
        geography_region=region,
        geography_country=country,
        geography_subdivision=subdivision,
        keys=[FootprintKey(kind=k, value=v) for k, v in sorted(facts.keys)],
    )
    try:
        with session.begin_nested():
            session.add(footprint)
            for old in predecessors:
                deprecate_footprint(session, footprint=old, now=now)
            session.flush()
    except IntegrityError as e:
        if not is_unique_violation(e):
            raise
        start, end = (d.isoformat() for d in facts.reference_period)
        raise WriteConflictError(
            f"footprint {facts.id} of product {product.product_ids[0]} was refused: another "
            f"Active footprint for the reference period {start} to {end}, or a footprint with "
            "the same id, is stored already (perhaps by a concurrent publisher); name the "
            "Active footprint in precedingPfIds to replace it"
        ) from e
    return footprint


def _listing_stamp(session: Session, organisation: Organisation) -> dt.datetime:
    """The ``stored_at`` of a footprint the organisation publishes now: later than that of
    every footprint it has stored, so that a new footprint lands at the end of every listing.

    Design note: ListFootprints pages by key (:class:`PageKey`): a client holding a cursor
    sees a new footprint only if its ``(stored_at, id)`` comes after the cursor's. The
    wall-clock alone does not promise that: two PostgreSQL transactions may commit in the
    other order than they read the clock, a clock may step back, and two footprints may share
    a microsecond (their random ids then decide the order). So publishers of one organisation
    (the unit a client lists) take turns: the organisation's row is locked
    (:func:`~openpcf.db.repositories.owners.lock_organisation`) until the footprint commits,
    and its stamp is the clock or, if that is not later, one microsecond after the
    organisation's latest stamp (one index lookup). The lock is taken before the
    predecessors' rows are locked, so that every publisher locks in the same order.
    """
    lock_organisation(session, organisation=organisation)
    latest = session.scalar(
        select(func.max(Footprint.stored_at)).where(Footprint.organisation_id == organisation.id)
    )
    now = utcnow()
    return now if latest is None or now > latest else latest + dt.timedelta(microseconds=1)


def _predecessors(
    session: Session,
    organisation: Organisation,
    ids: list[str],
    *,
    read_active: frozenset[uuid.UUID] = frozenset(),
) -> list[Footprint]:
    """Stored footprints of the organisation among ``ids``, locked; each must still be Active.

    ``read_active`` are the ids the caller read as Active: if one of them is Deprecated now,
    another transaction superseded it meanwhile (a race, :class:`WriteConflictError`), not a
    caller naming an old footprint (:class:`ImmutableFootprintError`).
    """
    uuids = []
    for i in ids:
        try:
            uuids.append(uuid.UUID(i))
        except ValueError:
            raise FootprintDocumentError(f"precedingPfIds: {i!r} is not a UUID") from None
    found = session.scalars(
        select(Footprint)
        .where(Footprint.organisation_id == organisation.id, Footprint.id.in_(uuids))
        .with_for_update()
        .execution_options(populate_existing=True)  # the status as committed, after the lock
    ).all()
    superseded = [str(f.id) for f in found if f.status == DEPRECATED and f.id in read_active]
    if superseded:
        raise WriteConflictError(
            f"footprint(s) {', '.join(superseded)} were superseded by another publisher "
            "while this footprint was being stored; read the Active footprint again"
        )
    deprecated = [str(f.id) for f in found if f.status == DEPRECATED]
    if deprecated:
        raise ImmutableFootprintError(
            f"footprint(s) {', '.join(deprecated)} are Deprecated already; a new footprint "
            "must name the Active footprint that replaced them in precedingPfIds"
        )
    return list(found)


def deprecate_footprint(
    session: Session, *, footprint: Footprint, now: dt.datetime | None = None
) -> Footprint:
    """Set a footprint Deprecated, in its row and in its stored document (idempotent).

    PACT v3 represents deprecation only by ``status: "Deprecated"`` in the document. A v2.x
    document also gets its ``version`` incremented and ``updated`` set, as the v2 lifecycle asks.
    """
    if footprint.status == DEPRECATED:
        return footprint
    now = now or utcnow()
    doc = dict(footprint.document)  # a new object: SQLAlchemy sees JSON changes by assignment
    doc["status"] = DEPRECATED
    if footprint.spec_version.startswith("2."):
        doc["version"] = int(doc.get("version", 0)) + 1
        doc["updated"] = now.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    footprint.document = doc
    footprint.status = DEPRECATED
    footprint.status_changed_at = now
    session.flush()
    return footprint


def find_active_footprint(
    session: Session,
    *,
    product: Product,
    reference_period: tuple[dt.datetime, dt.datetime],
) -> Footprint | None:
    """The last stored Active footprint of ``product`` for exactly this reference period."""
    start, end = reference_period
    return session.scalar(
        select(Footprint)
        .where(
            Footprint.product_id == product.id,
            Footprint.status == ACTIVE,
            Footprint.reference_period_start == start,
            Footprint.reference_period_end == end,
        )
        .order_by(Footprint.stored_at.desc())
        .limit(1)
    )


# --------------------------------------------------------------------------------------------
# footprints: what a client sees


@dataclass(frozen=True, slots=True)
class PageKey:
    """A place in a client's listing, which is ordered by ``(stored_at, id)``: the next page
    starts after the footprint with this key (keyset pagination).

    Design note: a page used to be an OFFSET into the listing, and the database walked every
    row the offset skipped: page 90 of 10,000 footprints cost 2.5 times page 1 on PostgreSQL.
    Starting after a key is an index range scan (``ix_footprint_organisation_stored_product``:
    ``organisation_id = :org AND (stored_at, id) > (:at, :id)``), so every page costs the
    same; and since a new footprint is stamped after every stored one of its organisation
    (:func:`_listing_stamp`), a footprint published while a client pages is listed exactly
    once, at the end. (An offset also skipped a row whenever one before it left a filtered
    list, say a footprint deprecated while a client paged the Active ones.)
    """

    stored_at: dt.datetime
    id: uuid.UUID

    @classmethod
    def of(cls, footprint: Footprint) -> PageKey:
        """The key of ``footprint``: a page that ends with it continues after this key."""
        return cls(footprint.stored_at, footprint.id)


@dataclass(frozen=True, slots=True)
class FootprintPage:
    """One page of footprints; ``next_key`` (the key of the last item) is ``None`` on the
    last page."""

    items: list[Footprint]
    next_key: PageKey | None


@dataclass(frozen=True, slots=True)
class ClientFacts:
    """What the PACT routes need to know of the API client a token names: its row id, its
    organisation (the data owner) and whether it is disabled (:func:`client_facts`)."""

    id: int
    organisation_id: int
    disabled: bool


#: ``ApiClient`` or :class:`ClientFacts`: what :func:`_visible_to` reads of a client.
Client = ApiClient | ClientFacts

_CLIENT_FACTS = select(ApiClient.id, ApiClient.organisation_id, ApiClient.disabled).where(
    ApiClient.client_id == bindparam("client_id")
)


def client_facts(db: Session | Connection, *, client_id: str) -> ClientFacts | None:
    """The :class:`ClientFacts` of client ``client_id``, ``None`` if there is no such client
    (one indexed row, no ORM object: the read of every ListFootprints request)."""
    row = db.execute(_CLIENT_FACTS, {"client_id": client_id}).first()
    return None if row is None else ClientFacts(row.id, row.organisation_id, row.disabled)


def _visible_to(client: Client) -> Any:
    """SELECT of the footprints ``client`` may see (nothing for a disabled client)."""
    granted = select(FootprintAccess.product_id).where(FootprintAccess.client_id == client.id)
    stmt = select(Footprint).where(
        Footprint.organisation_id == client.organisation_id, Footprint.product_id.in_(granted)
    )
    return stmt.where(false()) if client.disabled else stmt


def get_footprint(session: Session, *, client: ApiClient, pf_id: uuid.UUID | str) -> Footprint:
    """The footprint ``pf_id`` if it is shared with ``client``; :class:`NotFoundError` if not."""
    try:
        key = pf_id if isinstance(pf_id, uuid.UUID) else uuid.UUID(str(pf_id))
    except ValueError:
        raise NotFoundError(f"no footprint {pf_id}") from None
    footprint: Footprint | None = session.scalar(_visible_to(client).where(Footprint.id == key))
    if footprint is None:
        raise NotFoundError(f"no footprint {key}")
    return footprint


def list_footprints(
    session: Session,
    *,
    client: ApiClient,
    filters: FootprintFilter | None = None,
    limit: int | None = None,
    after: PageKey | None = None,
) -> FootprintPage:
    """The footprints shared with ``client`` that pass ``filters``, in the order stored,
    starting after the key ``after`` (:class:`PageKey`; ``None``: from the first).

    Ordered by ``(stored_at, id)`` so that a page link returns the same items when called
    again and newly published footprints land at the end.
    """
    stmt = _page_statement(client, filters, limit=limit, after=after)
    items = list(session.scalars(stmt))
    if limit is not None and len(items) > limit:
        return FootprintPage(items[:limit], PageKey.of(items[limit - 1]))
    return FootprintPage(items, None)


#: The stored document as the JSON text the database holds (``json`` on PostgreSQL, ``TEXT``
#: on SQLite: both keep the text written at publication).
_DOCUMENT_TEXT = cast(Footprint.document, Text)


@dataclass(frozen=True, slots=True)
class DocumentPage:
    """One page of stored footprint documents as JSON texts; ``next_key`` as above."""

    texts: list[str]
    next_key: PageKey | None


def list_document_texts(
    db: Session | Connection,
    *,
    client: Client,
    filters: FootprintFilter | None = None,
    limit: int | None = None,
    after: PageKey | None = None,
) -> DocumentPage:
    """:func:`list_footprints`, but only the stored documents, as JSON text.

    Design note: the PACT v3 routes serve each document exactly as stored (immutable since
    publication, validated then), so the host need not build 100 ORM objects, parse 100
    documents and serialise them again per page: it selects one text column, with the same
    visibility rule, filters and order as :func:`list_footprints`
    (:func:`_document_page_statement`). This took a ListFootprints page of 100 from 8.5 to
    3.8 ms of host CPU (the app called in-process, 10,000 footprints in PostgreSQL 15, 2-core
    development machine; ``docs/pact-host.md``, "Throughput"). Building the statement once per
    set of filters, with the client and the page as parameters, then took the read of a page
    from 1.0-1.5 to 0.6-0.9 ms of CPU.
    """
    rows, next_key = _document_rows(db, client, filters, limit, after, view_inputs=False)
    return DocumentPage([row[0] for row in rows], next_key)


@dataclass(frozen=True, slots=True)
class V2Source:
    """What the PACT v2.3 view of a stored footprint is made of
    (:func:`openpcf.exchange.v2.v2_view`): the stored v3 document as JSON text, the product's
    CPC code and when the footprint was deprecated; ``key`` is its place in the listing."""

    text: str
    cpc: str | None
    deprecated_at: dt.datetime | None
    key: PageKey


def list_v2_sources(
    db: Session | Connection,
    *,
    client: Client,
    filters: FootprintFilter | None = None,
    limit: int | None = None,
    after: PageKey | None = None,
) -> tuple[list[V2Source], PageKey | None]:
    """:func:`list_document_texts` with what the v2.3 view needs besides the document (the
    product's CPC code, the moment of deprecation), read in the same statement (the
    product joined, not loaded per footprint), and the key of the page's last row when there
    are more rows (else ``None``)."""
    rows, next_key = _document_rows(db, client, filters, limit, after, view_inputs=True)
    sources = [V2Source(row[0], row[3], row[4], PageKey(row[1], row[2])) for row in rows]
    return sources, next_key


def _document_rows(
    db: Session | Connection,
    client: Client,
    filters: FootprintFilter | None,
    limit: int | None,
    after: PageKey | None,
    *,
    view_inputs: bool,
) -> tuple[Sequence[Any], PageKey | None]:
    """The rows of :func:`_document_page_statement` for one page (at most ``limit``) and the
    key of its last row if there are more."""
    _check_limit(limit)
    if client.disabled:
        return [], None  # a disabled client sees nothing (:func:`_visible_to`)
    stmt = _document_page_statement(
        filters or FootprintFilter(),
        paged=limit is not None,
        keyed=after is not None,
        view_inputs=view_inputs,
    )
    params: dict[str, Any] = {"organisation_id": client.organisation_id, "client_id": client.id}
    params["limit"] = (limit or 0) + 1
    if after is not None:
        params |= {"after_at": after.stored_at, "after_id": after.id}
    rows = db.execute(stmt, params).all()
    if limit is not None and len(rows) > limit:
        last = rows[limit - 1]
        return rows[:limit], PageKey(last[1], last[2])
    return rows, None


@functools.lru_cache(maxsize=256)
def _document_page_statement(
    filters: FootprintFilter, *, paged: bool, keyed: bool, view_inputs: bool = False
) -> Any:
    """SELECT of the stored documents of one page as text, with each row's key (``stored_at``,
    ``id``), for ``filters``; parameters: ``organisation_id`` and ``client_id`` of the
    client, ``after_at`` and ``after_id`` (the :class:`PageKey` the page starts after) when
    ``keyed``, and ``limit`` (one row more than the page, which tells whether there is a next
    page) when ``paged``.

    The rule is :func:`_visible_to`'s (the client's organisation, the products granted to
    it). The page's ids are chosen first, by an index-only range scan of
    ``ix_footprint_organisation_stored_product`` (migration 0011) from the key on, checked
    against the grants, and only their documents are read: the text cast runs on the page's
    rows only. Built once per set of filters (and cached): building the statement cost more
    CPU than reading the page. ``view_inputs`` adds the product's ``cpc`` and the footprint's
    ``status_changed_at`` (:func:`list_v2_sources`).
    """
    granted = select(FootprintAccess.product_id).where(
        FootprintAccess.client_id == bindparam("client_id")
    )
    ids = select(Footprint.id, Footprint.stored_at).where(
        Footprint.organisation_id == bindparam("organisation_id"),
        Footprint.product_id.in_(granted),
    )
    if keyed:
        ids = _after(ids, bindparam("after_at", type_=_STORED_AT), bindparam("after_id", type_=_ID))
    ids = _filtered(ids, filters).order_by(Footprint.stored_at, Footprint.id)
    # the limit written into the SQL text (by SQLAlchemy, from an integer): as a parameter,
    # PostgreSQL may plan the prepared statement for any limit (a "generic plan", assuming a
    # tenth of the rows), and that plan read all 10,000 documents for a hash join; with the
    # limit known, the generic plan is the index-only one (checked with EXPLAIN)
    if paged:
        ids = ids.limit(bindparam("limit", type_=Integer, literal_execute=True))
    page = ids.subquery()
    if not view_inputs:
        return (
            select(_DOCUMENT_TEXT, page.c.stored_at, page.c.id)
            .join(page, Footprint.id == page.c.id)
            .order_by(page.c.stored_at, page.c.id)
        )
    return (
        select(
            _DOCUMENT_TEXT, page.c.stored_at, page.c.id, Product.cpc, Footprint.status_changed_at
        )
        .join(page, Footprint.id == page.c.id)
        .join(Product, Product.id == Footprint.product_id)
        .order_by(page.c.stored_at, page.c.id)
    )


#: The token's client left-joined to the footprint ``pf_id`` under :func:`_visible_to`'s rule
#: (the client's organisation, a product granted to the client, an enabled client).
_SHARED_JOIN = ApiClient.__table__.outerjoin(
    Footprint.__table__,
    and_(
        Footprint.id == bindparam("pf_id"),
        Footprint.organisation_id == ApiClient.organisation_id,
        ~ApiClient.disabled,
        exists().where(
            FootprintAccess.client_id == ApiClient.id,
            FootprintAccess.product_id == Footprint.product_id,
        ),
    ),
)
#: GetFootprint's one statement: the token's client (found by its ``client_id``) and, when
#: the footprint is shared with it (:data:`_SHARED_JOIN`), the stored document as text.
_SHARED_DOCUMENT = (
    select(ApiClient.id, ApiClient.organisation_id, ApiClient.disabled, _DOCUMENT_TEXT)
    .select_from(_SHARED_JOIN)
    .where(ApiClient.client_id == bindparam("client_id"))
)
#: :data:`_SHARED_DOCUMENT` with the other inputs of the v2.3 view (:class:`V2Source`).
_SHARED_V2_SOURCE = (
    select(
        ApiClient.id,
        ApiClient.organisation_id,
        ApiClient.disabled,
        _DOCUMENT_TEXT,
        Product.cpc,
        Footprint.status_changed_at,
        Footprint.stored_at,
        Footprint.id,
    )
    .select_from(_SHARED_JOIN.outerjoin(Product.__table__, Product.id == Footprint.product_id))
    .where(ApiClient.client_id == bindparam("client_id"))
)


def shared_document(
    db: Session | Connection, *, client_id: str, pf_id: uuid.UUID
) -> tuple[ClientFacts | None, str | None]:
    """The client ``client_id`` (``None``: no such client) and the stored document of
    footprint ``pf_id`` as JSON text if it is shared with that client (``None``: unknown, not
    shared, or the client is disabled), in one statement.

    Design note: GetFootprint is the host's most frequent request. The client check and the
    document read used to be two ORM queries in a transaction: four round trips to the
    database (BEGIN, client, document, COMMIT), and the service call cost 0.97 ms of CPU. As
    one constant statement (compiled once) it is one round trip in an autocommit read
    (:func:`openpcf.services.pact.host.get_footprint`) and 0.14 ms (2-core development
    machine, PostgreSQL 15, 10,000 footprints); the caller still tells a missing or
    disabled client (401) from a missing scope (403) from a footprint it may not see (404),
    in that order, as before.
    """
    row = db.execute(_SHARED_DOCUMENT, {"client_id": client_id, "pf_id": pf_id}).first()
    if row is None:
        return None, None
    return ClientFacts(row[0], row[1], row[2]), row[3]


def shared_v2_source(
    db: Session | Connection, *, client_id: str, pf_id: uuid.UUID
) -> tuple[ClientFacts | None, V2Source | None]:
    """:func:`shared_document` with the other inputs of the v2.3 view (:class:`V2Source`), in
    one statement as well."""
    row = db.execute(_SHARED_V2_SOURCE, {"client_id": client_id, "pf_id": pf_id}).first()
    if row is None:
        return None, None
    facts = ClientFacts(row[0], row[1], row[2])
    if row[3] is None:
        return facts, None
    return facts, V2Source(row[3], row[4], row[5], PageKey(row[6], row[7]))


def _page_statement(
    client: Client, filters: FootprintFilter | None, *, limit: int | None, after: PageKey | None
) -> Any:
    """SELECT of one page of the footprints shared with ``client``, after the key ``after``
    (one row more than ``limit``, which tells whether there is a next page)."""
    _check_limit(limit)
    stmt = _visible_to(client)
    if after is not None:
        stmt = _after(stmt, after.stored_at, after.id)
    stmt = _filtered(stmt, filters or FootprintFilter())
    stmt = stmt.order_by(Footprint.stored_at, Footprint.id)
    if limit is not None:
        stmt = stmt.limit(limit + 1)
    return stmt


_STORED_AT = Footprint.__table__.c.stored_at.type
_ID = Footprint.__table__.c.id.type


def _after(stmt: Any, stored_at: Any, pf_id: Any) -> Any:
    """``stmt`` limited to the rows after the key ``(stored_at, pf_id)`` in the listing order.

    Design note: written as one row comparison, ``(stored_at, id) > (:at, :id)``, which both
    databases take as the start of a range scan of ``ix_footprint_organisation_stored_product``
    after ``organisation_id = :org`` (SQLite: ``SEARCH ... USING COVERING INDEX (organisation_id=?
    AND (stored_at,id)>(?,?))``; PostgreSQL: an ``Index Only Scan`` with the row comparison in
    its ``Index Cond``; checked in ``tests/test_pact_paging_keyset.py``). The spelled-out
    ``stored_at > :at OR (stored_at = :at AND id > :id)`` only bounds ``stored_at``.
    """
    return stmt.where(tuple_(Footprint.stored_at, Footprint.id) > tuple_(stored_at, pf_id))


def _check_limit(limit: int | None) -> None:
    if limit is not None and limit < 1:
        raise InputError(f"limit must be a positive integer, not {limit}")


def _filtered(stmt: Any, f: FootprintFilter) -> Any:
    for kind, values in (
        ("productId", f.product_ids),
        ("companyId", f.company_ids),
        ("geography", f.geographies),
        ("classification", f.classifications),
    ):
        if values:
            wanted = sorted({v.strip().lower() for v in values})
            stmt = stmt.where(
                exists().where(
                    FootprintKey.footprint_id == Footprint.id,
                    FootprintKey.kind == kind,
                    FootprintKey.value.in_(wanted),
                )
            )
    if f.statuses:
        asked = {s.strip().lower() for s in f.statuses}
        stmt = stmt.where(Footprint.status.in_([s for s in STATUSES if s.lower() in asked]))
    if f.valid_on is not None:
        stmt = stmt.where(
            Footprint.validity_start <= f.valid_on, Footprint.validity_end >= f.valid_on
        )
    if f.valid_after is not None:
        stmt = stmt.where(Footprint.validity_start > f.valid_after)
    if f.valid_before is not None:
        stmt = stmt.where(Footprint.validity_end < f.valid_before)
    for name, op, value in f.moments:
        stmt = stmt.where(_COMPARE[op](_MOMENTS[name], value))
    return stmt


_MOMENTS = {
    "created": Footprint.created,
    "reference_period_start": Footprint.reference_period_start,
    "reference_period_end": Footprint.reference_period_end,
}
_COMPARE: dict[str, Any] = {
    "eq": lambda column, value: column == value,
    "lt": lambda column, value: column < value,
    "le": lambda column, value: column <= value,
    "gt": lambda column, value: column > value,
    "ge": lambda column, value: column >= value,
}
