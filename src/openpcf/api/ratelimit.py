"""Rate limits on the host's routes that cost the most per request: tokens and events.

``POST /auth/token`` hashes the client secret with scrypt (about 60 ms of CPU by design) and
``POST /{2,3}/events`` reads up to 2 MiB, writes to the database and may queue an answer. A
client flooding either used to slow every other client down: the security review measured a
legitimate client's p50 latency going from 3 ms to 568 ms. Each route now has two moving-
window limits, counted before the expensive work:

- per client address (``request.client.host``): one host cannot exhaust the server, whatever
  client ids it tries, and
- per client id (the id the request claims on ``/auth/token``, the verified token's on the
  events routes): many hosts cannot guess one client's secret or flood its events.

A request over a limit is answered 429 with a PACT error body and ``Retry-After`` (seconds)
(:func:`openpcf.api.errors.error_response`). The per-address limits are checked by
:class:`RateLimitGate`, an ASGI middleware, before routing, body parsing or token checks, so
a refused request costs the host as little as possible; the per-client limits need the
client's id, so they are counted in the routes (``/auth/token``, before the secret is
hashed) and in :func:`openpcf.api.deps.event_claims` (after the token's signature is
checked). The counting is the maintained ``limits`` library's moving window in memory.

Design note: the counters live in each server process, so ``serve --workers N`` allows up to
N times the limits; behind a reverse proxy every request has the proxy's address, so the
per-address limit then applies to all clients together (raise it, or let the proxy limit).
"""

from __future__ import annotations

import dataclasses
import math
import time
from dataclasses import dataclass

from limits import RateLimitItem, parse
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter
from starlette.types import ASGIApp, Receive, Scope, Send

from openpcf.api.errors import error_response
from openpcf.errors import QuotaExceededError


@dataclass(frozen=True, slots=True, kw_only=True)
class RateLimits:
    """Limits in the ``limits`` notation (``"20/minute"``, ``"5/second"``)."""

    token_per_client: str = "20/minute"
    """``/auth/token`` requests naming one client id: a well-behaved client needs one an hour."""
    token_per_address: str = "30/minute"
    """``/auth/token`` requests from one address: a few clients behind one address fit."""
    events_per_client: str = "120/minute"
    """Events of one client: PACT exchanges a few events per request, not thousands."""
    events_per_address: str = "240/minute"


class RateLimiter:
    """The host's rate limits with their counters (one per process)."""

    def __init__(self, limits: RateLimits | None = None) -> None:
        rules = limits or RateLimits()
        self._items: dict[str, RateLimitItem] = {
            f.name: parse(getattr(rules, f.name)) for f in dataclasses.fields(rules)
        }
        self._limiter = MovingWindowRateLimiter(MemoryStorage())

    def hit(self, rule: str, key: str, *, what: str) -> None:
        """Count one request of ``key`` under ``rule``; :class:`QuotaExceededError` past it.

        ``what`` names the requests in the message ("token requests from 10.0.0.1").
        """
        item = self._items[rule]
        if self._limiter.hit(item, rule, key):
            return
        stats = self._limiter.get_window_stats(item, rule, key)
        wait = max(1, math.ceil(stats.reset_time - time.time()))
        raise QuotaExceededError(
            f"too many {what}: at most {item.amount} per {_window(item)}; retry in {wait} s",
            retry_after=wait,
        )


def _window(item: RateLimitItem) -> str:
    unit = item.GRANULARITY.name
    return unit if item.multiples == 1 else f"{item.multiples} {unit}s"


#: Routes limited per client address: POST path -> (rule, what the requests are).
_BY_ADDRESS = {
    "/auth/token": ("token_per_address", "token requests"),
    "/2/events": ("events_per_address", "event requests"),
    "/3/events": ("events_per_address", "event requests"),
}


class RateLimitGate:
    """ASGI middleware: the per-address limits, before anything else is done for a request."""

    def __init__(self, app: ASGIApp, *, limiter: RateLimiter) -> None:
        self.app = app
        self.limiter = limiter

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        route = _BY_ADDRESS.get(scope.get("path", "")) if scope["type"] == "http" else None
        if route is not None and scope.get("method") == "POST":
            client = scope.get("client")
            address = str(client[0]) if client else "unknown"
            rule, what = route
            try:
                self.limiter.hit(rule, address, what=f"{what} from {address}")
            except QuotaExceededError as e:
                await error_response(e, scope["path"])(scope, receive, send)
                return
        await self.app(scope, receive, send)
