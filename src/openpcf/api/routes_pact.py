"""PACT routes of one API version: ListFootprints, GetFootprint, Events (``/3`` and ``/2``).

Each route reads the request and calls one function of :mod:`openpcf.services.pact.host`;
the PACT error body of every failure comes from :mod:`openpcf.api.errors`. ListFootprints and
GetFootprint, the host's hot paths, are ``async`` and run their service call through
:func:`openpcf.api.deps.in_database` (a worker thread, no more at once than the database pool
has connections); their answers are the stored documents' text, never parsed or serialised
again here.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode, urlsplit

from fastapi import APIRouter, Query, Request, Response

from openpcf.api.deps import Body, Claims, EventClaims, State, in_database
from openpcf.api.schemas import PACT_ERRORS, FootprintListPublic, FootprintPublic
from openpcf.api.security import public_base
from openpcf.exchange.errors import BadRequestError
from openpcf.exchange.events import Version, parse_event
from openpcf.services.pact import host as pact_host

_EVENT_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "application/cloudevents+json": {
                "schema": {
                    "type": "object",
                    "required": ["type", "specversion", "id", "source", "time", "data"],
                    "properties": {
                        "type": {"type": "string"},
                        "specversion": {"type": "string", "const": "1.0"},
                        "id": {"type": "string"},
                        "source": {"type": "string"},
                        "time": {"type": "string", "format": "date-time"},
                        "data": {"type": "object"},
                    },
                }
            }
        },
    }
}
_FILTERS_V3 = (
    "Filters (repeatable, ORed within a name, ANDed across names, names and values ignoring "
    "case): productId, companyId, geography, classification, validOn, validAfter, "
    "validBefore, status. Unknown values give an empty list."
)
_CURSOR = (
    'Where the page starts: copied from the rel="next" Link of the previous page, opaque, '
    "valid only with that link's filters."
)


def next_link(request: Request, *, limit: int | None, cursor: str) -> str:
    """The absolute ``Link`` target of the next page: the same query, a new cursor.

    The link names the host's public base URL (:func:`openpcf.api.security.public_base`,
    never a client-chosen ``Host`` header) and carries the filters, so it returns the same
    page whenever it is called: the cursor names the last footprint of this page in the list
    ordered by (stored time, id), where new footprints land at the end
    (:mod:`openpcf.services.pact.cursor`), so a link stays valid far longer than the 180 s
    PACT asks for.
    """
    params = [(k, v) for k, v in request.query_params.multi_items() if k not in ("cursor", "limit")]
    if limit is not None:
        params.append(("limit", str(limit)))
    params.append(("cursor", cursor))
    return f"{public_base(request)}{request.url.path}?{urlencode(params)}"


def _events_source(request: Request, version: str) -> str:
    return f"//{urlsplit(public_base(request)).netloc}/{version}/events"


def make_router(version: Version) -> APIRouter:
    """The three PACT actions under ``/<version>``."""
    router = APIRouter(prefix=f"/{version}", tags=[f"PACT v{version}"], responses=PACT_ERRORS)
    extra_doc = _FILTERS_V3 if version == "3" else "Optional OData `$filter` subset of v2.3."

    @router.get(
        "/footprints",
        response_model=FootprintListPublic,
        summary="Action ListFootprints",
        description=extra_doc,
        operation_id=f"listFootprintsV{version}",
    )
    async def list_footprints(
        request: Request,
        state: State,
        claims: Claims,
        limit: Annotated[int | None, Query(ge=1)] = None,
        cursor: Annotated[str | None, Query(description=_CURSOR)] = None,
    ) -> Response:
        if "offset" in request.query_params:
            raise BadRequestError(
                "offset is not a parameter of this host: pages are reached by following the "
                'rel="next" Link of the previous page (its cursor= marks where a page starts)'
            )
        page = await in_database(
            state,
            pact_host.list_footprints,
            state.engine,
            claims=claims,
            version=version,
            params=request.query_params.multi_items(),
            limit=limit,
            cursor=cursor,
        )
        headers = {}
        if page.next_cursor is not None:
            target = next_link(request, limit=limit, cursor=page.next_cursor)
            headers["link"] = f'<{target}>; rel="next"'
        return Response(page.body(), media_type="application/json", headers=headers)

    @router.get(
        "/footprints/{pf_id}",
        response_model=FootprintPublic,
        summary="Action GetFootprint",
        operation_id=f"getFootprintV{version}",
    )
    async def get_footprint(pf_id: str, state: State, claims: Claims) -> Response:
        document = await in_database(
            state,
            pact_host.get_footprint,
            state.engine,
            claims=claims,
            version=version,
            pf_id=pf_id,
        )
        return Response(pact_host.document_body(document), media_type="application/json")

    @router.post(
        "/events",
        summary="Action Events (CloudEvents 1.0, structured mode)",
        operation_id=f"postEventV{version}",
        openapi_extra=_EVENT_BODY,
        status_code=200,
        response_class=Response,
        responses={200: {"description": "Event accepted; empty body."}},
    )
    def post_event(request: Request, state: State, claims: EventClaims, body: Body) -> Response:
        event = parse_event(body, content_type=request.headers.get("content-type"), version=version)
        outcome = pact_host.receive_event(
            state.engine,
            claims=claims,
            event=event,
            peers=state.peers,
            source=_events_source(request, version),
        )
        if outcome.queued is not None and state.sender is not None:
            state.sender.poke()
        return Response(status_code=200)

    return router
