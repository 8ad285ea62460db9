"""Response schemas of the host's own OpenAPI document (separate from the tables).

Footprints are served as stored (the PACT document is the contract and is validated against
the official PACT OpenAPI in the tests), so they appear here as JSON objects.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class TokenPublic(BaseModel):
    access_token: str
    token_type: str = Field(examples=["bearer"])
    expires_in: int
    scope: str


class OAuthErrorPublic(BaseModel):
    error: str = Field(examples=["invalid_client"])
    error_description: str


class ErrorPublic(BaseModel):
    """A PACT error body."""

    code: str = Field(examples=["BadRequest", "NotFound", "TokenExpired", "AccessDenied"])
    message: str


class FootprintListPublic(BaseModel):
    data: list[dict[str, Any]]


class FootprintPublic(BaseModel):
    data: dict[str, Any]


class OpenIdConfigurationPublic(BaseModel):
    issuer: str
    token_endpoint: str
    grant_types_supported: list[str]
    token_endpoint_auth_methods_supported: list[str]
    scopes_supported: list[str]
    response_types_supported: list[str]


#: Error responses of every PACT route, for the OpenAPI document.
PACT_ERRORS: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorPublic, "description": text}
    for status, text in (
        (400, "BadRequest (v2.3: also NotImplemented)"),
        (401, "BadRequest (invalid token) or TokenExpired"),
        (403, "AccessDenied"),
        (404, "NotFound (v2.3: NoSuchFootprint)"),
        (413, "BadRequest: body too large"),
        (429, "BadRequest: too many requests or stored events; see Retry-After"),
        (500, "InternalError"),
        (501, "NotImplemented"),
    )
}
