"""Public routes of the certificate issuer: its keys and its revocation list.

A buyer verifying a green certificate online fetches ``/.well-known/jwks.json`` (the issuer's
public keys, active and retired) and ``/credentials/status/1`` (the signed Bitstring Status
List); neither needs a token. Each route calls one function of :mod:`openpcf.certify`.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Response

from openpcf.api.deps import State
from openpcf.certify import jwks, status_list
from openpcf.certify.credential import JWKS_PATH, MEDIA_TYPE
from openpcf.certify.errors import KeyStoreError
from openpcf.certify.status import STATUS_PATH

router = APIRouter(tags=["certificates"])


@router.get(JWKS_PATH, summary="The issuer's public keys (JWKS)")
def get_jwks(state: State) -> dict[str, Any]:
    return jwks(public_only=True, keys=state.keys)


@router.get(
    STATUS_PATH,
    summary="The issuer's signed revocation list (vc+jwt)",
    responses={404: {"description": "No issuer key yet, so no list"}},
)
def get_status_list(state: State) -> Response:
    try:
        signed = status_list(keys=state.keys)
    except KeyStoreError as e:  # no issuer key yet: nothing has been issued or revoked
        raise HTTPException(status_code=404, detail=str(e)) from None
    return Response(content=signed, media_type=MEDIA_TYPE)
