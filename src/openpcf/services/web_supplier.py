"""The supplier pages and the engineers' requests overview of the web application.

Suppliers (role ``supplier``) see only the requests granted to them
(:mod:`openpcf.db.repositories.web_access`) in the organisation of their session; any other
id is :class:`~openpcf.db.errors.NotFoundError` (404). They answer in the web form
(:mod:`openpcf.suppliers.answer_form`: the workbook's checks) or by uploading the answered
workbook (:func:`openpcf.services.supplier_answers.import_answer`, its token checked as for
``openpcf suppliers import``); either way the answer is stored as a supplier footprint with
origin ``questionnaire`` and the request becomes ``answered``.

Engineers and owners list their organisation's requests (filtered by shown status, supplier
and product) and accept or reject answers with
:func:`openpcf.services.supplier_requests.decide`.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from sqlalchemy import select

from openpcf.db import repositories as repo
from openpcf.db.engine import session_scope
from openpcf.db.errors import NotFoundError
from openpcf.db.web_models import WebMembership
from openpcf.errors import InputError
from openpcf.services.supplier_answers import (
    ImportedAnswer,
    UnknownAnswerRequestError,
    import_answer,
    store_form_answer,
)
from openpcf.services.supplier_requests import (
    SHOWN_STATUSES,
    RequestView,
    decide,
    list_requests,
)
from openpcf.suppliers.answer_form import GENERAL, check_form, form_names
from openpcf.suppliers.errors import AnswerRefusedError, QuestionnaireError

if TYPE_CHECKING:
    from sqlalchemy import Engine

#: What a decision on the requests page may be (the button's value → the stored status).
DECISIONS = {"accept": "accepted", "reject": "rejected"}


def _uuid(value: str) -> uuid.UUID:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        raise NotFoundError(f"no supplier request {value!r}") from None


# --------------------------------------------------------------------------------------------
# suppliers


def inbox(
    engine: Engine, *, user_id: int, organisation_id: int, today: dt.date
) -> list[RequestView]:
    """The requests granted to this person in this organisation, oldest first."""
    with session_scope(engine) as session:
        rows = repo.list_granted_requests(session, user_id=user_id, organisation_id=organisation_id)
        return [RequestView.of(r, today) for r in rows]


def granted_request(
    engine: Engine, *, user_id: int, organisation_id: int, request_id: str, today: dt.date
) -> RequestView:
    """One granted request; :class:`NotFoundError` for any other id."""
    with session_scope(engine) as session:
        row = repo.get_granted_request(
            session, user_id=user_id, organisation_id=organisation_id, request_id=_uuid(request_id)
        )
        return RequestView.of(row, today)


def form_defaults(view: RequestView) -> dict[str, str]:
    """What an empty answer form starts with (as the workbook is pre-filled)."""
    return {"company_name": view.supplier, "boundary": "cradle-to-gate", "gwp": "AR6"}


@dataclass(frozen=True, slots=True, kw_only=True)
class AnswerOutcome:
    """What an answer (form or workbook) did: stored, or the problems (by form input name;
    :data:`~openpcf.suppliers.answer_form.GENERAL` for the whole answer or the file)."""

    stored: ImportedAnswer | None = None
    errors: dict[str, list[str]] = field(default_factory=dict)


def answer_with_form(
    engine: Engine,
    *,
    user_id: int,
    organisation_id: int,
    email: str,
    request_id: str,
    values: Mapping[str, str],
    now: dt.datetime,
) -> AnswerOutcome:
    """Check the form ``values`` like a workbook and store the answer of a granted request."""
    view = granted_request(
        engine,
        user_id=user_id,
        organisation_id=organisation_id,
        request_id=request_id,
        today=now.date(),
    )
    if view.stored_status != "sent":
        return AnswerOutcome(
            errors={GENERAL: [f"the request is {view.status}: it takes no answer"]}
        )
    kept = {name: str(values.get(name, "")) for name in form_names()}
    checked = check_form(
        kept, request_id=uuid.UUID(view.request_id), unit=view.unit, name=f"web form ({email})"
    )
    if checked.answer is None:
        return AnswerOutcome(errors=checked.errors)
    fingerprint = json.dumps(kept, sort_keys=True, ensure_ascii=False).encode("utf-8")
    try:
        stored = store_form_answer(checked.answer, engine=engine, now=now, fingerprint=fingerprint)
    except (AnswerRefusedError, UnknownAnswerRequestError) as e:
        return AnswerOutcome(errors={GENERAL: [str(e)]})
    except QuestionnaireError as e:
        return AnswerOutcome(errors={GENERAL: [p.reason for p in e.problems]})
    return AnswerOutcome(stored=stored)


def answer_with_workbook(
    engine: Engine,
    *,
    user_id: int,
    organisation_id: int,
    request_id: str,
    data: bytes,
    filename: str,
    now: dt.datetime,
) -> AnswerOutcome:
    """Import the answered workbook ``data`` for a granted request (its token checked too:
    a workbook of another request is refused)."""
    view = granted_request(
        engine,
        user_id=user_id,
        organisation_id=organisation_id,
        request_id=request_id,
        today=now.date(),
    )
    try:
        stored = import_answer(
            data, name=filename, engine=engine, now=now, request_id=uuid.UUID(view.request_id)
        )
    except QuestionnaireError as e:
        return AnswerOutcome(errors={GENERAL: [str(p) for p in e.problems]})
    except (UnknownAnswerRequestError, AnswerRefusedError) as e:
        return AnswerOutcome(errors={GENERAL: [str(e)]})
    return AnswerOutcome(stored=stored)


# --------------------------------------------------------------------------------------------
# engineers


@dataclass(frozen=True, slots=True, kw_only=True)
class RequestsOverview:
    """The organisation's requests as filtered, and the choices of the filters."""

    rows: list[RequestView]
    statuses: tuple[str, ...]
    suppliers: list[str]
    products: list[tuple[str, str]]  # (product id, product name)


def requests_overview(
    engine: Engine,
    *,
    organisation_id: int,
    today: dt.date,
    status: str = "",
    supplier: str = "",
    product: str = "",
) -> RequestsOverview:
    """The organisation's requests, filtered by shown status, supplier and product id (an
    empty or unknown filter value filters nothing)."""
    every = list_requests(engine, today=today, organisation_id_=organisation_id)
    rows = [
        v
        for v in every
        if (status not in SHOWN_STATUSES or v.status == status)
        and (not supplier or v.supplier == supplier)
        and (not product or v.product_id == product)
    ]
    return RequestsOverview(
        rows=rows,
        statuses=SHOWN_STATUSES,
        suppliers=sorted({v.supplier for v in every}),
        products=sorted({(v.product_id, v.product_name) for v in every}),
    )


def decide_request(
    engine: Engine,
    *,
    organisation_id: int,
    request_id: str,
    decision: str,
    reason: str,
    now: dt.datetime,
) -> tuple[RequestView | None, dict[str, list[str]]]:
    """Accept or reject the answer of one of the organisation's requests.

    Returns (the request after the decision, no errors) or (None, errors by input name:
    ``reason`` when rejecting without one, :data:`GENERAL` for a move the lifecycle refuses).
    Another organisation's request is :class:`NotFoundError`.
    """
    status = DECISIONS.get(decision)
    if status is None:
        return None, {GENERAL: [f"unknown decision {decision!r}: accept or reject"]}
    if status == "rejected" and not reason.strip():
        return None, {"reason": ["give the reason for rejecting the answer"]}
    rid = str(_uuid(request_id))
    try:
        view = decide(
            engine,
            request_id=rid,
            status=status,
            now=now,
            note=reason,
            organisation_id_=organisation_id,
        )
    except NotFoundError:
        raise
    except InputError as e:
        return None, {GENERAL: [str(e)]}
    return view, {}


# --------------------------------------------------------------------------------------------
# invitations


@dataclass(frozen=True, slots=True, kw_only=True)
class Invitation:
    """What ``openpcf suppliers invite`` did."""

    email: str
    organisation: str
    request_id: str
    supplier: str
    created_user: bool
    granted: bool


def invite_supplier(
    engine: Engine, *, request_id: str, email: str, name: str, password: str | None
) -> Invitation:
    """Let the person ``email`` see and answer the request ``request_id`` on the web pages.

    A new person is created with ``password`` (required then) and the role ``supplier`` in
    the requesting organisation; an existing one keeps their password and gets the role if
    they have none there. A person with another role in that organisation is refused (the
    inbox is for suppliers; an engineer sees the requests page).
    """
    rid = _uuid(request_id)
    with session_scope(engine, write=True) as session:
        row = repo.get_supplier_request(session, request_id=rid)
        organisation = row.organisation
        account = repo.find_web_user(session, email=email)
        created = account is None
        if account is None:
            if not password:
                raise InputError("a new web user needs a password")
            account = repo.create_web_user(session, email=email, name=name, password=password)
        role = session.scalar(
            select(WebMembership.role).where(
                WebMembership.user_id == account.id,
                WebMembership.organisation_id == organisation.id,
            )
        )
        if role is None:
            repo.add_membership(session, user=account, organisation=organisation, role="supplier")
        elif role != "supplier":
            raise InputError(
                f"{account.email} is {role} in {organisation.name}; a supplier needs an account "
                "of their own (invite another email)"
            )
        _grant, granted = repo.grant_request_access(session, user=account, request=row)
        return Invitation(
            email=account.email,
            organisation=organisation.name,
            request_id=str(row.request_id),
            supplier=row.supplier,
            created_user=created,
            granted=granted,
        )
