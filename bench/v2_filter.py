"""PACT v2.3 ``$filter``: comparisons in SQL against filtering every document in Python.

Setup: a SQLite file migrated to head, ``size`` footprints (the spec's v3 example 1 with new
ids, ``created`` spread over ``size`` minutes and a reference period of one day each, of one
product with a CPC code so every one has a v2.3 form) of one data owner, granted to one API
client.

Measured, in one run: ``openpcf.services.pact.host.list_footprints(version="2")`` with
``$filter=created ge <moment>`` matching the newest 10 footprints (the comparison runs in SQL,
:meth:`~openpcf.services.pact.filter.V2Filter.prefilter`), against the previous algorithm as the
peer: load every footprint the client may see, map each to v2.3 and test the filter in Python.
Each figure is the median of ``repeat`` runs; the ratio is peer / ours.

A second row, on the same data: the first page of 100 of ``/2/footprints`` without a filter,
with every view remembered (:mod:`openpcf.services.pact.v2_views`) and with none remembered
(the cache emptied before each call), against the first page of 100 of ``/3/footprints``.
"""

from __future__ import annotations

import copy
import datetime as dt
import statistics
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

NAME = "v2_filter"
DEFAULT_SIZE = 10_000
MATCHES = 10


def run(*, size: int = DEFAULT_SIZE, repeat: int = 3, seed: int = 20_240_601) -> dict[str, Any]:
    from openpcf.db import migrate
    from openpcf.db import repositories as repo
    from openpcf.db.engine import make_engine, session_scope
    from openpcf.exchange.v2 import NotMappableError, v2_view
    from openpcf.services.pact.auth import TokenClaims
    from openpcf.services.pact.filter import parse_filter
    from openpcf.services.pact.host import list_footprints
    from openpcf.services.pact.v2_views import VIEWS

    start = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
    newest = start + dt.timedelta(minutes=size - MATCHES)
    query = f"created ge '{newest.strftime('%Y-%m-%dT%H:%M:%SZ')}'"
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'bench.db'}"
        migrate.upgrade(url)
        engine = make_engine(url)
        client_id = _seed(engine, size, start)
        claims = TokenClaims(
            client_id=client_id,
            scopes=("footprint:list", "footprint:read"),
            issued=start,
            expires=start + dt.timedelta(days=1),
            token_id="bench",
        )

        def ours() -> int:
            page = list_footprints(
                engine, claims=claims, version="2", params=[("$filter", query)], limit=100
            )
            return len(page.documents)

        def peer() -> int:  # the algorithm before issue 11: every document, filtered in Python
            wanted = parse_filter(query)
            with session_scope(engine) as session:
                client = repo.get_client(session, client_id=client_id)
                every = repo.list_footprints(session, client=client)
                found = []
                for fp in every.items:
                    try:
                        doc = v2_view(fp.document, cpc=fp.product.cpc)
                    except NotMappableError:
                        continue
                    if wanted.matches(doc):
                        found.append(doc)
            return len(found)

        def page(version: Any) -> Any:
            return lambda: list_footprints(engine, claims=claims, version=version, limit=100)

        def cold_v2_page() -> None:
            VIEWS.clear()
            page("2")()

        assert ours() == peer() == MATCHES
        ours_s = _median(ours, repeat)
        peer_s = _median(peer, repeat)
        v2_cold_s = _median(cold_v2_page, repeat)
        page("2")()  # the page's views remembered
        v2_s = _median(page("2"), repeat)
        v3_s = _median(page("3"), repeat)
        engine.dispose()
    return {
        "footprints": size,
        "matches": MATCHES,
        "filter": query,
        "openpcf_s": ours_s,
        "python_filter_s": peer_s,
        "speedup": peer_s / ours_s,
        "v2_page_s": v2_s,
        "v2_page_no_view_remembered_s": v2_cold_s,
        "v3_page_s": v3_s,
    }


def _seed(engine: Any, size: int, start: dt.datetime) -> str:
    from tests.fixtures.api_support import example

    from openpcf.db import repositories as repo
    from openpcf.db.engine import session_scope

    base = example(1)
    with session_scope(engine) as s:
        org = repo.create_organisation(s, name="Bench Co", company_ids=base["companyIds"])
        issued = repo.create_client(s, organisation=org, name="bench")
        product = repo.upsert_product(
            s, organisation=org, product_ids=base["productIds"], name="P", cpc="34110"
        )
        repo.grant_access(s, client=issued.client, product=product)
        day = dt.timedelta(days=1)
        for n in range(size):  # one Active footprint per reference period: a day each
            doc = copy.deepcopy(base)
            doc["id"] = str(uuid.uuid4())
            created = start + dt.timedelta(minutes=n)
            doc["created"] = created.strftime("%Y-%m-%dT%H:%M:%SZ")
            period = dt.datetime(1990, 1, 1, tzinfo=dt.UTC) + n * day
            doc["pcf"]["referencePeriodStart"] = period.strftime("%Y-%m-%dT%H:%M:%SZ")
            doc["pcf"]["referencePeriodEnd"] = (period + day).strftime("%Y-%m-%dT%H:%M:%SZ")
            doc["pcf"].pop("validityPeriodStart", None)
            doc.pop("validityPeriodStart", None)
            doc.pop("validityPeriodEnd", None)
            repo.publish_footprint(s, organisation=org, product=product, document=doc)
        return issued.client_id


def _median(fn: Any, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def format_table(result: dict[str, Any]) -> str:
    return (
        f"v2.3 $filter over {result['footprints']:,} footprints ({result['matches']} match): "
        f"OpenPCF {result['openpcf_s'] * 1000:.1f} ms, filtering in Python "
        f"{result['python_filter_s'] * 1000:.1f} ms, {result['speedup']:.0f}x\n"
        f"page of 100 without $filter: v2.3 {result['v2_page_s'] * 1000:.2f} ms "
        f"({result['v2_page_no_view_remembered_s'] * 1000:.2f} ms with no view remembered), "
        f"v3 {result['v3_page_s'] * 1000:.2f} ms"
    )
