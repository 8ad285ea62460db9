"""PACT v2.3 conformance: every case of the official tool for v2 (pact-notes §3.3, TC1–TC21),
plus the v3 → v2.3 mapping and the ``$filter`` subset. Every body is validated against the
official v2 OpenAPI (``NoSuchFootprint`` against the prose, see ``check_error``).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from fixtures.api_host import BASE, Host, published_event, request_event, serve_host
from fixtures.api_support import check_error, check_event, check_get, check_list, example
from openpcf.exchange.criteria import parse_datetime
from openpcf.exchange.errors import BadRequestError, UnsupportedRequestError
from openpcf.exchange.v2 import NotMappableError, v2_view
from openpcf.services.pact.filter import parse_filter


@pytest.fixture
def host(engine: Engine, tmp_path: Path) -> Iterator[Host]:
    yield from serve_host(engine, tmp_path)


V = "2"
LINK = re.compile(r'<(.*)>;\s*rel="(.*)"')


def first(host: Host) -> dict[str, Any]:
    body = host.get("/2/footprints").json()
    assert body["data"]
    return dict(body["data"][0])


def _plain_http(host: Host) -> TestClient:
    return TestClient(host.http.app, base_url="http://pact.test")


def test_tc01_obtain_auth_token_with_valid_credentials(host: Host) -> None:
    answer = host.http.post(
        "/auth/token", auth=host.seeded.creds["A"], data={"grant_type": "client_credentials"}
    )
    assert answer.status_code == 200
    assert answer.json()["token_type"] == "bearer"


def test_tc02_obtain_auth_token_with_invalid_credentials(host: Host) -> None:
    answer = host.http.post(
        "/auth/token", auth=("x", uuid.uuid4().hex), data={"grant_type": "client_credentials"}
    )
    assert answer.status_code in (400, 401)


def test_tc03_get_pcf_using_getfootprint(host: Host) -> None:
    pf = first(host)
    answer = host.get(f"/2/footprints/{pf['id']}")
    assert answer.status_code == 200
    check_get(V, answer.json())
    assert answer.json()["data"]["id"] == pf["id"]


def test_tc04_get_all_pcfs_using_listfootprints(host: Host) -> None:
    initial = host.get("/2/footprints").json()["data"]
    answer = host.get("/2/footprints")
    assert answer.status_code in (200, 202)
    check_list(V, answer.json())
    assert len(answer.json()["data"]) == len(initial) == 3


def test_tc05_pagination_link_implementation_of_action_listfootprints(host: Host) -> None:
    answer = host.get("/2/footprints?limit=1")
    match = LINK.match(answer.headers["link"])
    assert match is not None
    assert match.group(2) == "next"
    assert match.group(1).startswith(f"{BASE}/2/footprints?")
    page = host.get(match.group(1).removeprefix(BASE))
    assert page.status_code == 200
    check_list(V, page.json())
    assert len(page.json()["data"]) >= 1


def test_tc06_attempt_listfootprints_with_invalid_token(host: Host) -> None:
    answer = host.http.get("/2/footprints", headers={"authorization": "Bearer very-invalid"})
    assert answer.status_code in (400, 401)
    check_error(V, answer.json(), "BadRequest")


def test_tc07_attempt_getfootprint_with_invalid_token(host: Host) -> None:
    answer = host.http.get(
        f"/2/footprints/{host.seeded.ids['e1']}", headers={"authorization": "Bearer nope"}
    )
    assert answer.status_code in (400, 401)
    check_error(V, answer.json(), "BadRequest")


def test_tc08_attempt_getfootprint_with_non_existent_pfid(host: Host) -> None:
    answer = host.get("/2/footprints/00000000-0000-0000-0000-000000000000")
    assert answer.status_code == 404
    check_error(V, answer.json(), "NoSuchFootprint")


def test_tc09_attempt_authentication_through_http(host: Host) -> None:
    answer = _plain_http(host).post(
        "/auth/token", auth=host.seeded.creds["A"], data={"grant_type": "client_credentials"}
    )
    assert answer.status_code != 200
    assert "access_token" not in answer.text


def test_tc10_attempt_listfootprints_through_http(host: Host) -> None:
    headers = {"authorization": f"Bearer {host.token()}"}
    assert _plain_http(host).get("/2/footprints", headers=headers).status_code not in (200, 202)


def test_tc11_attempt_getfootprint_through_http(host: Host) -> None:
    headers = {"authorization": f"Bearer {host.token()}"}
    path = f"/2/footprints/{host.seeded.ids['e1']}"
    assert _plain_http(host).get(path, headers=headers).status_code not in (200, 202)


def test_tc12_receive_asynchronous_pcf_request(host: Host) -> None:
    event = request_event(V, first(host)["productIds"])
    check_event(V, "RequestCreatedEvent", event)
    assert host.event(V, event).status_code == 200


def test_tc13_received_request_fulfilled_response(host: Host) -> None:
    pf = first(host)
    event = request_event(V, pf["productIds"])
    assert host.event(V, event).status_code == 200
    host.deliverer.deliver_due()
    [(path, answer)] = host.received
    assert path == "/2/events"
    check_event(V, "RequestFulfilledEvent", answer)
    assert answer["data"]["requestEventId"] == event["id"]
    assert answer["data"]["pfs"]
    for doc in answer["data"]["pfs"]:
        assert doc["specVersion"] == "2.3.0"
        assert set(doc["productIds"]) & set(pf["productIds"])


def test_tc14a_send_asynchronous_request_to_be_rejected(host: Host) -> None:
    event = request_event(V, ["urn:pact:null"], event_id=f"{uuid.uuid4()}/14.A")
    assert host.event(V, event).status_code == 200


def test_tc14b_handle_rejected_pcf_request(host: Host) -> None:
    event = request_event(V, ["urn:pact:null"], event_id=f"{uuid.uuid4()}/14.A")
    assert host.event(V, event).status_code == 200
    host.deliverer.deliver_due()
    [(path, answer)] = host.received
    assert path == "/2/events"
    assert answer["type"] == "org.wbcsd.pathfinder.ProductFootprintRequest.Rejected.v1"
    assert answer["data"]["requestEventId"] == event["id"]
    assert answer["data"]["error"]["code"] == "NoSuchFootprint"  # v2.3 prose
    assert answer["data"]["error"]["message"]


def test_tc15_receive_notification_of_pcf_update_published_event(host: Host) -> None:
    event = published_event(V, ["3a6c14a7-4deb-498a-b5ea-16ce2535b576"])
    check_event(V, "PublishedEvent", event)
    assert host.event(V, event).status_code == 200


def test_tc16_attempt_action_events_with_invalid_token(host: Host) -> None:
    answer = host.event(V, published_event(V, [str(uuid.uuid4())]), token="invalid")
    assert answer.status_code in (400, 401)
    check_error(V, answer.json(), "BadRequest")  # v2: a hard requirement


def test_tc17_attempt_action_events_through_http(host: Host) -> None:
    headers = {"authorization": f"Bearer {host.token()}"}
    answer = _plain_http(host).post(
        "/2/events", json=published_event(V, [str(uuid.uuid4())]), headers=headers
    )
    assert answer.status_code != 200


def test_tc18_openid_connect_based_authentication_flow(host: Host) -> None:
    endpoint = host.http.get("/.well-known/openid-configuration").json()["token_endpoint"]
    answer = host.http.post(
        endpoint.removeprefix(BASE),
        auth=host.seeded.creds["A"],
        data={"grant_type": "client_credentials"},
    )
    assert answer.status_code == 200


def test_tc19_openid_connect_authentication_flow_with_incorrect_credentials(host: Host) -> None:
    endpoint = host.http.get("/.well-known/openid-configuration").json()["token_endpoint"]
    answer = host.http.post(
        endpoint.removeprefix(BASE), auth=("a", "b"), data={"grant_type": "client_credentials"}
    )
    assert answer.status_code in (400, 401)


def test_tc20_get_filtered_list_of_footprints(host: Host) -> None:
    created = first(host)["created"]
    answer = host.get("/2/footprints", params={"$filter": f"created ge '{created}'"})
    assert answer.status_code == 200
    check_list(V, answer.json())
    items = answer.json()["data"]
    assert items
    moment = parse_datetime(created, "created")
    assert all(parse_datetime(i["created"], "created") >= moment for i in items)


def test_tc21_published_event_malformed_request(host: Host) -> None:
    answer = host.event(V, published_event(V, ["urn:gtin:4712345060507"]))
    assert answer.status_code == 400
    check_error(V, answer.json(), "BadRequest")


# --- $filter subset -------------------------------------------------------------------------


def test_filter_examples_of_the_spec(host: Host) -> None:
    def ids(expression: str) -> set[str]:
        answer = host.get("/2/footprints", params={"$filter": expression})
        assert answer.status_code == 200, answer.text
        check_list(V, answer.json())
        return {d["id"] for d in answer.json()["data"]}

    seeded = host.seeded.ids
    assert ids("pcf/geographyCountry eq 'US'") == {seeded["e2"], seeded["old2"]}
    assert ids("productIds/any(productId:(productId eq 'urn:gtin:5695872369587'))") == {
        seeded["e1"]
    }
    window = (
        "(pcf/referencePeriodStart ge '2024-01-01T00:00:00.000Z') and "
        "(pcf/referencePeriodEnd lt '2024-12-01T00:00:00.000Z')"
    )
    assert ids(window) == {seeded["old2"]}
    assert ids("productCategoryCpc eq '34110'") == {seeded["e1"]}
    assert ids("companyIds/any(c:(c eq 'urn:nobody'))") == set()


def test_filter_pagination(host: Host) -> None:
    answer = host.get(
        "/2/footprints", params={"$filter": "created ge '2000-01-01T00:00:00Z'", "limit": "2"}
    )
    assert len(answer.json()["data"]) == 2
    match = LINK.match(answer.headers["link"])
    assert match is not None
    rest = host.get(match.group(1).removeprefix(BASE)).json()["data"]
    assert len(rest) == 1
    assert "link" not in host.get(match.group(1).removeprefix(BASE)).headers


def test_unsupported_filter_is_not_implemented_with_400(host: Host) -> None:
    answer = host.get("/2/footprints", params={"$filter": "companyName eq 'X'"})
    assert answer.status_code == 400
    check_error(V, answer.json(), "NotImplemented")
    answer = host.get("/2/footprints", params={"$filter": "created ge '1' or created lt '2'"})
    check_error(V, answer.json(), "NotImplemented")
    answer = host.get("/2/footprints", params={"$filter": "created ge"})
    check_error(V, answer.json(), "BadRequest")


def test_parse_filter_errors() -> None:
    with pytest.raises(UnsupportedRequestError):
        parse_filter("pcf/pCfExcludingBiogenic gt '1'")
    with pytest.raises(BadRequestError):
        parse_filter("created eq 'x' junk")
    with pytest.raises(BadRequestError):
        parse_filter("   ")


# --- the v3 → v2.3 mapping ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("n", "refused"),
    [(1, None), (2, None), (3, "declared unit 'piece'"), (4, "crossSectoralStandardsUsed")],
)
def test_v2_view_of_every_spec_example(n: int, refused: str | None) -> None:
    """Examples 1 and 2 map to valid v2.3; 3 (``piece``) and 4 (only PEF) cannot."""
    if refused:
        with pytest.raises(NotMappableError, match=refused):
            v2_view(example(n), cpc="1")
        return
    doc = v2_view(example(n), cpc="1")
    check_get(V, {"data": doc})
    assert doc["pcf"]["pCfExcludingBiogenic"] == example(n)["pcf"]["pcfExcludingBiogenicUptake"]


def test_v2_view_needs_a_cpc_and_a_v2_unit() -> None:
    doc = example(1)  # classified by CAS only
    with pytest.raises(NotMappableError, match="CPC"):
        v2_view(doc)
    assert v2_view(doc, cpc="341.10")["productCategoryCpc"] == "34110"
    doc["pcf"]["declaredUnitOfMeasurement"] = "piece"
    with pytest.raises(NotMappableError, match="piece"):
        v2_view(doc, cpc="1")


def test_v2_view_of_a_deprecated_footprint_has_a_new_version_and_updated(host: Host) -> None:
    doc = host.get(f"/2/footprints/{host.seeded.ids['old2']}").json()["data"]
    assert doc["status"] == "Deprecated"
    assert doc["version"] == 2
    assert doc["updated"] > doc["created"]
