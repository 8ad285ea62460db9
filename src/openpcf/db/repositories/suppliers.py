"""Requests this host sent, and the supplier footprints it received (per organisation).

Two rules live here because only the database can keep them under concurrency:

* **A request is answered once.** :func:`mark_answered` sets ``answered_at`` with one
  ``UPDATE … WHERE answered_at IS NULL``; of two answers racing on SQLite or PostgreSQL exactly
  one sees its row changed.
* **A stored supplier footprint never changes.** :func:`store_supplier_footprint` inserts under
  the unique ``(organisation_id, footprint_id)``; the same id again with the same content
  (canonical-JSON SHA-256) is a no-op, with other content it raises
  :class:`~openpcf.exchange.errors.FootprintConflictError`, also when the other copy was
  inserted by a concurrent transaction a moment before.

On SQLite, begin the transaction with ``session_scope(engine, write=True)``: the insert runs
in a savepoint, and without an explicit ``BEGIN`` pysqlite commits at its ``RELEASE``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from openpcf.db.base import utcnow
from openpcf.db.models import (
    ORIGINS,
    ApiClient,
    Organisation,
    PactRequest,
    SupplierFootprint,
    SupplierFootprintProduct,
)
from openpcf.errors import InputError
from openpcf.exchange.criteria import parse_datetime
from openpcf.exchange.errors import FootprintConflictError, SupplierFootprintError

# --------------------------------------------------------------------------------------------
# requests this host sent


def record_request(
    session: Session,
    *,
    event_id: str,
    client: ApiClient,
    target_url: str,
    version: str,
    payload: Mapping[str, Any],
    sent_at: dt.datetime | None = None,
) -> PactRequest:
    """Record a RequestCreated event before it is sent to ``target_url``.

    ``client`` is the API client the supplier authenticates with when it answers; the request
    belongs to that client's organisation, which receives the footprints.
    """
    row = PactRequest(
        event_id=event_id,
        organisation_id=client.organisation_id,
        client_id=client.id,
        target_url=target_url,
        version=version,
        payload=dict(payload),
        sent_at=sent_at or utcnow(),
    )
    session.add(row)
    session.flush()
    return row


def get_request(session: Session, *, event_id: str) -> PactRequest | None:
    """The request this host sent with id ``event_id``, if any."""
    return session.scalar(select(PactRequest).where(PactRequest.event_id == event_id))


def mark_answered(
    session: Session,
    *,
    request: PactRequest,
    answer_type: str,
    answer_event_id: str,
    now: dt.datetime | None = None,
) -> bool:
    """Mark ``request`` answered; ``False`` when it was answered already (also concurrently)."""
    moment = now or utcnow()
    changed = session.execute(
        update(PactRequest)
        .where(PactRequest.id == request.id, PactRequest.answered_at.is_(None))
        .values(answered_at=moment, answer_type=answer_type, answer_event_id=answer_event_id)
        .execution_options(synchronize_session=False)
    )
    if changed.rowcount != 1:  # type: ignore[attr-defined]
        return False
    session.refresh(request)
    return True


# --------------------------------------------------------------------------------------------
# supplier footprints


def content_sha256(document: Mapping[str, Any]) -> str:
    """SHA-256 of the canonical JSON of ``document`` (sorted keys, no spaces, UTF-8).

    Two copies of a footprint are "the same content" when these hashes are equal, whatever
    the order of members or the whitespace they arrived with.
    """
    text = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True, slots=True)
class StoredSupplierFootprint:
    """The row holding a received footprint, and whether this call inserted it."""

    row: SupplierFootprint
    new: bool


def store_supplier_footprint(
    session: Session,
    *,
    organisation: Organisation,
    document: Mapping[str, Any],
    origin: str,
    source: str,
    client: ApiClient | None = None,
    request_event_id: str | None = None,
    received: dt.datetime | None = None,
) -> StoredSupplierFootprint:
    """Keep a received (already validated) footprint for ``organisation``.

    Raises
    ------
    FootprintConflictError
        ``organisation`` holds a footprint with this id and different content.
    SupplierFootprintError
        The document has no UUID ``id``.
    """
    if origin not in ORIGINS:
        raise InputError(f"origin {origin!r} is not one of {', '.join(ORIGINS)}")
    pf_id = _footprint_id(document)
    digest = content_sha256(document)
    held = _held(session, organisation, pf_id)
    if held is not None:
        return StoredSupplierFootprint(_same(held, digest, origin, source), new=False)
    row = SupplierFootprint(
        organisation_id=organisation.id,
        footprint_id=pf_id,
        spec_version=str(document.get("specVersion") or ""),
        status=_text(document.get("status")),
        created=_created(document),
        document=dict(document),
        sha256=digest,
        origin=origin,
        source=source[:2048],
        client_id=client.id if client else None,
        request_event_id=request_event_id,
        received_at=received or utcnow(),
    )
    row.products = [
        SupplierFootprintProduct(product_id=p) for p in _product_ids(document.get("productIds"))
    ]
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError:  # a concurrent transaction stored the same id first
        held = _held(session, organisation, pf_id)
        if held is None:  # pragma: no cover - the constraint fired for another reason
            raise
        return StoredSupplierFootprint(_same(held, digest, origin, source), new=False)
    return StoredSupplierFootprint(row, new=True)


def _held(
    session: Session, organisation: Organisation, pf_id: uuid.UUID
) -> SupplierFootprint | None:
    return session.scalar(
        select(SupplierFootprint).where(
            SupplierFootprint.organisation_id == organisation.id,
            SupplierFootprint.footprint_id == pf_id,
        )
    )


def _same(held: SupplierFootprint, digest: str, origin: str, source: str) -> SupplierFootprint:
    if held.sha256 == digest:
        return held
    raise FootprintConflictError(
        f"supplier footprint {held.footprint_id} ({origin} from {source}) differs from the one "
        f"held since {held.received_at:%Y-%m-%d %H:%M}Z ({held.origin} from {held.source}); a "
        "PACT footprint never changes under its id: a changed footprint must come with a new id "
        "that names the old one in precedingPfIds. Nothing was replaced."
    )


def find_supplier_footprints(
    session: Session, *, ref: str, organisation: Organisation | None
) -> list[SupplierFootprint]:
    """Footprints held for a footprint id or a product URN (ignoring case).

    ``organisation`` ``None`` searches every organisation. For a URN the rows are ordered best
    first: Active before Deprecated, then the most recently created.
    """
    stmt = select(SupplierFootprint)
    try:
        stmt = stmt.where(SupplierFootprint.footprint_id == uuid.UUID(ref))
    except ValueError:
        keys = select(SupplierFootprintProduct.supplier_footprint_id).where(
            SupplierFootprintProduct.product_id == ref.strip().lower()
        )
        stmt = stmt.where(SupplierFootprint.id.in_(keys))
    if organisation is not None:
        stmt = stmt.where(SupplierFootprint.organisation_id == organisation.id)
    rows = list(session.scalars(stmt))
    oldest = dt.datetime.min.replace(tzinfo=dt.UTC)
    rows.sort(key=lambda r: (r.status == "Active", r.created or oldest, r.id), reverse=True)
    return rows


def list_supplier_footprints(
    session: Session, *, organisation: Organisation | None = None
) -> Sequence[SupplierFootprint]:
    """Every supplier footprint held (by ``organisation``), in the order received."""
    stmt = select(SupplierFootprint).order_by(SupplierFootprint.id)
    if organisation is not None:
        stmt = stmt.where(SupplierFootprint.organisation_id == organisation.id)
    return list(session.scalars(stmt))


def _footprint_id(document: Mapping[str, Any]) -> uuid.UUID:
    try:
        return uuid.UUID(str(document.get("id")))
    except ValueError:
        raise SupplierFootprintError(
            f"supplier footprint id {document.get('id')!r} is not a UUID"
        ) from None


def _text(value: object) -> str | None:
    return value[:16] if isinstance(value, str) and value else None


def _created(document: Mapping[str, Any]) -> dt.datetime | None:
    try:
        return parse_datetime(document.get("created"), "created")
    except InputError:
        return None


def _product_ids(values: object) -> list[str]:
    if not isinstance(values, list):
        return []
    return sorted({v.strip().lower()[:500] for v in values if isinstance(v, str) and v.strip()})
