"""Who is asking: sessions, roles, CSRF and the login rate limits of the web pages.

A person signs in with email and password (``POST /login``, :mod:`openpcf.web.pages_account`);
the answer sets the cookie :data:`SESSION_COOKIE` to a random token whose SHA-256 keys the
``web_session`` row (:mod:`openpcf.db.repositories.web`). The cookie is ``HttpOnly``,
``SameSite=Lax``, path ``/`` and ``Secure`` unless the app was built with
``secure_cookies=False`` (plain HTTP on loopback: ``openpcf web`` without TLS, and tests).

Dependencies for routers:

* :func:`current_user` → :class:`WebUser`; without a live session a page request is
  redirected (303) to ``/login?next=<path>``, an htmx or JSON request is answered 401. A
  person with roles in several organisations who has not chosen one yet is sent to
  ``/organisation?next=<path>`` (:class:`OrganisationChoiceRequired`) instead.
* :func:`signed_in` → :class:`WebUser` before that choice (the choice page itself).
* :func:`require_roles` ``("owner", "engineer")`` → the user, or a 403 page.
* :func:`csrf_checked` for every POST: the form field ``csrf_token`` or the header
  ``X-CSRF-Token`` (htmx sends it, see ``base.html.j2``) must equal the session's token; before
  signing in (the login form, the language switch) it must equal the token of the cookie
  :data:`CSRF_COOKIE` (double submit). A missing or wrong token is a 403 page and nothing
  changes. A POST whose session cookie has expired is sent to the login page instead.

Login attempts are limited per client address and per email (:class:`LoginLimiter`, the
``limits`` library's moving window in memory, as :mod:`openpcf.api.ratelimit` does for the
PACT host), before the password is hashed.
"""

from __future__ import annotations

import datetime as dt
import hmac
import math
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import Depends, Request
from limits import RateLimitItem, parse
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException

from openpcf.db import repositories as repo
from openpcf.db.engine import session_scope
from openpcf.db.repositories.web import count_memberships
from openpcf.db.web_models import WEB_LANGS, WEB_ROLES
from openpcf.services.web_calculation import WebCaller

if TYPE_CHECKING:
    from sqlalchemy import Engine

#: Cookie holding the session token (never the token's hash, never the user id).
SESSION_COOKIE = "openpcf_session"
#: Cookie holding the CSRF token of a browser that has not signed in (login, language).
CSRF_COOKIE = "openpcf_csrf"
#: Cookie holding the language chosen before signing in.
LANG_COOKIE = "openpcf_lang"
#: Header htmx sends the CSRF token in.
CSRF_HEADER = "x-csrf-token"
_FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


@dataclass(frozen=True, slots=True, kw_only=True)
class WebUser:
    """The signed-in person, in the organisation their session is bound to."""

    user_id: int
    email: str
    name: str
    organisation_id: int
    organisation: str
    role: str
    lang: str
    organisations: int = 1
    """In how many organisations the person has a role (more than one: they may switch)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class LoginLimits:
    """Login attempts allowed, in the ``limits`` notation (``"10/minute"``)."""

    per_address: str = "30/minute"
    """From one client address: a team behind one NAT fits; a password sprayer does not."""
    per_email: str = "10/minute"
    """For one email, from anywhere: a person mistyping fits; guessing does not."""


class LoginLimiter:
    """Counters of login attempts (one per process, like the PACT host's)."""

    def __init__(self, limits: LoginLimits | None = None) -> None:
        rules = limits or LoginLimits()
        self._address: RateLimitItem = parse(rules.per_address)
        self._email: RateLimitItem = parse(rules.per_email)
        self._limiter = MovingWindowRateLimiter(MemoryStorage())

    def hit(self, *, address: str, email: str) -> int:
        """Count one attempt; 0 when allowed, else the seconds to wait."""
        waits = [
            self._wait(item, kind, key)
            for item, kind, key in (
                (self._address, "address", address),
                (self._email, "email", email.strip().lower()),
            )
        ]
        return max(waits)

    def _wait(self, item: RateLimitItem, kind: str, key: str) -> int:
        if self._limiter.hit(item, "web-login", kind, key):
            return 0
        stats = self._limiter.get_window_stats(item, "web-login", kind, key)
        return max(1, math.ceil(stats.reset_time - time.time()))


@dataclass(slots=True, kw_only=True)
class WebState:
    """What the pages share: the database, the home folder, cookie policy, clock, limits."""

    engine: Engine
    home: Path
    secure_cookies: bool
    clock: Callable[[], dt.datetime]
    limiter: LoginLimiter


def web_state(request: Request) -> WebState:
    state: WebState = request.app.state.web
    return state


def web_caller(request: Request, user: WebUser) -> WebCaller:
    """Who a calculation is made for: ``user`` in their session's organisation, on this
    application's database and home (:mod:`openpcf.services.web_calculation`)."""
    state = web_state(request)
    return WebCaller(
        engine=state.engine, home=state.home, email=user.email, organisation=user.organisation
    )


@dataclass(frozen=True, slots=True)
class _Resolved:
    user: WebUser | None
    csrf_token: str | None
    expired: bool
    """A session cookie came with the request but names no live session."""
    chosen: bool = True
    """The person has chosen the session's organisation (or has only one)."""


class LoginRequired(Exception):  # noqa: N818 - a signal to the handler, not a failure
    """No live session: the handler redirects to the login page (401 for htmx/JSON)."""


class OrganisationChoiceRequired(Exception):  # noqa: N818 - a signal, like LoginRequired
    """A person with several organisations has not chosen one: the handler redirects to
    ``/organisation`` (401 with ``HX-Redirect`` for htmx/JSON)."""


class PageRefused(HTTPException):
    """A refusal shown as an error page: ``reason`` is a message key (``error.csrf``)."""

    def __init__(self, status_code: int, reason: str) -> None:
        super().__init__(status_code=status_code, detail=reason)
        self.reason = reason


def resolve_session(request: Request) -> _Resolved:
    """The request's session (looked up once per request; blocking: call from a thread)."""
    cached = getattr(request.state, "web_session", None)
    if isinstance(cached, _Resolved):
        return cached
    token = request.cookies.get(SESSION_COOKIE)
    resolved = _Resolved(None, None, False)
    if token:
        state = web_state(request)
        with session_scope(state.engine) as session:
            found = repo.get_web_session(session, token=token, now=state.clock())
            if found is None:
                resolved = _Resolved(None, None, True)
            else:
                row, login = found
                user = WebUser(
                    user_id=login.account.id,
                    email=login.account.email,
                    name=login.account.name,
                    organisation_id=login.organisation.id,
                    organisation=login.organisation.name,
                    role=login.membership.role,
                    lang=login.account.lang,
                    organisations=count_memberships(session, user_id=login.account.id),
                )
                resolved = _Resolved(user, row.csrf_token, False, row.organisation_chosen)
    request.state.web_session = resolved
    return resolved


def signed_in(request: Request) -> WebUser:
    """The signed-in person, chosen an organisation or not; :class:`LoginRequired` without
    a live session."""
    user = resolve_session(request).user
    if user is None:
        raise LoginRequired
    return user


def current_user(request: Request) -> WebUser:
    """The signed-in person in the organisation they chose; :class:`LoginRequired` without a
    live session, :class:`OrganisationChoiceRequired` before choosing one of several."""
    user = signed_in(request)
    if not resolve_session(request).chosen:
        raise OrganisationChoiceRequired
    return user


CurrentUser = Annotated[WebUser, Depends(current_user)]


def require_roles(*roles: str) -> Callable[..., WebUser]:
    """A dependency: the signed-in person if their role is one of ``roles``, else a 403 page."""
    unknown = set(roles) - set(WEB_ROLES)
    if unknown or not roles:
        raise ValueError(f"roles {sorted(unknown)} unknown; choose from {WEB_ROLES}")

    def dependency(user: CurrentUser) -> WebUser:
        if user.role not in roles:
            raise PageRefused(403, "error.forbidden")
        return user

    return dependency


def anonymous_csrf_token(request: Request) -> tuple[str, bool]:
    """The CSRF token of a browser without a session: (token, whether it is new)."""
    token = request.cookies.get(CSRF_COOKIE)
    if token and 20 <= len(token) <= 100:
        return token, False
    return secrets.token_urlsafe(32), True


async def csrf_checked(request: Request) -> None:
    """Refuse (403 page) a request whose CSRF token is missing or wrong."""
    resolved = await run_in_threadpool(resolve_session, request)
    if resolved.expired:
        raise LoginRequired
    expected = resolved.csrf_token
    if expected is None:
        cookie = request.cookies.get(CSRF_COOKIE)
        expected = cookie if cookie and len(cookie) >= 20 else None
    sent = request.headers.get(CSRF_HEADER)
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    form = None
    if sent is None and content_type in _FORM_TYPES:
        form = await request.form()
        value = form.get("csrf_token")
        sent = value if isinstance(value, str) else None
    if not expected or not sent or not hmac.compare_digest(expected.encode(), sent.encode()):
        if form is not None:  # refused: the route never runs, so close the uploads here
            await form.close()
        raise PageRefused(403, "error.csrf")


CsrfChecked = Depends(csrf_checked)


def request_lang(request: Request) -> str:
    """The language of the answer: the user's, else the cookie's, else Accept-Language."""
    resolved = getattr(request.state, "web_session", None)
    if isinstance(resolved, _Resolved) and resolved.user is not None:
        return resolved.user.lang
    chosen = request.cookies.get(LANG_COOKIE)
    if chosen in WEB_LANGS:
        return str(chosen)
    accept = request.headers.get("accept-language", "").lower()
    return "zh" if accept.startswith("zh") else "en"


def wants_fragment(request: Request) -> bool:
    """An htmx or JSON request (answered 401, not redirected, without a session)."""
    accept = request.headers.get("accept", "")
    return request.headers.get("hx-request") == "true" or (
        "application/json" in accept and "text/html" not in accept
    )


def safe_next(value: str | None) -> str:
    """``value`` if it is a path on this site (``/products?x=1``), else ``/``."""
    if not value or not value.startswith("/") or value.startswith(("//", "/\\")):
        return "/"
    if any(ord(c) < 32 for c in value) or "\\" in value:
        return "/"
    return value


def cookie_options(request: Request) -> dict[str, Any]:
    """The attributes of every cookie the pages set."""
    return {
        "httponly": True,
        "samesite": "lax",
        "secure": web_state(request).secure_cookies,
        "path": "/",
    }
