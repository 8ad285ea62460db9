"""The analysis sections: contribution tree, uncertainty and scenarios side by side (the editor),
and the stored contribution tree (the product page). Both database backends.

Numbers worked out by hand on tests/fixtures/two_process.yaml (as tests/test_web_pages.py):
1 kg widget = 2 kg steel sheet (2000 kg CO2 per t: 4 kg CO2e, raw material acquisition) +
3 kWh Hebei grid 2022 (0.7252 kg CO2e/kWh: 2.1756) + 1 g fossil CH4 (GWP100 AR6 29.8: 0.0298),
the last two in production (2.2054). Total 6.2054 kg CO2e per 1 kilogram.

* **Contribution tree** (cut-off 1 %): assembly 6.2054 → sheet 4 (its direct emissions 4,
  share 4 / 6.2054 = 64.46 %), the grid factor 2.1756 (35.06 %), and the CH4 below the cut-off
  (0.0298 / 6.2054 = 0.48 % < 1 %): five rows. The treemap's area of a parent is the sum of its
  children's: sheet 4.
* **Uncertainty** with the sheet's CO2 normal sd 100 kg/t and the CH4 normal sd 0.5 g: both
  enter linearly, so the mean is the total, 6.2054, and ∂T/∂a is the amount's multiplier: the
  sheet's 0.002 t per widget (sd 0.002 · 100 = 0.2 kg CO2e) and 29.8 kg CO2e/kg = 0.0298 per g
  (sd 0.5 · 0.0298 = 0.0149). Var = 0.2² + 0.0149² = 0.04 + 0.00022201 = 0.04022201, sd =
  0.2005543; the interval 6.2054 ∓ 1.959964 · 0.2005543 = 5.812321 … 6.598479; shares
  0.04 / 0.04022201 = 99.45 % and 0.55 %.
* **Scenarios** (first column: the model as written, 6.2054): "more power" power = 4:
  production 4 · 0.7252 + 0.0298 = 2.9306, total 6.9306, +0.7252 (+0.7252 / 6.2054 = +11.7 %);
  "light sheet" sheet_mass = 1.5: raw material 1.5 · 2 = 3, total 5.2054, −1 (−16.1 %).
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from fixtures.boxed_widget import boxed_widget
from fixtures.browser import Person, Server
from fixtures.uncertain_grid import import_uncertain_grid
from fixtures.web import csrf_token
from openpcf.io.store import DatabaseStore
from openpcf.model.loading import LoadedModel, load_model
from openpcf.services import web_analysis, web_scenarios
from openpcf.services.calculate import calculate
from openpcf.services.publishing import publish
from openpcf.services.web_analysis import MAX_TREE_NODES, analyse_editor, contribution_tree
from openpcf.services.web_models import evaluate_model_text
from openpcf.services.web_scenarios import MAX_SCENARIOS, scenarios_from_form
from openpcf.settings import get_settings
from openpcf.web.auth import WebUser

ROOT = Path(__file__).parents[1]
WIDGET = ROOT / "tests/fixtures/two_process.yaml"
WEB = ROOT / "src/openpcf/web"
T0 = dt.datetime(2025, 3, 1, tzinfo=dt.UTC)
TEXT = WIDGET.read_text(encoding="utf-8")
UNCERTAIN = TEXT.replace(
    "- {gas: CH4-fossil, amount: 1, unit: g}",
    "- {gas: CH4-fossil, amount: 1, unit: g, uncertainty: {distribution: normal, sd: 0.5}}",
).replace(
    "- {gas: CO2-fossil, amount: 2000, unit: kg}",
    "- {gas: CO2-fossil, amount: 2000, unit: kg, uncertainty: {distribution: normal, sd: 100}}",
)
Z95 = 1.959963984540054

MakeUser = Callable[..., WebUser]
Login = Callable[..., httpx.Response]


@pytest.fixture
def engineer(web_app: TestClient, engine: Engine, make_user: MakeUser, login: Login) -> TestClient:
    make_user(engine, organisation="Widget Co", email="eng@widget.example", role="engineer")
    assert login(web_app, "eng@widget.example").status_code == 303
    return web_app


def _post(client: TestClient, url: str, text: str, **fields: str) -> httpx.Response:
    page = client.get("/models/edit")
    assert page.status_code == 200
    headers = {"HX-Request": "true"} if fields.pop("htmx", "") else {}
    data = {"model": text, "csrf_token": csrf_token(page.text)} | fields
    return client.post(url, data=data, headers=headers)


def _chart(html: str, chart_id: str) -> Any:
    """The data of a chart: JSON in a single-quoted attribute (static/analysis.js)."""
    found = re.search(
        rf'<div class="chart" data-analysis-id="{chart_id}"[^>]*data-analysis-chart=\'([^\']*)\'',
        html,
    )
    assert found is not None, chart_id
    return json.loads(found.group(1))


# --------------------------------------------------------------------------------------------
# the service


def test_contribution_tree_and_uncertainty_by_hand() -> None:
    outcome = evaluate_model_text(UNCERTAIN)
    analysis = analyse_editor(outcome, text=UNCERTAIN, overrides={})
    tree = analysis.contributions
    assert tree is not None
    assert tree.left_out == 0
    assert tree.unit == "kg CO2e per 1 kilogram"
    assert [(r.path, r.kind) for r in tree.rows] == [
        (("assembly",), "process"),
        (("assembly", "sheet"), "process"),
        (("assembly", "sheet", "direct emissions"), "emission"),
        (("assembly", "cn.grid.co2.2022.province.hebei"), "factor"),
        (("assembly", "below cut-off"), "other"),
    ]
    values = [r.kg_co2e for r in tree.rows]
    assert values == pytest.approx([6.2054, 4.0, 4.0, 2.1756, 0.0298], rel=1e-12)
    assert tree.rows[1].share == pytest.approx(4 / 6.2054, rel=1e-12)
    chart = tree.chart({"emission": "direct", "other": "rest"})
    root = chart["data"][0]
    assert [c["name"] for c in root["children"]] == [
        "sheet",
        "cn.grid.co2.2022.province.hebei",
        "rest",
    ]
    assert root["children"][0]["value"] == pytest.approx(4.0)  # the sum of its children
    assert root["children"][0]["children"][0]["name"] == "direct"
    u = analysis.uncertainty
    assert u is not None
    sd = math.sqrt(0.2**2 + 0.0149**2)
    assert sd == pytest.approx(0.2005543, rel=1e-6)
    assert (u.deterministic, u.mean, u.sd) == pytest.approx((6.2054, 6.2054, sd), rel=1e-9)
    assert (u.p2_5, u.p97_5) == pytest.approx((6.2054 - Z95 * sd, 6.2054 + Z95 * sd), rel=1e-9)
    assert u.p2_5 == pytest.approx(5.812321, rel=1e-6)
    assert [k for k, _ in u.shares] == ["sheet/gas:CO2-fossil", "assembly/gas:CH4-fossil"]
    assert [s for _, s in u.shares] == pytest.approx(
        [0.04 / 0.04022201, 0.00022201 / 0.04022201], rel=1e-9
    )
    # a model without distributions: contributions, no uncertainty
    plain = analyse_editor(evaluate_model_text(TEXT), text=TEXT, overrides={})
    assert plain.contributions is not None
    assert plain.uncertainty is None


def test_database_entries_are_named_in_the_chart(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A boxed widget on the grid database of ``tests/fixtures/uncertain_grid.py`` (``T =
    5.503 + w (X / a − 0.1)``, worked out in ``tests/test_uncertainty_linked.py``): the
    variance shares are ``(4.4562318 x 0.03)² / 0.1559303² = 0.0178722 / 0.0243142 = 73.51 %``
    (the grid's CO2 ``X``) and ``0.0064420 / 0.0243142 = 26.49 %`` (its output ``a``); the
    chart names them ``database › process › flow`` as the report does (the process name cut to
    fit 60 characters, the flow whole), the table keeps the keys."""
    monkeypatch.setenv("OPENPCF_HOME", str(tmp_path / "home"))
    get_settings.cache_clear()
    try:
        settings = get_settings()
        ref = import_uncertain_grid(tmp_path, DatabaseStore(settings.databases_dir))
        calc = calculate(boxed_widget(tmp_path, "grid:widget assembly"), settings=settings)
        u = web_analysis.uncertainty_view(calc)
    finally:
        get_settings.cache_clear()
    assert u is not None
    assert [k for k, _ in u.shares] == [f"db:{ref}:B:0:0", f"db:{ref}:A:0:0"]
    assert [s for _, s in u.shares] == pytest.approx([0.7351, 0.2649], abs=5e-5)
    chart = u.chart("rest")
    assert chart["labels"] == [
        f"{ref} › electricity production, US… › CO2-fossil",
        f"{ref} › electricity… › electricity, medium voltage",
    ]
    assert chart["values"] == pytest.approx([73.51, 26.49], abs=5e-3)


def test_scenarios_parse_the_text_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """Six scenarios with the editor's outcome given parse the model text once (the design
    note of ``web_scenarios``) and give the totals by hand: power ``k`` kWh and sheet ``k / 2``
    kg make ``2 (k / 2) + 0.7252 k + 0.0298 = 1.7252 k + 0.0298`` kg CO2e."""
    base = evaluate_model_text(TEXT)
    parsed: list[str] = []

    def counted(path: Path, *, text: str) -> LoadedModel:
        parsed.append(text)
        return load_model(path, text=text)

    monkeypatch.setattr("openpcf.services.web_scenarios.load_model", counted)
    scenarios = [
        web_scenarios.ScenarioInput(
            number=k, name=f"S{k}", values={"power": str(k), "sheet_mass": str(k / 2)}
        )
        for k in range(1, 7)
    ]
    comparison, marked = web_scenarios.compare_scenarios(TEXT, {}, scenarios, base=base)
    assert comparison is not None
    assert len(parsed) == 1
    assert not any(s.errors for s in marked)
    expected = [6.2054, *(1.7252 * k + 0.0298 for k in range(1, 7))]
    assert comparison.total.values == pytest.approx(expected, rel=1e-12)


def test_tree_is_bounded_and_damaged_records_are_refused() -> None:
    """A chain of 400 nodes: 300 shown (the depth cut first: 9 levels), the rest counted."""
    wide = {
        "label": "root",
        "kind": "process",
        "kg_co2e": 1.0,
        "share": 1.0,
        "children": [
            {"label": f"leaf {i}", "kind": "factor", "kg_co2e": 0.0025, "share": 0.0025}
            for i in range(400)
        ],
    }
    tree = contribution_tree(wide, unit="kg CO2e per 1 kg")
    assert tree is not None
    assert len(tree.rows) == MAX_TREE_NODES
    assert tree.left_out == 401 - MAX_TREE_NODES
    deep: dict[str, Any] = {"label": "L12", "kind": "process", "kg_co2e": 1, "share": 1}
    for level in range(11, -1, -1):
        deep = {
            "label": f"L{level}",
            "kind": "process",
            "kg_co2e": 1,
            "share": 1,
            "children": [deep],
        }
    tree = contribution_tree(deep, unit="")
    assert tree is not None
    assert [r.depth for r in tree.rows] == list(range(9))  # levels 0..8 shown
    assert tree.left_out == 13 - 9
    assert contribution_tree(None, unit="") is None
    assert contribution_tree({"kind": "x"}, unit="") is None
    odd = contribution_tree({"label": "x", "kg_co2e": "nan?", "children": 5}, unit="")
    assert odd is not None
    assert odd.rows[0].kg_co2e == 0.0
    assert len(odd.rows) == 1


def test_scenarios_from_the_form() -> None:
    form = [
        ("scenario-name.1", "  more   power "),
        ("scenario.1.power", "4"),
        ("scenario.2.power", "5"),  # no name
        ("scenario-name.3", "More power"),  # the same name, another case
        ("scenario-name.9", "beyond the columns"),
        ("scenario.4.power", "   "),  # nothing typed: no scenario
        ("scenario-name.5", "x" * 500),
    ]
    found = scenarios_from_form(form)
    assert [(s.number, s.name, dict(s.values), dict(s.errors)) for s in found] == [
        (1, "more power", {"power": "4"}, {}),
        (2, "", {"power": "5"}, {"name": "missing"}),
        (3, "More power", {}, {"name": "duplicate"}),
        (5, "x" * 60, {}, {}),
    ]
    assert MAX_SCENARIOS == 6


# --------------------------------------------------------------------------------------------
# the editor


def test_editor_shows_the_tree_and_the_uncertainty(engineer: TestClient) -> None:
    answer = _post(engineer, "/models/validate", UNCERTAIN, htmx="1")
    assert answer.status_code == 200
    html = answer.text
    assert html.lstrip().startswith('<div id="model-result"')
    chart = _chart(html, "editor-tree-chart")
    assert chart["kind"] == "treemap"
    assert chart["data"][0]["co2e"] == pytest.approx(6.2054)
    assert re.search(r'<th scope="row">assembly › sheet › direct emissions</th>', html)
    assert 'data-mean="6.2054"' in html
    assert 'data-sd="0.200554"' in html
    assert 'data-interval="5.81232 6.59848"' in html
    assert "99.4 %" in html  # 99.45 % rounded to one decimal
    shares = _chart(html, "editor-shares-chart")
    assert shares["labels"] == ["sheet/gas:CO2-fossil", "assembly/gas:CH4-fossil"]
    assert shares["values"] == pytest.approx(
        [100 * 0.04 / 0.04022201, 100 * 0.00022201 / 0.04022201]
    )
    plain = _post(engineer, "/models/validate", TEXT)
    assert 'id="no-distributions"' in plain.text
    assert "<script>" not in plain.text


def test_scenarios_side_by_side(engineer: TestClient) -> None:
    fields = {
        "scenario-name.1": "more power",
        "scenario.1.power": "4",
        "scenario-name.2": "light sheet",
        "scenario.2.sheet_mass": "1.5",
    }
    answer = _post(engineer, "/models/scenarios", TEXT, htmx="1", **fields)
    assert answer.status_code == 200
    html = answer.text
    total = re.search(r'<tr data-row="total">(.*?)</tr>', html, re.S)
    assert total is not None
    cells = total.group(1)
    assert 'data-value="6.9306"' in cells
    assert 'data-difference="+0.7252"' in cells
    assert "(+11.7 %)" in cells
    assert 'data-value="5.2054"' in cells
    assert 'data-difference="-1"' in cells
    assert "(-16.1 %)" in cells
    raw = re.search(r'<tr data-row="raw_material_acquisition">(.*?)</tr>', html, re.S)
    assert raw is not None
    assert 'data-value="3"' in raw.group(1)
    production = re.search(r'<tr data-row="production">(.*?)</tr>', html, re.S)
    assert production is not None
    assert 'data-value="2.9306"' in production.group(1)
    chart = _chart(html, "scenario-chart")
    assert chart["labels"] == ["Current", "more power", "light sheet"]
    assert [s["name"] for s in chart["series"]] == ["Raw material acquisition", "Production"]
    assert chart["series"][0]["values"] == pytest.approx([4.0, 4.0, 3.0])
    # the fields are kept as typed, and a third, empty column is offered
    assert 'name="scenario-name.1" value="more power"' in html
    assert 'name="scenario.2.sheet_mass" value="1.5"' in html
    assert 'name="scenario-name.3" value=""' in html
    # validating the text again (every keystroke) keeps the scenarios without recalculating them
    again = _post(engineer, "/models/validate", TEXT, htmx="1", **fields)
    assert 'name="scenario.1.power" value="4"' in again.text
    assert 'id="scenario-comparison"' not in again.text


def test_bad_scenarios_are_errors_at_their_fields(engineer: TestClient) -> None:
    fields = {
        "scenario-name.1": "a",
        "scenario.1.power": "lots",
        "scenario.2.power": "5",
        "scenario-name.3": "A",
    }
    answer = _post(engineer, "/models/scenarios", TEXT, **fields)
    assert answer.status_code == 400
    html = answer.text
    assert 'id="scenario-1-power" name="scenario.1.power" value="lots"' in html
    assert 'aria-describedby="scenario-1-power-error"' in html
    assert 'id="scenario-name-2-error" class="field-error">Give this scenario a name.' in html
    assert 'id="scenario-name-3-error" class="field-error">Another scenario has this name.' in html
    assert 'id="scenario-comparison"' not in html
    assert f">{TEXT}</textarea>" in html  # the model text is kept
    # a scenario the model cannot take (a negative mass) is shown failed, the others compared
    negative = _post(
        engineer,
        "/models/scenarios",
        TEXT,
        **{"scenario-name.1": "negative", "scenario.1.sheet_mass": "-1"},
    )
    assert negative.status_code == 200
    assert "negative could not be calculated:" in negative.text
    assert "line 21: process &#39;assembly&#39;, input 1: amount -1 is negative" in negative.text
    chart = _chart(negative.text, "scenario-chart")
    assert chart["series"][0]["values"] == [4.0, 0.0]  # nothing drawn for the failed one
    # more columns than the bound are ignored
    many = {f"scenario-name.{n}": f"s{n}" for n in range(1, 12)}
    bounded = _post(engineer, "/models/scenarios", TEXT, htmx="1", **many)
    chart = _chart(bounded.text, "scenario-chart")
    assert len(chart["labels"]) == 1 + MAX_SCENARIOS


def test_a_bounded_monte_carlo_run(engineer: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    """1,000 draws of the two normal inputs: the total is normal with mean 6.2054 and sd
    0.2005543 (the module docstring), so the sample mean lies within 5 standard errors
    (0.2005543 / √1000 = 0.00634) and the sample sd within 10 % (its own relative standard
    error is 1 / √(2 · 999) = 2.2 %). The same seed gives the same run."""
    fields = {"mc-iterations": "1000", "mc-seed": "14067"}
    answer = _post(engineer, "/models/montecarlo", UNCERTAIN, htmx="1", **fields)
    assert answer.status_code == 200
    html = answer.text
    assert 'data-iterations="1000"' in html
    assert 'data-seed="14067"' in html
    mean = re.search(r'data-mc-mean="([^"]+)"', html)
    sd = re.search(r'data-mc-sd="([^"]+)"', html)
    assert mean is not None
    assert sd is not None
    assert abs(float(mean.group(1)) - 6.2054) < 5 * 0.2005543 / math.sqrt(1000)
    assert float(sd.group(1)) == pytest.approx(0.2005543, rel=0.10)
    histogram = _chart(html, "mc-histogram")
    assert sum(histogram["values"]) == 1000
    again = _post(engineer, "/models/montecarlo", UNCERTAIN, htmx="1", **fields)
    assert re.search(r'data-mc-mean="([^"]+)"', again.text).group(1) == mean.group(1)  # type: ignore[union-attr]
    # bad fields: errors at them, the values kept
    bad = _post(
        engineer, "/models/montecarlo", UNCERTAIN, **{"mc-iterations": "5000", "mc-seed": "x"}
    )
    assert bad.status_code == 400
    assert 'id="mc-iterations" name="mc-iterations" value="5000"' in bad.text
    assert "Enter a whole number from 100 to 2000." in bad.text
    assert 'id="mc-seed-error"' in bad.text
    assert 'id="monte-carlo-result"' not in bad.text
    # a model that recompiles per draw is refused when the run would take too long
    monkeypatch.setattr(web_analysis, "MONTE_CARLO_SECONDS", -1.0)
    slow_model = (
        UNCERTAIN + "parameter_uncertainty:\n  power: {distribution: uniform, min: 2, max: 4}\n"
    )
    slow = _post(engineer, "/models/montecarlo", slow_model, **{"mc-iterations": "2000"})
    assert slow.status_code == 400
    assert "would take about" in slow.text
    assert 'id="monte-carlo-result"' not in slow.text
    # draws the model cannot take (power below 0 kWh) fail at the field, with the reason
    monkeypatch.setattr(web_analysis, "MONTE_CARLO_SECONDS", 10.0)
    negative = (
        UNCERTAIN + "parameter_uncertainty:\n  power: {distribution: uniform, min: -1, max: 7}\n"
    )
    failed = _post(engineer, "/models/montecarlo", negative, **{"mc-iterations": "100"})
    assert failed.status_code == 400
    assert "The Monte Carlo run failed:" in failed.text
    assert "is negative" in failed.text


def test_the_new_routes_need_a_session_the_role_and_the_csrf_token(
    web_app: TestClient, engine: Engine, make_user: MakeUser, login: Login
) -> None:
    routes = ("/models/scenarios", "/models/montecarlo")
    for url in routes:  # not signed in, no token: refused before anything is read
        assert web_app.post(url, data={"model": TEXT}).status_code == 403
    assert web_app.get(f"/products/{uuid.uuid4()}/analysis").status_code == 303  # to sign in
    make_user(engine, organisation="Widget Co", email="sup@widget.example", role="supplier")
    assert login(web_app, "sup@widget.example").status_code == 303
    token = csrf_token(web_app.get("/account").text)
    for url in routes:
        assert web_app.post(url, data={"model": TEXT, "csrf_token": token}).status_code == 403
    assert web_app.get(f"/products/{uuid.uuid4()}/analysis").status_code == 403


def test_an_engineer_needs_the_csrf_token(engineer: TestClient) -> None:
    for url in ("/models/scenarios", "/models/montecarlo"):
        assert engineer.post(url, data={"model": TEXT}).status_code == 403


# --------------------------------------------------------------------------------------------
# the product page


@pytest.fixture
def published(engine: Engine, tmp_path: Path) -> tuple[str, str]:
    """Widget Co's widget and Other Co's gadget; their footprint ids."""
    ours = publish(WIDGET, engine=engine, organisation="Widget Co", now=T0)
    gadget = tmp_path / "gadget.yaml"
    gadget.write_text(
        TEXT.replace("name: Widget\n", "name: Gadget\n").replace(
            "product:widget", "product:gadget"
        ),
        encoding="utf-8",
    )
    theirs = publish(gadget, engine=engine, organisation="Other Co", now=T0)
    return str(ours.id), str(theirs.id)


def test_product_page_shows_the_stored_tree(
    engineer: TestClient, published: tuple[str, str]
) -> None:
    ours, _ = published
    page = engineer.get(f"/products/{ours}")
    assert page.status_code == 200
    assert f'hx-get="/products/{ours}/analysis"' in page.text
    assert "/static/analysis.js" in page.text
    fragment = engineer.get(f"/products/{ours}/analysis", headers={"HX-Request": "true"})
    assert fragment.status_code == 200
    assert fragment.text.lstrip().startswith('<div id="product-analysis">')
    chart = _chart(fragment.text, "product-tree-chart")
    assert chart["data"][0]["co2e"] == pytest.approx(6.2054)
    assert 'id="no-stored-uncertainty"' in fragment.text
    whole = engineer.get(f"/products/{ours}/analysis")
    assert whole.status_code == 200
    assert "<h1>Widget</h1>" in whole.text
    assert '<th scope="row">assembly › cn.grid.co2.2022.province.hebei</th>' in whole.text
    assert ">2.1756<" in whole.text


def test_another_organisations_tree_is_not_found(
    engineer: TestClient, published: tuple[str, str]
) -> None:
    _, theirs = published
    for url in (
        f"/products/{theirs}/analysis",
        f"/products/{uuid.uuid4()}/analysis",
        "/products/x/analysis",
    ):
        answer = engineer.get(url)
        assert answer.status_code == 404, url
        assert "Gadget" not in answer.text


def test_in_chinese(
    web_app: TestClient,
    engine: Engine,
    make_user: MakeUser,
    login: Login,
    published: tuple[str, str],
) -> None:
    make_user(engine, organisation="Widget Co", email="zh@widget.example", lang="zh")
    assert login(web_app, "zh@widget.example").status_code == 303
    ours, _ = published
    assert "供应链上的贡献" in web_app.get(f"/products/{ours}/analysis").text
    answer = _post(
        web_app, "/models/scenarios", TEXT, **{"scenario-name.1": "甲", "scenario.1.power": "4"}
    )
    assert "情景并列比较" in answer.text
    chart = _chart(answer.text, "scenario-chart")
    assert chart["labels"] == ["当前", "甲"]


def test_catalogues_have_the_same_keys_and_every_key_the_templates_use() -> None:
    en = yaml.safe_load((WEB / "messages/analysis.en.yaml").read_text(encoding="utf-8"))
    zh = yaml.safe_load((WEB / "messages/analysis.zh.yaml").read_text(encoding="utf-8"))
    assert set(en) == set(zh)
    used: set[str] = set()
    for path in WEB.glob("templates/analysis_*.html.j2"):
        used |= set(re.findall(r"""t\[["'](analysis\.[a-z_.]+)["']\]""", path.read_text("utf-8")))
    dynamic = {
        f"analysis.kind.{k}" for k in ("process", "factor", "emission", "other", "truncated")
    } | {
        "analysis.name_missing",
        "analysis.name_duplicate",
    }
    assert used | dynamic <= set(en), sorted((used | dynamic) - set(en))
    assert all(isinstance(v, str) and v.strip() for v in [*en.values(), *zh.values()])


# --------------------------------------------------------------------------------------------
# in a real browser (the fixtures and checks of tests/fixtures/browser.py: axe-core, console)


@pytest.mark.browser
def test_in_the_browser(people: Callable[[], Person], server: Server) -> None:
    """The product page's treemap drills down a level on a click; the editor shows the
    uncertainty and compares a scenario (6.9306, +0.7252: the module docstring)."""
    published = publish(WIDGET, engine=server.engine, organisation="Acme Pumps", now=T0)
    ann = people()
    page, base = ann.page, server.url
    ann.sign_in("ann@example.com")

    page.goto(f"{base}/products/{published.id}")
    chart = page.locator("#product-analysis [data-analysis-chart] svg")
    chart.wait_for()
    assert chart.get_by_text("direct emissions").count() == 0  # one level at a time
    chart.locator("text", has_text="sheet").first.click()  # "▶ sheet": it has children
    chart.get_by_text("direct emissions").first.wait_for()
    ann.check("40-analysis-product-tree", view="#product-contrib-h")

    # the scenarios, then (on a fresh editor) a Monte Carlo run: axe-core leaves style=""
    # on elements it inspected, which htmx would copy onto their swapped successors (an inline
    # style the CSP blocks), so each page is checked after its last swap
    page.goto(f"{base}/models/edit")
    page.locator("#model").fill(UNCERTAIN)
    page.locator("#editor-uncertainty").wait_for()
    page.locator("#scenario-name-1").fill("more power")
    page.locator("#scenario-1-power").fill("4")
    page.get_by_role("button", name="Compare scenarios").click()
    total = page.locator('#scenario-table tr[data-row="total"] td[data-value]')
    total.first.wait_for()
    assert total.first.get_attribute("data-value") == "6.9306"
    assert page.locator("#scenario-1-power").input_value() == "4"
    page.locator("[data-analysis-id=scenario-chart] svg").wait_for()
    ann.check("42-analysis-scenarios", view="#comparison-h")

    page.goto(f"{base}/models/edit")
    page.locator("#model").fill(UNCERTAIN)
    page.locator("#editor-uncertainty").wait_for()
    assert page.locator("[data-mean]").get_attribute("data-mean") == "6.2054"
    page.locator("#mc-seed").fill("14067")
    page.get_by_role("button", name="Run Monte Carlo").click()
    page.locator("[data-analysis-id=mc-histogram] svg").wait_for()
    assert page.locator("[data-iterations]").inner_text() == "1000"
    ann.check("41-analysis-uncertainty", view="#editor-unc-h")
    ann.check("43-analysis-monte-carlo", view="#monte-carlo")
    ann.assert_no_console_errors()
