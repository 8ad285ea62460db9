"""The PACT host over real HTTPS on loopback (uvicorn + a development certificate).

A representative set of the conformance cases runs over a real TLS socket, the HTTP-only
cases (TC9–11, TC17) against the real listener (plain HTTP to the TLS port must never give
data, and there is no redirect), and the asynchronous round trip runs between two OpenPCF
hosts: the requester sends RequestCreated, the supplier's background sender authenticates at
the requester's ``/auth/token`` and delivers Fulfilled/Rejected to its ``/3/events``; the
requester stores the footprints and its ``wait_for_answer`` sees the answer. The requester
records each request first (naming the client the supplier answers with), as answers to
requests it did not send are refused; the footprints land in its database's supplier store.
"""

from __future__ import annotations

import os
import re
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine

from fixtures.api_support import (
    Seeded,
    check_error,
    check_event,
    check_get,
    check_list,
    free_port,
    https_server,
    seed,
)
from openpcf.api import HostConfig, create_app
from openpcf.db import migrate
from openpcf.db import repositories as repo
from openpcf.db.engine import make_engine, session_scope
from openpcf.exchange.client import PactClient
from openpcf.services.pact.peers import MemoryPeers, Peer
from openpcf.services.pact.pull import send_request, wait_for_answer
from openpcf.services.pact.tls import dev_certificate

LINK = re.compile(r'<(.*)>;\s*rel="(.*)"')


@dataclass
class Pair:
    supplier: str
    requester: str
    cert: Path
    seeded: Seeded
    requester_engine: Engine
    requester_home: Path
    answering_client: str
    """The client id the requester issued to the supplier (its answers come with it)."""

    def http(self) -> httpx.Client:
        return httpx.Client(verify=ssl.create_default_context(cafile=self.cert), timeout=10)

    def token(self, http: httpx.Client, who: str = "A") -> str:
        answer = http.post(
            f"{self.supplier}/auth/token",
            auth=self.seeded.creds[who],
            data={"grant_type": "client_credentials"},
        )
        assert answer.status_code == 200
        return str(answer.json()["access_token"])


@pytest.fixture
def pair(engine: Engine, tmp_path: Path) -> Iterator[Pair]:
    tls = dev_certificate(tmp_path / "tls")
    seeded = seed(engine)
    requester_url = f"sqlite:///{tmp_path / 'requester.db'}"
    migrate.upgrade(requester_url)
    requester_engine = make_engine(requester_url)
    with session_scope(requester_engine) as s:
        buyer = repo.create_organisation(s, name="Buyer")
        for_supplier = repo.create_client(s, organisation=buyer, name="Supplier Co")
    requester_home = tmp_path / "requester"
    requester_app = create_app(
        engine=requester_engine, config=HostConfig(home=requester_home, run_sender=False)
    )
    with https_server(requester_app, tls.cert, tls.key) as requester:
        peers = MemoryPeers(
            [
                Peer(
                    client_id=seeded.creds["A"][0],
                    base_url=requester,
                    remote_client_id=for_supplier.client_id,
                    remote_client_secret=for_supplier.secret,
                    ca_file=str(tls.cert),
                )
            ]
        )
        config = HostConfig(home=tmp_path / "supplier", peers=peers, sender_interval=0.2)
        with https_server(create_app(engine=engine, config=config), tls.cert, tls.key) as url:
            yield Pair(
                url,
                requester,
                tls.cert,
                seeded,
                requester_engine,
                requester_home,
                for_supplier.client_id,
            )
    requester_engine.dispose()


def test_conformance_cases_over_https(pair: Pair) -> None:
    """TC1, 3, 4, 5, 6, 8, 15, 16, 18 and TC3/TC8 of v2.3 over a real TLS socket."""
    with pair.http() as http:
        token = pair.token(http)  # TC1
        bearer = {"authorization": f"Bearer {token}"}
        answer = http.get(f"{pair.supplier}/3/footprints", headers=bearer)  # TC4
        check_list("3", answer.json())
        assert len(answer.json()["data"]) == 3
        first = answer.json()["data"][0]
        answer = http.get(f"{pair.supplier}/3/footprints/{first['id']}", headers=bearer)  # TC3
        check_get("3", answer.json())
        answer = http.get(f"{pair.supplier}/3/footprints?limit=1", headers=bearer)  # TC5
        match = LINK.match(answer.headers["link"])
        assert match is not None
        assert match.group(1).startswith(f"{pair.supplier}/3/footprints?")  # host = Host header
        page = http.get(match.group(1), headers=bearer)
        assert page.status_code == 200
        assert len(page.json()["data"]) == 1
        answer = http.get(f"{pair.supplier}/3/footprints", headers={"authorization": "Bearer x"})
        assert answer.status_code == 401  # TC6
        check_error("3", answer.json(), "BadRequest")
        nil = "00000000-0000-0000-0000-000000000000"
        check_error(
            "3", http.get(f"{pair.supplier}/3/footprints/{nil}", headers=bearer).json(), "NotFound"
        )  # TC8
        check_error(
            "2",
            http.get(f"{pair.supplier}/2/footprints/{nil}", headers=bearer).json(),
            "NoSuchFootprint",
        )  # v2 TC8
        check_get(
            "2", http.get(f"{pair.supplier}/2/footprints/{first['id']}", headers=bearer).json()
        )
        event = {
            "type": "org.wbcsd.pact.ProductFootprint.PublishedEvent.3",
            "specversion": "1.0",
            "id": "e-15",
            "source": pair.requester,
            "time": "2025-01-01T00:00:00Z",
            "data": {"pfIds": ["3a6c14a7-4deb-498a-b5ea-16ce2535b576"]},
        }
        ce = {"content-type": "application/cloudevents+json; charset=UTF-8"}
        answer = http.post(f"{pair.supplier}/3/events", json=event, headers={**bearer, **ce})
        assert answer.status_code == 200  # TC15
        answer = http.post(
            f"{pair.supplier}/3/events", json=event, headers={"authorization": "Bearer bad", **ce}
        )
        assert answer.status_code == 401  # TC16
        discovered = http.get(f"{pair.supplier}/.well-known/openid-configuration").json()
        assert discovered["token_endpoint"] == f"{pair.supplier}/auth/token"  # TC18


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/auth/token"),
        ("GET", "/3/footprints"),
        ("GET", "/2/footprints"),
        ("GET", "/3/footprints/00000000-0000-0000-0000-000000000000"),
        ("POST", "/3/events"),
        ("POST", "/2/events"),
    ],
)
def test_tc09_10_11_17_no_plain_http_and_no_redirect(pair: Pair, method: str, path: str) -> None:
    plain = pair.supplier.replace("https://", "http://")
    with httpx.Client(timeout=5, follow_redirects=False) as http:
        try:
            answer = http.request(
                method,
                plain + path,
                auth=pair.seeded.creds["A"],
                data={"grant_type": "client_credentials"},
            )
        except httpx.HTTPError:
            return  # the TLS listener does not speak plain HTTP: nothing served
        assert answer.status_code not in (200, 202)
        assert not answer.is_redirect
        assert "access_token" not in answer.text


def test_tc12_13_14_async_round_trip_between_two_hosts(pair: Pair) -> None:
    with session_scope(pair.requester_engine):
        pass
    with PactClient(
        pair.supplier,
        client_id=pair.seeded.creds["A"][0],
        client_secret=pair.seeded.creds["A"][1],
        verify=str(pair.cert),
    ) as client:
        fulfilled_id = send_request(
            client,
            engine=pair.requester_engine,
            answered_by=pair.answering_client,
            source=pair.requester,
            criteria={"productId": ["urn:gtin:5695872369587"]},
        )
        rejected_id = send_request(
            client,
            engine=pair.requester_engine,
            answered_by=pair.answering_client,
            source=pair.requester,
            criteria={"productId": ["urn:pact:null"]},
        )
    fulfilled = wait_for_answer(pair.requester_engine, request_id=fulfilled_id, timeout=20)
    assert fulfilled is not None
    check_event("3", "RequestFulfilledEvent", fulfilled)
    assert [pf["id"] for pf in fulfilled["data"]["pfs"]] == [pair.seeded.ids["e1"]]
    with session_scope(pair.requester_engine) as session:
        stored = repo.find_supplier_footprints(
            session, ref=pair.seeded.ids["e1"], organisation=None
        )
        assert [(str(r.footprint_id), r.origin) for r in stored] == [
            (pair.seeded.ids["e1"], "answered")
        ]
    rejected = wait_for_answer(pair.requester_engine, request_id=rejected_id, timeout=20)
    assert rejected is not None
    check_event("3", "RequestRejectedEvent", rejected)
    assert rejected["data"]["error"]["code"] == "NotFound"


def test_serve_command_serves_https_only(tmp_path: Path) -> None:
    """``openpcf serve --dev-cert`` in a subprocess: HTTPS answers, plain HTTP gets nothing."""
    port = free_port()
    env = {
        **os.environ,
        "OPENPCF_HOME": str(tmp_path / "home"),
        "OPENPCF_DATABASE_URL": f"sqlite:///{tmp_path / 'serve.db'}",
    }
    code = "import typer; from openpcf.cli.serve import serve; typer.run(serve)"
    process = subprocess.Popen(
        [sys.executable, "-c", code, "--port", str(port), "--dev-cert"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        cert = tmp_path / "home" / "tls" / "dev-cert.pem"
        deadline = time.monotonic() + 30
        answer = None
        while time.monotonic() < deadline:
            try:
                answer = httpx.get(
                    f"https://127.0.0.1:{port}/.well-known/openid-configuration",
                    verify=ssl.create_default_context(cafile=cert),
                    timeout=2,
                )
                break
            except (httpx.HTTPError, FileNotFoundError, OSError):
                time.sleep(0.2)
        assert answer is not None, "openpcf serve did not start"
        assert answer.json()["token_endpoint"] == f"https://127.0.0.1:{port}/auth/token"
        with pytest.raises(httpx.HTTPError):
            httpx.get(f"http://127.0.0.1:{port}/3/footprints", timeout=2)
    finally:
        process.terminate()
        process.wait(20)
        if process.stdout:
            process.stdout.close()


def test_serve_refuses_to_run_without_a_certificate(tmp_path: Path) -> None:
    env = {**os.environ, "OPENPCF_HOME": str(tmp_path)}
    code = (
        "import typer; from openpcf.cli.main import run; from openpcf.cli.serve import serve;"
        "typer.run(serve)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode != 0
    assert "HTTPS only" in done.stderr + done.stdout
