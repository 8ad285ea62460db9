"""The recipient's side: ``openpcf pact pull`` over real HTTPS, the client's pagination and
token handling, pulled footprints used as ``supplier_footprint``, ``pact peer`` / ``pact deliver``.

Pulled footprints go to the database's supplier store (origin ``pulled``), no longer to files in
``$OPENPCF_HOME/supplier_footprints``: the assertions that listed those files read the store.
"""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine, select
from typer.testing import CliRunner

from fixtures.api_support import Seeded, https_server, seed
from openpcf.api import HostConfig, create_app
from openpcf.cli.pact import app as pact_app
from openpcf.db.engine import make_engine, session_scope
from openpcf.db.models import SupplierFootprint
from openpcf.exchange.client import PactClient, next_link
from openpcf.exchange.errors import PactRemoteError
from openpcf.exchange.schema import validated_against
from openpcf.exchange.supplier import supplier_factor
from openpcf.services.pact.pull import pull
from openpcf.services.pact.tls import CertificatePair, dev_certificate
from openpcf.services.suppliers import SupplierStore


@pytest.fixture
def supplier(engine: Engine, tmp_path: Path) -> Iterator[tuple[str, Seeded, CertificatePair]]:
    tls = dev_certificate(tmp_path / "tls")
    seeded = seed(engine)
    app = create_app(engine=engine, config=HostConfig(home=tmp_path / "host", run_sender=False))
    with https_server(app, tls.cert, tls.key) as url:
        yield url, seeded, tls


@pytest.fixture
def recipient(tmp_path: Path) -> Iterator[Engine]:
    """The pulling side's own database (SQLite at the head revision)."""
    from openpcf.db import migrate

    url = f"sqlite:///{tmp_path / 'recipient.db'}"
    migrate.upgrade(url)
    engine = make_engine(url)
    yield engine
    engine.dispose()


@pytest.mark.usefixtures("fresh_settings")
def test_pact_pull_command_stores_validated_footprints(
    supplier: tuple[str, Seeded, CertificatePair], tmp_path: Path
) -> None:
    url, seeded, tls = supplier
    client_id, secret = seeded.creds["A"]
    home = tmp_path / "home"
    result = CliRunner().invoke(
        pact_app,
        [
            "pull",
            url,
            "--client-id",
            client_id,
            "--client-secret",
            secret,
            "--ca-file",
            str(tls.cert),
            "--json",
        ],
        env={"OPENPCF_HOME": str(home)},
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["invalid"] == {}
    assert report["schema"] == validated_against("3")  # OpenPCF's own v3.0 validator
    stored = sorted(report["stored"])
    assert stored == sorted((seeded.ids["e1"], seeded.ids["e2"], seeded.ids["old2"]))
    db = make_engine(f"sqlite:///{home / 'openpcf.db'}")
    try:
        with session_scope(db) as session:
            rows = session.execute(
                select(SupplierFootprint.footprint_id, SupplierFootprint.origin)
            ).all()
    finally:
        db.dispose()
    assert sorted(str(i) for i, _ in rows) == stored
    assert {origin for _, origin in rows} == {"pulled"}
    assert not (home / "supplier_footprints").exists()  # the old file inbox is gone


def test_pull_follows_pagination_and_validates_with_openpcfs_own_schema(
    supplier: tuple[str, Seeded, CertificatePair], recipient: Engine
) -> None:
    """Formerly ``…_checks_structure_without_openapi``: ``openapi=None`` no longer skips the
    schema (pulled footprints are always validated), it means OpenPCF's own validator of the
    PACT v3.0 ProductFootprint (no OpenAPI file ships with OpenPCF)."""
    url, seeded, tls = supplier
    with PactClient(
        url,
        client_id=seeded.creds["B"][0],
        client_secret=seeded.creds["B"][1],
        verify=str(tls.cert),
    ) as client:
        report = pull(client, engine=recipient, limit=1, openapi=None, params={"status": "Active"})
    assert report.schema == validated_against("3")
    assert set(report.stored) == {seeded.ids["e3"], seeded.ids["e4"]}


def test_pulled_footprint_is_usable_as_supplier_footprint(
    supplier: tuple[str, Seeded, CertificatePair], recipient: Engine, tmp_path: Path
) -> None:
    url, seeded, tls = supplier
    with PactClient(
        url,
        client_id=seeded.creds["A"][0],
        client_secret=seeded.creds["A"][1],
        verify=str(tls.cert),
    ) as client:
        report = pull(client, engine=recipient)
    pf_id = next(i for i in report.stored if i == seeded.ids["e2"])
    store = SupplierStore(recipient.url.render_as_string(hide_password=False))
    factor = supplier_factor(pf_id, base=tmp_path, store=store)
    assert factor.unit


def _mock(handler: object) -> httpx.Client:
    return httpx.Client(transport=httpx.MockTransport(handler))  # type: ignore[arg-type]


def test_client_refuses_links_to_other_servers_and_bad_documents(recipient: Engine) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/auth/token":
            return httpx.Response(200, json={"access_token": "t", "expires_in": 60})
        if request.url.path == "/3/footprints":
            return httpx.Response(
                200,
                json={"data": [{"id": "not-a-uuid"}]},
                headers={"link": '<https://evil.example/3/footprints>; rel="next"'},
            )
        return httpx.Response(404)

    client = PactClient(
        "https://supplier.example", client_id="a", client_secret="b", http=_mock(handler)
    )
    with pytest.raises(PactRemoteError, match="another server"):
        pull(client, engine=recipient)
    with session_scope(recipient) as session:  # the page's invalid footprint was refused
        assert session.scalars(select(SupplierFootprint)).all() == []


def test_client_fetches_a_new_token_once_on_401() -> None:
    tokens = iter(["old", "new"])
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/.well-known/openid-configuration":
            # on the peer itself: a token endpoint on another host is refused (issue 11, item 8;
            # tests/test_security_ops.py); a separate auth server is configured as auth_base_url
            return httpx.Response(200, json={"token_endpoint": "https://s.example/oauth/token"})
        if request.url.path == "/oauth/token":
            assert request.headers["authorization"].startswith("Basic ")
            return httpx.Response(200, json={"access_token": next(tokens)})
        seen.append(request.headers["authorization"])
        if request.headers["authorization"] == "Bearer old":
            return httpx.Response(401, json={"code": "TokenExpired", "message": "expired"})
        return httpx.Response(200, json={"data": {"id": "x"}})

    client = PactClient("https://s.example", client_id="a", client_secret="b", http=_mock(handler))
    assert client.get_footprint("x") == {"id": "x"}
    assert seen == ["Bearer old", "Bearer new"]


def test_next_link_parsing() -> None:
    assert next_link('<https://a/x?o=1>; rel="next"') == "https://a/x?o=1"
    assert next_link('<https://a/p>; rel="prev", <https://a/n>; rel=next') == "https://a/n"
    assert next_link(None) is None


@pytest.fixture
def fresh_settings() -> Iterator[None]:
    """``get_settings`` is cached: forget it around a test that sets OPENPCF_* variables."""
    from openpcf.settings import get_settings

    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


@pytest.mark.usefixtures("fresh_settings")
def test_peer_and_deliver_commands(tmp_path: Path) -> None:
    env = {"OPENPCF_HOME": str(tmp_path), "OPENPCF_DATABASE_URL": f"sqlite:///{tmp_path}/x.db"}
    result = CliRunner().invoke(
        pact_app,
        [
            "peer",
            "opcf-1",
            "--base-url",
            "https://buyer.example",
            "--remote-client-id",
            "r",
            "--remote-client-secret",
            "s",
        ],
        env=env,
    )
    assert result.exit_code == 0, result.output
    path = tmp_path / "pact" / "peers.json"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert json.loads(path.read_text())["peers"][0]["base_url"] == "https://buyer.example"
    from openpcf.db import migrate

    migrate.upgrade(env["OPENPCF_DATABASE_URL"])
    result = CliRunner().invoke(pact_app, ["deliver", "--json"], env=env)
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == {"delivered": 0, "failed": 0, "abandoned": 0}
    bad = CliRunner().invoke(
        pact_app,
        [
            "peer",
            "x",
            "--base-url",
            "http://plain.example",
            "--remote-client-id",
            "r",
            "--remote-client-secret",
            "s",
        ],
        env=env,
    )
    assert bad.exit_code != 0
