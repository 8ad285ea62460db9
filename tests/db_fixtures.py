"""Database fixtures: every test that asks for ``db_url`` or ``engine`` runs on SQLite and on
PostgreSQL (the second marked ``postgres``; deselect it with ``-m "not postgres"``).

Load them from ``tests/conftest.py`` with ``pytest_plugins = ["db_fixtures"]``. One throwaway
PostgreSQL cluster serves the whole session (see :mod:`postgres`); each test gets an empty
``public`` schema on it, and a fresh SQLite file in its own temporary folder.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

from postgres import EXISTING_URL_VARIABLE, ClusterUnavailableError, reset_database, start_cluster

if TYPE_CHECKING:
    from pathlib import Path

    from sqlalchemy import Engine

_started_in: list[float] = []


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """URL of the session's PostgreSQL test database (skips when PostgreSQL is unavailable)."""
    existing = os.environ.get(EXISTING_URL_VARIABLE)
    if existing:
        yield existing
        return
    try:
        cluster = start_cluster()
    except ClusterUnavailableError as e:
        pytest.skip(f"PostgreSQL tests skipped: {e}")
    _started_in.append(cluster.started_in)
    try:
        yield cluster.url()
    finally:
        cluster.stop()


@pytest.fixture(
    params=[
        pytest.param("sqlite", id="sqlite"),
        pytest.param("postgresql", id="postgresql", marks=pytest.mark.postgres),
    ]
)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database: a SQLite file, then the PostgreSQL test database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'test.db'}"
    url: str = request.getfixturevalue("postgres_url")
    reset_database(url)
    return url


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    """An engine on ``db_url`` migrated to the head revision."""
    from openpcf.db import migrate
    from openpcf.db.engine import make_engine

    migrate.upgrade(db_url)
    engine = make_engine(db_url)
    try:
        yield engine
    finally:
        engine.dispose()


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    for seconds in _started_in:
        terminalreporter.write_line(f"PostgreSQL test cluster started in {seconds:.2f} s")
