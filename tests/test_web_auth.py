"""Accounts of the web application: sign-in, sessions, CSRF, roles, isolation, headers.

Every test that uses ``web_app`` runs on SQLite and PostgreSQL (the ``engine`` fixture).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from fastapi import APIRouter, Depends
from fastapi.responses import PlainTextResponse
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select

from fixtures.web import STRONG_PASSWORD, Clock, csrf_token
from openpcf.db import repositories as repo
from openpcf.db.engine import session_scope
from openpcf.db.web_models import WebAccount, WebMembership, WebSession
from openpcf.errors import InputError
from openpcf.web.auth import SESSION_COOKIE, LoginLimits, WebUser, require_roles

MakeUser = Callable[..., WebUser]
Login = Callable[..., httpx.Response]


def sessions(engine: Engine) -> int:
    with session_scope(engine) as session:
        return int(session.scalar(select(func.count()).select_from(WebSession)) or 0)


def page_token(client: TestClient, path: str = "/account") -> str:
    return csrf_token(client.get(path).text)


# --------------------------------------------------------------------------------------------
# signing in


def test_login_starts_a_session_with_a_safe_cookie(
    web_app: TestClient, engine: Engine, make_user: MakeUser, login: Login
) -> None:
    make_user(engine, organisation="Acme", email="Ann@Example.com", role="verifier")
    answer = login(web_app, "ann@example.com")
    assert answer.status_code == 303
    assert answer.headers["location"] == "/"
    cookie = answer.headers["set-cookie"]
    assert cookie.startswith(f"{SESSION_COOKIE}=")
    assert "HttpOnly" in cookie
    assert "samesite=lax" in cookie.lower()
    assert "Path=/" in cookie
    assert "Secure" not in cookie  # secure_cookies=False: plain HTTP on loopback only
    token = web_app.cookies[SESSION_COOKIE]
    with session_scope(engine) as session:
        ids = list(session.scalars(select(WebSession.id)))
    assert len(ids) == 1
    assert token not in ids  # the database holds the token's SHA-256, not the token

    start = web_app.get("/")
    assert start.status_code == 303
    assert start.headers["location"] == "/account"  # a verifier's pages are not built yet
    account = web_app.get("/account")
    assert account.status_code == 200
    assert "ann@example.com" in account.text
    assert "Acme" in account.text


def test_an_engineer_starts_at_the_products(
    web_app: TestClient, engine: Engine, make_user: MakeUser, login: Login
) -> None:
    make_user(engine, organisation="Acme", email="eng@example.com", role="engineer")
    login(web_app, "eng@example.com")
    assert web_app.get("/").headers["location"] == "/products"


def test_secure_cookies_and_hsts_under_tls(
    engine: Engine, tmp_path: Path, make_user: MakeUser
) -> None:
    from openpcf.web.app import create_web_app

    make_user(engine, organisation="Acme", email="ann@example.com")
    app = create_web_app(engine=engine, home=tmp_path, secure_cookies=True)
    with TestClient(app, base_url="https://web.test", follow_redirects=False) as client:
        page = client.get("/login")
        assert "Secure" in page.headers["set-cookie"]  # the pre-session CSRF cookie
        assert page.headers["strict-transport-security"] == "max-age=31536000"
        answer = client.post(
            "/login",
            data={
                "email": "ann@example.com",
                "password": STRONG_PASSWORD,
                "csrf_token": csrf_token(page.text),
            },
        )
        assert answer.status_code == 303
        assert "Secure" in answer.headers["set-cookie"]


def test_wrong_password_and_unknown_email_get_the_same_answer(
    web_app: TestClient, engine: Engine, make_user: MakeUser, login: Login
) -> None:
    make_user(engine, organisation="Acme", email="ann@example.com")
    wrong = login(web_app, "ann@example.com", "not the right password")
    unknown = login(web_app, "nobody@example.com", "not the right password")
    assert wrong.status_code == unknown.status_code == 401
    assert "The email or the password is wrong." in wrong.text
    assert wrong.text.replace("ann@example.com", "X") == unknown.text.replace(
        "nobody@example.com", "X"
    )
    assert SESSION_COOKIE not in web_app.cookies
    assert sessions(engine) == 0
    assert 'value="ann@example.com"' in wrong.text  # what the user typed is kept


def test_unknown_email_costs_a_password_check_too(
    engine: Engine, make_user: MakeUser, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No timing difference: an unknown email is verified against a dummy Argon2id hash."""
    from openpcf.db.repositories import web

    make_user(engine, organisation="Acme", email="ann@example.com")
    checks: list[str] = []
    real = web.verify_password
    monkeypatch.setattr(web, "verify_password", lambda h, p: checks.append(h) or real(h, p))
    with session_scope(engine) as session:
        assert repo.authenticate_web_user(session, email="x@example.com", password="p" * 12) is None
        assert (
            repo.authenticate_web_user(session, email="ann@example.com", password="q" * 12) is None
        )
    assert len(checks) == 2
    assert all(h.startswith("$argon2id$") for h in checks)


def test_disabled_accounts_cannot_sign_in(
    web_app: TestClient, engine: Engine, make_user: MakeUser, login: Login
) -> None:
    make_user(engine, organisation="Acme", email="ann@example.com")
    with session_scope(engine) as session:
        session.scalars(select(WebAccount)).one().disabled = True
    assert login(web_app, "ann@example.com").status_code == 401


def test_empty_fields_are_field_errors_that_keep_the_input(
    web_app: TestClient, engine: Engine, login: Login
) -> None:
    answer = login(web_app, "ann@example.com", "")
    assert answer.status_code == 400
    assert "Enter your password." in answer.text
    assert 'id="password-error"' in answer.text
    assert 'aria-invalid="true"' in answer.text
    assert 'value="ann@example.com"' in answer.text
    answer = login(web_app, "", "something")
    assert "Enter your email." in answer.text


def test_login_goes_back_to_a_local_page_only(
    web_app: TestClient, engine: Engine, make_user: MakeUser, login: Login
) -> None:
    make_user(engine, organisation="Acme", email="ann@example.com")
    assert login(web_app, "ann@example.com", next="/account").headers["location"] == "/account"
    for evil in ("//evil.example/x", "https://evil.example/", "/\\evil.example", "account"):
        web_app.cookies.clear()
        answer = login(web_app, "ann@example.com", next=evil)
        assert answer.headers["location"] == "/"


def test_a_page_without_a_session_redirects_to_login(web_app: TestClient) -> None:
    answer = web_app.get("/account?x=1")
    assert answer.status_code == 303
    assert answer.headers["location"] == "/login?next=%2Faccount%3Fx%3D1"
    htmx = web_app.get("/account", headers={"HX-Request": "true"})
    assert htmx.status_code == 401
    assert htmx.headers["hx-redirect"].startswith("/login?next=")


@pytest.mark.parametrize("web_login_limits", [LoginLimits(per_email="3/minute")])
def test_logins_are_rate_limited_per_email(
    web_app: TestClient, engine: Engine, make_user: MakeUser, login: Login
) -> None:
    make_user(engine, organisation="Acme", email="ann@example.com")
    for _ in range(3):
        assert login(web_app, "ann@example.com", "wrong password!").status_code == 401
    limited = login(web_app, "ANN@example.com")  # the right password, but too many attempts
    assert limited.status_code == 429
    assert int(limited.headers["retry-after"]) >= 1
    assert "Too many sign-in attempts" in limited.text
    assert sessions(engine) == 0


@pytest.mark.parametrize("web_login_limits", [LoginLimits(per_address="2/minute")])
def test_logins_are_rate_limited_per_address(
    web_app: TestClient, engine: Engine, login: Login
) -> None:
    assert login(web_app, "a@example.com", "wrong password!").status_code == 401
    assert login(web_app, "b@example.com", "wrong password!").status_code == 401
    assert login(web_app, "c@example.com", "wrong password!").status_code == 429


# --------------------------------------------------------------------------------------------
# sessions


def test_a_session_ends_after_8_idle_hours(
    web_app: TestClient, engine: Engine, make_user: MakeUser, login: Login, web_clock: Clock
) -> None:
    make_user(engine, organisation="Acme", email="ann@example.com")
    login(web_app, "ann@example.com")
    web_clock.advance(hours=7, minutes=59)
    assert web_app.get("/account").status_code == 200  # activity moves the idle deadline
    web_clock.advance(hours=7, minutes=59)
    assert web_app.get("/account").status_code == 200
    web_clock.advance(hours=8)
    answer = web_app.get("/account")
    assert answer.status_code == 303
    assert answer.headers["location"].startswith("/login")
    assert sessions(engine) == 0  # the expired session is deleted


def test_a_session_ends_7_days_after_signing_in(
    web_app: TestClient, engine: Engine, make_user: MakeUser, login: Login, web_clock: Clock
) -> None:
    make_user(engine, organisation="Acme", email="ann@example.com")
    login(web_app, "ann@example.com")
    for _ in range(23):  # active every 7 hours: never idle for 8
        web_clock.advance(hours=7)
        assert web_app.get("/account").status_code == 200
    web_clock.advance(hours=7)  # 168 hours = 7 days after signing in
    assert web_app.get("/account").status_code == 303
    assert sessions(engine) == 0


def test_an_expired_session_posting_a_form_is_sent_to_login(
    web_app: TestClient, engine: Engine, make_user: MakeUser, login: Login, web_clock: Clock
) -> None:
    make_user(engine, organisation="Acme", email="ann@example.com")
    login(web_app, "ann@example.com")
    token = page_token(web_app)
    web_clock.advance(hours=9)
    answer = web_app.post("/lang", data={"lang": "zh", "csrf_token": token})
    assert answer.status_code == 303
    assert answer.headers["location"].startswith("/login?next=")
    with session_scope(engine) as session:
        assert session.scalars(select(WebAccount.lang)).one() == "en"


def test_logout_deletes_the_session(
    web_app: TestClient, engine: Engine, make_user: MakeUser, login: Login
) -> None:
    make_user(engine, organisation="Acme", email="ann@example.com")
    login(web_app, "ann@example.com")
    stolen = web_app.cookies[SESSION_COOKIE]
    assert sessions(engine) == 1
    answer = web_app.post("/logout", data={"csrf_token": page_token(web_app)})
    assert answer.status_code == 303
    assert answer.headers["location"] == "/login"
    assert sessions(engine) == 0
    web_app.cookies.set(SESSION_COOKIE, stolen)  # the old cookie is worth nothing now
    assert web_app.get("/account").status_code == 303


# --------------------------------------------------------------------------------------------
# CSRF


def test_posts_without_the_right_csrf_token_are_refused(
    web_app: TestClient, engine: Engine, make_user: MakeUser, login: Login
) -> None:
    make_user(engine, organisation="Acme", email="ann@example.com")
    login(web_app, "ann@example.com")
    for data in ({}, {"csrf_token": "x" * 43}):
        refused = web_app.post("/logout", data=data)
        assert refused.status_code == 403
        assert "security token is missing or out of date" in refused.text
        refused = web_app.post("/lang", data={"lang": "zh", **data})
        assert refused.status_code == 403
    assert sessions(engine) == 1
    with session_scope(engine) as session:
        assert session.scalars(select(WebAccount.lang)).one() == "en"
    # the header htmx sends counts as well as the form field
    answer = web_app.post(
        "/lang", data={"lang": "zh"}, headers={"X-CSRF-Token": page_token(web_app)}
    )
    assert answer.status_code == 303
    with session_scope(engine) as session:
        assert session.scalars(select(WebAccount.lang)).one() == "zh"


def test_the_login_form_needs_its_csrf_token(
    web_app: TestClient, engine: Engine, make_user: MakeUser
) -> None:
    make_user(engine, organisation="Acme", email="ann@example.com")
    web_app.get("/login")
    refused = web_app.post("/login", data={"email": "ann@example.com", "password": STRONG_PASSWORD})
    assert refused.status_code == 403
    assert sessions(engine) == 0


def test_another_sessions_csrf_token_is_refused(
    web_app: TestClient, engine: Engine, tmp_path: Path, make_user: MakeUser, login: Login
) -> None:
    make_user(engine, organisation="Acme", email="ann@example.com")
    make_user(engine, organisation="Acme", email="bob@example.com")
    login(web_app, "ann@example.com")
    with TestClient(web_app.app, base_url="http://testserver", follow_redirects=False) as bob:
        login(bob, "bob@example.com")
        bobs = page_token(bob)
    assert web_app.post("/logout", data={"csrf_token": bobs}).status_code == 403
    assert sessions(engine) == 2


# --------------------------------------------------------------------------------------------
# roles and isolation


def _probe(web_app: TestClient) -> None:
    router = APIRouter()

    @router.get("/probe/owners")
    def owners_only(user: WebUser = Depends(require_roles("owner"))) -> PlainTextResponse:  # noqa: B008
        return PlainTextResponse(f"{user.organisation_id}:{user.organisation}")

    web_app.app.include_router(router)  # type: ignore[attr-defined]


def test_roles_are_checked(
    web_app: TestClient, engine: Engine, make_user: MakeUser, login: Login
) -> None:
    _probe(web_app)
    make_user(engine, organisation="Acme", email="own@example.com", role="owner")
    make_user(engine, organisation="Acme", email="sup@example.com", role="supplier")
    login(web_app, "sup@example.com")
    refused = web_app.get("/probe/owners")
    assert refused.status_code == 403
    assert "Your role in this organisation does not allow this page." in refused.text
    web_app.post("/logout", data={"csrf_token": page_token(web_app)})
    login(web_app, "own@example.com")
    assert web_app.get("/probe/owners").text.endswith(":Acme")
    with pytest.raises(ValueError, match="unknown"):
        require_roles("admin")


def test_a_session_belongs_to_one_organisation(
    web_app: TestClient, engine: Engine, make_user: MakeUser, login: Login
) -> None:
    """People of another organisation see their own organisation only, and a session whose
    person lost their role in its organisation ends."""
    _probe(web_app)
    ours = make_user(engine, organisation="Acme", email="own@example.com", role="owner")
    theirs = make_user(engine, organisation="Rival", email="riv@example.com", role="owner")
    login(web_app, "riv@example.com")
    assert web_app.get("/probe/owners").text == f"{theirs.organisation_id}:Rival"
    page = web_app.get("/account").text
    assert "Rival" in page
    assert "Acme" not in page
    assert str(ours.organisation_id) != str(theirs.organisation_id)
    with session_scope(engine) as session:
        session.execute(WebMembership.__table__.delete())
    assert web_app.get("/probe/owners").status_code == 303
    assert sessions(engine) == 0


def test_the_database_copy_of_a_session_is_not_a_cookie(
    web_app: TestClient, engine: Engine, make_user: MakeUser, login: Login
) -> None:
    make_user(engine, organisation="Acme", email="own@example.com", role="owner")
    login(web_app, "own@example.com")
    with session_scope(engine) as session:
        stored = session.scalars(select(WebSession.id)).one()
    web_app.cookies.clear()
    web_app.cookies.set(SESSION_COOKIE, stored)
    assert web_app.get("/account").status_code == 303


# --------------------------------------------------------------------------------------------
# passwords


def test_passwords_are_argon2id_and_never_shown_or_logged(
    web_app: TestClient,
    engine: Engine,
    make_user: MakeUser,
    login: Login,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    make_user(engine, organisation="Acme", email="own@example.com", role="owner")
    with session_scope(engine) as session:
        stored = session.scalars(select(WebAccount.password_hash)).one()
    assert stored.startswith("$argon2id$v=19$")
    pages = [
        login(web_app, "own@example.com", "wrong password!"),
        login(web_app, "own@example.com"),
    ]
    pages += [web_app.get("/account"), web_app.get("/nowhere")]
    for page in pages:
        assert stored not in page.text
        assert STRONG_PASSWORD not in page.text
        assert "argon2" not in page.text
    assert stored not in caplog.text
    assert STRONG_PASSWORD not in caplog.text


def test_short_passwords_are_refused(engine: Engine, cheap_password_hashing: None) -> None:
    with session_scope(engine) as session, pytest.raises(InputError, match="at least 12"):
        repo.create_web_user(session, email="a@example.com", name="A", password="short pass")


# --------------------------------------------------------------------------------------------
# pages, languages, headers


def test_the_language_switch_and_error_pages_in_chinese(
    web_app: TestClient, engine: Engine, make_user: MakeUser, login: Login
) -> None:
    make_user(engine, organisation="Acme", email="own@example.com", role="owner")
    login(web_app, "own@example.com")
    answer = web_app.post(
        "/lang", data={"lang": "zh", "next": "/account", "csrf_token": page_token(web_app)}
    )
    assert answer.headers["location"] == "/account"
    page = web_app.get("/account")
    assert '<html lang="zh-CN">' in page.text
    assert "我的账户" in page.text
    missing = web_app.get("/no/such/page")
    assert missing.status_code == 404
    assert "未找到" in missing.text
    with session_scope(engine) as session:
        assert session.scalars(select(WebAccount.lang)).one() == "zh"


def test_the_login_page_switches_language_before_signing_in(web_app: TestClient) -> None:
    page = web_app.get("/login?next=/account")
    answer = web_app.post(
        "/lang",
        data={"lang": "zh", "next": "/login?next=/account", "csrf_token": csrf_token(page.text)},
    )
    assert answer.headers["location"] == "/login?next=/account"
    assert "登录" in web_app.get("/login").text
    assert "登录" in web_app.get("/login", headers={"accept-language": "en"}).text
    fresh = TestClient(web_app.app, base_url="http://testserver")
    assert "电子邮箱" in fresh.get("/login", headers={"accept-language": "zh-CN,zh"}).text


def test_security_headers(web_app: TestClient) -> None:
    for path in ("/login", "/no/such/page", "/static/app.css", "/static/vendor/htmx.min.js"):
        answer = web_app.get(path)
        csp = answer.headers["content-security-policy"]
        assert "script-src 'self';" in csp
        assert "unsafe-inline" not in csp
        assert "unsafe-eval" not in csp
        assert "frame-ancestors 'none'" in csp
        assert answer.headers["x-frame-options"] == "DENY"
        assert answer.headers["x-content-type-options"] == "nosniff"
        assert "strict-transport-security" not in answer.headers  # plain HTTP here
    assert web_app.get("/login").headers["cache-control"] == "no-store"
    assert web_app.get("/static/app.css").headers["cache-control"].startswith("public")


def test_pages_load_no_inline_script_and_nothing_from_elsewhere(web_app: TestClient) -> None:
    page = web_app.get("/login").text
    assert "<script>" not in page
    assert "http://" not in page
    assert "https://" not in page
    for path in ("/static/vendor/htmx.min.js", "/static/vendor/echarts.min.js", "/static/app.css"):
        assert f'"{path}"' in page
        assert web_app.get(path).status_code == 200


def test_the_catalogues_have_the_same_keys_in_both_languages() -> None:
    from openpcf.web.render import catalogues

    both = catalogues()
    assert set(both["en"]) == set(both["zh"])
    assert both["en"]["login.title"] == "Sign in"
    assert both["zh"]["no.such.key"] == "no.such.key"


def test_a_key_defined_twice_is_an_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from openpcf.web import render

    (tmp_path / "en.yaml").write_text("a.b: one\n", encoding="utf-8")
    (tmp_path / "extra.en.yaml").write_text("a.b: two\n", encoding="utf-8")
    monkeypatch.setattr(render, "MESSAGES", tmp_path)
    render.catalogues.cache_clear()
    try:
        with pytest.raises(render.CatalogueError, match=r"'a\.b' is defined in another en"):
            render.catalogues()
    finally:
        monkeypatch.undo()
        render.catalogues.cache_clear()
