"""Changing one's own password on ``/account`` (``POST /account/password``).

Runs on SQLite and PostgreSQL (``engine``). Covers: the right current password and a new one
typed twice change the password, end every other session of the person and give this
browser a new session cookie; a wrong current password, a weak or mistyped new one, or a
missing CSRF token change nothing; wrong current passwords are limited like sign-ins (the
module's limit: 5 attempts a minute per email, sign-ins included).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select

from fixtures.web import BASE, STRONG_PASSWORD, csrf_token
from openpcf.db.engine import session_scope
from openpcf.db.web_models import WebSession
from openpcf.web.auth import SESSION_COOKIE, LoginLimits, WebUser

MakeUser = Callable[..., WebUser]
Login = Callable[..., httpx.Response]
NEW_PASSWORD = "purple elephants dance at noon"


@pytest.fixture
def web_login_limits() -> LoginLimits:
    """5 attempts a minute per email: sign-ins and password changes count together."""
    return LoginLimits(per_address="1000/minute", per_email="5/minute")


@pytest.fixture
def ada(engine: Engine, make_user: MakeUser) -> WebUser:
    return make_user(engine, organisation="Acme", email="ada@acme.example", role="engineer")


@pytest.fixture
def signed_in(web_app: TestClient, ada: WebUser, login: Login) -> TestClient:
    assert login(web_app, ada.email).status_code == 303
    return web_app


@pytest.fixture
def other_browser(web_app: TestClient, ada: WebUser, login: Login) -> Iterator[TestClient]:
    """A second browser signed in as the same person (a phone, another office)."""
    with TestClient(web_app.app, base_url=BASE, follow_redirects=False) as client:
        assert login(client, ada.email).status_code == 303
        yield client


def change(client: TestClient, current: str, new: str, again: str | None = None) -> httpx.Response:
    token = csrf_token(client.get("/account").text)
    data = {
        "csrf_token": token,
        "current_password": current,
        "new_password": new,
        "new_password_again": new if again is None else again,
    }
    return client.post("/account/password", data=data)


def signs_in(app_client: TestClient, login: Login, email: str, password: str) -> bool:
    """Whether ``password`` signs ``email`` in, from a new browser."""
    with TestClient(app_client.app, base_url=BASE, follow_redirects=False) as browser:
        return login(browser, email, password).status_code == 303


def sessions(engine: Engine, user_id: int) -> int:
    with session_scope(engine) as session:
        query = select(func.count()).select_from(WebSession).where(WebSession.user_id == user_id)
        return int(session.scalar(query) or 0)


def test_a_new_password_ends_the_other_sessions_and_renews_this_one(
    signed_in: TestClient,
    other_browser: TestClient,
    engine: Engine,
    ada: WebUser,
    login: Login,
) -> None:
    before = signed_in.cookies.get(SESSION_COOKIE)
    assert sessions(engine, ada.user_id) == 2
    done = change(signed_in, STRONG_PASSWORD, NEW_PASSWORD)
    assert done.status_code == 303, done.text
    assert done.headers["location"] == "/account?done=password"
    after = signed_in.cookies.get(SESSION_COOKIE)
    assert after
    assert after != before
    page = signed_in.get("/account?done=password")
    assert page.status_code == 200
    assert "Your password was changed." in page.text
    assert sessions(engine, ada.user_id) == 1  # this browser's new session only
    gone = other_browser.get("/account")
    assert gone.status_code == 303
    assert gone.headers["location"].startswith("/login")
    # the login page forgets the ended session's cookie, so the sign-in form works at once
    assert login(other_browser, ada.email, STRONG_PASSWORD).status_code == 401
    assert SESSION_COOKIE not in other_browser.cookies
    assert login(other_browser, ada.email, NEW_PASSWORD).status_code == 303


def test_a_wrong_current_password_changes_nothing(
    signed_in: TestClient, other_browser: TestClient, engine: Engine, ada: WebUser, login: Login
) -> None:
    wrong = change(signed_in, "not my password at all", NEW_PASSWORD)
    assert wrong.status_code == 400
    assert "The current password is wrong. Nothing was changed." in wrong.text
    assert 'id="current-password-error"' in wrong.text
    assert 'aria-invalid="true"' in wrong.text
    assert NEW_PASSWORD not in wrong.text
    assert "not my password" not in wrong.text
    assert sessions(engine, ada.user_id) == 2
    assert other_browser.get("/account").status_code == 200
    assert signs_in(signed_in, login, ada.email, STRONG_PASSWORD)


@pytest.mark.parametrize(
    ("current", "new", "again", "message"),
    [
        (STRONG_PASSWORD, "short", "short", "The password needs at least 12 characters."),
        (STRONG_PASSWORD, NEW_PASSWORD, NEW_PASSWORD + "!", "The two new passwords differ"),
        (STRONG_PASSWORD, STRONG_PASSWORD, STRONG_PASSWORD, "the same as the current one"),
        (STRONG_PASSWORD, "", "", "Enter a password."),
        ("", NEW_PASSWORD, NEW_PASSWORD, "Enter your current password."),
    ],
)
def test_a_weak_or_mistyped_new_password_is_refused(
    signed_in: TestClient,
    engine: Engine,
    ada: WebUser,
    login: Login,
    current: str,
    new: str,
    again: str,
    message: str,
) -> None:
    refused = change(signed_in, current, new, again)
    assert refused.status_code == 400
    assert message in refused.text
    assert sessions(engine, ada.user_id) == 1
    assert signs_in(signed_in, login, ada.email, STRONG_PASSWORD)


def test_the_form_needs_the_csrf_token_and_a_session(
    signed_in: TestClient, web_app: TestClient, engine: Engine, ada: WebUser
) -> None:
    data = {
        "current_password": STRONG_PASSWORD,
        "new_password": NEW_PASSWORD,
        "new_password_again": NEW_PASSWORD,
    }
    assert signed_in.post("/account/password", data=data).status_code == 403
    assert sessions(engine, ada.user_id) == 1
    with TestClient(web_app.app, base_url=BASE, follow_redirects=False) as stranger:
        page = stranger.get("/login")
        answer = stranger.post(
            "/account/password", data=data | {"csrf_token": csrf_token(page.text)}
        )
        assert answer.status_code == 303
        assert answer.headers["location"].startswith("/login")


def test_wrong_current_passwords_are_limited_like_sign_ins(
    signed_in: TestClient, engine: Engine, ada: WebUser
) -> None:
    """The sign-in counted 1 of the 5 attempts a minute; 4 wrong passwords make 5; the 6th
    attempt, even with the right password, is refused with 429 and changes nothing."""
    for _ in range(4):
        assert change(signed_in, "guess guess guess", NEW_PASSWORD).status_code == 400
    limited = change(signed_in, STRONG_PASSWORD, NEW_PASSWORD)
    assert limited.status_code == 429
    assert int(limited.headers["retry-after"]) >= 1
    assert "Too many password attempts." in limited.text
    assert sessions(engine, ada.user_id) == 1
    assert signed_in.get("/account").status_code == 200  # still signed in, password unchanged


def test_the_account_page_shows_the_form_in_chinese(
    engine: Engine, make_user: MakeUser, web_app: TestClient, login: Login
) -> None:
    zh = make_user(engine, organisation="Acme", email="li@acme.example", lang="zh")
    assert login(web_app, zh.email).status_code == 303
    page = web_app.get("/account").text
    assert "修改密码" in page
    assert 'autocomplete="current-password"' in page
    assert 'autocomplete="new-password"' in page
