"""The engineers' product pages: the product list, one product's footprint, its PACT JSON.

Each route calls one function of :mod:`openpcf.services.web_products` with the signed-in
person's organisation and renders a template. Roles: owner and engineer. Another
organisation's footprint id answers the same 404 page as one that does not exist.
"""

from __future__ import annotations

import uuid
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, JSONResponse

from openpcf.db.errors import NotFoundError
from openpcf.services.web_products import list_products, pact_json, product_view
from openpcf.web.auth import PageRefused, WebUser, require_roles, web_state
from openpcf.web.render import catalogues, render

router = APIRouter()

Engineer = Annotated[WebUser, Depends(require_roles("owner", "engineer"))]

#: The sort keys the list offers, with their message keys.
SORT_OPTIONS = (
    ("name", "products.col.name"),
    ("total", "products.col.total"),
    ("created", "products.col.created"),
)


def _page_number(text: str) -> int:
    """The ``page`` query parameter; anything but a positive number is page 1."""
    return int(text) if text.isdigit() and 0 < len(text) <= 7 else 1


@router.get("/products", response_class=HTMLResponse)
def products_list(
    request: Request, user: Engineer, sort: str = "name", order: str = "asc", page: str = "1"
) -> HTMLResponse:
    listing = list_products(
        web_state(request).engine,
        organisation_id=user.organisation_id,
        sort=sort,
        order=order,
        page=_page_number(page),
    )

    def page_url(number: int) -> str:
        query = {"sort": listing.sort, "order": listing.order, "page": number}
        return f"/products?{urlencode(query)}"

    def sort_url(key: str) -> str:
        flip = "desc" if listing.sort == key and listing.order == "asc" else "asc"
        return f"/products?{urlencode({'sort': key, 'order': flip})}"

    return render(
        request,
        "products_list.html.j2",
        {
            "listing": listing,
            "sort_options": SORT_OPTIONS,
            "page_url": page_url,
            "sort_url": sort_url,
        },
    )


@router.get("/products/{footprint_id}", response_class=HTMLResponse)
def product_page(request: Request, footprint_id: str, user: Engineer) -> HTMLResponse:
    try:
        view = product_view(
            web_state(request).engine,
            organisation_id=user.organisation_id,
            footprint_id=footprint_id,
        )
    except NotFoundError:
        raise PageRefused(404, "product.not_found") from None
    messages = catalogues()[user.lang]

    def stage_name(stage: str) -> str:
        key = f"product.stage.{stage}"
        return messages.get(key, stage)

    chart = {
        **view.chart,
        "labels": [stage_name(s) for s in view.chart.get("labels", [])],
        "total_label": messages["product.chart_total"],
    }
    return render(
        request,
        "products_detail.html.j2",
        {"view": view, "chart": chart, "stage_name": stage_name},
    )


@router.get("/products/{footprint_id}/pact.json")
def product_pact_json(request: Request, footprint_id: str, user: Engineer) -> JSONResponse:
    """The stored PACT v3 document, as a download named after the footprint id."""
    try:
        document = pact_json(
            web_state(request).engine,
            organisation_id=user.organisation_id,
            footprint_id=footprint_id,
        )
    except NotFoundError:
        raise PageRefused(404, "product.not_found") from None
    name = f"pact-{uuid.UUID(footprint_id)}.json"  # a UUID: the lookup above parsed it
    return JSONResponse(document, headers={"content-disposition": f'attachment; filename="{name}"'})
