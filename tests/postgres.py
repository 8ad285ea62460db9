"""A throwaway PostgreSQL cluster for the test suite, started from the installed binaries.

:func:`start_cluster` runs ``initdb`` into a fresh temporary folder (trust authentication, no
fsync: the data is thrown away), starts the server with ``pg_ctl`` on a free TCP port of
127.0.0.1 and a private Unix socket folder, and creates one database. PostgreSQL refuses to
run as root, so under root every command runs as the ``postgres`` OS user through ``runuser``
and the folder is handed to that user.

``OPENPCF_TEST_DATABASE_URL`` skips all of this and uses an existing server instead (a CI
service container, say); the tests wipe the ``public`` schema of that database.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

DATABASE = "openpcf_test"
EXISTING_URL_VARIABLE = "OPENPCF_TEST_DATABASE_URL"


class ClusterUnavailableError(Exception):
    """PostgreSQL cannot be used here; the message says why (tests skip with it)."""


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

    dsn = admin_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')


def reset_database(url: str) -> None:
    """Drop every table, type and the Alembic version of ``url`` (schema ``public``)."""
    import psycopg

    dsn = url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("DROP SCHEMA public CASCADE")
        conn.execute("CREATE SCHEMA public")


def _run(args: list[str]) -> None:
    done = subprocess.run(args, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(
            f"{' '.join(args)} failed ({done.returncode}):\n{done.stdout}{done.stderr}"
        )
