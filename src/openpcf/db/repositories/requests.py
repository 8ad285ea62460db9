"""Supplier data requests (:class:`~openpcf.db.models.SupplierRequest`): add, find, list and
move through their statuses.

A request goes ``sent`` → ``answered`` (the supplier's answer arrived and is held) →
``accepted`` (its figure becomes primary data) or ``rejected``; a sent or answered request
may be ``cancelled``. ``overdue`` is computed: a sent request past its due date. A new request
for an input whose request was rejected or cancelled is a new row; the database keeps at most
one open (sent or answered) request per organisation, product and input.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from openpcf.db.errors import NotFoundError
from openpcf.db.models import OPEN_REQUEST_STATUSES, SupplierRequest
from openpcf.errors import InputError

#: status -> the statuses it may move to
TRANSITIONS: dict[str, tuple[str, ...]] = {
    "sent": ("answered", "cancelled"),
    "answered": ("accepted", "rejected", "cancelled"),
    "accepted": (),
    "rejected": (),
    "cancelled": (),
}


def is_overdue(request: SupplierRequest, today: dt.date) -> bool:
    """A sent request whose due date has passed."""
    return request.status == "sent" and request.due < today


def shown_status(request: SupplierRequest, today: dt.date) -> str:
    """The stored status, or ``overdue`` for a sent request past its due date."""
    return "overdue" if is_overdue(request, today) else request.status


def add_supplier_request(session: Session, **fields: object) -> SupplierRequest:
    """A new request row (``request_id`` drawn when not given), flushed.

    The partial unique index refuses a second open request for the same organisation, product
    and input with an ``IntegrityError``: run it in
    :func:`~openpcf.db.concurrency.write_transaction` after
    :func:`find_open_supplier_request`, so the loser of a race finds the winner's row when it
    runs again.
    """
    fields.setdefault("request_id", uuid.uuid4())
    fields.setdefault("status", "sent")
    fields.setdefault("decision_note", "")
    row = SupplierRequest(**fields)
    session.add(row)
    session.flush()
    return row


def find_open_supplier_request(
    session: Session, *, organisation_id: int, product_id: str, input_key: str
) -> SupplierRequest | None:
    """The open (sent or answered) request for this product input, if any."""
    return session.scalars(
        select(SupplierRequest).where(
            SupplierRequest.organisation_id == organisation_id,
            SupplierRequest.product_id == product_id,
            SupplierRequest.input_key == input_key,
            SupplierRequest.status.in_(OPEN_REQUEST_STATUSES),
        )
    ).one_or_none()


def get_supplier_request(
    session: Session, *, request_id: uuid.UUID, organisation_id: int | None = None
) -> SupplierRequest:
    """The request with this public id (of this organisation, when given).

    Raises
    ------
    NotFoundError
        No such request (or it belongs to another organisation: the same answer, so ids of
        other organisations' requests cannot be probed).
    """
    query = select(SupplierRequest).where(SupplierRequest.request_id == request_id)
    if organisation_id is not None:
        query = query.where(SupplierRequest.organisation_id == organisation_id)
    row = session.scalars(query).one_or_none()
    if row is None:
        raise NotFoundError(f"no supplier request {request_id}")
    return row


def list_supplier_requests(
    session: Session,
    *,
    organisation_id: int,
    product_id: str | None = None,
    statuses: Sequence[str] | None = None,
    supplier: str | None = None,
) -> list[SupplierRequest]:
    """The organisation's requests, oldest first, optionally of one product, in some stored
    statuses, or to one supplier."""
    query = select(SupplierRequest).where(SupplierRequest.organisation_id == organisation_id)
    if product_id is not None:
        query = query.where(SupplierRequest.product_id == product_id)
    if statuses is not None:
        query = query.where(SupplierRequest.status.in_(tuple(statuses)))
    if supplier is not None:
        query = query.where(SupplierRequest.supplier == supplier)
    return list(session.scalars(query.order_by(SupplierRequest.id)))


def set_supplier_request_status(
    session: Session,
    *,
    request: SupplierRequest,
    status: str,
    at: dt.datetime,
    note: str = "",
    supplier_footprint_id: uuid.UUID | None = None,
) -> SupplierRequest:
    """Move ``request`` to ``status`` (see :data:`TRANSITIONS`), recording when and why.

    Raises
    ------
    InputError
        A move the lifecycle does not allow (e.g. accepting a request that has no answer, or
        answering one that was already accepted), naming the request and its status.
    """
    allowed = TRANSITIONS.get(request.status, ())
    if status not in allowed:
        raise InputError(
            f"request {request.request_id} is {request.status}; it cannot become {status} "
            f"(from {request.status}: {', '.join(allowed) or 'no further change'})"
        )
    request.status = status
    if status == "answered":
        request.answered_at = at
        request.supplier_footprint_id = supplier_footprint_id
    else:
        request.decided_at = at
        request.decision_note = note
    session.flush()
    return request
