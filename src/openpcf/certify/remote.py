"""Fetching what an issuer publishes (its JWKS, its status list) over HTTP, for verifying online."""

from __future__ import annotations

from typing import Any

from openpcf.certify.errors import CertificateError
from openpcf.files import jsonfile

#: Largest document read from an issuer: a JWKS or a status list is a few kB (issue 11,
#: item 6: a server must not make the verifier read without bound).
MAX_FETCHED = 4 * 1024 * 1024


def fetch(url: str, error: type[CertificateError], what: str) -> bytes:
    """The body at ``url``; raises ``error`` naming ``what`` if it cannot be fetched or is
    larger than :data:`MAX_FETCHED`."""
    try:
        import httpx
    except ImportError:
        raise error(
            f"online verification needs httpx (pip install httpx); or download {url} and pass "
            "it as a file"
        ) from None
    try:
        with httpx.stream("GET", url, timeout=10.0, follow_redirects=True) as response:
            response.raise_for_status()
            body = b""
            for chunk in response.iter_bytes():
                body += chunk
                if len(body) > MAX_FETCHED:
                    raise error(f"{what} at {url} is larger than {MAX_FETCHED:,} bytes")
    except httpx.HTTPError as e:
        raise error(f"{what} cannot be fetched from {url}: {e}") from None
    return body


def fetch_json(url: str, error: type[CertificateError], what: str) -> Any:
    """The JSON document at ``url``; raises ``error`` naming ``what`` if it is not JSON."""
    try:
        return jsonfile.loads(fetch(url, error, what))  # bounded depth
    except ValueError:
        raise error(f"{what} at {url} is not JSON") from None
