"""Dependencies of the routers: the host's state, the verified bearer token, the raw body."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

from fastapi import Depends, Request

from openpcf.api.ratelimit import RateLimiter
from openpcf.db.base import utcnow
from openpcf.exchange.errors import InvalidTokenError, PayloadTooLargeError
from openpcf.services.pact.auth import TokenClaims, TokenSigner

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from openpcf.certify import KeyStore
    from openpcf.services.pact.outbox import OutboxSender
    from openpcf.services.pact.peers import PeerDirectory


@dataclass
class HostState:
    """What every request needs; built once by :func:`openpcf.api.app.create_app`."""

    engine: Engine
    signer: TokenSigner
    peers: PeerDirectory
    max_body: int
    keys: KeyStore
    public_url: str | None = None
    sender: OutboxSender | None = None
    limiter: RateLimiter = field(default_factory=RateLimiter)
    #: the host's own rule sets (``$OPENPCF_HOME/rules``), served next to the bundled ones
    rules_dir: Path | None = None
    #: the host's data folder (``$OPENPCF_HOME``: imported databases, factor sets) for routes
    #: that calculate an organisation's own model
    home: Path | None = None


# Design note: the dependencies below are ``async def`` although they never wait. FastAPI runs
# a plain ``def`` dependency in the thread pool, one thread hop each; they only read the app
# state and check an HMAC (about 30 µs), which is cheaper on the event loop than the hop. The
# routes that query the database stay plain ``def`` and keep their one hop.


async def host_state(request: Request) -> HostState:
    state: HostState = request.app.state.host
    return state


State = Annotated[HostState, Depends(host_state)]


def verified_claims(request: Request, state: HostState) -> TokenClaims:
    """The claims of the request's ``Authorization: Bearer`` token (verified, unexpired)."""
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise InvalidTokenError("send an access token: Authorization: Bearer <token>")
    return state.signer.verify(token.strip(), now=utcnow())


async def bearer_claims(request: Request, state: State) -> TokenClaims:
    """:func:`verified_claims` as a dependency."""
    return verified_claims(request, state)


Claims = Annotated[TokenClaims, Depends(bearer_claims)]


async def event_claims(request: Request, state: State) -> TokenClaims:
    """:func:`verified_claims` for the events routes, within the client's rate limit.

    (The limit per address is :class:`~openpcf.api.ratelimit.RateLimitGate`'s, counted
    before the request reaches the app.)
    """
    claims = verified_claims(request, state)
    state.limiter.hit(
        "events_per_client", claims.client_id, what=f"events of client {claims.client_id}"
    )
    return claims


EventClaims = Annotated[TokenClaims, Depends(event_claims)]


async def raw_body(request: Request, state: State) -> bytes:
    """The request body, refused past ``max_body`` bytes (declared or actually sent)."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > state.max_body:
        raise PayloadTooLargeError(f"the body is larger than {state.max_body} bytes")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > state.max_body:
            raise PayloadTooLargeError(f"the body is larger than {state.max_body} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


Body = Annotated[bytes, Depends(raw_body)]
