"""Response headers every answer of the host carries, and the public base URL of links.

Headers (OWASP Secure Headers for JSON APIs):

==============================  ===========================================================
``Strict-Transport-Security``   ``max-age=31536000``: the host is HTTPS only (PACT)
``X-Content-Type-Options``      ``nosniff``: JSON is never sniffed into HTML
``Content-Security-Policy``     ``default-src 'none'; frame-ancestors 'none'``: no page here
``Referrer-Policy``             ``no-referrer``
``Cache-Control``               ``no-store`` on footprint data, tokens and events (``/2/``,
                                ``/3/``, ``/auth/``): a shared cache must never keep them;
                                the issuer's public keys and status list may be cached
==============================  ===========================================================

Links the host writes (``Link: <…>; rel="next"``, the OpenID discovery document, an event's
``source``) are built from :attr:`HostConfig.public_url
<openpcf.api.app.HostConfig.public_url>` when it is set (``openpcf serve`` always sets it),
never from the request's ``Host`` header, which a client chooses.
"""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

HEADERS = {
    "strict-transport-security": "max-age=31536000",
    "x-content-type-options": "nosniff",
    "content-security-policy": "default-src 'none'; frame-ancestors 'none'",
    "referrer-policy": "no-referrer",
}
#: Paths whose answers must not be stored by any cache.
PRIVATE_PREFIXES = ("/2/", "/3/", "/auth/")


class SecurityHeaders:
    """ASGI middleware adding :data:`HEADERS` (and ``no-store`` on private paths)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        private = str(scope.get("path", "")).startswith(PRIVATE_PREFIXES)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in HEADERS.items():
                    headers.setdefault(name, value)
                if private:
                    headers["cache-control"] = "no-store"
            await send(message)

        await self.app(scope, receive, send_with_headers)


def public_base(request: Request) -> str:
    """The host's public base URL (no trailing slash): the configured one, else the
    request's own (tests and embedded use only; ``openpcf serve`` always configures it)."""
    configured: str | None = request.app.state.host.public_url
    return (configured or str(request.base_url)).rstrip("/")
