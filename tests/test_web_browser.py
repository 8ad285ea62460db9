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
  the proposals → the editor → an error at its line → fixed → a parameter changed → published
  (first refused as "live", then replacing the live footprint) → its report downloaded → its
  product page → a certificate with a self-declared verifier downloaded and verified → the
  product's report from its model file;
* engineer, without a BOM: the empty editor → a model typed in → its total → a parameter
  changed → the new total;
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

The browser, the server and the people are the fixtures of tests/fixtures/browser.py.
Without ``/usr/bin/chromium`` the tests skip, except on CI (``CI`` set), where they fail.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path

import pytest

from fixtures.browser import MakeUser, Person, Server
from fixtures.web import STRONG_PASSWORD
from openpcf.certify import KeyStore, verify_certificate

ROOT = Path(__file__).parents[1]
WIDGET = ROOT / "tests/fixtures/two_process.yaml"
pytestmark = pytest.mark.browser

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

    # publish the what-if: "live" is refused at its field (the parameter differs from the
    # model's), then it replaces the live footprint; the text and the parameter are kept
    KeyStore(server.home / "keys").create(issuer="https://pcf.acme-pumps.example")
    page.locator("#publish-button").click()
    page.wait_for_load_state()
    assert page.locator("#publish_choice-errors").inner_text().startswith("Choose how to publish")
    assert page.locator("#param-steel_kg").input_value() == "4"
    assert area.input_value() == fixed
    ann.check("17-publish-choice", view="#publish_choice-errors")
    page.get_by_label("the new live footprint, with the changed parameters").check()
    page.locator("#publish-button").click()
    page.wait_for_load_state()
    published_id = page.locator("[data-published-id]").inner_text()
    assert "24.100644 kg CO2e" in page.locator("#publish-result").inner_text()
    ann.check("18-published", view="#publish-result")
    # the report of what was published, from the editor (which holds the model text)
    with page.expect_download() as report:
        page.locator("#report-button").click()
    assert report.value.suggested_filename == "pump-report-en.html"
    assert "24.1 kg CO2e" in Path(report.value.path()).read_text(encoding="utf-8")

    # the product page, then a certificate with a self-declared verifier
    page.locator("#published-link").click()
    page.wait_for_load_state()
    assert page.url == f"{base}/products/{published_id}"
    assert page.locator("[data-pcf-total]").inner_text() == "24.100644"
    ann.check("19a-product-published", view="#deliverables-h")
    page.locator("#certify-link").click()
    page.wait_for_load_state()
    page.get_by_label("self-declared", exact=False).check()
    page.get_by_label("Verifier's name").fill("Example Verification Ltd")
    ann.check("19b-certificate")
    with page.expect_download() as certificate:
        page.locator("#issue-button").click()
    assert certificate.value.suggested_filename == f"certificate-{published_id}.jwt"
    token = Path(certificate.value.path()).read_text(encoding="ascii").strip()
    checked = verify_certificate(token, keys=KeyStore(server.home / "keys"))
    assert checked.subject["pcfExcludingBiogenicUptake"] == "24.100644"
    # and the product's report, from the model file it was calculated from
    page.goto(f"{base}/products/{published_id}")
    page.locator("#model_file").set_input_files(
        {"name": "pump.yaml", "mimeType": "application/yaml", "buffer": fixed.encode()}
    )
    with page.expect_download() as product_report:
        page.locator("#product-report-button").click()
    assert product_report.value.suggested_filename == "pump-report-en.html"
    assert "24.1 kg CO2e" in Path(product_report.value.path()).read_text(encoding="utf-8")
    # the refused "live" publish is answered 400 on purpose; chromium logs any 4xx document
    ann.assert_no_console_errors(
        "Failed to load resource: the server responded with a status of 400"
    )


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


def test_verifier_owner_and_membership_pages(
    people: Callable[[], Person], server: Server, make_user: MakeUser, tmp_path: Path
) -> None:
    """The pages no walk above visits, each checked with axe-core and photographed: Vera (a
    verifier of Audit Co, granted the widget by Ann) on ``/verifier``, the read-only product
    page, its audit trail (the publish below is on the host's trail) and the package-contents
    form; Ann (owner) on ``/verifier-grants``, ``/pact-requests`` and ``/people``; Bo, an
    engineer of Acme Pumps and an owner of Beta Gears, on the choice of ``/organisation``."""
    from openpcf.db import repositories as repo
    from openpcf.db.engine import session_scope
    from openpcf.services.publishing import publish
    from openpcf.services.web_verifier import grant
    from openpcf.settings import Settings

    url = server.engine.url.render_as_string(hide_password=False)
    published = publish(
        WIDGET,
        engine=server.engine,
        organisation="Acme Pumps",
        now=dt.datetime(2025, 3, 1, tzinfo=dt.UTC),
        settings=Settings(home=server.home, database_url=url),
    )
    make_user(server.engine, organisation="Audit Co", email="vera@audit.example", role="verifier")
    make_user(server.engine, organisation="Acme Pumps", email="bo@example.com", name="Bo")
    make_user(server.engine, organisation="Beta Gears", email="bo@example.com", role="owner")
    with session_scope(server.engine) as session:
        account = repo.find_web_user(session, email="ann@example.com")
        assert account is not None
        ann_id = account.id
        acme_id = repo.get_organisation(session, name="Acme Pumps").id
    grant(
        server.engine,
        organisation_id=acme_id,
        email="vera@audit.example",
        product="urn:openpcf:product:widget",
        granted_by_id=ann_id,
    )
    base = server.url

    vera = people()
    vera.sign_in("vera@audit.example")
    vera.page.goto(f"{base}/verifier")
    assert "Widget" in vera.page.locator("main").inner_text()
    vera.check("50-verifier-list", view="h1")
    vera.page.goto(f"{base}/verifier/products/{published.id}")
    assert vera.page.locator("[data-pcf-total]").inner_text() == "6.2054"
    vera.check("51-verifier-product", view="h1")
    vera.page.goto(f"{base}/verifier/products/{published.id}/audit")
    assert "publish" in vera.page.locator("main").inner_text()
    vera.check("52-verifier-audit", view="h1")
    vera.page.goto(f"{base}/verifier/package")
    vera.check("53-verifier-package", view="h1")

    ann = people()
    ann.sign_in("ann@example.com")
    ann.page.goto(f"{base}/verifier-grants")
    assert "vera@audit.example" in ann.page.locator("main").inner_text()
    ann.check("54-verifier-grants", view="h1")
    ann.page.goto(f"{base}/pact-requests")
    ann.check("55-pact-requests", view="h1")
    ann.page.goto(f"{base}/people")
    assert "bo@example.com" in ann.page.locator("main").inner_text()
    ann.check("56-people", view="h1")

    bo = people()
    bo.page.goto(f"{base}/login")
    bo.page.get_by_label("Email").fill("bo@example.com")
    bo.page.get_by_label("Password").fill(STRONG_PASSWORD)
    bo.page.get_by_role("button", name="Sign in").click()
    bo.page.wait_for_load_state()
    assert bo.page.url.startswith(f"{base}/organisation"), bo.page.url
    assert "Beta Gears" in bo.page.locator("main").inner_text()
    bo.check("57-organisation-choice", view="h1")
    for person in (vera, ann, bo):
        person.assert_no_console_errors()


#: typed into the empty editor, line by line, as an engineer without a BOM would
SCRATCH_MODEL = """\
openpcf: 1
product:
  name: Bracket
  ids: [urn:openpcf:product:bracket]
  declared_unit: piece
  mass_per_declared_unit: 2.5
  reference_period: {start: 2025-01-01, end: 2025-12-31}
  company_name: Acme Pumps
parameters: {steel_kg: 2}
boundary: cradle-to-gate
reference_process: bracket
processes:
  - id: bracket
    name: Bracket
    stage: raw_material_acquisition
    output: {product: bracket, amount: 1, unit: piece}
    inputs:
      - {factor: cn.tiangong.steel.hot-rolled-coil, amount: steel_kg, unit: kg}
      - {factor: cn.tiangong.aluminium.primary-ingot, amount: 500, unit: g}
"""


def test_engineer_builds_a_model_from_scratch_in_the_editor(
    people: Callable[[], Person], server: Server
) -> None:
    """The empty editor, a model typed in, its total, a parameter changed.

    Hand-worked (the factors of the module docstring): 2 x 2.552117 + 0.5 x 17.36522 =
    5.104234 + 8.68261 = 13.786844, shown as 13.7868; with ``steel_kg`` 3: 3 x 2.552117 +
    8.68261 = 16.338961, shown as 16.339.
    """
    ann = people()
    page, base = ann.page, server.url
    ann.sign_in("ann@example.com")
    page.goto(f"{base}/models/edit")
    area = page.locator("#model")
    assert area.input_value() == ""
    ann.check("20-editor-empty")
    # typed, not pasted: htmx validates a moment after the last key
    area.press_sequentially(SCRATCH_MODEL[:40])
    area.fill(SCRATCH_MODEL)
    page.wait_for_selector(f'[data-total="{2 * STEEL + 0.5 * ALU:.6g}"]')
    assert page.locator("[data-total]").inner_text() == "13.7868"
    assert page.locator("#model-errors").count() == 0
    page.locator("#param-steel_kg").fill("3")
    page.locator("#param-steel_kg").dispatch_event("change")
    page.wait_for_selector(f'[data-total="{3 * STEEL + 0.5 * ALU:.6g}"]')
    assert page.locator("[data-total]").inner_text() == "16.339"
    assert area.input_value() == SCRATCH_MODEL
    ann.check("21-editor-from-scratch", view="#model-result")
    ann.assert_no_console_errors()
