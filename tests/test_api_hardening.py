"""Issue 11, items 6 and 9 on the PACT host: rate limits and event quotas (429 with a PACT
body and ``Retry-After``), every malformed request a 4xx on SQLite and PostgreSQL, and a 500
that keeps the connection and logs one short line.
"""

from __future__ import annotations

import json
import logging
import socket
import ssl
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, func, select

from fixtures.api_host import CE, Host, published_event, request_event, serve_host
from fixtures.api_support import check_error, https_server, seed
from openpcf.api import HostConfig, create_app
from openpcf.api.ratelimit import RateLimits
from openpcf.db.engine import session_scope
from openpcf.db.models import Event
from openpcf.db.repositories import events as event_repo
from openpcf.services.pact import host as pact_host
from openpcf.services.pact.tls import dev_certificate


@pytest.fixture
def host(engine: Engine, tmp_path: Path) -> Iterator[Host]:
    yield from serve_host(engine, tmp_path)


def stored_events(engine: Engine) -> int:
    with session_scope(engine) as s:
        return s.scalar(select(func.count()).select_from(Event)) or 0


def _app(engine: Engine, tmp_path: Path, limits: RateLimits) -> Any:
    config = HostConfig(home=tmp_path / "home", run_sender=False, rate_limits=limits)
    return create_app(engine=engine, config=config)


def _is_429(answer: httpx.Response) -> bool:
    if answer.status_code != 429:
        return False
    check_error("3", answer.json(), "BadRequest")
    assert int(answer.headers["retry-after"]) >= 1
    return True


# --- item 6: rate limits --------------------------------------------------------------------


def test_item6_token_endpoint_is_limited_per_address(engine: Engine, tmp_path: Path) -> None:
    """Three requests a minute from one address; a fourth from it is 429 (before the secret
    is hashed), while another address is still served."""
    seeded = seed(engine)
    app = _app(engine, tmp_path, RateLimits(token_per_address="3/minute"))
    form = {"grant_type": "client_credentials"}
    with (
        TestClient(app, base_url="https://pact.test", client=("10.0.0.66", 1)) as flood,
        TestClient(app, base_url="https://pact.test", client=("10.0.0.1", 1)) as legit,
    ):
        answers = [flood.post("/auth/token", auth=("nobody", "x"), data=form) for _ in range(4)]
        assert [a.status_code for a in answers[:3]] == [401, 401, 401]
        assert _is_429(answers[3])
        assert "token requests from 10.0.0.66" in answers[3].json()["message"]
        assert legit.post("/auth/token", auth=seeded.creds["A"], data=form).status_code == 200


def test_item6_token_endpoint_is_limited_per_client(engine: Engine, tmp_path: Path) -> None:
    """Guessing one client's secret from many addresses is limited by the client id."""
    seeded = seed(engine)
    app = _app(engine, tmp_path, RateLimits(token_per_client="2/minute"))
    form = {"grant_type": "client_credentials"}
    client_id = seeded.creds["B"][0]
    codes = []
    for n in range(3):
        with TestClient(app, base_url="https://pact.test", client=(f"10.0.1.{n}", 1)) as http:
            codes.append(http.post("/auth/token", auth=(client_id, "guess"), data=form))
    assert [a.status_code for a in codes[:2]] == [401, 401]
    assert _is_429(codes[2])
    with TestClient(app, base_url="https://pact.test") as http:  # another client is served
        assert http.post("/auth/token", auth=seeded.creds["A"], data=form).status_code == 200


def test_item6_events_are_limited_per_client_and_per_address(
    engine: Engine, tmp_path: Path
) -> None:
    seeded = seed(engine)
    app = _app(engine, tmp_path, RateLimits(events_per_client="2/minute"))
    form = {"grant_type": "client_credentials"}
    with TestClient(app, base_url="https://pact.test") as http:
        token = http.post("/auth/token", auth=seeded.creds["A"], data=form).json()["access_token"]
        headers = {"authorization": f"Bearer {token}", "content-type": CE}

        def send() -> httpx.Response:
            body = json.dumps(published_event("3", [str(uuid.uuid4())]))
            return http.post("/3/events", content=body, headers=headers)

        assert [send().status_code for _ in range(2)] == [200, 200]
        refused = send()
        assert _is_429(refused)
        assert "events of client" in refused.json()["message"]
    assert stored_events(engine) == 2

    app = _app(engine, tmp_path, RateLimits(events_per_address="1/minute"))
    with TestClient(app, base_url="https://pact.test") as http:
        bad = {"authorization": "Bearer forged", "content-type": CE}
        assert http.post("/3/events", content=b"{}", headers=bad).status_code == 401
        assert _is_429(http.post("/3/events", content=b"{}", headers=bad))


def test_item6_event_storage_quota_is_a_429(host: Host, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(event_repo, "EVENT_QUOTA", event_repo.EventQuota(events=2))
    answers = [host.event("3", published_event("3", [str(uuid.uuid4())])) for _ in range(3)]
    assert [a.status_code for a in answers[:2]] == [200, 200]
    assert _is_429(answers[2])
    assert "has stored 2 events" in answers[2].json()["message"]
    assert stored_events(host.engine) == 2


def test_item6_openapi_declares_the_429s(host: Host) -> None:
    spec = host.http.get("/openapi.json").json()
    assert "429" in spec["paths"]["/auth/token"]["post"]["responses"]
    assert "429" in spec["paths"]["/3/events"]["post"]["responses"]


#: The flooding client, in a process of its own (so that its work is not done by the test's
#: interpreter, which also runs the server): URL, CA file, seconds, threads; prints the
#: status codes it got as JSON.
FLOOD = """
import json, sys, threading, time, uuid, ssl, httpx
url, cafile, seconds, threads = sys.argv[1], sys.argv[2], float(sys.argv[3]), int(sys.argv[4])
context = ssl.create_default_context(cafile=cafile)
codes, end = [], time.monotonic() + seconds
def run():
    transport = httpx.HTTPTransport(verify=context, local_address="127.0.0.2")
    with httpx.Client(transport=transport, timeout=30) as http:
        while time.monotonic() < end:
            auth, form = (uuid.uuid4().hex, "x"), {"grant_type": "client_credentials"}
            codes.append(http.post(url + "/auth/token", auth=auth, data=form).status_code)
workers = [threading.Thread(target=run) for _ in range(threads)]
[w.start() for w in workers]
[w.join() for w in workers]
print(json.dumps(codes))
"""


@pytest.mark.slow
def test_item6_a_flooding_client_does_not_slow_a_legitimate_one(
    engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A real HTTPS server (uvicorn, in this process), production scrypt cost. Another
    process floods ``/auth/token`` from 127.0.0.2 with 4 threads and made-up client ids
    (without a limit each costs a full scrypt hash: the dummy hash of an unknown id); once
    the flood has spent its allowance (30 requests a minute from one address), a legitimate
    client asks 10 tokens from 127.0.0.1 (a token is needed hourly for listing and events).

    Measured on the 2-core development machine (shared; three runs each, SQLite), p50 of the
    legitimate token requests:

    ============================  ==============  ==========================================
    situation                     p50             flood requests answered in 6 s
    ============================  ==============  ==========================================
    no flood                      41 to 64 ms
    flood, no rate limit          218 to 299 ms   88 to 103, each a scrypt hash (401)
    flood, default rate limits    83 to 115 ms    3,300 to 3,600, all but 30 of them 429
    ============================  ==============  ==========================================

    What remains under the limit is the cost of answering 550 refused requests a second on
    two cores shared with the flooding process; a refusal is counted by
    :class:`~openpcf.api.ratelimit.RateLimitGate` before routing and body parsing (counted
    in the route instead, p50 was 124 ms). The no-limit row is this test with
    ``RateLimits(token_per_address="100000/minute", token_per_client="100000/minute")``; run
    it with ``-s`` to see the figures. Only what does not depend on the machine is asserted:
    every legitimate request succeeds and the flood is answered 429.
    """
    monkeypatch.undo()  # production scrypt cost (the conftest made it cheap)
    seeded = seed(engine)
    tls = dev_certificate(tmp_path / "tls")
    app = _app(engine, tmp_path, RateLimits())
    context = ssl.create_default_context(cafile=str(tls.cert))
    form = {"grant_type": "client_credentials"}

    def legit(url: str) -> list[float]:
        times = []
        with httpx.Client(verify=context, timeout=30) as http:
            for _ in range(10):
                start = time.perf_counter()
                answer = http.post(f"{url}/auth/token", auth=seeded.creds["A"], data=form)
                times.append(time.perf_counter() - start)
                assert answer.status_code == 200, answer.text
        return times

    with https_server(app, tls.cert, tls.key) as url:
        quiet = legit(url)
        flood = subprocess.Popen(
            [sys.executable, "-c", FLOOD, url, str(tls.cert), "6", "4"],
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            time.sleep(2.5)  # the flood spends its allowance, then gets 429s
            busy = legit(url)
        finally:
            out, _ = flood.communicate(timeout=60)
    flood_codes: list[int] = json.loads(out)
    print(  # the figures of the docstring, with -s
        f"p50 quiet {statistics.median(quiet) * 1e3:.0f} ms, "
        f"under flood {statistics.median(busy) * 1e3:.0f} ms, "
        f"flood answered {len(flood_codes)} times, {flood_codes.count(429)} x 429"
    )
    assert flood_codes.count(429) > 0
    assert set(flood_codes) <= {401, 429}


# --- item 9: every malformed request is a 4xx -----------------------------------------------


def _deep(n: int) -> str:
    return "[" * n + "]" * n


MALFORMED_EVENTS = {
    "deep JSON": json.dumps(published_event("3", [str(uuid.uuid4())]))[:-1]
    + f', "x": {_deep(20_000)}}}',
    "lone surrogate in data": json.dumps(request_event("3", ["urn:x\ud800"])),
    "lone surrogate in id": json.dumps(
        {**published_event("3", [str(uuid.uuid4())]), "id": "\udc00"}
    ),
    "NUL in a filter value": json.dumps(request_event("3", ["urn:x\u0000y"])),
    "NUL in the id": json.dumps({**published_event("3", [str(uuid.uuid4())]), "id": "a\u0000"}),
    "NaN": json.dumps(published_event("3", [str(uuid.uuid4())]))[:-1] + ', "n": NaN}',
    "Infinity": json.dumps(published_event("3", [str(uuid.uuid4())]))[:-1] + ', "n": -Infinity}',
    "overflowing number": json.dumps(published_event("3", [str(uuid.uuid4())]))[:-1]
    + ', "n": 1e999}',
}


@pytest.mark.parametrize("case", sorted(MALFORMED_EVENTS))
def test_item9_malformed_events_are_400_on_every_backend(host: Host, case: str) -> None:
    """Each was a 500 before (RecursionError; UnicodeEncodeError; on PostgreSQL "text
    fields cannot contain NUL" and "Token NaN is invalid"); now 400, nothing stored."""
    answer = host.http.post(
        "/3/events",
        content=MALFORMED_EVENTS[case].encode("utf-8", "surrogatepass"),
        headers={"authorization": f"Bearer {host.token()}", "content-type": CE},
    )
    assert answer.status_code == 400, answer.text
    check_error("3", answer.json(), "BadRequest")
    assert stored_events(host.engine) == 0


@pytest.mark.parametrize(
    "path",
    [
        "/3/footprints?productId=a%00b",
        "/3/footprints?companyId=%00",
        "/2/footprints?$filter=productIds/any(p:(p eq 'a%00'))",
        "/3/footprints/a%00b",
        "/2/footprints?$filter=" + "(" * 2000 + "created eq '2024'" + ")" * 2000,
        "/2/footprints?$filter=" + "(" * 40 + "created eq '2024'" + ")" * 40,
    ],
)
def test_item9_malformed_queries_are_400_on_every_backend(host: Host, path: str) -> None:
    answer = host.get(path)
    assert answer.status_code == 400, answer.text
    check_error("3" if path.startswith("/3") else "2", answer.json(), "BadRequest")


def test_item9_nul_in_token_request_is_400(host: Host) -> None:
    answer = host.http.post(
        "/auth/token",
        data={"grant_type": "client_credentials", "client_id": "a\x00b", "client_secret": "x"},
    )
    assert answer.status_code == 400
    assert answer.json()["error"] == "invalid_request"


def test_item9_unexpected_error_is_one_short_log_line_and_a_pact_500(
    host: Host, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """An exception with a 200 kB message (SQLAlchemy puts statements and parameters in its
    messages) deep in a recursion: one ERROR line of a few hundred characters, no traceback
    (the traceback goes to DEBUG), and the exception is not re-raised to the server."""

    def broken(*args: object, **kwargs: object) -> None:
        def down(n: int) -> None:
            if n == 0:
                raise RuntimeError("x" * 200_000)
            down(n - 1)

        down(200)

    monkeypatch.setattr(pact_host, "list_footprints", broken)
    with caplog.at_level(logging.ERROR, logger="openpcf.api"):
        answer = host.get("/3/footprints")  # raise_server_exceptions: a re-raise would fail
    assert answer.status_code == 500
    check_error("3", answer.json(), "InternalError")
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1
    line = errors[0].getMessage()
    assert "internal error on GET /3/footprints: RuntimeError: xxx" in line
    assert len(line) < 1000
    assert errors[0].exc_info is None


def test_item9_a_500_keeps_the_connection_open(
    engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Over one real keep-alive HTTPS connection: a request that fails with 500, then a
    request that succeeds, on the same socket (Starlette's re-raise made uvicorn close it)."""
    seed(engine)
    calls = {"n": 0}
    real = pact_host.list_footprints

    def first_fails(*args: Any, **kwargs: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 1:
            raise RuntimeError("boom")
        return real(*args, **kwargs)

    monkeypatch.setattr(pact_host, "list_footprints", first_fails)
    tls = dev_certificate(tmp_path / "tls")
    app = _app(engine, tmp_path, RateLimits())
    context = ssl.create_default_context(cafile=str(tls.cert))
    with https_server(app, tls.cert, tls.key) as url:
        port = int(url.rsplit(":", 1)[1])
        with httpx.Client(verify=context) as http:
            seeded_token = _token(http, url, engine)
        request = (
            "GET /3/footprints HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            f"Authorization: Bearer {seeded_token}\r\n\r\n"
        ).encode()
        with (
            socket.create_connection(("127.0.0.1", port), timeout=10) as raw,
            context.wrap_socket(raw, server_hostname="127.0.0.1") as conn,
        ):
            conn.sendall(request)
            first = _read_response(conn)
            conn.sendall(request)
            second = _read_response(conn)
    assert first.startswith(b"HTTP/1.1 500")
    assert b"connection: close" not in first.lower()
    assert second.startswith(b"HTTP/1.1 200")


def _token(http: httpx.Client, url: str, engine: Engine) -> str:
    from openpcf.db import repositories as repo

    with session_scope(engine) as s:
        org = repo.get_organisation(s, name="Supplier Co")
        issued = repo.create_client(s, organisation=org, name="keepalive")
    answer = http.post(
        f"{url}/auth/token",
        auth=(issued.client_id, issued.secret),
        data={"grant_type": "client_credentials"},
    )
    return str(answer.json()["access_token"])


def _read_response(conn: ssl.SSLSocket) -> bytes:
    """One HTTP/1.1 response with a content-length body."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            return data
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = next(
        int(line.split(b":", 1)[1])
        for line in head.split(b"\r\n")
        if line.lower().startswith(b"content-length:")
    )
    while len(body) < length:
        body += conn.recv(65536)
    return head + b"\r\n\r\n" + body


# --- item 12: property-based fuzz of the routes with hostile values -------------------------

_NASTY = st.sampled_from(
    ["\x00", "\ud800", "\udfff", "\ufffe", "'", "''", "(", ")", "%00", "\u202e", "\U0001f600",
     "eq", "and", "or", "any(", "x:(x eq ", "9999-12-31T23:59:59Z", "0000-01-01", "-0", "1e999"]
)  # fmt: skip
_TEXT = st.lists(st.one_of(_NASTY, st.text(max_size=8)), max_size=6).map("".join)
_JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.integers(min_value=-(10**40), max_value=10**40)
    | _TEXT,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_TEXT, inner, max_size=4),
    max_leaves=20,
)
_EVENT_TYPES = st.sampled_from(
    [
        "org.wbcsd.pact.ProductFootprint.RequestCreatedEvent.3",
        "org.wbcsd.pact.ProductFootprint.RequestFulfilledEvent.3",
        "org.wbcsd.pact.ProductFootprint.RequestRejectedEvent.3",
        "org.wbcsd.pact.ProductFootprint.PublishedEvent.3",
    ]
)


@st.composite
def hostile_event(draw: st.DrawFn) -> bytes:
    """A CloudEvent whose fields and data are hostile, sometimes wrapped in deep arrays."""
    event = {
        "type": draw(_EVENT_TYPES | _TEXT),
        "specversion": draw(st.just("1.0") | _TEXT),
        "id": draw(_TEXT),
        "source": draw(st.just("https://requester.test") | _TEXT),
        "time": draw(st.just("2025-01-01T00:00:00Z") | _TEXT),
        "data": draw(
            st.fixed_dictionaries(
                {},
                optional={
                    "productId": st.lists(_TEXT, max_size=3) | _TEXT,
                    "pfIds": st.lists(_TEXT | st.uuids().map(str), max_size=3),
                    "requestEventId": _TEXT,
                    "pfs": st.lists(st.dictionaries(_TEXT, _JSON, max_size=3), max_size=2),
                    "pf": _JSON,
                    "validOn": _TEXT,
                    "error": _JSON,
                },
            )
        ),
    }
    text = json.dumps(event)  # NaN and Infinity are written as such: hostile on purpose
    depth = draw(st.sampled_from([0, 0, 0, 70, 5000]))
    if depth:
        text = text[:-1] + ', "x": ' + "[" * depth + "]" * depth + "}"
    return text.encode("utf-8", "surrogatepass")


_FUZZ = settings(
    max_examples=40,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@_FUZZ
@given(body=hostile_event())
def test_item12_fuzz_events_never_5xx(host: Host, body: bytes) -> None:
    answer = host.http.post(
        "/3/events",
        content=body,
        headers={"authorization": f"Bearer {host.token('B')}", "content-type": CE},
    )
    assert answer.status_code < 500, answer.text


@_FUZZ
@given(
    filters=st.lists(
        st.tuples(
            st.sampled_from(
                [
                    "productId",
                    "companyId",
                    "geography",
                    "classification",
                    "validOn",
                    "validAfter",
                    "status",
                    "limit",
                    "offset",
                ]
            ),
            _TEXT,
        ),
        max_size=3,
    ),
    odata=st.lists(
        st.sampled_from(
            [
                "(",
                ")",
                " and ",
                " eq ",
                " lt ",
                "'x'",
                "created",
                "productIds/any",
                "(p:(p eq '",
                "')",
                "pcf/referencePeriodEnd",
                "'2024-01-01T00:00:00Z'",
            ]
        )
        | _NASTY,
        max_size=12,
    ).map("".join),
)
def test_item12_fuzz_list_queries_never_5xx(
    host: Host, filters: list[tuple[str, str]], odata: str
) -> None:
    for path, params in (("/3/footprints", filters), ("/2/footprints", [("$filter", odata)])):
        query = "&".join(
            f"{k}={quote(v.encode('utf-8', 'surrogatepass'), safe='')}" for k, v in params
        )
        answer = host.get(f"{path}?{query}")
        assert answer.status_code < 500, answer.text


@_FUZZ
@given(client_id=_TEXT, secret=_TEXT, scope=_TEXT, grant=st.just("client_credentials") | _TEXT)
def test_item12_fuzz_token_requests_never_5xx(
    host: Host, client_id: str, secret: str, scope: str, grant: str
) -> None:
    form = {"grant_type": grant, "client_id": client_id, "client_secret": secret, "scope": scope}
    body = "&".join(
        f"{k}={quote(v.encode('utf-8', 'surrogatepass'), safe='')}" for k, v in form.items()
    )
    answer = host.http.post(
        "/auth/token",
        content=body,
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert answer.status_code < 500, answer.text
