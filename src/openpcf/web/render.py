"""Render a page: the Jinja2 environment, the message catalogues and the common context.

Every template extends ``base.html.j2`` and gets, besides the route's own ``context``:

==============  ===========================================================================
``request``     the request
``user``        the signed-in :class:`~openpcf.web.auth.WebUser`, or None
``t``           the message catalogue of the page's language (flat keys: ``t["login.title"]``;
                a missing key shows as the key itself, so a forgotten message is visible)
``lang``        ``"en"`` or ``"zh"``
``csrf_token``  the token to put in forms (``<input type="hidden" name="csrf_token" …>``)
``static``      ``static("app.css")`` → the URL of a file under ``web/static/``
``nav``         the navigation links of the user's role: ``(href, message key)`` pairs
``path``        the request's path (the navigation marks the current page)
==============  ===========================================================================

Catalogues: ``messages/en.yaml`` and ``zh.yaml`` plus every ``messages/*.en.yaml`` and
``*.zh.yaml`` (one file per group of pages), merged; a key defined twice for one language is
an error (:class:`CatalogueError`).
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import yaml
from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader
from starlette.routing import Match

from openpcf.db.web_models import WEB_LANGS
from openpcf.errors import OpenPCFError
from openpcf.web.auth import (
    CSRF_COOKIE,
    anonymous_csrf_token,
    cookie_options,
    request_lang,
    resolve_session,
)

HERE = Path(__file__).parent
TEMPLATES = HERE / "templates"
MESSAGES = HERE / "messages"
STATIC = HERE / "static"

#: Navigation per role: (path, message key); a link shows only when its page is served.
NAV: dict[str, tuple[tuple[str, str], ...]] = {
    "owner": (
        ("/products", "nav.products"),
        ("/models/new", "nav.models"),
        ("/requests", "nav.requests"),
        ("/pact-requests", "nav.pact_requests"),
        ("/rule-check", "nav.rules"),
        ("/factors", "nav.factors"),
        ("/databases", "nav.databases"),
        ("/verify", "nav.verify"),
        ("/people", "nav.people"),
        ("/verifier-grants", "nav.verifier_grants"),
    ),
    "engineer": (
        ("/products", "nav.products"),
        ("/models/new", "nav.models"),
        ("/requests", "nav.requests"),
        ("/pact-requests", "nav.pact_requests"),
        ("/rule-check", "nav.rules"),
        ("/factors", "nav.factors"),
        ("/databases", "nav.databases"),
        ("/verify", "nav.verify"),
    ),
    "supplier": (("/inbox", "nav.inbox"),),
    "verifier": (
        ("/verifier", "nav.verifier"),
        ("/packages", "nav.packages"),
        ("/verify", "nav.verify"),
    ),
}
ACCOUNT_NAV = ("/account", "nav.account")
#: Shown to a person with roles in several organisations (``pages_people``).
ORGANISATION_NAV = ("/organisation", "nav.organisation")


class CatalogueError(OpenPCFError, ValueError):
    """A message catalogue is malformed or defines a key twice."""


class Catalogue(dict[str, str]):
    """Messages of one language; a missing key reads as the key (visible, never a crash)."""

    def __missing__(self, key: str) -> str:
        return key


@functools.cache
def catalogues() -> dict[str, Catalogue]:
    """The merged catalogue of each language (read once per process)."""
    merged: dict[str, Catalogue] = {}
    for lang in WEB_LANGS:
        catalogue = Catalogue()
        for path in [MESSAGES / f"{lang}.yaml", *sorted(MESSAGES.glob(f"*.{lang}.yaml"))]:
            if not path.is_file():
                continue
            data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
            if not isinstance(data, dict):
                raise CatalogueError(f"{path}: a mapping of message keys to texts expected")
            for key, text in data.items():
                if not isinstance(key, str) or not isinstance(text, str):
                    raise CatalogueError(f"{path}: {key!r}: keys and texts must be strings")
                if key in catalogue:
                    raise CatalogueError(
                        f"{path}: message key {key!r} is defined in another {lang} catalogue "
                        "too; keep each key in one file"
                    )
                catalogue[key] = text
        merged[lang] = catalogue
    return merged


@functools.cache
def environment() -> Environment:
    """The Jinja2 environment over ``web/templates`` (autoescaped)."""
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,
    )
    return env


def serves(request: Request, path: str) -> bool:
    """Whether this app answers ``GET path`` (links to pages not built yet are left out)."""
    scope = {**request.scope, "path": path, "method": "GET", "query_string": b""}
    return any(route.matches(scope)[0] is Match.FULL for route in request.app.routes)


def render(
    request: Request, template_name: str, context: dict[str, Any], status_code: int = 200
) -> HTMLResponse:
    """The page ``template_name`` with the common context (blocking: call from a thread)."""
    resolved = resolve_session(request)
    lang = request_lang(request)
    new_cookie = False
    if resolved.csrf_token is not None:
        csrf_token = resolved.csrf_token
    else:
        csrf_token, new_cookie = anonymous_csrf_token(request)
    user = resolved.user
    root = str(request.scope.get("root_path", ""))
    nav: list[tuple[str, str]] = []
    if user is not None and resolved.chosen:
        nav = [item for item in NAV.get(user.role, ()) if serves(request, item[0])]
        nav.append(ACCOUNT_NAV)
    if user is not None and user.organisations > 1:
        nav.append(ORGANISATION_NAV)
    values: dict[str, Any] = {
        "request": request,
        "user": user,
        "t": catalogues()[lang],
        "lang": lang,
        "csrf_token": csrf_token,
        "static": lambda path: f"{root}/static/{path}",
        "nav": nav,
        "path": request.url.path,
    }
    values.update(context)
    html = environment().get_template(template_name).render(values)
    response = HTMLResponse(html, status_code=status_code)
    if new_cookie:
        response.set_cookie(CSRF_COOKIE, csrf_token, **cookie_options(request))
    return response
