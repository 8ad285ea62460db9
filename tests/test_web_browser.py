"""The web pages in a real browser: Debian's chromium driven by Playwright (never a
downloaded browser), against uvicorn on a free loopback port with a throwaway SQLite database.

One chromium serves the module (``browser``); each test gets its own server and database
(``server``) and a fresh browser context per person (own cookies). Every page visited is
checked with axe-core (no ``serious`` or ``critical`` violations) and must log no console
error (a script or style the Content-Security-Policy blocked shows there). Screenshots (1280 x
800 viewport, the whole page) go to ``tests/artifacts/screenshots/``, axe-core's findings of
every impact to ``tests/artifacts/axe/`` (both ignored by git).

The walks:

* sign in, the start page, switch to 中文, sign out;
* engineer: ``/products`` and a product page (tests/fixtures/two_process.yaml published: 6.2054
  kg CO2e/kg, see tests/test_web_pages.py), with its stage chart drawn; a BOM (zh headers) →
  the proposals → the editor → an error at its line → fixed → a parameter changed;
* supplier: a request of ``request_data`` → the inbox → the answer form with a mistake (fossil
  2.5 > total 2.0, the numbers of tests/test_questionnaire.py) → corrected → answered; the
  engineer accepts on ``/requests``; the supplier sees "accepted";
* verifier and the public: ``/verify`` with a certificate of the host's keys (every check
  passed) and a tampered one (the signature failed); ``/packages`` with a package built here
  (identical).

Hand-worked numbers of the BOM walk (the bundled factors, AR6; tests/test_bom.py): the first
proposal for 热轧钢卷 is cn.tiangong.steel.hot-rolled-coil, 1.889 kg CO2 + 0.002429 kg N2O
(x 273) = 2.552117 kg CO2e/kg; for 铝 cn.tiangong.aluminium.primary-ingot, 15.4 kg CO2 + 0.034
kg CH4 (x 29.8) + 0.000129 kg CF4 (x 7380) = 17.36522 kg CO2e/kg. The BOM's 2.5 kg of steel and
800 g of aluminium: 2.5 x 2.552117 + 0.8 x 17.36522 = 6.3802925 + 13.892176 = 20.2724685, shown
as 20.2725. With the steel made a parameter ``steel_kg`` set to 4: 4 x 2.552117 + 13.892176 =
24.100644, shown as 24.1006.

Without ``/usr/bin/chromium`` the tests skip, except on CI (``CI`` set), where they fail.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from fixtures.web import STRONG_PASSWORD
from openpcf.web.auth import WebUser

CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = Path(__file__).parent / "artifacts" / "screenshots"
AXE = Path(__file__).parent / "artifacts" / "axe"
ROOT = Path(__file__).parents[1]
WIDGET = ROOT / "tests/fixtures/two_process.yaml"
VIEWPORT = {"width": 1280, "height": 800}
pytestmark = pytest.mark.browser

MakeUser = Callable[..., WebUser]

ZH_BOM = "零件,材料,质量,单位,供应商\n外壳,热轧钢卷,2.5,kg,河北钢铁\n散热片,铝,800,g,\n"
STEEL = 1.889 + 0.002429 * 273
ALU = 15.4 + 0.034 * 29.8 + 0.000129 * 7380

#: a product whose steel names its supplier: one data request
FRAME_MODEL = """\
openpcf: 1
product:
  name: Pump frame
  ids: [urn:openpcf:product:pump-frame]
  declared_unit: piece
  mass_per_declared_unit: 2
  reference_period: {start: 2025-01-01, end: 2025-12-31}
  company_name: Acme Pumps
boundary: cradle-to-gate
reference_process: frame
processes:
  - id: frame
    name: Frame
    stage: raw_material_acquisition
    output: {product: frame, amount: 1, unit: piece}
    inputs:
      - {factor: cn.tiangong.steel.hot-rolled-coil, amount: 2, unit: kg, supplier: Tangshan Steel}
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """One chromium for the module (each launch costs about a second)."""
    if not CHROMIUM.is_file():
        reason = f"{CHROMIUM} is missing: install Debian's chromium (apt-get install chromium)"
        if os.environ.get("CI"):
            pytest.fail(f"browser tests cannot run on CI: {reason}", pytrace=False)
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    (SCREENSHOTS / "viewport").mkdir(parents=True, exist_ok=True)
    AXE.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        try:
            yield chromium
        finally:
            chromium.close()


@dataclass
class Server:
    url: str
    engine: Engine
    home: Path


@pytest.fixture
def server(
    migrated_sqlite: Callable[[Path], str],
    tmp_path: Path,
    make_user: MakeUser,
) -> Iterator[Server]:
    """The web app under uvicorn on 127.0.0.1 (a thread of this process), with Ann, the
    owner of Acme Pumps."""
    import uvicorn

    from openpcf.db.engine import make_engine
    from openpcf.web.app import create_web_app

    engine = make_engine(migrated_sqlite(tmp_path / "web.db"))
    make_user(engine, organisation="Acme Pumps", email="ann@example.com", role="owner", name="Ann")
    home = tmp_path / "home"
    app = create_web_app(engine=engine, home=home, secure_cookies=False)
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
        yield Server(f"http://127.0.0.1:{port}", engine, home)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        engine.dispose()


@dataclass
class Person:
    """One person's browser context (own cookies): its page and its console errors."""

    page: Any
    base: str
    errors: list[str] = field(default_factory=list)

    def check(self, name: str, view: str | None = None) -> None:
        """axe-core on the page (no serious or critical violations), then a screenshot of
        the whole page; with ``view`` (a selector) also one of the 1280 x 800 viewport
        scrolled to it, in ``viewport/`` (the size of the pictures in docs/web/)."""
        # served by the app itself ('self'), so the page's CSP lets it load like any script
        self.page.add_script_tag(url=f"{self.base}/static/vendor/axe.min.js")
        result = self.page.evaluate("async () => await axe.run()")
        bad = [
            f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']]}"
            for v in result["violations"]
            if v["impact"] in ("serious", "critical")
        ]
        # every finding, the minor and moderate ones too, for whoever improves the pages
        (AXE / f"{name}.json").write_text(json.dumps(result["violations"], indent=1))
        assert bad == [], f"{name}: accessibility violations: {bad}"
        self.page.screenshot(
            path=str(SCREENSHOTS / f"{name}.png"), full_page=True, type="png", scale="css"
        )
        if view is not None:
            self.page.locator(view).first.evaluate("e => e.scrollIntoView({block: 'start'})")
            self.page.screenshot(
                path=str(SCREENSHOTS / "viewport" / f"{name}.png"), type="png", scale="css"
            )

    def sign_in(self, email: str) -> None:
        self.page.goto(f"{self.base}/login")
        self.page.get_by_label("Email").fill(email)
        self.page.get_by_label("Password").fill(STRONG_PASSWORD)
        self.page.get_by_role("button", name="Sign in").click()
        self.page.wait_for_load_state()
        assert not self.page.url.startswith(f"{self.base}/login"), self.page.url

    def assert_no_console_errors(self, *expected: str) -> None:
        left = [e for e in self.errors if not e.startswith(expected)] if expected else self.errors
        assert left == [], f"console errors: {self.errors}"


@pytest.fixture
def people(browser: Any, server: Server) -> Iterator[Callable[[], Person]]:
    """``person()``: a new browser context (own cookies) at the server, collecting its
    console errors for :meth:`Person.assert_no_console_errors`; closed at the end."""
    contexts: list[tuple[Any, Person]] = []

    def person() -> Person:
        context = browser.new_context(viewport=VIEWPORT)
        page = context.new_page()
        who = Person(page, server.url)
        page.on("console", lambda m: who.errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: who.errors.append(str(e)))
        contexts.append((context, who))
        return who

    yield person
    for context, _ in contexts:
        context.close()


def test_sign_in_switch_language_sign_out(people: Callable[[], Person], server: Server) -> None:
    ann = people()
    page, base = ann.page, server.url
    page.goto(f"{base}/")
    assert page.url == f"{base}/login?next=%2F"
    assert page.locator("html").get_attribute("lang") == "en"
    ann.check("01-login")
    # axe really runs: a text box without a label, added to the page, is found
    page.evaluate("() => document.querySelector('main').append(document.createElement('input'))")
    found = page.evaluate("async () => (await axe.run()).violations.map(v => v.id)")
    assert "label" in found, found
    page.reload()

    page.get_by_label("Email").fill("ann@example.com")
    page.get_by_label("Password").fill("not my password")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()
    assert page.get_by_role("alert").inner_text().strip() == "The email or the password is wrong."
    assert page.get_by_label("Email").input_value() == "ann@example.com"
    ann.check("02-login-failed")

    page.get_by_label("Password").fill(STRONG_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()
    assert page.url.rstrip("/") != f"{base}/login"
    assert "Ann · Owner · Acme Pumps" in page.locator("header").inner_text()
    ann.check("03-start-page")

    page.goto(f"{base}/account")
    assert page.get_by_role("heading", level=1).inner_text() == "Your account"
    ann.check("04-account")

    page.get_by_role("button", name="中文").click()
    page.wait_for_load_state()
    assert page.url == f"{base}/account"
    assert page.locator("html").get_attribute("lang") == "zh-CN"
    assert page.get_by_role("heading", level=1).inner_text() == "我的账户"
    ann.check("05-account-zh")

    page.get_by_role("button", name="退出登录").click()
    page.wait_for_load_state()
    assert page.url == f"{base}/login"
    ann.check("06-signed-out")
    page.goto(f"{base}/account")
    assert page.url.startswith(f"{base}/login?next=")
    # the wrong password's page is answered 401 on purpose; chromium logs any 4xx document
    ann.assert_no_console_errors(
        "Failed to load resource: the server responded with a status of 401"
    )


def test_engineer_products_and_a_model_from_a_bom(
    people: Callable[[], Person], server: Server, tmp_path: Path
) -> None:
    from openpcf.services.publishing import publish

    published = publish(
        WIDGET,
        engine=server.engine,
        organisation="Acme Pumps",
        now=dt.datetime(2025, 3, 1, tzinfo=dt.UTC),
    )
    ann = people()
    page, base = ann.page, server.url
    ann.sign_in("ann@example.com")

    page.goto(f"{base}/products")
    row = page.locator("table.data tbody tr")
    assert row.count() == 1
    assert "Widget" in row.inner_text()
    assert "6.2054" in row.inner_text()
    ann.check("10-products", view="h1")
    row.get_by_role("link", name="Widget").click()
    page.wait_for_load_state()
    assert page.url == f"{base}/products/{published.id}"
    assert page.locator("[data-pcf-total]").inner_text() == "6.2054"
    # the stage waterfall is drawn by the vendored ECharts (a canvas, or svg)
    page.wait_for_selector(".chart[data-chart] canvas, .chart[data-chart] svg")
    ann.check("11-product", view="#summary-h")

    # a new model from a bill of materials with Chinese headers
    page.goto(f"{base}/models/new")
    ann.check("12-bom-upload")
    bom = tmp_path / "物料清单.csv"
    bom.write_text(ZH_BOM, encoding="utf-8")
    page.get_by_label("Product name").fill("Pump")
    page.locator("#bom").set_input_files(str(bom))
    page.locator("form[action='/models/new'] button[type=submit]").click()
    page.wait_for_load_state()
    steel = page.locator("#choice-2")
    alu = page.locator("#choice-3")
    assert steel.input_value() == "cn.tiangong.steel.hot-rolled-coil"
    assert alu.input_value() == "cn.tiangong.aluminium.primary-ingot"
    assert "2.552 kg CO2e/kg" in steel.inner_text()
    assert "17.37 kg CO2e/kg" in alu.inner_text()
    ann.check("13-bom-proposals", view="#proposals-h")
    # choose the proposals (the first of each line) and open them in the editor
    steel.select_option("cn.tiangong.steel.hot-rolled-coil")
    alu.select_option("cn.tiangong.aluminium.primary-ingot")
    page.locator("button[name=action][value=edit]").click()
    page.wait_for_load_state()
    assert page.url == f"{base}/models/new/confirm"
    total = page.locator("[data-total]")
    assert total.get_attribute("data-total") == f"{2.5 * STEEL + 0.8 * ALU:.6g}" == "20.2725"
    assert total.inner_text() == "20.2725"
    ann.check("14-model-editor")

    # a bad unit: the error at its line (htmx, after the pause), the text kept
    area = page.locator("#model")
    good = area.input_value()
    assert 'amount: 800, unit: "g"' in good
    bad = good.replace('amount: 800, unit: "g"', 'amount: 800, unit: "kWh"')
    area.fill(bad)
    errors = page.locator("#model-errors li")
    errors.first.wait_for()
    line = 1 + bad.splitlines().index(next(x for x in bad.splitlines() if '"kWh"' in x))
    assert errors.first.get_attribute("data-line") == str(line)
    assert "cannot convert 'kWh' into 'kg'" in errors.first.inner_text()
    assert area.input_value() == bad
    assert page.locator("[data-total]").count() == 0
    ann.check("15-model-editor-error", view="#model-result")

    # fixed, with the steel made a parameter: the total again, then the parameter changed
    fixed = good.replace(
        "boundary: cradle-to-gate", "parameters: {steel_kg: 2.5}\nboundary: cradle-to-gate"
    ).replace('hot-rolled-coil", amount: 2.5,', 'hot-rolled-coil", amount: steel_kg,')
    assert fixed.count("steel_kg") == 2
    area.fill(fixed)
    page.locator("#param-steel_kg").wait_for()
    assert page.locator("#model-errors").count() == 0
    assert page.locator("[data-total]").inner_text() == "20.2725"
    page.locator("#param-steel_kg").fill("4")
    page.locator("#param-steel_kg").dispatch_event("change")
    page.wait_for_selector(f'[data-total="{4 * STEEL + 0.8 * ALU:.6g}"]')
    assert page.locator("[data-total]").inner_text() == "24.1006"
    assert page.locator("#param-steel_kg").input_value() == "4"
    assert area.input_value() == fixed
    ann.check("16-model-editor-parameter", view="#model-result")
    ann.assert_no_console_errors()


def test_supplier_answers_and_engineer_accepts(
    people: Callable[[], Person], server: Server, tmp_path: Path
) -> None:
    from openpcf.services.supplier_requests import request_data
    from openpcf.services.web_supplier import invite_supplier
    from openpcf.settings import Settings
    from test_web_supplier import FORM

    model = tmp_path / "frame.yaml"
    model.write_text(FRAME_MODEL, encoding="utf-8")
    report = request_data(
        model,
        engine=server.engine,
        due=dt.date(2099, 3, 31),
        out_dir=tmp_path / "requests",
        now=dt.datetime(2026, 1, 5, tzinfo=dt.UTC),
        settings=Settings(home=server.home, database_url=server.engine.url.render_as_string(False)),
    )
    (created,) = report.created
    rid = created.request_id
    invite_supplier(
        server.engine,
        request_id=rid,
        email="sales@tangshan.example",
        name="Li",
        password=STRONG_PASSWORD,
    )

    li = people()
    page, base = li.page, server.url
    li.sign_in("sales@tangshan.example")
    page.goto(f"{base}/inbox")
    row = page.locator(f'tr[data-request="{rid}"]')
    assert row.locator("[data-status]").get_attribute("data-status") == "sent"
    assert "2099-03-31" in row.inner_text()
    li.check("20-inbox", view="h1")
    row.get_by_role("link").click()
    page.wait_for_load_state()
    assert page.url == f"{base}/inbox/{rid}"
    li.check("21-answer-form")

    def fill(values: dict[str, str]) -> None:
        for name, value in values.items():
            box = page.locator(f"#f-{name}")
            if box.evaluate("e => e.tagName") == "SELECT":
                box.select_option(value)
            else:
                box.fill(value)

    fill({**FORM, "fossil": "2.5"})  # more fossil emissions than the 2.0 total
    page.locator(f"form[action='/inbox/{rid}/answer'] button[type=submit]").click()
    page.wait_for_load_state()
    problem = page.locator("#f-fossil-errors")
    assert "more fossil emissions (2.5 kg CO2e) than the total (2 kg CO2e)" in problem.inner_text()
    assert page.locator("#f-fossil").get_attribute("aria-invalid") == "true"
    assert page.locator("#f-fossil").input_value() == "2.5"  # what was typed is kept
    assert page.locator("#f-verifier").input_value() == FORM["verifier"]
    assert page.locator("#f-el0_amount").input_value() == "1.2"
    li.check("22-answer-form-error", view="label[for=f-pcf_total]")
    fill({"fossil": FORM["fossil"]})
    page.locator(f"form[action='/inbox/{rid}/answer'] button[type=submit]").click()
    page.wait_for_load_state()
    assert page.url == f"{base}/inbox/{rid}"
    assert page.locator("dd[data-status]").get_attribute("data-status") == "answered"
    li.check("23-answered")

    ann = people()
    ann.sign_in("ann@example.com")
    ann.page.goto(f"{base}/requests")
    mine = ann.page.locator(f'tr[data-request="{rid}"]')
    assert mine.locator("td[data-status]").get_attribute("data-status") == "answered"
    ann.check("24-requests")
    mine.get_by_role("button", name="Accept").click()
    ann.page.wait_for_load_state()
    mine = ann.page.locator(f'tr[data-request="{rid}"]')
    assert mine.locator("td[data-status]").get_attribute("data-status") == "accepted"
    ann.check("25-requests-accepted", view="h1")

    page.reload()
    assert page.locator("dd[data-status]").get_attribute("data-status") == "accepted"
    assert "The customer accepted your answer." in page.locator("main").inner_text()
    li.check("26-accepted")
    li.assert_no_console_errors(
        "Failed to load resource: the server responded with a status of 400"
    )
    ann.assert_no_console_errors()


def test_verify_certificates_and_reproduce_a_package(
    people: Callable[[], Person],
    server: Server,
    tmp_path: Path,
    make_user: MakeUser,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from openpcf.certify import KeyStore, issue_certificate
    from openpcf.exchange.pact import product_footprint
    from openpcf.services.calculate import calculate
    from openpcf.services.packaging import build_package
    from openpcf.settings import get_settings

    host_keys = KeyStore(server.home / "keys")
    host_keys.create(issuer="https://pcf.example.com")
    footprint = product_footprint(calculate(WIDGET))
    cert = issue_certificate(footprint, keys=host_keys).token
    header, payload, _ = cert.split(".")
    at = len(header) + 1 + len(payload) // 2  # one character of the payload
    tampered = cert[:at] + ("B" if cert[at] == "A" else "A") + cert[at + 1 :]

    monkeypatch.setenv("OPENPCF_HOME", str(tmp_path / "builder"))
    get_settings.cache_clear()
    try:
        builder_keys = KeyStore(tmp_path / "builder" / "keys")
        builder_keys.create(issuer="https://pcf.example.com")
        package = tmp_path / "widget.zip"
        build_package(WIDGET, output=package, keys=builder_keys)
    finally:
        get_settings.cache_clear()
    make_user(server.engine, organisation="Audit Co", email="vera@audit.example", role="verifier")

    anyone = people()  # not signed in
    page, base = anyone.page, server.url

    def verify(token: str, with_footprint: bool) -> dict[str, str]:
        page.goto(f"{base}/verify")
        page.locator("#certificate_text").fill(token)
        if with_footprint:
            page.locator("#footprint_text").fill(json.dumps(footprint))
        page.locator("form[action='/verify'] button[type=submit]").click()
        page.wait_for_load_state()
        rows = page.locator("tr[data-check]")
        return {
            rows.nth(i).get_attribute("data-check"): rows.nth(i).get_attribute("data-state")
            for i in range(rows.count())
        }

    page.goto(f"{base}/verify")
    anyone.check("30-verify")
    checks = verify(cert, with_footprint=True)
    assert checks.pop("attestation") == "not_checked"  # none embedded: said, not failed
    assert set(checks.values()) == {"passed"}, checks
    assert len(checks) == 8
    assert page.locator("[data-outcome]").get_attribute("data-outcome") == "trusted"
    anyone.check("31-verify-good", view="#verify-result-h")

    checks = verify(tampered, with_footprint=False)
    assert checks["signature"] == "failed"
    assert checks["format"] == checks["key"] == "passed"
    assert page.locator("[data-outcome]").get_attribute("data-outcome") == "failed"
    assert page.locator("tr[data-check=signature]").locator("td").first.inner_text() != ""
    anyone.check("32-verify-tampered", view="#verify-result-h")

    vera = people()
    vera.sign_in("vera@audit.example")
    vera.page.goto(f"{base}/packages")
    vera.check("33-packages")
    vera.page.locator("#package").set_input_files(str(package))
    vera.page.locator("form[action='/packages'] button[type=submit]").click()
    vera.page.wait_for_load_state()
    verdict = vera.page.locator("[data-identical]")
    assert verdict.get_attribute("data-identical") == "true"
    assert "Reproduced, identical result" in verdict.inner_text()
    vera.check("34-packages-identical", view="#package-result-h")
    anyone.assert_no_console_errors()
    vera.assert_no_console_errors()
