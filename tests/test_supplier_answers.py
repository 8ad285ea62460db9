"""Importing answered questionnaires (SQLite and PostgreSQL): stored once, or nothing written.

The answer is :data:`test_questionnaire.ANSWER`: 2.0 kg CO2e per kg of hot-rolled coil
(fossil 1.9 + biogenic non-CO2 0.05 + land-use change 0.05), so the stored footprint's
``pcfExcludingBiogenicUptake`` is ``"2"`` and, with 0.1 kg of biogenic CO2 removals, its
``pcfIncludingBiogenicUptake`` is ``"1.9"``. The request asks for the coil in t; a footprint
per kilogram converts to it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, select

from fixtures.api_host import Host, serve_host
from fixtures.in_process import openpcf
from openpcf.db import repositories as repo
from openpcf.db.concurrency import write_transaction
from openpcf.db.engine import session_scope
from openpcf.db.models import SupplierFootprint, SupplierRequest
from openpcf.services.supplier_answers import UnknownAnswerRequestError, import_answer
from openpcf.settings import get_settings
from openpcf.suppliers import template as t
from openpcf.suppliers.errors import AnswerRefusedError, QuestionnaireError
from openpcf.suppliers.spec import TEMPLATE_VERSION
from openpcf.suppliers.workbook import build_workbook
from test_questionnaire import ANSWER, fill, questionnaire

TOKEN = "tok-0123456789abcdef"
NOW = dt.datetime(2026, 3, 1, 8, 0, tzinfo=dt.UTC)
ORG = "Hebei Trucks Co"


def add_request(
    engine: Engine, *, token: str = TOKEN, input_key: str = "frame/steel", status: str = "sent"
) -> uuid.UUID:
    """A questionnaire request row, as the request service would store it."""

    def work(session: Any) -> uuid.UUID:
        org = repo.ensure_organisation(session, name=ORG)
        row = repo.add_supplier_request(
            session,
            organisation_id=org.id,
            product_id="urn:openpcf:product:truck-frame",
            product_name="Heavy truck frame",
            model_sha256="0" * 64,
            process_id="frame",
            input_key=input_key,
            input_kind="factor",
            material="steel.hot_rolled_coil",
            material_name="Hot-rolled coil",
            amount=1.5,
            unit="t",
            supplier="Tangshan Steel",
            supplier_url=None,
            channel="questionnaire",
            due=dt.date(2027, 3, 31),
            token_sha256=hashlib.sha256(token.encode()).hexdigest(),
            template_version=TEMPLATE_VERSION,
        )
        if status == "cancelled":
            repo.set_supplier_request_status(session, request=row, status="cancelled", at=NOW)
        return row.request_id

    return write_transaction(engine, work)


def workbook(request_id: uuid.UUID, token: str = TOKEN, **edits: Any) -> bytes:
    return fill(build_workbook(questionnaire(request_id, token)), ANSWER, **edits)


def counts(engine: Engine) -> tuple[int, list[str]]:
    """(supplier footprints held, request statuses in id order)."""
    with session_scope(engine) as s:
        footprints = s.scalar(select(func.count()).select_from(SupplierFootprint)) or 0
        statuses = list(s.scalars(select(SupplierRequest.status).order_by(SupplierRequest.id)))
    return footprints, statuses


def test_import_stores_the_footprint_and_marks_answered(engine: Engine) -> None:
    rid = add_request(engine)
    done = import_answer(workbook(rid), name="answer.xlsx", engine=engine, now=NOW)
    assert done.status == "answered"
    assert done.pcf == "2"
    assert done.supplier == "Tangshan Steel"
    with session_scope(engine) as s:
        row = repo.get_supplier_request(s, request_id=rid)
        assert row.status == "answered"
        assert row.supplier_footprint_id == done.footprint_id
        (held,) = s.scalars(select(SupplierFootprint)).all()
        assert held.origin == "questionnaire"
        assert held.organisation.name == ORG
        assert held.footprint_id == done.footprint_id
        assert held.document["pcf"]["pcfIncludingBiogenicUptake"] == "1.9"
        assert held.document["productIds"] == [f"urn:openpcf:supplier-request:{rid}"]
        found = repo.find_supplier_footprints(
            s, ref=f"urn:openpcf:supplier-request:{rid}", organisation=held.organisation
        )
        assert [f.footprint_id for f in found] == [done.footprint_id]


def test_a_second_import_is_refused(engine: Engine) -> None:
    rid = add_request(engine)
    data = workbook(rid)
    import_answer(data, name="answer.xlsx", engine=engine, now=NOW)
    before = counts(engine)
    with pytest.raises(AnswerRefusedError, match="answered already"):
        import_answer(data, name="answer.xlsx", engine=engine, now=NOW)
    assert counts(engine) == before == (1, ["answered"])


def test_a_cancelled_request_takes_no_answer(engine: Engine) -> None:
    rid = add_request(engine, status="cancelled")
    with pytest.raises(AnswerRefusedError, match="cancelled"):
        import_answer(workbook(rid), name="answer.xlsx", engine=engine, now=NOW)
    assert counts(engine) == (0, ["cancelled"])


def test_refusals_write_nothing(engine: Engine) -> None:
    rid = add_request(engine)
    other = add_request(engine, token="other-token", input_key="frame/bolts")
    before = counts(engine)
    assert before == (0, ["sent", "sent"])
    # the workbook of another request: its id with our token does not match
    with pytest.raises(UnknownAnswerRequestError):
        import_answer(workbook(other, TOKEN), name="a.xlsx", engine=engine, now=NOW)
    # a wrong token
    with pytest.raises(UnknownAnswerRequestError):
        import_answer(workbook(rid, "guess"), name="a.xlsx", engine=engine, now=NOW)
    # an unknown request
    with pytest.raises(UnknownAnswerRequestError):
        import_answer(workbook(uuid.uuid4()), name="a.xlsx", engine=engine, now=NOW)

    # another template version
    def old(wb: Any) -> None:
        wb[t.SHEET_META][t.META_VERSION] = "0"

    with pytest.raises(QuestionnaireError) as caught:
        import_answer(workbook(rid, edit=old), name="a.xlsx", engine=engine, now=NOW)
    assert [(p.sheet, p.cell) for p in caught.value.problems] == [(t.SHEET_META, t.META_VERSION)]
    # a bad answer: every problem, nothing stored
    bad = fill(build_workbook(questionnaire(rid, TOKEN)), {**ANSWER, "fossil": 2.5, "luc": -1})
    with pytest.raises(QuestionnaireError) as caught:
        import_answer(bad, name="a.xlsx", engine=engine, now=NOW)
    assert len(caught.value.problems) == 2
    assert counts(engine) == before


def test_parallel_imports_of_one_answer(engine: Engine) -> None:
    """Two imports of the same workbook at once: one stores, the other finds it answered."""
    rid = add_request(engine)
    data = workbook(rid)
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def run() -> None:
        barrier.wait()
        try:
            import_answer(data, name="answer.xlsx", engine=engine, now=NOW)
        except AnswerRefusedError:
            outcomes.append("refused")
        else:
            outcomes.append("stored")

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(outcomes) == ["refused", "stored"]
    assert counts(engine) == (1, ["answered"])


def test_cli_import(engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENPCF_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("OPENPCF_DATABASE_URL", engine.url.render_as_string(hide_password=False))
    get_settings.cache_clear()
    try:
        rid = add_request(engine)
        bad = tmp_path / "bad.xlsx"
        bad.write_bytes(
            fill(build_workbook(questionnaire(rid, TOKEN)), {**ANSWER, "primary_share": 120})
        )
        refused = openpcf("suppliers", "import", str(bad))
        assert refused.returncode == 2, refused.stderr
        assert f"{t.SHEET_ANSWER}!C" in refused.stderr
        assert "outside 0-100 %" in refused.stderr
        good = tmp_path / "good.xlsx"
        good.write_bytes(workbook(rid))
        done = openpcf("suppliers", "import", str(good), "--json")
        assert done.returncode == 0, done.stderr
        assert '"status": "answered"' in done.stdout
        assert '"pcfExcludingBiogenicUptake": "2"' in done.stdout
        again = openpcf("suppliers", "import", str(good))
        assert again.returncode == 2
        assert "answered already" in again.stderr
    finally:
        get_settings.cache_clear()


# --------------------------------------------------------------------------------------------
# HTTP


@pytest.fixture
def host(engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Host]:
    monkeypatch.setenv("OPENPCF_HOME", str(tmp_path / "home"))
    get_settings.cache_clear()
    yield from serve_host(engine, tmp_path)
    get_settings.cache_clear()


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def test_http_answer(host: Host) -> None:
    rid = add_request(host.engine)
    other = add_request(host.engine, token="other", input_key="frame/bolts")
    headers = {"content-type": XLSX}
    path = f"/supplier-requests/{rid}/answer"
    # wrong token, and the workbook of another request: 404 alike
    for data, url in ((workbook(rid, "guess"), path), (workbook(other, "other"), path)):
        answer = host.http.post(url, content=data, headers=headers)
        assert answer.status_code == 404, answer.text
    # a bad answer with the right token: 400 with every problem
    bad = fill(build_workbook(questionnaire(rid, TOKEN)), {**ANSWER, "product_name": None})
    answer = host.http.post(path, content=bad, headers=headers)
    assert answer.status_code == 400
    assert f"{t.SHEET_ANSWER}!C" in answer.json()["message"]
    # a bad workbook of someone without the token: 404, its problems are not shown
    bad_other = fill(build_workbook(questionnaire(rid, "guess")), {**ANSWER, "product_name": None})
    assert host.http.post(path, content=bad_other, headers=headers).status_code == 404
    assert counts(host.engine)[0] == 0
    # the answer
    answer = host.http.post(path, content=workbook(rid), headers=headers)
    assert answer.status_code == 200, answer.text
    assert answer.json()["status"] == "answered"
    assert answer.json()["pcfExcludingBiogenicUptake"] == "2"
    again = host.http.post(path, content=workbook(rid), headers=headers)
    assert again.status_code == 400
    assert "answered already" in again.json()["message"]
    # not a workbook
    assert host.http.post(path, content=b"hello", headers=headers).status_code == 400
    assert counts(host.engine) == (1, ["answered", "sent"])
