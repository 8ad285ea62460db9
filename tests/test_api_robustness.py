"""Bad input gets the right PACT error and stores nothing; tokens; isolation between clients;
the implementation gotchas of pact-notes §3.5 not covered by the TC modules.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select

from fixtures.api_host import CE, Host, published_event, request_event, serve_host
from fixtures.api_support import check_error, check_list
from openpcf.db.engine import session_scope
from openpcf.db.models import Event, OutboxEvent
from openpcf.services.pact.auth import TokenSigner, installation_secret


@pytest.fixture
def host(engine: Engine, tmp_path: Path) -> Iterator[Host]:
    yield from serve_host(engine, tmp_path)


def stored(host: Host) -> tuple[int, int]:
    """(inbound events, outbox events) in the database."""
    with session_scope(host.engine) as s:
        return (
            s.scalar(select(func.count()).select_from(Event)) or 0,
            s.scalar(select(func.count()).select_from(OutboxEvent)) or 0,
        )


def post(host: Host, body: bytes | str, content_type: str = CE, version: str = "3") -> dict:  # type: ignore[type-arg]
    answer = host.http.post(
        f"/{version}/events",
        content=body,
        headers={"authorization": f"Bearer {host.token()}", "content-type": content_type},
    )
    return {"status": answer.status_code, "body": answer.json() if answer.content else None}


# --- malformed events: 400 BadRequest, nothing stored ---------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        b"{not json",
        b"\xff\xfe",
        b"[]",
        json.dumps({"specversion": "0.3"}).encode(),
        json.dumps({**published_event("3", [str(uuid.uuid4())]), "time": "yesterday"}).encode(),
        json.dumps({**published_event("3", [str(uuid.uuid4())]), "data": []}).encode(),
        json.dumps({**published_event("3", [str(uuid.uuid4())]), "id": ""}).encode(),
        json.dumps({**published_event("3", []), "type": "com.example.Unknown"}).encode(),
        json.dumps(published_event("2", [str(uuid.uuid4())])).encode(),  # v2 type on /3
        json.dumps({**request_event("3", ["urn:x"]), "data": {"validOn": "soon"}}).encode(),
        json.dumps({**request_event("3", ["urn:x"]), "data": {"productId": [1]}}).encode(),
    ],
)
def test_malformed_events_are_refused_and_nothing_is_stored(host: Host, body: bytes) -> None:
    answer = post(host, body)
    assert answer["status"] == 400
    check_error("3", answer["body"], "BadRequest")
    assert stored(host) == (0, 0)


@pytest.mark.parametrize("content_type", ["text/plain", "application/xml", ""])
def test_wrong_content_types_are_refused(host: Host, content_type: str) -> None:
    body = json.dumps(published_event("3", [str(uuid.uuid4())]))
    answer = post(host, body, content_type)
    assert answer["status"] == 400
    check_error("3", answer["body"], "BadRequest")
    assert stored(host) == (0, 0)


def test_cloudevents_content_type_with_charset_and_plain_json_are_accepted(host: Host) -> None:
    for media in ("application/cloudevents+json; charset=UTF-8", "application/json"):
        assert (
            post(host, json.dumps(published_event("3", [str(uuid.uuid4())])), media)["status"]
            == 200
        )
    assert stored(host) == (2, 0)


def test_oversized_bodies_are_refused_with_413(host: Host) -> None:
    event = published_event("3", [str(uuid.uuid4())])
    event["data"]["padding"] = "x" * (70 * 1024)  # the test host accepts 64 KiB
    answer = post(host, json.dumps(event))
    assert answer["status"] == 413
    check_error("3", answer["body"], "BadRequest")
    assert stored(host) == (0, 0)


def test_oversized_chunked_body_without_length_is_refused(host: Host) -> None:
    def chunks() -> Iterator[bytes]:
        for _ in range(100):
            yield b" " * 1024

    answer = host.http.post(
        "/3/events",
        content=chunks(),
        headers={"authorization": f"Bearer {host.token()}", "content-type": CE},
    )
    assert answer.status_code == 413


def test_v2_unsupported_event_type_is_not_implemented(host: Host) -> None:
    body = json.dumps({**published_event("2", []), "type": "org.example.Other"})
    answer = post(host, body, version="2")
    assert answer["status"] == 400
    check_error("2", answer["body"], "NotImplemented")


def test_v2_request_by_unsupported_fragment_is_not_implemented(host: Host) -> None:
    event = request_event("2", ["urn:x"])
    event["data"]["pf"]["pcf"] = {"declaredUnit": "kilogram"}
    answer = post(host, json.dumps(event), version="2")
    assert answer["status"] == 400
    check_error("2", answer["body"], "NotImplemented")
    assert stored(host) == (0, 0)


def test_replayed_events_are_refused_and_stored_once(host: Host) -> None:
    event = request_event("3", ["urn:gtin:5695872369587"])
    assert post(host, json.dumps(event))["status"] == 200
    again = post(host, json.dumps(event))
    assert again["status"] == 400
    check_error("3", again["body"], "BadRequest")
    assert "received before" in again["body"]["message"]
    assert stored(host) == (1, 1)  # one event, one answer queued


def test_request_from_an_unregistered_source_is_refused(host: Host) -> None:
    event = request_event("3", ["urn:gtin:5695872369587"], source="https://evil.example")
    answer = post(host, json.dumps(event))
    assert answer["status"] == 400
    assert stored(host) == (0, 0)


def test_request_from_a_client_without_callback_endpoint_is_refused(host: Host) -> None:
    answer = host.event("3", request_event("3", ["urn:x"]), who="C")
    assert answer.status_code == 400
    assert "no events endpoint" in answer.json()["message"]
    assert stored(host) == (0, 0)


# --- ids and parameters ---------------------------------------------------------------------


@pytest.mark.parametrize("version", ["2", "3"])
@pytest.mark.parametrize("bad", ["not-a-uuid", "12345", "0000000000000000000000000000000Z"])
def test_invalid_uuids_are_bad_requests(host: Host, version: str, bad: str) -> None:
    answer = host.get(f"/{version}/footprints/{bad}")
    assert answer.status_code == 400
    check_error(version, answer.json(), "BadRequest")


@pytest.mark.parametrize("query", ["limit=0", "limit=-1", "limit=x", "offset=-1", "validOn=soon"])
def test_bad_list_parameters_are_bad_requests(host: Host, query: str) -> None:
    answer = host.get(f"/3/footprints?{query}")
    assert answer.status_code == 400
    check_error("3", answer.json(), "BadRequest")


def test_unknown_route_and_method_get_pact_bodies(host: Host) -> None:
    answer = host.get("/3/nothing")
    assert answer.status_code == 404
    check_error("3", answer.json(), "NotFound")
    answer = host.http.delete("/3/footprints")
    assert answer.status_code == 405
    check_error("3", answer.json(), "BadRequest")


# --- tokens ---------------------------------------------------------------------------------


def _signer(host: Host, **kwargs: object) -> TokenSigner:
    return TokenSigner(installation_secret(host.home), **kwargs)  # type: ignore[arg-type]


def test_expired_token_is_401_token_expired(host: Host) -> None:
    client_id = host.seeded.creds["A"][0]
    past = dt.datetime.now(dt.UTC) - dt.timedelta(hours=2)
    token = _signer(host).sign(client_id=client_id, scopes=["footprint:list"], now=past)
    for version in ("2", "3"):
        answer = host.http.get(
            f"/{version}/footprints", headers={"authorization": f"Bearer {token.access_token}"}
        )
        assert answer.status_code == 401
        check_error(version, answer.json(), "TokenExpired")
    answer = host.event("3", published_event("3", [str(uuid.uuid4())]), token=token.access_token)
    assert answer.status_code == 401
    assert answer.json()["code"] == "TokenExpired"


def test_forged_tokens_are_refused(host: Host) -> None:
    client_id = host.seeded.creds["A"][0]
    now = dt.datetime.now(dt.UTC)
    other_key = TokenSigner(b"k" * 32).sign(client_id=client_id, scopes=["footprint:list"], now=now)
    real = host.token()
    head, body, sig = real.split(".")
    claims = json.loads(base64.urlsafe_b64decode(body + "=="))
    claims["sub"] = host.seeded.creds["B"][0]
    tampered = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    none_alg = base64.urlsafe_b64encode(b'{"alg":"none"}').rstrip(b"=").decode()
    for token in (
        other_key.access_token,
        f"{head}.{tampered}.{sig}",
        f"{none_alg}.{body}.",
        real + "x",
        "a.b.c",
        "",
    ):
        answer = host.http.get("/3/footprints", headers={"authorization": f"Bearer {token}"})
        assert answer.status_code == 401, token
        check_error("3", answer.json(), "BadRequest")
    assert host.http.get("/3/footprints").status_code == 401  # no header at all


def test_disabled_client_cannot_get_a_token_and_its_tokens_stop_working(host: Host) -> None:
    answer = host.http.post(
        "/auth/token", auth=host.seeded.creds["D"], data={"grant_type": "client_credentials"}
    )
    assert answer.status_code == 401
    client_id = host.seeded.creds["D"][0]
    token = _signer(host).sign(
        client_id=client_id, scopes=["footprint:list"], now=dt.datetime.now(dt.UTC)
    )
    answer = host.http.get(
        "/3/footprints", headers={"authorization": f"Bearer {token.access_token}"}
    )
    assert answer.status_code == 401


def test_scope_is_enforced_with_access_denied(host: Host) -> None:
    assert host.get("/3/footprints", who="L").status_code == 200
    answer = host.get(f"/3/footprints/{host.seeded.ids['e1']}", who="L")
    assert answer.status_code == 403
    check_error("3", answer.json(), "AccessDenied")
    narrowed = host.token("A", scope="footprint:list")
    answer = host.http.get(
        f"/2/footprints/{host.seeded.ids['e1']}", headers={"authorization": f"Bearer {narrowed}"}
    )
    assert answer.status_code == 403
    check_error("2", answer.json(), "AccessDenied")


def test_token_endpoint_forms(host: Host) -> None:
    """Basic auth, form credentials, extra fields tolerated (gotcha 10); errors per RFC 6749."""
    client_id, secret = host.seeded.creds["A"]
    grant = {"grant_type": "client_credentials"}
    extra = {**grant, "scope": "footprint:list other", "audience": "x", "resource": "y"}
    assert host.http.post("/auth/token", auth=(client_id, secret), data=extra).status_code == 200
    form = {**grant, "client_id": client_id, "client_secret": secret}
    answer = host.http.post("/auth/token", data=form)
    assert answer.status_code == 200
    assert answer.headers["cache-control"] == "no-store"
    answer = host.http.post(
        "/auth/token", auth=(client_id, secret), data={"grant_type": "password"}
    )
    assert answer.status_code == 400
    assert answer.json()["error"] == "unsupported_grant_type"
    answer = host.http.post("/auth/token", data=grant)
    assert answer.status_code == 401
    answer = host.http.post("/auth/token", headers={"authorization": "Basic !!!"}, data=grant)
    assert answer.status_code == 401
    answer = host.http.post("/auth/token", auth=(client_id, secret), json=grant)
    assert answer.status_code == 400
    lister = host.seeded.creds["L"]
    answer = host.http.post("/auth/token", auth=lister, data={**grant, "scope": "footprint:read"})
    assert answer.json()["error"] == "invalid_scope"


# --- isolation: A never sees B's footprints, nor C's (another data owner) -------------------


def _ids(host: Host, who: str, path: str) -> set[str]:
    answer = host.get(path, who=who)
    assert answer.status_code == 200
    check_list(path[1], answer.json())
    return {d["id"] for d in answer.json()["data"]}


def test_isolation_by_list_get_and_filter(host: Host) -> None:
    from fixtures.api_support import visible

    ids = host.seeded.ids
    for who in ("A", "B", "C"):
        mine = visible(host.seeded, who)
        assert _ids(host, who, "/3/footprints") == mine
        assert _ids(host, who, "/2/footprints") <= mine  # v2 leaves unmappable ones out
        for pf_id in ids.values():
            for version in ("2", "3"):
                answer = host.get(f"/{version}/footprints/{pf_id}", who=who)
                if pf_id not in mine:
                    assert answer.status_code == 404, (who, pf_id)
        # filters that name the others' footprints find nothing of theirs
        for query in (
            "productId=urn:gtin:5268596541023",
            "productId=urn:gtin:5695872369587",
            "geography=DE-BW",
            "geography=US",
            "productId=urn:gtin:0000000000009",
            "classification=urn:pact:productclassification:un-cpc:7892",
            "status=Active",
            "companyId=urn:company:example:company1",
        ):
            assert _ids(host, who, f"/3/footprints?{query}") <= mine
        assert _ids(host, who, "/2/footprints?limit=1") <= mine


def test_isolation_by_events(host: Host) -> None:
    """B asks for A's product: Rejected, never Fulfilled with A's footprints."""
    event = request_event("3", ["urn:gtin:5695872369587", "urn:gtin:4712345060507"])
    assert host.event("3", event, who="B").status_code == 200
    host.deliverer.deliver_due()
    [(_, answer)] = host.received
    assert answer["type"].endswith("RequestRejectedEvent.3")
    host.received.clear()
    event = request_event("3", ["urn:gtin:5268596541023", "urn:gtin:5695872369587"])
    assert host.event("3", event, who="B").status_code == 200
    host.deliverer.deliver_due()
    [(_, answer)] = host.received
    assert {pf["id"] for pf in answer["data"]["pfs"]} == {
        host.seeded.ids["e3"],
        host.seeded.ids["e4"],
    }


def test_isolation_by_pagination_links(host: Host) -> None:
    """A pagination link replayed with another client's token shows that client's list."""
    answer = host.get("/3/footprints?limit=1", who="A")
    target = answer.headers["link"].split(">")[0][1:].removeprefix("https://pact.test")
    from fixtures.api_support import visible

    assert _ids(host, "B", target) <= visible(host.seeded, "B")


# --- gotchas (pact-notes §3.5) not covered elsewhere ----------------------------------------


def test_gotcha_link_header_is_quoted_next_first_and_keeps_filters(host: Host) -> None:
    answer = host.get("/3/footprints?status=Active&limit=1&geography=US&geography=US-TX")
    link = answer.headers["link"]
    assert link.startswith("<https://pact.test/3/footprints?")
    assert link.endswith('>; rel="next"')
    assert "status=Active" in link
    assert "geography=US&geography=US-TX" in link


def test_gotcha_last_page_has_no_link(host: Host) -> None:
    assert "link" not in host.get("/3/footprints?limit=3").headers
    assert "link" not in host.get("/3/footprints").headers
