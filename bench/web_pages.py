"""Web application benchmark: how long the engineers' pages take with 10,000 footprints stored.

Issue 16 asks that pages render in under 300 ms with 10,000 footprints stored. This measures it
the way a person meets it: ``openpcf web`` (uvicorn, one process) in its own process group on a
loopback port, on a throwaway PostgreSQL cluster started as the test suite starts one
(``tests/postgres.py``; ``OPENPCF_BENCH_DATABASE_URL`` uses an existing database, whose
``public`` schema is wiped) holding ``size`` PACT footprints of one organisation over 100
products (:func:`bench.api._populate`, as the PACT host benchmark), and one engineer who signs
in through the login form.

Each page is requested :data:`REQUESTS` times, one request at a time after one warm-up request
(a person waits for one page; this is latency, not throughput), and must answer 200. Reported
per page: p50, p95 and maximum in ms, the answer's size, and whether p95 is under the goal
(:data:`GOAL_MS`). The page list covers every query shape of the product pages: the first and
the last page of the list in each sort order (``ORDER BY`` over 10,000 rows), a product page, its
PACT JSON, the factor search and the account page.

    python -m bench.run --only web        # → bench/results/web.json
"""

from __future__ import annotations

import datetime as dt
import os
import platform
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from bench.api import _populate, _postgres
from bench.api_load import _stop_host

NAME = "web"
DEFAULT_SIZE = 10_000
REQUESTS = int(os.environ.get("OPENPCF_BENCH_WEB_REQUESTS", "40"))
GOAL_MS = 300.0
EMAIL = "engineer@bench.example"
PASSWORD = "bench-password-not-secret"
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def _add_engineer(url: str) -> None:
    """The engineer who signs in, a member of the populated organisation ("Bench Co")."""
    from openpcf.db import repositories as repo
    from openpcf.db.engine import make_engine, session_scope

    engine = make_engine(url)
    try:
        with session_scope(engine, write=True) as session:
            organisation = repo.ensure_organisation(session, name="Bench Co")
            account = repo.create_web_user(session, email=EMAIL, name="Bench", password=PASSWORD)
            repo.add_membership(session, user=account, organisation=organisation, role="engineer")
    finally:
        engine.dispose()


def _start_web(url: str, home: Path, port: int) -> subprocess.Popen[bytes]:
    """``openpcf web`` in its own process group; waits until the login page answers."""
    env = {**os.environ, "OPENPCF_HOME": str(home), "OPENPCF_DATABASE_URL": url}
    home.mkdir(parents=True, exist_ok=True)
    command = [sys.executable, "-m", "openpcf", "web", "--host", "127.0.0.1", "--port", str(port)]
    log = (home / "web.log").open("wb")
    process = subprocess.Popen(
        command, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if process.poll() is not None:
            tail = (home / "web.log").read_text(errors="replace")[-3000:]
            raise RuntimeError(f"openpcf web exited with {process.returncode}:\n{tail}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/login", timeout=2).status_code == 200:
                return process
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    _stop_host(process)
    raise RuntimeError("openpcf web did not answer within 90 s")


def _sign_in(client: httpx.Client) -> None:
    page = client.get("/login")
    found = _CSRF.search(page.text)
    if found is None:
        raise RuntimeError("no CSRF token on the login page")
    answer = client.post(
        "/login", data={"email": EMAIL, "password": PASSWORD, "csrf_token": found.group(1)}
    )
    if answer.status_code != 303:
        raise RuntimeError(f"sign-in answered {answer.status_code}")


def _pages(ids: list[str], size: int, rng: random.Random) -> dict[str, str]:
    from openpcf.services.web_products import PER_PAGE

    last = max(1, -(-size // PER_PAGE))
    one = rng.choice(ids)
    return {
        "list, first page (by name)": "/products",
        "list, last page (by name)": f"/products?page={last}",
        "list, first page (by total, descending)": "/products?sort=total&order=desc",
        "list, last page (by total)": f"/products?sort=total&order=asc&page={last}",
        "list, newest first": "/products?sort=created&order=desc",
        "product page": f"/products/{one}",
        "product PACT JSON": f"/products/{one}/pact.json",
        "factor search (zh)": "/factors?q=%E9%92%A2",
        "factor search (en)": "/factors?q=aluminium",
        "account": "/account",
    }


def _time(client: httpx.Client, path: str) -> dict[str, Any]:
    first = client.get(path)  # warm-up, and the answer's size
    if first.status_code != 200:
        raise RuntimeError(f"GET {path} answered {first.status_code}")
    times: list[float] = []
    for _ in range(REQUESTS):
        began = time.perf_counter()
        answer = client.get(path)
        times.append((time.perf_counter() - began) * 1000)
        if answer.status_code != 200:
            raise RuntimeError(f"GET {path} answered {answer.status_code}")
    times.sort()
    p95 = times[min(len(times) - 1, round(0.95 * (len(times) - 1)))]
    return {
        "path": path,
        "requests": REQUESTS,
        "p50_ms": statistics.median(times),
        "p95_ms": p95,
        "max_ms": times[-1],
        "bytes": len(first.content),
        "under_goal": p95 < GOAL_MS,
    }


def run(*, size: int = DEFAULT_SIZE, repeat: int = 3, seed: int = 20_240_601) -> dict[str, Any]:
    """Time the engineers' pages with ``size`` footprints stored (``repeat`` is unused: each
    page is requested :data:`REQUESTS` times)."""
    rng = random.Random(seed)
    existing = os.environ.get("OPENPCF_BENCH_DATABASE_URL")
    pg = _postgres()
    cluster = None
    work = Path(tempfile.mkdtemp(prefix="openpcf-bench-web-"))
    process = None
    try:
        if existing:
            pg.reset_database(existing)
            url = existing
        else:
            cluster = pg.start_cluster()
            url = cluster.url()
        began = time.perf_counter()
        _, _, ids = _populate(url, size, rng)
        _add_engineer(url)
        populate_s = time.perf_counter() - began
        port = pg.free_port()
        process = _start_web(url, work / "home", port)
        load_before = os.getloadavg()
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
            _sign_in(client)
            pages = {name: _time(client, path) for name, path in _pages(ids, size, rng).items()}
        load_after = os.getloadavg()
    finally:
        if process is not None:
            _stop_host(process)
        if cluster is not None:
            cluster.stop()
        shutil.rmtree(work, ignore_errors=True)
    return {
        "name": NAME,
        "size": size,
        "seed": seed,
        "when": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "database": "postgresql (existing)" if existing else "postgresql (throwaway cluster)",
        "command": "python -m bench.run --only web",
        "goal_ms_p95": GOAL_MS,
        "populate_s": populate_s,
        "machine": {
            "platform": platform.platform(),
            "cpu_count": os.cpu_count(),
            "loadavg_before": [round(x, 2) for x in load_before],
            "loadavg_after": [round(x, 2) for x in load_after],
            "client": "same machine (httpx, one request at a time, keep-alive)",
        },
        "pages": pages,
        "all_under_goal": all(p["under_goal"] for p in pages.values()),
    }


def format_table(result: dict[str, Any]) -> str:
    lines = [
        f"web pages with {result['size']:,} footprints ({result['database']}), "
        f"goal p95 < {result['goal_ms_p95']:.0f} ms",
        f"{'page':<42} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8} {'bytes':>9}",
    ]
    for name, page in result["pages"].items():
        lines.append(
            f"{name:<42} {page['p50_ms']:>8.1f} {page['p95_ms']:>8.1f} {page['max_ms']:>8.1f} "
            f"{page['bytes']:>9,}{'' if page['under_goal'] else '  over goal'}"
        )
    return "\n".join(lines)
