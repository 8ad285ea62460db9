"""Inbound events (replays refused) and the outbox of outgoing events (retried with backoff)."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Text, cast, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from openpcf.db.base import utcnow
from openpcf.db.errors import ReplayedEventError
from openpcf.db.models import ApiClient, Event, Organisation, OutboxEvent
from openpcf.errors import InputError, QuotaExceededError

# --------------------------------------------------------------------------------------------
# inbound events


@dataclass(frozen=True, slots=True, kw_only=True)
class EventQuota:
    """How much one API client may have stored in inbound events within a rolling window.

    Every event is stored whole (up to the 2 MiB body limit) and kept, so without a quota one
    client could fill the database (issue 11, item 6). PACT exchanges a few events per
    request; the defaults leave room for thousands of requests a day.
    """

    events: int = 2000
    bytes: int = 64 * 1024 * 1024
    window: dt.timedelta = dt.timedelta(days=1)


#: The quota of every client, unless the caller of :func:`record_event` passes another.
EVENT_QUOTA = EventQuota()


def record_event(
    session: Session,
    *,
    event_id: str,
    source: str,
    type: str,
    payload: Mapping[str, Any],
    client: ApiClient | None = None,
    received: dt.datetime | None = None,
    quota: EventQuota | None = None,
    held_for: str | None = None,
) -> Event:
    """Store an inbound CloudEvent; the same ``(source, id)`` again is a replay.

    ``held_for``: store a RequestCreated event as ``pending`` (a person answers it,
    :func:`mark_request_answered`), its answer to carry this CloudEvents source.

    Raises :class:`ReplayedEventError` for a replay, :class:`QuotaExceededError` when the
    event would take ``client`` past ``quota`` (default :data:`EVENT_QUOTA`, read at each
    call). The insert runs in a savepoint, so a replay racing past the check leaves the
    caller's transaction usable.
    """
    if not event_id or not source:
        raise InputError("an event needs a non-empty id and source (CloudEvents 1.0)")
    replay = ReplayedEventError(f"event {event_id!r} from {source!r} was received before")
    seen = select(Event.id).where(Event.source == source, Event.event_id == event_id)
    if session.scalar(seen) is not None:
        raise replay
    if client is not None:
        quota = quota or EVENT_QUOTA
        _check_quota(session, client, payload, now=received or utcnow(), quota=quota)
    record = Event(
        event_id=event_id,
        source=source,
        type=type,
        payload=dict(payload),
        client_id=client.id if client else None,
        received=received or utcnow(),
        answer_state=PENDING if held_for is not None else None,
        answer_source=held_for,
    )
    try:
        with session.begin_nested():
            session.add(record)
    except IntegrityError:
        raise replay from None
    return record


def _check_quota(
    session: Session,
    client: ApiClient,
    payload: Mapping[str, Any],
    *,
    now: dt.datetime,
    quota: EventQuota,
) -> None:
    """Refuse ``payload`` if it takes ``client`` past ``quota`` (count or bytes in the window).

    Bytes are the length of the stored JSON text, measured by the database over the client's
    events in the window. Design note: a check, then an insert: two events of one client
    arriving at the same instant may both pass, so the quota can be exceeded by the number of
    concurrent requests (a few), which the rate limit of the events routes bounds.
    """
    since = now - quota.window
    mine = (Event.client_id == client.id, Event.received >= since)
    stored = select(
        func.count(Event.id), func.coalesce(func.sum(func.length(cast(Event.payload, Text))), 0)
    ).where(*mine)
    count, size = session.execute(stored).one()
    adding = len(json.dumps(dict(payload)))
    if count + 1 <= quota.events and size + adding <= quota.bytes:
        return
    oldest = session.scalar(select(func.min(Event.received)).where(*mine)) or now
    if oldest.tzinfo is None:  # SQLite returns naive UTC
        oldest = oldest.replace(tzinfo=dt.UTC)
    hours = quota.window.total_seconds() / 3600
    raise QuotaExceededError(
        f"client {client.client_id} has stored {count} events ({size:,} bytes) in the last "
        f"{hours:g} hours; one client may store at most {quota.events} events or "
        f"{quota.bytes:,} bytes in that time. Retry later, or ask the data owner",
        retry_after=max(1.0, (oldest + quota.window - now).total_seconds()),
    )


#: ``Event.answer_state`` of a request held for a person, and of one a person has answered.
PENDING, ANSWERED = "pending", "answered"


def mark_request_answered(
    session: Session, *, event: Event, by: str, now: dt.datetime | None = None
) -> bool:
    """Record that the pending request ``event`` is answered; ``False`` if it is not pending
    (answered already, or never held).

    Design note: one conditional ``UPDATE … WHERE id = ? AND answer_state = 'pending'`` whose
    row count says whether this caller won, run in the transaction that queues the answer in
    the outbox: of two people or processes answering at once exactly one changes the row and
    queues its answer. On PostgreSQL the loser waits for the winner's row lock, then (READ
    COMMITTED re-checks the WHERE clause) finds the row answered; on SQLite the write
    transaction (``session_scope(write=True)``) runs them one after the other.
    """
    changed = session.execute(
        update(Event)
        .where(Event.id == event.id, Event.answer_state == PENDING)
        .values(answer_state=ANSWERED, answered_at=now or utcnow(), answered_by=by[:320])
        .execution_options(synchronize_session=False)
    )
    won: bool = changed.rowcount == 1  # type: ignore[attr-defined]
    return won


# --------------------------------------------------------------------------------------------
# outgoing events (outbox)

#: Delay after the first failed attempt; each further failure doubles it ...
BACKOFF_BASE = dt.timedelta(minutes=1)
#: ... up to this cap ...
BACKOFF_CAP = dt.timedelta(hours=12)
#: ... and no attempt is scheduled later than this after the event was enqueued (PACT v3).
RETRY_DEADLINE = dt.timedelta(hours=72)


def backoff_delay(
    attempts: int, *, base: dt.timedelta = BACKOFF_BASE, cap: dt.timedelta = BACKOFF_CAP
) -> dt.timedelta:
    """Wait after the ``attempts``-th failure: ``min(base · 2**(attempts−1), cap)``."""
    if attempts < 1:
        raise ValueError(f"attempts must be >= 1, not {attempts}")
    if attempts > 40:  # 2**40 minutes is far past any cap; avoid huge timedeltas
        return cap
    delay: dt.timedelta = base * 2 ** (attempts - 1)
    return min(delay, cap)


def enqueue_outbox(
    session: Session,
    *,
    target_url: str,
    payload: Mapping[str, Any],
    organisation: Organisation | None = None,
    now: dt.datetime | None = None,
) -> OutboxEvent:
    """Queue an event for delivery to ``target_url``; it is due at once."""
    now = now or utcnow()
    item = OutboxEvent(
        target_url=target_url,
        payload=dict(payload),
        organisation_id=organisation.id if organisation else None,
        created=now,
        next_attempt_at=now,
    )
    session.add(item)
    session.flush()
    return item


def _due(now: dt.datetime) -> tuple[ColumnElement[bool], ...]:
    """The condition of an event whose next attempt is due at ``now``."""
    return (
        OutboxEvent.delivered_at.is_(None),
        OutboxEvent.abandoned_at.is_(None),
        OutboxEvent.next_attempt_at <= now,
    )


def due_outbox(session: Session, *, now: dt.datetime, limit: int = 100) -> list[OutboxEvent]:
    """Undelivered, unabandoned events whose next attempt is due, oldest first.

    On PostgreSQL the rows are locked ``FOR UPDATE SKIP LOCKED``, so concurrent senders do
    not wait on each other's rows; SQLite ignores the clause. Reading an event here does not
    claim it: a sender claims with :func:`claim_outbox`.
    """
    stmt = (
        select(OutboxEvent)
        .where(*_due(now))
        .order_by(OutboxEvent.next_attempt_at, OutboxEvent.created)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return list(session.scalars(stmt))


def claim_outbox(
    session: Session, *, now: dt.datetime, lease: dt.timedelta, candidates: int = 8
) -> OutboxEvent | None:
    """Claim the oldest due event for one delivery attempt, or ``None`` when none is due.

    The claim hides the event from other senders for ``lease`` by moving its next attempt to
    ``now + lease``; recording the outcome (:func:`mark_delivered`, :func:`mark_failed`)
    replaces that. A sender that dies before recording leaves the claim to run out: the event
    is due again after ``lease``.

    Design note: the claim is one conditional ``UPDATE … SET next_attempt_at = now + lease
    WHERE id = ? AND <still due at now>`` whose row count says whether this sender won, so it
    is atomic on every backend. ``SELECT … FOR UPDATE SKIP LOCKED`` alone is not: SQLite
    ignores it, and Python's sqlite3 driver ran the SELECT outside the transaction, so two
    ``serve --workers 2`` processes both read an event as due and both sent it (issue 11,
    item 5). On PostgreSQL the loser of a race waits for the winner's row lock, then finds
    the row no longer due (READ COMMITTED re-checks the WHERE clause) and tries the next
    candidate.
    """
    for candidate in due_outbox(session, now=now, limit=candidates):
        claimed = session.execute(
            update(OutboxEvent)
            .where(OutboxEvent.id == candidate.id, *_due(now))
            .values(next_attempt_at=now + lease)
            .execution_options(synchronize_session=False)
        )
        if claimed.rowcount == 1:  # type: ignore[attr-defined]
            session.refresh(candidate)
            return candidate
    return None


def mark_delivered(
    session: Session, *, event: OutboxEvent, now: dt.datetime | None = None
) -> OutboxEvent:
    """Record a successful attempt (the recipient has the event); it is never sent again."""
    event.attempts += 1
    event.delivered_at = now or utcnow()
    event.next_attempt_at = None
    session.flush()
    return event


def mark_failed(
    session: Session,
    *,
    event: OutboxEvent,
    error: str,
    now: dt.datetime | None = None,
    base: dt.timedelta = BACKOFF_BASE,
    cap: dt.timedelta = BACKOFF_CAP,
    deadline: dt.timedelta = RETRY_DEADLINE,
) -> OutboxEvent:
    """Record a failed attempt and schedule the next one with exponential backoff.

    When the next attempt would fall after ``created + deadline`` the event is abandoned
    instead (``abandoned_at`` set, no next attempt).
    """
    now = now or utcnow()
    event.attempts += 1
    event.last_error = error
    following = now + backoff_delay(event.attempts, base=base, cap=cap)
    if following > event.created + deadline:
        event.abandoned_at, event.next_attempt_at = now, None
    else:
        event.next_attempt_at = following
    session.flush()
    return event
