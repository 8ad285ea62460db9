"""Write transactions that stay correct when several processes write at once.

:func:`write_transaction` runs a unit of work in one write transaction
(:func:`~openpcf.db.engine.session_scope` with ``write=True``) and, when the database refuses it
because a concurrent transaction won a race, rolls it back and runs it again on fresh data,
a bounded number of times with a small jittered backoff.

Design note: the guarantees live in the database, not in a read-then-write. The partial
unique index ``uq_footprint_one_active`` (migration 0002) refuses a second Active footprint of
a product and reference period, the unique organisation name refuses a second organisation,
the primary key a second footprint with the same id. A transaction that loses such a race gets
a unique violation (or a :class:`~openpcf.db.errors.WriteConflictError` a repository made of
one); it cannot be repaired inside the transaction, because what it read is stale, so the
whole unit of work runs again and reads the winner's rows. On SQLite the write lock taken at
``BEGIN IMMEDIATE`` already serialises writers, so retries are rare there (a lock wait longer
than the busy timeout); on PostgreSQL retries also cover serialisation failures and
deadlocks. The backoff is "full jitter" (a uniform wait between 0 and 10 ms · 2^(k−1), at
most 0.5 s) so that losers of one race do not collide again in lockstep.

The unit of work must only touch the database: it may run several times.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

from sqlalchemy.exc import DBAPIError

from openpcf.db.engine import session_scope
from openpcf.db.errors import WriteConflictError

if TYPE_CHECKING:
    from sqlalchemy import Engine
    from sqlalchemy.orm import Session

log = logging.getLogger(__name__)

T = TypeVar("T")

#: Runs of the unit of work before :func:`write_transaction` gives up.
WRITE_ATTEMPTS = 8
#: Upper bound of the first backoff (seconds); it doubles per attempt up to the cap.
RETRY_BACKOFF = 0.01
RETRY_BACKOFF_CAP = 0.5

#: PostgreSQL SQLSTATEs of a lost race: unique_violation, serialization_failure,
#: deadlock_detected, lock_not_available.
_PG_TRANSIENT = frozenset({"23505", "40001", "40P01", "55P03"})
#: SQLite extended result codes of a lost race (Python 3.11+ names them on the exception).
_SQLITE_UNIQUE = frozenset({"SQLITE_CONSTRAINT_UNIQUE", "SQLITE_CONSTRAINT_PRIMARYKEY"})


def is_unique_violation(error: BaseException) -> bool:
    """Whether ``error`` is a database refusing a duplicate key (unique index or primary key)."""
    if not isinstance(error, DBAPIError):
        return False
    orig = error.orig
    sqlstate = getattr(orig, "sqlstate", None)  # psycopg 3
    if sqlstate is not None:
        return bool(sqlstate == "23505")
    return getattr(orig, "sqlite_errorname", "") in _SQLITE_UNIQUE


def is_transient(error: BaseException) -> bool:
    """Whether running the transaction again may succeed: it lost a race with another writer.

    That is a :class:`WriteConflictError`, a unique violation, SQLite's "database is locked"
    (``SQLITE_BUSY``/``SQLITE_LOCKED``, after the busy timeout), and PostgreSQL's
    serialisation failure, deadlock and lock timeout. Anything else (a foreign key, a check
    constraint, a bug) fails at once.
    """
    if isinstance(error, WriteConflictError):
        return True
    if not isinstance(error, DBAPIError):
        return False
    orig = error.orig
    sqlstate = getattr(orig, "sqlstate", None)
    if sqlstate is not None:
        return sqlstate in _PG_TRANSIENT
    name = str(getattr(orig, "sqlite_errorname", ""))
    return name in _SQLITE_UNIQUE or name.startswith(("SQLITE_BUSY", "SQLITE_LOCKED"))


def write_transaction(
    engine: Engine,
    work: Callable[[Session], T],
    *,
    what: str = "the write",
    attempts: int = WRITE_ATTEMPTS,
    rng: random.Random | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> T:
    """``work(session)`` in one write transaction, run again when a concurrent writer won.

    ``what`` names the operation in the error message. ``rng`` draws the jittered backoff
    (default: a fresh :class:`random.Random`); ``sleep`` waits (tests pass a recorder).

    Raises
    ------
    WriteConflictError
        Every one of the ``attempts`` runs lost a race; the message says what to do next.
        Errors that are not races (:func:`is_transient` is false) propagate at once.
    """
    if attempts < 1:
        raise ValueError(f"attempts must be >= 1, not {attempts}")
    rng = rng or random.Random()
    for attempt in range(1, attempts + 1):
        try:
            with session_scope(engine, write=True) as session:
                return work(session)
        except (DBAPIError, WriteConflictError) as e:
            if not is_transient(e):
                raise
            if attempt == attempts:
                reason = e.orig if isinstance(e, DBAPIError) else e
                raise WriteConflictError(
                    f"{what} collided with concurrent writers {attempts} times and was given "
                    f"up; nothing was stored. Run it again (last conflict: {reason})"
                ) from e
            delay = rng.uniform(0, min(RETRY_BACKOFF_CAP, RETRY_BACKOFF * 2 ** (attempt - 1)))
            log.info("%s lost a race (attempt %d): %s; retrying", what, attempt, e)
            sleep(delay)
    raise AssertionError("unreachable")  # pragma: no cover
