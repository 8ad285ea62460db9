"""The product page's analysis: the contribution tree of the stored calculation and, when
the model text is kept with it, the model's first-order uncertainty recalculated from it.

``GET /products/{id}/analysis`` calls :func:`openpcf.services.web_analysis.product_analysis`
with the signed-in person's organisation. The product page asks for it with htmx once loaded
(``analysis_product.html.j2``, included there) and gets the section alone; a plain request
(the page's link, without JavaScript) gets it as a page of its own. Roles: owner and engineer;
another organisation's footprint id answers the same 404 page as one that does not exist.

The editor's analysis (contributions, uncertainty, scenarios) is part of its result, served
by :mod:`openpcf.web.pages_models`.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from openpcf.db.errors import NotFoundError
from openpcf.services.web_analysis import product_analysis
from openpcf.web.auth import PageRefused, WebUser, require_roles, web_caller
from openpcf.web.render import render

router = APIRouter()

Engineer = Annotated[WebUser, Depends(require_roles("owner", "engineer"))]


@router.get("/products/{footprint_id}/analysis", response_class=HTMLResponse)
def product_analysis_page(request: Request, footprint_id: str, user: Engineer) -> HTMLResponse:
    # a recalculation (the uncertainty) runs in FastAPI's thread pool: a sync route
    try:
        analysis = product_analysis(
            web_caller(request, user),
            organisation_id=user.organisation_id,
            footprint_id=footprint_id,
        )
    except NotFoundError:
        raise PageRefused(404, "product.not_found") from None
    template = (
        "analysis_product_section.html.j2"
        if request.headers.get("hx-request") == "true"
        else "analysis_product_page.html.j2"
    )
    return render(request, template, {"analysis": analysis})
