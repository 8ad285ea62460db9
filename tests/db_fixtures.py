"""Database fixtures: every test that asks for ``db_url`` or ``engine`` runs on SQLite and on
PostgreSQL (the second marked ``postgres``; deselect it with ``-m "not postgres"``).

Load them from ``tests/conftest.py`` with ``pytest_plugins = ["db_fixtures"]``. One throwaway
PostgreSQL cluster serves the whole session (see :mod:`postgres`). When it cannot start, the
PostgreSQL tests skip, except on CI (``CI`` set to anything non-empty), where they fail.

- ``db_url`` is an *empty* database (for the tests of the migrations themselves): a fresh
  SQLite file in the test's temporary folder, or the cluster's test database with an emptied
  ``public`` schema.
- ``engine`` is on a database at the head revision, without running the migrations per test:
  the session migrates one SQLite file and one PostgreSQL template database once (on first
  use), and each test gets a copy of the file (``shutil.copyfile``) or a database created
  ``TEMPLATE`` the template (:class:`postgres.TemplateDatabases`).
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from postgres import (
    EXISTING_URL_VARIABLE,
    ClusterUnavailableError,
    TemplateDatabases,
    reset_database,
    start_cluster,
)

if TYPE_CHECKING:
    from sqlalchemy import Engine

_started_in: list[float] = []
_templates: list[TemplateDatabases] = []
_sqlite_migrated_in: list[float] = []


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """URL of the session's PostgreSQL test database.

    Skips when PostgreSQL is unavailable, or fails when ``CI`` is set: CI must run them.
    """
    existing = os.environ.get(EXISTING_URL_VARIABLE)
    if existing:
        yield existing
        return
    try:
        cluster = start_cluster()
    except ClusterUnavailableError as e:
        unavailable = str(e)
    else:
        unavailable = ""
    if unavailable and os.environ.get("CI"):
        pytest.fail(f"PostgreSQL tests cannot run on CI (CI is set): {unavailable}", pytrace=False)
    if unavailable:
        pytest.skip(f"PostgreSQL tests skipped: {unavailable}")
    _started_in.append(cluster.started_in)
    try:
        yield cluster.url()
    finally:
        cluster.stop()


@pytest.fixture(scope="session")
def postgres_templates(postgres_url: str) -> Iterator[TemplateDatabases]:
    """The session's PostgreSQL template database, migrated once."""
    from openpcf.db import migrate

    templates = TemplateDatabases(postgres_url, migrate.upgrade)
    _templates.append(templates)
    try:
        yield templates
    finally:
        templates.close()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file migrated to the head revision once per session (copy it, never open it)."""
    from openpcf.db import migrate

    began = time.perf_counter()
    path = tmp_path_factory.mktemp("sqlite-template") / "migrated.db"
    migrate.upgrade(f"sqlite:///{path}")
    _sqlite_migrated_in.append(time.perf_counter() - began)
    return path


@pytest.fixture
def migrated_sqlite(sqlite_template: Path) -> Callable[[Path], str]:
    """``copy(path)``: a SQLite database at the head revision at ``path``; returns its URL."""

    def copy(path: Path) -> str:
        path.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(sqlite_template, path)
        return f"sqlite:///{path}"

    return copy


@pytest.fixture(
    params=[
        pytest.param("sqlite", id="sqlite"),
        pytest.param("postgresql", id="postgresql", marks=pytest.mark.postgres),
    ]
)
def db_backend(request: pytest.FixtureRequest) -> str:
    """``"sqlite"`` or ``"postgresql"``: parametrises ``db_url`` and ``engine``."""
    backend: str = request.param
    return backend


@pytest.fixture
def db_url(db_backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database: a SQLite file, then the PostgreSQL test database."""
    if db_backend == "sqlite":
        return f"sqlite:///{tmp_path / 'test.db'}"
    url: str = request.getfixturevalue("postgres_url")
    reset_database(url)
    return url


@pytest.fixture
def migrated_db_url(
    db_backend: str, request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[str]:
    """A database of this test's own at the head revision (copied, not migrated)."""
    if db_backend == "sqlite":
        copy: Callable[[Path], str] = request.getfixturevalue("migrated_sqlite")
        yield copy(tmp_path / "test.db")
        return
    templates: TemplateDatabases = request.getfixturevalue("postgres_templates")
    url = templates.clone()
    try:
        yield url
    finally:
        templates.release(url)


@pytest.fixture
def engine(migrated_db_url: str) -> Iterator[Engine]:
    """An engine on a database migrated to the head revision."""
    from openpcf.db.engine import make_engine

    engine = make_engine(migrated_db_url)
    try:
        yield engine
    finally:
        engine.dispose()


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    for seconds in _started_in:
        terminalreporter.write_line(f"PostgreSQL test cluster started in {seconds:.2f} s")
    for seconds in _sqlite_migrated_in:
        terminalreporter.write_line(f"SQLite template migrated once in {seconds:.2f} s")
    for t in _templates:
        how = "copied from a template" if t.copies else "migrated per test (no CREATEDB)"
        terminalreporter.write_line(
            f"PostgreSQL template migrated in {t.prepared_in:.2f} s; "
            f"{t.cloned} test databases {how}"
        )
