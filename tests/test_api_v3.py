"""PACT v3 conformance: every case of the official tool (pact-notes §3.3, TC1–TC40).

Each test is named after its case and asserts what the conformance service asserts, plus that
every body validates against the official v3 OpenAPI. HTTP-only cases (TC9–11, TC17) are here
in-process (the app refuses non-HTTPS requests) and in ``test_api_https.py`` over a real
socket. Runs on SQLite and PostgreSQL (``engine`` fixture).
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from fixtures.api_host import BASE, Host, published_event, request_event, serve_host
from fixtures.api_support import check_error, check_event, check_get, check_list
from openpcf.db.repositories import add_years
from openpcf.exchange.criteria import parse_datetime


@pytest.fixture
def host(engine: Engine, tmp_path: Path) -> Iterator[Host]:
    yield from serve_host(engine, tmp_path)


V = "3"
LINK = re.compile(r'<(.*)>;\s*rel="(.*)"')


def first(host: Host) -> dict[str, Any]:
    body = host.get("/3/footprints").json()
    assert body["data"], "the tool aborts on an empty list"
    return dict(body["data"][0])


def listed(host: Host, query: str) -> list[dict[str, Any]]:
    answer = host.get(f"/3/footprints?{query}")
    assert answer.status_code == 200, answer.text
    check_list(V, answer.json())
    return list(answer.json()["data"])


def validity(pf: dict[str, Any]) -> tuple[dt.datetime, dt.datetime]:
    end = parse_datetime(pf["pcf"]["referencePeriodEnd"], "end")
    start = parse_datetime(pf["validityPeriodStart"], "s") if pf.get("validityPeriodStart") else end
    stop = (
        parse_datetime(pf["validityPeriodEnd"], "e")
        if pf.get("validityPeriodEnd")
        else add_years(end, 3)
    )
    return start, stop


def iso(moment: dt.datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


# --- authentication -------------------------------------------------------------------------


def test_tc01_obtain_auth_token_with_valid_credentials(host: Host) -> None:
    answer = host.http.post(
        "/auth/token", auth=host.seeded.creds["A"], data={"grant_type": "client_credentials"}
    )
    assert answer.status_code == 200
    body = answer.json()
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 3600
    assert set(body["scope"].split()) == {"footprint:list", "footprint:read"}


def test_tc02_obtain_auth_token_with_invalid_credentials(host: Host) -> None:
    answer = host.http.post(
        "/auth/token", auth=("nobody", "wrong"), data={"grant_type": "client_credentials"}
    )
    assert answer.status_code in (400, 401)
    assert answer.json()["error"] == "invalid_client"


# --- synchronous actions --------------------------------------------------------------------


def test_tc03_get_pcf_using_getfootprint(host: Host) -> None:
    pf = first(host)
    answer = host.get(f"/3/footprints/{pf['id']}")
    assert answer.status_code == 200
    check_get(V, answer.json())
    assert answer.json()["data"]["id"] == pf["id"]


def test_tc04_get_all_pcfs_using_listfootprints(host: Host) -> None:
    initial = host.get("/3/footprints").json()["data"]
    answer = host.get("/3/footprints")
    assert answer.status_code in (200, 202)
    check_list(V, answer.json())
    assert len(answer.json()["data"]) == len(initial) == 3


def test_tc05_pagination_link_implementation_of_action_listfootprints(host: Host) -> None:
    answer = host.get("/3/footprints?limit=1")
    check_list(V, answer.json())
    links = {
        rel: target
        for target, rel in (LINK.match(p).groups() for p in answer.headers["link"].split(", "))  # type: ignore[union-attr]
    }
    assert list(links) == ["next"]
    target = links["next"]
    assert target.startswith(BASE + "/3/footprints?")  # absolute, same host as the request
    seen = [answer.json()["data"][0]["id"]]
    while target:
        page = host.get(target.removeprefix(BASE))
        assert page.status_code == 200
        check_list(V, page.json())
        assert len(page.json()["data"]) >= 1
        seen += [d["id"] for d in page.json()["data"]]
        again = host.get(target.removeprefix(BASE))  # a link can be called repeatedly
        assert again.json() == page.json()
        match = LINK.match(page.headers.get("link", ""))
        target = match.group(1) if match else ""
    assert sorted(seen) == sorted(d["id"] for d in host.get("/3/footprints").json()["data"])


def test_tc06_attempt_listfootprints_with_invalid_token(host: Host) -> None:
    answer = host.http.get(
        "/3/footprints",
        headers={"authorization": f"Bearer very-invalid-access-token-{uuid.uuid4()}"},
    )
    assert answer.status_code in (400, 401)
    check_error(V, answer.json(), "BadRequest")


def test_tc07_attempt_getfootprint_with_invalid_token(host: Host) -> None:
    pf_id = host.seeded.ids["e1"]
    answer = host.http.get(
        f"/3/footprints/{pf_id}", headers={"authorization": "Bearer very-invalid-access-token"}
    )
    assert answer.status_code in (400, 401)
    check_error(V, answer.json(), "BadRequest")


def test_tc08_attempt_getfootprint_with_non_existent_pfid(host: Host) -> None:
    answer = host.get("/3/footprints/00000000-0000-0000-0000-000000000000")
    assert answer.status_code == 404
    check_error(V, answer.json(), "NotFound")


def _plain_http(host: Host) -> TestClient:
    return TestClient(host.http.app, base_url="http://pact.test")


def test_tc09_attempt_authentication_through_http(host: Host) -> None:
    answer = _plain_http(host).post(
        "/auth/token", auth=host.seeded.creds["A"], data={"grant_type": "client_credentials"}
    )
    assert answer.status_code != 200
    assert "access_token" not in answer.text
    assert not answer.is_redirect


def test_tc10_attempt_listfootprints_through_http(host: Host) -> None:
    token = host.token()
    answer = _plain_http(host).get("/3/footprints", headers={"authorization": f"Bearer {token}"})
    assert answer.status_code not in (200, 202)
    assert not answer.is_redirect


def test_tc11_attempt_getfootprint_through_http(host: Host) -> None:
    token = host.token()
    answer = _plain_http(host).get(
        f"/3/footprints/{host.seeded.ids['e1']}", headers={"authorization": f"Bearer {token}"}
    )
    assert answer.status_code not in (200, 202)
    assert not answer.is_redirect


# --- asynchronous requests and events -------------------------------------------------------


def test_tc12_send_asynchronous_pcf_request(host: Host) -> None:
    pf = first(host)
    event = request_event(V, pf["productIds"])
    check_event(V, "RequestCreatedEvent", event)
    answer = host.event(V, event)
    assert answer.status_code == 200
    assert answer.content == b""


def test_tc13_received_request_fulfilled_response(host: Host) -> None:
    pf = first(host)
    event = request_event(V, pf["productIds"], event_id=f"{uuid.uuid4()}/12")
    assert host.event(V, event).status_code == 200
    assert not host.received  # answered asynchronously, not within the request
    report = host.deliverer.deliver_due()
    assert len(report.delivered) == 1
    [(path, answer)] = host.received
    assert path == "/3/events"
    check_event(V, "RequestFulfilledEvent", answer)
    assert answer["data"]["requestEventId"] == event["id"]
    assert answer["data"]["pfs"]
    for doc in answer["data"]["pfs"]:
        assert set(doc["productIds"]) & set(pf["productIds"])


def test_tc14a_send_asynchronous_request_to_be_rejected(host: Host) -> None:
    event = request_event(V, ["urn:pact:null"], event_id=f"{uuid.uuid4()}/14.A")
    assert host.event(V, event).status_code == 200


def test_tc14b_handle_rejected_pcf_request(host: Host) -> None:
    event = request_event(V, ["urn:pact:null"], event_id=f"{uuid.uuid4()}/14.A")
    assert host.event(V, event).status_code == 200
    host.deliverer.deliver_due()
    [(path, answer)] = host.received
    assert path == "/3/events"
    check_event(V, "RequestRejectedEvent", answer)
    assert answer["data"]["requestEventId"] == event["id"]
    assert answer["data"]["error"]["code"] == "NotFound"
    assert answer["data"]["error"]["message"]


def test_tc15_receive_notification_of_pcf_update_published_event(host: Host) -> None:
    event = published_event(V, ["3a6c14a7-4deb-498a-b5ea-16ce2535b576"])
    check_event(V, "PublishedEvent", event)
    assert host.event(V, event).status_code == 200


def test_tc16_attempt_action_events_with_invalid_token(host: Host) -> None:
    event = published_event(V, [str(uuid.uuid4())])
    answer = host.event(V, event, token="very-invalid-access-token")
    assert answer.status_code in (400, 401)
    check_error(V, answer.json(), "BadRequest")


def test_tc17_attempt_action_events_through_http(host: Host) -> None:
    token = host.token()
    answer = _plain_http(host).post(
        "/3/events",
        json=published_event(V, [str(uuid.uuid4())]),
        headers={"authorization": f"Bearer {token}"},
    )
    assert answer.status_code != 200
    assert not answer.is_redirect


def test_tc18_openid_connect_based_authentication_flow(host: Host) -> None:
    config = host.http.get("/.well-known/openid-configuration")
    assert config.status_code == 200
    endpoint = config.json()["token_endpoint"]
    assert endpoint == f"{BASE}/auth/token"
    answer = host.http.post(
        endpoint.removeprefix(BASE),
        auth=host.seeded.creds["A"],
        data={"grant_type": "client_credentials"},
    )
    assert answer.status_code == 200


def test_tc19_openid_connect_authentication_flow_with_incorrect_credentials(host: Host) -> None:
    endpoint = host.http.get("/.well-known/openid-configuration").json()["token_endpoint"]
    answer = host.http.post(
        endpoint.removeprefix(BASE), auth=("x", "y"), data={"grant_type": "client_credentials"}
    )
    assert answer.status_code in (400, 401)


# --- filtering (values from the first footprint, as the tool takes them) ---------------------


def test_tc20_filter_by_product_id(host: Host) -> None:
    x = first(host)["productIds"][0]
    items = listed(host, f"productId={x}")
    assert items
    assert all(x in pf["productIds"] for pf in items)


def test_tc21_filter_by_company_id(host: Host) -> None:
    x = first(host)["companyIds"][0]
    items = listed(host, f"companyId={x}")
    assert items
    assert all(x in pf["companyIds"] for pf in items)


def test_tc22_filter_by_geography(host: Host) -> None:
    pcf = first(host)["pcf"]
    g = (
        pcf.get("geographyCountry")
        or pcf.get("geographyRegionOrSubregion")
        or pcf.get("geographyCountrySubdivision")
    )
    items = listed(host, f"geography={g}")
    assert items
    for pf in items:
        assert g in (
            pf["pcf"].get("geographyCountry"),
            pf["pcf"].get("geographyRegionOrSubregion"),
            pf["pcf"].get("geographyCountrySubdivision"),
        )


def test_tc23_filter_by_classification(host: Host) -> None:
    c = first(host)["productClassifications"][0]
    items = listed(host, f"classification={c}")
    assert items
    assert all(c in pf["productClassifications"] for pf in items)


def test_tc24_filter_by_valid_on(host: Host) -> None:
    pf = first(host)
    d = validity(pf)[0]  # validityPeriodStart: the inclusive lower bound
    items = listed(host, f"validOn={iso(d)}")
    assert pf["id"] in {i["id"] for i in items}
    for item in items:
        start, end = validity(item)
        assert start <= d <= end


def test_tc25_filter_by_valid_after(host: Host) -> None:
    d = validity(first(host))[0] - dt.timedelta(days=1)
    items = listed(host, f"validAfter={iso(d)}")
    assert items
    assert all(validity(i)[0] > d for i in items)


def test_tc26_filter_by_valid_before(host: Host) -> None:
    d = validity(first(host))[1] + dt.timedelta(days=1)
    items = listed(host, f"validBefore={iso(d)}")
    assert items
    assert all(validity(i)[1] < d for i in items)


def test_tc27_filter_by_status(host: Host) -> None:
    items = listed(host, "status=Active")
    assert items
    assert all(i["status"] == "Active" for i in items)
    deprecated = listed(host, "status=Deprecated")
    assert [i["id"] for i in deprecated] == [host.seeded.ids["old2"]]


def test_tc28_filter_by_status_and_product_id(host: Host) -> None:
    x = first(host)["productIds"][0]
    items = listed(host, f"status=Active&productId={x}")
    assert items
    assert all(i["status"] == "Active" and x in i["productIds"] for i in items)


def test_tc29_multiple_filter_parameters_using_or_logic(host: Host) -> None:
    x = first(host)["companyIds"][0]
    items = listed(host, f"companyId={x}&companyId=urn:bogus:{uuid.uuid4()}&companyId=urn:x:y")
    assert items
    assert all(x in i["companyIds"] for i in items)


def test_tc30_to_tc39_negative_filters_give_200_and_empty_list(host: Host) -> None:
    rand = uuid.uuid4().hex
    for query in (
        f"productId=urn:bogus:product:{rand}",  # TC30
        f"companyId=urn:bogus:company:{rand}",  # TC31
        "geography=XX",  # TC32
        f"classification=urn:bogus:class:{rand}",  # TC33
        "validOn=1900-01-01T00:00:00Z",  # TC34
        "validAfter=2099-12-31T23:59:59Z",  # TC35
        "validBefore=1900-01-01T00:00:00Z",  # TC36
        f"status=BogusStatus{rand}",  # TC37: never 400 for an unknown status
        f"companyId=urn:bogus:{rand}&productId=urn:bogus:{rand}",  # TC38
        f"companyId=urn:a:{rand}&companyId=urn:b:{rand}&companyId=urn:c:{rand}",  # TC39
    ):
        assert listed(host, query) == [], query


def test_tc40_published_event_malformed_request(host: Host) -> None:
    answer = host.event(V, published_event(V, ["urn:gtin:4712345060507"]))
    assert answer.status_code == 400
    check_error(V, answer.json(), "BadRequest")


# --- beyond the tool: filter semantics of the spec ------------------------------------------


def test_filter_names_and_values_ignore_case(host: Host) -> None:
    """The spec's own example writes ``productid`` and ``validon``; values ignore case."""
    x = first(host)["productIds"][0].upper()
    items = listed(host, f"productid={x}&STATUS=active")
    assert [i["id"] for i in items] == [host.seeded.ids["e1"]]


def test_geography_matches_region_country_or_subdivision(host: Host) -> None:
    assert {i["id"] for i in listed(host, "geography=US&geography=us-tx")} == {
        host.seeded.ids["e1"],
        host.seeded.ids["e2"],
        host.seeded.ids["old2"],
    }


def test_deprecated_footprints_are_listed_unless_status_asks_otherwise(host: Host) -> None:
    ids = {i["id"] for i in listed(host, "")}
    assert host.seeded.ids["old2"] in ids
    old = host.get(f"/3/footprints/{host.seeded.ids['old2']}").json()["data"]
    assert old["status"] == "Deprecated"
    new = host.get(f"/3/footprints/{host.seeded.ids['e2']}").json()["data"]
    assert new["precedingPfIds"] == [host.seeded.ids["old2"]]


def test_vendor_parameters_are_ignored(host: Host) -> None:
    assert len(listed(host, "x-atq-invoice-id=12345&limit=100")) == 3
