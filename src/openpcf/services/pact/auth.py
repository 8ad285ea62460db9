"""Access tokens of the PACT host: OAuth2 client credentials in, signed bearer tokens out.

Design note: tokens are **signed, not stored**. A token is a JWT in compact JWS form
(``HS256``: HMAC-SHA256 over ``base64url(header).base64url(claims)``, made and checked by
joserfc) whose claims are the client id, the granted scopes, issue and expiry times and a random
``jti``. The HMAC key is a per-installation secret of 32 random bytes kept in
``$OPENPCF_HOME/pact/token-secret`` (created on first use, mode 0600).
Why signed rather than opaque tokens in a table:

* no schema change and no database write per token: issuing costs one scrypt check of the
  client secret, verifying costs one HMAC, and tokens survive a restart of the host;
* revocation still works at once: every API call loads the client by ``sub`` and refuses a
  disabled (or deleted) client, so a token outlives its client's credentials by nothing;
* rotating the secret file invalidates every token (clients just ask for a new one).

What it gives up: a single token cannot be revoked before it expires without disabling its
client (tokens live ``TOKEN_TTL`` = 1 hour by default, as the PACT v3 example ``expires_in``).
Verification accepts ``HS256`` only, so the ``alg`` confusion attacks (``none``, a public key
used as an HMAC secret) do not apply. The header (``{"alg":"HS256","typ":"JWT"}``) and the
claims (keys sorted) are serialised as the hand-written signer before joserfc did, so tokens
issued by either verify with the other.
"""

from __future__ import annotations

import base64
import datetime as dt
import os
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from joserfc import jwt
from joserfc.errors import ExpiredTokenError, JoseError
from joserfc.jwk import OctKey

from openpcf.db.models import ApiClient
from openpcf.db.repositories import GRANTABLE_SCOPES
from openpcf.exchange.errors import InvalidTokenError, OAuthError, TokenExpiredError

#: Lifetime of an access token.
TOKEN_TTL = dt.timedelta(hours=1)
_ALG = "HS256"
#: In this order, so the encoded header is the one tokens have always had.
_HEADER = {"alg": _ALG, "typ": "JWT"}
#: Claims every token of ours has (``iss`` is checked against the signer's issuer).
_REQUIRED = ("exp", "iat", "jti", "scope", "sub")


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass(frozen=True, slots=True)
class TokenClaims:
    """What a verified access token says."""

    client_id: str
    scopes: tuple[str, ...]
    issued: dt.datetime
    expires: dt.datetime
    token_id: str


@dataclass(frozen=True, slots=True)
class IssuedToken:
    """An access token and its RFC 6749 §5.1 response fields."""

    access_token: str
    expires_in: int
    scopes: tuple[str, ...]

    def response(self) -> dict[str, Any]:
        return {
            "access_token": self.access_token,
            "token_type": "bearer",
            "expires_in": self.expires_in,
            "scope": " ".join(self.scopes),
        }


class TokenSigner:
    """Signs and verifies access tokens with one HMAC key."""

    def __init__(self, key: bytes, *, issuer: str = "openpcf", ttl: dt.timedelta = TOKEN_TTL):
        if len(key) < 32:
            raise ValueError("the token key must have at least 32 bytes")
        self._key = OctKey.import_key(key)
        self.issuer = issuer
        self.ttl = ttl

    @classmethod
    def from_home(cls, home: Path, **kwargs: Any) -> TokenSigner:
        """The signer with the installation's secret (``<home>/pact/token-secret``)."""
        return cls(installation_secret(home), **kwargs)

    def sign(self, *, client_id: str, scopes: Iterable[str], now: dt.datetime) -> IssuedToken:
        exp = now + self.ttl
        scope = " ".join(scopes)
        claims: dict[str, Any] = {
            "iss": self.issuer,
            "sub": client_id,
            "scope": scope,
            "iat": int(now.timestamp()),
            "exp": int(exp.timestamp()),
            "jti": secrets.token_urlsafe(12),
        }
        token = jwt.encode(
            dict(_HEADER),
            dict(sorted(claims.items())),  # sorted keys, as tokens have always been
            self._key,
            algorithms=[_ALG],
            default_type=None,
        )
        return IssuedToken(token, int(self.ttl.total_seconds()), tuple(scope.split()))

    def verify(self, token: str, *, now: dt.datetime) -> TokenClaims:
        """The claims of ``token``; :class:`InvalidTokenError` or :class:`TokenExpiredError`."""
        invalid = InvalidTokenError("the access token is invalid; get one at /auth/token")
        # ``exp`` is an integer: ``now >= exp`` holds exactly when ``int(now) >= exp``
        required: jwt.ClaimsOption = {"essential": True}
        registry = jwt.JWTClaimsRegistry(
            now=int(now.timestamp()),
            iss={"essential": True, "value": self.issuer},
            sub=required,
            scope={"essential": True, "allow_blank": True},  # a client may hold no scope
            iat=required,
            exp=required,
            jti=required,
        )
        try:
            claims = jwt.decode(token, self._key, algorithms=[_ALG]).claims
            # ``exp`` last: a token that is wrong in any other way is invalid, not expired
            ordered = {name: value for name, value in claims.items() if name != "exp"}
            registry.validate({**ordered, "exp": claims.get("exp")})
            if not isinstance(claims["scope"], str):
                raise invalid
            return TokenClaims(
                claims["sub"],
                tuple(claims["scope"].split()),
                dt.datetime.fromtimestamp(int(claims["iat"]), dt.UTC),
                dt.datetime.fromtimestamp(int(claims["exp"]), dt.UTC),
                claims["jti"],
            )
        except ExpiredTokenError:
            raise TokenExpiredError(
                "the access token has expired; get a new one at /auth/token"
            ) from None
        except (JoseError, ValueError, TypeError, OverflowError, OSError):
            raise invalid from None


def installation_secret(home: Path) -> bytes:
    """The 32-byte token key of this installation, created (mode 0600) on first use."""
    path = Path(home) / "pact" / "token-secret"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process created it first: use theirs
            pass
        else:
            with os.fdopen(fd, "w", encoding="ascii") as f:
                f.write(_b64(secrets.token_bytes(32)) + "\n")
    key = _unb64(path.read_text(encoding="ascii").strip())
    if len(key) < 32:
        raise InvalidTokenError(f"{path} holds no 32-byte key; delete it to make a new one")
    return key


def granted_scopes(client: ApiClient, requested: str | None) -> tuple[str, ...]:
    """Scopes to grant: the requested known scopes the client holds, or all it holds.

    Unknown scope values are ignored (some clients send ``scope``/``audience`` values meant for
    other servers); asking for a known scope the client does not hold is ``invalid_scope``.
    """
    held = [s for s in GRANTABLE_SCOPES if s in client.scopes]
    asked = [s for s in (requested or "").split() if s in GRANTABLE_SCOPES]
    if not asked:
        return tuple(held)
    missing = [s for s in asked if s not in held]
    if missing:
        raise OAuthError("invalid_scope", f"this client may not use scope {' '.join(missing)}")
    return tuple(dict.fromkeys(asked))
