"""The PACT host application: ``create_app(engine=..., config=...)``.

Configuration comes from :func:`openpcf.settings.get_settings` (``OPENPCF_HOME`` for the token
secret and the peers file; ``OPENPCF_DATABASE_URL`` for the database, which also holds the
supplier footprints received in answers to our requests) unless the caller passes an engine
and a :class:`HostConfig`.

The lifespan starts the outbox sender (a background thread that delivers Fulfilled/Rejected
answers and retries them with backoff) and stops it on shutdown. Nothing is served over plain
HTTP: ``openpcf serve`` listens with TLS only, and as a second line of defence the app answers
any request that did not arrive over HTTPS with 400 (it never redirects: PACT's conformance
tests count a redirect that ends in data as a failure).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fastapi import FastAPI
from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from openpcf.api import errors
from openpcf.api.deps import HostState
from openpcf.api.ratelimit import RateLimiter, RateLimitGate, RateLimits
from openpcf.api.routes_auth import router as auth_router
from openpcf.api.routes_certify import router as certify_router
from openpcf.api.routes_dossier import router as dossier_router
from openpcf.api.routes_pact import make_router
from openpcf.api.routes_rules import router as rules_router
from openpcf.api.routes_supplier_answers import router as supplier_answers_router
from openpcf.api.routes_supplier_epd import router as supplier_epd_router
from openpcf.api.routes_supplier_requests import router as supplier_requests_router
from openpcf.api.security import SecurityHeaders
from openpcf.certify import KeyStore
from openpcf.files.durable import private_dir
from openpcf.services.pact.auth import TOKEN_TTL, TokenSigner
from openpcf.services.pact.outbox import OutboxSender
from openpcf.services.pact.peers import FilePeers, PeerDirectory, peers_file

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from openpcf.services.pact.outbox import ClientFactory

#: Largest request body accepted (events carry at most a few hundred footprints).
MAX_BODY = 2 * 1024 * 1024


@dataclass(frozen=True)
class HostConfig:
    """Settings of one host instance (defaults from ``OPENPCF_HOME``)."""

    home: Path
    token_ttl: dt.timedelta = TOKEN_TTL
    max_body: int = MAX_BODY
    run_sender: bool = True
    sender_interval: float = 5.0
    require_https: bool = True
    peers: PeerDirectory | None = None
    public_url: str | None = None
    """Public base URL (``https://pcf.example.com``) for links; see :mod:`openpcf.api.security`."""
    rate_limits: RateLimits = field(default_factory=RateLimits)
    """Limits on ``/auth/token`` and the events routes (:mod:`openpcf.api.ratelimit`)."""
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_settings(cls, **overrides: Any) -> HostConfig:
        from openpcf.settings import get_settings

        return cls(home=get_settings().home, **overrides)


class HttpsOnly:
    """ASGI middleware: refuse (never redirect) requests that did not come over HTTPS."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope.get("scheme") != "https":
            response = JSONResponse(
                {"code": "BadRequest", "message": "This PACT host is served over HTTPS only."},
                status_code=400,
            )
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)


def create_app(
    *,
    engine: Engine | None = None,
    config: HostConfig | None = None,
    client_factory: ClientFactory | None = None,
) -> FastAPI:
    """The host app on ``engine`` (default: the configured database)."""
    config = config or HostConfig.from_settings()
    private_dir(config.home)
    if engine is None:
        from openpcf.db.engine import make_engine

        engine = make_engine()
    state = HostState(
        engine=engine,
        signer=TokenSigner.from_home(config.home, ttl=config.token_ttl),
        peers=config.peers or FilePeers(peers_file(config.home)),
        max_body=config.max_body,
        keys=KeyStore(config.home / "keys"),
        public_url=config.public_url,
        limiter=RateLimiter(config.rate_limits),
        rules_dir=config.home / "rules",
        home=config.home,
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if config.run_sender:
            kwargs: dict[str, Callable[..., Any]] = (
                {"client_factory": client_factory} if client_factory else {}
            )
            state.sender = OutboxSender(
                engine, peers=state.peers, interval=config.sender_interval, **kwargs
            )
            state.sender.start()
        try:
            yield
        finally:
            if state.sender is not None:
                state.sender.stop()
                state.sender = None

    app = FastAPI(
        title="OpenPCF PACT host",
        summary="PACT Technical Specifications v3.0 and v2.3 (footprint exchange)",
        version="3.0.3",
        lifespan=lifespan,
        # the interactive docs pages load scripts from a CDN: not served (no CDN at run time);
        # the OpenAPI document itself is at /openapi.json
        docs_url=None,
        redoc_url=None,
    )
    app.state.host = state
    errors.install(app)
    app.include_router(auth_router)
    app.include_router(make_router("3"))
    app.include_router(make_router("2"))
    app.include_router(certify_router)
    app.include_router(rules_router)
    app.include_router(supplier_requests_router)
    app.include_router(supplier_answers_router)
    app.include_router(supplier_epd_router)
    app.include_router(dossier_router)
    if config.require_https:
        app.add_middleware(HttpsOnly)
    app.add_middleware(RateLimitGate, limiter=state.limiter)
    app.add_middleware(SecurityHeaders)
    return app
