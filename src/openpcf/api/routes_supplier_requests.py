"""Data requests to suppliers over HTTP, for the web UI of the organisation that asks.

Every route needs a token with the scope ``suppliers:manage`` (granted only explicitly:
``openpcf storage create-client ... --scope suppliers:manage``) and acts for the token's own
organisation (:func:`openpcf.services.pact.host.acting_organisation`): another
organisation's request id answers 404, the same as an id that does not exist.

=============================================  ============================================
``GET /supplier-requests``                      the requests (``product``, ``status``,
                                                ``supplier`` filters; ``overdue`` computed)
``GET /supplier-requests/summary?product=URN``  counts by status, the overdue suppliers
``GET /supplier-requests/{request_id}``         one request
``POST /supplier-requests/{request_id}/accept`` accept an answered request (JSON ``note``)
``POST /supplier-requests/{request_id}/reject`` reject it (JSON ``reason``, required)
``POST /supplier-coverage``                     the coverage of a product model (YAML body)
=============================================  ============================================

``/supplier-coverage`` calculates the model sent with the host's data (imported databases,
factor sets, the organisation's accepted supplier figures): the model's
``product.company_name`` must be the token's organisation, so no organisation's supplier data
enters another's numbers.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import APIRouter

from openpcf.api.deps import Body, Claims, State
from openpcf.api.schemas import PACT_ERRORS
from openpcf.db.base import utcnow
from openpcf.db.engine import session_scope
from openpcf.errors import InputError
from openpcf.files import jsonfile
from openpcf.model.loading import load_model
from openpcf.services.pact.host import acting_organisation
from openpcf.services.supplier_coverage import organisation_coverage
from openpcf.services.supplier_requests import decide, get_request, list_requests, summary

router = APIRouter(tags=["supplier requests"], responses=PACT_ERRORS)
SCOPE = "suppliers:manage"


def _organisation(state: State, claims: Claims) -> int:
    with session_scope(state.engine) as session:
        return acting_organisation(session, claims, SCOPE)


@router.get("/supplier-requests", summary="The organisation's data requests to suppliers")
def requests_list(
    state: State,
    claims: Claims,
    product: str | None = None,
    status: str | None = None,
    supplier: str | None = None,
) -> list[dict[str, Any]]:
    org = _organisation(state, claims)
    views = list_requests(
        state.engine,
        today=utcnow().date(),
        organisation_id_=org,
        product_id=product,
        status=status,
        supplier=supplier,
    )
    return [v.to_dict() for v in views]


@router.get("/supplier-requests/summary", summary="Requests by status and the overdue suppliers")
def requests_summary(state: State, claims: Claims, product: str | None = None) -> dict[str, Any]:
    org = _organisation(state, claims)
    return summary(state.engine, organisation_id_=org, today=utcnow().date(), product_id=product)


@router.get(
    "/supplier-requests/{request_id}",
    summary="One data request",
    responses={404: {"description": "No such request of this organisation"}},
)
def requests_show(request_id: str, state: State, claims: Claims) -> dict[str, Any]:
    org = _organisation(state, claims)
    view = get_request(
        state.engine, request_id=request_id, today=utcnow().date(), organisation_id_=org
    )
    return view.to_dict()


@router.post(
    "/supplier-requests/{request_id}/accept",
    summary="Accept an answered request: its figure becomes primary data",
    responses={404: {"description": "No such request of this organisation"}},
)
def requests_accept(request_id: str, body: Body, state: State, claims: Claims) -> dict[str, Any]:
    org = _organisation(state, claims)
    note = _text(body, "note", required=False)
    view = decide(
        state.engine,
        request_id=request_id,
        status="accepted",
        note=note,
        now=utcnow(),
        organisation_id_=org,
    )
    return view.to_dict()


@router.post(
    "/supplier-requests/{request_id}/reject",
    summary="Reject an answered request, with the reason",
    responses={404: {"description": "No such request of this organisation"}},
)
def requests_reject(request_id: str, body: Body, state: State, claims: Claims) -> dict[str, Any]:
    org = _organisation(state, claims)
    reason = _text(body, "reason", required=True)
    view = decide(
        state.engine,
        request_id=request_id,
        status="rejected",
        note=reason,
        now=utcnow(),
        organisation_id_=org,
    )
    return view.to_dict()


def _text(body: bytes, name: str, *, required: bool) -> str:
    """The string member ``name`` of a JSON object body (empty body: no members)."""
    if not body.strip():
        data: Any = {}
    else:
        try:
            data = jsonfile.loads(body)  # bounded depth, no NaN
        except (ValueError, UnicodeDecodeError):
            raise InputError("the body must be a JSON object") from None
    if not isinstance(data, dict):
        raise InputError("the body must be a JSON object")
    value = data.get(name, "")
    if not isinstance(value, str) or (required and not value.strip()):
        raise InputError(f"give {name!r} as a non-empty string in the JSON body")
    return value[:2000]


@router.post(
    "/supplier-coverage",
    summary="Primary-data coverage of a product model (YAML body) of the token's organisation",
)
def supplier_coverage(body: Body, state: State, claims: Claims) -> dict[str, Any]:
    org = _organisation(state, claims)
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise InputError("the model must be UTF-8 YAML text") from None
    loaded = load_model(Path("request/model.yaml"), text=text)
    if state.home is None:
        raise InputError("this host has no data folder to calculate with")
    return organisation_coverage(
        loaded, organisation_id=org, home=state.home, engine=state.engine, today=utcnow().date()
    ).to_dict()
