"""The PACT requests inbox (owners and engineers): requests received, requests sent.

================================  ===========  ==============================================
route                             roles        what
================================  ===========  ==============================================
``GET /pact-requests``            owner,       received requests (requester, criteria,
                                  engineer     received, the host's answer, its delivery),
                                               sent requests (supplier, products, sent,
                                               waiting / fulfilled / rejected) and the form
                                               that asks a configured supplier
``GET /pact-requests/received/    owner,       one received request: criteria, comment, the
{id}``                            engineer     footprints sent or the PACT error, delivery
``GET /pact-requests/sent/{id}``  owner,       one sent request: criteria, the answer, the
                                  engineer     footprints received (id, products, PCF)
``POST /pact-requests/send``      owner,       send a RequestCreated event to a configured
                                  engineer     peer (:func:`openpcf.services.web_pact.send`)
``POST /pact-requests/received/   owner,       answer a request held for a person (answer
{id}/fulfil``, ``…/reject``       engineer     mode ``review``): the chosen footprints, or a
                                               PACT error code and message; 409 when someone
                                               answered first
``POST /pact-requests/answer-     owner        how the host answers received requests:
mode``                                         ``auto`` or ``review`` (engineers see it)
================================  ===========  ==============================================

Another organisation's request id answers 404, like an unknown one. The POST needs the CSRF
token and a declared body length of at most :data:`MAX_FORM_BODY` (411/413 otherwise); a
form with errors answers 400 with every value as typed and each problem at its field.

The peers are read from ``$OPENPCF_HOME/pact/peers.json`` (``openpcf pact peer``), the file
the PACT host reads. PACT clients are made by ``app.state.pact_client_factory`` when set
(tests point it at in-process hosts), else by :func:`openpcf.services.pact.outbox.peer_client`,
as ``openpcf suppliers request`` makes them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from openpcf.db.models import ANSWER_MODES
from openpcf.errors import InputError
from openpcf.services import web_pact as svc
from openpcf.services.pact.outbox import ClientFactory, peer_client
from openpcf.services.pact.peers import FilePeers, MemoryPeers, peers_file
from openpcf.services.pact.review import MAX_FULFILLED, MAX_MESSAGE
from openpcf.web.auth import CsrfChecked, WebUser, require_roles, web_state
from openpcf.web.render import render
from openpcf.web.uploads import bounded

router = APIRouter()

Engineer = Annotated[WebUser, Depends(require_roles("owner", "engineer"))]
Owner = Annotated[WebUser, Depends(require_roles("owner"))]

#: The largest body of the send form (50 URNs of 200 characters and three short fields), and
#: of the answer forms (100 footprint ids, or a message of 1,000 characters).
MAX_FORM_BODY = 64 * 1024
Bounded = bounded(MAX_FORM_BODY)


def _peers(request: Request) -> tuple[MemoryPeers, str]:
    """The configured peers, and the problem of a peers file that cannot be read (then no
    supplier is offered and the page says why, instead of failing)."""
    try:
        return FilePeers(peers_file(web_state(request).home)), ""
    except InputError as e:
        return MemoryPeers(), str(e)


def _client_factory(request: Request) -> ClientFactory:
    factory: ClientFactory | None = getattr(request.app.state, "pact_client_factory", None)
    return factory or peer_client


def _served_at(request: Request) -> str:
    """This site's https:// address: under ``openpcf serve`` the pages and the PACT host share
    it, so it is where answers arrive (a guess to prefill the form; the user may change it)."""
    return f"https://{request.url.netloc}" if request.url.scheme == "https" else ""


def _inbox_page(
    request: Request,
    user: WebUser,
    *,
    values: dict[str, str] | None = None,
    errors: dict[str, list[str]] | None = None,
    mode_errors: dict[str, list[str]] | None = None,
    status: int = 200,
) -> Response:
    peers, peers_problem = _peers(request)
    view = svc.overview(
        web_state(request).engine, organisation_id=user.organisation_id, peers=peers
    )
    source = view.last_source or _served_at(request)
    defaults = {"peer": "", "product_ids": "", "source": source, "version": "3"}
    context = {
        "view": view,
        "values": values if values is not None else defaults,
        "errors": errors or {},
        "general_errors": (errors or {}).get(svc.GENERAL, []),
        "max_ids": svc.MAX_PRODUCT_IDS,
        "peers_problem": peers_problem,
        "mode_errors": mode_errors or {},
        "answer_modes": ANSWER_MODES,
    }
    return render(request, "pact_requests.html.j2", context, status)


@router.post("/pact-requests/answer-mode", dependencies=[Bounded, CsrfChecked])
async def answer_mode(request: Request, user: Owner) -> Response:
    form = await request.form(max_files=0, max_fields=10)
    mode = str(form.get(svc.MODE_FIELD) or "")[:40]
    errors = await run_in_threadpool(
        svc.set_answer_mode,
        web_state(request).engine,
        organisation_id=user.organisation_id,
        mode=mode,
    )
    if not errors:
        return RedirectResponse("/pact-requests#received", status_code=303)
    return await run_in_threadpool(_inbox_page, request, user, mode_errors=errors, status=400)


@router.get("/pact-requests")
def inbox(request: Request, user: Engineer) -> Response:
    return _inbox_page(request, user)


@router.get("/pact-requests/received/{request_id}")
def received(request: Request, user: Engineer, request_id: str) -> Response:
    return _received_page(request, user, svc.request_key(request_id))


def _received_page(
    request: Request,
    user: WebUser,
    key: int,
    *,
    outcome: svc.AnswerOutcome | None = None,
    values: Mapping[str, object] | None = None,
) -> Response:
    """A received request's page; after an answer that failed, with each problem at its field
    and what was chosen or typed (400), or why it was refused (409: answered already)."""
    if outcome is not None and not outcome.errors:
        return RedirectResponse(f"/pact-requests/received/{key}", status_code=303)
    found = svc.incoming_request(
        web_state(request).engine, organisation_id=user.organisation_id, request_id=key
    )
    errors = outcome.errors if outcome is not None else {}
    context = {
        "req": found,
        "errors": errors,
        "general_errors": errors.get(svc.GENERAL, []),
        "values": values or {"footprint": [], "code": "", "message": ""},
        "max_message": MAX_MESSAGE,
    }
    status = 200 if outcome is None else 409 if outcome.answered else 400
    return render(request, "pact_received.html.j2", context, status)


@router.post(
    "/pact-requests/received/{request_id}/fulfil",
    dependencies=[Bounded, CsrfChecked],
)
async def fulfil(request: Request, user: Engineer, request_id: str) -> Response:
    key = svc.request_key(request_id)
    form = await request.form(max_files=0, max_fields=MAX_FULFILLED + 10)
    chosen = [str(v)[:64] for v in form.getlist("footprint")]
    outcome = await run_in_threadpool(
        svc.fulfil_request,
        web_state(request).engine,
        organisation_id=user.organisation_id,
        request_id=key,
        footprint_ids=chosen,
        peers=_peers(request)[0],
        by=f"web:{user.email}",
    )
    values = {"footprint": chosen, "code": "", "message": ""}
    return await run_in_threadpool(
        _received_page, request, user, key, outcome=outcome, values=values
    )


@router.post(
    "/pact-requests/received/{request_id}/reject",
    dependencies=[Bounded, CsrfChecked],
)
async def reject(request: Request, user: Engineer, request_id: str) -> Response:
    key = svc.request_key(request_id)
    form = await request.form(max_files=0, max_fields=10)
    code = str(form.get("code") or "")[:40]
    message = str(form.get("message") or "")[: MAX_MESSAGE * 2]
    outcome = await run_in_threadpool(
        svc.reject_request,
        web_state(request).engine,
        organisation_id=user.organisation_id,
        request_id=key,
        code=code,
        message=message,
        peers=_peers(request)[0],
        by=f"web:{user.email}",
    )
    values = {"footprint": [], "code": code, "message": message}
    return await run_in_threadpool(
        _received_page, request, user, key, outcome=outcome, values=values
    )


@router.get("/pact-requests/sent/{request_id}")
def sent(request: Request, user: Engineer, request_id: str) -> Response:
    found = svc.outgoing_request(
        web_state(request).engine,
        organisation_id=user.organisation_id,
        request_id=svc.request_key(request_id),
    )
    return render(request, "pact_sent.html.j2", {"req": found})


@router.post("/pact-requests/send", dependencies=[Bounded, CsrfChecked])
async def send(request: Request, user: Engineer) -> Response:
    form = await request.form(max_files=0, max_fields=10)
    values = {name: str(form.get(name) or "")[: MAX_FORM_BODY // 4] for name in svc.SEND_FIELDS}
    outcome: svc.SendOutcome = await run_in_threadpool(
        svc.send,
        web_state(request).engine,
        organisation_id=user.organisation_id,
        values=values,
        peers=_peers(request)[0],
        client_factory=_client_factory(request),
    )
    if outcome.request_id is not None:
        return RedirectResponse(f"/pact-requests/sent/{outcome.request_id}", status_code=303)
    return await run_in_threadpool(
        _inbox_page, request, user, values=values, errors=outcome.errors, status=400
    )
