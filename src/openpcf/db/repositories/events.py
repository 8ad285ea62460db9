"""Inbound events (replays refused) and the outbox of outgoing events (retried with backoff)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from openpcf.db.base import utcnow
from openpcf.db.errors import ReplayedEventError
from openpcf.db.models import ApiClient, Event, Organisation, OutboxEvent
from openpcf.errors import InputError

# --------------------------------------------------------------------------------------------
# inbound events


def record_event(
    session: Session,
    *,
    event_id: str,
    source: str,
    type: str,
    payload: Mapping[str, Any],
    client: ApiClient | None = None,
    received: dt.datetime | None = None,
) -> Event:
    """Store an inbound CloudEvent; the same ``(source, id)`` again is a replay.

    Raises :class:`ReplayedEventError` for a replay. The insert runs in a savepoint, so a
    replay racing past the check leaves the caller's transaction usable.
    """
    if not event_id or not source:
        raise InputError("an event needs a non-empty id and source (CloudEvents 1.0)")
    replay = ReplayedEventError(f"event {event_id!r} from {source!r} was received before")
    seen = select(Event.id).where(Event.source == source, Event.event_id == event_id)
    if session.scalar(seen) is not None:
        raise replay
    record = Event(
        event_id=event_id,
        source=source,
        type=type,
        payload=dict(payload),
        client_id=client.id if client else None,
        received=received or utcnow(),
    )
    try:
        with session.begin_nested():
            session.add(record)
    except IntegrityError:
        raise replay from None
    return record


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


def due_outbox(session: Session, *, now: dt.datetime, limit: int = 100) -> list[OutboxEvent]:
    """Undelivered, unabandoned events whose next attempt is due, oldest first.

    On PostgreSQL the rows are locked ``FOR UPDATE SKIP LOCKED`` so that concurrent senders
    never pick the same event; SQLite (one writer at a time) ignores the clause.
    """
    stmt = (
        select(OutboxEvent)
        .where(
            OutboxEvent.delivered_at.is_(None),
            OutboxEvent.abandoned_at.is_(None),
            OutboxEvent.next_attempt_at <= now,
        )
        .order_by(OutboxEvent.next_attempt_at, OutboxEvent.created)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return list(session.scalars(stmt))


def mark_delivered(
    session: Session, *, event: OutboxEvent, now: dt.datetime | None = None
) -> OutboxEvent:
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
