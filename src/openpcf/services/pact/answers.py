"""Answers to the requests this host sent: inbound RequestFulfilled and RequestRejected events.

A data recipient acts only on the answer to *its own* request (PACT v3 §Events: the data owner
answers the host named in the request's ``source``). So an answer is accepted only when

1. its ``requestEventId`` names a RequestCreated event this host recorded when it sent it
   (``pact_request``; else 400 BadRequest, :class:`UnsolicitedAnswerError`);
2. it arrives with the token of the API client this host issued to the supplier the request
   went to (else 403 AccessDenied, :class:`AnswerForbiddenError`): a customer that may only
   list our footprints cannot answer in a supplier's name;
3. it comes on the request's API version, and the request was not answered before (a second
   answer, or the same one replayed, is refused with 400);
4. every footprint of a Fulfilled event validates as a PACT ProductFootprint of that
   version, is for a product the request asked for (when it named products), and does not
   change a footprint the organisation holds under the same id
   (:class:`FootprintConflictError`, 400).

Then, in the caller's transaction, the request is marked answered and the footprints are
stored for the request's organisation with origin ``answered``. When the request was a data
request of ``openpcf suppliers request`` (a :class:`~openpcf.db.models.SupplierRequest`
whose ``pact_event_id`` is the request's id), that request moves too: a Fulfilled answer
makes it ``answered`` with the first footprint of the answer as its supplier figure, a
Rejected one ``cancelled`` with the supplier's error as the note. Anything refused stores
nothing: the transaction is rolled back. Refusals are logged (logger ``openpcf.pact.answers``)
for the operator; the peer's error message never names our other suppliers or files.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from openpcf.db import repositories as repo
from openpcf.db.models import SupplierRequest
from openpcf.exchange.errors import (
    AnswerForbiddenError,
    BadRequestError,
    FootprintConflictError,
    UnsolicitedAnswerError,
)
from openpcf.services.suppliers import check_received, store_received

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from openpcf.db.models import ApiClient, PactRequest
    from openpcf.exchange.events import CloudEvent

log = logging.getLogger("openpcf.pact.answers")

#: Schema problems quoted per refused footprint, and refused footprints quoted per answer.
_SHOWN = 3


def accept_answer(
    session: Session, *, client: ApiClient, event: CloudEvent, now: dt.datetime
) -> tuple[str, ...]:
    """Check an inbound Fulfilled/Rejected ``event`` from ``client`` and take it in.

    Returns the ids of the footprints now held for the request (empty for Rejected). Raises
    :class:`UnsolicitedAnswerError` or :class:`BadRequestError` (400) and
    :class:`AnswerForbiddenError` (403), see the module docstring; the caller records the
    event itself (which refuses a replayed ``(source, id)``).
    """
    request_id = str(event.data["requestEventId"])
    try:
        return _accept(session, client=client, event=event, request_id=request_id, now=now)
    except (BadRequestError, AnswerForbiddenError) as e:
        log.warning(
            "refused %s event %r from client %s for request %r: %s",
            event.kind,
            event.id,
            client.client_id,
            request_id,
            e,
        )
        raise


def _accept(
    session: Session, *, client: ApiClient, event: CloudEvent, request_id: str, now: dt.datetime
) -> tuple[str, ...]:
    request = repo.get_request(session, event_id=request_id)
    if request is None:
        raise UnsolicitedAnswerError(
            f"data.requestEventId {request_id!r} names no request this host sent; only "
            "answers to our own requests are accepted"
        )
    if request.client_id is None or request.client_id != client.id:
        raise AnswerForbiddenError(
            f"request {request_id!r} was sent to another PACT host; only that host may answer it"
        )
    if request.version != event.version:
        raise BadRequestError(
            f"request {request_id!r} was sent with PACT v{request.version}; answer it on "
            f"/{request.version}/events"
        )
    if request.answered_at is not None:
        raise UnsolicitedAnswerError(_answered(request))
    pfs: list[Mapping[str, Any]] = list(event.data.get("pfs") or [])
    if event.kind == "fulfilled":
        _check_footprints(pfs, request)
    if not repo.mark_answered(
        session, request=request, answer_type=event.type, answer_event_id=event.id, now=now
    ):
        raise UnsolicitedAnswerError(_answered(request))
    if event.kind != "fulfilled":
        _data_request_rejected(session, request_id, event, now)
        return ()
    try:
        stored = store_received(
            session,
            organisation=request.organisation,
            documents=pfs,
            origin="answered",
            source=event.source,
            client=client,
            request_event_id=request_id,
            now=now,
        )
    except FootprintConflictError as e:
        log.warning("answer %r to request %r: %s", event.id, request_id, e)
        raise BadRequestError(
            f"the answer to request {request_id!r} was refused, nothing was stored: a footprint "
            "in it has the id of one we hold, with different content; a PACT footprint never "
            "changes under its id (send the changed footprint under a new id that names the "
            "old one in precedingPfIds)"
        ) from None
    held = tuple(stored.new + stored.unchanged)
    _data_request_answered(session, request_id, held, now)
    return held


def _data_request(session: Session, event_id: str) -> SupplierRequest | None:
    """The sent data request that went out as PACT request ``event_id``, if any."""
    return session.scalars(
        select(SupplierRequest).where(
            SupplierRequest.pact_event_id == event_id, SupplierRequest.status == "sent"
        )
    ).first()


def _data_request_answered(
    session: Session, event_id: str, footprints: Sequence[str], now: dt.datetime
) -> None:
    row = _data_request(session, event_id)
    if row is None or not footprints:
        return
    repo.set_supplier_request_status(
        session,
        request=row,
        status="answered",
        at=now,
        supplier_footprint_id=uuid.UUID(footprints[0]),
    )


def _data_request_rejected(
    session: Session, event_id: str, event: CloudEvent, now: dt.datetime
) -> None:
    row = _data_request(session, event_id)
    if row is None:
        return
    error = event.data.get("error")
    error = error if isinstance(error, dict) else {}
    reason = f"{error.get('code', 'rejected')}: {error.get('message', '')}".strip(": ")
    repo.set_supplier_request_status(
        session,
        request=row,
        status="cancelled",
        at=now,
        note=f"the supplier rejected the PACT request ({reason})"[:2000],
    )


def _answered(request: PactRequest) -> str:
    return (
        f"request {request.event_id!r} was answered already (event "
        f"{request.answer_event_id!r}); PACT answers a request once"
    )


def _check_footprints(pfs: Sequence[Mapping[str, Any]], request: PactRequest) -> None:
    """Every footprint validates and is for a product the request asked for."""
    wanted = _requested_products(request)
    problems: list[str] = []
    for pf in pfs:
        pf_id = str(pf.get("id"))
        found = check_received(pf, version=request.version)
        if found:
            more = f" (and {len(found) - _SHOWN} more)" if len(found) > _SHOWN else ""
            problems.append(f"footprint {pf_id}: {'; '.join(found[:_SHOWN])}{more}")
            continue
        ids = {str(p).lower() for p in pf.get("productIds") or []}
        if wanted and not ids & wanted:
            problems.append(
                f"footprint {pf_id} is for products {sorted(ids)}, none of which the request "
                f"asked for ({sorted(wanted)})"
            )
    if problems:
        more = f" (and {len(problems) - _SHOWN} more footprints)" if len(problems) > _SHOWN else ""
        raise BadRequestError(
            f"the answer to request {request.event_id!r} was refused, nothing was stored: "
            + " | ".join(problems[:_SHOWN])
            + more
        )


def _requested_products(request: PactRequest) -> set[str]:
    """Product ids (lower-cased) the request named; empty when it asked by other criteria."""
    data = request.payload.get("data") or {}
    if request.version == "2":
        data = data.get("pf") or {}
        value = data.get("productIds")
    else:
        value = data.get("productId")
    values = [value] if isinstance(value, str) else list(value or [])
    return {str(v).lower() for v in values}
