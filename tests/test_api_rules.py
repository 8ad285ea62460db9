"""``/rules``: the rule sets over HTTP, and a model checked against one (SQLite and PostgreSQL).

The model sent: 1 kg hydrogen, oxygen co-product allocated by energy, 53 kWh of the Inner
Mongolia grid (bundled MEE/NBS 2022 factor), no process in the raw-material stage. Against
``hydrogen.electrolysis`` that is two errors worked out by reading the rule set: the
oxygen clause asks for economic allocation (Delegated Regulation (EU) 2023/1185), and the
stage clause asks for raw-material acquisition (T/CAB 0078-2020 as publicly summarised).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from fixtures.api_host import Host, serve_host
from openpcf.settings import get_settings

MODEL = """\
openpcf: 1
product:
  name: Hydrogen
  ids: [urn:openpcf:product:h2-api]
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


@pytest.fixture
def host(engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Host]:
    monkeypatch.setenv("OPENPCF_HOME", str(tmp_path / "home"))
    get_settings.cache_clear()
    yield from serve_host(engine, tmp_path)
    get_settings.cache_clear()


def test_list_and_show_are_public(host: Host) -> None:
    listed = host.http.get("/rules")
    assert listed.status_code == 200
    ids = {r["id"] for r in listed.json()}
    assert len(ids) >= 20
    assert "aluminium.primary" in ids
    shown = host.http.get("/rules/aluminium.primary")
    assert shown.status_code == 200
    assert "file" not in shown.json()
    assert all(c["source"]["document"] for c in shown.json()["clauses"])
    missing = host.http.get("/rules/no.such")
    assert missing.status_code == 404


def test_check_a_model(host: Host) -> None:
    headers = {"authorization": f"Bearer {host.token()}", "content-type": "application/yaml"}
    answer = host.http.post("/rules/hydrogen.electrolysis/check", content=MODEL, headers=headers)
    assert answer.status_code == 200, answer.text
    data = answer.json()
    assert data["rules"] == "hydrogen.electrolysis"
    clauses = {c["clause"]: c for c in data["clauses"]}
    assert clauses["co-product-oxygen"]["status"] == "violated"
    (finding,) = clauses["co-product-oxygen"]["findings"]
    assert finding["where"] == "request/model.yaml:18"
    assert finding["process"] == "electrolysis"
    assert clauses["stages"]["status"] == "violated"


def test_check_needs_a_token_and_a_good_model(host: Host) -> None:
    url = "/rules/hydrogen.electrolysis/check"
    assert host.http.post(url, content=MODEL).status_code == 401
    headers = {"authorization": f"Bearer {host.token()}"}
    bad = host.http.post(url, content="product: [", headers=headers)
    assert bad.status_code == 400
    assert "request/model.yaml" in bad.json()["message"]
    other = host.http.post("/rules/steel.hot-rolled-coil/check", content=MODEL, headers=headers)
    assert other.status_code == 400
    assert "not for CN 2804 10 00" in other.json()["message"]
    assert host.http.post("/rules/no.such/check", content=MODEL, headers=headers).status_code == 404
    binary = host.http.post(url, content=b"\xff\xfe", headers=headers)
    assert binary.status_code == 400


def test_compare_over_http(host: Host) -> None:
    """Energy allocation (hydrogen share 120/120 = 1): 53 x 0.6849 = 36.2997; mass allocation
    (share 1 / (1 + 7.936)): 36.2997 / 8.936 = 4.06219; the allocation effect is the whole
    difference, -32.2375."""
    import json

    headers = {"authorization": f"Bearer {host.token()}", "content-type": "application/json"}
    body = {"model": MODEL, "a": ["allocation=energy"], "b": ["allocation=mass"]}
    answer = host.http.post("/rules/compare", content=json.dumps(body), headers=headers)
    assert answer.status_code == 200, answer.text
    data = answer.json()
    energy = 53 * 0.6849
    mass = energy / (1 + 7.936)
    assert data["a"]["total"] == pytest.approx(energy, rel=1e-12)
    assert data["b"]["total"] == pytest.approx(mass, rel=1e-12)
    (row,) = data["effects"]
    assert row["dimension"] == "allocation"
    assert row["effect"] == pytest.approx(mass - energy, rel=1e-12)
    assert data["interaction"] == 0.0
    bad = host.http.post(
        "/rules/compare", content=json.dumps({**body, "b": ["colour=red"]}), headers=headers
    )
    assert bad.status_code == 400
    assert host.http.post("/rules/compare", content="[", headers=headers).status_code == 400
    assert host.http.post("/rules/compare", content=json.dumps(body)).status_code == 401


def test_a_model_sent_over_http_cannot_make_the_host_read_files(host: Host) -> None:
    """``factor_sets: [/etc/passwd]`` (and shipment, claims, supplier files, databases) are
    refused at their lines before anything is read: bundled data only."""
    headers = {"authorization": f"Bearer {host.token()}"}
    sneaky = MODEL.replace(
        "boundary: cradle-to-gate\n", "boundary: cradle-to-gate\nfactor_sets: [/etc/passwd]\n"
    )
    answer = host.http.post("/rules/hydrogen.electrolysis/check", content=sneaky, headers=headers)
    assert answer.status_code == 400
    message = answer.json()["message"]
    assert "request/model.yaml:10: factor set '/etc/passwd'" in message
    assert "root:" not in message
    import json

    body = {"model": sneaky, "a": ["allocation=energy"], "b": ["allocation=mass"]}
    compared = host.http.post("/rules/compare", content=json.dumps(body), headers=headers)
    assert compared.status_code == 400
