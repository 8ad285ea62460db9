"""The PACT v2.3 fast path (:mod:`openpcf.services.pact.v2_views`) answers the bytes of the
slow one, is never stale, and holds bounded memory.

*The slow path* is written out here as it was: the ORM footprint (its product loaded for the
CPC code), :func:`openpcf.exchange.v2.v2_view` of its parsed document, serialised compactly;
the ``$filter`` tested on that view. Every footprint of the seeded database
(:func:`fixtures.api_support.seed`) is asked for by every client, by GetFootprint and by
ListFootprints (pages of 1, 2 and 1000; without and with a ``$filter``), once with no view
remembered and once with all remembered: the answers are equal, byte for byte, to the slow
path's (and a footprint without a v2.3 form answers the same 404 message).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Engine, event

from fixtures.api_support import Seeded, seed
from openpcf.db import repositories as repo
from openpcf.db.engine import session_scope
from openpcf.db.errors import NotFoundError
from openpcf.exchange.v2 import NotMappableError, v2_view
from openpcf.services.pact import host as pact_host
from openpcf.services.pact.auth import TokenClaims
from openpcf.services.pact.filter import parse_filter
from openpcf.services.pact.v2_views import VIEWS, ViewCache

NOW = dt.datetime(2026, 12, 4, 12, 0, tzinfo=dt.UTC)
BOTH = ("footprint:list", "footprint:read")
FILTERS = (
    None,
    "created ge '2000-01-01T00:00:00Z'",
    "pcf/geographyCountry eq 'US'",
    "productIds/any(productId:(productId eq 'urn:gtin:5695872369587'))",
    "(pcf/referencePeriodStart ge '2024-01-01T00:00:00.000Z') and "
    "(pcf/referencePeriodEnd lt '2024-12-01T00:00:00.000Z')",
    "productCategoryCpc eq '34110'",
)


def claims(seeded: Seeded, who: str) -> TokenClaims:
    return TokenClaims(seeded.creds[who][0], BOTH, NOW, NOW + dt.timedelta(hours=1), "jti")


@pytest.fixture
def seeded(engine: Engine) -> Iterator[Seeded]:
    VIEWS.clear()
    yield seed(engine)
    VIEWS.clear()


def slow_views(engine: Engine, seeded: Seeded, who: str) -> dict[str, str | Exception]:
    """The slow path: each footprint ``who`` may see, in listing order, to its v2.3 text
    (or the NotMappableError)."""
    out: dict[str, str | Exception] = {}
    with session_scope(engine) as s:
        client = repo.get_client(s, client_id=seeded.creds[who][0])
        for fp in repo.list_footprints(s, client=client).items:
            try:
                view = v2_view(fp.document, cpc=fp.product.cpc, deprecated_at=fp.status_changed_at)
            except NotMappableError as e:
                out[str(fp.id)] = e
                continue
            out[str(fp.id)] = json.dumps(
                view, ensure_ascii=False, allow_nan=False, separators=(",", ":")
            )
    return out


def fast_list(engine: Engine, seeded: Seeded, who: str, query: str | None, limit: int) -> str:
    """Every page of ``/2/footprints`` (pages of ``limit``) joined into one body."""
    params = [("$filter", query)] if query else []
    documents: list[str] = []
    cursor = None
    while True:
        page = pact_host.list_footprints(
            engine,
            claims=claims(seeded, who),
            version="2",
            params=params,
            limit=limit,
            cursor=cursor,
        )
        assert page.documents or cursor is None  # never an empty page behind a next link
        documents += page.documents
        if page.next_cursor is None:
            return "[" + ",".join(documents) + "]"
        cursor = page.next_cursor


def slow_list(views: dict[str, str | Exception], query: str | None) -> str:
    wanted = parse_filter(query) if query else None
    texts = [
        v
        for v in views.values()
        if isinstance(v, str) and (wanted is None or wanted.matches(json.loads(v)))
    ]
    return "[" + ",".join(texts) + "]"


def fast_get(engine: Engine, seeded: Seeded, who: str, pf_id: str) -> str | Exception:
    try:
        return pact_host.get_footprint(engine, claims=claims(seeded, who), version="2", pf_id=pf_id)
    except NotFoundError as e:
        return e


@pytest.mark.parametrize("warm", [False, True], ids=["cold", "warm"])
def test_every_answer_is_the_slow_paths_bytes(engine: Engine, seeded: Seeded, warm: bool) -> None:
    """A sees e1 (CPC 34110 from its product), e2 and old2 (CPC 1234 from their un-cpc
    classification, old2 Deprecated: version 2); B e3 and e4; C the other organisation's
    one. Ids a client may not see answer 404 ``no footprint …``, as before."""
    if warm:  # every view remembered first
        for who in ("A", "B", "C"):
            fast_list(engine, seeded, who, None, 1000)
    for who in ("A", "B", "C"):
        views = slow_views(engine, seeded, who)
        assert views, who
        for pf_id in seeded.ids.values():
            fast = fast_get(engine, seeded, who, pf_id)
            slow = views.get(pf_id)
            if isinstance(slow, str):
                assert fast == slow
            elif slow is None:  # not this client's
                assert isinstance(fast, NotFoundError)
                assert str(fast) == f"no footprint {pf_id}"
            else:
                assert isinstance(fast, NotFoundError)
                assert str(fast) == f"footprint {pf_id} is not available in PACT v2.3: {slow}"
        for query in FILTERS:
            expected = slow_list(views, query)
            for limit in (1, 2, 1000):
                assert fast_list(engine, seeded, who, query, limit) == expected, (who, query)


def test_the_seeded_views_are_the_hand_checked_ones(engine: Engine, seeded: Seeded) -> None:
    """What the equality above compares is not empty: A lists e1, old2 and e2 in that order
    (stored order), ``productCategoryCpc`` 34110 (P1's CPC), 1234 (example 2's
    ``urn:pact:productclassification:un-cpc:1234``) twice; old2 is Deprecated, at version 2."""
    listed = json.loads(fast_list(engine, seeded, "A", None, 1000))
    ids = seeded.ids
    assert [d["id"] for d in listed] == [ids["e1"], ids["old2"], ids["e2"]]
    assert [d["productCategoryCpc"] for d in listed] == ["34110", "1234", "1234"]
    assert [(d["status"], d["version"]) for d in listed] == [
        ("Active", 1),
        ("Deprecated", 2),
        ("Active", 1),
    ]


def test_deprecating_a_footprint_changes_its_v2_answer_at_once(
    engine: Engine, seeded: Seeded
) -> None:
    """e1's view is remembered as Active (version 1); deprecated at 2026-12-04 12:00 UTC in a
    transaction, the next answers (get and list) say Deprecated, version 2, ``updated``
    ``2026-12-04T12:00:00Z``, as the slow path does."""
    pf_id = seeded.ids["e1"]
    before = json.loads(fast_get(engine, seeded, "A", pf_id))  # type: ignore[arg-type]
    assert (before["status"], before["version"], before.get("updated")) == ("Active", 1, None)
    with session_scope(engine) as s:
        client = repo.get_client(s, client_id=seeded.creds["A"][0])
        repo.deprecate_footprint(
            s, footprint=repo.get_footprint(s, client=client, pf_id=pf_id), now=NOW
        )
    after = fast_get(engine, seeded, "A", pf_id)
    assert after == slow_views(engine, seeded, "A")[pf_id]
    view = json.loads(after)  # type: ignore[arg-type]
    assert (view["status"], view["version"], view["updated"]) == (
        "Deprecated",
        2,
        "2026-12-04T12:00:00Z",
    )
    listed = json.loads(fast_list(engine, seeded, "A", None, 2))
    assert next(d for d in listed if d["id"] == pf_id) == view


def test_a_new_cpc_code_of_the_product_changes_the_v2_answer(
    engine: Engine, seeded: Seeded
) -> None:
    """P1 recorded with CPC 34120 instead of 34110: e1's remembered view is not served again;
    P1 without a CPC code: e1's example-1 classifications name none, so it has no v2.3 form
    (404, and it leaves the list)."""
    pf_id = seeded.ids["e1"]
    assert json.loads(fast_get(engine, seeded, "A", pf_id))["productCategoryCpc"] == "34110"  # type: ignore[arg-type]

    def record(cpc: str | None) -> None:
        with session_scope(engine) as s:
            org = repo.get_client(s, client_id=seeded.creds["A"][0]).organisation
            product_ids = json.loads(fast_list(engine, seeded, "A", None, 1))[0]["productIds"]
            repo.upsert_product(s, organisation=org, product_ids=product_ids, name="P1", cpc=cpc)

    record("34120")
    assert json.loads(fast_get(engine, seeded, "A", pf_id))["productCategoryCpc"] == "34120"  # type: ignore[arg-type]
    assert fast_get(engine, seeded, "A", pf_id) == slow_views(engine, seeded, "A")[pf_id]
    record(None)
    refused = fast_get(engine, seeded, "A", pf_id)
    assert isinstance(refused, NotFoundError)
    assert "no UN CPC code" in str(refused)
    assert pf_id not in {d["id"] for d in json.loads(fast_list(engine, seeded, "A", None, 1000))}


def test_a_page_is_two_statements_whatever_its_size(engine: Engine, seeded: Seeded) -> None:
    """The client's facts and one page statement (the products joined, not loaded one by
    one): 2 statements for A's 3 footprints on one page, as for the 1 of page size 1."""
    statements: list[Any] = []

    def count(*args: Any) -> None:
        statements.append(args[2])

    event.listen(engine, "before_cursor_execute", count)
    try:
        for limit in (1000, 1):
            statements.clear()
            pact_host.list_footprints(engine, claims=claims(seeded, "A"), version="2", limit=limit)
            assert len(statements) == 2, statements
    finally:
        event.remove(engine, "before_cursor_execute", count)


def test_memory_is_bounded_by_entries_and_by_characters() -> None:
    """An entry bound of 2 keeps the 2 most recently used views; a bound of 30 views' worth
    of characters (CPC codes 100 to 199: views of equal length) keeps exactly 30 views."""
    doc = json.dumps(_minimal())
    cache = ViewCache(max_entries=2)
    for cpc in ("1", "2", "3"):
        assert cache.form(doc, cpc=cpc, deprecated_at=None).text is not None
    assert len(cache) == 2
    cache.form(doc, cpc="2", deprecated_at=None)  # used: stays
    cache.form(doc, cpc="4", deprecated_at=None)
    assert [key[1] for key in cache._forms] == ["2", "4"]
    size = len(cache.form(doc, cpc="100", deprecated_at=None).text or "")
    small = ViewCache(max_chars=30 * size)
    for n in range(100, 200):
        small.form(doc, cpc=str(n), deprecated_at=None)
    assert small.chars <= small.max_chars
    assert len(small) == 30


def _minimal() -> dict[str, Any]:
    """A v3 document with a v2.3 form (kilogram, AR6, ISO 14067)."""
    return {
        "id": "3fa85f64-5717-4562-b3fc-2c963f66afa6",
        "created": "2025-01-01T00:00:00Z",
        "status": "Active",
        "productNameCompany": "x",
        "pcf": {
            "declaredUnitOfMeasurement": "kilogram",
            "ipccCharacterizationFactors": ["AR6"],
            "crossSectoralStandards": ["ISO14067"],
        },
    }
