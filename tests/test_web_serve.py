"""``openpcf serve`` serves the PACT host and the web pages through one ASGI app.

Checks that no page path can overlap a PACT path (from both route tables), that a clashing
page is refused when the app is built, that each request reaches its app with that app's
errors and headers, and walks the main pages and the PACT API through one TestClient over
``https://`` on SQLite and PostgreSQL (``engine``).

Numbers worked out by hand: tests/fixtures/two_process.yaml (see tests/test_web_pages.py) is
1 kg widget = 2 kg steel sheet at 2000 kg CO2/t (4 kg CO2e) + 3 kWh of the Hebei grid 2022 at
0.7252 kg CO2/kWh (2.1756) + 1 g fossil CH4 at GWP100 AR6 29.8 (0.0298): 6.2054 kg CO2e/kg,
the same number on the product page and in the PACT document, under one footprint id.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from fastapi import APIRouter, FastAPI
from fastapi.routing import iter_route_contexts
from fastapi.testclient import TestClient
from sqlalchemy import Engine, create_engine, select
from starlette.routing import Mount

from fixtures.web import Clock
from openpcf.api import HostConfig, create_app
from openpcf.db import repositories as repo
from openpcf.db.engine import session_scope
from openpcf.db.models import Footprint, Organisation
from openpcf.services.publishing import publish
from openpcf.web.app import create_web_app
from openpcf.web.auth import LoginLimits, WebUser
from openpcf.web.serving import HostAndPages, RouteClashError, route_paths

ROOT = Path(__file__).parents[1]
WIDGET = ROOT / "tests/fixtures/two_process.yaml"
T0 = dt.datetime(2025, 3, 1, tzinfo=dt.UTC)
BASE = "https://pcf.test"

MakeUser = Callable[..., WebUser]
Login = Callable[..., httpx.Response]


def _apps(home: Path, engine: Engine | None = None, **web: object) -> tuple[FastAPI, FastAPI]:
    engine = engine or create_engine("sqlite://")
    host = create_app(engine=engine, config=HostConfig(home=home, run_sender=False))
    return host, create_web_app(engine=engine, home=home, **web)  # type: ignore[arg-type]


@pytest.fixture
def served(
    engine: Engine,
    tmp_path: Path,
    web_clock: Clock,
    web_login_limits: LoginLimits,
    cheap_password_hashing: None,
) -> Iterator[TestClient]:
    """The PACT host and the web pages (secure cookies, as under TLS) on one ASGI app."""
    host, web = _apps(tmp_path / "home", engine, clock=web_clock, login_limits=web_login_limits)
    with TestClient(HostAndPages(host=host, web=web), base_url=BASE, follow_redirects=False) as c:
        yield c


# --------------------------------------------------------------------------------------------
# route tables


def _templates(app: FastAPI) -> list[str]:
    """Route templates of ``app``; a mount matches everything under it (``/static/{rest}``)."""
    mounts = {c.route.path for c in iter_route_contexts(app.routes) if isinstance(c.route, Mount)}
    return [f"{p}/{{rest:path}}" if p in mounts else p for p in route_paths(app)]


def _segment_pattern(segment: str) -> re.Pattern[str]:
    parts = re.split(r"(\{[^}]*\})", segment)
    return re.compile("".join("[^/]+" if p.startswith("{") else re.escape(p) for p in parts))


def overlap(a: str, b: str) -> bool:
    """Whether some path matches both route templates, segment by segment (a ``{x:path}``
    segment matches the rest of the path; two variable segments can always match the same
    text).

    >>> overlap("/rules/{rule_id}", "/rules/check"), overlap("/rules", "/rule-check")
    (True, False)
    >>> overlap("/static/{rest:path}", "/static/app.css"), overlap("/3/events", "/3")
    (True, False)
    """
    xs, ys = a.strip("/").split("/"), b.strip("/").split("/")
    for x, y in zip(xs, ys, strict=False):
        if x.endswith(":path}") or y.endswith(":path}"):
            return True
        if "{" in x and "{" in y:
            continue
        if "{" in x and not _segment_pattern(x).fullmatch(y):
            return False
        if "{" in y and not _segment_pattern(y).fullmatch(x):
            return False
        if "{" not in x and "{" not in y and x != y:
            return False
    if len(xs) == len(ys):
        return True
    longer = xs if len(xs) > len(ys) else ys
    return longer[min(len(xs), len(ys))].endswith(":path}")


def test_no_page_path_overlaps_a_pact_path(tmp_path: Path) -> None:
    host, web = _apps(tmp_path / "home")
    hosts, pages = _templates(host), _templates(web)
    assert {"/3/footprints", "/rules", "/rules/{rule_id}", "/auth/token"} <= set(hosts)
    assert {"/", "/login", "/products", "/rule-check", "/people", "/organisation"} <= set(pages)
    assert "/static/{rest:path}" in pages
    clashes = [(h, p) for h in hosts for p in pages if overlap(h, p)]
    assert clashes == []
    # what the renamed rule check page would have clashed with
    assert overlap("/rules/{rule_id}", "/rules/check")
    assert overlap("/rules", "/rules")
    HostAndPages(host=host, web=web)  # builds: every first segment has one owner


def test_a_page_that_would_clash_is_refused_when_the_app_is_built(tmp_path: Path) -> None:
    host, web = _apps(tmp_path / "home")
    page = APIRouter()

    @page.get("/rules/mine")
    def mine() -> str:
        return "a page under the PACT host's /rules"

    web.include_router(page)
    with pytest.raises(RouteClashError, match=r"both claim /rules: '/rules' and the page"):
        HostAndPages(host=host, web=web)
    _, other = _apps(tmp_path / "home")
    variable = APIRouter()

    @variable.get("/{anything}")
    def catch_all(anything: str) -> str:
        return anything

    other.include_router(variable)
    with pytest.raises(RouteClashError, match="starts with a variable"):
        HostAndPages(host=host, web=other)


def test_each_request_reaches_its_app_with_its_errors(served: TestClient) -> None:
    api = served.get("/3/footprints")
    assert api.status_code == 401
    assert api.headers["content-type"] == "application/json"
    assert api.headers["content-security-policy"] == "default-src 'none'; frame-ancestors 'none'"
    wrong_method = served.delete("/3/footprints")
    assert wrong_method.status_code == 405
    assert wrong_method.json()["code"] == "BadRequest"
    # the host owns /rules: its JSON list, whatever the Accept header says
    rules = served.get("/rules", headers={"accept": "text/html"})
    assert rules.headers["content-type"] == "application/json"
    assert any(r["id"] == "hydrogen.electrolysis" for r in rules.json())
    # an unknown path: the host's JSON 404 for a client, the 404 page for a browser
    client = served.get("/no-such-thing", headers={"accept": "application/json"})
    assert client.status_code == 404
    assert client.json() == {"code": "NotFound", "message": "Not Found"}
    browser = served.get("/no-such-thing", headers={"accept": "text/html,*/*;q=0.8"})
    assert browser.status_code == 404
    assert browser.headers["content-type"].startswith("text/html")
    assert "This page does not exist, or you may not see it." in browser.text
    # the web owns its segments: a missing page is a page, even for a JSON client
    missing = served.get("/products/1/2/3", headers={"accept": "application/json"})
    assert missing.status_code == 404
    assert missing.headers["content-type"].startswith("text/html")
    start = served.get("/")
    assert start.status_code == 303
    assert start.headers["location"] == "/login?next=%2F"
    css = served.get("/static/app.css")
    assert css.status_code == 200
    assert css.headers["cache-control"] == "public, max-age=3600"


def test_one_server_answers_pact_clients_and_people(
    served: TestClient, engine: Engine, make_user: MakeUser, login: Login
) -> None:
    """The same footprint through the PACT API (a client's token) and the product page (a
    person's session), on one app."""
    footprint = publish(WIDGET, engine=engine, organisation="Widget Co", now=T0)
    with session_scope(engine) as session:
        organisation = session.scalars(
            select(Organisation).where(Organisation.name == "Widget Co")
        ).one()
        stored = session.get(Footprint, footprint.id)
        assert stored is not None
        issued = repo.create_client(session, organisation=organisation, name="Buyer")
        repo.grant_access(session, client=issued.client, product=stored.product)
        creds = (issued.client_id, issued.secret)
    token = served.post("/auth/token", auth=creds, data={"grant_type": "client_credentials"})
    assert token.status_code == 200, token.text
    bearer = {"authorization": f"Bearer {token.json()['access_token']}"}
    listed = served.get("/3/footprints", headers=bearer).json()["data"]
    assert [(d["id"], d["pcf"]["pcfExcludingBiogenicUptake"]) for d in listed] == [
        (str(footprint.id), "6.2054")
    ]

    make_user(engine, organisation="Widget Co", email="own@widget.example", role="owner")
    signed = login(served, "own@widget.example")
    assert signed.status_code == 303
    assert "secure" in signed.headers["set-cookie"].lower()
    pages = [
        "/products",
        f"/products/{footprint.id}",
        "/rule-check",
        "/factors",
        "/models/new",
        "/requests",
        "/pact-requests",
        "/people",
        "/organisation",
        "/account",
        "/verify",
    ]
    for path in pages:
        page = served.get(path)
        assert page.status_code == 200, (path, page.text[:300])
        assert page.headers["content-type"].startswith("text/html"), path
        assert page.headers["strict-transport-security"] == "max-age=31536000", path
        assert "script-src 'self'" in page.headers["content-security-policy"], path
    product = served.get(f"/products/{footprint.id}").text
    assert "6.2054" in product
    home = served.get("/")
    assert home.headers["location"] == "/products"
    # the navigation of an owner links the renamed rule check and the people page
    nav = served.get("/products").text
    assert 'href="/rule-check"' in nav
    assert 'href="/people"' in nav
    assert 'href="/rules"' not in nav


def test_the_serve_factory_runs_both_apps_and_the_outbox_sender(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``openpcf serve``'s app factory: the host's lifespan (outbox sender) runs under the
    combined app, and both apps answer on the configured database."""
    from openpcf.cli.serve import _prepare_database, app_factory
    from openpcf.settings import get_settings

    url = f"sqlite:///{tmp_path / 'serve.db'}"
    monkeypatch.setenv("OPENPCF_DATABASE_URL", url)
    monkeypatch.setenv("OPENPCF_SENDER_INTERVAL", "3600")
    get_settings.cache_clear()
    try:
        _prepare_database(url)
        app = app_factory()
        assert isinstance(app, HostAndPages)
        state = app.host.state.host
        with TestClient(app, base_url=BASE, follow_redirects=False) as client:
            assert state.sender is not None  # started by the host's lifespan
            assert client.get("/login").status_code == 200
            assert client.get("/3/footprints").status_code == 401
        assert state.sender is None  # stopped at shutdown
    finally:
        get_settings.cache_clear()
