"""Run the Alembic migrations from Python, wherever the current directory is.

The Alembic configuration is built in code and points at the ``migrations`` folder inside the
installed package, so no ``alembic.ini`` and no particular working directory are needed.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.exc import OperationalError

from openpcf.db.concurrency import is_transient
from openpcf.db.engine import SQLITE_BUSY_TIMEOUT_MS, begin_write, make_engine, normalise_url
from openpcf.db.errors import SchemaOutdatedError, StorageError

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(url: str | None = None) -> Config:
    """An Alembic configuration for this package's migrations (and ``url``, if given)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    if url:
        # ConfigParser interpolation: a literal % in a password must be doubled.
        config.set_main_option("sqlalchemy.url", normalise_url(url).replace("%", "%%"))
    return config


def upgrade(url: str | None = None, revision: str = "head") -> None:
    """Migrate the database at ``url`` (default: the configured one) up to ``revision``.

    A database already at the head revision is left alone without taking the write lock
    (every ``openpcf publish`` on SQLite calls this first; 20 of them in parallel would
    otherwise queue twice for the lock).
    """
    if revision == "head":
        head = heads()
        if current(url) in head:
            return
        _run(url, lambda config: command.upgrade(config, revision), done=head)
        return
    _run(url, lambda config: command.upgrade(config, revision))


def downgrade(url: str | None, revision: str) -> None:
    """Migrate the database at ``url`` down to ``revision`` (``"base"`` drops every table)."""
    _run(url, lambda config: command.downgrade(config, revision))


def heads() -> tuple[str, ...]:
    """The head revision(s) of the migration scripts (one, unless branches were left unmerged)."""
    return tuple(ScriptDirectory.from_config(alembic_config()).get_heads())


def current(url: str | None = None) -> str | None:
    """The revision the database at ``url`` is at; ``None`` for an empty database."""
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()
    finally:
        engine.dispose()


def require_current(url: str | None = None) -> None:
    """Raise :class:`SchemaOutdatedError` unless the database is at the head revision."""
    at, head = current(url), heads()
    if at not in head:
        raise SchemaOutdatedError(
            f"the database is at revision {at or '(empty)'}, this OpenPCF needs "
            f"{', '.join(head)}; run `openpcf storage upgrade` first"
        )


def _run(url: str | None, action: object, *, done: tuple[str, ...] = ()) -> None:
    """Run ``action`` on one connection, in one transaction, unless the database is already at
    one of the revisions ``done`` once this process holds the write lock.

    On SQLite the transaction holds the write lock from its start (``BEGIN IMMEDIATE``,
    :func:`~openpcf.db.engine.begin_write`), so DDL runs inside it (Python's sqlite3 driver
    would otherwise run each CREATE outside any transaction) and processes that migrate one
    new file at once (20 parallel ``openpcf publish`` on a fresh home) take turns: the first
    creates the schema, the others find it at the head revision and do nothing (checked with
    the lock held, before Alembic loads its scripts, so each waits only for the first).
    """
    engine = make_engine(url)
    config = alembic_config(url)
    try:
        with engine.begin() as connection:
            begin_write(connection)
            # a process that waited while another migrated finds the work done: it leaves
            # at once instead of loading every migration script while holding the lock
            if done and MigrationContext.configure(connection).get_current_revision() in done:
                return
            config.attributes["connection"] = connection
            action(config)  # type: ignore[operator]
    except OperationalError as e:
        if not is_transient(e):
            raise
        raise StorageError(
            f"the database is busy: another process held its write lock for more than "
            f"{SQLITE_BUSY_TIMEOUT_MS / 1000:g} s while this one waited to migrate it; "
            "try again"
        ) from e
    finally:
        engine.dispose()
