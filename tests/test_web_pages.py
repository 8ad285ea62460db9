"""The engineers' pages: product list, product page, PACT download, rule check, factor browser.

Runs on SQLite and PostgreSQL (``engine``). Numbers worked out by hand:

* two_process.yaml (tests/test_publish.py): 1 kg widget = 2 kg steel sheet (2000 kg CO2 per
  t, so 4 kg CO2e, stage raw_material_acquisition) + 3 kWh of the Hebei grid 2022
  (0.7252 kg CO2/kWh: 2.1756) + 1 g fossil CH4 (GWP100 AR6 29.8: 0.0298), both in the
  production stage (2.2054). Total 6.2054 kg CO2e/kg; the primary data are the two direct
  emissions, (4 + 0.0298) / 6.2054 = 64.94 %.
* the hydrogen model of tests/test_api_rules.py violates the oxygen co-product clause of
  ``hydrogen.electrolysis`` (economic allocation asked, energy given) at its line 18.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from fastapi.testclient import TestClient
from sqlalchemy import Engine, event, insert

from fixtures.web import csrf_token
from openpcf.db.engine import session_scope
from openpcf.db.models import Footprint, Product
from openpcf.services import web_products
from openpcf.services.publishing import publish
from openpcf.services.web_rules import check_model_text, located_errors
from openpcf.web.auth import WebUser

ROOT = Path(__file__).parents[1]
WIDGET = ROOT / "tests/fixtures/two_process.yaml"
WEB = ROOT / "src/openpcf/web"
T0 = dt.datetime(2025, 3, 1, tzinfo=dt.UTC)

HYDROGEN = """\
openpcf: 1
product:
  name: Hydrogen
  ids: [urn:openpcf:product:h2-web]
  cn_code: "2804 10 00"
  declared_unit: kilogram
  mass_per_declared_unit: 1
  reference_period: {start: 2022-01-01, end: 2022-12-31}
boundary: cradle-to-gate
reference_process: electrolysis
processes:
  - id: electrolysis
    name: Electrolysis
    stage: production
    output: {product: hydrogen, amount: 1, unit: kg, mass: 1, energy: 120}
    co_products:
      - {product: oxygen, amount: 7.936, unit: kg, mass: 1, energy: 0}
    allocation: {method: energy}
    inputs:
      - {electricity: {geography: CN-NM, year: 2022}, amount: 53, unit: kWh}
"""

MakeUser = Callable[..., WebUser]
Login = Callable[..., httpx.Response]


@pytest.fixture
def gadget(tmp_path: Path) -> Path:
    """two_process.yaml as another organisation's product (another name and URN)."""
    text = WIDGET.read_text(encoding="utf-8")
    text = text.replace("name: Widget\n", "name: Gadget\n").replace(
        "product:widget", "product:gadget"
    )
    path = tmp_path / "gadget.yaml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def two_organisations(engine: Engine, gadget: Path) -> tuple[str, str]:
    """Widget Co's widget and Other Co's gadget are published; returns their footprint ids."""
    ours = publish(WIDGET, engine=engine, organisation="Widget Co", now=T0)
    theirs = publish(gadget, engine=engine, organisation="Other Co", now=T0)
    return str(ours.id), str(theirs.id)


@pytest.fixture
def engineer(web_app: TestClient, engine: Engine, make_user: MakeUser, login: Login) -> TestClient:
    """``web_app`` signed in as an engineer of Widget Co."""
    make_user(engine, organisation="Widget Co", email="eng@widget.example", role="engineer")
    assert login(web_app, "eng@widget.example").status_code == 303
    return web_app


# --------------------------------------------------------------------------------------------
# catalogues


def _catalogue(lang: str) -> dict[str, str]:
    data = yaml.safe_load((WEB / f"messages/products.{lang}.yaml").read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def test_catalogues_have_the_same_keys_and_every_key_the_templates_use() -> None:
    en, zh = _catalogue("en"), _catalogue("zh")
    assert set(en) == set(zh)
    assert all(isinstance(v, str) and v.strip() for v in [*en.values(), *zh.values()])
    used: set[str] = set()
    for path in WEB.glob("templates/*.html.j2"):
        if path.name.startswith(("products_", "rules_", "factors_")):
            used |= set(re.findall(r"""t\[["']([a-z_.]+)["']\]""", path.read_text("utf-8")))
    assert used, "no message keys found in the templates"
    assert used <= set(en), sorted(used - set(en))


# --------------------------------------------------------------------------------------------
# services


def test_list_sorts_numerically_and_pages(engine: Engine) -> None:
    """Totals 0..119 stored as PACT decimal strings: sorted as numbers ("2" before "10")."""
    org_id = _bulk_footprints(engine, "Bulk Co", 120)
    first = web_products.list_products(
        engine, organisation_id=org_id, sort="total", order="asc", page=1
    )
    assert first.count == 120
    assert first.pages == 3
    assert [r.total for r in first.rows[:4]] == ["0", "1", "2", "3"]
    last = web_products.list_products(
        engine, organisation_id=org_id, sort="total", order="desc", page=3
    )
    assert [r.total for r in last.rows] == [str(k) for k in range(19, -1, -1)]
    beyond = web_products.list_products(engine, organisation_id=org_id, page=9)
    assert beyond.rows == ()
    assert beyond.count == 120
    named = web_products.list_products(engine, organisation_id=org_id, sort="bogus")
    assert named.sort == "name"
    assert named.rows[0].name == "Bulk product 00000"


def test_located_errors_split_the_lines() -> None:
    errors = located_errors(
        "model",
        "model.yaml: the model does not follow the schema:\n"
        "  model.yaml:2: product.ids: Field required\n  model.yaml:1: boundary: Field required",
    )
    assert [(e.line, e.message) for e in errors] == [
        (2, "product.ids: Field required"),
        (1, "boundary: Field required"),
    ]
    (plain,) = located_errors("model", "model.yaml: something else")
    assert plain.line is None
    assert plain.message == "something else"


def test_check_refuses_files_and_databases() -> None:
    """A pasted model has no folder: a shipment file or factor set would be read from the
    server's disk, so the check refuses them at their lines."""
    text = HYDROGEN.replace("processes:\n", "factor_sets: [/etc/passwd]\nprocesses:\n") + (
        "      - {shipment: ../../secret.yaml, amount: 1, unit: kg}\n"
    )
    outcome = check_model_text(text, rules="hydrogen.electrolysis")
    assert outcome.conformance is None
    assert [e.line for e in outcome.errors] == [11, 22]
    assert all("bundled data only" in e.message for e in outcome.errors)


def test_check_refuses_unknown_rule_sets_and_oversized_models() -> None:
    (error,) = check_model_text(HYDROGEN, rules="no.such").errors
    assert error.field == "rules"
    (error,) = check_model_text("#" * 1_000_001, rules="hydrogen.electrolysis").errors
    assert error.field == "model"
    assert "1000 kB" in error.message


# --------------------------------------------------------------------------------------------
# pages


def test_list_shows_only_our_organisation(
    engineer: TestClient, two_organisations: tuple[str, str]
) -> None:
    ours, theirs = two_organisations
    page = engineer.get("/products")
    assert page.status_code == 200, page.text
    assert "Widget" in page.text
    assert f"/products/{ours}" in page.text
    assert "Gadget" not in page.text
    assert theirs not in page.text
    assert "6.2054" in page.text
    assert "urn:openpcf:product:widget" in page.text
    assert "2024-01-01 – 2024-12-31" in page.text


def test_product_page_shows_the_hand_worked_numbers(
    engineer: TestClient, two_organisations: tuple[str, str]
) -> None:
    ours, _ = two_organisations
    page = engineer.get(f"/products/{ours}")
    assert page.status_code == 200, page.text
    html = page.text
    assert re.search(r"data-pcf-total>6\.2054<", html)
    assert '>Raw material acquisition</th><td class="num">4</td>' in html
    assert '>Production</th><td class="num">2.2054</td>' in html
    assert "cn.grid.co2.2022.province.hebei" in html  # a top contributor: 2.1756
    assert ">2.1756<" in html
    assert '>CH4-fossil</th><td class="num">0.001</td><td class="num">0.0298</td>' in html
    assert "data-primary-share>64.94 %" in html
    assert "OpenPCF factor set cn_grid_co2" in html  # secondary data
    assert f"/products/{ours}/pact.json" in html
    # the chart's data block, read by static/charts.js (no inline script)
    block = re.search(r'<script type="application/json" id="stage-chart-data">(.*?)</script>', html)
    assert block is not None
    chart = json.loads(block.group(1))
    assert chart["labels"] == ["Raw material acquisition", "Production"]
    assert chart["total_label"] == "Total"
    assert chart["base"] == [0.0, 4.0]
    assert chart["values"] == pytest.approx([4.0, 2.2054], rel=1e-12)
    assert chart["total"] == pytest.approx(6.2054, rel=1e-12)
    assert "<script>" not in html
    assert engineer.get("/static/charts.js").status_code == 200


def test_another_organisations_footprint_is_not_found(
    engineer: TestClient, two_organisations: tuple[str, str]
) -> None:
    _, theirs = two_organisations
    for url in (
        f"/products/{theirs}",
        f"/products/{theirs}/pact.json",
        f"/products/{uuid.uuid4()}",
        "/products/not-a-uuid",
        "/products/not-a-uuid/pact.json",
    ):
        answer = engineer.get(url)
        assert answer.status_code == 404, url
        assert "Gadget" not in answer.text


def test_pact_json_download(
    engineer: TestClient, engine: Engine, two_organisations: tuple[str, str]
) -> None:
    ours, _ = two_organisations
    answer = engineer.get(f"/products/{ours}/pact.json")
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "application/json"
    assert answer.headers["content-disposition"] == f'attachment; filename="pact-{ours}.json"'
    with session_scope(engine) as s:
        stored = s.get(Footprint, uuid.UUID(ours))
        assert stored is not None
        assert answer.json() == stored.document
    assert answer.json()["pcf"]["pcfExcludingBiogenicUptake"] == "6.2054"


def _post_check(client: TestClient, model: str, rules: str, **headers: str) -> httpx.Response:
    form = client.get("/rule-check")
    assert form.status_code == 200
    data = {"model": model, "rules": rules, "csrf_token": csrf_token(form.text)}
    return client.post("/rule-check", data=data, headers=headers)


def test_rule_check_shows_the_violated_clause(engineer: TestClient) -> None:
    form = engineer.get("/rule-check")
    assert form.status_code == 200
    assert 'value="hydrogen.electrolysis"' in form.text
    answer = _post_check(engineer, HYDROGEN, "hydrogen.electrolysis")
    assert answer.status_code == 200, answer.text
    html = answer.text
    assert 'data-conforms="false"' in html
    row = re.search(
        r'<tr class="error"><td><code>model\.yaml:18</code> \(electrolysis\)</td>'
        r"<td><code>co-product-oxygen</code></td>",
        html,
    )
    assert row is not None, html
    assert "<code>co-product-oxygen</code></th>" in html
    assert 'data-status="violated"' in html
    assert "2023/1185" in html  # the clause's source
    # htmx: only the panel comes back, with the same result
    fragment = _post_check(engineer, HYDROGEN, "hydrogen.electrolysis", **{"HX-Request": "true"})
    assert fragment.status_code == 200
    assert fragment.text.lstrip().startswith('<div id="rules-check">')
    assert "<html" not in fragment.text
    assert "co-product-oxygen" in fragment.text


def test_rule_check_yaml_error_keeps_the_text(engineer: TestClient) -> None:
    text = "openpcf: 1\nproduct:\n  name: [unclosed\n"
    answer = _post_check(engineer, text, "hydrogen.electrolysis")
    assert answer.status_code == 400
    assert ">openpcf: 1\nproduct:\n  name: [unclosed\n</textarea>" in answer.text
    assert 'aria-invalid="true"' in answer.text
    assert re.search(r"line 4, column 1:</span> YAML syntax error", answer.text), answer.text
    fragment = _post_check(engineer, text, "hydrogen.electrolysis", **{"HX-Request": "true"})
    assert fragment.status_code == 200  # htmx swaps no 4xx answer
    assert "YAML syntax error" in fragment.text
    wrong = _post_check(engineer, HYDROGEN, "steel.hot-rolled-coil")
    assert wrong.status_code == 400
    assert 'id="rules-errors"' in wrong.text
    assert "not for CN 2804 10 00" in wrong.text


def test_rule_check_needs_the_csrf_token(engineer: TestClient) -> None:
    answer = engineer.post(
        "/rule-check", data={"model": HYDROGEN, "rules": "hydrogen.electrolysis"}
    )
    assert answer.status_code == 403


def test_factor_search_in_chinese_and_english(engineer: TestClient) -> None:
    for query in ("河北 2022", "hebei grid 2022"):
        page = engineer.get("/factors", params={"q": query})
        assert page.status_code == 200
        assert "cn.grid.co2.2022.province.hebei" in page.text, query
        assert "cn.grid.co2.2021.province.hebei" not in page.text
        assert ">0.7252<" in page.text
    nothing = engineer.get("/factors", params={"q": "no such factor anywhere"})
    assert "No factor matches." in nothing.text
    one = engineer.get("/factors/cn.grid.co2.2022.province.hebei")
    assert one.status_code == 200
    assert "data-co2e><strong>0.7252</strong>" in one.text
    assert "河北" in one.text
    assert engineer.get("/factors/no.such.factor").status_code == 404


def test_pages_in_chinese(
    web_app: TestClient,
    engine: Engine,
    make_user: MakeUser,
    login: Login,
    two_organisations: tuple[str, str],
) -> None:
    make_user(engine, organisation="Widget Co", email="zh@widget.example", lang="zh")
    assert login(web_app, "zh@widget.example").status_code == 303
    page = web_app.get("/products")
    assert "每声明单位 kg CO2e" in page.text
    assert "河北电力平均二氧化碳排放因子 2022" in web_app.get("/factors?q=hebei").text


def test_roles(
    web_app: TestClient,
    engine: Engine,
    make_user: MakeUser,
    login: Login,
    two_organisations: tuple[str, str],
) -> None:
    ours, _ = two_organisations
    urls = [
        "/products",
        f"/products/{ours}",
        f"/products/{ours}/pact.json",
        "/rule-check",
        "/factors",
        "/factors/cn.grid.co2.2022.province.hebei",
    ]
    for url in urls:
        answer = web_app.get(url)
        assert answer.status_code == 303, url
        assert answer.headers["location"].startswith("/login?next=")
    make_user(engine, organisation="Widget Co", email="sup@widget.example", role="supplier")
    assert login(web_app, "sup@widget.example").status_code == 303
    for url in urls:
        assert web_app.get(url).status_code == 403, url
    web_app.cookies.clear()
    make_user(engine, organisation="Widget Co", email="own@widget.example", role="owner")
    assert login(web_app, "own@widget.example").status_code == 303
    for url in urls:
        assert web_app.get(url).status_code == 200, url


# --------------------------------------------------------------------------------------------
# 10,000 footprints


def _bulk_footprints(engine: Engine, organisation: str, n: int, *, start: int = 0) -> int:
    """``n`` Active footprints of ``n`` products, inserted in bulk; totals ``start + k``."""
    from openpcf.db import repositories as repo

    with session_scope(engine) as s:
        org = repo.ensure_organisation(s, name=organisation)
        org_id = org.id
        base = 1_000_000 + org_id * 100_000 + start
        products: list[dict[str, Any]] = []
        footprints: list[dict[str, Any]] = []
        for k in range(start, start + n):
            urn = f"urn:openpcf:product:bulk-{org_id}-{k}"
            products.append(
                {
                    "id": base + k - start,
                    "organisation_id": org_id,
                    "product_ids": [urn],
                    "name": f"Bulk product {k:05d}",
                    "created": T0,
                }
            )
            fid = uuid.uuid4()
            footprints.append(
                {
                    "id": fid,
                    "organisation_id": org_id,
                    "product_id": base + k - start,
                    "calculation_id": None,
                    "spec_version": "3.0.0",
                    "status": "Active",
                    "created": T0 + dt.timedelta(minutes=k),
                    "stored_at": T0,
                    "document": {
                        "id": str(fid),
                        "productIds": [urn],
                        "pcf": {
                            "declaredUnitOfMeasurement": "kilogram",
                            "pcfExcludingBiogenicUptake": str(k),
                        },
                    },
                    "preceding_pf_ids": [],
                    "reference_period_start": dt.datetime(2024, 1, 1, tzinfo=dt.UTC),
                    "reference_period_end": dt.datetime(2025, 1, 1, tzinfo=dt.UTC),
                    "validity_start": dt.datetime(2025, 1, 1, tzinfo=dt.UTC),
                    "validity_end": dt.datetime(2028, 1, 1, tzinfo=dt.UTC),
                }
            )
        s.execute(insert(Product), products)
        s.execute(insert(Footprint), footprints)
    return org_id


@pytest.fixture
def statements(engine: Engine) -> Iterator[list[str]]:
    """Every SQL statement the engine runs while the list is open."""
    seen: list[str] = []

    def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    yield seen
    event.remove(engine, "before_cursor_execute", count)


def test_list_of_10000_footprints_issues_a_constant_number_of_statements(
    engineer: TestClient, engine: Engine, statements: list[str]
) -> None:
    org_id = _bulk_footprints(engine, "Widget Co", 60)

    def statements_of(url: str) -> int:
        statements.clear()
        answer = engineer.get(url)
        assert answer.status_code == 200
        return len(statements)

    few = {url: statements_of(url) for url in ("/products", "/products?sort=total&order=desc")}
    _bulk_footprints(engine, "Widget Co", 9_940, start=60)
    assert web_products.list_products(engine, organisation_id=org_id).count == 10_000
    many = {url: statements_of(url) for url in few}
    # one statement reads the footprints (the others are the session's look-ups)
    assert sum("FROM footprint" in sql for sql in statements) == 1
    assert many == few
    assert statements_of("/products?sort=total&order=desc&page=200") == few["/products"]
    page = engineer.get("/products?sort=total&order=desc")
    assert "10000 footprints" in page.text
    assert page.text.count('<td class="num" data-total>') == 50
    assert re.search(r"data-total>9999<", page.text)
    assert "Page 1 of 200" in page.text
