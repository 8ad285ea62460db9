"""The verifiers' read-only product, audit and package-contents pages and the owners' grants.

Runs on SQLite and PostgreSQL (``engine``). The people: Widget Co's owner grants Vera, a
verifier of Audit Co (a third party), the widget; Other Co makes the gadget and grants nothing.

Numbers worked out by hand (tests/fixtures/two_process.yaml, as in tests/test_web_pages.py):
1 kg widget = 2 kg steel sheet at 2000 kg CO2 per t (4 kg CO2e) + 3 kWh of the Hebei grid
2022 at 0.7252 kg CO2/kWh (2.1756) + 1 g fossil CH4 at GWP100 AR6 29.8 (0.0298), total
6.2054 kg CO2e per kg. Publishing records one calculation in the audit trail; its
``result_sha256`` is the SHA-256 of the stored result's RFC 8785 JSON, so the audit page of
the widget shows exactly that record and never the gadget's.
"""

from __future__ import annotations

import hashlib
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
import rfc8785
import yaml
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from fixtures.in_process import openpcf
from fixtures.web import csrf_token
from openpcf.db import migrate
from openpcf.db import repositories as repo
from openpcf.db.engine import make_engine, session_scope
from openpcf.db.models import CalculationRecord, Footprint
from openpcf.db.web_grants_models import WebVerifierGrant
from openpcf.db.web_models import WebMembership
from openpcf.errors import InputError
from openpcf.services.publishing import publish
from openpcf.services.web_verifier import grant, result_sha256, revoke_person
from openpcf.settings import Settings, get_settings
from openpcf.web.auth import WebUser

ROOT = Path(__file__).parents[1]
WIDGET = ROOT / "tests/fixtures/two_process.yaml"
WEB = ROOT / "src/openpcf/web"

MakeUser = Callable[..., WebUser]
Login = Callable[..., httpx.Response]


@pytest.fixture
def published(engine: Engine, tmp_path: Path) -> dict[str, Any]:
    """The widget (Widget Co) and the gadget (Other Co), published with the web app's home,
    so both calculations are recorded in its audit trail."""
    gadget = tmp_path / "gadget.yaml"
    text = WIDGET.read_text(encoding="utf-8")
    gadget.write_text(
        text.replace("name: Widget\n", "name: Gadget\n").replace(
            "product:widget", "product:gadget"
        ),
        encoding="utf-8",
    )
    # a database file that does not exist: no accepted supplier data to look up
    settings = Settings(home=tmp_path / "home", database_url=f"sqlite:///{tmp_path / 'no.db'}")
    ours = publish(WIDGET, engine=engine, organisation="Widget Co", settings=settings)
    theirs = publish(gadget, engine=engine, organisation="Other Co", settings=settings)
    return {
        "ours": str(ours.id),
        "theirs": str(theirs.id),
        "trail": settings.audit_trail,
    }


@pytest.fixture
def people(engine: Engine, make_user: MakeUser) -> dict[str, WebUser]:
    return {
        "owner": make_user(
            engine, organisation="Widget Co", email="own@widget.example", role="owner"
        ),
        "other_owner": make_user(
            engine, organisation="Other Co", email="own@other.example", role="owner"
        ),
        "vera": make_user(
            engine, organisation="Audit Co", email="vera@audit.example", role="verifier"
        ),
        "victor": make_user(
            engine, organisation="Check Ltd", email="victor@check.example", role="verifier"
        ),
        "engineer": make_user(
            engine, organisation="Widget Co", email="eng@widget.example", role="engineer"
        ),
        "supplier": make_user(
            engine, organisation="Widget Co", email="sup@widget.example", role="supplier"
        ),
    }


def _org_id(people: dict[str, WebUser], who: str) -> int:
    return people[who].organisation_id


@pytest.fixture
def granted(
    engine: Engine, published: dict[str, Any], people: dict[str, WebUser]
) -> dict[str, Any]:
    """Widget Co's owner granted Vera the widget (named by its URN)."""
    said, new = grant(
        engine,
        organisation_id=_org_id(people, "owner"),
        email="Vera@Audit.example ",
        product="urn:openpcf:product:widget",
        granted_by_id=people["owner"].user_id,
    )
    assert new
    assert said == "vera@audit.example (verifier of Audit Co) granted: Widget of Widget Co"
    return published


def signed_in(client: TestClient, login: Login, email: str) -> TestClient:
    client.cookies.clear()
    assert login(client, email).status_code == 303
    return client


# --------------------------------------------------------------------------------------------
# catalogues


def test_catalogues_have_the_same_keys_and_every_key_the_templates_use() -> None:
    en = yaml.safe_load((WEB / "messages/verifier.en.yaml").read_text(encoding="utf-8"))
    zh = yaml.safe_load((WEB / "messages/verifier.zh.yaml").read_text(encoding="utf-8"))
    assert set(en) == set(zh)
    assert all(isinstance(v, str) and v.strip() for v in [*en.values(), *zh.values()])
    from openpcf.web.render import catalogues

    merged = catalogues()
    used: set[str] = set()
    for path in WEB.glob("templates/verifier_*.html.j2"):
        used |= set(re.findall(r"""t\[["']([a-z_.]+)["']\]""", path.read_text("utf-8")))
    used |= {f"audit.chain.{s}" for s in ("intact", "tampered", "unreadable")}
    used |= {f"contents.state.{s}" for s in ("matches", "differs", "unlisted", "manifest")}
    assert used <= set(merged["en"]), sorted(used - set(merged["en"]))
    assert used <= set(merged["zh"]), sorted(used - set(merged["zh"]))


# --------------------------------------------------------------------------------------------
# grants: the service and the database


def test_grant_names_a_verifier_clearly(
    engine: Engine, published: dict[str, Any], people: dict[str, WebUser], make_user: MakeUser
) -> None:
    org = _org_id(people, "owner")
    urn = "urn:openpcf:product:widget"
    with pytest.raises(InputError, match=re.escape("no web user nobody@x.example: add them first")):
        grant(engine, organisation_id=org, email="nobody@x.example", product=urn)
    with pytest.raises(InputError, match=re.escape("eng@widget.example is not a verifier")):
        grant(engine, organisation_id=org, email="eng@widget.example", product=urn)
    with pytest.raises(LookupError, match=f"Widget Co has no product '{published['theirs']}'"):
        grant(engine, organisation_id=org, email="vera@audit.example", product=published["theirs"])
    with pytest.raises(LookupError, match="has no product"):
        grant(
            engine,
            organisation_id=org,
            email="vera@audit.example",
            product="urn:openpcf:product:gadget",
        )
    # a verifier in two bodies must say which one the grant is for
    make_user(engine, organisation="Second Body", email="vera@audit.example", role="verifier")
    with pytest.raises(InputError, match=r"several organisations \(Audit Co, Second Body\)"):
        grant(engine, organisation_id=org, email="vera@audit.example", product=urn)
    said, new = grant(
        engine,
        organisation_id=org,
        email="vera@audit.example",
        product=published["ours"],  # a footprint id names its product too
        verifier_organisation="Second Body",
    )
    assert new
    assert "verifier of Second Body" in said
    _, again = grant(
        engine,
        organisation_id=org,
        email="vera@audit.example",
        product=urn,
        verifier_organisation="Second Body",
    )
    assert not again


def test_grants_go_with_the_membership_and_the_product(
    engine: Engine, granted: dict[str, Any], people: dict[str, WebUser]
) -> None:
    """Deleting the verifier's membership deletes the grant (ON DELETE CASCADE)."""
    with session_scope(engine) as s:
        assert len(s.scalars(select(WebVerifierGrant)).all()) == 1
        membership = s.scalar(
            select(WebMembership).where(WebMembership.user_id == people["vera"].user_id)
        )
        assert membership is not None
        s.delete(membership)
    with session_scope(engine) as s:
        assert s.scalars(select(WebVerifierGrant)).all() == []


# --------------------------------------------------------------------------------------------
# the verifier's pages


def test_verifier_sees_only_granted_products_read_only(
    web_app: TestClient, login: Login, granted: dict[str, Any], people: dict[str, WebUser]
) -> None:
    client = signed_in(web_app, login, "vera@audit.example")
    listing = client.get("/verifier")
    assert listing.status_code == 200, listing.text
    assert listing.text.count("data-granted-product") == 1
    assert "Widget" in listing.text
    assert "Widget Co" in listing.text
    assert f'href="/verifier/products/{granted["ours"]}"' in listing.text
    assert f'href="/verifier/products/{granted["ours"]}/audit"' in listing.text
    assert "Gadget" not in listing.text
    assert granted["theirs"] not in listing.text
    assert 'href="/verifier"' in listing.text  # in the navigation

    page = client.get(f"/verifier/products/{granted['ours']}")
    assert page.status_code == 200, page.text
    assert re.search(r"data-pcf-total>6\.2054<", page.text)
    assert "data-read-only" in page.text
    assert "Widget Co granted you this product" in page.text
    assert f'href="/verifier/products/{granted["ours"]}/pact.json"' in page.text
    assert f'"/products/{granted["ours"]}' not in page.text  # no engineer's link
    assert "/products/" + granted["ours"] + "/analysis" not in page.text

    document = client.get(f"/verifier/products/{granted['ours']}/pact.json")
    assert document.status_code == 200
    assert document.json()["pcf"]["pcfExcludingBiogenicUptake"] == "6.2054"
    assert document.headers["content-disposition"].endswith(f'"pact-{granted["ours"]}.json"')
    # the engineers' pages stay closed to a verifier
    assert client.get(f"/products/{granted['ours']}").status_code == 403


@pytest.mark.parametrize("suffix", ["", "/pact.json", "/audit"])
def test_what_was_not_granted_is_not_found(
    web_app: TestClient,
    login: Login,
    granted: dict[str, Any],
    people: dict[str, WebUser],
    suffix: str,
) -> None:
    vera = signed_in(web_app, login, "vera@audit.example")
    for footprint in (granted["theirs"], str(uuid.uuid4()), "not-a-uuid"):
        answer = vera.get(f"/verifier/products/{footprint}{suffix}")
        assert answer.status_code == 404, footprint
        assert "Gadget" not in answer.text
    # another verifier, without a grant, cannot see the widget Vera may see
    victor = signed_in(web_app, login, "victor@check.example")
    answer = victor.get(f"/verifier/products/{granted['ours']}{suffix}")
    assert answer.status_code == 404
    assert "Widget" not in answer.text


def test_roles(web_app: TestClient, login: Login, granted: dict[str, Any]) -> None:
    ours = granted["ours"]
    verifier_pages = ["/verifier", f"/verifier/products/{ours}", f"/verifier/products/{ours}/audit"]
    for email in ("eng@widget.example", "sup@widget.example", "own@widget.example"):
        client = signed_in(web_app, login, email)
        for url in [*verifier_pages, "/verifier/package"]:
            assert client.get(url).status_code == 403, (email, url)
    for email in ("eng@widget.example", "sup@widget.example", "vera@audit.example"):
        client = signed_in(web_app, login, email)
        assert client.get("/verifier-grants").status_code == 403, email
    web_app.cookies.clear()
    assert web_app.get("/verifier").status_code == 303  # to the login page


def test_verifier_pages_in_chinese(
    web_app: TestClient, login: Login, granted: dict[str, Any]
) -> None:
    client = signed_in(web_app, login, "vera@audit.example")
    client.post(
        "/lang",
        data={
            "lang": "zh",
            "next": "/verifier",
            "csrf_token": csrf_token(client.get("/verifier").text),
        },
    )
    assert "授权给您的产品" in client.get("/verifier").text
    assert "哈希链完整" in client.get(f"/verifier/products/{granted['ours']}/audit").text


# --------------------------------------------------------------------------------------------
# the audit trail


def test_audit_shows_the_records_of_the_products_calculations(
    web_app: TestClient, login: Login, engine: Engine, granted: dict[str, Any]
) -> None:
    with session_scope(engine) as s:
        digests = {}
        for key in ("ours", "theirs"):
            fp = s.get(Footprint, uuid.UUID(granted[key]))
            assert fp is not None
            assert fp.calculation_id is not None
            record = s.get(CalculationRecord, fp.calculation_id)
            assert record is not None
            digests[key] = hashlib.sha256(rfc8785.dumps(record.result)).hexdigest()
            assert result_sha256(record.result) == digests[key]
    trail = [json.loads(line) for line in granted["trail"].read_text().splitlines()]
    assert [r["data"]["result_sha256"] for r in trail] == [digests["ours"], digests["theirs"]]

    client = signed_in(web_app, login, "vera@audit.example")
    page = client.get(f"/verifier/products/{granted['ours']}/audit")
    assert page.status_code == 200, page.text
    html = page.text
    assert 'data-chain="intact"' in html
    assert f'data-calculation="{digests["ours"]}"' in html
    assert 'data-records="1"' in html
    assert 'data-seq="1"' in html
    assert 'data-seq="2"' not in html  # the gadget's record
    assert digests["theirs"] not in html
    assert trail[0]["hash"] in html
    assert trail[1]["hash"] in html  # only as the chain's head
    assert "6.2054 kg CO2e" in html
    assert "command: publish" in html
    assert trail[0]["data"]["model_sha256"] in html
    assert "Gadget" not in html


def test_a_tampered_trail_is_said_so(
    web_app: TestClient, login: Login, granted: dict[str, Any]
) -> None:
    path: Path = granted["trail"]
    lines = path.read_text().splitlines()
    first = json.loads(lines[0])
    first["data"]["kg_co2e"] = 1.0
    path.write_text("\n".join([json.dumps(first), *lines[1:]]) + "\n")
    client = signed_in(web_app, login, "vera@audit.example")
    page = client.get(f"/verifier/products/{granted['ours']}/audit")
    assert page.status_code == 200
    assert 'data-chain="tampered"' in page.text
    assert "$OPENPCF_HOME" in page.text  # the host's folder is not shown
    assert str(path.parent) not in page.text


# --------------------------------------------------------------------------------------------
# grants on the owner's page


def test_owner_grants_and_revokes_on_the_page(
    web_app: TestClient, login: Login, published: dict[str, Any], people: dict[str, WebUser]
) -> None:
    owner = signed_in(web_app, login, "own@widget.example")
    page = owner.get("/verifier-grants")
    assert page.status_code == 200
    assert 'href="/verifier-grants"' in page.text  # in the owner's navigation
    assert "Gadget" not in page.text  # another organisation's product is no choice
    form = {"email": "vera@audit.example", "product": "urn:openpcf:product:widget"}
    no_token = owner.post("/verifier-grants", data=form)
    assert no_token.status_code == 403
    done = owner.post("/verifier-grants", data={**form, "csrf_token": csrf_token(page.text)})
    assert done.status_code == 200, done.text
    assert "data-granted" in done.text
    found = re.search(r'data-grant="(\d+)"', done.text)
    assert found
    grant_id = found.group(1)

    vera = signed_in(web_app, login, "vera@audit.example")
    assert vera.get(f"/verifier/products/{published['ours']}").status_code == 200

    # Other Co's owner can neither revoke Widget Co's grant nor see it
    other = signed_in(web_app, login, "own@other.example")
    page = other.get("/verifier-grants")
    assert "vera@audit.example" not in page.text
    answer = other.post(
        f"/verifier-grants/{grant_id}/revoke", data={"csrf_token": csrf_token(page.text)}
    )
    assert answer.status_code == 404
    for bad in ("999999", "x1", "1" * 20):
        assert (
            other.post(
                f"/verifier-grants/{bad}/revoke", data={"csrf_token": csrf_token(page.text)}
            ).status_code
            == 404
        )

    owner = signed_in(web_app, login, "own@widget.example")
    page = owner.get("/verifier-grants")
    assert owner.post(f"/verifier-grants/{grant_id}/revoke").status_code == 403  # CSRF
    gone = owner.post(
        f"/verifier-grants/{grant_id}/revoke", data={"csrf_token": csrf_token(page.text)}
    )
    assert gone.status_code == 303
    assert "vera@audit.example" not in owner.get("/verifier-grants").text

    vera = signed_in(web_app, login, "vera@audit.example")
    assert vera.get(f"/verifier/products/{published['ours']}").status_code == 404
    assert "data-empty" in vera.get("/verifier").text


def test_revoked_grant_is_not_found_in_the_same_session(
    web_app: TestClient,
    login: Login,
    engine: Engine,
    granted: dict[str, Any],
    people: dict[str, WebUser],
) -> None:
    vera = signed_in(web_app, login, "vera@audit.example")
    url = f"/verifier/products/{granted['ours']}/audit"
    assert vera.get(url).status_code == 200
    count = revoke_person(
        engine,
        organisation_id=_org_id(people, "owner"),
        email="vera@audit.example",
        product="urn:openpcf:product:widget",
    )
    assert count == 1
    assert vera.get(url).status_code == 404


def test_grant_form_keeps_what_was_typed(
    web_app: TestClient, login: Login, published: dict[str, Any], people: dict[str, WebUser]
) -> None:
    owner = signed_in(web_app, login, "own@widget.example")
    page = owner.get("/verifier-grants")
    answer = owner.post(
        "/verifier-grants",
        data={
            "email": "eng@widget.example",
            "product": "urn:openpcf:product:widget",
            "verifier_organisation": "Audit Co",
            "csrf_token": csrf_token(page.text),
        },
    )
    assert answer.status_code == 400
    assert "eng@widget.example is not a verifier in &#39;Audit Co&#39;" in answer.text
    assert 'value="eng@widget.example"' in answer.text
    assert 'value="Audit Co"' in answer.text
    assert "Traceback" not in answer.text


# --------------------------------------------------------------------------------------------
# a package's contents


@pytest.fixture
def package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    from openpcf.certify import KeyStore
    from openpcf.services.packaging import build_package

    monkeypatch.setenv("OPENPCF_HOME", str(tmp_path / "builder"))
    get_settings.cache_clear()
    try:
        keys = KeyStore(tmp_path / "builder" / "keys")
        keys.create(issuer="https://pcf.example.com")
        out = tmp_path / "widget.zip"
        build_package(WIDGET, output=out, keys=keys)
    finally:
        get_settings.cache_clear()
    return out


def post_package(client: TestClient, name: str, data: bytes) -> httpx.Response:
    page = client.get("/verifier/package")
    assert page.status_code == 200
    return client.post(
        "/verifier/package",
        data={"csrf_token": csrf_token(page.text)},
        files={"package": (name, data, "application/zip")},
    )


def test_package_contents_list_sizes_and_digests(
    web_app: TestClient, login: Login, people: dict[str, WebUser], package: Path
) -> None:
    client = signed_in(web_app, login, "vera@audit.example")
    answer = post_package(client, "widget.zip", package.read_bytes())
    assert answer.status_code == 200, answer.text
    assert 'data-intact="true"' in answer.text
    with zipfile.ZipFile(package) as z:
        members = {n: z.read(n) for n in z.namelist()}
    manifest = json.loads(members["manifest.json"])
    for name, data in members.items():
        row = re.search(
            rf'data-file="{re.escape(name)}" data-state="(\w+)">.*?<td class="num">(\d+)</td>'
            rf'<td><code class="digest">([0-9a-f]{{64}})</code>',
            answer.text,
        )
        assert row, name
        assert int(row.group(2)) == len(data)
        assert row.group(3) == hashlib.sha256(data).hexdigest()
        if name in manifest["files"]:
            assert row.group(1) == "matches"
    assert "signer not authenticated" in answer.text
    assert 'href="/packages"' in answer.text  # the next step


def test_package_contents_name_a_changed_file(
    web_app: TestClient, login: Login, people: dict[str, WebUser], package: Path
) -> None:
    with zipfile.ZipFile(package) as z:
        members = {n: z.read(n) for n in z.namelist()}
    members["result.json"] = b'{"kg_co2e": 1.0}'
    members["extra.txt"] = b"not listed"
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        for name, data in members.items():
            z.writestr(name, data)
    client = signed_in(web_app, login, "vera@audit.example")
    answer = post_package(client, "changed.zip", buffer.getvalue())
    assert answer.status_code == 200
    assert 'data-intact="false"' in answer.text
    assert 'data-file="result.json" data-state="differs"' in answer.text
    assert 'data-file="extra.txt" data-state="unlisted"' in answer.text
    assert "/tmp" not in answer.text


@pytest.mark.parametrize(
    ("name", "data"),
    [("notes.txt", b"hello"), ("broken.zip", b"PK\x03\x04" + b"\x00garbage" * 50)],
)
def test_bad_package_contents_are_a_clear_error(
    web_app: TestClient, login: Login, people: dict[str, WebUser], name: str, data: bytes
) -> None:
    client = signed_in(web_app, login, "vera@audit.example")
    answer = post_package(client, name, data)
    assert answer.status_code == 400
    assert 'class="field-error"' in answer.text
    assert "Traceback" not in answer.text
    assert "openpcf-web-contents-" not in answer.text
    assert (
        client.post(
            "/verifier/package", files={"package": (name, data, "application/zip")}
        ).status_code
        == 403
    )  # no CSRF token


# --------------------------------------------------------------------------------------------
# the command line


def test_cli_grant_and_revoke(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("OPENPCF_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("OPENPCF_DATABASE_URL", url)
    get_settings.cache_clear()
    try:
        migrate.upgrade(url)
        engine = make_engine(url)
        publish(WIDGET, engine=engine, organisation="Widget Co")
        with session_scope(engine) as s:
            org = repo.ensure_organisation(s, name="Audit Co")
            account = repo.create_web_user(
                s, email="vera@audit.example", name="Vera", password="correct horse battery"
            )
            repo.add_membership(s, user=account, organisation=org, role="verifier")
        engine.dispose()
        args = (
            "vera@audit.example",
            "--org",
            "Widget Co",
            "--product",
            "urn:openpcf:product:widget",
        )
        done = openpcf("web", "grant", *args)
        assert done.returncode == 0, done.stderr
        assert (
            "vera@audit.example (verifier of Audit Co) granted: Widget of Widget Co" in done.stdout
        )
        gone = openpcf("web", "revoke", *args)
        assert gone.returncode == 0, gone.stderr
        assert "revoked 1 grant(s)" in gone.stdout
        bad = openpcf(
            "web", "grant", "vera@audit.example", "--org", "Widget Co", "--product", "urn:x"
        )
        assert bad.returncode != 0
        assert "Widget Co has no product 'urn:x'" in bad.stderr + bad.stdout
        assert "Traceback" not in bad.stderr
    finally:
        get_settings.cache_clear()
