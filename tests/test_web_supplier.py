"""The suppliers' pages and the engineers' requests page (SQLite and PostgreSQL).

The answer is :data:`test_questionnaire.ANSWER` typed into the web form: 2.0 kg CO2e per kg of
hot-rolled coil (fossil 1.9 + biogenic non-CO2 0.05 + land-use change 0.05), so the stored
footprint's ``pcfExcludingBiogenicUptake`` is ``"2"``; with 0.1 kg of biogenic CO2 removals
its ``pcfIncludingBiogenicUptake`` is ``"1.9"``. The mistake typed first is a fossil figure of
2.5, more than the 2.0 total.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from fixtures.in_process import openpcf
from fixtures.web import STRONG_PASSWORD, csrf_token
from openpcf.db import repositories as repo
from openpcf.db.concurrency import write_transaction
from openpcf.db.engine import session_scope
from openpcf.db.models import SupplierFootprint
from openpcf.services.supplier_epd import import_epd
from openpcf.services.web_supplier import invite_supplier
from openpcf.settings import get_settings
from openpcf.suppliers.answer_form import check_form
from openpcf.suppliers.spec import TEMPLATE_VERSION
from openpcf.suppliers.workbook import build_workbook
from test_questionnaire import ANSWER, fill, questionnaire

EPDS = Path(__file__).parent / "fixtures" / "epd"

ORG = "Hebei Trucks Co"
OTHER_ORG = "Shanxi Axles Ltd"
TOKEN = "tok-0123456789abcdef"

FORM: dict[str, str] = {
    "company_name": "Tangshan Steel",
    "boundary": "cradle-to-gate",
    "gwp": "AR6",
    **{k: v.isoformat() if isinstance(v, dt.date) else str(v) for k, v in ANSWER.items()},
    "el0_source": "grid-province",
    "el0_region": "CN-HE",
    "el0_amount": "1.2",
    "el0_unit": "MWh",
}


def add_request(
    engine: Engine, *, organisation: str = ORG, input_key: str = "frame/steel"
) -> uuid.UUID:
    """A questionnaire request row, as the request service would store it."""

    def work(session: Any) -> uuid.UUID:
        org = repo.ensure_organisation(session, name=organisation)
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
            due=dt.date(2020, 3, 31) if input_key.endswith("late") else dt.date(2099, 3, 31),
            token_sha256=hashlib.sha256(TOKEN.encode()).hexdigest(),
            template_version=TEMPLATE_VERSION,
        )
        return row.request_id

    return write_transaction(engine, work)


def invite(engine: Engine, request_id: uuid.UUID, email: str) -> None:
    invite_supplier(
        engine, request_id=str(request_id), email=email, name="", password=STRONG_PASSWORD
    )


def post_form(client: TestClient, path: str, page: str, values: dict[str, str]) -> httpx.Response:
    return client.post(path, data={**values, "csrf_token": csrf_token(page)})


def value_of(html: str, name: str) -> str:
    found = re.search(rf'name="{re.escape(name)}" type="text" value="([^"]*)"', html)
    assert found, name
    return found.group(1)


@pytest.fixture
def supplier_client(
    engine: Engine, web_app: TestClient, login: Callable[..., httpx.Response]
) -> tuple[TestClient, uuid.UUID]:
    rid = add_request(engine)
    invite(engine, rid, "sales@tangshan.example")
    assert login(web_app, "sales@tangshan.example").status_code == 303
    return web_app, rid


def test_form_answer_accepted_and_seen_by_the_supplier(
    engine: Engine,
    web_app: TestClient,
    login: Callable[..., httpx.Response],
    make_user: Callable[..., Any],
) -> None:
    rid = add_request(engine)
    add_request(engine, input_key="frame/bolts")  # not granted: never shown
    invite(engine, rid, "sales@tangshan.example")
    assert login(web_app, "sales@tangshan.example").status_code == 303

    inbox = web_app.get("/inbox")
    assert inbox.status_code == 200
    assert inbox.text.count("data-request=") == 1
    assert f'href="/inbox/{rid}"' in inbox.text
    assert "Hot-rolled coil" in inbox.text
    assert "2099-03-31" in inbox.text
    assert 'data-status="sent"' in inbox.text
    assert 'href="/inbox"' in inbox.text  # the navigation shows the page

    page = web_app.get(f"/inbox/{rid}")
    assert page.status_code == 200
    assert value_of(page.text, "company_name") == "Tangshan Steel"  # pre-filled

    wrong = post_form(web_app, f"/inbox/{rid}/answer", page.text, {**FORM, "fossil": "2.5"})
    assert wrong.status_code == 400
    assert 'id="f-fossil-errors"' in wrong.text
    assert "more fossil emissions (2.5 kg CO2e) than the total (2 kg CO2e)" in wrong.text
    assert value_of(wrong.text, "fossil") == "2.5"  # typed values kept
    assert value_of(wrong.text, "verifier") == "CQC"
    assert value_of(wrong.text, "el0_amount") == "1.2"
    assert '<option value="ISO 14067" selected>' in wrong.text
    with session_scope(engine) as s:
        assert s.scalars(select(SupplierFootprint)).all() == []

    done = post_form(web_app, f"/inbox/{rid}/answer", wrong.text, FORM)
    assert done.status_code == 303, done.text
    assert done.headers["location"] == f"/inbox/{rid}"
    with session_scope(engine) as s:
        row = repo.get_supplier_request(s, request_id=rid)
        assert row.status == "answered"
        (held,) = s.scalars(select(SupplierFootprint)).all()
        assert held.origin == "questionnaire"
        assert held.footprint_id == row.supplier_footprint_id
        assert held.organisation.name == ORG
        assert held.document["pcf"]["pcfExcludingBiogenicUptake"] == "2"
        assert held.document["pcf"]["pcfIncludingBiogenicUptake"] == "1.9"
    shown = web_app.get(f"/inbox/{rid}")
    assert 'data-status="answered"' in shown.text
    assert f'action="/inbox/{rid}/answer"' not in shown.text  # no second answer

    engineer_client = TestClient(web_app.app, base_url="http://testserver", follow_redirects=False)
    make_user(engine, organisation=ORG, email="eng@trucks.example", role="engineer")
    assert login(engineer_client, "eng@trucks.example").status_code == 303
    listing = engineer_client.get("/requests", params={"status": "answered"})
    assert listing.status_code == 200
    assert listing.text.count("data-request=") == 1
    assert f'action="/requests/{rid}/decide"' in listing.text
    refused = post_form(
        engineer_client, f"/requests/{rid}/decide", listing.text, {"decision": "reject"}
    )
    assert refused.status_code == 400
    assert "Give the reason for rejecting the answer." in refused.text
    accepted = post_form(
        engineer_client, f"/requests/{rid}/decide", listing.text, {"decision": "accept"}
    )
    assert accepted.status_code == 303
    assert 'data-status="accepted"' in web_app.get(f"/inbox/{rid}").text
    assert "The customer accepted your answer." in web_app.get(f"/inbox/{rid}").text
    assert 'data-status="accepted"' in web_app.get("/inbox").text


def test_rejection_reason_shown_to_the_supplier(
    engine: Engine,
    supplier_client: tuple[TestClient, uuid.UUID],
    login: Callable[..., httpx.Response],
    make_user: Callable[..., Any],
) -> None:
    client, rid = supplier_client
    page = client.get(f"/inbox/{rid}")
    assert post_form(client, f"/inbox/{rid}/answer", page.text, FORM).status_code == 303
    engineer = TestClient(client.app, base_url="http://testserver", follow_redirects=False)
    make_user(engine, organisation=ORG, email="eng@trucks.example", role="owner")
    login(engineer, "eng@trucks.example")
    listing = engineer.get("/requests")
    done = post_form(
        engineer,
        f"/requests/{rid}/decide",
        listing.text,
        {"decision": "reject", "reason": "period is not 2025"},
    )
    assert done.status_code == 303
    shown = client.get(f"/inbox/{rid}")
    assert 'data-status="rejected"' in shown.text
    assert "period is not 2025" in shown.text


def test_isolation(
    engine: Engine,
    supplier_client: tuple[TestClient, uuid.UUID],
    login: Callable[..., httpx.Response],
    make_user: Callable[..., Any],
) -> None:
    client, rid = supplier_client
    page = client.get(f"/inbox/{rid}")
    # another supplier of the same customer, invited for another request
    other_rid = add_request(engine, input_key="frame/bolts")
    invite(engine, other_rid, "bolts@example.com")
    other = TestClient(client.app, base_url="http://testserver", follow_redirects=False)
    login(other, "bolts@example.com")
    assert other.get(f"/inbox/{rid}").status_code == 404
    assert other.get(f"/inbox/{uuid.uuid4()}").status_code == 404
    assert other.get("/inbox/not-a-uuid").status_code == 404
    own = other.get(f"/inbox/{other_rid}")
    assert own.status_code == 200
    assert post_form(other, f"/inbox/{rid}/answer", own.text, FORM).status_code == 404
    upload = other.post(
        f"/inbox/{rid}/workbook",
        data={"csrf_token": csrf_token(own.text)},
        files={"workbook": ("a.xlsx", b"PK\x03\x04 not really", "application/octet-stream")},
    )
    assert upload.status_code == 404
    assert str(rid) not in other.get("/inbox").text
    # an engineer of another organisation
    foreign_rid = add_request(engine, organisation=OTHER_ORG)
    make_user(engine, organisation=OTHER_ORG, email="eng@axles.example", role="engineer")
    engineer = TestClient(client.app, base_url="http://testserver", follow_redirects=False)
    login(engineer, "eng@axles.example")
    listing = engineer.get("/requests")
    assert str(rid) not in listing.text
    assert str(foreign_rid) in listing.text
    decided = post_form(engineer, f"/requests/{rid}/decide", listing.text, {"decision": "accept"})
    assert decided.status_code == 404
    # roles: a supplier may not see the requests page, an engineer not the inbox
    assert client.get("/requests").status_code == 403
    assert engineer.get("/inbox").status_code == 403
    assert page.status_code == 200


def test_workbook_upload(engine: Engine, supplier_client: tuple[TestClient, uuid.UUID]) -> None:
    client, rid = supplier_client
    page = client.get(f"/inbox/{rid}")
    token = csrf_token(page.text)

    def send(data: bytes, name: str = "answer.xlsx") -> httpx.Response:
        return client.post(
            f"/inbox/{rid}/workbook",
            data={"csrf_token": token},
            files={"workbook": (name, data, "application/octet-stream")},
        )

    not_xlsx = send(b"%PDF-1.7 an EPD", "epd.pdf")
    assert not_xlsx.status_code == 400
    assert "not an Excel workbook" in not_xlsx.text
    other_request = fill(build_workbook(questionnaire(uuid.uuid4(), TOKEN)))
    refused = send(other_request)
    assert refused.status_code == 400
    assert "does not answer any open request" in refused.text
    bad = fill(build_workbook(questionnaire(rid, TOKEN)), {**ANSWER, "fossil": 2.5})
    refused = send(bad)
    assert refused.status_code == 400
    assert "more fossil emissions" in refused.text
    good = fill(build_workbook(questionnaire(rid, TOKEN)))
    done = send(good)
    assert done.status_code == 303, done.text
    with session_scope(engine) as s:
        assert repo.get_supplier_request(s, request_id=rid).status == "answered"
        (held,) = s.scalars(select(SupplierFootprint)).all()
        assert held.origin == "questionnaire"


def test_oversized_upload_and_missing_csrf(
    engine: Engine, supplier_client: tuple[TestClient, uuid.UUID]
) -> None:
    client, rid = supplier_client
    page = client.get(f"/inbox/{rid}")
    big = b"PK\x03\x04" + b"\0" * (5 * 1024 * 1024 + 1)
    too_large = client.post(
        f"/inbox/{rid}/workbook",
        data={"csrf_token": csrf_token(page.text)},
        files={"workbook": ("answer.xlsx", big, "application/octet-stream")},
    )
    assert too_large.status_code == 413
    assert "too large" in too_large.text
    no_csrf = client.post(f"/inbox/{rid}/answer", data=FORM)
    assert no_csrf.status_code == 403
    wrong_csrf = client.post(f"/inbox/{rid}/answer", data={**FORM, "csrf_token": "x" * 43})
    assert wrong_csrf.status_code == 403
    with session_scope(engine) as s:
        assert repo.get_supplier_request(s, request_id=rid).status == "sent"


def test_overdue_and_filters(
    engine: Engine,
    web_app: TestClient,
    login: Callable[..., httpx.Response],
    make_user: Callable[..., Any],
) -> None:
    late = add_request(engine, input_key="frame/late")
    add_request(engine, input_key="frame/steel")
    make_user(engine, organisation=ORG, email="eng@trucks.example", role="engineer")
    login(web_app, "eng@trucks.example")
    overdue = web_app.get("/requests", params={"status": "overdue"})
    assert overdue.text.count("data-request=") == 1
    assert str(late) in overdue.text
    assert web_app.get("/requests").text.count("data-request=") == 2
    assert web_app.get("/requests", params={"supplier": "Nobody"}).text.count("data-request=") == 0


def test_form_check_matches_the_workbook() -> None:
    """The form runs the workbook's checks: units converted, every problem at its field."""
    rid = uuid.uuid4()
    ok = check_form(FORM, request_id=rid, unit="t", name="form")
    assert ok.errors == {}
    assert ok.answer is not None
    assert ok.answer.pcf_total == 2.0
    assert ok.answer.electricity[0].kwh == 1200.0
    per_tonne = check_form(
        {**FORM, "pcf_total": "2000", "pcf_total__unit": "kg CO2e / t"},
        request_id=rid,
        unit="t",
        name="form",
    )
    assert per_tonne.answer is not None
    assert per_tonne.answer.pcf_total == 2.0
    bad = check_form(
        {**FORM, "declared_unit": "", "primary_share": "120", "el0_region": "Hebei",
         "fossil__unit": "kWh"},
        request_id=rid,
        unit="t",
        name="form",
    )  # fmt: skip
    assert bad.answer is None
    assert set(bad.errors) >= {"declared_unit", "primary_share", "el0_region", "fossil__unit"}


def test_invite_cli(engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENPCF_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("OPENPCF_DATABASE_URL", engine.url.render_as_string(hide_password=False))
    get_settings.cache_clear()
    try:
        rid = add_request(engine)
        result = openpcf("suppliers", "invite", str(rid), "--email", "New@Tangshan.example")
        assert result.returncode == 0, result.stderr
        assert "new@tangshan.example added: supplier in Hebei Trucks Co" in result.stdout
        password = result.stdout.split("give it to them privately): ")[1].strip()
        assert len(password) >= 12
        again = openpcf("suppliers", "invite", str(rid), "--email", "new@tangshan.example")
        assert again.returncode == 0, again.stderr
        assert "was granted already" in again.stdout
        assert "one-time password" not in again.stdout
        with session_scope(engine) as s:
            account = repo.find_web_user(s, email="new@tangshan.example")
            assert account is not None
            assert repo.verify_password(account.password_hash, password)
            org = repo.get_organisation(s, name=ORG)
            granted = repo.list_granted_requests(s, user_id=account.id, organisation_id=org.id)
            assert [r.request_id for r in granted] == [rid]
        unknown = openpcf("suppliers", "invite", str(uuid.uuid4()), "--email", "x@example.com")
        assert unknown.returncode != 0
        assert "no supplier request" in unknown.stderr
    finally:
        get_settings.cache_clear()


def send_epd(
    client: TestClient,
    rid: uuid.UUID,
    page: str,
    data: bytes,
    *,
    name: str = "steel.xml",
    unit: str = "t",
    mass: str = "",
) -> httpx.Response:
    return client.post(
        f"/inbox/{rid}/epd",
        data={"csrf_token": csrf_token(page), "epd_unit": unit, "epd_mass_kg": mass},
        files={"epd": (name, data, "application/xml")},
    )


def test_epd_answer_accepted_and_seen_by_the_supplier(
    engine: Engine,
    supplier_client: tuple[TestClient, uuid.UUID],
    login: Callable[..., httpx.Response],
    make_user: Callable[..., Any],
) -> None:
    """An EPD as the answer, mapped as ``openpcf suppliers import-epd`` maps it.

    ``steel_section_a2.xml`` declares per 1 t, A1-A3: GWP-fossil 1130, GWP-biogenic -2.5,
    GWP-luluc 0.5, GWP-total 1128 kg CO2e (see test_supplier_epd). Per 1 t = 1000 kilogram:
    pcfExcludingBiogenicUptake = 1130 + 0.5 + 0 = 1130.5, biogenicCO2Uptake -2.5,
    pcfIncludingBiogenicUptake = 1130.5 - 2.5 = 1128. The request asks the material in t.
    """
    client, rid = supplier_client
    page = client.get(f"/inbox/{rid}")
    assert f'action="/inbox/{rid}/epd"' in page.text
    assert '<option value="t" selected>' in page.text  # the request's unit
    good = (EPDS / "steel_section_a2.xml").read_bytes()

    wrong_unit = send_epd(client, rid, page.text, good, unit="m2", mass="7.85")
    assert wrong_unit.status_code == 400
    assert 'id="f-epd_unit-errors"' in wrong_unit.text
    assert "an EPD per m2 cannot be used for the material" in wrong_unit.text
    assert '<option value="m2" selected>' in wrong_unit.text  # what was chosen is kept
    assert 'name="epd_mass_kg" type="text" inputmode="decimal" maxlength="40" value="7.85"' in (
        wrong_unit.text
    )
    no_mass = send_epd(client, rid, page.text, good, unit="piece")
    assert 'id="f-epd_mass_kg-errors"' in no_mass.text
    assert "give the mass of one declared unit in kg" in no_mass.text

    not_xml = send_epd(client, rid, page.text, b"%PDF-1.7 an EPD", name="epd.pdf")
    assert not_xml.status_code == 400
    assert 'id="f-epd-errors"' in not_xml.text
    assert "not an ILCD+EPD XML data set" in not_xml.text
    renamed = (EPDS / "not_xml.xml").read_bytes()  # a spreadsheet renamed .xml
    assert "not an ILCD+EPD XML data set" in send_epd(client, rid, page.text, renamed).text
    no_gwp = send_epd(client, rid, page.text, (EPDS / "no_gwp.xml").read_bytes(), name="n.xml")
    assert no_gwp.status_code == 400
    assert 'id="f-epd-errors"' in no_gwp.text
    assert "n.xml: /processDataSet/LCIAResults: no GWP-total" in no_gwp.text
    bomb = send_epd(client, rid, page.text, (EPDS / "entity_bomb.xml").read_bytes())
    assert bomb.status_code == 400
    assert "declares a document type" in bomb.text
    with session_scope(engine) as s:
        assert s.scalars(select(SupplierFootprint)).all() == []
        assert repo.get_supplier_request(s, request_id=rid).status == "sent"

    done = send_epd(client, rid, page.text, good)
    assert done.status_code == 303, done.text
    assert done.headers["location"] == f"/inbox/{rid}"
    with session_scope(engine) as s:
        row = repo.get_supplier_request(s, request_id=rid)
        assert row.status == "answered"
        (held,) = s.scalars(select(SupplierFootprint)).all()
        assert held.origin == "epd"
        assert held.footprint_id == row.supplier_footprint_id
        assert held.organisation.name == ORG
        pcf = held.document["pcf"]
        assert pcf["declaredUnitOfMeasurement"] == "kilogram"
        assert pcf["declaredUnitAmount"] == "1000"
        assert pcf["fossilGhgEmissions"] == "1130"
        assert pcf["pcfExcludingBiogenicUptake"] == "1130.5"
        assert pcf["pcfIncludingBiogenicUptake"] == "1128"
        assert held.document["productIds"] == [f"urn:openpcf:supplier-request:{rid}"]
        assert held.document["companyName"] == "Tangshan Steel"
    again = send_epd(client, rid, page.text, good)
    assert again.status_code == 400  # one answer per request; the page says it was received
    assert "Your answer was received." in again.text

    engineer = TestClient(client.app, base_url="http://testserver", follow_redirects=False)
    make_user(engine, organisation=ORG, email="eng@trucks.example", role="engineer")
    login(engineer, "eng@trucks.example")
    listing = engineer.get("/requests", params={"status": "answered"})
    assert 'data-origin="epd"' in listing.text
    accepted = post_form(engineer, f"/requests/{rid}/decide", listing.text, {"decision": "accept"})
    assert accepted.status_code == 303
    shown = client.get(f"/inbox/{rid}")
    assert 'data-status="accepted"' in shown.text
    assert "The customer accepted your answer." in shown.text


def test_epd_upload_isolation_and_size(
    engine: Engine,
    supplier_client: tuple[TestClient, uuid.UUID],
    make_user: Callable[..., Any],
) -> None:
    """Another organisation's request and an ungranted one answer 404; a file past the EPD
    reader's 8 MiB answers 413, and a body declared past the route's bound as well."""
    client, rid = supplier_client
    page = client.get(f"/inbox/{rid}")
    good = (EPDS / "steel_section_a2.xml").read_bytes()
    foreign = add_request(engine, organisation=OTHER_ORG)
    assert send_epd(client, foreign, page.text, good).status_code == 404
    ungranted = add_request(engine, input_key="frame/bolts")
    assert send_epd(client, ungranted, page.text, good).status_code == 404
    big = b"<" + b" " * (8 * 1024 * 1024)
    too_large = send_epd(client, rid, page.text, big)
    assert too_large.status_code == 413
    assert "An EPD data set is at most 8 MiB." in too_large.text
    declared = client.post(
        f"/inbox/{rid}/epd",
        content=b"x",
        headers={"content-length": str(9 * 1024 * 1024), "content-type": "multipart/form-data"},
    )
    assert declared.status_code == 413
    with session_scope(engine) as s:
        assert s.scalars(select(SupplierFootprint)).all() == []
        assert repo.get_supplier_request(s, request_id=rid).status == "sent"


def test_an_epd_held_already_answers_without_a_second_copy(
    engine: Engine, supplier_client: tuple[TestClient, uuid.UUID]
) -> None:
    """The same EPD imported before (``import_epd``, as ``openpcf suppliers import-epd``) for
    the request's product id and supplier is the same footprint id: the upload answers the
    request with the footprint held, storing nothing twice."""
    client, rid = supplier_client
    good = (EPDS / "steel_section_a2.xml").read_bytes()
    before = import_epd(
        good,
        product_id=f"urn:openpcf:supplier-request:{rid}",
        supplier="Tangshan Steel",
        engine=engine,
        organisation=ORG,
        today=dt.date(2026, 1, 15),
        declared_unit="t",
    )
    page = client.get(f"/inbox/{rid}")
    assert send_epd(client, rid, page.text, good).status_code == 303
    with session_scope(engine) as s:
        (held,) = s.scalars(select(SupplierFootprint)).all()
        assert str(held.footprint_id) == before.footprint["id"]
        assert repo.get_supplier_request(s, request_id=rid).supplier_footprint_id == (
            held.footprint_id
        )
