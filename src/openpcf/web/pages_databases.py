"""The database browser: the imported LCI databases, a search in one (English or Chinese),
one process with its exchanges, cut-offs, gases and provenance. Calls
:mod:`openpcf.services.web_databases`; roles owner and engineer.

The databases are the host's (``$OPENPCF_HOME/databases``), the same for every organisation.
An unknown database or process, or a name that is not a possible database name (``..``), is a
404 page; a damaged stored database a 409 page naming it.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from openpcf.errors import UnknownFactorError
from openpcf.io.store import DatabaseDamagedError, DatabaseNotFoundError
from openpcf.services.web_databases import list_web_databases, process_detail, search_database
from openpcf.web.auth import PageRefused, WebUser, require_roles, web_state
from openpcf.web.render import render

router = APIRouter()

Engineer = Annotated[WebUser, Depends(require_roles("owner", "engineer"))]


@router.get("/databases", response_class=HTMLResponse)
def databases_list(request: Request, user: Engineer) -> HTMLResponse:
    del user  # the databases are the host's, the same for every organisation
    try:
        rows = list_web_databases(home=web_state(request).home)
    except DatabaseDamagedError:
        raise PageRefused(409, "databases.damaged") from None
    return render(request, "databases_list.html.j2", {"rows": rows})


@router.get("/databases/{name}", response_class=HTMLResponse)
def database_search(request: Request, name: str, user: Engineer, q: str = "") -> HTMLResponse:
    del user
    try:
        found = search_database(name, q, home=web_state(request).home)
    except DatabaseNotFoundError:
        raise PageRefused(404, "databases.not_found") from None
    except DatabaseDamagedError:
        raise PageRefused(409, "databases.damaged") from None
    return render(request, "databases_search.html.j2", {"found": found})


@router.get("/databases/{name}/processes/{key}", response_class=HTMLResponse)
def database_process(request: Request, name: str, key: str, user: Engineer) -> HTMLResponse:
    del user
    try:
        detail = process_detail(name, key, home=web_state(request).home)
    except DatabaseNotFoundError:
        raise PageRefused(404, "databases.not_found") from None
    except UnknownFactorError:
        raise PageRefused(404, "databases.process_not_found") from None
    except DatabaseDamagedError:
        raise PageRefused(409, "databases.damaged") from None
    return render(request, "databases_process.html.j2", {"detail": detail})
