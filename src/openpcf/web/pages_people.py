"""The owners' people page, and the choice of organisation after signing in.

==================================  =============================================================
``GET /people``                     owner: the organisation's people (name, email, role, latest
                                    activity), role and removal per row, the pending
                                    invitations, a form to invite a person and one to add a
                                    person with a typed password
``POST /people/invitations``        owner: invite a person (email, name, role): the page shows
                                    the single-use link once (200), to copy into an email
``POST /people/invitations/{id}/…`` owner: ``…/revoke`` withdraws a pending invitation, 303
``POST /people``                    owner: add a person (email, name, role, initial password;
                                    an email with an account keeps its password), 303 back
``POST /people/{id}/role``          owner: give the membership ``id`` another role, 303 back
``POST /people/{id}/remove``        owner: take the membership ``id`` out of the organisation
``GET /organisation``               anyone signed in: the organisations they have a role in
``POST /organisation``              bind the session to one of them, 303 to ``next``
==================================  =============================================================

Each route calls one function of :mod:`openpcf.services.web_people` (the invitations: of
:mod:`openpcf.services.web_invitations`; the link is opened on ``/invite/<token>``,
:mod:`openpcf.web.pages_account`). Other roles get the 403 page; a membership or invitation
id of another organisation gets the 404 page, like one that does not exist. A form with
errors answers 400 and shows what was typed (never the password); the last owner's demotion
or removal answers 409 with the reason at the row. Bodies are limited to
:data:`MAX_FORM_BODY` before they are read.

A person with roles in several organisations is sent to ``/organisation`` by every page until
they choose (:class:`~openpcf.web.auth.OrganisationChoiceRequired`); the page lists only their
own organisations, and an organisation id they have no role in answers 404.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from openpcf.db.repositories import MIN_PASSWORD_LENGTH
from openpcf.db.web_models import WEB_ROLES
from openpcf.services import web_invitations, web_people
from openpcf.web.auth import (
    SESSION_COOKIE,
    CsrfChecked,
    LoginRequired,
    WebUser,
    require_roles,
    resolve_session,
    safe_next,
    signed_in,
    web_state,
)
from openpcf.web.render import render
from openpcf.web.uploads import bounded

router = APIRouter()

Owner = Annotated[WebUser, Depends(require_roles("owner"))]
SignedIn = Annotated[WebUser, Depends(signed_in)]

#: The largest form body of these pages (a few short fields).
MAX_FORM_BODY = 16 * 1024
#: Notices after a change (``/people?done=...``), each a message key.
NOTICES = {
    "added": "people.done.added",
    "existing": "people.done.existing",
    "role": "people.done.role",
    "removed": "people.done.removed",
    "revoked": "people.done.revoked",
}


Bounded = bounded(MAX_FORM_BODY)


def _people_page(
    request: Request,
    user: WebUser,
    *,
    form: dict[str, str] | None = None,
    errors: dict[str, list[str]] | None = None,
    failed: int | None = None,
    row_error: str = "",
    notice: str = "",
    invite_form: dict[str, str] | None = None,
    invite_errors: dict[str, list[str]] | None = None,
    invited: web_invitations.Invited | None = None,
    status: int = 200,
) -> Response:
    state = web_state(request)
    blank = {"email": "", "name": "", "role": "engineer"}
    context: dict[str, Any] = {
        "people": web_people.list_people(state.engine, organisation_id=user.organisation_id),
        "invitations": web_invitations.pending(
            state.engine, organisation_id=user.organisation_id, now=state.clock()
        ),
        "invited": invited,
        "invite_link": str(request.base_url).rstrip("/") + invited.path if invited else "",
        "invite_form": invite_form or blank,
        "invite_errors": invite_errors or {},
        "roles": WEB_ROLES,
        "form": form or blank,
        "errors": errors or {},
        "failed": failed,
        "row_error": row_error,
        "notice": notice,
        "min_password": MIN_PASSWORD_LENGTH,
    }
    return render(request, "people.html.j2", context, status)


@router.get("/people")
def people_page(request: Request, user: Owner, done: str = "") -> Response:
    return _people_page(request, user, notice=NOTICES.get(done, ""))


@router.post("/people", dependencies=[Bounded, CsrfChecked])
def add_person(
    request: Request,
    user: Owner,
    email: Annotated[str, Form(max_length=320)] = "",
    name: Annotated[str, Form(max_length=400)] = "",
    role: Annotated[str, Form(max_length=16)] = "",
    password: Annotated[str, Form(max_length=1024)] = "",
) -> Response:
    outcome = web_people.add_person(
        web_state(request).engine,
        organisation_id=user.organisation_id,
        email=email,
        name=name,
        role=role,
        password=password,
    )
    if outcome.errors:
        typed = {"email": email, "name": name, "role": role}
        return _people_page(request, user, form=typed, errors=outcome.errors, status=400)
    done = "existing" if outcome.existing else "added"
    return RedirectResponse(f"/people?done={done}", status_code=303)


@router.post("/people/invitations", dependencies=[Bounded, CsrfChecked])
def invite_person(
    request: Request,
    user: Owner,
    email: Annotated[str, Form(max_length=320)] = "",
    name: Annotated[str, Form(max_length=400)] = "",
    role: Annotated[str, Form(max_length=16)] = "",
) -> Response:
    state = web_state(request)
    invited = web_invitations.invite(
        state.engine,
        organisation_id=user.organisation_id,
        email=email,
        name=name,
        role=role,
        now=state.clock(),
        invited_by=user.user_id,
    )
    if invited.errors:
        typed = {"email": email, "name": name, "role": role}
        return _people_page(
            request, user, invite_form=typed, invite_errors=invited.errors, status=400
        )
    return _people_page(request, user, invited=invited)


@router.post("/people/invitations/{invitation_id}/revoke", dependencies=[Bounded, CsrfChecked])
def revoke_invitation(request: Request, user: Owner, invitation_id: int) -> Response:
    state = web_state(request)
    web_invitations.revoke(
        state.engine,
        organisation_id=user.organisation_id,
        invitation_id=invitation_id,
        now=state.clock(),
    )
    return RedirectResponse("/people?done=revoked", status_code=303)


@router.post("/people/{membership_id}/role", dependencies=[Bounded, CsrfChecked])
def change_role(
    request: Request,
    user: Owner,
    membership_id: int,
    role: Annotated[str, Form(max_length=16)] = "",
) -> Response:
    refused = web_people.change_role(
        web_state(request).engine,
        organisation_id=user.organisation_id,
        membership_id=membership_id,
        role=role,
    )
    if refused:
        status = 409 if refused == "people.error.last_owner" else 400
        return _people_page(request, user, failed=membership_id, row_error=refused, status=status)
    return RedirectResponse("/people?done=role", status_code=303)


@router.post("/people/{membership_id}/remove", dependencies=[Bounded, CsrfChecked])
def remove_person(request: Request, user: Owner, membership_id: int) -> Response:
    refused = web_people.remove_person(
        web_state(request).engine,
        organisation_id=user.organisation_id,
        membership_id=membership_id,
    )
    if refused:
        return _people_page(request, user, failed=membership_id, row_error=refused, status=409)
    return RedirectResponse("/people?done=removed", status_code=303)


@router.get("/organisation")
def organisation_choice(request: Request, user: SignedIn, next: str = "/") -> Response:
    choices = web_people.organisations_of(web_state(request).engine, user_id=user.user_id)
    chosen = resolve_session(request).chosen
    context = {"choices": choices, "next": safe_next(next), "chosen": chosen}
    return render(request, "org_choice.html.j2", context)


@router.post("/organisation", dependencies=[Bounded, CsrfChecked])
def choose_organisation(
    request: Request,
    user: SignedIn,
    organisation_id: Annotated[int, Form()],
    next: Annotated[str, Form(max_length=2000)] = "/",
) -> Response:
    del user  # a live session is all this needs: the choice is checked against its person
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        raise LoginRequired
    web_people.choose_organisation(
        web_state(request).engine, token=token, organisation_id=organisation_id
    )
    return RedirectResponse(safe_next(next), status_code=303)
