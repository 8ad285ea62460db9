"""The PACT host's fast paths (issue 17, item 5) keep every check of the slow ones.

* GetFootprint v3 reads the client check and the document in one statement
  (:func:`openpcf.db.repositories.footprints.shared_document`): the answers for every kind of
  client of the seeded data (:func:`fixtures.api_support.seed`) are those of the rule, in the
  order 401 (no client, disabled client) before 403 (scope) before 404 (not shared).
* ListFootprints v3 (:func:`openpcf.db.repositories.list_document_texts`, the statement
  built once per set of filters) returns the documents of :func:`openpcf.db.repositories.
  list_footprints`, the ORM path, in the same order, page by page, with and without filters.
* A verified token is remembered (:class:`openpcf.api.deps.VerifiedTokens`) but still expires
  on the second of its ``exp``.
* :func:`openpcf.api.deps.in_database` runs no more calls at once than the pool has
  connections.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import threading
import time
import uuid
from types import SimpleNamespace
from typing import Any

import pytest
from sqlalchemy import Engine

from fixtures.api_support import Seeded, seed
from openpcf.api.deps import HostState, VerifiedTokens, in_database
from openpcf.db import repositories as repo
from openpcf.db.engine import session_scope
from openpcf.db.errors import NotFoundError
from openpcf.db.models import Footprint
from openpcf.exchange.criteria import FootprintFilter
from openpcf.exchange.errors import AccessDeniedError, InvalidTokenError, TokenExpiredError
from openpcf.services.pact import host as pact_host
from openpcf.services.pact.auth import TokenClaims, TokenSigner

NOW = dt.datetime(2026, 12, 4, 12, 0, tzinfo=dt.UTC)
BOTH = ("footprint:list", "footprint:read")


def claims(seeded: Seeded, who: str, scopes: tuple[str, ...] = BOTH) -> TokenClaims:
    client_id = seeded.creds[who][0] if who in seeded.creds else who
    return TokenClaims(client_id, scopes, NOW, NOW + dt.timedelta(hours=1), "jti")


@pytest.fixture
def seeded(engine: Engine) -> Seeded:
    return seed(engine)


def get(engine: Engine, seeded: Seeded, who: str, pf: str, **kwargs: Any) -> Any:
    document = pact_host.get_footprint(
        engine, claims=claims(seeded, who, **kwargs), version="3", pf_id=seeded.ids[pf]
    )
    return json.loads(document)


def test_get_footprint_answers_only_what_the_client_may_see(engine: Engine, seeded: Seeded) -> None:
    """A sees P1 and P2 (e1, e2 and the Deprecated old2) and nothing of P3 or of Other Co; B
    sees P3 (e3, e4) only; C sees only its own organisation's footprint."""
    for who, mine in (("A", ("e1", "e2", "old2")), ("B", ("e3", "e4")), ("C", ("other",))):
        for pf in ("e1", "e2", "old2", "e3", "e4", "other"):
            if pf in mine:
                assert get(engine, seeded, who, pf)["id"] == seeded.ids[pf]
            else:
                with pytest.raises(NotFoundError):
                    get(engine, seeded, who, pf)


def test_get_footprint_serves_the_stored_document(engine: Engine, seeded: Seeded) -> None:
    with session_scope(engine) as s:
        stored = s.get(Footprint, uuid.UUID(seeded.ids["e1"]))
        assert stored is not None
        assert get(engine, seeded, "A", "e1") == stored.document


def test_get_footprint_refuses_in_the_order_401_403_404(engine: Engine, seeded: Seeded) -> None:
    """D is disabled although granted P1: 401 even with a missing scope; L lacks
    ``footprint:read``: 403 even for a footprint it may not see; an unknown client: 401."""
    with pytest.raises(InvalidTokenError, match="disabled"):
        get(engine, seeded, "D", "e1")
    with pytest.raises(InvalidTokenError, match="disabled"):
        get(engine, seeded, "D", "e1", scopes=("footprint:list",))
    with pytest.raises(AccessDeniedError, match="footprint:read"):
        get(engine, seeded, "L", "e1", scopes=("footprint:list",))
    with pytest.raises(AccessDeniedError, match="footprint:read"):
        get(engine, seeded, "L", "e3", scopes=("footprint:list",))
    with pytest.raises(InvalidTokenError, match="no longer exists"):
        get(engine, seeded, "no-such-client", "e1")


def test_list_is_refused_like_get(engine: Engine, seeded: Seeded) -> None:
    def page(who: str, scopes: tuple[str, ...] = BOTH) -> pact_host.Page:
        return pact_host.list_footprints(engine, claims=claims(seeded, who, scopes), version="3")

    with pytest.raises(InvalidTokenError, match="disabled"):
        page("D")
    with pytest.raises(InvalidTokenError, match="no longer exists"):
        page("nobody")
    with pytest.raises(AccessDeniedError, match="footprint:list"):
        page("A", ("footprint:read",))
    listed = {json.loads(d)["id"] for d in page("B").documents}
    assert listed == {seeded.ids["e3"], seeded.ids["e4"]}


@pytest.mark.parametrize(
    ("filters", "count"),
    [
        (FootprintFilter(), 3),  # A sees e1, e2 and old2
        (FootprintFilter(statuses=("Active",)), 2),  # e1, e2
        (FootprintFilter(statuses=("deprecated",)), 1),  # old2
        (FootprintFilter(product_ids=("URN:GTIN:4712345060507",)), 2),  # P2: e2 and old2
        (FootprintFilter(valid_on=dt.datetime(2025, 6, 1, tzinfo=dt.UTC)), 3),
        (  # old2 only: its reference period ends 2024-06-30, the others' 2024-12-31
            FootprintFilter(
                moments=(("reference_period_end", "lt", dt.datetime(2024, 12, 1, tzinfo=dt.UTC)),)
            ),
            1,
        ),
    ],
)
def test_document_pages_are_the_orm_pages(
    engine: Engine, seeded: Seeded, filters: FootprintFilter, count: int
) -> None:
    """Every page of 1 and of 2 (and the unpaged list) holds the documents of the ORM path,
    in its order, with the same next key; following the keys lists each footprint once."""
    with session_scope(engine) as s:
        client = repo.get_client(s, client_id=seeded.creds["A"][0])
        assert len(repo.list_document_texts(s, client=client, filters=filters).texts) == count
        for limit in (None, 1, 2):
            after, listed = None, 0
            while True:
                orm = repo.list_footprints(
                    s, client=client, filters=filters, limit=limit, after=after
                )
                texts = repo.list_document_texts(
                    s, client=client, filters=filters, limit=limit, after=after
                )
                assert [json.loads(t) for t in texts.texts] == [f.document for f in orm.items]
                assert texts.next_key == orm.next_key
                listed += len(orm.items)
                if orm.next_key is None:
                    break
                after = orm.next_key
            assert listed == count


def test_a_disabled_client_lists_nothing_even_by_the_repository(
    engine: Engine, seeded: Seeded
) -> None:
    with session_scope(engine) as s:
        client = repo.get_client(s, client_id=seeded.creds["D"][0])
        assert repo.list_document_texts(s, client=client, limit=10).texts == []


# --------------------------------------------------------------------------------------------
# remembered tokens


def test_a_remembered_token_expires_on_its_exp_second() -> None:
    """Signed at 12:00:00 with a one-hour lifetime: ``exp`` is 13:00:00. Verified at 12:00
    (remembered), it is accepted from memory at 12:59:59 and refused at 13:00:00 with the
    signer's own TokenExpiredError, as a token never seen before is."""
    signer = TokenSigner(b"k" * 32)
    token = signer.sign(client_id="c1", scopes=["footprint:read"], now=NOW).access_token
    tokens = VerifiedTokens(signer)
    assert tokens.verify(token, now=NOW).client_id == "c1"
    last = NOW + dt.timedelta(minutes=59, seconds=59)
    assert tokens.verify(token, now=last).scopes == ("footprint:read",)
    with pytest.raises(TokenExpiredError):
        tokens.verify(token, now=NOW + dt.timedelta(hours=1))
    with pytest.raises(TokenExpiredError):
        signer.verify(token, now=NOW + dt.timedelta(hours=1))


def test_only_verified_tokens_are_remembered_and_memory_is_bounded() -> None:
    signer = TokenSigner(b"k" * 32)
    other = TokenSigner(b"x" * 32)
    tokens = VerifiedTokens(signer, size=2)
    forged = other.sign(client_id="c1", scopes=[], now=NOW).access_token
    for _ in range(2):  # refused each time: a refusal is not remembered
        with pytest.raises(InvalidTokenError):
            tokens.verify(forged, now=NOW)
    issued = [signer.sign(client_id=f"c{n}", scopes=[], now=NOW).access_token for n in range(3)]
    for token in issued:
        tokens.verify(token, now=NOW)
    assert list(tokens._claims) == issued[1:]  # the least recently used one went


# --------------------------------------------------------------------------------------------
# database slots


def test_in_database_runs_no_more_calls_than_the_pool_holds() -> None:
    """Pool of 2, 6 calls of 50 ms started together: at most 2 run at once, all 6 finish."""
    state = HostState.__new__(HostState)
    state.engine = SimpleNamespace(pool=SimpleNamespace(size=lambda: 2))  # type: ignore[assignment]
    state._slots = None
    running, most = 0, 0
    lock = threading.Lock()

    def call(n: int) -> int:
        nonlocal running, most
        with lock:
            running += 1
            most = max(most, running)
        time.sleep(0.05)
        with lock:
            running -= 1
        return n

    async def main() -> list[int]:
        return await asyncio.gather(*(in_database(state, call, n) for n in range(6)))

    assert asyncio.run(main()) == list(range(6))
    assert most == 2
