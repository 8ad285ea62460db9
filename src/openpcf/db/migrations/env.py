"""Alembic environment: the models' metadata, batch mode on SQLite.

The connection comes from :func:`openpcf.db.migrate.upgrade` (``config.attributes``); when
Alembic's own command line runs this file, the URL is ``sqlalchemy.url`` of the ini file or
else :func:`openpcf.db.engine.database_url`.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection

from openpcf.db import models  # noqa: F401 - registers every table on the metadata
from openpcf.db.base import Base
from openpcf.db.engine import database_url, make_engine

config = context.config
target_metadata = Base.metadata


def _configure(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        # SQLite cannot ALTER most things: batch mode copies the table instead.
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )


def run_migrations_offline() -> None:
    context.configure(
        url=config.get_main_option("sqlalchemy.url") or database_url(),
        target_metadata=target_metadata,
        literal_binds=True,
        render_as_batch=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _configure(connection)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = make_engine(config.get_main_option("sqlalchemy.url") or database_url())
    try:
        with engine.connect() as connection:
            _configure(connection)
            with context.begin_transaction():
                context.run_migrations()
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
