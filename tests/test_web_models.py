"""Web pages for models: a new model from a BOM, the editor with live validation (both
database backends). Hand-worked factors: see tests/test_bom.py (steel 2.552117, aluminium
17.36522 kg CO2e/kg, AR6)."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import httpx
import pytest
import yaml
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from fixtures.web import csrf_token
from openpcf.web.auth import WebUser

STEEL_CO2E = 1.889 + 0.002429 * 273
ALU_CO2E = 15.4 + 0.034 * 29.8 + 0.000129 * 7380
ZH_CSV = (
    "零件,材料,质量,单位,供应商\n外壳,热轧钢卷,2.5,kg,河北钢铁\n散热片,铝,800,g,\n"
    "密封圈,特种胶水,0.05,kg,\n"
)

MakeUser = Callable[..., WebUser]
Login = Callable[..., httpx.Response]


@pytest.fixture
def engineer(web_app: TestClient, engine: Engine, make_user: MakeUser, login: Login) -> TestClient:
    make_user(engine, organisation="Widget Co", email="eng@widget.example", role="engineer")
    assert login(web_app, "eng@widget.example").status_code == 303
    return web_app


def _upload(client: TestClient, name: str, data: bytes, **fields: str) -> httpx.Response:
    page = client.get("/models/new")
    assert page.status_code == 200
    form = {"csrf_token": csrf_token(page.text), "product": "Pump", "geography": "CN"} | fields
    return client.post("/models/new", data=form, files={"bom": (name, data, "text/csv")})


def _confirm_form(html: str, **extra: str) -> dict[str, Any]:
    form: dict[str, Any] = {}
    for name, value in re.findall(r'<input type="hidden" name="([a-z_]+)" value="([^"]*)"', html):
        form[name] = value.replace("&#34;", '"').replace("&quot;", '"').replace("&amp;", "&")
    for row, option in re.findall(
        r'<select id="choice-(\d+)"[^>]*>\s*<option value="([^"]*)"', html
    ):
        form[f"choice-{row}"] = option
    return form | extra


def test_bom_upload_proposals_and_download(engineer: TestClient) -> None:
    page = _upload(engineer, "bom.csv", ZH_CSV.encode("utf-8"))
    assert page.status_code == 200, page.text
    assert "cn.tiangong.steel.hot-rolled-coil" in page.text
    assert "2.552 kg CO2e/kg" in page.text
    assert "17.37 kg CO2e/kg" in page.text
    assert 'class="unmatched"' in page.text  # the glue line
    form = _confirm_form(page.text, action="download")
    assert form["choice-2"] == "cn.tiangong.steel.hot-rolled-coil"
    assert form["choice-3"] == "cn.tiangong.aluminium.primary-ingot"
    model = engineer.post("/models/new/confirm", data=form)
    assert model.status_code == 200, model.text
    assert model.headers["content-disposition"] == 'attachment; filename="pump.yaml"'
    doc = yaml.safe_load(model.text)
    assert doc["product"]["company_name"] == "Widget Co"
    assert [i["factor"] for i in doc["processes"][0]["inputs"]] == [
        "cn.tiangong.steel.hot-rolled-coil",
        "cn.tiangong.aluminium.primary-ingot",
    ]
    # open it in the editor instead: validated at once, with the hand-worked total
    edited = engineer.post("/models/new/confirm", data=form | {"action": "edit"})
    assert edited.status_code == 200
    total = 2.5 * STEEL_CO2E + 0.8 * ALU_CO2E
    assert f'data-total="{total:.6g}"' in edited.text
    # a factor that was not proposed is refused, never written
    forged = engineer.post(
        "/models/new/confirm", data=form | {"choice-2": "cn.grid.co2.2022.national"}
    )
    assert forged.status_code == 400
    assert "is not one of the candidates" in forged.text


def test_bad_bom_uploads(engineer: TestClient) -> None:
    bad = _upload(engineer, "bom.csv", b"part,material\nA,steel\n")
    assert bad.status_code == 400
    assert "no column &#39;mass&#39;" in bad.text
    neg = _upload(engineer, "bom.csv", b"part,material,mass\nA,steel,-1\n")
    assert neg.status_code == 400
    assert "row 2, column C (mass)" in neg.text
    wrong_type = _upload(engineer, "bom.pdf", b"%PDF-1.4")
    assert wrong_type.status_code == 400
    assert "Upload a .csv or .xlsx file." in wrong_type.text
    assert 'value="Pump"' in wrong_type.text  # what the user typed is kept
    page = engineer.get("/models/new")
    big = engineer.post(
        "/models/new",
        data={"csrf_token": csrf_token(page.text)},
        files={"bom": ("bom.csv", b"x" * (6 * 1024 * 1024), "text/csv")},
    )
    assert big.status_code == 413


def _validate(
    client: TestClient, text: str, url: str = "/models/validate", **more: str
) -> httpx.Response:
    page = client.get("/models/edit")
    assert page.status_code == 200
    headers = {"HX-Request": "true"} if more.pop("htmx", "") else {}
    data = {"model": text, "csrf_token": csrf_token(page.text)} | more
    return client.post(url, data=data, headers=headers)


MODEL = """\
openpcf: 1
product:
  name: Pump
  ids: [urn:openpcf:product:pump]
  declared_unit: piece
  mass_per_declared_unit: 3
  reference_period: {start: 2024-01-01, end: 2024-12-31}
boundary: cradle-to-gate
reference_process: bom
parameters: {steel_kg: 2}
processes:
  - id: bom
    name: Materials
    stage: raw_material_acquisition
    output: {product: pump, amount: 1, unit: piece}
    inputs:
      - {factor: cn.tiangong.steel.hot-rolled-coil, amount: steel_kg, unit: kg}
      - {factor: cn.tiangong.aluminium.primary-ingot, amount: 500, unit: g}
"""


def test_editor_shows_errors_at_their_lines_and_keeps_the_text(engineer: TestClient) -> None:
    broken = "openpcf: 1\nproduct:\n  name: [unclosed\n"
    answer = _validate(engineer, broken)
    assert answer.status_code == 400
    assert ">openpcf: 1\nproduct:\n  name: [unclosed\n</textarea>" in answer.text
    assert re.search(
        r'data-line="4"><span class="where">line 4, column 1:</span> YAML', answer.text
    )
    wrong_unit = MODEL.replace("amount: 500, unit: g", "amount: 500, unit: kWh")
    answer = _validate(engineer, wrong_unit, htmx="1")
    assert answer.status_code == 200  # htmx swaps no 4xx answer
    assert answer.text.lstrip().startswith('<div id="model-result"')
    assert re.search(
        r'data-line="18">.*cannot convert &#39;kWh&#39; into &#39;kg&#39;', answer.text
    )


def test_editor_total_and_parameter_recalculation(engineer: TestClient) -> None:
    answer = _validate(engineer, MODEL)
    assert answer.status_code == 200
    # 2 kg steel + 0.5 kg aluminium
    assert f'data-total="{2 * STEEL_CO2E + 0.5 * ALU_CO2E:.6g}"' in answer.text
    assert 'name="param.steel_kg" value="2"' in answer.text
    again = _validate(engineer, MODEL, url="/models/calculate", htmx="1", **{"param.steel_kg": "5"})
    assert again.status_code == 200
    assert f'data-total="{5 * STEEL_CO2E + 0.5 * ALU_CO2E:.6g}"' in again.text
    assert 'name="param.steel_kg" value="5"' in again.text
    nan = _validate(engineer, MODEL, url="/models/calculate", **{"param.steel_kg": "abc"})
    assert nan.status_code == 400
    assert "Enter a finite number." in nan.text


def test_editor_refuses_file_references(engineer: TestClient) -> None:
    text = MODEL.replace("boundary:", "factor_sets: [/etc/passwd]\nboundary:")
    answer = _validate(engineer, text)
    assert answer.status_code == 400
    assert "names factor set &#39;/etc/passwd&#39;" in answer.text
    assert 'data-line="8"' in answer.text


def test_roles_and_csrf(
    web_app: TestClient, engine: Engine, make_user: MakeUser, login: Login
) -> None:
    assert web_app.get("/models/edit").status_code == 303  # not signed in
    make_user(engine, organisation="Widget Co", email="sup@widget.example", role="supplier")
    assert login(web_app, "sup@widget.example").status_code == 303
    for path in ("/models/new", "/models/edit"):
        assert web_app.get(path).status_code == 403
    account = web_app.get("/account")
    refused = web_app.post(
        "/models/validate", data={"model": MODEL, "csrf_token": csrf_token(account.text)}
    )
    assert refused.status_code == 403


def test_csrf_is_required(engineer: TestClient) -> None:
    assert engineer.post("/models/validate", data={"model": MODEL}).status_code == 403
    assert engineer.post("/models/calculate", data={"model": MODEL}).status_code == 403
    assert (
        engineer.post(
            "/models/new", files={"bom": ("bom.csv", ZH_CSV.encode(), "text/csv")}
        ).status_code
        == 403
    )


def test_pages_in_chinese(
    web_app: TestClient, engine: Engine, make_user: MakeUser, login: Login
) -> None:
    make_user(engine, organisation="Widget Co", email="zh@widget.example", lang="zh")
    assert login(web_app, "zh@widget.example").status_code == 303
    assert "由物料清单新建模型" in web_app.get("/models/new").text
    assert "模型编辑器" in web_app.get("/models/edit").text
    assert 'href="/models/new"' in web_app.get("/models/edit").text
