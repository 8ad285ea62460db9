"""The PACT requests inbox of the web application (SQLite and PostgreSQL).

The world: the PACT host tests' seeded data (``fixtures.api_support.seed``): "Supplier Co"
publishes the PACT v3 spec's example-1 (product ``urn:gtin:5695872369587``) and shares it
with its API client A; "Other Co" is a third organisation. "Buyer Co" is new here: A is its
credentials at Supplier Co's host, and Buyer Co issued the client "Supplier Co" that Supplier
Co answers with. Both hosts are the same in-process PACT host app on the one test database,
reached as ``https://supplier.test`` and ``https://buyer.test``; the peer entries say where
each side's events go and with which credentials:

* A's requests are answered at ``https://buyer.test`` with Buyer Co's "Supplier Co" client;
* Buyer Co's requests to Supplier Co go to ``https://supplier.test`` with A's credentials.

Hand-worked answer: example-1's ``pcf.pcfExcludingBiogenicUptake`` is ``"0.384"`` (kg CO2e)
per ``declaredUnitAmount`` 1 of ``declaredUnitOfMeasurement`` ``kilogram``, so the sent
request's page shows "0.384 kg CO2e per kilogram". Example-3 (``urn:gtin:5268596541023``) is
shared only with client B, so A's request for it is rejected with the v3 code ``NotFound``.
"""

from __future__ import annotations

import datetime as dt
import doctest
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from fastapi.testclient import TestClient
from sqlalchemy import Engine, event, func, select

from fixtures.api_support import Seeded, seed
from fixtures.web import csrf_token
from openpcf.api import HostConfig, create_app
from openpcf.db import repositories as repo
from openpcf.db.engine import session_scope
from openpcf.db.models import Event, OutboxEvent, PactRequest, SupplierFootprint
from openpcf.exchange.client import PactClient
from openpcf.exchange.events import build_event
from openpcf.services import web_pact
from openpcf.services.pact import review
from openpcf.services.pact.outbox import Deliverer
from openpcf.services.pact.peers import FilePeers, MemoryPeers, Peer, peers_file
from openpcf.web.auth import WebUser

WEB = Path(__file__).resolve().parents[1] / "src" / "openpcf" / "web"
SUPPLIER_HOST = "https://supplier.test"
BUYER_HOST = "https://buyer.test"
E1_PRODUCT = "urn:gtin:5695872369587"
E3_PRODUCT = "urn:gtin:5268596541023"
CE = "application/cloudevents+json; charset=UTF-8"


@dataclass
class World:
    seeded: Seeded
    host: Any
    peers: MemoryPeers
    factory: Callable[[Peer], PactClient]
    buyer_client: tuple[str, str]
    engine: Engine

    def deliver(self) -> list[Any]:
        """One outbox pass (what the host's background sender does)."""
        deliverer = Deliverer(self.engine, peers=self.peers, client_factory=self.factory)
        try:
            return deliverer.deliver_due().delivered
        finally:
            deliverer.close()


@pytest.fixture
def world(engine: Engine, tmp_path: Path, web_app: TestClient) -> World:
    seeded = seed(engine)
    with session_scope(engine) as s:
        buyer = repo.create_organisation(s, name="Buyer Co")
        issued = repo.create_client(s, organisation=buyer, name="Supplier Co")
        buyer_client = (issued.client_id, issued.secret)
    a_id, a_secret = seeded.creds["A"]
    answers_to_buyer = Peer(
        client_id=a_id,
        base_url=BUYER_HOST,
        remote_client_id=buyer_client[0],
        remote_client_secret=buyer_client[1],
    )
    asks_supplier = Peer(
        client_id=buyer_client[0],
        base_url=SUPPLIER_HOST,
        remote_client_id=a_id,
        remote_client_secret=a_secret,
    )
    peers = MemoryPeers([answers_to_buyer, asks_supplier])
    web_peers = FilePeers(peers_file(tmp_path / "home"))  # the web app's home
    for peer in peers.all():
        web_peers.save(peer)
    config = HostConfig(home=tmp_path / "host", run_sender=False, peers=peers)
    host = create_app(engine=engine, config=config)

    def factory(peer: Peer) -> PactClient:
        return PactClient(
            peer.base_url,
            client_id=peer.remote_client_id,
            client_secret=peer.remote_client_secret,
            http=TestClient(host, base_url=peer.base_url),  # type: ignore[arg-type]  # httpx-like
        )

    web_app.app.state.pact_client_factory = factory  # type: ignore[attr-defined]
    return World(seeded, host, peers, factory, buyer_client, engine)


def signed_in(
    client: TestClient,
    engine: Engine,
    make_user: Callable[..., WebUser],
    login: Callable[..., httpx.Response],
    *,
    organisation: str,
    email: str,
    role: str = "engineer",
    lang: str = "en",
) -> TestClient:
    make_user(engine, organisation=organisation, email=email, role=role, lang=lang)
    client.cookies.clear()
    assert login(client, email).status_code == 303
    return client


def send_form(client: TestClient, **values: str) -> Any:
    """Post the send form with the page's CSRF token; the answer (a TestClient response)."""
    page = client.get("/pact-requests")
    assert page.status_code == 200, page.text
    return client.post("/pact-requests/send", data={"csrf_token": csrf_token(page.text), **values})


def count(engine: Engine, model: Any) -> int:
    with session_scope(engine) as s:
        return int(s.scalar(select(func.count()).select_from(model)) or 0)


def buyer_send(client: TestClient, world: World, product: str) -> str:
    """Send Buyer Co's request for ``product``; the path of its page."""
    answer = send_form(
        client, peer=world.buyer_client[0], product_ids=product, source=BUYER_HOST, version="3"
    )
    assert answer.status_code == 303, answer.text
    return str(answer.headers["location"])


# --------------------------------------------------------------------------------------------
# the round trip


def test_request_sent_answered_and_seen_from_both_sides(
    web_app: TestClient,
    world: World,
    engine: Engine,
    make_user: Callable[..., WebUser],
    login: Callable[..., httpx.Response],
) -> None:
    """Buyer Co asks for example-1; Supplier Co's host answers it with the footprint; Buyer Co
    holds it (0.384 kg CO2e per kilogram); each side sees its half, never the other's."""
    client = signed_in(
        web_app, engine, make_user, login, organisation="Buyer Co", email="bo@buyer.test"
    )
    page = client.get("/pact-requests")
    assert 'href="/pact-requests"' in page.text  # the navigation link
    assert f'<option value="{world.buyer_client[0]}"' in page.text
    location = buyer_send(client, world, E1_PRODUCT)
    assert re.fullmatch(r"/pact-requests/sent/\d+", location)
    waiting = client.get(location)
    assert 'data-status="waiting"' in waiting.text
    assert E1_PRODUCT in waiting.text

    assert len(world.deliver()) == 1  # Supplier Co's host sends the Fulfilled event
    done = client.get(location)
    assert 'data-status="fulfilled"' in done.text
    assert f'data-footprint="{world.seeded.ids["e1"]}"' in done.text
    assert "0.384 kg CO2e per kilogram" in done.text
    with session_scope(engine) as s:
        held = s.scalars(select(SupplierFootprint)).all()
        assert [(str(h.footprint_id), h.origin, h.organisation.name) for h in held] == [
            (world.seeded.ids["e1"], "answered", "Buyer Co")
        ]
        received_id = s.scalar(select(Event.id).where(Event.type.like("%RequestCreated%")))
    listing = client.get("/pact-requests").text
    assert 'data-status="fulfilled"' in listing
    assert f'value="{BUYER_HOST}"' in listing  # our address, prefilled from the last request
    assert "data-received=" not in listing  # Buyer Co received no request
    assert client.get(f"/pact-requests/received/{received_id}").status_code == 404

    supplier = signed_in(
        web_app, engine, make_user, login, organisation="Supplier Co", email="sa@supplier.test"
    )
    inbox = supplier.get("/pact-requests").text
    assert f'data-received="{received_id}"' in inbox
    assert 'data-answer="fulfilled"' in inbox
    assert 'data-delivery="delivered"' in inbox
    assert "data-sent=" not in inbox
    detail = supplier.get(f"/pact-requests/received/{received_id}")
    assert detail.status_code == 200
    assert world.seeded.ids["e1"] in detail.text
    assert E1_PRODUCT in detail.text
    assert supplier.get(location).status_code == 404  # Buyer Co's sent request

    other = signed_in(
        web_app, engine, make_user, login, organisation="Other Co", email="oc@other.test"
    )
    assert other.get(location).status_code == 404
    assert other.get(f"/pact-requests/received/{received_id}").status_code == 404
    listing = other.get("/pact-requests").text
    assert "data-received=" not in listing
    assert "data-sent=" not in listing
    assert "No supplier is set up" in listing  # Other Co has no peer: no form


def test_a_request_nothing_matches_is_rejected_with_the_pact_code(
    web_app: TestClient,
    world: World,
    engine: Engine,
    make_user: Callable[..., WebUser],
    login: Callable[..., httpx.Response],
) -> None:
    """Example-3 is shared with client B only: A's request is answered Rejected NotFound."""
    client = signed_in(
        web_app, engine, make_user, login, organisation="Buyer Co", email="bo@buyer.test"
    )
    location = buyer_send(client, world, E3_PRODUCT)
    world.deliver()
    page = client.get(location).text
    assert 'data-status="rejected"' in page
    assert "<code>NotFound</code>" in page
    assert count(engine, SupplierFootprint) == 0

    supplier = signed_in(
        web_app, engine, make_user, login, organisation="Supplier Co", email="sa@supplier.test"
    )
    inbox = supplier.get("/pact-requests").text
    assert 'data-answer="rejected"' in inbox
    assert "<code>NotFound</code>" in inbox


def test_a_second_answer_is_refused_and_the_page_keeps_the_first(
    web_app: TestClient,
    world: World,
    engine: Engine,
    make_user: Callable[..., WebUser],
    login: Callable[..., httpx.Response],
) -> None:
    """After the Fulfilled answer, a Rejected one for the same request is refused (400,
    :func:`openpcf.db.repositories.mark_answered`: one ``UPDATE … WHERE answered_at IS
    NULL``, so of two racing answers one changes the row; tested by
    tests/test_supplier_inbound.py::test_a_request_can_be_marked_answered_once) and changes
    nothing here."""
    client = signed_in(
        web_app, engine, make_user, login, organisation="Buyer Co", email="bo@buyer.test"
    )
    location = buyer_send(client, world, E1_PRODUCT)
    world.deliver()
    with session_scope(engine) as s:
        request = s.scalars(select(PactRequest)).one()
        request_event_id = request.event_id
    second = build_event(
        version="3",
        kind="rejected",
        source="//supplier.test/3/events",
        now=dt.datetime.now(dt.UTC),
        data={
            "requestEventId": request_event_id,
            "error": {"code": "NotFound", "message": "changed my mind"},
        },
    )
    host = TestClient(world.host, base_url=BUYER_HOST)
    token = host.post(
        "/auth/token",
        auth=world.buyer_client,
        data={"grant_type": "client_credentials"},
    ).json()["access_token"]
    refused = host.post(
        "/3/events",
        content=json.dumps(second),
        headers={"authorization": f"Bearer {token}", "content-type": CE},
    )
    assert refused.status_code == 400, refused.text
    assert "answered already" in refused.text
    page = client.get(location).text
    assert 'data-status="fulfilled"' in page
    assert "changed my mind" not in page


# --------------------------------------------------------------------------------------------
# answering by hand (answer mode review)


def held_request_page(
    web_app: TestClient,
    world: World,
    engine: Engine,
    make_user: Callable[..., WebUser],
    login: Callable[..., httpx.Response],
    product: str = E1_PRODUCT,
    lang: str = "en",
) -> tuple[TestClient, str, str]:
    """Supplier Co in review mode; Buyer Co asks for ``product``; Supplier Co's engineer is
    signed in. The engineer's client, the held request's page path and the sent one's."""
    review.set_answer_mode(engine, organisation="Supplier Co", mode="review")
    buyer = signed_in(
        web_app, engine, make_user, login, organisation="Buyer Co", email="bo@buyer.test"
    )
    sent = buyer_send(buyer, world, product)
    assert world.deliver() == []  # nothing to send: the request is held
    supplier = signed_in(
        web_app,
        engine,
        make_user,
        login,
        organisation="Supplier Co",
        email="sa@supplier.test",
        lang=lang,
    )
    with session_scope(engine) as s:
        held_id = s.scalar(select(Event.id).where(Event.answer_state == "pending"))
    return supplier, f"/pact-requests/received/{held_id}", sent


def test_a_held_request_is_fulfilled_from_the_page_and_reaches_the_requester(
    web_app: TestClient,
    world: World,
    engine: Engine,
    make_user: Callable[..., WebUser],
    login: Callable[..., httpx.Response],
) -> None:
    """The inbox says the mode and shows the request waiting; its page offers example-1 (the
    one footprint of the product shared with client A); the engineer sends it; Buyer Co holds
    it, 0.384 kg CO2e per kilogram, as when the host answers itself."""
    supplier, page, sent = held_request_page(web_app, world, engine, make_user, login)
    inbox = supplier.get("/pact-requests").text
    assert 'data-answer-mode="review"' in inbox
    assert 'data-answer="pending"' in inbox
    detail = supplier.get(page)
    assert detail.status_code == 200
    assert f'value="{world.seeded.ids["e1"]}"' in detail.text
    assert "0.384 kg CO2e per kilogram" in detail.text
    assert f'value="{world.seeded.ids["e3"]}"' not in detail.text  # shared with B only
    form = {"csrf_token": csrf_token(detail.text), "footprint": [world.seeded.ids["e1"]]}
    done = supplier.post(f"{page}/fulfil", data=form)
    assert done.status_code == 303, done.text
    assert done.headers["location"] == page
    after = supplier.get(page).text
    assert 'data-answer="fulfilled"' in after
    assert 'data-answered-by="web:sa@supplier.test"' in after
    assert f"{page}/fulfil" not in after  # no form any more
    again = supplier.post(f"{page}/reject", data={**form, "code": "NotFound", "message": "m"})
    assert again.status_code == 409
    assert "answered already by web:sa@supplier.test" in again.text
    assert 'data-answer="fulfilled"' in again.text
    assert count(engine, OutboxEvent) == 1

    assert len(world.deliver()) == 1
    buyer = signed_in(  # the same TestClient, now Buyer Co's session
        web_app, engine, make_user, login, organisation="Buyer Co", email="bo2@buyer.test"
    )
    answer = buyer.get(sent).text
    assert 'data-status="fulfilled"' in answer
    assert "0.384 kg CO2e per kilogram" in answer


def test_answer_forms_keep_what_was_chosen_or_typed_and_send_nothing(
    web_app: TestClient,
    world: World,
    engine: Engine,
    make_user: Callable[..., WebUser],
    login: Callable[..., httpx.Response],
) -> None:
    supplier, page, sent = held_request_page(web_app, world, engine, make_user, login)
    token = csrf_token(supplier.get(page).text)
    none = supplier.post(f"{page}/fulfil", data={"csrf_token": token})
    assert none.status_code == 400
    assert 'id="f-footprints-errors"' in none.text
    assert "at least one footprint" in none.text
    foreign = world.seeded.ids["e3"]
    chosen = [world.seeded.ids["e1"], foreign]
    refused = supplier.post(f"{page}/fulfil", data={"csrf_token": token, "footprint": chosen})
    assert refused.status_code == 400
    assert f"footprint {foreign} is not one client" in refused.text
    assert f'value="{world.seeded.ids["e1"]}" checked' in refused.text  # kept
    assert f'value="{foreign}" checked' in refused.text
    typed = "Not for you — 不提供"
    bad = supplier.post(
        f"{page}/reject", data={"csrf_token": token, "code": "TokenExpired", "message": typed}
    )
    assert bad.status_code == 400
    assert 'id="f-code-errors"' in bad.text
    assert f">{typed}</textarea>" in bad.text
    empty = supplier.post(
        f"{page}/reject", data={"csrf_token": token, "code": "AccessDenied", "message": " "}
    )
    assert empty.status_code == 400
    assert 'id="f-message-errors"' in empty.text
    assert '<option value="AccessDenied" selected>' in empty.text
    assert count(engine, OutboxEvent) == 0

    ok = supplier.post(
        f"{page}/reject", data={"csrf_token": token, "code": "AccessDenied", "message": typed}
    )
    assert ok.status_code == 303
    assert len(world.deliver()) == 1
    buyer = signed_in(
        web_app, engine, make_user, login, organisation="Buyer Co", email="bo2@buyer.test"
    )
    answer = buyer.get(sent).text
    assert 'data-status="rejected"' in answer
    assert "<code>AccessDenied</code>" in answer
    assert typed in answer


def test_a_held_request_in_chinese(
    web_app: TestClient,
    world: World,
    engine: Engine,
    make_user: Callable[..., WebUser],
    login: Callable[..., httpx.Response],
) -> None:
    supplier, page, _sent = held_request_page(web_app, world, engine, make_user, login, lang="zh")
    assert "审核答复模式" in supplier.get("/pact-requests").text
    detail = supplier.get(page).text
    assert "等待您答复" in detail
    assert "发送这些碳足迹" in detail
    assert "0.384 kg CO2e / kilogram" in detail


def test_answer_routes_check_roles_csrf_and_organisation(
    web_app: TestClient,
    world: World,
    engine: Engine,
    make_user: Callable[..., WebUser],
    login: Callable[..., httpx.Response],
) -> None:
    supplier, page, _sent = held_request_page(web_app, world, engine, make_user, login)
    form = {"footprint": world.seeded.ids["e1"]}
    assert supplier.post(f"{page}/fulfil", data=form).status_code == 403  # no CSRF token
    assert supplier.post(f"{page}/fulfil", data={**form, "csrf_token": "x" * 43}).status_code == 403
    for organisation, email, role in (
        ("Buyer Co", "bo3@buyer.test", "engineer"),  # the requester's side: not theirs
        ("Other Co", "oc@other.test", "owner"),
        ("Supplier Co", "v@supplier.test", "verifier"),
        ("Supplier Co", "s@supplier.test", "supplier"),
    ):
        someone = signed_in(
            web_app, engine, make_user, login, organisation=organisation, email=email, role=role
        )
        token = csrf_token(someone.get("/account").text)
        answer = someone.post(f"{page}/fulfil", data={**form, "csrf_token": token})
        assert answer.status_code == (403 if role in ("verifier", "supplier") else 404)
        answer = someone.post(
            f"{page}/reject", data={"code": "NotFound", "message": "m", "csrf_token": token}
        )
        assert answer.status_code == (403 if role in ("verifier", "supplier") else 404)
    assert count(engine, OutboxEvent) == 0


def mode_of(engine: Engine, organisation: str) -> str:
    with session_scope(engine) as s:
        return review.answer_mode(s, repo.get_organisation(s, name=organisation).id)


def test_an_owner_sets_the_answer_mode_and_the_next_request_is_held(
    web_app: TestClient,
    world: World,
    engine: Engine,
    make_user: Callable[..., WebUser],
    login: Callable[..., httpx.Response],
) -> None:
    """Supplier Co's owner switches to review on the page (as ``openpcf pact answer-mode``
    does); Buyer Co's next request is then held, nothing sent; back to auto."""
    owner = signed_in(
        web_app,
        engine,
        make_user,
        login,
        organisation="Supplier Co",
        email="owner@supplier.test",
        role="owner",
    )
    page = owner.get("/pact-requests").text
    assert 'action="/pact-requests/answer-mode"' in page
    assert 'value="auto" checked' in page
    token = csrf_token(page)
    bad = owner.post("/pact-requests/answer-mode", data={"answer_mode": "x", "csrf_token": token})
    assert bad.status_code == 400
    assert 'id="f-answer_mode-errors"' in bad.text
    assert "answer mode &#39;x&#39;: choose auto or review" in bad.text
    assert mode_of(engine, "Supplier Co") == "auto"
    done = owner.post(
        "/pact-requests/answer-mode", data={"answer_mode": "review", "csrf_token": token}
    )
    assert done.status_code == 303, done.text
    assert mode_of(engine, "Supplier Co") == "review"
    assert mode_of(engine, "Buyer Co") == "auto"  # the owner's own organisation only
    shown = owner.get("/pact-requests").text
    assert 'value="review" checked' in shown
    assert 'data-answer-mode="review"' in shown

    buyer = signed_in(
        web_app, engine, make_user, login, organisation="Buyer Co", email="bo@buyer.test"
    )
    buyer_send(buyer, world, E1_PRODUCT)
    assert world.deliver() == []  # held for a person
    with session_scope(engine) as s:
        assert s.scalar(select(func.count()).where(Event.answer_state == "pending")) == 1

    owner.cookies.clear()  # the same TestClient: the owner signs in again
    assert login(owner, "owner@supplier.test").status_code == 303
    token = csrf_token(owner.get("/pact-requests").text)
    back = owner.post(
        "/pact-requests/answer-mode", data={"answer_mode": "auto", "csrf_token": token}
    )
    assert back.status_code == 303
    assert mode_of(engine, "Supplier Co") == "auto"


def test_only_an_owner_changes_the_answer_mode(
    web_app: TestClient,
    world: World,
    engine: Engine,
    make_user: Callable[..., WebUser],
    login: Callable[..., httpx.Response],
) -> None:
    """An engineer sees the mode but has no form, and a POST is 403; so is one without the
    CSRF token."""
    engineer = signed_in(
        web_app, engine, make_user, login, organisation="Supplier Co", email="e@supplier.test"
    )
    page = engineer.get("/pact-requests").text
    assert 'action="/pact-requests/answer-mode"' not in page
    assert "Answer mode: <strong>auto: this host answers each request at once" in page
    assert "Only an owner of the organisation can change it." in page
    token = csrf_token(page)
    refused = engineer.post(
        "/pact-requests/answer-mode", data={"answer_mode": "review", "csrf_token": token}
    )
    assert refused.status_code == 403
    owner = signed_in(
        web_app,
        engine,
        make_user,
        login,
        organisation="Supplier Co",
        email="o@supplier.test",
        role="owner",
        lang="zh",
    )
    assert "应答模式" in owner.get("/pact-requests").text
    assert (
        owner.post("/pact-requests/answer-mode", data={"answer_mode": "review"}).status_code == 403
    )
    assert mode_of(engine, "Supplier Co") == "auto"


# --------------------------------------------------------------------------------------------
# bad input, failures, roles, CSRF


def test_form_errors_keep_what_was_typed_and_send_nothing(
    web_app: TestClient,
    world: World,
    engine: Engine,
    make_user: Callable[..., WebUser],
    login: Callable[..., httpx.Response],
) -> None:
    client = signed_in(
        web_app, engine, make_user, login, organisation="Buyer Co", email="bo@buyer.test"
    )
    answer = send_form(
        client,
        peer=world.buyer_client[0],
        product_ids="5695872369587\nurn:gtin:1",
        source="http://buyer.test",
        version="4",
    )
    assert answer.status_code == 400
    text = answer.text
    assert "5695872369587\nurn:gtin:1</textarea>" in text  # as typed
    assert 'value="http://buyer.test"' in text
    assert "is not a URN" in text
    assert 'id="f-product_ids-errors"' in text
    assert 'id="f-source-errors"' in text
    assert 'id="f-version-errors"' in text
    assert count(engine, PactRequest) == 0

    # a peer of another organisation is not an option: refused at its field
    foreign = send_form(
        client, peer=world.seeded.creds["A"][0], product_ids=E1_PRODUCT, source=BUYER_HOST
    )
    assert foreign.status_code == 400
    assert 'id="f-peer-errors"' in foreign.text
    assert count(engine, PactRequest) == 0


def test_an_unreachable_supplier_is_reported_and_the_request_kept(
    web_app: TestClient,
    world: World,
    engine: Engine,
    make_user: Callable[..., WebUser],
    login: Callable[..., httpx.Response],
) -> None:
    """The supplier's host answers 503: the page says so (400, no traceback); the request
    stays on record, waiting, as ``openpcf pact request`` leaves it (it may have arrived)."""

    def down(peer: Peer) -> PactClient:
        transport = httpx.MockTransport(lambda request: httpx.Response(503, text="down"))
        return PactClient(
            peer.base_url,
            client_id=peer.remote_client_id,
            client_secret=peer.remote_client_secret,
            http=httpx.Client(transport=transport),
        )

    web_app.app.state.pact_client_factory = down  # type: ignore[attr-defined]
    client = signed_in(
        web_app, engine, make_user, login, organisation="Buyer Co", email="bo@buyer.test"
    )
    answer = send_form(
        client, peer=world.buyer_client[0], product_ids=E1_PRODUCT, source=BUYER_HOST
    )
    assert answer.status_code == 400, answer.text[answer.text.find("<main") :]
    assert "not delivered to https://supplier.test" in answer.text, answer.text[
        answer.text.find("<main") :
    ]
    assert "Traceback" not in answer.text
    assert f"{E1_PRODUCT}</textarea>" in answer.text
    assert count(engine, PactRequest) == 1
    assert 'data-status="waiting"' in client.get("/pact-requests").text


def test_roles_csrf_and_body_limits(
    web_app: TestClient,
    world: World,
    engine: Engine,
    make_user: Callable[..., WebUser],
    login: Callable[..., httpx.Response],
) -> None:
    client = signed_in(
        web_app, engine, make_user, login, organisation="Buyer Co", email="bo@buyer.test"
    )
    page = client.get("/pact-requests")
    token = csrf_token(page.text)
    form = {"peer": world.buyer_client[0], "product_ids": E1_PRODUCT, "source": BUYER_HOST}
    assert client.post("/pact-requests/send", data=form).status_code == 403
    wrong = client.post("/pact-requests/send", data={**form, "csrf_token": "x" * 43})
    assert wrong.status_code == 403
    big = client.post(
        "/pact-requests/send", data={**form, "csrf_token": token, "product_ids": "u" * 70_000}
    )
    assert big.status_code == 413
    assert client.get("/pact-requests/sent/not-a-number").status_code == 404
    assert client.get("/pact-requests/received/99999999999999999999").status_code == 404
    assert count(engine, PactRequest) == 0

    for role in ("supplier", "verifier"):
        someone = signed_in(
            web_app,
            engine,
            make_user,
            login,
            organisation="Buyer Co",
            email=f"{role}@buyer.test",
            role=role,
        )
        assert someone.get("/pact-requests").status_code == 403
        assert someone.get("/pact-requests/sent/1").status_code == 403
        assert someone.get("/pact-requests/received/1").status_code == 403
        own = csrf_token(someone.get("/account").text)
        answer = someone.post("/pact-requests/send", data={**form, "csrf_token": own})
        assert answer.status_code == 403
        assert 'href="/pact-requests"' not in someone.get("/account").text
    assert count(engine, PactRequest) == 0

    web_app.cookies.clear()
    assert web_app.get("/pact-requests").status_code == 303  # to the login page


def test_pages_in_chinese(
    web_app: TestClient,
    world: World,
    engine: Engine,
    make_user: Callable[..., WebUser],
    login: Callable[..., httpx.Response],
) -> None:
    client = signed_in(
        web_app,
        engine,
        make_user,
        login,
        organisation="Buyer Co",
        email="zh@buyer.test",
        lang="zh",
    )
    location = buyer_send(client, world, E1_PRODUCT)
    world.deliver()
    page = client.get(location).text
    assert "收到的碳足迹" in page
    assert "已满足" in page
    assert "0.384 kg CO2e / kilogram" in page
    assert "PACT 请求" in client.get("/pact-requests").text
    with session_scope(engine) as s:
        assert s.scalars(select(OutboxEvent)).one().delivered_at is not None


# --------------------------------------------------------------------------------------------
# catalogue and parsing


def test_catalogues_have_the_same_keys_and_every_key_the_templates_use() -> None:
    en = yaml.safe_load((WEB / "messages/pact.en.yaml").read_text(encoding="utf-8"))
    zh = yaml.safe_load((WEB / "messages/pact.zh.yaml").read_text(encoding="utf-8"))
    assert set(en) == set(zh)
    assert all(isinstance(v, str) and v.strip() for v in [*en.values(), *zh.values()])
    used: set[str] = {"nav.pact_requests"}
    prefixes: set[str] = set()
    for path in WEB.glob("templates/pact_*.html.j2"):
        text = path.read_text("utf-8")
        used |= set(re.findall(r"""t\[["']([a-z_.]+)["']\]""", text))
        prefixes |= set(re.findall(r"""t\[["']([a-z_.]+\.)["'] ~""", text))
    assert used <= set(en), sorted(used - set(en))
    states = {
        "pact.answer.": ("fulfilled", "rejected", "pending", "none"),
        "pact.delivery.": ("queued", "retrying", "delivered", "abandoned"),
        "pact.status.": ("waiting", "fulfilled", "rejected"),
        "pact.mode.": ("auto", "review"),
    }
    assert prefixes == set(states)
    for prefix, names in states.items():
        assert {prefix + n for n in names} <= set(en)


def test_product_ids_are_urns_deduplicated_and_bounded() -> None:
    ids, problems = web_pact.parse_product_ids(" urn:gtin:1 ,urn:gtin:1\n\nURN:x:2 ")
    assert (ids, problems) == (["urn:gtin:1", "URN:x:2"], [])
    assert web_pact.parse_product_ids("")[1] == [
        "Name at least one product id (a URN such as urn:gtin:4712345060507)."
    ]
    many = "\n".join(f"urn:gtin:{n}" for n in range(51))
    assert web_pact.parse_product_ids(many)[1] == ["51 product ids: one request names at most 50."]
    assert "longer than 200" in web_pact.parse_product_ids("urn:" + "x" * 300)[1][0]
    assert doctest.testmod(web_pact).failed == 0


def test_the_lists_take_the_same_statements_for_2_or_12_requests(
    world: World, engine: Engine
) -> None:
    """The overview reads each kind in one statement (no query per row): the count of SQL
    statements for Buyer Co's sent and Supplier Co's received lists does not grow with the
    number of requests, rejected ones (whose PACT error is read from the answer) included."""
    seen: list[str] = []

    def count_statement(*args: Any) -> None:
        seen.append(str(args[2]))

    with session_scope(engine) as s:
        ids = {o: repo.get_organisation(s, name=o).id for o in ("Buyer Co", "Supplier Co")}

    def ask(product: str) -> None:
        values = {"peer": world.buyer_client[0], "product_ids": product, "source": BUYER_HOST}
        sent = web_pact.send(
            engine,
            organisation_id=ids["Buyer Co"],
            values=values,
            peers=world.peers,
            client_factory=world.factory,
        )
        assert sent.request_id is not None, sent.errors

    def statements() -> dict[str, int]:
        counts = {}
        for name, org_id in ids.items():
            seen.clear()
            web_pact.overview(engine, organisation_id=org_id, peers=world.peers)
            counts[name] = len(seen)
        return counts

    ask(E1_PRODUCT)
    ask(E3_PRODUCT)
    world.deliver()
    event.listen(engine, "before_cursor_execute", count_statement)
    try:
        few = statements()
        for _ in range(5):
            ask(E1_PRODUCT)
            ask(E3_PRODUCT)
        assert len(world.deliver()) == 10
        many = statements()
        view = web_pact.overview(engine, organisation_id=ids["Buyer Co"], peers=world.peers)
    finally:
        event.remove(engine, "before_cursor_execute", count_statement)
    assert many == few
    assert [r.status for r in view.outgoing].count("rejected") == 6
    assert {r.error_code for r in view.outgoing if r.status == "rejected"} == {"NotFound"}


def test_an_unreadable_peers_file_is_shown_not_a_crash(
    web_app: TestClient,
    world: World,
    engine: Engine,
    tmp_path: Path,
    make_user: Callable[..., WebUser],
    login: Callable[..., httpx.Response],
) -> None:
    client = signed_in(
        web_app, engine, make_user, login, organisation="Buyer Co", email="bo@buyer.test"
    )
    token = csrf_token(client.get("/pact-requests").text)
    peers_file(tmp_path / "home").write_text('{"peers": [{"client_id": 1}]}', encoding="utf-8")
    page = client.get("/pact-requests")
    assert page.status_code == 200
    assert "peers file cannot be read" in page.text
    assert "not a valid peers file" in page.text
    answer = client.post(
        "/pact-requests/send",
        data={
            "csrf_token": token,
            "peer": world.buyer_client[0],
            "product_ids": E1_PRODUCT,
            "source": BUYER_HOST,
        },
    )
    assert answer.status_code == 400
    assert count(engine, PactRequest) == 0


def test_a_pact_v2_request_round_trip(
    web_app: TestClient,
    world: World,
    engine: Engine,
    make_user: Callable[..., WebUser],
    login: Callable[..., httpx.Response],
) -> None:
    """On v2.3 the criteria travel as the ``pf`` fragment (``productIds``) and the answer is
    the v2.3 view of example-1, whose ``pCfExcludingBiogenic`` is the same 0.384."""
    client = signed_in(
        web_app, engine, make_user, login, organisation="Buyer Co", email="bo@buyer.test"
    )
    answer = send_form(
        client, peer=world.buyer_client[0], product_ids=E1_PRODUCT, source=BUYER_HOST, version="2"
    )
    assert answer.status_code == 303, answer.text
    assert len(world.deliver()) == 1
    page = client.get(answer.headers["location"]).text
    assert "(PACT v2.3)" in page
    assert "<code>productIds</code>" in page
    assert 'data-status="fulfilled"' in page
    assert "0.384 kg CO2e per kilogram" in page
