"""Migrations: one head; upgrade → downgrade to base → upgrade; the models match the scripts."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from openpcf.db import migrate
from openpcf.db.base import Base
from openpcf.db.engine import make_engine
from openpcf.db.errors import SchemaOutdatedError

TABLES = {
    "organisation",
    "api_client",
    "product",
    "calculation_record",
    "footprint",
    "footprint_key",
    "footprint_access",
    "event",
    "outbox_event",
    "pact_request",
    "supplier_footprint",
    "supplier_footprint_product",
    "scenario_footprint",
    "supplier_request",
    "sku",
    "evidence",
    "web_user",
    "web_membership",
    "web_session",
    "web_request_access",
    "web_verifier_grant",
    "web_invitation",
}


def tables(url: str) -> set[str]:
    engine = make_engine(url)
    try:
        return set(inspect(engine).get_table_names()) - {"alembic_version"}
    finally:
        engine.dispose()


def test_single_head() -> None:
    assert len(migrate.heads()) == 1


def test_upgrade_downgrade_upgrade(db_url: str) -> None:
    assert migrate.current(db_url) is None
    with pytest.raises(SchemaOutdatedError, match="storage upgrade"):
        migrate.require_current(db_url)
    migrate.upgrade(db_url)
    assert tables(db_url) == TABLES
    assert migrate.current(db_url) == migrate.heads()[0]
    migrate.require_current(db_url)
    migrate.downgrade(db_url, "base")
    assert tables(db_url) == set()
    assert migrate.current(db_url) is None
    migrate.upgrade(db_url)
    assert tables(db_url) == TABLES


def test_models_match_the_migrations(db_url: str) -> None:
    """Autogenerate finds nothing to do: the scripts create exactly what the models declare."""
    migrate.upgrade(db_url)
    engine = make_engine(db_url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            assert compare_metadata(context, Base.metadata) == []
    finally:
        engine.dispose()


def test_migrations_do_not_depend_on_the_working_directory(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    migrate.upgrade(db_url)
    assert migrate.current(db_url) == migrate.heads()[0]
