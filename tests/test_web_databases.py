"""The database browser (issue 16): list, search in English and Chinese, one process, 404s.

``jsonld_small`` imported as ``small`` (derived in ``tests/test_linking.py``; AR6: CO2 1,
CH4 fossil 29.8, CO2 uptake -1), per unit of reference product:

- widget assembly: 2 kg steel (2 x 2.586 = 5.172) + 0.5 kg scrap (0.5 x 0.862 = 0.431)
  - 1 MJ avoided US electricity (0.1) = 5.503 kg CO2e/kg; the lubricant has no producer and
  is cut off ("no provider"), so its lost share is unknown. By gas: the steel process emits
  0.01 kg CH4 per run, allocated 0.75 steel / 0.25 scrap, so 2 x 0.0075 + 0.5 x 0.0025 =
  0.01625 kg CH4 (x 29.8 = 0.48425) and 5.503 - 0.48425 = 5.01875 kg CO2.
- steel scrap, the steel process's co-product (its own column): 0.25 x 3.448 = 0.862.
- wood drying, 森林: takes up 1.5 kg CO2 from air: -1.5, flagged "negative".
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
import yaml
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from openpcf.io.store import DatabaseStore
from openpcf.services.databases import import_database
from openpcf.web.auth import WebUser

ROOT = Path(__file__).parents[1]
WEB = ROOT / "src/openpcf/web"
WIDGET = "ee000000-0000-4000-8000-000000000006"
STEEL = "ee000000-0000-4000-8000-000000000003"

MakeUser = Callable[..., WebUser]
Login = Callable[..., httpx.Response]


@pytest.fixture(scope="module")
def imported(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A databases folder with ``jsonld_small`` imported as ``small`` (once per module)."""
    root = tmp_path_factory.mktemp("store") / "databases"
    store = DatabaseStore(root)
    import_database("jsonld", ROOT / "tests/fixtures/jsonld_small", name="small", store=store)
    return root


@pytest.fixture
def browser(
    web_app: TestClient,
    engine: Engine,
    make_user: MakeUser,
    login: Login,
    imported: Path,
    tmp_path: Path,
) -> TestClient:
    """``web_app`` (home ``tmp_path/"home"``) holding ``small``, signed in as an engineer."""
    shutil.copytree(imported, tmp_path / "home" / "databases")
    make_user(engine, organisation="Widget Co", email="eng@widget.example", role="engineer")
    assert login(web_app, "eng@widget.example").status_code == 303
    return web_app


def test_list_search_and_process(browser: TestClient) -> None:
    listed = browser.get("/databases")
    assert listed.status_code == 200
    assert 'href="/databases/small"' in listed.text
    assert "jsonld" in listed.text
    assert "CC0 1.0" in listed.text  # the licence the export states
    assert 'href="/databases"' in listed.text  # the navigation link

    for query in ("widget", "WIDGET assembly"):
        found = browser.get("/databases/small", params={"q": query})
        assert found.status_code == 200
        assert "1 processes match" in found.text, query
        assert "data-co2e>5.503 / kg<" in found.text
        assert f'href="/databases/small/processes/{WIDGET}"' in found.text
    chinese = browser.get("/databases/small", params={"q": "森林"})
    assert "wood drying, 森林" in chinese.text
    assert "data-co2e>-1.5 / kg<" in chinese.text
    assert "negative" in chinese.text
    assert "No process matches." in browser.get("/databases/small?q=nothing+like+it").text
    everything = browser.get("/databases/small", params={"q": "x" * 5000})  # cut to 200
    assert everything.status_code == 200

    page = browser.get(f"/databases/small/processes/{WIDGET}")
    assert page.status_code == 200
    assert "<strong data-co2e>5.503</strong> kg CO2e (AR6)" in page.text
    assert '<th scope="row">CH4-fossil</th><td class="num">0.01625</td>' in page.text
    assert '<td class="num">5.01875</td>' in page.text
    assert "lubricant (no producer in this database): 0.01 kg – no provider" in page.text
    assert "steel production, with scrap co-product" in page.text  # a provider
    assert "394ec10c9c9e" in page.text  # the version (content hash) of the import
    assert WIDGET in page.text
    by_name = browser.get("/databases/small/processes/widget assembly")
    assert by_name.status_code == 200
    scrap = f"{STEEL}%23dd000000-0000-4000-8000-000000000003"  # a co-product's column id
    assert f'href="/databases/small/processes/{scrap}"' in page.text
    assert (
        "<strong data-co2e>0.862</strong>"
        in browser.get(f"/databases/small/processes/{scrap}").text
    )


def test_unknown_and_escaping_names_are_404(browser: TestClient) -> None:
    for url in (
        "/databases/nosuch",
        "/databases/nosuch/processes/x",
        "/databases/small/processes/ee000000-0000-4000-8000-00000000dead",
        "/databases/%2E%2E",
        "/databases/%2E%2E/processes/x",
        "/databases/small%40394ec10c9c9e",
        "/databases/small/processes/..%2F..%2Fmeta.json",
        "/databases/small/processes/" + "a" * 400,
    ):
        answer = browser.get(url)
        assert answer.status_code == 404, url
        assert "Traceback" not in answer.text
    assert "No imported database of that name." in browser.get("/databases/nosuch").text


def test_chinese_pages(
    web_app: TestClient,
    engine: Engine,
    make_user: MakeUser,
    login: Login,
    imported: Path,
    tmp_path: Path,
) -> None:
    shutil.copytree(imported, tmp_path / "home" / "databases")
    make_user(engine, organisation="Widget Co", email="zh@widget.example", lang="zh")
    assert login(web_app, "zh@widget.example").status_code == 303
    assert "背景数据库" in web_app.get("/databases").text
    assert "1 个过程匹配" in web_app.get("/databases/small", params={"q": "森林"}).text
    page = web_app.get(f"/databases/small/processes/{WIDGET}")
    assert "按温室气体分列的碳足迹" in page.text
    assert "没有该名称的已导入数据库" in web_app.get("/databases/nosuch").text


def test_roles(
    web_app: TestClient,
    engine: Engine,
    make_user: MakeUser,
    login: Login,
    imported: Path,
    tmp_path: Path,
) -> None:
    shutil.copytree(imported, tmp_path / "home" / "databases")
    urls = ["/databases", "/databases/small", f"/databases/small/processes/{WIDGET}"]
    for url in urls:
        answer = web_app.get(url)
        assert answer.status_code == 303, url
        assert answer.headers["location"].startswith("/login?next=")
    for role in ("supplier", "verifier"):
        web_app.cookies.clear()
        make_user(engine, organisation="Widget Co", email=f"{role}@widget.example", role=role)
        assert login(web_app, f"{role}@widget.example").status_code == 303
        for url in urls:
            assert web_app.get(url).status_code == 403, (role, url)
    web_app.cookies.clear()
    make_user(engine, organisation="Widget Co", email="own@widget.example", role="owner")
    assert login(web_app, "own@widget.example").status_code == 303
    for url in urls:
        assert web_app.get(url).status_code == 200, url


def test_an_empty_host_says_how_to_import(browser: TestClient, tmp_path: Path) -> None:
    shutil.rmtree(tmp_path / "home" / "databases")
    assert "No database is imported yet." in browser.get("/databases").text


def test_catalogue_keys() -> None:
    """Both languages define the same keys, and the templates use only defined ones."""
    en, zh = (
        yaml.safe_load((WEB / f"messages/databases.{lang}.yaml").read_text("utf-8"))
        for lang in ("en", "zh")
    )
    assert set(en) == set(zh)
    used: set[str] = set()
    for path in WEB.glob("templates/databases_*.html.j2"):
        used |= set(re.findall(r"""t\[["']([a-z_.]+)["']\]""", path.read_text("utf-8")))
    assert used
    assert used <= set(en), sorted(used - set(en))
