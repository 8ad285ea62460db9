"""The owners' people page (``/people``) and the choice of organisation (``/organisation``).

Runs on SQLite and PostgreSQL (``engine``). Covers: owners list, add, re-role and remove the
people of their own organisation only; other roles get 403, other organisations' membership
ids 404; the last enabled owner stays, also when two owners demote each other at the same
moment on two connections; a person with roles in several organisations chooses one after
signing in, sees only their own organisations, and can switch.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
import yaml
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select, text
from sqlalchemy.orm import Session

from fixtures.web import STRONG_PASSWORD, csrf_token
from openpcf.db.engine import begin_write, session_scope
from openpcf.db.repositories.web import LastOwnerError, set_membership_role
from openpcf.db.web_models import WebAccount, WebMembership, WebSession
from openpcf.services import web_people
from openpcf.web.auth import WebUser

WEB = Path(__file__).parents[1] / "src/openpcf/web"

MakeUser = Callable[..., WebUser]
Login = Callable[..., httpx.Response]


def membership(engine: Engine, email: str, organisation_id: int) -> WebMembership | None:
    with session_scope(engine) as session:
        return session.scalar(
            select(WebMembership)
            .join(WebAccount, WebAccount.id == WebMembership.user_id)
            .where(WebAccount.email == email, WebMembership.organisation_id == organisation_id)
        )


def membership_id(engine: Engine, email: str, organisation_id: int) -> int:
    found = membership(engine, email, organisation_id)
    assert found is not None, email
    return found.id


def post(
    client: TestClient, path: str, data: dict[str, str], page: str = "/people"
) -> httpx.Response:
    """``data`` posted to ``path`` with the CSRF token of ``page``."""
    token = csrf_token(client.get(page).text)
    return client.post(path, data={**data, "csrf_token": token})


@pytest.fixture
def acme(engine: Engine, make_user: MakeUser) -> dict[str, WebUser]:
    """Acme: an owner and an engineer; Rival: an owner."""
    return {
        "owner": make_user(engine, organisation="Acme", email="own@acme.example", role="owner"),
        "engineer": make_user(engine, organisation="Acme", email="eng@acme.example"),
        "rival": make_user(engine, organisation="Rival", email="own@rival.example", role="owner"),
    }


@pytest.fixture
def owner(web_app: TestClient, acme: dict[str, WebUser], login: Login) -> TestClient:
    assert login(web_app, "own@acme.example").status_code == 303
    return web_app


def rows(html: str) -> dict[str, str]:
    """email → role of the people table."""
    found = re.findall(
        r'<tr data-membership="\d+" data-role="(\w+)"[^>]*>\s*<td>.*?</td>\s*<td>([^<]+)</td>',
        html,
        flags=re.S,
    )
    return {email: role for role, email in found}


# --------------------------------------------------------------------------------------------
# the page


def test_owners_see_the_people_of_their_organisation_only(owner: TestClient) -> None:
    page = owner.get("/people")
    assert page.status_code == 200
    assert rows(page.text) == {"eng@acme.example": "engineer", "own@acme.example": "owner"}
    assert "rival" not in page.text
    assert "(you)" in page.text
    assert "not signed in" in page.text  # the engineer has no session
    assert re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d UTC", page.text)  # the owner's
    assert 'href="/people"' in page.text  # in the owner's navigation


def test_other_roles_are_refused_and_strangers_sent_to_sign_in(
    web_app: TestClient, engine: Engine, acme: dict[str, WebUser], make_user: MakeUser, login: Login
) -> None:
    assert web_app.get("/people").headers["location"] == "/login?next=%2Fpeople"
    engineer_id = membership_id(engine, "eng@acme.example", acme["owner"].organisation_id)
    make_user(engine, organisation="Acme", email="sup@acme.example", role="supplier")
    make_user(engine, organisation="Acme", email="ver@acme.example", role="verifier")
    for email in ("eng@acme.example", "sup@acme.example", "ver@acme.example"):
        web_app.cookies.clear()
        assert login(web_app, email).status_code == 303
        assert web_app.get("/people").status_code == 403, email
        token = csrf_token(web_app.get("/account").text)
        for path, data in (
            ("/people", {"email": "x@acme.example", "role": "owner", "password": STRONG_PASSWORD}),
            (f"/people/{engineer_id}/role", {"role": "owner"}),
            (f"/people/{engineer_id}/remove", {}),
        ):
            answer = web_app.post(path, data={**data, "csrf_token": token})
            assert answer.status_code == 403, (email, path)
    assert membership(engine, "eng@acme.example", acme["owner"].organisation_id) is not None
    assert membership(engine, "x@acme.example", acme["owner"].organisation_id) is None


def test_an_added_person_signs_in_with_the_initial_password(
    owner: TestClient, engine: Engine, login: Login
) -> None:
    added = post(
        owner,
        "/people",
        {
            "email": " New@Acme.example ",
            "name": "Nia",
            "role": "verifier",
            "password": STRONG_PASSWORD,
        },
    )
    assert added.status_code == 303
    assert added.headers["location"] == "/people?done=added"
    page = owner.get("/people?done=added").text
    assert "The person was added." in page
    assert rows(page)["new@acme.example"] == "verifier"
    owner.cookies.clear()
    assert login(owner, "new@acme.example").status_code == 303
    assert "Nia · Verifier · Acme" in owner.get("/account").text


def test_a_form_with_errors_keeps_what_was_typed_and_stores_nothing(
    owner: TestClient, engine: Engine, acme: dict[str, WebUser]
) -> None:
    typed = {
        "email": "not an email",
        "name": "Olga <b>",
        "role": "admin",
        "password": "s3cret-pass",
    }
    answer = post(owner, "/people", typed)
    assert answer.status_code == 400
    html = answer.text
    assert 'value="not an email"' in html
    assert 'value="Olga &lt;b&gt;"' in html
    assert "Enter an email address, like name@example.com." in html
    assert "Choose one of the roles in the list." in html
    assert "s3cret-pass" not in html  # a password is never sent back
    short = post(
        owner, "/people", {"email": "olga@acme.example", "role": "engineer", "password": "short"}
    )
    assert short.status_code == 400
    assert "The password needs at least 12 characters." in short.text
    assert 'aria-invalid="true" aria-describedby="person-password-error"' not in short.text
    assert 'id="person-password-error"' in short.text
    missing = post(owner, "/people", {"email": "olga@acme.example", "role": "engineer"})
    assert "Enter an initial password for the new account." in missing.text
    again = post(owner, "/people", {"email": "ENG@acme.example", "role": "owner", "password": ""})
    assert again.status_code == 400
    assert "has a role in this organisation already" in again.text
    with session_scope(engine) as session:
        assert (
            session.scalar(select(WebAccount).where(WebAccount.email == "olga@acme.example"))
            is None
        )
    assert membership(engine, "eng@acme.example", acme["owner"].organisation_id).role == "engineer"  # type: ignore[union-attr]


def test_an_existing_account_gets_a_role_and_keeps_its_password(
    owner: TestClient, engine: Engine, acme: dict[str, WebUser], login: Login
) -> None:
    answer = post(
        owner, "/people", {"email": "own@rival.example", "role": "engineer", "password": "x" * 20}
    )
    assert answer.headers["location"] == "/people?done=existing"
    assert "they sign in with their own password" in owner.get("/people?done=existing").text
    owner.cookies.clear()
    assert login(owner, "own@rival.example", "x" * 20).status_code == 401
    assert login(owner, "own@rival.example").status_code == 303


def test_roles_change_and_people_leave_at_once(
    owner: TestClient, engine: Engine, acme: dict[str, WebUser], login: Login, web_app: TestClient
) -> None:
    org = acme["owner"].organisation_id
    engineer_id = membership_id(engine, "eng@acme.example", org)
    other = TestClient(web_app.app, base_url=str(web_app.base_url), follow_redirects=False)
    assert login(other, "eng@acme.example").status_code == 303
    assert other.get("/products").status_code == 200
    changed = post(owner, f"/people/{engineer_id}/role", {"role": "supplier"})
    assert changed.headers["location"] == "/people?done=role"
    assert rows(owner.get("/people").text)["eng@acme.example"] == "supplier"
    assert other.get("/products").status_code == 403  # from their next page
    removed = post(owner, f"/people/{engineer_id}/remove", {})
    assert removed.headers["location"] == "/people?done=removed"
    assert "eng@acme.example" not in rows(owner.get("/people").text)
    assert other.get("/account").status_code == 303  # signed out of Acme
    with session_scope(engine) as session:
        # the account stays (it may have roles elsewhere); its sessions in Acme are gone
        account = session.scalars(
            select(WebAccount).where(WebAccount.email == "eng@acme.example")
        ).one()
        left = select(WebSession).where(
            WebSession.user_id == account.id, WebSession.organisation_id == org
        )
        assert session.scalars(left).all() == []


def test_the_last_owner_stays(
    owner: TestClient, engine: Engine, acme: dict[str, WebUser], make_user: MakeUser
) -> None:
    org = acme["owner"].organisation_id
    mine = membership_id(engine, "own@acme.example", org)
    for path, data in (
        (f"/people/{mine}/role", {"role": "engineer"}),
        (f"/people/{mine}/remove", {}),
    ):
        answer = post(owner, path, data)
        assert answer.status_code == 409, path
        assert "last owner cannot be removed or given another role" in answer.text
        assert f'<tr data-membership="{mine}" data-role="owner" class="error">' in answer.text
    # a disabled owner does not count: they cannot sign in to manage anyone
    make_user(engine, organisation="Acme", email="gone@acme.example", role="owner")
    with session_scope(engine) as session:
        gone = session.scalars(
            select(WebAccount).where(WebAccount.email == "gone@acme.example")
        ).one()
        gone.disabled = True
    assert post(owner, f"/people/{mine}/role", {"role": "engineer"}).status_code == 409
    # with a second enabled owner, one of them may go
    make_user(engine, organisation="Acme", email="two@acme.example", role="owner")
    second = membership_id(engine, "two@acme.example", org)
    assert post(owner, f"/people/{second}/role", {"role": "engineer"}).status_code == 303
    assert post(owner, f"/people/{mine}/remove", {}).status_code == 409


def test_other_organisations_membership_ids_are_not_found(
    owner: TestClient, engine: Engine, acme: dict[str, WebUser]
) -> None:
    theirs = membership_id(engine, "own@rival.example", acme["rival"].organisation_id)
    for path, data in (
        (f"/people/{theirs}/role", {"role": "engineer"}),
        (f"/people/{theirs}/remove", {}),
    ):
        answer = post(owner, path, data)
        assert answer.status_code == 404, path
        assert "Rival" not in answer.text
        assert "own@rival.example" not in answer.text
    assert post(owner, "/people/999999/remove", {}).status_code == 404
    assert post(owner, "/people/abc/remove", {}).status_code == 400
    assert membership(engine, "own@rival.example", acme["rival"].organisation_id).role == "owner"  # type: ignore[union-attr]


def test_posts_need_the_csrf_token_and_a_bounded_body(
    owner: TestClient, engine: Engine, acme: dict[str, WebUser]
) -> None:
    engineer_id = membership_id(engine, "eng@acme.example", acme["owner"].organisation_id)
    assert owner.post(f"/people/{engineer_id}/remove", data={}).status_code == 403
    token = csrf_token(owner.get("/people").text)
    huge = owner.post("/people", data={"csrf_token": token, "name": "x" * 20_000})
    assert huge.status_code == 413
    assert membership(engine, "eng@acme.example", acme["owner"].organisation_id) is not None


def test_two_owners_demoting_each_other_at_once_leave_one_owner(
    engine: Engine, make_user: MakeUser
) -> None:
    """Two transactions on two connections: the first demotes A and holds the organisation's
    lock; the second (a thread) tries to demote B, waits for the lock (seen in PostgreSQL's
    pg_stat_activity), then sees A demoted and refuses."""
    a = make_user(engine, organisation="Duo", email="a@duo.example", role="owner")
    make_user(engine, organisation="Duo", email="b@duo.example", role="owner")
    org = a.organisation_id
    first_id, second_id = (
        membership_id(engine, "a@duo.example", org),
        membership_id(engine, "b@duo.example", org),
    )
    outcome: list[str] = []

    def demote_second() -> None:
        try:
            with session_scope(engine, write=True) as session:
                set_membership_role(
                    session, organisation_id=org, membership_id=second_id, role="engineer"
                )
            outcome.append("demoted")
        except LastOwnerError:
            outcome.append("refused")

    with Session(engine) as first, first.begin():
        begin_write(first.connection())
        set_membership_role(first, organisation_id=org, membership_id=first_id, role="engineer")
        thread = threading.Thread(target=demote_second)
        thread.start()
        if engine.dialect.name == "postgresql":
            assert _waits_for_a_lock(engine), "the second demotion did not wait for the lock"
    thread.join(timeout=60)
    assert not thread.is_alive()
    assert outcome == ["refused"]
    with session_scope(engine) as session:
        owners = session.scalars(
            select(WebMembership.id).where(
                WebMembership.organisation_id == org, WebMembership.role == "owner"
            )
        ).all()
    assert owners == [second_id]


def _waits_for_a_lock(engine: Engine) -> bool:
    """Whether another backend waits on a lock, polled for up to a minute (a state to reach,
    not a time to measure)."""
    with engine.connect() as watcher:
        for _ in range(600):
            waiting = watcher.execute(
                text(
                    "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                    "AND datname = current_database() AND pid <> pg_backend_pid()"
                )
            ).scalar()
            watcher.commit()
            if waiting:
                return True
            time.sleep(0.1)
    return False


# --------------------------------------------------------------------------------------------
# choosing an organisation


@pytest.fixture
def two_hats(engine: Engine, acme: dict[str, WebUser], make_user: MakeUser) -> dict[str, int]:
    """pat@ is owner in Acme and engineer in Rival; Third Co has someone else."""
    make_user(engine, organisation="Acme", email="pat@example.com", role="owner")
    make_user(engine, organisation="Rival", email="pat@example.com", role="engineer")
    third = make_user(engine, organisation="Third Co", email="t@third.example", role="owner")
    return {
        "Acme": acme["owner"].organisation_id,
        "Rival": acme["rival"].organisation_id,
        "Third Co": third.organisation_id,
    }


def test_a_person_in_two_organisations_chooses_after_signing_in(
    web_app: TestClient, two_hats: dict[str, int], login: Login
) -> None:
    signed = login(web_app, "pat@example.com", next="/products")
    assert signed.headers["location"] == "/products"
    sent = web_app.get("/products")
    assert sent.status_code == 303
    assert sent.headers["location"] == "/organisation?next=%2Fproducts"
    assert web_app.get("/people").headers["location"] == "/organisation?next=%2Fpeople"
    fragment = web_app.get("/products", headers={"HX-Request": "true"})
    assert fragment.status_code == 401
    assert fragment.headers["HX-Redirect"] == "/organisation?next=%2Fproducts"
    choice = web_app.get("/organisation?next=%2Fproducts")
    assert choice.status_code == 200
    listed = dict(re.findall(r'value="(\d+)"[^>]*>([^<]+)</button>', choice.text))
    assert listed == {str(two_hats["Acme"]): "Acme", str(two_hats["Rival"]): "Rival"}
    assert "Third Co" not in choice.text
    assert 'href="/products"' not in choice.text  # no navigation before choosing
    chosen = post(
        web_app,
        "/organisation",
        {"organisation_id": str(two_hats["Rival"]), "next": "/products"},
        page="/organisation",
    )
    assert chosen.headers["location"] == "/products"
    assert web_app.get("/products").status_code == 200
    account = web_app.get("/account").text
    assert "Engineer · Rival" in account
    assert 'href="/organisation"' in account  # several organisations: the switch is offered
    assert web_app.get("/people").status_code == 403  # an engineer in Rival
    switched = post(
        web_app, "/organisation", {"organisation_id": str(two_hats["Acme"])}, page="/organisation"
    )
    assert switched.headers["location"] == "/"
    people = web_app.get("/people")
    assert people.status_code == 200
    assert "pat@example.com" in rows(people.text)
    assert "own@rival.example" not in people.text


def test_an_organisation_without_a_role_is_not_found(
    web_app: TestClient, engine: Engine, two_hats: dict[str, int], login: Login
) -> None:
    login(web_app, "pat@example.com")
    refused = post(
        web_app,
        "/organisation",
        {"organisation_id": str(two_hats["Third Co"])},
        page="/organisation",
    )
    assert refused.status_code == 404
    assert "Third Co" not in refused.text
    assert web_app.get("/products").status_code == 303  # still to choose
    with session_scope(engine) as session:
        assert session.scalars(select(WebSession.organisation_id)).all() == [two_hats["Acme"]]
    assert (
        web_app.post("/organisation", data={"organisation_id": str(two_hats["Rival"])}).status_code
        == 403
    )


def test_a_person_in_one_organisation_is_not_asked(
    web_app: TestClient, acme: dict[str, WebUser], login: Login
) -> None:
    assert login(web_app, "eng@acme.example").headers["location"] == "/"
    assert web_app.get("/").headers["location"] == "/products"
    page = web_app.get("/products").text
    assert 'href="/organisation"' not in page
    assert 'href="/people"' not in page  # an engineer
    choice = web_app.get("/organisation")
    assert choice.status_code == 200
    assert ">Acme</button>" in choice.text
    assert "(current)" in choice.text


def test_the_service_lists_only_the_persons_organisations(
    engine: Engine, two_hats: dict[str, int], acme: dict[str, WebUser]
) -> None:
    with session_scope(engine) as session:
        pat = session.scalars(
            select(WebAccount.id).where(WebAccount.email == "pat@example.com")
        ).one()
    choices = web_people.organisations_of(engine, user_id=pat)
    assert [(c.name, c.role) for c in choices] == [("Acme", "owner"), ("Rival", "engineer")]
    people = web_people.list_people(engine, organisation_id=two_hats["Third Co"])
    assert [p.email for p in people] == ["t@third.example"]


# --------------------------------------------------------------------------------------------
# languages


def test_the_pages_in_chinese(
    web_app: TestClient, engine: Engine, make_user: MakeUser, login: Login
) -> None:
    make_user(engine, organisation="Acme", email="zh@acme.example", role="owner", lang="zh")
    login(web_app, "zh@acme.example")
    page = web_app.get("/people").text
    assert "添加人员" in page
    assert "所有者" in page


def test_catalogues_have_the_same_keys_and_every_key_the_templates_use() -> None:
    en, zh = (
        yaml.safe_load((WEB / f"messages/people.{lang}.yaml").read_text(encoding="utf-8"))
        for lang in ("en", "zh")
    )
    assert set(en) == set(zh)
    used: set[str] = set()
    for name in ("people.html.j2", "org_choice.html.j2"):
        used |= set(
            re.findall(
                r"""t\[["']((?:people|org)\.[a-z_.]+)["']\]""",
                (WEB / "templates" / name).read_text("utf-8"),
            )
        )
    keys = set(re.findall(r'"(people\.[a-z_.]+)"', (WEB / "pages_people.py").read_text("utf-8")))
    keys |= set(
        re.findall(
            r'"(people\.[a-z_.]+)"', (WEB.parent / "services/web_people.py").read_text("utf-8")
        )
    )
    assert used
    assert keys
    assert (used | keys) <= set(en), sorted((used | keys) - set(en))
