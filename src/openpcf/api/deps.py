"""Dependencies of the routers: the host's state, the verified bearer token, the raw body,
and :func:`in_database`, which runs a route's blocking service call off the event loop."""

from __future__ import annotations

import asyncio
import contextvars
import functools
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, ParamSpec, TypeVar

from fastapi import Depends, Request

from openpcf.api.ratelimit import RateLimiter
from openpcf.db.base import utcnow
from openpcf.exchange.errors import InvalidTokenError, PayloadTooLargeError
from openpcf.services.pact.auth import TokenClaims, TokenSigner

if TYPE_CHECKING:
    import datetime as dt

    from sqlalchemy import Engine

    from openpcf.certify import KeyStore
    from openpcf.services.pact.outbox import OutboxSender
    from openpcf.services.pact.peers import PeerDirectory

#: Requests using the database at once when the engine's pool does not say its size.
DB_SLOTS = 5
#: Verified tokens remembered per host process (:class:`VerifiedTokens`).
VERIFIED_TOKENS = 4096


class VerifiedTokens:
    """The claims of tokens whose signature this process has checked, by token text
    (the most recently used :data:`VERIFIED_TOKENS`); expiry is checked on every request.

    Design note: a token's signature, issuer and claims are fixed by its text and the signer's
    key (one per :class:`HostState`, read when the host starts), so a second check of the same
    text gives the same answer, apart from expiry, the one claim that depends on the time. A
    remembered token is therefore refused once ``now`` reaches its ``exp``, exactly as
    :meth:`TokenSigner.verify` refuses it (it is asked again, for the same error), and
    revocation is unchanged: every request still loads the token's client and refuses a
    disabled or deleted one (:mod:`openpcf.services.pact.auth`). Only tokens that verified are
    remembered, so invalid tokens cannot fill the memory. The check is about 30 µs of the
    0.9 ms a GetFootprint costs the host.
    """

    def __init__(self, signer: TokenSigner, *, size: int = VERIFIED_TOKENS) -> None:
        self._signer = signer
        self._size = size
        self._claims: OrderedDict[str, TokenClaims] = OrderedDict()

    def verify(self, token: str, *, now: dt.datetime) -> TokenClaims:
        """:meth:`TokenSigner.verify`, from memory when ``token`` verified before."""
        claims = self._claims.get(token)
        if claims is not None and now < claims.expires:
            self._claims.move_to_end(token)
            return claims
        self._claims.pop(token, None)
        claims = self._signer.verify(token, now=now)
        self._claims[token] = claims
        if len(self._claims) > self._size:
            self._claims.popitem(last=False)
        return claims


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
    #: the tokens verified so far (by :attr:`signer`)
    tokens: VerifiedTokens = field(init=False)
    _slots: tuple[asyncio.AbstractEventLoop, asyncio.Semaphore] | None = field(
        init=False, default=None
    )

    def __post_init__(self) -> None:
        self.tokens = VerifiedTokens(self.signer)

    def db_slots(self) -> asyncio.Semaphore:
        """How many requests may use the database at once (:func:`in_database`): the
        engine's pool size. One semaphore per event loop (a server has one; a test client
        may start several, and an asyncio semaphore belongs to one loop)."""
        loop = asyncio.get_running_loop()
        if self._slots is None or self._slots[0] is not loop:
            size = getattr(self.engine.pool, "size", None)
            self._slots = (loop, asyncio.Semaphore(size() if callable(size) else DB_SLOTS))
        return self._slots[1]


_P = ParamSpec("_P")
_T = TypeVar("_T")

#: The threads :func:`in_database` runs service calls in: one pool per process, threads
#: started on demand; how many calls run at once is each host's :meth:`HostState.db_slots`.
_DATABASE_THREADS = ThreadPoolExecutor(max_workers=32, thread_name_prefix="openpcf-db")


async def in_database(
    state: HostState, call: Callable[_P, _T], /, *args: _P.args, **kwargs: _P.kwargs
) -> _T:
    """``call(*args, **kwargs)``, a blocking service function that uses the database, in a
    worker thread, with at most as many such calls at once as the engine's pool has
    connections.

    Design note: FastAPI runs a plain ``def`` route in anyio's pool of 40 threads, so 32
    concurrent GetFootprint requests took 32 connections from a pool of 5 (+10 overflow): the
    others waited, and every connection beyond the pool's 5 was opened for one request and
    closed after it (742 new PostgreSQL connections for 541 requests, measured). Waiting
    here, on the event loop, costs nothing. The call runs in a plain thread pool
    (``loop.run_in_executor``, with the caller's context variables): anyio's thread hop cost
    56 to 116 µs of CPU a call, this one 17 to 22 µs (uvloop, 1 and 16 callers, 2-core
    development machine). The slot is held until the call has finished, even when the
    request is cancelled, so no more calls than connections run at once.
    """
    context = contextvars.copy_context()
    work = functools.partial(context.run, call, *args, **kwargs)
    async with state.db_slots():
        future = asyncio.get_running_loop().run_in_executor(_DATABASE_THREADS, work)
        try:
            return await asyncio.shield(future)
        except asyncio.CancelledError:
            await asyncio.wait([future])
            raise


# Design note: the dependencies below are ``async def`` although they never wait. FastAPI runs
# a plain ``def`` dependency in the thread pool, one thread hop each; they only read the app
# state and check a token (:class:`VerifiedTokens`), which is cheaper on the event loop than
# the hop. The routes that query the database wait for :func:`in_database`.


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
    return state.tokens.verify(token.strip(), now=utcnow())


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
