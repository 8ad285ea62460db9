"""A throwaway PostgreSQL cluster for the test suite, started from the installed binaries.

:func:`start_cluster` runs ``initdb`` into a fresh temporary folder (trust authentication, no
fsync: the data is thrown away), starts the server with ``pg_ctl`` on a free TCP port of
127.0.0.1 and a private Unix socket folder, and creates one database. PostgreSQL refuses to
run as root, so under root every command runs as the ``postgres`` OS user through ``runuser``
and the folder is handed to that user.

``OPENPCF_TEST_DATABASE_URL`` skips all of this and uses an existing server instead (a CI
service container, say); the tests wipe the ``public`` schema of that database.

:class:`TemplateDatabases` gives each test a migrated database of its own without migrating
per test: the session migrates one template database once, and each test gets
``CREATE DATABASE … TEMPLATE`` of it. Measured on the 2-core development machine (PostgreSQL
15, fsync off, one migration script): 30 ms a test, against 70 ms for wiping the ``public``
schema and migrating again; dropping each copy straight after its test would cost 100 ms a
test (a ``DROP DATABASE`` slows the next ``CREATE DATABASE`` down), so copies are dropped in
batches.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

DATABASE = "openpcf_test"
EXISTING_URL_VARIABLE = "OPENPCF_TEST_DATABASE_URL"


class ClusterUnavailableError(Exception):
    """PostgreSQL cannot be used here; the message says why (tests skip with it, or fail on CI:
    see ``tests/db_fixtures.py``)."""


@dataclass
class Cluster:
    """A running throwaway cluster; :meth:`stop` ends it and deletes its files."""

    root: Path
    port: int
    prefix: tuple[str, ...]  # ("runuser", "-u", "postgres", "--") under root
    started_in: float  # seconds, initdb + start + CREATE DATABASE

    @property
    def data_dir(self) -> Path:
        return self.root / "data"

    def url(self, database: str = DATABASE) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def stop(self) -> None:
        try:
            _run([*self.prefix, "pg_ctl", "-D", str(self.data_dir), "-m", "immediate", "stop"])
        finally:
            shutil.rmtree(self.root, ignore_errors=True)


def free_port() -> int:
    """A TCP port of 127.0.0.1 that was free a moment ago (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def check_available() -> None:
    """Raise :class:`ClusterUnavailableError` when psycopg or the server binaries are missing."""
    try:
        import psycopg  # noqa: F401
    except ImportError as e:
        raise ClusterUnavailableError(f"psycopg is not importable: {e}") from e
    missing = [b for b in ("initdb", "pg_ctl") if shutil.which(b) is None]
    if missing:
        raise ClusterUnavailableError(f"{' and '.join(missing)} not found on PATH: no PostgreSQL")
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            raise ClusterUnavailableError(
                "running as root and there is no 'postgres' OS user to run the server as"
            ) from None
        if shutil.which("runuser") is None:
            raise ClusterUnavailableError("running as root and runuser is not available")


def start_cluster() -> Cluster:
    """initdb, start and create the test database; raises :class:`ClusterUnavailableError`."""
    check_available()
    began = time.perf_counter()
    root = Path(tempfile.mkdtemp(prefix="openpcf-pg-"))
    prefix: tuple[str, ...] = ()
    if os.geteuid() == 0:
        prefix = ("runuser", "-u", "postgres", "--")
        user = pwd.getpwnam("postgres")
        os.chown(root, user.pw_uid, user.pw_gid)
    data, sockets, log = root / "data", root / "sock", root / "server.log"
    try:
        _run([*prefix, "mkdir", str(sockets)])
        initdb = ("initdb", "-D", str(data), "-A", "trust", "-U", "postgres", "--no-sync")
        _run([*prefix, *initdb, "-E", "UTF8", "--locale=C"])
        port = free_port()
        options = f"-p {port} -k {sockets} -c listen_addresses=127.0.0.1 -c fsync=off"
        options += " -c synchronous_commit=off -c full_page_writes=off"
        try:
            pg_ctl = ("pg_ctl", "-D", str(data), "-l", str(log), "-o", options)
            _run([*prefix, *pg_ctl, "-w", "-t", "60", "start"])
        except RuntimeError as e:
            tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
            raise RuntimeError(f"{e}\nserver log:\n{tail}") from None
        cluster = Cluster(root=root, port=port, prefix=prefix, started_in=0.0)
        create_database(cluster.url("postgres"), DATABASE)
    except BaseException:
        if (data / "postmaster.pid").exists():
            subprocess.run(
                [*prefix, "pg_ctl", "-D", str(data), "-m", "immediate", "stop"],
                capture_output=True,
                check=False,
            )
        shutil.rmtree(root, ignore_errors=True)
        raise
    cluster.started_in = time.perf_counter() - began
    return cluster


def create_database(admin_url: str, name: str) -> None:
    import psycopg

    with psycopg.connect(_dsn(admin_url), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')


def with_database(url: str, name: str) -> str:
    """``url`` with its database name replaced by ``name``."""
    from sqlalchemy.engine import make_url

    return make_url(url).set(database=name).render_as_string(hide_password=False)


class TemplateDatabases:
    """Migrated databases for tests, copied from one template database migrated once.

    ``url`` is a database the session may connect to (the throwaway cluster's test database or
    ``OPENPCF_TEST_DATABASE_URL``); the template and the copies are created next to it, named
    after this process so that two sessions can share a server. Without the ``CREATEDB``
    privilege, :meth:`clone` falls back to wiping ``url``'s ``public`` schema and migrating it.
    """

    def __init__(self, url: str, migrate: Callable[[str], None], *, batch: int = 25) -> None:
        import psycopg

        self.url = url
        self.migrate = migrate
        self.batch = batch
        self.template = f"openpcf_template_{os.getpid()}"
        self.cloned = 0
        self._pending: list[str] = []
        self._conn = psycopg.connect(_dsn(url), autocommit=True)
        # FILE_COPY (PostgreSQL 15+) copies the files instead of writing them all to the WAL
        self._strategy = " STRATEGY FILE_COPY" if self._conn.info.server_version >= 150000 else ""
        self.copies = True
        began = time.perf_counter()
        try:
            self._conn.execute(f'DROP DATABASE IF EXISTS "{self.template}"')
            self._conn.execute(f'CREATE DATABASE "{self.template}"')
        except psycopg.errors.InsufficientPrivilege:
            self.copies = False
        else:
            migrate(with_database(url, self.template))
        self.prepared_in = time.perf_counter() - began

    def clone(self) -> str:
        """URL of a new database at the head revision (drop it with :meth:`release`)."""
        self.cloned += 1
        if not self.copies:
            reset_database(self.url)
            self.migrate(self.url)
            return self.url
        name = f"openpcf_test_{os.getpid()}_{self.cloned}"
        self._conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{self.template}"{self._strategy}')
        return with_database(self.url, name)

    def release(self, url: str) -> None:
        """The test that had ``url`` is over: drop the database, in batches (see above)."""
        if not self.copies:
            return
        from sqlalchemy.engine import make_url

        self._pending.append(str(make_url(url).database))
        if len(self._pending) >= self.batch:
            self._drop_pending()

    def close(self) -> None:
        """Drop the copies not dropped yet and the template."""
        try:
            if self.copies:
                self._drop_pending()
                self._conn.execute(f'DROP DATABASE IF EXISTS "{self.template}" WITH (FORCE)')
        finally:
            self._conn.close()

    def _drop_pending(self) -> None:
        while self._pending:
            name = self._pending.pop()
            # FORCE: connections a test left open (its own engines) are ended
            self._conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def reset_database(url: str) -> None:
    """Drop every table, type and the Alembic version of ``url`` (schema ``public``)."""
    import psycopg

    with psycopg.connect(_dsn(url), autocommit=True) as conn:
        conn.execute("DROP SCHEMA public CASCADE")
        conn.execute("CREATE SCHEMA public")


def _dsn(url: str) -> str:
    """A libpq URL for psycopg from a SQLAlchemy one."""
    return url.replace("postgresql+psycopg://", "postgresql://")


def _run(args: list[str]) -> None:
    done = subprocess.run(args, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(
            f"{' '.join(args)} failed ({done.returncode}):\n{done.stdout}{done.stderr}"
        )
