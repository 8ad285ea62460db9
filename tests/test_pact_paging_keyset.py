"""Issue 17: ListFootprints pages by key, not by offset (``cursor=`` in the ``next`` link).

* 253 footprints of client A (the 3 seeded ones and 250 more) walked in pages of 100 are
  100 + 100 + 53, every id exactly once, in the order stored, in v3 and in v2.3.
* A footprint published between page 1 and page 2 is listed exactly once, at the end.
* A malformed, oversized, non-canonical, tampered, other-version or other-filter cursor, and
  ``offset=``, answer 400 with the PACT BadRequest body, on ``/3`` and on ``/2``.
* A cursor only positions: client B (and C, of another organisation) following A's link sees
  only its own footprints.
* The statement of a page after a key starts an index range scan of
  ``ix_footprint_organisation_stored_product`` at the key, on SQLite (EXPLAIN QUERY PLAN) and
  on PostgreSQL (EXPLAIN), instead of walking or sorting the organisation's rows.

Runs on SQLite and PostgreSQL (the ``engine`` fixture).
"""

from __future__ import annotations

import base64
import copy
import datetime as dt
import random
import re
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, event

from fixtures.api_host import Host, serve_host
from fixtures.api_support import check_error, check_list, example, visible
from openpcf.db import repositories as repo
from openpcf.db.engine import session_scope
from openpcf.db.repositories.footprints import PageKey
from openpcf.services.pact.cursor import decode_cursor, encode_cursor, query_digest

LINK = re.compile(r'<https://pact\.test(.*)>;\s*rel="next"')
PAGING_PRODUCT = "urn:pact:example.com:product-id:paging"


@pytest.fixture
def host(engine: Engine, tmp_path: Path) -> Iterator[Host]:
    yield from serve_host(engine, tmp_path)


def _shifted(doc: dict[str, Any], days: int) -> None:
    """Move the reference and validity periods of ``doc`` by ``days`` (one Active footprint
    per product and reference period)."""
    for holder, name in (
        (doc["pcf"], "referencePeriodStart"),
        (doc["pcf"], "referencePeriodEnd"),
        (doc, "validityPeriodStart"),
        (doc, "validityPeriodEnd"),
    ):
        moment = dt.datetime.fromisoformat(holder[name].replace("Z", "+00:00"))
        holder[name] = (moment + dt.timedelta(days=days)).isoformat().replace("+00:00", "Z")


def publish(host: Host, count: int, *, first: int = 0) -> list[str]:
    """Publish ``count`` footprints of one product (with a CPC code: a v2.3 form) granted to
    client A; their ids (random, so not in the order stored), in the order published."""
    rng = random.Random(first)
    ids = []
    with session_scope(host.engine) as s:
        org = repo.get_organisation(s, name="Supplier Co")
        product = repo.upsert_product(
            s, organisation=org, product_ids=[PAGING_PRODUCT], name="Paging", cpc="34110"
        )
        client = repo.get_client(s, client_id=host.seeded.creds["A"][0])
        repo.grant_access(s, client=client, product=product)
        for n in range(first, first + count):
            doc = copy.deepcopy(example(1))
            doc["id"] = str(uuid.UUID(int=rng.getrandbits(128), version=4))
            doc["productIds"] = [PAGING_PRODUCT]
            _shifted(doc, n)
            repo.publish_footprint(s, organisation=org, product=product, document=doc)
            ids.append(doc["id"])
    return ids


def page(host: Host, url: str, who: str = "A") -> tuple[list[str], str | None]:
    """The ids of one page and the path of the next (``None``: the last page)."""
    answer = host.get(url, who)
    assert answer.status_code == 200, answer.text
    link = LINK.match(answer.headers.get("link", ""))
    return [d["id"] for d in answer.json()["data"]], link.group(1) if link else None


def walk(host: Host, url: str) -> list[list[str]]:
    pages = []
    next_url: str | None = url
    while next_url is not None:
        ids, next_url = page(host, next_url)
        pages.append(ids)
    return pages


def test_250_footprints_in_pages_of_100_each_once_in_order(host: Host) -> None:
    """A sees e1, old2, e2 (published in this order by the seed) and the 250: 253 footprints,
    pages of 100, 100 and 53, in v3 and in v2.3 (the v2.3 list is filled in batches of 200
    rows: the second page starts within the first batch and ends in the second)."""
    ids = host.seeded.ids
    new = publish(host, 250)
    pages = walk(host, "/3/footprints?limit=100")
    assert [len(p) for p in pages] == [100, 100, 53]
    assert [i for p in pages for i in p] == [ids["e1"], ids["old2"], ids["e2"], *new]
    pages = walk(host, "/2/footprints?limit=100")
    assert [len(p) for p in pages] == [100, 100, 53]
    assert [i for p in pages for i in p] == [ids["e1"], ids["old2"], ids["e2"], *new]


@pytest.mark.parametrize("version", ["3", "2"])
def test_a_footprint_published_while_paging_is_listed_once(host: Host, version: str) -> None:
    """Page 1 of 2 of the 5 (e1, old2, e2 and 2 new), then one more footprint published: the
    walk goes on to list it exactly once, last (6 footprints)."""
    publish(host, 2)
    first, next_url = page(host, f"/{version}/footprints?limit=2")
    assert next_url is not None
    (late,) = publish(host, 1, first=1000)
    rest = walk(host, next_url)
    seen = first + [i for p in rest for i in p]
    assert seen.count(late) == 1
    assert seen[-1] == late
    assert len(seen) == len(set(seen)) == 6


def _forged(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).rstrip(b"=").decode()


@pytest.mark.parametrize("version", ["3", "2"])
def test_bad_cursors_and_offsets_are_bad_requests(host: Host, version: str) -> None:
    """Each cursor below is refused with 400 and the PACT BadRequest body; a good cursor of
    the same query still works."""
    _, next_url = page(host, f"/{version}/footprints?limit=1")
    assert next_url is not None
    good = next_url.split("cursor=")[1]
    text = base64.urlsafe_b64decode(good + "=" * (-len(good) % 4)).decode()
    fmt, at, pf_id, digest = text.split("|")
    bad = {
        "not base64": "not*base64!",
        "empty": "",
        "oversized": "A" * 129,
        "not a cursor": _forged("hello world"),
        "not ASCII": _forged("1|é"),
        "non-canonical base64": good[:-1] + ("B" if good[-1] == "A" else "A"),
        "other version": _forged(f"2|{at}|{pf_id}|{digest}"),
        "other query": _forged(f"{fmt}|{at}|{pf_id}|{'0' * 16}"),
        "impossible date": _forged(f"{fmt}|2026-13-45T00:00:00.000000Z|{pf_id}|{digest}"),
        "id not hex": _forged(f"{fmt}|{at}|{'g' * 32}|{digest}"),
    }
    for why, cursor in bad.items():
        answer = host.get(f"/{version}/footprints?limit=1&cursor={cursor}")
        assert answer.status_code == 400, (why, answer.text)
        check_error(version, answer.json(), "BadRequest")
        assert "cursor" in answer.json()["message"], why
    filtered = "status=Active" if version == "3" else "$filter=companyIds/any(c: c eq 'x')"
    answer = host.get(f"/{version}/footprints?{filtered}&cursor={good}")
    assert answer.status_code == 400
    assert "other filters" in answer.json()["message"]
    for query in ("offset=1", "offset=0", "limit=1&offset=x"):
        answer = host.get(f"/{version}/footprints?{query}")
        assert answer.status_code == 400, query
        check_error(version, answer.json(), "BadRequest")
        assert "offset" in answer.json()["message"]
    assert host.get(f"/{version}/footprints?limit=1&cursor={good}").status_code == 200


@pytest.mark.parametrize("who", ["B", "C"])
def test_a_cursor_of_client_a_shows_another_client_only_its_own(host: Host, who: str) -> None:
    """A's first page of 1 is e1, the first footprint stored; B (same organisation, product
    P3) and C (Other Co), following A's link, see what they would see from the start, since
    all their footprints were stored after e1."""
    first, next_url = page(host, "/3/footprints?limit=1")
    assert first == [host.seeded.ids["e1"]]
    assert next_url is not None
    answer = host.get(next_url.replace("limit=1", "limit=10"), who)
    assert answer.status_code == 200
    check_list("3", answer.json())
    assert {d["id"] for d in answer.json()["data"]} == visible(host.seeded, who)


def test_cursor_round_trip() -> None:
    """A cursor names the key it was made of, to the microsecond, for its query only."""
    key = PageKey(dt.datetime(2026, 12, 5, 1, 2, 3, 456789, tzinfo=dt.UTC), uuid.uuid4())
    digest = query_digest("3", {"status": ["Active"]})
    assert decode_cursor(encode_cursor(key, digest=digest), digest=digest) == key
    assert query_digest("3", {"status": ["a", "b"]}) == query_digest("3", {"status": ["b", "a"]})
    assert query_digest("3", {}) != query_digest("2", {})


def _captured(engine: Engine, call: Any) -> list[tuple[str, Any]]:
    """The SQL statements (and parameters) ``call()`` runs on ``engine``."""
    seen: list[tuple[str, Any]] = []

    def remember(conn: Any, cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        seen.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", remember)
    try:
        call()
    finally:
        event.remove(engine, "before_cursor_execute", remember)
    return seen


def _plan(engine: Engine, statement: str, parameters: Any) -> str:
    """The database's plan of ``statement``: SQLite's EXPLAIN QUERY PLAN; PostgreSQL's
    EXPLAIN with sequential scans and sorts made as dear as the planner allows, so that an
    index plan is chosen wherever one exists (the test tables are too small for costs to)."""
    with engine.connect() as c:
        if engine.dialect.name == "sqlite":
            rows = c.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters).all()
            return "\n".join(str(r[-1]) for r in rows)
        c.exec_driver_sql("SET enable_seqscan = off")
        c.exec_driver_sql("SET enable_sort = off")
        rows = c.exec_driver_sql(f"EXPLAIN {statement}", parameters).all()
        c.rollback()
        return "\n".join(str(r[0]) for r in rows)


@pytest.mark.parametrize("version", ["3", "2"])
def test_a_page_after_a_key_is_an_index_range_scan(host: Host, version: str) -> None:
    """Page 2 of 5 footprints in pages of 2: the statement that picks the page's footprints
    seeks ``ix_footprint_organisation_stored_product`` to the organisation and the key, and
    reads it in order (no sort of the organisation's footprints)."""
    publish(host, 2)
    _, next_url = page(host, f"/{version}/footprints?limit=2")
    assert next_url is not None
    statements = _captured(host.engine, lambda: page(host, next_url))
    keyed = [(s, p) for s, p in statements if "footprint.stored_at, footprint.id) >" in s]
    assert len(keyed) == 1, [s for s, _ in statements]
    plan = _plan(host.engine, *keyed[0])
    assert "ix_footprint_organisation_stored_product" in plan, plan
    if host.engine.dialect.name == "sqlite":
        assert "(organisation_id=? AND (stored_at,id)>(?,?))" in plan, plan
        # v3 sorts the page's (at most limit + 1) rows after reading their documents
        assert "TEMP B-TREE" not in plan.split("SCAN anon_1")[0], plan
    else:
        assert re.search(r"Index Cond: .*organisation_id = .*ROW\(stored_at, id\) >", plan), plan
        assert "Sort" not in plan, plan
