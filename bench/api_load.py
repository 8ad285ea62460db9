"""PACT host throughput: GetFootprint and ListFootprints (limit 100) under load, for a duration.

Goal (issue 17, item 5): with 10,000 footprints in PostgreSQL, 2 cores and TLS, GetFootprint
≥ 1,000 requests/s with p99 < 50 ms and ListFootprints (limit 100) ≥ 300 requests/s.

Setup (``run``): a throwaway PostgreSQL cluster started by the test suite's helper
(``tests/postgres.py``, loaded by :func:`bench.api._postgres`; ``OPENPCF_BENCH_DATABASE_URL``
uses an existing database instead, whose ``public`` schema is wiped), migrated, with ``size``
footprints stored through :func:`openpcf.db.repositories.publish_footprint` (the spec's
example 2 with new ids over 100 products, each footprint of a product with its own reference
period: one Active footprint per product and period, :func:`bench.api._populate`, which ends
with ``VACUUM ANALYZE``), all granted to one API
client with the PACT scopes ``footprint:list footprint:read``. The host is started exactly as an
operator would: ``openpcf serve --dev-cert --host 127.0.0.1 --port <free> --workers N``
(uvicorn, TLS with a self-signed certificate made for the run in a temporary
``$OPENPCF_HOME/tls``), the token comes from ``POST /auth/token``.

Load: one asyncio process (on uvloop when it is installed) with ``concurrency`` HTTP/1.1
keep-alive connections (:class:`Connection`: TLS verified against the run's certificate, one
request in flight on each, the answer read by its ``Content-Length``).
Each action is driven for ``WARMUP_S`` seconds (not counted) and then ``DURATION_S`` seconds;
``repeat`` such runs, the median by throughput is reported. Every answer must be 200 and carry
the asked id (GetFootprint: the id's bytes in the body; every ``CHECK_EVERY``-th answer is
parsed and ``data.id`` compared; ListFootprints: every ``CHECK_EVERY``-th page is parsed and
must hold 100 footprints and a ``next`` link), else the run fails.

The load generator shares the machine's cores with the host (and PostgreSQL); the CPU seconds
each used are recorded next to the figures (``*_cpu_s``; ``postgres_cpu_s``: the cluster's
server and backends), with the host's and the generator's CPU milliseconds per request, which
other load on the machine disturbs far less than requests/s, and the load average before and
after the run.

Knobs (environment): ``OPENPCF_BENCH_WORKERS`` (default: the CPU count),
``OPENPCF_BENCH_CONCURRENCY`` (default 32), ``OPENPCF_BENCH_DURATION`` (seconds, default 10),
``OPENPCF_BENCH_WARMUP`` (seconds, default 3), ``OPENPCF_BENCH_SERVE_ARGS`` (more ``openpcf
serve`` options; default ``--no-access-log``, ``--access-log`` measures with the access log).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import importlib.metadata
import json
import os
import platform
import random
import re
import resource
import shlex
import shutil
import ssl
import subprocess
import sys
import tempfile
import time
from collections.abc import Coroutine
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import httpx

from bench.api import _populate, _postgres

NAME = "api"
DEFAULT_SIZE = 10_000
CONCURRENCY = int(os.environ.get("OPENPCF_BENCH_CONCURRENCY", "32"))
DURATION_S = float(os.environ.get("OPENPCF_BENCH_DURATION", "10"))
WARMUP_S = float(os.environ.get("OPENPCF_BENCH_WARMUP", "3"))
#: Parse every n-th answer in full (the others: status and the id's bytes).
CHECK_EVERY = 10
PAGE = 100
#: The longest status line and headers an answer may have.
MAX_HEAD = 64 * 1024
GOALS = {"get": {"requests_per_s": 1000.0, "p99_ms": 50.0}, "list": {"requests_per_s": 300.0}}
_VERSIONS = (
    "openpcf",
    "uvicorn",
    "uvloop",
    "httptools",
    "h11",
    "fastapi",
    "starlette",
    "httpx",
    "sqlalchemy",
    "psycopg",
)


_T = TypeVar("_T")


class LoadError(RuntimeError):
    """An answer was not 200 or did not carry what was asked: the run fails."""


def _serve_args() -> list[str]:
    return shlex.split(os.environ.get("OPENPCF_BENCH_SERVE_ARGS", "--no-access-log"))


def _workers() -> int:
    return int(os.environ.get("OPENPCF_BENCH_WORKERS") or os.cpu_count() or 1)


# --------------------------------------------------------------------------------------------
# the host


def _start_host(
    url: str, home: Path, port: int, workers: int
) -> tuple[subprocess.Popen[bytes], Path]:
    """``openpcf serve --dev-cert`` in its own process group; waits until it answers."""
    from openpcf.services.pact.tls import dev_certificate

    cert = dev_certificate(home / "tls").cert  # serve reuses it; the generator trusts it
    env = {**os.environ, "OPENPCF_HOME": str(home), "OPENPCF_DATABASE_URL": url}
    command = [sys.executable, "-m", "openpcf", "serve", "--dev-cert", "--host", "127.0.0.1"]
    command += ["--port", str(port), "--workers", str(workers), *_serve_args()]
    log = (home / "serve.log").open("wb")
    process = subprocess.Popen(
        command, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    context = ssl.create_default_context(cafile=cert)
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if process.poll() is not None:
            tail = (home / "serve.log").read_text(errors="replace")[-3000:]
            raise RuntimeError(f"openpcf serve exited with {process.returncode}:\n{tail}")
        try:
            answer = httpx.get(f"https://127.0.0.1:{port}/3/footprints", verify=context, timeout=2)
            if answer.status_code in (400, 401):  # up (no token sent)
                return process, cert
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    _stop_host(process)
    raise RuntimeError("openpcf serve did not answer within 90 s")


def _stop_host(process: subprocess.Popen[bytes]) -> None:
    """End the serve process group this bench started (uvicorn's workers are in it)."""
    try:
        os.killpg(process.pid, 15)
        process.wait(30)
    except ProcessLookupError:
        pass
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, 9)
        process.wait(10)


def _group_cpu_s(pgid: int) -> float:
    """User + system CPU seconds of the live processes in process group ``pgid`` (Linux)."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid:  # field 5 of stat: pgrp
            total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / tick


def _own_cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _postgres_cpu_s(postmaster: int | None) -> float | None:
    """CPU seconds of the throwaway cluster's server and its backends, the live ones and those
    that have ended (``None``: an existing database, whose server may be elsewhere).

    A backend's CPU leaves its ``stat`` when it ends (a connection closed, an autovacuum
    worker done); the postmaster's ``cutime``/``cstime`` hold it from then on, so the total
    never goes down as a backend ends.
    """
    if postmaster is None:
        return None
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(entry.name) == postmaster:  # fields 14-17: utime, stime, cutime, cstime
            total += sum(int(f) for f in fields[11:15])
        elif int(fields[1]) == postmaster:  # field 4: ppid
            total += int(fields[11]) + int(fields[12])
    return total / tick


# --------------------------------------------------------------------------------------------
# the load


def _percentile(ordered: list[float], q: float) -> float:
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


@dataclass(frozen=True, slots=True)
class Answer:
    """One HTTP answer as the generator read it."""

    target: str
    status: int
    headers: dict[str, str]  # names in lower case; a repeated header keeps its last value
    content: bytes

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", errors="replace")

    def json(self) -> Any:
        return json.loads(self.content)


class Connection:
    """One HTTP/1.1 keep-alive connection over TLS, one request in flight.

    Design note: the generator shares the host's two cores, so every CPU millisecond it spends
    is one the host does not get. httpx spent 1.1 ms of CPU per GetFootprint (its pool, h11
    and ``asyncio``'s pure-Python TLS layer); this client writes the request line and headers
    itself and reads the answer by its ``Content-Length`` (the host sends no chunked
    answers: one is refused), on uvloop's TLS when uvloop is installed. It still verifies the
    host's certificate and checks every answer as before (:func:`_check_get`,
    :func:`_check_list`).
    """

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, head: bytes):
        self._reader = reader
        self._writer = writer
        self._head = head  # Host and Authorization lines, ending with the blank line

    @classmethod
    async def open(cls, host: str, port: int, context: ssl.SSLContext, token: str) -> Connection:
        reader, writer = await asyncio.open_connection(
            host, port, ssl=context, server_hostname=host, limit=MAX_HEAD
        )
        head = f"Host: {host}:{port}\r\nAuthorization: Bearer {token}\r\n"
        head += "Accept: application/json\r\n\r\n"
        return cls(reader, writer, head.encode("ascii"))

    async def get(self, target: str) -> Answer:
        """``GET target`` and its whole answer."""
        self._writer.write(b"GET " + target.encode("ascii") + b" HTTP/1.1\r\n" + self._head)
        head = await self._reader.readuntil(b"\r\n\r\n")
        status_line, *lines = head[:-4].decode("latin-1").split("\r\n")
        headers = {}
        for line in lines:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        if "content-length" not in headers:
            raise LoadError(f"GET {target}: an answer without Content-Length ({status_line})")
        content = await self._reader.readexactly(int(headers["content-length"]))
        if headers.get("connection", "").lower() == "close":
            raise LoadError(f"GET {target}: the host closed the connection ({status_line})")
        return Answer(target, int(status_line.split(" ", 2)[1]), headers, content)

    async def close(self) -> None:
        self._writer.close()
        with contextlib.suppress(OSError, ssl.SSLError):
            await self._writer.wait_closed()


async def _drive(
    connections: list[Connection],
    action: str,
    ids: list[str],
    rng: random.Random,
    *,
    pages: list[str],
    seconds: float,
) -> dict[str, Any]:
    """``concurrency`` loops sending ``action`` requests for ``seconds``; checks every answer.

    ``pages``: the targets of the list's pages that have a next page (:func:`_page_targets`).
    """
    latencies: list[float] = []
    errors: list[str] = []
    stop = time.perf_counter() + seconds

    async def loop(connection: Connection) -> None:
        n = 0
        while time.perf_counter() < stop:
            n += 1
            if action == "get":
                pf_id = rng.choice(ids)
                began = time.perf_counter()
                answer = await connection.get(f"/3/footprints/{pf_id}")
                latencies.append(time.perf_counter() - began)
                _check(errors, _check_get, answer, pf_id, full=n % CHECK_EVERY == 0)
            else:
                target = rng.choice(pages)  # a full page with a next page
                began = time.perf_counter()
                answer = await connection.get(target)
                latencies.append(time.perf_counter() - began)
                _check(errors, _check_list, answer, full=n % CHECK_EVERY == 0)

    began, cpu = time.perf_counter(), _own_cpu_s()
    await asyncio.gather(*(loop(connection) for connection in connections))
    wall, cpu = time.perf_counter() - began, _own_cpu_s() - cpu
    if errors:
        raise LoadError(
            f"{len(errors)} of {len(latencies)} {action} answers were wrong, e.g.: "
            + "; ".join(errors[:3])
        )
    latencies.sort()
    return {
        "requests": len(latencies),
        "errors": len(errors),  # always 0: a run with errors fails
        "seconds": wall,
        "requests_per_s": len(latencies) / wall,
        "p50_ms": 1000 * _percentile(latencies, 0.50),
        "p95_ms": 1000 * _percentile(latencies, 0.95),
        "p99_ms": 1000 * _percentile(latencies, 0.99),
        "max_ms": 1000 * latencies[-1] if latencies else float("nan"),
        "generator_cpu_s": cpu,
    }


def _check(errors: list[str], check: Any, *args: Any, **kwargs: Any) -> None:
    """Run ``check``; count its complaint instead of stopping the other connections."""
    try:
        check(*args, **kwargs)
    except (LoadError, ValueError, KeyError, TypeError) as e:
        errors.append(str(e))


def _check_get(answer: Answer, pf_id: str, *, full: bool) -> None:
    if answer.status != 200:
        raise LoadError(f"GET {answer.target} answered {answer.status}: {answer.text[:300]}")
    if pf_id.encode() not in answer.content:
        raise LoadError(f"GET {answer.target}: the body does not name {pf_id}")
    if full and answer.json()["data"]["id"] != pf_id:
        raise LoadError(f"GET {answer.target} answered another footprint")


def _check_list(answer: Answer, *, full: bool) -> None:
    if answer.status != 200:
        raise LoadError(f"GET {answer.target} answered {answer.status}: {answer.text[:300]}")
    if full:
        data = answer.json()["data"]
        if len(data) != PAGE or not all(isinstance(d.get("id"), str) for d in data):
            raise LoadError(f"GET {answer.target}: {len(data)} footprints, not {PAGE}")
        if 'rel="next"' not in answer.headers.get("link", ""):
            raise LoadError(f"GET {answer.target}: no next link")


_NEXT = re.compile(r'<https?://[^/>]+(/[^>]*)>;\s*rel="next"')


async def _page_targets(connection: Connection) -> list[str]:
    """The targets (path and query) of every ListFootprints page of ``PAGE`` that has a next
    page, found by following the ``next`` links from the first page: a page is named by the
    cursor in its link (keyset pagination), so a random page is one of these."""
    targets: list[str] = []
    target = f"/3/footprints?limit={PAGE}"
    while True:
        answer = await connection.get(target)
        _check_list(answer, full=False)
        found = _NEXT.search(answer.headers.get("link", ""))
        if found is None:
            return targets
        targets.append(target)
        target = found.group(1)


async def _measure(
    port: int,
    cert: Path,
    token: str,
    ids: list[str],
    rng: random.Random,
    *,
    repeat: int,
    pgid: int,
    postmaster: int | None,
) -> dict[str, Any]:
    context = ssl.create_default_context(cafile=cert)
    results: dict[str, Any] = {}
    connections = [
        await Connection.open("127.0.0.1", port, context, token) for _ in range(CONCURRENCY)
    ]
    try:
        pages = await _page_targets(connections[0])
        for action in ("get", "list"):
            await _drive(connections, action, ids, rng, pages=pages, seconds=WARMUP_S)
            runs = []
            for _ in range(max(1, repeat)):
                host_cpu, pg_cpu = _group_cpu_s(pgid), _postgres_cpu_s(postmaster)
                r = await _drive(connections, action, ids, rng, pages=pages, seconds=DURATION_S)
                r["host_cpu_s"] = _group_cpu_s(pgid) - host_cpu
                pg_after = _postgres_cpu_s(postmaster)
                r["postgres_cpu_s"] = None if pg_after is None else pg_after - (pg_cpu or 0.0)
                # CPU per request: the figure that other load on the machine disturbs least
                r["host_cpu_ms_per_request"] = 1000 * r["host_cpu_s"] / max(1, r["requests"])
                r["generator_cpu_ms_per_request"] = (
                    1000 * r["generator_cpu_s"] / max(1, r["requests"])
                )
                runs.append(r)
            runs.sort(key=lambda r: r["requests_per_s"])
            results[action] = {
                **runs[len(runs) // 2],
                "runs": len(runs),
                "all_requests_per_s": [round(r["requests_per_s"], 1) for r in runs],
                "total_requests": sum(r["requests"] for r in runs),
            }
            goal = GOALS[action]
            median = results[action]
            results[action]["goal"] = goal
            results[action]["goal_met"] = median["requests_per_s"] >= goal["requests_per_s"] and (
                "p99_ms" not in goal or median["p99_ms"] < goal["p99_ms"]
            )
    finally:
        for connection in connections:
            await connection.close()
    return results


def _loop_name() -> str:
    try:
        return f"uvloop {importlib.metadata.version('uvloop')}"
    except importlib.metadata.PackageNotFoundError:
        return "asyncio"


def _run_load(coroutine: Coroutine[Any, Any, _T]) -> _T:
    """Run the generator on uvloop when it is installed (the ``fast`` extra), else asyncio."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(coroutine)
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        return runner.run(coroutine)


def _token(base: str, cert: Path, client_id: str, secret: str) -> str:
    answer = httpx.post(
        f"{base}/auth/token",
        auth=(client_id, secret),
        data={"grant_type": "client_credentials"},
        verify=ssl.create_default_context(cafile=cert),
        timeout=30,
    )
    if answer.status_code != 200:
        raise LoadError(f"/auth/token answered {answer.status_code}: {answer.text[:300]}")
    token: str = answer.json()["access_token"]
    return token


def _versions(url: str) -> dict[str, str]:
    out = {"python": platform.python_version()}
    for name in _VERSIONS:
        try:
            out[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            out[name] = "not installed"
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    try:
        with engine.connect() as c:
            out["postgresql"] = str(c.execute(text("SHOW server_version")).scalar())
    finally:
        engine.dispose()
    return out


def run(*, size: int = DEFAULT_SIZE, repeat: int = 3, seed: int = 20_240_601) -> dict[str, Any]:
    """Drive GetFootprint and ListFootprints on a host with ``size`` footprints."""
    rng = random.Random(seed)
    existing = os.environ.get("OPENPCF_BENCH_DATABASE_URL")
    pg = _postgres()
    cluster = None
    work = Path(tempfile.mkdtemp(prefix="openpcf-bench-load-"))
    process = None
    workers = _workers()
    try:
        postmaster = None
        if existing:
            pg.reset_database(existing)
            url = existing
        else:
            cluster = pg.start_cluster()
            url = cluster.url()
            postmaster = int((cluster.data_dir / "postmaster.pid").read_text().split()[0])
        began = time.perf_counter()
        client_id, secret, ids = _populate(url, size, rng)
        populate_s = time.perf_counter() - began
        port = pg.free_port()
        process, cert = _start_host(url, work / "home", port, workers)
        base = f"https://127.0.0.1:{port}"
        token = _token(base, cert, client_id, secret)
        load_before = os.getloadavg()
        results = _run_load(
            _measure(
                port, cert, token, ids, rng, repeat=repeat, pgid=process.pid, postmaster=postmaster
            )
        )
        load_after = os.getloadavg()
        versions = _versions(url)
    finally:
        if process is not None:
            _stop_host(process)
        if cluster is not None:
            cluster.stop()
        shutil.rmtree(work, ignore_errors=True)
    return {
        "name": NAME,
        "size": size,
        "repeat": repeat,
        "seed": seed,
        "when": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "database": "postgresql (existing)" if existing else "postgresql (throwaway cluster)",
        "command": "python -m bench.run --only api",
        "concurrency": CONCURRENCY,
        "workers": workers,
        "serve_options": _serve_args(),
        "warmup_s": WARMUP_S,
        "duration_s": DURATION_S,
        "populate_s": populate_s,
        "machine": {
            "platform": platform.platform(),
            "cpu_count": os.cpu_count(),
            "loadavg_before": [round(x, 2) for x in load_before],
            "loadavg_after": [round(x, 2) for x in load_after],
            "generator": f"same machine, same cores (one process, {_loop_name()}, "
            "bench.api_load.Connection)",
        },
        "versions": versions,
        "results": results,
    }


def format_table(result: dict[str, Any]) -> str:
    head = (
        f"PACT host throughput: {result['size']} footprints in {result['database']}, "
        f"openpcf serve --workers {result['workers']} "
        f"{' '.join(result.get('serve_options', []))} over TLS on loopback, "
        f"{result['concurrency']} connections, {result['machine']['cpu_count']} CPUs shared "
        f"with the generator, median of {result['repeat']} x {result['duration_s']:g} s"
    )
    cols = ("action", "requests", "req/s", "p50 ms", "p95 ms", "p99 ms", "errors", "goal")
    names = {"get": "GET /3/footprints/{id}", "list": "GET /3/footprints?limit=100"}
    body = [
        (
            names[name],
            str(r["requests"]),
            f"{r['requests_per_s']:.1f}",
            f"{r['p50_ms']:.1f}",
            f"{r['p95_ms']:.1f}",
            f"{r['p99_ms']:.1f}",
            str(r["errors"]),
            "met" if r["goal_met"] else "NOT met",
        )
        for name, r in result["results"].items()
    ]
    widths = [max(len(x[i]) for x in (cols, *body)) for i in range(len(cols))]
    line = "  ".join("-" * w for w in widths)
    out = [head, line, "  ".join(c.ljust(w) for c, w in zip(cols, widths, strict=True)), line]
    out += ["  ".join(c.ljust(w) for c, w in zip(b, widths, strict=True)) for b in body]
    out.append(line)
    cpu = "; ".join(
        f"{n}: host {r['host_cpu_s']:.1f} s ({r['host_cpu_ms_per_request']:.2f} ms a request), "
        f"postgres {r['postgres_cpu_s'] or 0:.1f} s, generator {r['generator_cpu_s']:.1f} s "
        f"({r['generator_cpu_ms_per_request']:.2f} ms a request)"
        for n, r in result["results"].items()
    )
    out.append(f"CPU during the reported run: {cpu}")
    out.append(
        f"database populated in {result['populate_s']:.1f} s; load average before "
        f"{result['machine']['loadavg_before']}"
    )
    return "\n".join(out)


if __name__ == "__main__":  # pragma: no cover
    print(json.dumps(run(), indent=2))
