"""Fetching what an issuer publishes (its JWKS, its status list) over HTTPS, for verifying online.

Only ``https://`` is fetched, redirects included: keys fetched over plain HTTP could have been
swapped by anyone on the path, so they would prove nothing about who signed. The server's TLS
certificate is checked against the system's CAs, or against ``ca_file`` (a PEM bundle) for an
issuer behind a private CA.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from openpcf.certify.errors import CertificateError
from openpcf.files import jsonfile

#: Largest document read from an issuer: a JWKS or a status list is a few kB (issue 11,
#: item 6: a server must not make the verifier read without bound).
MAX_FETCHED = 4 * 1024 * 1024


def is_https(url: str) -> bool:
    """True for an ``https://`` URL with a host."""
    parts = urlsplit(url)
    return parts.scheme == "https" and bool(parts.hostname)


def require_https(url: str, error: type[CertificateError], what: str) -> None:
    """Raise ``error`` unless ``url`` is an ``https://`` URL."""
    if not is_https(url):
        raise error(
            f"{what}: {url!r} is not an https:// URL; keys or lists fetched without TLS prove "
            "nothing (download the file from the issuer and pass it instead)"
        )


def tls_description(ca_file: Path | str | None) -> str:
    """How the server's TLS certificate is checked, in words."""
    return f"the CA file {ca_file}" if ca_file else "the system's certificate authorities"


def fetch(
    url: str, error: type[CertificateError], what: str, *, ca_file: Path | str | None = None
) -> bytes:
    """The body at ``url`` (HTTPS only); raises ``error`` naming ``what`` if it cannot be
    fetched, is not HTTPS (also after a redirect) or is larger than :data:`MAX_FETCHED`."""
    require_https(url, error, what)
    try:
        import httpx
    except ImportError:
        raise error(
            f"online verification needs httpx (pip install httpx); or download {url} and pass "
            "it as a file"
        ) from None
    if ca_file is not None and not Path(ca_file).is_file():
        raise error(f"the CA file {ca_file} does not exist or is not a file")

    def https_only(request: httpx.Request) -> None:
        if request.url.scheme != "https":
            raise error(f"{what} at {url} redirects to {request.url}, which is not https://")

    try:
        verify: Any = True
        if ca_file is not None:
            import ssl

            verify = ssl.create_default_context(cafile=str(ca_file))
        with (
            httpx.Client(
                verify=verify,
                timeout=10.0,
                follow_redirects=True,
                event_hooks={"request": [https_only]},
            ) as client,
            client.stream("GET", url) as response,
        ):
            response.raise_for_status()
            body = b""
            for chunk in response.iter_bytes():
                body += chunk
                if len(body) > MAX_FETCHED:
                    raise error(f"{what} at {url} is larger than {MAX_FETCHED:,} bytes")
    except httpx.HTTPError as e:
        raise error(f"{what} cannot be fetched from {url}: {e}") from None
    except OSError as e:  # an unreadable CA file
        raise error(f"{what}: the CA file {ca_file} cannot be used ({e})") from None
    return body


def fetch_json(
    url: str, error: type[CertificateError], what: str, *, ca_file: Path | str | None = None
) -> Any:
    """The JSON document at ``url``; raises ``error`` naming ``what`` if it is not JSON."""
    try:
        return jsonfile.loads(fetch(url, error, what, ca_file=ca_file))  # bounded depth
    except ValueError:
        raise error(f"{what} at {url} is not JSON") from None
