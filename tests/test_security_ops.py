"""Issue 11, items 8 and 10: secrets only to the peer, and what operating after a leak needs.

* 8: a peer's OpenID discovery document cannot send our client secret to another host or to
  plain ``http://``.
* 10: revoke a grant, disable a client, rotate its credentials (old tokens stop at once);
  OpenPCF's home and SQLite database are private whatever the umask; security headers and
  ``Cache-Control: no-store`` on footprint data; no CDN-backed docs pages; links and discovery
  built from the configured public URL, never from the request's ``Host`` header.

The CLI parts run on SQLite and PostgreSQL (``db_url``).
"""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from fixtures.cli_home import cli, ok
from openpcf.api import HostConfig, create_app
from openpcf.exchange.client import PactClient
from openpcf.exchange.errors import PactRemoteError

ROOT = Path(__file__).resolve().parents[1]
WIDGET = ROOT / "tests/fixtures/pact_widget.yaml"
PRODUCT = "urn:openpcf:product:widget"

# --------------------------------------------------------------------------------------------
# 8. the client secret goes to the peer only


def _discovering(token_endpoint: str, posts: list[str]) -> httpx.Client:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/.well-known/openid-configuration":
            return httpx.Response(200, json={"token_endpoint": token_endpoint})
        posts.append(str(request.url))
        return httpx.Response(200, json={"access_token": "t", "expires_in": 60})

    return httpx.Client(transport=httpx.MockTransport(handler))


@pytest.mark.parametrize(
    "endpoint",
    [
        "https://evil.example/auth/token",  # another host
        "http://peer.example/auth/token",  # plain HTTP for an HTTPS peer
        "https://peer.example:8443/auth/token",  # another port
    ],
)
def test_discovery_cannot_redirect_the_client_secret(endpoint: str) -> None:
    posts: list[str] = []
    client = PactClient(
        "https://peer.example",
        client_id="me",
        client_secret="s3cret",
        http=_discovering(endpoint, posts),
    )
    with pytest.raises(PactRemoteError, match="client secret is not sent there"):
        client.token()
    assert posts == []


def test_discovery_on_the_peer_itself_is_followed() -> None:
    posts: list[str] = []
    client = PactClient(
        "https://peer.example",
        client_id="me",
        client_secret="s3cret",
        http=_discovering("https://peer.example/oauth2/token", posts),
    )
    assert client.token() == "t"
    assert posts == ["https://peer.example/oauth2/token"]


# --------------------------------------------------------------------------------------------
# 10. operations after a leak (CLI), on both backends


@pytest.fixture
def host(home: Path) -> Iterator[TestClient]:
    from openpcf.cli.options import open_database

    engine = open_database()
    assert engine is not None
    app = create_app(engine=engine, config=HostConfig(home=home, run_sender=False))
    with TestClient(app, base_url="https://pact.test") as http:
        yield http
    engine.dispose()


def _token(http: TestClient, creds: dict[str, str]) -> httpx.Response:
    return http.post(
        "/auth/token",
        auth=(creds["client_id"], creds["client_secret"]),
        data={"grant_type": "client_credentials"},
    )


def _list(http: TestClient, token: str) -> httpx.Response:
    return http.get("/3/footprints", headers={"authorization": f"Bearer {token}"})


def test_rotate_disable_and_revoke(home: Path, host: TestClient) -> None:
    ok("publish", str(WIDGET), "--org", "Widget Co")
    creds = json.loads(ok("storage", "create-client", "Widget Co", "--json").stdout)
    ok("storage", "grant", creds["client_id"], PRODUCT)
    old_token = _token(host, creds).json()["access_token"]
    assert len(_list(host, old_token).json()["data"]) == 1

    rotated = json.loads(ok("storage", "rotate-client", creds["client_id"], "--json").stdout)
    assert rotated["client_id"] != creds["client_id"]
    assert rotated["scopes"] == ["footprint:list", "footprint:read"]
    assert _list(host, old_token).status_code == 401  # tokens of the leaked secret stop at once
    assert _token(host, creds).status_code in (400, 401)
    new_token = _token(host, rotated).json()["access_token"]
    assert len(_list(host, new_token).json()["data"]) == 1  # the grants came along

    revoked = ok("storage", "revoke", rotated["client_id"], PRODUCT)
    assert "no longer read" in revoked.stdout
    assert _list(host, new_token).json()["data"] == []
    assert "nothing changed" in ok("storage", "revoke", rotated["client_id"], PRODUCT).stdout

    ok("storage", "disable-client", rotated["client_id"])
    assert _list(host, new_token).status_code == 401
    assert _token(host, rotated).status_code in (400, 401)
    refused = cli("storage", "rotate-client", rotated["client_id"])
    assert refused.exit_code != 0
    assert "is disabled" in str(refused.exception)


# --------------------------------------------------------------------------------------------
# 10. private files, headers, docs, public URL


def test_home_and_database_are_private_whatever_the_umask(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from fixtures.in_process import openpcf as run_openpcf
    from openpcf.settings import get_settings

    home = tmp_path / "fresh-home"
    monkeypatch.setenv("OPENPCF_HOME", str(home))
    monkeypatch.delenv("OPENPCF_DATABASE_URL", raising=False)
    get_settings.cache_clear()
    previous = os.umask(0o002)  # a permissive umask
    try:
        result = run_openpcf("publish", str(WIDGET))
    finally:
        os.umask(previous)
        get_settings.cache_clear()
    assert result.returncode == 0, result.stderr
    assert stat.S_IMODE(home.stat().st_mode) == 0o700
    assert stat.S_IMODE((home / "openpcf.db").stat().st_mode) == 0o600


def test_security_headers_and_no_docs_pages(engine: Engine, tmp_path: Path) -> None:
    app = create_app(engine=engine, config=HostConfig(home=tmp_path / "home", run_sender=False))
    with TestClient(app, base_url="https://pact.test") as http:
        answer = http.get("/3/footprints")
        assert answer.status_code == 401
        assert answer.headers["strict-transport-security"].startswith("max-age=")
        assert answer.headers["x-content-type-options"] == "nosniff"
        assert answer.headers["cache-control"] == "no-store"
        assert "frame-ancestors 'none'" in answer.headers["content-security-policy"]
        public = http.get("/.well-known/jwks.json")
        assert public.headers["x-content-type-options"] == "nosniff"
        assert public.headers.get("cache-control") != "no-store"
        assert http.get("/docs").status_code == 404  # its page loads scripts from a CDN
        assert http.get("/redoc").status_code == 404
        assert http.get("/openapi.json").status_code == 200


def test_links_use_the_public_url_not_the_host_header(engine: Engine, tmp_path: Path) -> None:
    config = HostConfig(
        home=tmp_path / "home", run_sender=False, public_url="https://pcf.example.com"
    )
    app = create_app(engine=engine, config=config)
    with TestClient(app, base_url="https://pact.test") as http:
        found = http.get(
            "/.well-known/openid-configuration", headers={"host": "evil.example"}
        ).json()
        assert found["token_endpoint"] == "https://pcf.example.com/auth/token"
        assert found["issuer"] == "https://pcf.example.com"
