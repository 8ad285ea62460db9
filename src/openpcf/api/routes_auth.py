"""``POST /auth/token`` (OAuth2 client credentials) and the OpenID provider configuration."""

from __future__ import annotations

import base64
import binascii
from typing import Annotated
from urllib.parse import unquote_plus

from fastapi import APIRouter, Form, Request
from fastapi.responses import JSONResponse

from openpcf.api.deps import State
from openpcf.api.schemas import (
    ErrorPublic,
    OAuthErrorPublic,
    OpenIdConfigurationPublic,
    TokenPublic,
)
from openpcf.api.security import public_base
from openpcf.db.repositories import KNOWN_SCOPES
from openpcf.exchange.errors import OAuthError
from openpcf.services.pact import host as pact_host

router = APIRouter(tags=["auth"])

FormText = Annotated[str | None, Form()]


def _basic(header: str) -> tuple[str, str] | None:
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        raise OAuthError("invalid_client", "Authentication failed", status=401) from None
    client_id, sep, secret = decoded.partition(":")
    if not sep:
        raise OAuthError("invalid_client", "Authentication failed", status=401)
    # RFC 6749 §2.3.1 form-encodes both before base64; most PACT clients do not: both work.
    return unquote_plus(client_id), unquote_plus(secret)


@router.post(
    "/auth/token",
    response_model=TokenPublic,
    responses={
        400: {"model": OAuthErrorPublic},
        401: {"model": OAuthErrorPublic},
        429: {"model": ErrorPublic, "description": "Too many requests; see Retry-After"},
    },
    summary="Action Authenticate (OAuth2 client credentials)",
)
def token(
    request: Request,
    state: State,
    grant_type: FormText = None,
    client_id: FormText = None,
    client_secret: FormText = None,
    scope: FormText = None,
) -> JSONResponse:
    """Client credentials in HTTP Basic auth (PACT) or in the form body; other fields ignored."""
    if grant_type != "client_credentials":
        error = "invalid_request" if grant_type is None else "unsupported_grant_type"
        raise OAuthError(error, "grant_type must be client_credentials")
    basic = _basic(request.headers.get("authorization", ""))
    form = (client_id, client_secret) if client_id is not None else None
    if basic and form and basic != (client_id, client_secret or ""):
        raise OAuthError("invalid_request", "send the client credentials once, not twice")
    credentials = basic or form
    if credentials is None or credentials[1] is None:
        raise OAuthError("invalid_client", "Authentication failed", status=401)
    if any("\x00" in part for part in (credentials[0], credentials[1], scope or "")):
        # PostgreSQL text cannot hold NUL: refused here, not as a 500 from the database
        raise OAuthError("invalid_request", "the request holds a NUL character")
    # counted before the secret is hashed (scrypt, ~60 ms): a flood costs the host little
    state.limiter.hit(
        "token_per_client", credentials[0], what=f"token requests for client {credentials[0]!r}"
    )
    issued = pact_host.issue_token(
        state.engine,
        client_id=credentials[0],
        client_secret=credentials[1] or "",
        scope=scope,
        signer=state.signer,
    )
    return JSONResponse(
        issued.response(), headers={"cache-control": "no-store", "pragma": "no-cache"}
    )


@router.get(
    "/.well-known/openid-configuration",
    response_model=OpenIdConfigurationPublic,
    summary="OpenID provider configuration (token endpoint discovery)",
)
def openid_configuration(request: Request) -> dict[str, object]:
    base = public_base(request)
    return {
        "issuer": base,
        "token_endpoint": f"{base}/auth/token",
        "grant_types_supported": ["client_credentials"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "scopes_supported": list(KNOWN_SCOPES),
        "response_types_supported": ["token"],
    }
