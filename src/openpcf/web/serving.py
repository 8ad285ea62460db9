"""One ASGI app for ``openpcf serve``: the PACT host and the web pages side by side.

Both apps keep their own paths (no prefix: the pages link to ``/products``, the PACT API
answers at ``/3/footprints``), their own middleware and their own error handlers (PACT JSON
errors on the host, HTML pages in the user's language on the web). :class:`HostAndPages`
sends each request to exactly one of them by the **first segment** of its path:

* every route of either app starts with a literal segment (``/3/...``, ``/rules/...``,
  ``/.well-known/...``; ``/products``, ``/static/...``, and ``/`` for the start page);
* no segment belongs to both. Building the app checks it and refuses with
  :class:`RouteClashError`, naming the routes, so a new page cannot shadow a PACT route (or
  the other way round) unnoticed; the web's rule check lives at ``/rule-check`` for that
  reason, beside the host's ``/rules`` API;
* a path whose segment neither app knows gets the host's JSON 404 (a PACT client asking for
  something this host does not serve), unless it looks like a page: a GET or HEAD whose
  ``Accept`` names ``text/html`` gets the web's 404 page.

Lifespans: both apps' lifespans run, the host's first (it starts the outbox sender); they
stop in reverse order.

Design note: dispatching on a dictionary of first segments costs one lookup per request
(1.1 µs measured with ``timeit`` on the 2-core development machine; 6 µs for an unknown path,
which reads the headers) and makes the ownership of a path obvious. Matching each request
against both route tables would also work, but lets two apps claim neighbouring paths
(``/rules`` and ``/rules/check``) that a later route can make overlap. The route tables are
read once, when the app is built: a route added to either app afterwards is not dispatched.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import AsyncExitStack

from fastapi import FastAPI
from fastapi.routing import iter_route_contexts
from starlette.types import Receive, Scope, Send

from openpcf.errors import OpenPCFError


class RouteClashError(OpenPCFError, ValueError):
    """Two apps claim the same first path segment, or a route's first segment is a variable."""


def route_paths(app: FastAPI) -> list[str]:
    """Every route path (``/3/footprints/{pf_id}``) and mount (``/static``) of ``app``."""
    paths = []
    for context in iter_route_contexts(app.routes):
        path = getattr(context.route, "path", None)
        if isinstance(path, str):
            paths.append(path)
    return paths


def first_segment(path: str) -> str:
    """The first segment of ``path``: ``"3"`` for ``/3/footprints``, ``""`` for ``/``.

    >>> first_segment("/3/footprints"), first_segment("/"), first_segment("/static")
    ('3', '', 'static')
    """
    return path.lstrip("/").split("/", 1)[0]


def _segments(name: str, paths: Iterable[str]) -> dict[str, str]:
    owned: dict[str, str] = {}
    for path in paths:
        segment = first_segment(path)
        if "{" in segment:
            raise RouteClashError(
                f"{name} route {path!r} starts with a variable; each route must start with a "
                "literal segment to be served beside the other app"
            )
        owned.setdefault(segment, path)
    return owned


class HostAndPages:
    """ASGI app: each request goes to ``host`` or ``web`` by the first segment of its path."""

    def __init__(self, *, host: FastAPI, web: FastAPI) -> None:
        self.host = host
        self.web = web
        hosts = _segments("PACT host", route_paths(host))
        pages = _segments("web", route_paths(web))
        clashes = sorted(set(hosts) & set(pages))
        if clashes:
            pairs = "; ".join(f"{hosts[s]!r} and the page {pages[s]!r}" for s in clashes)
            raise RouteClashError(
                f"the PACT host and the web pages both claim /{clashes[0]}: {pairs}; give the "
                "page another first path segment"
            )
        self.segments: dict[str, FastAPI] = dict.fromkeys(hosts, host) | dict.fromkeys(pages, web)

    def app_for(self, scope: Scope) -> FastAPI:
        """The app that answers ``scope`` (see the module's rules)."""
        found = self.segments.get(first_segment(str(scope.get("path", "/"))))
        if found is not None:
            return found
        return self.web if _looks_like_a_page(scope) else self.host

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        await self.app_for(scope)(scope, receive, send)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        """Start both apps' lifespans (host first) and stop them in reverse order."""
        await receive()  # lifespan.startup
        started = False
        try:
            async with AsyncExitStack() as stack:
                for app in (self.host, self.web):
                    await stack.enter_async_context(app.router.lifespan_context(app))
                await send({"type": "lifespan.startup.complete"})
                started = True
                await receive()  # lifespan.shutdown
        except BaseException as exc:
            failed = "lifespan.shutdown.failed" if started else "lifespan.startup.failed"
            await send({"type": failed, "message": repr(exc)})
            raise
        await send({"type": "lifespan.shutdown.complete"})


def _looks_like_a_page(scope: Scope) -> bool:
    if scope.get("type") != "http" or scope.get("method") not in ("GET", "HEAD"):
        return False
    accept = b",".join(value for name, value in _headers(scope) if name == b"accept")
    return b"text/html" in accept


def _headers(scope: Scope) -> Iterator[tuple[bytes, bytes]]:
    for name, value in scope.get("headers", ()):
        yield bytes(name).lower(), bytes(value)
