"""Signing in and out, the start page, the account page and the language switch.

=========================  ===============================================================
``GET /login``             the sign-in form (``?next=/path`` comes back after signing in)
``POST /login``            check email and password (rate-limited), start a session, 303
``POST /logout``           end the session (its row is deleted), 303 to ``/login``
``GET /``                  303 to the start page of the user's role (:data:`HOME`)
``GET /account``           who is signed in, in which organisation and role
``POST /lang``             show the pages in ``en`` or ``zh`` (stored with the account, or
                           in a cookie before signing in), 303 back to ``next``
=========================  ===============================================================
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from openpcf.db import repositories as repo
from openpcf.db.engine import session_scope
from openpcf.db.web_models import WEB_LANGS
from openpcf.web.auth import (
    LANG_COOKIE,
    SESSION_COOKIE,
    CsrfChecked,
    CurrentUser,
    cookie_options,
    request_lang,
    resolve_session,
    safe_next,
    web_state,
)
from openpcf.web.render import catalogues, render, serves

router = APIRouter()

#: Start page of each role; a role whose pages are not served yet starts at ``/account``.
HOME = {
    "owner": "/products",
    "engineer": "/products",
    "supplier": "/account",
    "verifier": "/account",
}


def _login_page(
    request: Request,
    *,
    next_path: str,
    email: str = "",
    errors: dict[str, str] | None = None,
    form_error: str = "",
    status: int = 200,
) -> Response:
    context = {
        "next": next_path,
        "email": email,
        "errors": errors or {},
        "form_error": form_error,
    }
    return render(request, "login.html.j2", context, status)


@router.get("/login")
def login_form(request: Request, next: str = "/") -> Response:
    if resolve_session(request).user is not None:
        return RedirectResponse(safe_next(next), status_code=303)
    return _login_page(request, next_path=safe_next(next))


@router.post("/login", dependencies=[CsrfChecked])
def login(
    request: Request,
    email: Annotated[str, Form(max_length=320)] = "",
    password: Annotated[str, Form(max_length=1024)] = "",
    next: Annotated[str, Form(max_length=2000)] = "/",
) -> Response:
    state = web_state(request)
    t = catalogues()[request_lang(request)]
    next_path = safe_next(next)
    errors = {}
    if not email.strip():
        errors["email"] = t["login.email_required"]
    if not password:
        errors["password"] = t["login.password_required"]
    if errors:
        return _login_page(request, next_path=next_path, email=email, errors=errors, status=400)
    address = request.client.host if request.client else "unknown"
    wait = state.limiter.hit(address=address, email=email)
    if wait:
        response = _login_page(
            request,
            next_path=next_path,
            email=email,
            form_error=t["login.rate_limited"].format(seconds=wait),
            status=429,
        )
        response.headers["Retry-After"] = str(wait)
        return response
    now = state.clock()
    with session_scope(state.engine) as session:
        found = repo.authenticate_web_user(session, email=email, password=password)
        token = None
        if found is not None:
            token, _row = repo.create_web_session(session, login=found, now=now)
    if token is None:
        return _login_page(
            request, next_path=next_path, email=email, form_error=t["login.failed"], status=401
        )
    response = RedirectResponse(next_path, status_code=303)
    response.set_cookie(SESSION_COOKIE, token, **cookie_options(request))
    return response


@router.post("/logout", dependencies=[CsrfChecked])
def logout(request: Request) -> Response:
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        with session_scope(web_state(request).engine) as session:
            repo.delete_web_session(session, token=token)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, **cookie_options(request))
    return response


@router.get("/")
def start(request: Request, user: CurrentUser) -> Response:
    target = HOME[user.role]
    return RedirectResponse(target if serves(request, target) else "/account", status_code=303)


@router.get("/account")
def account(request: Request, user: CurrentUser) -> Response:
    return render(request, "account.html.j2", {})


@router.post("/lang", dependencies=[CsrfChecked])
async def switch_language(
    request: Request,
    lang: Annotated[str, Form(max_length=8)] = "en",
    next: Annotated[str, Form(max_length=2000)] = "/",
) -> Response:
    chosen = lang if lang in WEB_LANGS else "en"
    response = RedirectResponse(safe_next(next), status_code=303)
    user = (await run_in_threadpool(resolve_session, request)).user
    if user is None:
        response.set_cookie(LANG_COOKIE, chosen, **cookie_options(request))
        return response

    def store() -> None:
        with session_scope(web_state(request).engine) as session:
            repo.set_web_user_lang(session, user_id=user.user_id, lang=chosen)

    await run_in_threadpool(store)
    response.set_cookie(LANG_COOKIE, chosen, **cookie_options(request))
    return response
