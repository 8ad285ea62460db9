"""Public routes of the certificate issuer: its keys and its revocation list.

A buyer verifying a green certificate online fetches ``/.well-known/jwks.json`` (the issuer's
public keys, active and retired) and ``/credentials/status/1`` (the signed Bitstring Status
List); neither needs a token. Each route calls one function of :mod:`openpcf.certify`.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response

from openpcf.certify import jwks, status_list
from openpcf.certify.credential import JWKS_PATH, MEDIA_TYPE
from openpcf.certify.status import STATUS_PATH

router = APIRouter(tags=["certificates"])


@router.get(JWKS_PATH, summary="The issuer's public keys (JWKS)")
def get_jwks() -> dict[str, Any]:
    return jwks(public_only=True)


@router.get(STATUS_PATH, summary="The issuer's signed revocation list (vc+jwt)")
def get_status_list() -> Response:
    return Response(content=status_list(), media_type=MEDIA_TYPE)
