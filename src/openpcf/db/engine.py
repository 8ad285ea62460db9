"""Engines and transactions.

The database URL is configuration, read here at the storage edge: ``OPENPCF_DATABASE_URL``
(e.g. ``postgresql+psycopg://user@host/openpcf``), else a SQLite file in ``OPENPCF_HOME``.
Every write happens inside :func:`session_scope`: one transaction, committed on success and
rolled back on any exception.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
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
        Path(parsed.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, **kwargs)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=5000")
    finally:
        cursor.close()


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """A session in one transaction: commit when the block ends, roll back if it raises.

    Objects stay usable after the commit (``expire_on_commit=False``) so that callers can read
    what they stored without another round trip.
    """
    with Session(engine, expire_on_commit=False) as session, session.begin():
        yield session
