"""The export compliance dossier over HTTP, for the web UI of the organisation it belongs to.

Every route needs a token with the scope ``dossier:manage`` (granted only explicitly:
``openpcf storage client create ORG --scope dossier:manage``) and acts for the token's own
organisation (:func:`openpcf.services.pact.host.acting_organisation`): another
organisation's SKU answers 404, the same as a SKU that does not exist.

==========================================  ==================================================
``GET /dossier/skus``                       the organisation's SKUs
``GET /dossier/skus/{sku}?market=EU``       the dossier rows (``on=YYYY-MM-DD``, ``window``
                                            days; default today and 90)
``POST /dossier/skus/{sku}/evidence``       record a document (JSON, below)
``GET /dossier/gaps?market=EU``             the SKUs with gaps, most urgent first
==========================================  ==================================================

The evidence is one JSON object ``{"requirement", "issuer", "issued", "expires"?,
"accreditation"?, "document"?, "fileName", "contentBase64"}``; the decoded file's SHA-256 is
stored, not the file. The whole body is bounded by the host's body limit (``max_body``; base64
adds a third), so a larger document is refused with 413 before it is read.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
from typing import Any

from fastapi import APIRouter

from openpcf.api.deps import Body, Claims, State
from openpcf.api.schemas import PACT_ERRORS
from openpcf.db.base import utcnow
from openpcf.db.engine import session_scope
from openpcf.errors import InputError
from openpcf.files import jsonfile
from openpcf.services import dossier
from openpcf.services.pact.host import acting_organisation
from openpcf.suppliers.dossier import DEFAULT_WINDOW_DAYS, dossier_dict, gaps_dict

router = APIRouter(tags=["dossier"], responses=PACT_ERRORS)
SCOPE = "dossier:manage"
_FIELDS = frozenset(
    {
        "requirement",
        "issuer",
        "issued",
        "expires",
        "accreditation",
        "document",
        "fileName",
        "contentBase64",
    }
)


def _organisation(state: State, claims: Claims) -> int:
    with session_scope(state.engine) as session:
        return acting_organisation(session, claims, SCOPE)


def _date(value: object, name: str) -> dt.date:
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise InputError(f"{name}: give a date as YYYY-MM-DD, not {value!r}") from None


@router.get("/dossier/skus", summary="The organisation's SKUs")
def skus_list(state: State, claims: Claims) -> list[dict[str, Any]]:
    org = _organisation(state, claims)
    return [
        {
            "sku": s.sku,
            "name": s.name,
            "cnCode": s.cn_code,
            "rules": s.rules,
            "product": s.product_urn,
        }
        for s in dossier.list_skus(state.engine, organisation=org)
    ]


@router.get("/dossier/skus/{sku}", summary="The dossier of a SKU for a market")
def sku_show(
    sku: str,
    state: State,
    claims: Claims,
    market: str | None = "EU",
    on: str | None = None,
    window: int = DEFAULT_WINDOW_DAYS,
) -> dict[str, Any]:
    org = _organisation(state, claims)
    if not 0 <= window <= 3650:
        raise InputError("window: give 0 to 3650 days")
    found = dossier.sku_dossier(
        state.engine,
        organisation=org,
        sku=sku,
        market=market,
        on=_date(on, "on") if on else utcnow().date(),
        window_days=window,
    )
    return dossier_dict(found)


@router.post("/dossier/skus/{sku}/evidence", summary="Record a document held for a SKU")
def evidence_add(sku: str, body: Body, state: State, claims: Claims) -> dict[str, Any]:
    org = _organisation(state, claims)
    try:
        data = jsonfile.loads(body)  # bounded depth, no NaN
    except (UnicodeDecodeError, ValueError):
        raise InputError("send the evidence as a JSON object") from None
    if not isinstance(data, dict):
        raise InputError("send the evidence as a JSON object")
    unknown = sorted(set(data) - _FIELDS)
    if unknown:
        raise InputError(f"unknown field(s) {', '.join(unknown)}; use {', '.join(sorted(_FIELDS))}")
    for name in ("requirement", "issuer", "issued", "fileName", "contentBase64"):
        if not isinstance(data.get(name), str):
            raise InputError(f"{name}: required (a string)")
    try:
        content = base64.b64decode(data["contentBase64"], validate=True)
    except (binascii.Error, ValueError):
        raise InputError("contentBase64: not base64") from None
    expires = data.get("expires")
    recorded = dossier.record_evidence(
        state.engine,
        organisation=org,
        sku=sku,
        requirement_id=data["requirement"],
        content=content,
        file_name=data["fileName"],
        issuer=data["issuer"],
        issued=_date(data["issued"], "issued"),
        expires=_date(expires, "expires") if expires is not None else None,
        accreditation=str(data.get("accreditation") or ""),
        document=str(data["document"]) if data.get("document") else None,
    )
    return {
        "sku": recorded.sku,
        "requirement": recorded.requirement_id,
        "sha256": recorded.file_sha256,
        "created": recorded.created,
    }


@router.get("/dossier/gaps", summary="The SKUs with gaps, most urgent first")
def gaps_list(
    state: State,
    claims: Claims,
    market: str | None = None,
    on: str | None = None,
    window: int = DEFAULT_WINDOW_DAYS,
) -> list[dict[str, Any]]:
    org = _organisation(state, claims)
    if not 0 <= window <= 3650:
        raise InputError("window: give 0 to 3650 days")
    ranked = dossier.gaps(
        state.engine,
        organisation=org,
        market=market,
        on=_date(on, "on") if on else utcnow().date(),
        window_days=window,
    )
    return [gaps_dict(item) for item in ranked]
