"""Signing in and out, the start page, the account page and the language switch.

=========================  ===============================================================
``GET /login``             the sign-in form (``?next=/path`` comes back after signing in)
``POST /login``            check email and password (rate-limited), start a session, 303
``POST /logout``           end the session (its row is deleted), 303 to ``/login``
``GET /``                  303 to the start page of the user's role (:data:`HOME`)
``GET /account``           who is signed in, in which organisation and role; the form to
                           change one's password
``POST /account/password`` change the password (current one, new one twice; rate-limited
                           like signing in): every other session of the person ends and
                           this browser gets a new session cookie, 303 to ``/account``
``GET /invite/{token}``    an invitation link (no sign-in): for whom, which organisation
                           and role; a form for a new password (a new email) or for the
                           account's own password (an email with an account)
``POST /invite/{token}``   accept it: the account is created (or its password checked,
                           rate-limited like signing in), the role added, the link used up
                           and the person signed in, 303 to their start page
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
from openpcf.services import web_invitations, web_password
from openpcf.web.auth import (
    LANG_COOKIE,
    SESSION_COOKIE,
    CsrfChecked,
    CurrentUser,
    PageRefused,
    cookie_options,
    request_lang,
    resolve_session,
    safe_next,
    web_state,
)
from openpcf.web.render import catalogues, render, serves
from openpcf.web.uploads import bounded

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
    return _forget_ended_session(request, _login_page(request, next_path=safe_next(next)))


def _forget_ended_session(request: Request, response: Response) -> Response:
    """Delete the cookie of a session that has ended (expired, or ended by a password
    change) from a page whose form posts without a session: its POST would otherwise be
    sent back to the login page (:func:`~openpcf.web.auth.csrf_checked`) again and again."""
    if resolve_session(request).expired:
        response.delete_cookie(SESSION_COOKIE, **cookie_options(request))
    return response


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
    wait = state.limiter.hit(address=_address(request), email=email)
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


#: The largest body of the password form (three fields of at most 1024 characters).
MAX_PASSWORD_FORM = 8 * 1024


def _account_page(
    request: Request,
    *,
    errors: dict[str, list[str]] | None = None,
    form_error: str = "",
    notice: str = "",
    status: int = 200,
) -> Response:
    context = {
        "errors": errors or {},
        "form_error": form_error,
        "notice": notice,
        "min_password": repo.MIN_PASSWORD_LENGTH,
    }
    return render(request, "account.html.j2", context, status)


@router.get("/account")
def account(request: Request, user: CurrentUser, done: str = "") -> Response:
    return _account_page(request, notice="password.done" if done == "password" else "")


@router.post("/account/password", dependencies=[bounded(MAX_PASSWORD_FORM), CsrfChecked])
def change_password(
    request: Request,
    user: CurrentUser,
    current_password: Annotated[str, Form(max_length=1024)] = "",
    new_password: Annotated[str, Form(max_length=1024)] = "",
    new_password_again: Annotated[str, Form(max_length=1024)] = "",
) -> Response:
    state = web_state(request)
    if current_password:  # an empty field costs no attempt: it is a form error below
        wait = state.limiter.hit(address=_address(request), email=user.email)
        if wait:
            t = catalogues()[request_lang(request)]
            response = _account_page(
                request, form_error=t["password.rate_limited"].format(seconds=wait), status=429
            )
            response.headers["Retry-After"] = str(wait)
            return response
    outcome = web_password.change_password(
        state.engine,
        user_id=user.user_id,
        organisation_id=user.organisation_id,
        current=current_password,
        new=new_password,
        again=new_password_again,
        now=state.clock(),
    )
    if outcome.errors:
        return _account_page(request, errors=outcome.errors, status=400)
    response = RedirectResponse("/account?done=password", status_code=303)
    response.set_cookie(SESSION_COOKIE, outcome.session_token, **cookie_options(request))
    return response


def _address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


@router.get("/invite/{token}")
def invitation(request: Request, token: str) -> Response:
    found = web_invitations.look_up(
        web_state(request).engine, token=token, now=web_state(request).clock()
    )
    if found is None:
        raise PageRefused(404, "invite.gone")
    return _forget_ended_session(request, _invitation_page(request, found, token=token))


@router.post("/invite/{token}", dependencies=[bounded(MAX_PASSWORD_FORM), CsrfChecked])
def accept_invitation(
    request: Request,
    token: str,
    name: Annotated[str, Form(max_length=400)] = "",
    password: Annotated[str, Form(max_length=1024)] = "",
    password_again: Annotated[str, Form(max_length=1024)] = "",
) -> Response:
    state = web_state(request)
    found = web_invitations.look_up(state.engine, token=token, now=state.clock())
    if found is None:
        raise PageRefused(404, "invite.gone")
    if found.existing and password:  # the account's password is guessed no faster here
        wait = state.limiter.hit(address=_address(request), email=found.email)
        if wait:
            t = catalogues()[request_lang(request)]
            form_error = t["password.rate_limited"].format(seconds=wait)
            response = _invitation_page(
                request, found, token=token, name=name, form_error=form_error, status=429
            )
            response.headers["Retry-After"] = str(wait)
            return response
    outcome = web_invitations.accept(
        state.engine,
        token=token,
        now=state.clock(),
        name=name,
        password=password,
        again=password_again,
    )
    if outcome.gone:
        raise PageRefused(404, "invite.gone")
    if outcome.errors:
        return _invitation_page(
            request, found, token=token, name=name, errors=outcome.errors, status=400
        )
    response = RedirectResponse("/", status_code=303)
    _start_session(request, response, outcome.session_token)
    return response


def _invitation_page(
    request: Request,
    found: web_invitations.Invitation,
    *,
    token: str,
    name: str = "",
    errors: dict[str, list[str]] | None = None,
    form_error: str = "",
    status: int = 200,
) -> Response:
    context = {
        "invitation": found,
        "token": token,
        "name": name or found.name,
        "errors": errors or {},
        "form_error": form_error,
        "min_password": repo.MIN_PASSWORD_LENGTH,
    }
    return render(request, "invite.html.j2", context, status)


def _start_session(request: Request, response: Response, token: str) -> None:
    """Set the cookie of the new session ``token`` on ``response``, ending the browser's
    previous session (signing in through an invitation while signed in as someone else)."""
    previous = request.cookies.get(SESSION_COOKIE)
    if previous:
        with session_scope(web_state(request).engine) as session:
            repo.delete_web_session(session, token=previous)
    response.set_cookie(SESSION_COOKIE, token, **cookie_options(request))


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
