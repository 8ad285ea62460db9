"""Publish, certify, download from the web application (both database backends).

Hand-worked totals (the bundled factors, AR6; tests/test_bom.py): hot-rolled coil 1.889 kg
CO2 + 0.002429 kg N2O x 273 = 2.552117 kg CO2e/kg; primary aluminium ingot 15.4 kg CO2 +
0.034 kg CH4 x 29.8 + 0.000129 kg CF4 x 7380 = 17.36522 kg CO2e/kg. The model ``MODEL`` below
(the editor tests' Pump): ``steel_kg`` 2 kg of steel and 500 g of aluminium,
2 x 2.552117 + 0.5 x 17.36522 = 5.104234 + 8.68261 = 13.786844 kg CO2e per piece; with
``steel_kg`` = 5: 5 x 2.552117 + 8.68261 = 12.760585 + 8.68261 = 21.443195.
"""

from __future__ import annotations

import base64
import io
import json
import re
import uuid
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from fixtures.web import csrf_token
from openpcf.certify import KeyStore, VerifierHome, sign_attestation, verify_certificate
from openpcf.certify import jwks as public_jwks
from openpcf.db.engine import session_scope
from openpcf.db.models import Footprint, ScenarioFootprint
from openpcf.web.auth import WebUser

MakeUser = Callable[..., WebUser]
Login = Callable[..., httpx.Response]
ROOT = Path(__file__).parents[1]
WEB = ROOT / "src/openpcf/web"
STEEL = 2.552117
ALU = 17.36522
LIVE = 2 * STEEL + 0.5 * ALU  # 13.786844
HIGH = 5 * STEEL + 0.5 * ALU  # 21.443195
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
#: The same model on the bundled placeholder for aluminium (flagged illustrative).
ILLUSTRATIVE = MODEL.replace("cn.tiangong.aluminium.primary-ingot", "material.aluminium.primary.cn")


@pytest.fixture
def engineer(web_app: TestClient, engine: Engine, make_user: MakeUser, login: Login) -> TestClient:
    make_user(engine, organisation="Widget Co", email="eng@widget.example", role="engineer")
    assert login(web_app, "eng@widget.example").status_code == 303
    return web_app


@pytest.fixture
def keys(tmp_path: Path) -> KeyStore:
    """The issuer key store of the ``web_app`` home folder."""
    store = KeyStore(tmp_path / "home" / "keys")
    store.create(issuer="https://pcf.widget.example")
    return store


def _token(client: TestClient, url: str = "/models/edit") -> str:
    page = client.get(url)
    assert page.status_code == 200, page.text
    return csrf_token(page.text)


def _editor_post(client: TestClient, url: str, text: str = MODEL, **fields: str) -> httpx.Response:
    data = {"model": text, "csrf_token": _token(client)} | fields
    return client.post(url, data=data)


def _published_id(html: str) -> str:
    found = re.search(r"<code data-published-id>([0-9a-f-]{36})</code>", html)
    assert found, "no published footprint on the page"
    return found.group(1)


def _stored(engine: Engine) -> list[Footprint]:
    with session_scope(engine) as session:
        rows = session.scalars(select(Footprint).order_by(Footprint.created)).all()
        session.expunge_all()
        return list(rows)


# -- publish ---------------------------------------------------------------------------------


def test_publish_from_the_editor_and_the_what_if_choice(
    engineer: TestClient, engine: Engine
) -> None:
    # the model as written, with its parameter field sent back unchanged: the live footprint
    first = _editor_post(engineer, "/models/publish", **{"param.steel_kg": "2"})
    assert first.status_code == 200, first.text
    live_id = _published_id(first.text)
    assert f'href="/products/{live_id}"' in first.text
    assert "Published" in first.text
    [stored] = _stored(engine)
    assert str(stored.id) == live_id
    assert stored.status == "Active"
    assert float(stored.document["pcf"]["pcfExcludingBiogenicUptake"]) == pytest.approx(
        LIVE, rel=1e-9
    )
    assert stored.document["companyName"]
    assert "model.yaml" in stored.document["comment"]
    assert "/tmp" not in stored.document["comment"]  # no server folder in the document
    # the footprint is the signed-in person's organisation's, whatever the model says
    page = engineer.get(f"/products/{live_id}")
    assert page.status_code == 200
    assert 'id="certify-link"' in page.text
    # republished unchanged: nothing new
    again = _editor_post(engineer, "/models/publish")
    assert _published_id(again.text) == live_id
    assert "Already published" in again.text
    assert len(_stored(engine)) == 1

    # a changed parameter published as "live": refused at the choice, everything kept
    changed = _editor_post(engineer, "/models/publish", **{"param.steel_kg": "5"})
    assert changed.status_code == 400
    assert 'id="publish_choice-errors"' in changed.text
    assert "steel_kg" in changed.text
    assert 'name="param.steel_kg" value="5"' in changed.text
    assert "amount: steel_kg" in changed.text  # the model text is still in the textarea
    # a scenario needs a valid name
    bad = _editor_post(
        engineer,
        "/models/publish",
        **{"param.steel_kg": "5", "publish_choice": "scenario", "scenario": "/etc/x"},
    )
    assert bad.status_code == 400
    assert 'id="scenario-errors"' in bad.text
    assert 'value="/etc/x"' in bad.text
    scenario = _editor_post(
        engineer,
        "/models/publish",
        **{"param.steel_kg": "5", "publish_choice": "scenario", "scenario": "high steel"},
    )
    assert scenario.status_code == 200, scenario.text
    assert "Stored as a scenario" in scenario.text
    assert "published-link" not in scenario.text  # a scenario has no product page
    with session_scope(engine) as session:
        [kept] = session.scalars(select(ScenarioFootprint)).all()
        assert kept.name == "high steel"
        assert float(kept.document["pcf"]["pcfExcludingBiogenicUptake"]) == pytest.approx(
            HIGH, rel=1e-9
        )
    assert [f.status for f in _stored(engine)] == ["Active"]  # the live one untouched
    # replacing the live footprint deprecates the old one
    replaced = _editor_post(
        engineer, "/models/publish", **{"param.steel_kg": "5", "publish_choice": "replace"}
    )
    assert replaced.status_code == 200, replaced.text
    new_id = _published_id(replaced.text)
    assert new_id != live_id
    assert live_id in replaced.text  # named as the one it replaces
    by_id = {str(f.id): f for f in _stored(engine)}
    assert by_id[live_id].status == "Deprecated"
    assert by_id[new_id].status == "Active"
    assert float(by_id[new_id].document["pcf"]["pcfExcludingBiogenicUptake"]) == pytest.approx(
        HIGH, rel=1e-9
    )


def test_publish_refusals(engineer: TestClient, engine: Engine) -> None:
    refused = _editor_post(engineer, "/models/publish", text=ILLUSTRATIVE)
    assert refused.status_code == 400
    assert 'id="allow_illustrative-errors"' in refused.text
    assert "material.aluminium.primary.cn" in refused.text
    assert _stored(engine) == []
    allowed = _editor_post(engineer, "/models/publish", text=ILLUSTRATIVE, allow_illustrative="yes")
    assert allowed.status_code == 200, allowed.text
    [stored] = _stored(engine)
    assert "illustrative" in stored.document["comment"]

    # a model naming a file on the server's disk is refused before anything is calculated
    outside = MODEL.replace("boundary:", "factor_sets: [/etc/passwd]\nboundary:")
    answer = _editor_post(engineer, "/models/publish", text=outside)
    assert answer.status_code == 400
    assert "factor_sets" in answer.text
    assert "/etc/passwd" in answer.text  # kept in the textarea
    broken = _editor_post(engineer, "/models/publish", text=MODEL.replace("unit: g", "unit: kWh"))
    assert broken.status_code == 400
    assert "kWh" in broken.text
    assert len(_stored(engine)) == 1


# -- certificate -----------------------------------------------------------------------------


def _publish(client: TestClient) -> str:
    answer = _editor_post(client, "/models/publish")
    assert answer.status_code == 200, answer.text
    return _published_id(answer.text)


def _certify(
    client: TestClient, footprint_id: str, files: dict[str, Any] | None = None, **fields: str
) -> httpx.Response:
    token = _token(client, f"/products/{footprint_id}/certificate")
    data = {"csrf_token": token, "valid_days": "365"} | fields
    return client.post(f"/products/{footprint_id}/certificate", data=data, files=files or None)


def test_certificate_self_declared(engineer: TestClient, engine: Engine, keys: KeyStore) -> None:
    footprint_id = _publish(engineer)
    form = engineer.get(f"/products/{footprint_id}/certificate")
    assert form.status_code == 200
    assert footprint_id in form.text
    assert 'id="no-key"' not in form.text
    # a self-declared statement needs the verifier's name: the rest typed is kept
    missing = _certify(
        engineer, footprint_id, assurance_kind="self", verifier_id="CNAS-1", valid_days="30"
    )
    assert missing.status_code == 400
    assert 'id="verifier_name-errors"' in missing.text
    assert 'value="CNAS-1"' in missing.text
    assert 'value="30"' in missing.text
    days = _certify(engineer, footprint_id, valid_days="0")
    assert days.status_code == 400
    assert 'id="valid_days-errors"' in days.text

    answer = _certify(
        engineer,
        footprint_id,
        assurance_kind="self",
        verifier_name="Example Verification Ltd",
        assurance="reasonable",
    )
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == "application/vc+jwt"
    assert f'filename="certificate-{footprint_id}.jwt"' in answer.headers["content-disposition"]
    stored = {str(f.id): f for f in _stored(engine)}[footprint_id].document
    checked = verify_certificate(answer.text.strip(), jwks=public_jwks(keys=keys), footprint=stored)
    assert (
        checked.subject["pcfExcludingBiogenicUptake"] == stored["pcf"]["pcfExcludingBiogenicUptake"]
    )
    claims = json.loads(base64.urlsafe_b64decode(answer.text.split(".")[1] + "=="))
    assert "Example Verification Ltd" in json.dumps(claims)
    assert "selfDeclaredAssurance" in json.dumps(claims)


def test_certificate_with_the_verifiers_attestation(
    engineer: TestClient, engine: Engine, keys: KeyStore, tmp_path: Path
) -> None:
    footprint_id = _publish(engineer)
    stored = {str(f.id): f for f in _stored(engine)}[footprint_id].document
    verifier = VerifierHome(tmp_path / "verifier")
    verifier.init(
        name="Example Verification Ltd", accreditation_id="CNAS V0123", accreditation_body="CNAS"
    )
    attestation = sign_attestation(
        stored,
        package_sha256="0" * 64,
        keys=verifier.keys,
        profile=verifier.profile(),
        assurance="limited",
    ).token
    verifier_jwks = json.dumps(public_jwks(keys=verifier.keys)).encode()

    # no JWKS, a binary attestation: each refused at its field
    refused = _certify(
        engineer,
        footprint_id,
        files={"attestation": ("a.jwt", "证书".encode(), "text/plain")},
        assurance_kind="attestation",
    )
    assert refused.status_code == 400
    assert 'id="attestation-errors"' in refused.text
    assert 'id="jwks-errors"' in refused.text
    # signed by another key than the JWKS uploaded: refused
    other = json.dumps(public_jwks(keys=keys)).encode()
    wrong = _certify(
        engineer,
        footprint_id,
        files={
            "attestation": ("a.jwt", attestation.encode(), "text/plain"),
            "verifier_jwks": ("v.json", other, "application/json"),
        },
        assurance_kind="attestation",
    )
    assert wrong.status_code == 400
    assert 'id="attestation-errors"' in wrong.text

    answer = _certify(
        engineer,
        footprint_id,
        files={
            "attestation": ("a.jwt", attestation.encode(), "text/plain"),
            "verifier_jwks": ("v.json", verifier_jwks, "application/json"),
        },
        assurance_kind="attestation",
    )
    assert answer.status_code == 200, answer.text
    checked = verify_certificate(
        answer.text.strip(),
        jwks=[public_jwks(keys=keys), public_jwks(keys=verifier.keys)],
        footprint=stored,
    )
    assert checked.attestation is not None


def test_certificate_without_a_key(engineer: TestClient) -> None:
    footprint_id = _publish(engineer)
    form = engineer.get(f"/products/{footprint_id}/certificate")
    assert 'id="no-key"' in form.text
    answer = _certify(engineer, footprint_id)
    assert answer.status_code == 400
    assert 'id="keys-errors"' in answer.text
    assert "openpcf keys create" in answer.text


# -- downloads -------------------------------------------------------------------------------


def test_report_and_package_downloads(engineer: TestClient, keys: KeyStore) -> None:
    html = _editor_post(engineer, "/models/report", report_format="html", report_lang="en")
    assert html.status_code == 200, html.text[:500]
    assert html.headers["content-type"].startswith("text/html")
    assert 'filename="pump-report-en.html"' in html.headers["content-disposition"]
    assert "13.8 kg CO2e" in html.text  # 13.786844 to the report's 3 significant digits
    high = _editor_post(engineer, "/models/report", report_lang="zh", **{"param.steel_kg": "5"})
    assert high.status_code == 200
    assert "21.4 kg CO2e" in high.text  # 21.443195, with the parameter as typed
    pdf = _editor_post(engineer, "/models/report", report_format="pdf", report_lang="en")
    assert pdf.status_code == 200
    assert pdf.content.startswith(b"%PDF")
    bad = _editor_post(engineer, "/models/report", report_format="docx")
    assert bad.status_code == 400
    assert 'id="report-errors"' in bad.text

    package = _editor_post(engineer, "/models/package")
    assert package.status_code == 200, package.text[:500]
    assert package.headers["content-type"] == "application/zip"
    files = _zipped(package.content)
    assert {"manifest.json", "model/model.yaml", "result.json", "manifest.jws", "jwks.json"} <= set(
        files
    )
    assert not any(n.startswith("certificate") for n in files)  # issued on the product page
    assert files["model/model.yaml"].decode() == MODEL
    assert json.loads(files["result.json"])["kg_co2e"] == pytest.approx(LIVE, rel=1e-9)
    outside = MODEL.replace("boundary:", "factor_sets: [/etc/passwd]\nboundary:")
    assert _editor_post(engineer, "/models/package", text=outside).status_code == 400
    # illustrative factors: packed without the PACT footprint unless the box is ticked
    placeholder = _zipped(_editor_post(engineer, "/models/package", text=ILLUSTRATIVE).content)
    assert "footprint.pact.json" not in placeholder
    assert "illustrative" in json.dumps(json.loads(placeholder["manifest.json"])["omitted"])
    allowed = _editor_post(engineer, "/models/package", text=ILLUSTRATIVE, allow_illustrative="yes")
    assert "footprint.pact.json" in _zipped(allowed.content)


def _product_report(
    client: TestClient, footprint_id: str, name: str, data: bytes, **fields: str
) -> httpx.Response:
    token = _token(client, f"/products/{footprint_id}/report")
    return client.post(
        f"/products/{footprint_id}/report",
        data={"csrf_token": token} | fields,
        files={"model_file": (name, data, "application/yaml")},
    )


def test_report_of_a_published_footprint_from_its_model_file(
    engineer: TestClient, engine: Engine
) -> None:
    """Published with steel_kg = 5 (21.443195 kg CO2e): the report is of that footprint, made
    from the model file (steel_kg: 2 in it) and the stored parameters."""
    _editor_post(engineer, "/models/publish")  # 13.786844: deprecated below
    replaced = _editor_post(
        engineer, "/models/publish", **{"param.steel_kg": "5", "publish_choice": "replace"}
    )
    footprint_id = _published_id(replaced.text)
    page = engineer.get(f"/products/{footprint_id}")
    assert 'id="report-form"' in page.text
    # the file as an editor on Windows saves it (CRLF): the same model
    crlf = MODEL.replace("\n", "\r\n").encode()
    answer = _product_report(engineer, footprint_id, "pump.yaml", crlf, report_lang="zh")
    assert answer.status_code == 200, answer.text[:800]
    assert 'filename="pump-report-zh.html"' in answer.headers["content-disposition"]
    assert "21.4 kg CO2e" in answer.text
    pdf = _product_report(engineer, footprint_id, "pump.yaml", MODEL.encode(), report_format="pdf")
    assert pdf.content.startswith(b"%PDF")

    # another model (one character changed): refused, naming both hashes
    other = MODEL.replace("name: Materials", "name: Material").encode()
    refused = _product_report(engineer, footprint_id, "pump.yaml", other, report_lang="zh")
    assert refused.status_code == 400
    assert 'id="model_file-errors"' in refused.text
    assert "sha256" in refused.text
    assert 'value="zh" selected' in refused.text  # the choice kept
    assert _product_report(engineer, footprint_id, "pump.txt", MODEL.encode()).status_code == 400
    binary = _product_report(engineer, footprint_id, "pump.yaml", b"\xff\xfe")
    assert binary.status_code == 400


def test_report_refuses_a_footprint_the_bundled_factors_do_not_give_again(
    engineer: TestClient, engine: Engine, tmp_path: Path
) -> None:
    """A footprint published by the CLI with its own factor file: the model file matches
    its hash, but recalculated here (bundled factors only) it names a factor file, which the
    editor's checks refuse."""
    from openpcf.services.publishing import publish

    factors = tmp_path / "own.csv"
    factors.write_text(
        "id,name,unit,category,geography,year,source,licence,CO2-fossil\n"
        "own.steel,Own steel,kg,material,CN,2024,Own measurement 2024,CC-BY-4.0,2\n",
        encoding="utf-8",
    )
    text = MODEL.replace("boundary:", "factor_sets: [own.csv]\nboundary:").replace(
        "cn.tiangong.steel.hot-rolled-coil", "own.steel"
    )
    model = tmp_path / "pump.yaml"
    model.write_text(text, encoding="utf-8")
    published = publish(model, engine=engine, organisation="Widget Co")
    answer = _product_report(engineer, str(published.id), "pump.yaml", text.encode())
    assert answer.status_code == 400
    assert 'id="model_file-errors"' in answer.text
    assert "factor set &#39;own.csv&#39;" in answer.text


def test_report_refuses_a_footprint_calculated_otherwise(
    engineer: TestClient, engine: Engine, tmp_path: Path
) -> None:
    """The same model file published by the CLI with ``--gwp AR5``: its hash matches, but
    recalculated here (the model's AR6) it gives another document, so no report."""
    from openpcf.services.publishing import publish

    model = tmp_path / "pump.yaml"
    model.write_text(MODEL, encoding="utf-8")
    published = publish(model, engine=engine, organisation="Widget Co", gwp="AR5")
    answer = _product_report(engineer, str(published.id), "pump.yaml", MODEL.encode())
    assert answer.status_code == 400
    assert "another footprint than the stored one" in answer.text


def _zipped(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return {name: z.read(name) for name in z.namelist()}


def test_the_package_carries_the_organisations_stored_footprint(
    web_app: TestClient, engine: Engine, make_user: MakeUser, login: Login
) -> None:
    """Published by this organisation: the package holds the stored document (the one the
    host serves and a certificate binds); published only by another: its own document.

    Both name the model ``model.yaml`` in their comment, so Widget Co publishes it (as the
    web does, the model loaded under that name) with a creation time in the past, which
    tells the two documents apart."""
    import datetime as dt

    from openpcf.model.loading import load_model
    from openpcf.services.publishing import publish

    make_user(engine, organisation="Widget Co", email="eng@widget.example")
    make_user(engine, organisation="Rival Ltd", email="eng@rival.example")
    assert login(web_app, "eng@widget.example").status_code == 303
    past = dt.datetime(2025, 1, 2, tzinfo=dt.UTC)
    loaded = load_model(Path("model.yaml"), text=MODEL)
    mine = str(publish(loaded, engine=engine, organisation="Widget Co", now=past).id)
    stored = {str(f.id): f for f in _stored(engine)}[mine].document
    assert stored["created"].startswith("2025-01-02")
    packed = json.loads(
        _zipped(_editor_post(web_app, "/models/package").content)["footprint.pact.json"]
    )
    assert packed == stored
    web_app.cookies.clear()
    assert login(web_app, "eng@rival.example").status_code == 303
    theirs = json.loads(
        _zipped(_editor_post(web_app, "/models/package").content)["footprint.pact.json"]
    )
    assert theirs["id"] == mine  # the calculation's own id ...
    assert theirs["created"] != stored["created"]  # ... in its own document, not Widget Co's
    assert "model model.yaml " in theirs["comment"]  # no server folder


def _cbam(client: TestClient, name: str, data: bytes, **fields: str) -> httpx.Response:
    token = _token(client, "/deliverables/cbam")
    return client.post(
        "/deliverables/cbam",
        data={"csrf_token": token} | fields,
        files={"installation": (name, data, "application/yaml")},
    )


def test_cbam_communication(engineer: TestClient) -> None:
    steel = (ROOT / "examples/cbam/steel_bf_bof_tianjin.yaml").read_bytes()
    as_json = _cbam(engineer, "steel_bf_bof_tianjin.yaml", steel, cbam_format="json")
    assert as_json.status_code == 200, as_json.text[:500]
    communication = as_json.json()
    assert communication["products"]
    xlsx = _cbam(engineer, "steel_bf_bof_tianjin.yaml", steel, cbam_format="xlsx")
    assert xlsx.status_code == 200
    assert xlsx.content.startswith(b"PK")
    assert "steel-bf-bof-tianjin-cbam-communication.xlsx" in xlsx.headers["content-disposition"]
    wrong_type = _cbam(engineer, "plant.exe", b"MZ")
    assert wrong_type.status_code == 400
    assert 'id="installation-errors"' in wrong_type.text
    broken = _cbam(
        engineer, "plant.yaml", b"openpcf_cbam: 1\ninstallation: [\n", cbam_format="json"
    )
    assert broken.status_code == 400
    assert "plant.yaml:" in broken.text
    assert 'value="json" selected' in broken.text  # the choice kept


def test_bounds(engineer: TestClient) -> None:
    token = _token(engineer)
    huge = b"x" * (3_000_000 + 200 * 1024)
    answer = engineer.post(
        "/models/publish",
        content=b"csrf_token=" + token.encode() + b"&model=" + huge,
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert answer.status_code == 413
    big = _cbam(engineer, "plant.yaml", b"#" * 1_100_000)
    assert big.status_code == 413
    footprint_id = _publish(engineer)
    huge_model = _product_report(engineer, footprint_id, "pump.yaml", b"#" * 1_100_000)
    assert huge_model.status_code == 413
    huge_attestation = _certify(
        engineer,
        footprint_id,
        files={"attestation": ("a.jwt", b"a" * 1_400_000, "text/plain")},
        assurance_kind="attestation",
    )
    assert huge_attestation.status_code == 413
    chunked = engineer.post(
        "/models/publish",
        content=iter([b"csrf_token=" + token.encode()]),
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert chunked.status_code == 411  # no declared length: refused before reading


# -- who may -----------------------------------------------------------------------------------


def test_another_organisations_footprint_is_not_found(
    web_app: TestClient, engine: Engine, make_user: MakeUser, login: Login, keys: KeyStore
) -> None:
    make_user(engine, organisation="Widget Co", email="eng@widget.example")
    make_user(engine, organisation="Rival Ltd", email="eng@rival.example")
    assert login(web_app, "eng@widget.example").status_code == 303
    mine = _publish(web_app)
    web_app.cookies.clear()
    assert login(web_app, "eng@rival.example").status_code == 303
    token = _token(web_app)
    for footprint_id in (mine, str(uuid.uuid4()), "not-a-uuid"):
        assert web_app.get(f"/products/{footprint_id}/certificate").status_code == 404
        answer = web_app.post(
            f"/products/{footprint_id}/certificate",
            data={"csrf_token": token, "assurance_kind": "none", "valid_days": "10"},
        )
        assert answer.status_code == 404, footprint_id
        assert "jwt" not in answer.headers.get("content-type", "")
        assert web_app.get(f"/products/{footprint_id}/report").status_code == 404
        report = web_app.post(
            f"/products/{footprint_id}/report",
            data={"csrf_token": token},
            files={"model_file": ("pump.yaml", MODEL.encode(), "application/yaml")},
        )
        assert report.status_code == 404, footprint_id
        empty = web_app.post(f"/products/{footprint_id}/report", data={"csrf_token": token})
        assert empty.status_code == 404, footprint_id
    # publishing the same model stores it for the rival's own organisation, under another id
    theirs = _publish(web_app)
    assert theirs != mine
    with session_scope(engine) as session:
        owners = {str(f.id): f.organisation.name for f in session.scalars(select(Footprint)).all()}
    assert owners == {mine: "Widget Co", theirs: "Rival Ltd"}


ROUTES = (
    ("post", "/models/publish"),
    ("post", "/models/report"),
    ("post", "/models/package"),
    ("get", "/deliverables/cbam"),
    ("post", "/deliverables/cbam"),
)


@pytest.mark.parametrize("role", ["supplier", "verifier"])
def test_roles(
    web_app: TestClient, engine: Engine, make_user: MakeUser, login: Login, role: str
) -> None:
    make_user(engine, organisation="Widget Co", email="eng@widget.example")
    assert login(web_app, "eng@widget.example").status_code == 303
    footprint_id = _publish(web_app)
    web_app.cookies.clear()
    make_user(engine, organisation="Widget Co", email="other@widget.example", role=role)
    assert login(web_app, "other@widget.example").status_code == 303
    token = csrf_token(web_app.get("/account").text)
    routes = (
        *ROUTES,
        ("get", f"/products/{footprint_id}/certificate"),
        ("post", f"/products/{footprint_id}/certificate"),
        ("get", f"/products/{footprint_id}/report"),
        ("post", f"/products/{footprint_id}/report"),
    )
    for method, url in routes:
        data = {"csrf_token": token, "model": MODEL} if method == "post" else None
        answer = web_app.request(method, url, data=data)
        assert answer.status_code == 403, (role, url)


def test_csrf_and_sign_in_are_required(
    engineer: TestClient, web_app: TestClient, engine: Engine
) -> None:
    footprint_id = _publish(engineer)
    for url in (
        "/models/publish",
        "/models/report",
        "/models/package",
        "/deliverables/cbam",
        f"/products/{footprint_id}/certificate",
        f"/products/{footprint_id}/report",
    ):
        assert engineer.post(url, data={"model": MODEL}).status_code == 403, url
        assert engineer.post(url, data={"model": MODEL, "csrf_token": "x" * 40}).status_code == 403
    assert len(_stored(engine)) == 1
    engineer.cookies.clear()
    answer = engineer.get(f"/products/{footprint_id}/certificate")
    assert answer.status_code == 303
    assert answer.headers["location"].startswith("/login")


def test_pages_in_chinese(
    web_app: TestClient, engine: Engine, make_user: MakeUser, login: Login
) -> None:
    make_user(engine, organisation="Widget Co", email="zh@widget.example", lang="zh")
    assert login(web_app, "zh@widget.example").status_code == 303
    changed = _editor_post(web_app, "/models/publish", **{"param.steel_kg": "5"})
    assert changed.status_code == 400
    assert "请选择发布方式" in changed.text
    assert "发布到 PACT" in changed.text
    footprint_id = _publish(web_app)
    assert "签发证书" in web_app.get(f"/products/{footprint_id}").text
    assert "保证声明" in web_app.get(f"/products/{footprint_id}/certificate").text
    assert "CBAM 通报" in web_app.get("/deliverables/cbam").text


def test_every_message_key_the_templates_use_exists_in_both_languages() -> None:
    """Keys written out and the prefixes joined with ``~`` in the deliverables' templates."""
    en = yaml.safe_load((WEB / "messages/deliverables.en.yaml").read_text("utf-8"))
    zh = yaml.safe_load((WEB / "messages/deliverables.zh.yaml").read_text("utf-8"))
    assert set(en) == set(zh)
    used: set[str] = set()
    prefixes: set[str] = set()
    for path in WEB.glob("templates/deliverables_*.html.j2"):
        text = path.read_text("utf-8")
        used |= set(re.findall(r"""t\[["']([a-z_.]+[a-z_])["']\]""", text))
        prefixes |= set(re.findall(r"""t\[["']([a-z_.]+\.)["'] ~""", text))
    assert used
    assert prefixes
    assert used <= set(en), sorted(used - set(en))
    for prefix in prefixes:
        assert any(k.startswith(prefix) for k in en), prefix
    fields = (
        *("publish_choice", "scenario", "allow_illustrative", "report", "assurance"),
        *("verifier_name", "attestation", "jwks", "valid_days", "keys", "footprint"),
        *("installation", "format"),
    )
    assert {f"deliverables.error.{f}" for f in fields} <= set(en)
