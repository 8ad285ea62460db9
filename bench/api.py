"""PACT host benchmark: requests/s and p50/p99 latency of token, list and get over HTTPS.

Setup: a throwaway PostgreSQL cluster started the way the test suite does
(``tests/postgres.py``; ``OPENPCF_BENCH_DATABASE_URL`` uses an existing database instead, whose
``public`` schema is wiped), migrated, with ``size`` footprints (PACT v3, the spec's example 2
with new ids, spread over 100 products) of one data owner, all granted to one API client. The
host runs as ``uvicorn openpcf.cli.serve:app_factory`` in a separate process (one worker, TLS
with a development certificate, outbox sender on) on a loopback port.

Load: a bounded asyncio loop with ``httpx.AsyncClient`` (HTTP/1.1 keep-alive, ``CONCURRENCY``
requests in flight) sends a fixed number of requests per measurement:

* ``token``: ``POST /auth/token`` with Basic credentials (each one verifies an scrypt hash:
  n=2^14, r=8, so this is CPU-bound by design);
* ``list``: ``GET`` of a random page of 100, one of the ``next`` link targets found by walking
  the list once before the measurement (the host pages by key: a page is named by its cursor);
* ``get``: ``GET /3/footprints/<random id>``.

Each measurement runs ``repeat`` times; the run with the median throughput is reported
(requests/s, p50 and p99 latency in ms). Every answer must be 200, or the run fails.
"""

from __future__ import annotations

import asyncio
import copy
import datetime as dt
import importlib.util
import json
import os
import platform
import random
import re
import shutil
import ssl
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

NAME = "api"
DEFAULT_SIZE = 10_000
CONCURRENCY = 16
#: Requests per measurement run.
REQUESTS = {"token": 200, "list": 1_000, "get": 3_000}
PRODUCTS = 100
_ROOT = Path(__file__).resolve().parents[1]
_EXAMPLE = _ROOT.parent / "shared" / "reference" / "pact" / "v3" / "examples" / "example-2.json"


def _template() -> dict[str, Any]:
    if _EXAMPLE.is_file():
        doc: dict[str, Any] = json.loads(_EXAMPLE.read_text(encoding="utf-8"))
        doc.pop("precedingPfIds", None)
        return doc
    return {  # a minimal valid v3 footprint when the spec's examples are not beside the repo
        "id": "",
        "specVersion": "3.0.0",
        "created": "2025-01-01T00:00:00Z",
        "status": "Active",
        "companyName": "Bench Co",
        "companyIds": ["urn:pact:bench.example:company:1"],
        "productDescription": "bench",
        "productIds": [],
        "productNameCompany": "bench",
        "pcf": {
            "declaredUnitOfMeasurement": "kilogram",
            "declaredUnitAmount": "1",
            "productMassPerDeclaredUnit": "1",
            "referencePeriodStart": "2024-01-01T00:00:00Z",
            "referencePeriodEnd": "2025-01-01T00:00:00Z",
            "pcfExcludingBiogenicUptake": "1.5",
            "pcfIncludingBiogenicUptake": "1.5",
            "fossilGhgEmissions": "1.5",
            "fossilCarbonContent": "0",
            "ipccCharacterizationFactors": ["AR6"],
            "crossSectoralStandards": ["ISO14067"],
            "exemptedEmissionsPercent": "0",
        },
    }


def _postgres() -> Any:
    """The test suite's cluster module (``tests/postgres.py``), loaded by path."""
    spec = importlib.util.spec_from_file_location(
        "openpcf_bench_pg", _ROOT / "tests" / "postgres.py"
    )
    if spec is None or spec.loader is None:  # pragma: no cover
        raise RuntimeError("tests/postgres.py not found")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def _shifted(doc: dict[str, Any], days: int) -> None:
    """Move the reference and validity periods of ``doc`` by ``days`` (all four moments)."""
    delta = dt.timedelta(days=days)
    for holder, name in (
        (doc["pcf"], "referencePeriodStart"),
        (doc["pcf"], "referencePeriodEnd"),
        (doc, "validityPeriodStart"),
        (doc, "validityPeriodEnd"),
    ):
        if name in holder:
            moment = dt.datetime.fromisoformat(holder[name].replace("Z", "+00:00"))
            holder[name] = (moment + delta).isoformat().replace("+00:00", "Z")


def _populate(url: str, size: int, rng: random.Random) -> tuple[str, str, list[str]]:
    """Migrate ``url`` and publish ``size`` footprints; the client's id, secret and the ids."""
    from openpcf.db import migrate
    from openpcf.db import repositories as repo
    from openpcf.db.engine import make_engine, session_scope

    migrate.upgrade(url)
    engine = make_engine(url)
    template = _template()
    ids: list[str] = []
    try:
        with session_scope(engine) as s:
            org = repo.create_organisation(s, name="Bench Co")
            issued = repo.create_client(s, organisation=org, name="bench")
            products = []
            for p in range(PRODUCTS):
                product = repo.upsert_product(
                    s,
                    organisation=org,
                    product_ids=[f"urn:pact:bench.example:product:{p}"],
                    name=f"product {p}",
                )
                repo.grant_access(s, client=issued.client, product=product)
                products.append(product)
            for i in range(size):
                doc = copy.deepcopy(template)
                doc["id"] = str(uuid.UUID(int=rng.getrandbits(128), version=4))
                _shifted(doc, i // PRODUCTS)
                product = products[i % PRODUCTS]
                doc["productIds"] = list(product.product_ids)
                repo.publish_footprint(s, organisation=org, product=product, document=doc)
                ids.append(doc["id"])
                if i % 1000 == 999:
                    s.flush()
                    s.expunge_all()
                    org = s.merge(org)
                    products = [s.merge(p) for p in products]
        # the planner's statistics, as autovacuum would gather them on a live host: without
        # them PostgreSQL sorts all 10,000 documents for every page (75 ms, measured)
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
            c.exec_driver_sql("VACUUM ANALYZE")
        return issued.client_id, issued.secret, ids
    finally:
        engine.dispose()


def _start_host(url: str, home: Path, port: int) -> tuple[subprocess.Popen[bytes], Path]:
    from openpcf.services.pact.tls import dev_certificate

    tls = dev_certificate(home / "tls")
    env = {**os.environ, "OPENPCF_HOME": str(home), "OPENPCF_DATABASE_URL": url}
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "openpcf.cli.serve:app_factory",
            "--factory",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--ssl-certfile",
            str(tls.cert),
            "--ssl-keyfile",
            str(tls.key),
            "--log-level",
            "warning",
            "--no-server-header",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    context = ssl.create_default_context(cafile=tls.cert)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            httpx.get(
                f"https://127.0.0.1:{port}/.well-known/openid-configuration",
                verify=context,
                timeout=2,
            )
            return process, tls.cert
        except httpx.HTTPError:
            if process.poll() is not None:
                raise RuntimeError("the PACT host did not start") from None
            time.sleep(0.2)
    process.terminate()
    raise RuntimeError("the PACT host did not start within 60 s")


_NEXT = re.compile(r'<https?://[^/>]+(/[^>]*)>;\s*rel="next"')
RequestMaker = Callable[[httpx.AsyncClient, int], Any]


async def _load(base: str, cert: Path, count: int, make: RequestMaker) -> dict[str, float]:
    """Send ``count`` requests with ``CONCURRENCY`` in flight; throughput and latencies."""
    context = ssl.create_default_context(cafile=cert)
    limits = httpx.Limits(max_connections=CONCURRENCY, max_keepalive_connections=CONCURRENCY)
    latencies: list[float] = []
    queue = iter(range(count))
    async with httpx.AsyncClient(base_url=base, verify=context, limits=limits, timeout=60) as c:

        async def worker() -> None:
            for i in queue:
                began = time.perf_counter()
                answer = await make(c, i)
                latencies.append(time.perf_counter() - began)
                if answer.status_code != 200:
                    raise RuntimeError(f"{answer.request.url} answered {answer.status_code}")

        began = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))
        wall = time.perf_counter() - began
    latencies.sort()
    return {
        "requests": count,
        "seconds": wall,
        "requests_per_s": count / wall,
        "p50_ms": 1000 * statistics.median(latencies),
        "p99_ms": 1000 * latencies[min(len(latencies) - 1, int(0.99 * len(latencies)))],
    }


def _page_targets(base: str, cert: Path, client_id: str, secret: str) -> list[str]:
    """The path and query of every ListFootprints page of 100, found by following the
    ``next`` links from the first page."""
    context = ssl.create_default_context(cafile=cert)
    with httpx.Client(base_url=base, verify=context, timeout=60) as c:
        grant = {"grant_type": "client_credentials"}
        token = c.post("/auth/token", auth=(client_id, secret), data=grant).json()
        headers = {"authorization": f"Bearer {token['access_token']}"}
        targets, target = [], "/3/footprints?limit=100"
        while target:
            targets.append(target)
            answer = c.get(target, headers=headers)
            answer.raise_for_status()
            found = _NEXT.search(answer.headers.get("link", ""))
            target = found.group(1) if found else ""
    return targets


def _measurements(
    client_id: str, secret: str, ids: list[str], pages: list[str], rng: random.Random
) -> dict[str, tuple[int, RequestMaker]]:
    grant = {"grant_type": "client_credentials"}
    targets = [rng.choice(pages) for _ in range(REQUESTS["list"])]
    picks = [rng.choice(ids) for _ in range(REQUESTS["get"])]
    token: dict[str, str] = {}

    def bearer() -> dict[str, str]:
        return {"authorization": f"Bearer {token['value']}"}

    async def do_token(c: httpx.AsyncClient, i: int) -> httpx.Response:
        answer = await c.post("/auth/token", auth=(client_id, secret), data=grant)
        token.setdefault("value", answer.json().get("access_token", ""))
        return answer

    async def do_list(c: httpx.AsyncClient, i: int) -> httpx.Response:
        return await c.get(targets[i], headers=bearer())

    async def do_get(c: httpx.AsyncClient, i: int) -> httpx.Response:
        return await c.get(f"/3/footprints/{picks[i]}", headers=bearer())

    return {
        "token": (REQUESTS["token"], do_token),
        "list": (REQUESTS["list"], do_list),
        "get": (REQUESTS["get"], do_get),
    }


def run(*, size: int = DEFAULT_SIZE, repeat: int = 3, seed: int = 20_240_601) -> dict[str, Any]:
    """Measure token, list (limit 100) and get on a host with ``size`` footprints."""
    rng = random.Random(seed)
    existing = os.environ.get("OPENPCF_BENCH_DATABASE_URL")
    pg = _postgres()
    cluster = None
    work = Path(tempfile.mkdtemp(prefix="openpcf-bench-api-"))
    process = None
    try:
        if existing:
            pg.reset_database(existing)
            url = existing
        else:
            cluster = pg.start_cluster()
            url = cluster.url()
        began = time.perf_counter()
        client_id, secret, ids = _populate(url, size, rng)
        populate_s = time.perf_counter() - began
        port = pg.free_port()
        process, cert = _start_host(url, work / "home", port)
        base = f"https://127.0.0.1:{port}"
        results: dict[str, Any] = {}
        pages = _page_targets(base, cert, client_id, secret)
        for name, (count, make) in _measurements(client_id, secret, ids, pages, rng).items():
            runs = [asyncio.run(_load(base, cert, count, make)) for _ in range(max(1, repeat))]
            runs.sort(key=lambda r: r["requests_per_s"])
            results[name] = {
                **runs[len(runs) // 2],
                "runs": len(runs),
                "all_requests_per_s": [r["requests_per_s"] for r in runs],
            }
    finally:
        if process is not None:
            process.terminate()
            process.wait(30)
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
        "concurrency": CONCURRENCY,
        "populate_s": populate_s,
        "machine": {
            "platform": platform.platform(),
            "cpu_count": os.cpu_count(),
            "python": platform.python_version(),
        },
        "results": results,
    }


def format_table(result: dict[str, Any]) -> str:
    head = (
        f"PACT host benchmark: {result['size']} footprints in {result['database']}, HTTPS on "
        f"loopback, {result['concurrency']} requests in flight, {result['machine']['cpu_count']} "
        f"CPUs, median run of {result['repeat']}"
    )
    cols = ("action", "requests", "req/s", "p50 ms", "p99 ms")
    body = [
        (
            {
                "token": "POST /auth/token",
                "list": "GET /3/footprints?limit=100",
                "get": "GET /3/footprints/{id}",
            }[name],
            str(r["requests"]),
            f"{r['requests_per_s']:.1f}",
            f"{r['p50_ms']:.1f}",
            f"{r['p99_ms']:.1f}",
        )
        for name, r in result["results"].items()
    ]
    widths = [max(len(x[i]) for x in (cols, *body)) for i in range(len(cols))]
    line = "  ".join("-" * w for w in widths)
    out = [head, line, "  ".join(c.ljust(w) for c, w in zip(cols, widths, strict=True)), line]
    out += ["  ".join(c.ljust(w) for c, w in zip(b, widths, strict=True)) for b in body]
    out.append(line)
    out.append(f"database populated in {result['populate_s']:.1f} s")
    return "\n".join(out)
