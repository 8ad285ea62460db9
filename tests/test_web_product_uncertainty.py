"""The product page's uncertainty and its report without an upload, from the model text kept
with a published calculation (issue 16, item 1). Both database backends.

Numbers worked out by hand on tests/fixtures/two_process.yaml (as tests/test_web_analysis.py):
1 kg widget = 2 kg steel sheet (2000 kg CO2 per t: 4 kg CO2e) + 3 kWh Hebei grid 2022
(0.7252 kg CO2e/kWh: 2.1756) + 1 g fossil CH4 (GWP100 AR6 29.8: 0.0298); total 6.2054 kg CO2e.
With the sheet's CO2 normal sd 100 kg/t and the CH4 normal sd 0.5 g, both enter linearly: the
mean is the total, 6.2054, and the sds are 0.002 t · 100 = 0.2 kg CO2e and 0.5 g · 0.0298 =
0.0149 kg CO2e. σ = √(0.2² + 0.0149²) = √0.04022201 = 0.2005543; the 95 % interval
6.2054 ∓ 1.959964 · 0.2005543 = 5.812321 … 6.598479; variance shares 0.04 / 0.04022201 =
99.45 % and 0.00022201 / 0.04022201 = 0.55 %.

Published from the web editor, the footprint keeps its model text, so the product page
recalculates these numbers from it (with the stored parameters) and the report downloads
without an upload. A record without text (published before migration 0012, or a model that
names files of its own, or larger than the editor's 1 MB) keeps the upload path.
"""

from __future__ import annotations

import hashlib
import math
import re
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, inspect, select

from fixtures.web import csrf_token
from openpcf.db import migrate
from openpcf.db.engine import make_engine, session_scope
from openpcf.db.models import CalculationRecord, Footprint
from openpcf.model.loading import load_model
from openpcf.services.publishing import kept_model_text, publish
from openpcf.services.web_analysis import product_analysis
from openpcf.services.web_calculation import WebCaller
from openpcf.services.web_rules import MAX_MODEL_BYTES
from openpcf.web.auth import WebUser

ROOT = Path(__file__).parents[1]
WIDGET = ROOT / "tests/fixtures/two_process.yaml"
TEXT = WIDGET.read_text(encoding="utf-8")
UNCERTAIN = TEXT.replace(
    "- {gas: CH4-fossil, amount: 1, unit: g}",
    "- {gas: CH4-fossil, amount: 1, unit: g, uncertainty: {distribution: normal, sd: 0.5}}",
).replace(
    "- {gas: CO2-fossil, amount: 2000, unit: kg}",
    "- {gas: CO2-fossil, amount: 2000, unit: kg, uncertainty: {distribution: normal, sd: 100}}",
)
SD = math.sqrt(0.2**2 + 0.0149**2)  # 0.2005543, the module docstring

MakeUser = Callable[..., WebUser]
Login = Callable[..., httpx.Response]
#: What TestClient answers: httpx2's Response on this starlette (httpx's on older ones).
Answer = Any


@pytest.fixture
def engineer(web_app: TestClient, engine: Engine, make_user: MakeUser, login: Login) -> TestClient:
    make_user(engine, organisation="Widget Co", email="eng@widget.example", role="engineer")
    assert login(web_app, "eng@widget.example").status_code == 303
    return web_app


def _token(client: TestClient, url: str = "/models/edit") -> str:
    page = client.get(url)
    assert page.status_code == 200, page.text
    return csrf_token(page.text)


def _publish(client: TestClient, text: str = UNCERTAIN) -> str:
    answer = client.post("/models/publish", data={"model": text, "csrf_token": _token(client)})
    assert answer.status_code == 200, answer.text
    found = re.search(r"<code data-published-id>([0-9a-f-]{36})</code>", answer.text)
    assert found, "no published footprint on the page"
    return found.group(1)


def _record(engine: Engine, footprint_id: str) -> CalculationRecord:
    with session_scope(engine) as session:
        footprint = session.get(Footprint, uuid.UUID(footprint_id))
        assert footprint is not None
        assert footprint.calculation_id is not None
        record = session.get(CalculationRecord, footprint.calculation_id)
        assert record is not None
        session.expunge(record)
        return record


def _set_text(engine: Engine, footprint_id: str, text: str | None) -> None:
    """Stand-in for a record stored before migration 0012 (None) or a tampered one."""
    key = _record(engine, footprint_id).id
    with session_scope(engine) as session:
        record = session.get(CalculationRecord, key)
        assert record is not None
        record.model_text = text


def _report(client: TestClient, footprint_id: str, **fields: str) -> Answer:
    token = _token(client, f"/products/{footprint_id}/report")
    return client.post(f"/products/{footprint_id}/report", data={"csrf_token": token} | fields)


def test_publishing_keeps_the_model_text(engineer: TestClient, engine: Engine) -> None:
    """The text exactly as loaded: its SHA-256 is the record's ``model_sha256``."""
    record = _record(engine, _publish(engineer))
    assert record.model_text == UNCERTAIN
    assert hashlib.sha256(UNCERTAIN.encode()).hexdigest() == record.model_sha256


def test_product_page_shows_the_first_order_uncertainty(
    engineer: TestClient, engine: Engine, tmp_path: Path
) -> None:
    """mean 6.2054, σ 0.2005543, 5.812321 … 6.598479, shares 99.45 % / 0.55 % (docstring)."""
    footprint_id = _publish(engineer)
    fragment = engineer.get(f"/products/{footprint_id}/analysis", headers={"HX-Request": "true"})
    assert fragment.status_code == 200
    html = fragment.text
    assert 'data-mean="6.2054"' in html
    assert 'data-sd="0.200554"' in html
    assert 'data-interval="5.81232 6.59848"' in html
    assert "99.4 %" in html  # 99.45 % to one decimal
    assert "0.6 %" in html  # 0.55 %
    assert 'id="no-stored-uncertainty"' not in html
    # the same numbers from the service, to more digits
    caller = WebCaller(
        engine=engine, home=tmp_path, email="eng@widget.example", organisation="Widget Co"
    )
    with session_scope(engine) as session:
        org_id = session.get_one(Footprint, uuid.UUID(footprint_id)).organisation_id
    found = product_analysis(caller, organisation_id=org_id, footprint_id=footprint_id)
    assert found.spread == "shown"
    assert found.uncertainty is not None
    assert found.uncertainty.mean == pytest.approx(6.2054, rel=1e-9)
    assert found.uncertainty.sd == pytest.approx(SD, rel=1e-9)
    assert pytest.approx(0.2005543, rel=1e-6) == SD
    assert found.uncertainty.p2_5 == pytest.approx(5.812321, rel=1e-6)
    assert found.uncertainty.p97_5 == pytest.approx(6.598479, rel=1e-6)
    assert dict(found.uncertainty.shares) == pytest.approx(
        {
            "sheet/gas:CO2-fossil": 0.04 / 0.04022201,
            "assembly/gas:CH4-fossil": 0.00022201 / 0.04022201,
        }
    )


def test_a_model_without_distributions_says_so(engineer: TestClient) -> None:
    footprint_id = _publish(engineer, TEXT)
    html = engineer.get(f"/products/{footprint_id}/analysis").text
    assert 'data-spread="no_distributions"' in html
    assert "data-sd=" not in html


def test_a_text_that_no_longer_gives_the_footprint_shows_no_numbers(
    engineer: TestClient, engine: Engine
) -> None:
    """The stored text changed behind the record's back (sheet CO2 2100 kg/t: 6.4054): the
    recalculation does not give the stored 6.2054, so the page says so and shows no σ, and
    the report is refused at its field."""
    footprint_id = _publish(engineer)
    _set_text(engine, footprint_id, UNCERTAIN.replace("amount: 2000", "amount: 2100"))
    html = engineer.get(f"/products/{footprint_id}/analysis").text
    assert 'data-spread="differs"' in html
    assert "another footprint than the stored one" in html
    assert "data-sd=" not in html
    refused = _report(engineer, footprint_id)
    assert refused.status_code == 400
    assert 'id="model_file-errors"' in refused.text


def test_report_downloads_without_an_upload(engineer: TestClient) -> None:
    footprint_id = _publish(engineer)
    page = engineer.get(f"/products/{footprint_id}")
    assert 'id="report-form"' in page.text
    assert 'id="model-kept"' in page.text
    assert "Or the model file it was calculated from (.yaml, optional)" in page.text
    zh = _report(engineer, footprint_id, report_lang="zh")
    assert zh.status_code == 200, zh.text[:800]
    assert 'filename="widget-report-zh.html"' in zh.headers["content-disposition"]
    assert "6.21 kg CO2e" in zh.text
    en = _report(engineer, footprint_id, report_lang="en", report_format="pdf")
    assert en.status_code == 200
    assert en.content.startswith(b"%PDF")
    assert 'filename="widget-report-en.pdf"' in en.headers["content-disposition"]


def test_an_old_record_without_text_keeps_the_upload_path(
    engineer: TestClient, engine: Engine
) -> None:
    footprint_id = _publish(engineer)
    _set_text(engine, footprint_id, None)
    page = engineer.get(f"/products/{footprint_id}")
    assert "The model file it was calculated from (.yaml)" in page.text
    assert 'id="model-kept"' not in page.text
    analysis = engineer.get(f"/products/{footprint_id}/analysis").text
    assert 'data-spread="not_kept"' in analysis
    empty = _report(engineer, footprint_id)
    assert empty.status_code == 400
    assert "choose the model file" in empty.text
    token = _token(engineer, f"/products/{footprint_id}/report")
    uploaded = engineer.post(
        f"/products/{footprint_id}/report",
        data={"csrf_token": token},
        files={"model_file": ("widget.yaml", UNCERTAIN.encode(), "application/yaml")},
    )
    assert uploaded.status_code == 200, uploaded.text[:800]
    assert "6.21 kg CO2e" in uploaded.text


def test_what_is_not_kept(engine: Engine, tmp_path: Path) -> None:
    """Documented behaviour (services.publishing.kept_model_text): a model above the editor's
    1 MB (here padded with a YAML comment) or one that names a file of its own is published
    without its text; a self-contained one from a file keeps it byte for byte."""
    big = tmp_path / "big.yaml"
    big.write_text(TEXT + "#" + "x" * MAX_MODEL_BYTES + "\n", encoding="utf-8")
    assert kept_model_text(load_model(big)) is None
    side = tmp_path / "side.yaml"
    side.write_text(TEXT.replace("boundary:", "factor_sets: [mine.csv]\nboundary:"), "utf-8")
    assert kept_model_text(load_model(side)) is None
    assert kept_model_text(load_model(WIDGET)) == TEXT

    published = publish(big, engine=engine, organisation="Widget Co")
    assert _record(engine, str(published.id)).model_text is None
    with session_scope(engine) as session:
        texts = session.scalars(select(CalculationRecord.model_text)).all()
    assert texts == [None]


def test_another_organisations_footprint_is_not_found(
    web_app: TestClient, engine: Engine, make_user: MakeUser, login: Login
) -> None:
    make_user(engine, organisation="Widget Co", email="eng@widget.example")
    make_user(engine, organisation="Rival Ltd", email="eng@rival.example")
    assert login(web_app, "eng@widget.example").status_code == 303
    mine = _publish(web_app)
    web_app.cookies.clear()
    assert login(web_app, "eng@rival.example").status_code == 303
    token = _token(web_app)
    for footprint_id in (mine, str(uuid.uuid4()), "not-a-uuid"):
        assert web_app.get(f"/products/{footprint_id}/analysis").status_code == 404
        answer = web_app.post(f"/products/{footprint_id}/report", data={"csrf_token": token})
        assert answer.status_code == 404, footprint_id
        assert "Widget" not in answer.text


def test_migration_0012_up_and_down(db_url: str) -> None:
    def columns() -> set[str]:
        engine = make_engine(db_url)
        try:
            return {c["name"] for c in inspect(engine).get_columns("calculation_record")}
        finally:
            engine.dispose()

    migrate.upgrade(db_url, "0012")
    assert "model_text" in columns()
    migrate.downgrade(db_url, "0011")
    assert "model_text" not in columns()
    migrate.upgrade(db_url)
    assert "model_text" in columns()
