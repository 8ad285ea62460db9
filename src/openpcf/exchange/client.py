"""A client of PACT hosts: authenticate, list (following pagination), get, send events.

Used by ``openpcf pact pull`` / ``pact request`` and by the host's outbox, which delivers
Fulfilled/Rejected events to requesters. Authentication follows PACT v2.1+/v3: the token
endpoint is the ``token_endpoint`` of ``<auth base>/.well-known/openid-configuration`` when that
document exists, else ``<auth base>/auth/token``; the client credentials go in HTTP Basic auth
with ``grant_type=client_credentials``. The bearer token is reused until shortly before it
expires and fetched again once when a call answers 401.

Pagination links are followed only while they point at the same scheme, host and port as the
base URL, so the bearer token is never sent to another server.

What a host can make this client hold is bounded (issue 11, item 6): each response body is
read up to :data:`MAX_RESPONSE_BYTES` and refused beyond (a page of 1,000 footprints is about
5 MB), JSON is parsed with bounded depth (:mod:`openpcf.files.jsonfile`), and a listing stops
with an error after :data:`MAX_PAGES` pages, :data:`MAX_FOOTPRINTS` footprints or a
pagination link seen before (a host linking a page to itself would have been followed
10,000 times).
"""

from __future__ import annotations

import ssl
import time
from collections.abc import Iterator, Mapping
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpx

from openpcf.exchange.errors import PactRemoteError
from openpcf.files import jsonfile

CLOUDEVENTS_JSON = "application/cloudevents+json; charset=UTF-8"
#: Refetch a token this long before it expires.
_EARLY = 30.0
#: Largest response body read from a host (one page, one footprint, a token).
MAX_RESPONSE_BYTES = 16 * 1024 * 1024
#: Most pages and footprints one listing follows.
MAX_PAGES = 1000
MAX_FOOTPRINTS = 100_000
#: Headers that describe the body as it came over the wire, not as it was read.
_WIRE_HEADERS = frozenset({"content-encoding", "content-length", "transfer-encoding"})


def next_link(page: httpx.Response | str | None) -> str | None:
    """The target of ``rel="next"`` in the RFC 8288 ``Link`` header of ``page``, if any.

    ``page`` is a response or the header's value. The header is parsed by httpx
    (:attr:`httpx.Response.links`); ``rel`` may hold several relation types (``"prev next"``).
    A relative target is resolved against the URL of the response that sent it (RFC 8288
    §3.2), so the caller's same-origin check sees where the link really points.
    """
    if not isinstance(page, httpx.Response):
        page = httpx.Response(200, headers={"link": page} if page else None)
    for link in page.links.values():
        if "next" in link.get("rel", "").split():
            return urljoin(_url(page), link["url"])
    return None


def _url(page: httpx.Response) -> str:
    """The URL ``page`` answered, or ``""`` for a response made without a request."""
    try:
        return str(page.url)
    except RuntimeError:
        return ""


class PactClient:
    """One PACT host, seen with one set of client credentials."""

    def __init__(
        self,
        base_url: str,
        *,
        client_id: str,
        client_secret: str,
        auth_base_url: str | None = None,
        verify: bool | str | ssl.SSLContext = True,
        timeout: float = 30.0,
        http: httpx.Client | None = None,
        max_response_bytes: int = MAX_RESPONSE_BYTES,
    ) -> None:
        self.max_response_bytes = max_response_bytes
        self.base_url = base_url.rstrip("/")
        self.auth_base_url = (auth_base_url or base_url).rstrip("/")
        self._credentials = (client_id, client_secret)
        if isinstance(verify, str):  # a CA bundle or a self-signed host's certificate
            verify = ssl.create_default_context(cafile=verify)
        self._http = http or httpx.Client(verify=verify, timeout=timeout)
        self._own_http = http is None
        self._token: str | None = None
        self._expires = 0.0
        self._token_url: str | None = None

    def close(self) -> None:
        if self._own_http:
            self._http.close()

    def __enter__(self) -> PactClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # authentication ---------------------------------------------------------------------

    def token_url(self) -> str:
        """The token endpoint: discovered, but only on the auth base's own scheme and host.

        The client secret goes to this URL, so a discovery document that names another host,
        or plain ``http://`` for an ``https://`` peer, is refused (:class:`PactRemoteError`)
        instead of followed. Redirects are never followed (httpx's default).
        """
        if self._token_url is None:
            url = f"{self.auth_base_url}/auth/token"
            discovery = f"{self.auth_base_url}/.well-known/openid-configuration"
            try:
                found = self._request("GET", discovery)
                if found.status_code == 200:
                    url = str(jsonfile.loads(found.content).get("token_endpoint") or url)
            except (httpx.HTTPError, PactRemoteError, ValueError, AttributeError):
                pass
            if not _same_origin(url, self.auth_base_url):
                raise PactRemoteError(
                    f"{discovery} names the token endpoint {url!r}, not on "
                    f"{self.auth_base_url}: the client secret is not sent there"
                )
            self._token_url = url
        return self._token_url

    def token(self, *, refresh: bool = False) -> str:
        if self._token and not refresh and time.monotonic() < self._expires - _EARLY:
            return self._token
        url = self.token_url()
        try:
            answer = self._request(
                "POST",
                url,
                auth=self._credentials,
                data={"grant_type": "client_credentials"},
                headers={"accept": "application/json"},
            )
        except httpx.HTTPError as e:
            raise PactRemoteError(f"cannot reach the token endpoint {url}: {e}") from None
        if answer.status_code != 200:
            raise PactRemoteError(
                f"{url} refused the client credentials ({answer.status_code}): {answer.text[:300]}"
            )
        try:
            body = jsonfile.loads(answer.content)
            token = str(body["access_token"])
        except (ValueError, KeyError, TypeError):
            raise PactRemoteError(f"{url} answered without an access_token") from None
        self._token = token
        self._expires = time.monotonic() + float(body.get("expires_in") or 3600)
        return token

    def _request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        """One request whose body is read up to :attr:`max_response_bytes`, refused beyond.

        The body is streamed, so a host cannot make this client read (or hold) more than the
        limit; the response returned carries the body as read (decoded).
        """
        limit = self.max_response_bytes
        with self._http.stream(method, url, **kwargs) as answer:
            declared = answer.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > limit:
                raise PactRemoteError(_too_large(method, url, limit))
            chunks, size = [], 0
            for chunk in answer.iter_bytes():
                size += len(chunk)
                if size > limit:
                    raise PactRemoteError(_too_large(method, url, limit))
                chunks.append(chunk)
        headers = [(k, v) for k, v in answer.headers.items() if k.lower() not in _WIRE_HEADERS]
        # the class of the answer, so a client built on another httpx-like library keeps it
        return type(answer)(
            answer.status_code, headers=headers, content=b"".join(chunks), request=answer.request
        )

    def _send(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        """A request with the bearer token; on 401 the token is fetched again once."""
        for attempt in (0, 1):
            headers = {**kwargs.pop("headers", {}), "authorization": f"Bearer {self.token()}"}
            try:
                answer = self._request(method, url, headers=headers, **kwargs)
            except httpx.HTTPError as e:
                raise PactRemoteError(f"{method} {url} failed: {e}") from None
            if answer.status_code != 401 or attempt:
                return answer
            kwargs["headers"] = {k: v for k, v in headers.items() if k != "authorization"}
            self.token(refresh=True)
        raise AssertionError("unreachable")  # pragma: no cover

    # actions ----------------------------------------------------------------------------

    def list_footprints(
        self,
        *,
        version: str = "3",
        params: Mapping[str, str | list[str]] | None = None,
        limit: int | None = None,
        max_pages: int = MAX_PAGES,
        max_footprints: int = MAX_FOOTPRINTS,
    ) -> Iterator[dict[str, Any]]:
        """Every footprint the host lists (ListFootprints), following ``Link: rel="next"``.

        Raises :class:`PactRemoteError` past ``max_pages`` pages or ``max_footprints``
        footprints, and for a link to a page already fetched (a loop).
        """
        query: dict[str, Any] = dict(params or {})
        if limit is not None:
            query["limit"] = str(limit)
        url: str | None = f"{self.base_url}/{version}/footprints"
        first, seen, count = True, set(), 0
        for _ in range(max_pages):
            if url is None:
                return
            answer = self._send("GET", url, params=query if first else None)
            first = False
            body = _json(answer, url)
            if answer.status_code not in (200, 202) or not isinstance(body.get("data"), list):
                raise PactRemoteError(_failure(answer, url))
            count += len(body["data"])
            if count > max_footprints:
                raise PactRemoteError(
                    f"{self.base_url}: more than {max_footprints:,} footprints listed; stopped "
                    "(narrow the request with filters)"
                )
            yield from body["data"]
            seen.add(str(answer.request.url))
            url = next_link(answer)
            if url is not None and not self._same_origin(url):
                raise PactRemoteError(
                    f"{self.base_url} sent a pagination link to another server ({url}); "
                    "not following it with this host's token"
                )
            if url is not None and url in seen:
                raise PactRemoteError(
                    f"{self.base_url} links back to a page already fetched ({url}); stopped"
                )
        raise PactRemoteError(f"{self.base_url}: more than {max_pages} pages; stopped")

    def get_footprint(self, pf_id: str, *, version: str = "3") -> dict[str, Any]:
        url = f"{self.base_url}/{version}/footprints/{pf_id}"
        answer = self._send("GET", url)
        body = _json(answer, url)
        if answer.status_code != 200 or not isinstance(body.get("data"), dict):
            raise PactRemoteError(_failure(answer, url))
        return dict(body["data"])

    def send_event(
        self, event: Mapping[str, Any], *, url: str | None = None, version: str = "3"
    ) -> httpx.Response:
        """POST a CloudEvent (structured mode) to ``url`` (default ``<base>/<version>/events``).

        Raises :class:`PactRemoteError` unless the host answers 2xx; the error's ``status``
        attribute holds the HTTP status (``None`` when the host was not reached).
        """
        target = url or f"{self.base_url}/{version}/events"
        answer = self._send(
            "POST", target, json=dict(event), headers={"content-type": CLOUDEVENTS_JSON}
        )
        if not 200 <= answer.status_code < 300:
            error = PactRemoteError(_failure(answer, target))
            error.status = answer.status_code  # type: ignore[attr-defined]
            raise error
        return answer

    def _same_origin(self, url: str) -> bool:
        return _same_origin(url, self.base_url)


def _same_origin(url: str, base: str) -> bool:
    """Same scheme, host and port (the bearer token and the secret never leave the peer)."""
    a, b = urlsplit(url), urlsplit(base)
    return (a.scheme, a.hostname, a.port) == (b.scheme, b.hostname, b.port)


def _json(answer: httpx.Response, url: str) -> dict[str, Any]:
    try:
        body = jsonfile.loads(answer.content)  # bounded depth: a host cannot crash the parser
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _too_large(method: str, url: str, limit: int) -> str:
    return (
        f"{method} {url}: the answer is larger than {limit // (1024 * 1024)} MiB; stopped "
        "reading (ask for smaller pages with --limit)"
    )


def _failure(answer: httpx.Response, url: str) -> str:
    return f"{answer.request.method} {url} answered {answer.status_code}: {answer.text[:300]}"
