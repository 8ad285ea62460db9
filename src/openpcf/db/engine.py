"""Engines and transactions.

The database URL is configuration, read here at the storage edge: ``OPENPCF_DATABASE_URL``
(e.g. ``postgresql+psycopg://user@host/openpcf``), else a SQLite file in ``OPENPCF_HOME``.
Every write happens inside :func:`session_scope`: one transaction, committed on success and
rolled back on any exception.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session


def database_url() -> str:
    """The configured database URL (``OPENPCF_DATABASE_URL``, default SQLite in the home)."""
    from openpcf.settings import get_settings

    return get_settings().database_url


def normalise_url(url: str) -> str:
    """Use psycopg 3 for a bare ``postgresql://`` URL (psycopg2 is not a dependency)."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def make_engine(url: str | None = None, **kwargs: Any) -> Engine:
    """An engine for ``url`` (default :func:`database_url`).

    SQLite: the file's folder is created, and every connection gets ``PRAGMA foreign_keys=ON``
    (SQLite ignores foreign keys otherwise) and a busy timeout so that a second writer waits
    instead of failing at once.
    """
    url = normalise_url(url or database_url())
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        create_private_file(Path(parsed.database).expanduser())
    engine = create_engine(url, **kwargs)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def create_private_file(path: Path) -> None:
    """Create ``path`` (and its folder) readable by its owner only, whatever the umask.

    The SQLite file holds client-secret hashes and every footprint: 0600 from its first byte
    (created here before SQLite opens it; SQLite gives its ``-wal``/``-journal`` files the
    database file's mode). An existing file keeps its mode.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    except FileExistsError:
        return
    os.fchmod(fd, 0o600)
    os.close(fd)


#: How long a SQLite connection waits for another connection's lock before it fails with
#: "database is locked" (milliseconds). Write transactions hold the lock for milliseconds
#: (publishing one footprint: about 8 ms, median on the 2-core development machine), so the
#: wait covers many writers queueing at once; a longer wait is retried where it matters
#: (:func:`openpcf.db.concurrency.write_transaction`).
SQLITE_BUSY_TIMEOUT_MS = 5000


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    finally:
        cursor.close()


@contextmanager
def session_scope(engine: Engine, *, write: bool = False) -> Iterator[Session]:
    """A session in one transaction: commit when the block ends, roll back if it raises.

    Objects stay usable after the commit (``expire_on_commit=False``) so that callers can read
    what they stored without another round trip. ``write=True`` takes the database's write
    lock when the transaction begins (:func:`begin_write`): use it for a transaction that
    reads and then writes what it read, so that no other writer changes the rows in between.
    """
    with Session(engine, expire_on_commit=False) as session, session.begin():
        if write:
            begin_write(session.connection())
        yield session


def begin_write(connection: Connection) -> None:
    """Start ``connection``'s transaction holding SQLite's write lock (``BEGIN IMMEDIATE``).

    Design note: Python's sqlite3 driver (in its default, "legacy" transaction mode) runs a
    transaction's SELECTs before its first INSERT/UPDATE outside any transaction and sends a
    deferred ``BEGIN`` only before that first write. Two processes could therefore both read
    "no Active footprint" (or "outbox event due") and both write: 20 parallel ``openpcf
    publish`` of one product left 7 Active footprints before migration 0002 (issue 11), and
    with its unique index 8 of the 20 crashed (measured on the 2-core development machine);
    3 outbox senders sent 5 to 15 of 40 answers twice.
    ``BEGIN IMMEDIATE`` takes the RESERVED lock first, so write transactions run one after
    the other and each reads what the previous one committed; readers are not blocked (the
    rollback journal lets them read until the writer commits), and a writer that finds the
    lock taken waits up to :data:`SQLITE_BUSY_TIMEOUT_MS` in SQLite's busy handler. A
    deferred transaction would be worse than a wait: when it upgrades a read lock to a write
    lock while another writer commits, SQLite answers "database is locked" at once, without
    calling the busy handler, to avoid a deadlock. WAL mode was not chosen: it needs shared
    memory next to the file (no network file systems) and changes nothing for writers, which
    are what needs serialising here.

    PostgreSQL needs nothing here: its writers lock the rows they change (and
    :func:`~openpcf.db.repositories.upsert_product` the organisation's row), and the
    constraints refuse what a race would leave behind. Call this first in a transaction; it
    does nothing on a connection that is already inside a transaction.
    """
    if connection.dialect.name != "sqlite":
        return
    driver = connection.connection.dbapi_connection
    if driver is not None and not driver.in_transaction:
        connection.exec_driver_sql("BEGIN IMMEDIATE")
