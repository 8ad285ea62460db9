"""Fetching what an issuer publishes (its JWKS, its status list) over HTTP, for verifying online."""

from __future__ import annotations

import json
from typing import Any

from openpcf.certify.errors import CertificateError


def fetch(url: str, error: type[CertificateError], what: str) -> bytes:
    """The body at ``url``; raises ``error`` naming ``what`` if it cannot be fetched."""
    try:
        import httpx
    except ImportError:
        raise error(
            f"online verification needs httpx (pip install httpx); or download {url} and pass "
            "it as a file"
        ) from None
    try:
        response = httpx.get(url, timeout=10.0, follow_redirects=True)
        response.raise_for_status()
    except httpx.HTTPError as e:
        raise error(f"{what} cannot be fetched from {url}: {e}") from None
    return response.content


def fetch_json(url: str, error: type[CertificateError], what: str) -> Any:
    """The JSON document at ``url``; raises ``error`` naming ``what`` if it is not JSON."""
    try:
        return json.loads(fetch(url, error, what))
    except ValueError:
        raise error(f"{what} at {url} is not JSON") from None
