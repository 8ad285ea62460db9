"""The factor browser: search the active factor set (English or Chinese), one factor's
provenance. Calls :mod:`openpcf.services.web_factors`; roles owner and engineer."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from openpcf.errors import UnknownFactorError
from openpcf.services.web_factors import factor_detail, search_factors
from openpcf.web.auth import PageRefused, WebUser, require_roles, web_state
from openpcf.web.render import render

router = APIRouter()

Engineer = Annotated[WebUser, Depends(require_roles("owner", "engineer"))]


@router.get("/factors", response_class=HTMLResponse)
def factors_search(request: Request, user: Engineer, q: str = "") -> HTMLResponse:
    del user  # the factor sets are the host's, the same for every organisation
    found = search_factors(q, home=web_state(request).home)
    return render(request, "factors_search.html.j2", {"found": found})


@router.get("/factors/{factor_id}", response_class=HTMLResponse)
def factor_page(request: Request, factor_id: str, user: Engineer) -> HTMLResponse:
    del user
    try:
        detail = factor_detail(factor_id, home=web_state(request).home)
    except UnknownFactorError:
        raise PageRefused(404, "factors.not_found") from None
    return render(request, "factors_detail.html.j2", {"detail": detail})
