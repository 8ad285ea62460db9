"""Invitation links: ``/people`` invitations, ``/invite/<token>`` and ``openpcf web invite``.

Runs on SQLite and PostgreSQL (``engine``). Covers: an owner invites an email to a role and
sees the single-use link once (only the token's SHA-256 is stored); the person opens it
without signing in, chooses a password and is signed in with that role; an email with an
account joins with its own password instead; the link then reads "cannot be used" (404),
like an unknown, expired or withdrawn one; owners list and withdraw pending invitations of
their own organisation only (another organisation's invitation id: 404; other roles: 403);
two requests using one link at once get one account and one "gone", proven on two
connections; the command line prints a link that works.
"""

from __future__ import annotations

import hashlib
import re
import threading
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select, text
from sqlalchemy.orm import Session

from fixtures.in_process import openpcf
from fixtures.web import BASE, STRONG_PASSWORD, Clock, csrf_token
from openpcf.db.engine import begin_write, session_scope
from openpcf.db.repositories import web_invitations as invitations_repo
from openpcf.db.web_invitation_models import WebInvitation
from openpcf.db.web_models import WebAccount, WebMembership
from openpcf.services import web_invitations
from openpcf.settings import get_settings
from openpcf.web.auth import SESSION_COOKIE, WebUser

MakeUser = Callable[..., WebUser]
Login = Callable[..., httpx.Response]
LINK = re.compile(r'id="invite-link" type="text" readonly value="http://testserver(/invite/[^"]+)"')
NEW_PASSWORD = "seven green apples on a tray"
GONE = "This invitation link cannot be used."


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


def browser(client: TestClient) -> TestClient:
    """A new browser on the same application (no cookies)."""
    return TestClient(client.app, base_url=BASE, follow_redirects=False)


def invite(client: TestClient, email: str, role: str = "engineer", name: str = "") -> str:
    """Invite ``email`` from the people page; the link's path."""
    token = csrf_token(client.get("/people").text)
    page = client.post(
        "/people/invitations",
        data={"csrf_token": token, "email": email, "role": role, "name": name},
    )
    assert page.status_code == 200, page.text
    found = LINK.search(page.text)
    assert found, "no invitation link on the page"
    return found.group(1)


def accept(client: TestClient, path: str, **form: str) -> httpx.Response:
    page = client.get(path)
    assert page.status_code == 200, page.text
    return client.post(path, data={"csrf_token": csrf_token(page.text), **form})


def role_of(engine: Engine, email: str, organisation_id: int) -> str | None:
    with session_scope(engine) as session:
        return session.scalar(
            select(WebMembership.role)
            .join(WebAccount, WebAccount.id == WebMembership.user_id)
            .where(WebAccount.email == email, WebMembership.organisation_id == organisation_id)
        )


def invitation_rows(engine: Engine) -> list[WebInvitation]:
    with session_scope(engine) as session:
        return list(session.scalars(select(WebInvitation).order_by(WebInvitation.id)))


# --------------------------------------------------------------------------------------------
# the happy paths


def test_an_invited_person_chooses_a_password_and_is_signed_in(
    owner: TestClient, engine: Engine, acme: dict[str, WebUser], login: Login
) -> None:
    path = invite(owner, "Nia@Acme.example", role="engineer", name="Nia Patel")
    token = path.removeprefix("/invite/")
    assert len(token) >= 43  # token_urlsafe(32): 256 random bits (≥ 128 asked)
    (row,) = invitation_rows(engine)
    assert row.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in {row.token_hash, row.email, row.name}  # the token itself is not kept
    assert (row.expires_at - row.created_at).total_seconds() == 72 * 3600
    people = owner.get("/people").text
    assert 'data-invitation="' in people
    assert "nia@acme.example" in people
    assert "invite-link" not in people  # the link was shown once only

    with browser(owner) as nia:
        page = nia.get(path)
        assert page.status_code == 200
        assert "nia@acme.example" in page.text
        assert "Acme" in page.text
        assert 'value="Nia Patel"' in page.text  # the owner's proposal, changeable
        done = accept(nia, path, name="Nia P.", password=NEW_PASSWORD, password_again=NEW_PASSWORD)
        assert done.status_code == 303, done.text
        assert done.headers["location"] == "/"
        assert nia.cookies.get(SESSION_COOKIE)
        account = nia.get("/account")
        assert account.status_code == 200
        assert "nia@acme.example" in account.text
        assert "Nia P." in account.text
        again = nia.get(path)
        assert again.status_code == 404
        assert GONE in again.text
    assert role_of(engine, "nia@acme.example", acme["owner"].organisation_id) == "engineer"
    assert invitation_rows(engine)[0].used_at is not None
    assert 'data-invitation="' not in owner.get("/people").text
    with browser(owner) as later:
        assert login(later, "nia@acme.example", NEW_PASSWORD).status_code == 303


def test_an_email_with_an_account_joins_with_its_own_password(
    owner: TestClient, engine: Engine, acme: dict[str, WebUser]
) -> None:
    token = csrf_token(owner.get("/people").text)
    made = owner.post(
        "/people/invitations",
        data={"csrf_token": token, "email": "own@rival.example", "role": "verifier"},
    )
    assert "This email has an account already" in made.text
    found = LINK.search(made.text)
    assert found
    path = found.group(1)
    with browser(owner) as rival:
        page = rival.get(path)
        assert "You have an account with this email already." in page.text
        assert "password_again" not in page.text  # no new password is asked
        wrong = accept(rival, path, password="not the right password")
        assert wrong.status_code == 400
        assert "The password is wrong for this account." in wrong.text
        assert role_of(engine, "own@rival.example", acme["owner"].organisation_id) is None
        done = accept(rival, path, password=STRONG_PASSWORD)
        assert done.status_code == 303, done.text
        account = rival.get("/account")  # the session is bound to Acme, chosen
        assert account.status_code == 200
        assert "Acme" in account.text
    assert role_of(engine, "own@rival.example", acme["owner"].organisation_id) == "verifier"
    assert role_of(engine, "own@rival.example", acme["rival"].organisation_id) == "owner"


def test_a_weak_password_leaves_the_invitation_open(
    owner: TestClient, engine: Engine, acme: dict[str, WebUser]
) -> None:
    path = invite(owner, "kim@acme.example")
    with browser(owner) as kim:
        short = accept(kim, path, name="Kim", password="short", password_again="short")
        assert short.status_code == 400
        assert "The password needs at least 12 characters." in short.text
        assert 'value="Kim"' in short.text  # what was typed stays (never the password)
        assert 'value="short"' not in short.text
        differ = accept(kim, path, password=NEW_PASSWORD, password_again=NEW_PASSWORD + "x")
        assert differ.status_code == 400
        assert "The two new passwords differ" in differ.text
        assert kim.get(path).status_code == 200
    assert role_of(engine, "kim@acme.example", acme["owner"].organisation_id) is None
    assert invitation_rows(engine)[0].used_at is None


# --------------------------------------------------------------------------------------------
# links that cannot be used


def test_expired_unknown_and_withdrawn_links_read_the_same(
    owner: TestClient, engine: Engine, web_clock: Clock
) -> None:
    expiring = invite(owner, "late@acme.example")
    withdrawn = invite(owner, "gone@acme.example")
    (row,) = [r for r in invitation_rows(engine) if r.email == "gone@acme.example"]
    revoked = owner.post(
        f"/people/invitations/{row.id}/revoke",
        data={"csrf_token": csrf_token(owner.get("/people").text)},
    )
    assert revoked.status_code == 303
    assert revoked.headers["location"] == "/people?done=revoked"
    assert "The invitation was withdrawn" in owner.get("/people?done=revoked").text
    again = owner.post(
        f"/people/invitations/{row.id}/revoke",
        data={"csrf_token": csrf_token(owner.get("/people").text)},
    )
    assert again.status_code == 404  # withdrawn already
    web_clock.advance(hours=71, minutes=59)
    with browser(owner) as visitor:
        assert visitor.get(expiring).status_code == 200  # 71 h 59 min after: still valid
    web_clock.advance(minutes=1)  # 72 h: the link ends
    with browser(owner) as visitor:
        answers = [
            visitor.get(path)
            for path in (expiring, withdrawn, "/invite/not-a-token", "/invite/" + "x" * 500)
        ]
        assert [a.status_code for a in answers] == [404, 404, 404, 404]
        assert all(GONE in a.text for a in answers)
        assert len({re.sub(r'value="[^"]+"', "", a.text) for a in answers}) == 1  # no hint
        token = csrf_token(visitor.get("/login").text)
        posted = visitor.post(
            expiring,
            data={"csrf_token": token, "password": NEW_PASSWORD, "password_again": NEW_PASSWORD},
        )
        assert posted.status_code == 404
        assert GONE in posted.text
    organisation_id = invitation_rows(engine)[0].organisation_id
    assert web_invitations.pending(engine, organisation_id=organisation_id, now=web_clock()) == []


def test_a_new_invitation_withdraws_the_older_link(owner: TestClient) -> None:
    first = invite(owner, "twice@acme.example")
    second = invite(owner, "twice@acme.example", role="supplier")
    with browser(owner) as visitor:
        assert visitor.get(first).status_code == 404
        assert visitor.get(second).status_code == 200
    assert owner.get("/people").text.count('data-invitation="') == 1


# --------------------------------------------------------------------------------------------
# who may do what


def test_owners_manage_invitations_of_their_own_organisation_only(
    owner: TestClient, engine: Engine, acme: dict[str, WebUser], login: Login
) -> None:
    rivals = web_invitations.invite(
        engine,
        organisation_id=acme["rival"].organisation_id,
        email="spy@rival.example",
        name="",
        role="engineer",
        now=Clock()(),
    )
    rival_id = next(r.id for r in invitation_rows(engine) if r.email == "spy@rival.example")
    token = csrf_token(owner.get("/people").text)
    refused = owner.post(f"/people/invitations/{rival_id}/revoke", data={"csrf_token": token})
    assert refused.status_code == 404
    assert "spy@rival.example" not in owner.get("/people").text
    assert invitation_rows(engine)[0].revoked_at is None
    assert (
        owner.post("/people/invitations/999999/revoke", data={"csrf_token": token}).status_code
        == 404
    )
    with browser(owner) as visitor:
        assert visitor.get(rivals.path).status_code == 200  # still open


def test_other_roles_get_403_and_posts_need_the_csrf_token(
    web_app: TestClient, engine: Engine, acme: dict[str, WebUser], login: Login
) -> None:
    assert login(web_app, "eng@acme.example").status_code == 303
    token = csrf_token(web_app.get("/account").text)
    data = {"csrf_token": token, "email": "x@acme.example", "role": "owner"}
    assert web_app.post("/people/invitations", data=data).status_code == 403
    assert web_app.post("/people/invitations/1/revoke", data=data).status_code == 403
    assert invitation_rows(engine) == []
    with browser(web_app) as owner:
        assert login(owner, "own@acme.example").status_code == 303
        no_token = owner.post("/people/invitations", data={"email": "x@acme.example"})
        assert no_token.status_code == 403
        path = invite(owner, "csrf@acme.example")
    assert invitation_rows(engine)[0].email == "csrf@acme.example"
    with browser(web_app) as visitor:
        visitor.get(path)
        posted = visitor.post(path, data={"password": NEW_PASSWORD, "password_again": NEW_PASSWORD})
        assert posted.status_code == 403
        assert visitor.get(path).status_code == 200  # not used


def test_the_invitation_form_checks_what_the_owner_typed(owner: TestClient, engine: Engine) -> None:
    token = csrf_token(owner.get("/people").text)
    bad = owner.post(
        "/people/invitations",
        data={"csrf_token": token, "email": "not-an-email", "name": "Zed", "role": "king"},
    )
    assert bad.status_code == 400
    assert "Enter an email address" in bad.text
    assert "Choose one of the roles" in bad.text
    assert (
        re.search(r'id="invite-email" name="email" [^>]*value="not-an-email"', bad.text) is not None
    )
    member = owner.post(
        "/people/invitations",
        data={"csrf_token": token, "email": "ENG@acme.example", "role": "owner"},
    )
    assert member.status_code == 400
    assert "has a role in this organisation already" in member.text
    assert invitation_rows(engine) == []


# --------------------------------------------------------------------------------------------
# two requests using one link at once


def _open_link(engine: Engine, organisation_id: int) -> str:
    """The token of a new invitation of race@acme.example."""
    invited = web_invitations.invite(
        engine,
        organisation_id=organisation_id,
        email="race@acme.example",
        name="Race",
        role="engineer",
        now=Clock()(),
    )
    return invited.token


def test_two_requests_using_one_link_at_once_get_one_account(
    engine: Engine, acme: dict[str, WebUser], cheap_password_hashing: None
) -> None:
    """The first transaction uses the link up and holds its row; the second (a thread, on
    another connection) read the link as open, waits for the lock (seen in PostgreSQL's
    pg_stat_activity; on SQLite it waits for the write lock), then finds it used: "gone"."""
    token = _open_link(engine, acme["owner"].organisation_id)
    now = Clock()()
    outcome: list[web_invitations.Accepted] = []

    def second_tab() -> None:
        outcome.append(
            web_invitations.accept(
                engine, token=token, now=now, password=NEW_PASSWORD, again=NEW_PASSWORD
            )
        )

    with Session(engine) as first, first.begin():
        begin_write(first.connection())
        found = invitations_repo.open_invitation(first, token=token, now=now)
        assert found is not None
        assert invitations_repo.consume_invitation(first, invitation_id=found[0].id, now=now)
        thread = threading.Thread(target=second_tab)
        thread.start()
        if engine.dialect.name == "postgresql":
            assert _waits_for_a_lock(engine), "the second request did not wait for the row"
    thread.join(timeout=60)
    assert not thread.is_alive()
    assert [o.gone for o in outcome] == [True]
    assert role_of(engine, "race@acme.example", acme["owner"].organisation_id) is None


def test_two_threads_racing_for_one_link_make_one_account(
    engine: Engine, acme: dict[str, WebUser], cheap_password_hashing: None
) -> None:
    """Two threads start together (a barrier) and post the same link: one account, one
    session, and the other answer is "gone" (never an error, never two accounts)."""
    token = _open_link(engine, acme["owner"].organisation_id)
    start = threading.Barrier(2)
    outcome: list[web_invitations.Accepted] = []
    lock = threading.Lock()

    def tab() -> None:
        start.wait()
        answer = web_invitations.accept(
            engine, token=token, now=Clock()(), password=NEW_PASSWORD, again=NEW_PASSWORD
        )
        with lock:
            outcome.append(answer)

    threads = [threading.Thread(target=tab) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(bool(o.session_token) for o in outcome) == [False, True]
    assert sorted(o.gone for o in outcome) == [False, True]
    with session_scope(engine) as session:
        accounts = session.scalar(
            select(func.count())
            .select_from(WebAccount)
            .where(WebAccount.email == "race@acme.example")
        )
    assert accounts == 1
    assert role_of(engine, "race@acme.example", acme["owner"].organisation_id) == "engineer"


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
# the command line


def test_cli_invite_prints_a_working_link(
    engine: Engine,
    acme: dict[str, WebUser],
    web_app: TestClient,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("OPENPCF_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("OPENPCF_DATABASE_URL", engine.url.render_as_string(hide_password=False))
    get_settings.cache_clear()
    try:
        done = openpcf("web", "invite", "cli@acme.example", "--org", "Acme", "--role", "supplier")
        assert done.returncode == 0, done.stderr + done.stdout
        path = done.stdout.strip()
        assert path.startswith("/invite/")
        assert len(path) >= len("/invite/") + 43
        assert "single use" in done.stderr
        assert "no mail server" in done.stderr
        based = openpcf(
            "web",
            "invite",
            "cli2@acme.example",
            "--org",
            "Acme",
            "--role",
            "engineer",
            "--base-url",
            "https://pcf.example.com/",
        )
        assert based.returncode == 0, based.stderr
        assert based.stdout.startswith("https://pcf.example.com/invite/")
        member = openpcf("web", "invite", "eng@acme.example", "--org", "Acme", "--role", "owner")
        assert member.returncode != 0
        assert "has a role in this organisation already" in member.stderr + member.stdout
        bad = openpcf("web", "invite", "nobody", "--org", "Acme", "--role", "king")
        assert bad.returncode != 0
        said = bad.stderr + bad.stdout
        assert "EMAIL 'nobody'" in said
        assert "--role 'king'" in said
        assert "Traceback" not in said
        nowhere = openpcf("web", "invite", "x@y.example", "--org", "Nowhere", "--role", "owner")
        assert nowhere.returncode != 0
        assert "no organisation 'Nowhere'" in nowhere.stderr + nowhere.stdout
    finally:
        get_settings.cache_clear()
    with browser(web_app) as visitor:
        answer = accept(visitor, path, password=NEW_PASSWORD, password_again=NEW_PASSWORD)
        assert answer.status_code == 303, answer.text
    assert role_of(engine, "cli@acme.example", acme["owner"].organisation_id) == "supplier"
