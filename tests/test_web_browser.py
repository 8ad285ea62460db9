"""The web pages in a real browser: Debian's chromium driven by Playwright (never a
downloaded browser), against uvicorn on a free loopback port with a throwaway SQLite database.

One walk: the start page sends us to sign in; sign in; the start page of the role; switch
to 中文; sign out. Every page is checked with axe-core (no ``serious`` or ``critical``
violations) and must log no console error (a script or style the Content-Security-Policy
blocked shows there). Screenshots go to ``tests/artifacts/screenshots/`` (ignored by git).

Without ``/usr/bin/chromium`` the test skips, except on CI (``CI`` set), where it fails.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from fixtures.web import STRONG_PASSWORD
from openpcf.web.auth import WebUser

CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = Path(__file__).parent / "artifacts" / "screenshots"
pytestmark = pytest.mark.browser


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def chromium() -> Path:
    if not CHROMIUM.is_file():
        reason = f"{CHROMIUM} is missing: install Debian's chromium (apt-get install chromium)"
        if os.environ.get("CI"):
            pytest.fail(f"browser tests cannot run on CI: {reason}", pytrace=False)
        pytest.skip(reason)
    return CHROMIUM


@pytest.fixture
def server(
    migrated_sqlite: Callable[[Path], str],
    tmp_path: Path,
    make_user: Callable[..., WebUser],
) -> Iterator[str]:
    """The web app under uvicorn on 127.0.0.1 (a thread of this process); its base URL."""
    import uvicorn

    from openpcf.db.engine import make_engine
    from openpcf.web.app import create_web_app

    engine = make_engine(migrated_sqlite(tmp_path / "web.db"))
    make_user(engine, organisation="Acme Pumps", email="ann@example.com", role="owner", name="Ann")
    app = create_web_app(engine=engine, home=tmp_path / "home", secure_cookies=False)
    port = _free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            pytest.fail("uvicorn did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        engine.dispose()


def _axe(page: Any, base: str, name: str) -> None:
    """Run axe-core on the page: no serious or critical violations."""
    # served by the app itself ('self'), so the page's CSP lets it load like any page script
    page.add_script_tag(url=f"{base}/static/vendor/axe.min.js")
    result = page.evaluate("async () => await axe.run()")
    bad = [
        f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']]}"
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]
    assert bad == [], f"{name}: accessibility violations: {bad}"
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def test_sign_in_switch_language_sign_out(chromium: Path, server: str) -> None:
    from playwright.sync_api import sync_playwright

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    errors: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(chromium), args=["--no-sandbox"])
        try:
            page = browser.new_page()
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: errors.append(str(e)))

            page.goto(f"{server}/")
            assert page.url == f"{server}/login?next=%2F"
            assert page.locator("html").get_attribute("lang") == "en"
            _axe(page, server, "01-login")

            page.get_by_label("Email").fill("ann@example.com")
            page.get_by_label("Password").fill("not my password")
            page.get_by_role("button", name="Sign in").click()
            page.wait_for_load_state()
            assert page.get_by_role("alert").inner_text().strip() == (
                "The email or the password is wrong."
            )
            assert page.get_by_label("Email").input_value() == "ann@example.com"
            _axe(page, server, "02-login-failed")

            page.get_by_label("Password").fill(STRONG_PASSWORD)
            page.get_by_role("button", name="Sign in").click()
            page.wait_for_load_state()
            assert page.url.rstrip("/") != f"{server}/login"
            assert "Ann · Owner · Acme Pumps" in page.locator("header").inner_text()
            _axe(page, server, "03-start-page")

            page.goto(f"{server}/account")
            assert page.get_by_role("heading", level=1).inner_text() == "Your account"
            _axe(page, server, "04-account")

            page.get_by_role("button", name="中文").click()
            page.wait_for_load_state()
            assert page.url == f"{server}/account"
            assert page.locator("html").get_attribute("lang") == "zh-CN"
            assert page.get_by_role("heading", level=1).inner_text() == "我的账户"
            _axe(page, server, "05-account-zh")

            page.get_by_role("button", name="退出登录").click()
            page.wait_for_load_state()
            assert page.url == f"{server}/login"
            _axe(page, server, "06-signed-out")
            page.goto(f"{server}/account")
            assert page.url.startswith(f"{server}/login?next=")
        finally:
            browser.close()
    # the wrong password's page is answered 401 on purpose; chromium logs any 4xx document
    expected = "Failed to load resource: the server responded with a status of 401"
    assert [e for e in errors if not e.startswith(expected)] == [], f"console errors: {errors}"
