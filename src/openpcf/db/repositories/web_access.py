"""Which supplier requests a supplier's web account may see (``web_request_access``).

A supplier sees a request only when both hold: a grant row for the person and the request,
and the request belongs to the organisation the person's session is bound to. Anything else
is :class:`~openpcf.db.errors.NotFoundError`, the same as an unknown id, so request ids of
others cannot be probed.
"""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from openpcf.db.errors import NotFoundError
from openpcf.db.models import SupplierRequest
from openpcf.db.web_access_models import WebRequestAccess
from openpcf.db.web_models import WebAccount


def grant_request_access(
    session: Session, *, user: WebAccount, request: SupplierRequest
) -> tuple[WebRequestAccess, bool]:
    """Let ``user`` see and answer ``request``: (the grant, whether it is new)."""
    existing = session.scalar(
        select(WebRequestAccess).where(
            WebRequestAccess.user_id == user.id, WebRequestAccess.request_id == request.id
        )
    )
    if existing is not None:
        return existing, False
    grant = WebRequestAccess(user_id=user.id, request_id=request.id)
    session.add(grant)
    session.flush()
    return grant, True


def list_granted_requests(
    session: Session, *, user_id: int, organisation_id: int
) -> list[SupplierRequest]:
    """The requests of ``organisation_id`` granted to ``user_id``, oldest first."""
    query = (
        select(SupplierRequest)
        .join(WebRequestAccess, WebRequestAccess.request_id == SupplierRequest.id)
        .where(
            WebRequestAccess.user_id == user_id,
            SupplierRequest.organisation_id == organisation_id,
        )
        .order_by(SupplierRequest.id)
    )
    return list(session.scalars(query))


def get_granted_request(
    session: Session, *, user_id: int, organisation_id: int, request_id: uuid.UUID
) -> SupplierRequest:
    """The request ``request_id`` if granted to ``user_id`` in ``organisation_id``.

    Raises
    ------
    NotFoundError
        No such request, or not granted to this person (the same answer).
    """
    row = session.scalar(
        select(SupplierRequest)
        .join(WebRequestAccess, WebRequestAccess.request_id == SupplierRequest.id)
        .where(
            WebRequestAccess.user_id == user_id,
            SupplierRequest.organisation_id == organisation_id,
            SupplierRequest.request_id == request_id,
        )
    )
    if row is None:
        raise NotFoundError(f"no supplier request {request_id}")
    return row
