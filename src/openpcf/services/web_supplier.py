"""The supplier pages and the engineers' requests overview of the web application.

Suppliers (role ``supplier``) see only the requests granted to them
(:mod:`openpcf.db.repositories.web_access`) in the organisation of their session; any other
id is :class:`~openpcf.db.errors.NotFoundError` (404). They answer in the web form
(:mod:`openpcf.suppliers.answer_form`: the workbook's checks) or by uploading the answered
workbook (:func:`openpcf.services.supplier_answers.import_answer`, its token checked as for
``openpcf suppliers import``); either way the answer is stored as a supplier footprint with
origin ``questionnaire`` and the request becomes ``answered``. Or they upload an EPD
(:func:`answer_with_epd`): read and mapped to PACT exactly as ``openpcf suppliers import-epd``
does (:func:`openpcf.suppliers.epd.read_epd`, :func:`openpcf.services.supplier_epd.footprint`),
stored with origin ``epd`` and answering the request the same way.

Engineers and owners list their organisation's requests (filtered by shown status, supplier
and product) and accept or reject answers with
:func:`openpcf.services.supplier_requests.decide`.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from openpcf.core.units import PACT_UNITS, conversion_factor
from openpcf.db import repositories as repo
from openpcf.db.concurrency import write_transaction
from openpcf.db.engine import session_scope
from openpcf.db.errors import NotFoundError
from openpcf.db.models import SupplierFootprint
from openpcf.db.web_models import WebMembership
from openpcf.errors import InputError
from openpcf.exchange.errors import FootprintConflictError
from openpcf.services.supplier_answers import (
    ImportedAnswer,
    UnknownAnswerRequestError,
    import_answer,
    store_form_answer,
)
from openpcf.services.supplier_epd import ORIGIN as EPD_ORIGIN
from openpcf.services.supplier_epd import UNITS as EPD_UNIT_MAP
from openpcf.services.supplier_epd import footprint as epd_footprint
from openpcf.services.supplier_requests import (
    SHOWN_STATUSES,
    RequestView,
    decide,
    list_requests,
)
from openpcf.services.suppliers import check_received, store_received
from openpcf.suppliers.answer_footprint import request_product_id
from openpcf.suppliers.answer_form import GENERAL, check_form, form_names
from openpcf.suppliers.epd import EpdError, read_epd
from openpcf.suppliers.errors import AnswerRefusedError, QuestionnaireError

if TYPE_CHECKING:
    from sqlalchemy import Engine
    from sqlalchemy.orm import Session

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


#: The EPD upload's inputs: the ILCD+EPD XML file, the unit the EPD declares its figures per
#: (the file does not carry it: ``--unit`` of ``import-epd``), and the mass of one declared unit
#: in kg (``--mass-kg``; PACT needs it where the unit is not a mass).
EPD_FILE, EPD_UNIT, EPD_MASS = "epd", "epd_unit", "epd_mass_kg"
#: The declared units an EPD may be per, as ``openpcf suppliers import-epd`` takes them.
EPD_UNITS = tuple(EPD_UNIT_MAP)


def epd_defaults(view: RequestView) -> dict[str, str]:
    """What the EPD upload starts with: the request's own unit when an EPD can be per it."""
    return {EPD_UNIT: view.unit if view.unit in EPD_UNIT_MAP else "kg", EPD_MASS: ""}


def answer_with_epd(
    engine: Engine,
    *,
    user_id: int,
    organisation_id: int,
    request_id: str,
    data: bytes,
    filename: str,
    declared_unit: str,
    mass_kg: str,
    now: dt.datetime,
) -> AnswerOutcome:
    """Answer a granted request with the supplier's EPD (ILCD+EPD XML ``data``).

    The EPD is read and mapped to a PACT v3 footprint exactly as by ``openpcf suppliers
    import-epd`` (A1-A3 GWP-fossil, -biogenic, -luluc; see :mod:`openpcf.services.supplier_epd`)
    for the product id a questionnaire answer of this request gets, validated, and stored with
    origin ``epd`` in the write transaction that moves the request from ``sent`` to
    ``answered`` (as :func:`~openpcf.services.supplier_answers.store_form_answer` does). An EPD
    held already under the same footprint id (same file, product and supplier) is not stored
    twice: the request is answered with the one held.

    Problems by input name: :data:`EPD_UNIT` (unknown, or not convertible to the unit the
    customer buys the material in), :data:`EPD_MASS` (not a positive number, or missing for a
    unit that is not a mass), :data:`EPD_FILE` (not an EPD, refused by the reader, or a
    footprint PACT cannot hold), :data:`GENERAL` (the request takes no answer).
    """
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
    errors = _epd_input_errors(declared_unit, mass_kg, request_unit=view.unit)
    if errors:
        return AnswerOutcome(errors=errors)
    rid = uuid.UUID(view.request_id)
    try:
        epd = read_epd(data, label=filename, today=now.date(), declared_unit=declared_unit)
        document = epd_footprint(
            epd,
            product_id=request_product_id(view.material, rid),
            supplier=view.supplier,
            label=filename,
            mass_per_declared_unit=float(mass_kg) if mass_kg.strip() else None,
        )
    except EpdError as e:
        return AnswerOutcome(errors={EPD_FILE: [str(e)]})
    problems = check_received(document, version="3")
    if problems:
        return AnswerOutcome(
            errors={EPD_FILE: [f"{filename}: the PACT footprint made of it: {p}" for p in problems]}
        )
    try:
        stored = write_transaction(
            engine,
            lambda session: _store_epd_answer(session, rid, document, filename, now),
            what=f"the EPD answer to request {rid}",
        )
    except (AnswerRefusedError, FootprintConflictError) as e:
        return AnswerOutcome(errors={GENERAL: [str(e)]})
    return AnswerOutcome(stored=stored)


def _epd_input_errors(unit: str, mass_kg: str, *, request_unit: str) -> dict[str, list[str]]:
    """The problems of the EPD upload's declared unit and mass (by input name)."""
    errors: dict[str, list[str]] = {}
    if unit not in EPD_UNIT_MAP:
        errors[EPD_UNIT] = [f"declared unit {unit[:20]!r}: choose one of {', '.join(EPD_UNITS)}"]
    else:
        try:
            conversion_factor(PACT_UNITS[EPD_UNIT_MAP[unit][0]], request_unit)
        except InputError:
            errors[EPD_UNIT] = [
                f"an EPD per {unit} cannot be used for the material, which your customer buys "
                f"in {request_unit}: upload an EPD declared per a unit that converts to "
                f"{request_unit}"
            ]
    text = mass_kg.strip()
    try:
        mass = float(text) if text else None
    except ValueError:
        mass = math.nan
    if mass is not None and not (math.isfinite(mass) and mass > 0):
        errors[EPD_MASS] = [f"{text[:40]!r} is not a mass in kg: give a positive number"]
    elif mass is None and unit in EPD_UNIT_MAP and EPD_UNIT_MAP[unit][2] is None:
        errors[EPD_MASS] = [
            f"the EPD is per {unit}: give the mass of one declared unit in kg, which PACT "
            "requires and the EPD file does not carry"
        ]
    return errors


def _store_epd_answer(
    session: Session, rid: uuid.UUID, document: dict[str, Any], filename: str, now: dt.datetime
) -> ImportedAnswer:
    row = repo.get_supplier_request(session, request_id=rid)
    session.refresh(row, with_for_update=True)  # waits for a concurrent answer to it
    if row.status != "sent":
        raise AnswerRefusedError(f"{filename}: request {rid} is {row.status}: it takes no answer")
    footprint_id = uuid.UUID(document["id"])
    if not repo.find_supplier_footprints(
        session, ref=str(footprint_id), organisation=row.organisation
    ):
        store_received(
            session,
            organisation=row.organisation,
            documents=[document],
            origin=EPD_ORIGIN,
            source=f"EPD {filename}, answer to request {rid}"[:2048],
            now=now,
        )
    repo.set_supplier_request_status(
        session, request=row, status="answered", at=now, supplier_footprint_id=footprint_id
    )
    pcf = document["pcf"]
    return ImportedAnswer(
        request_id=row.request_id,
        organisation=row.organisation.name,
        supplier=row.supplier,
        product_name=row.product_name,
        material=row.material,
        material_name=row.material_name,
        footprint_id=footprint_id,
        declared_unit=pcf["declaredUnitOfMeasurement"],
        pcf=pcf["pcfExcludingBiogenicUptake"],
        status=row.status,
        document=document,
    )


# --------------------------------------------------------------------------------------------
# engineers


@dataclass(frozen=True, slots=True, kw_only=True)
class RequestsOverview:
    """The organisation's requests as filtered, and the choices of the filters."""

    rows: list[RequestView]
    statuses: tuple[str, ...]
    suppliers: list[str]
    products: list[tuple[str, str]]  # (product id, product name)
    origins: dict[str, str] = field(default_factory=dict)
    """How each shown answer arrived, by footprint id: ``questionnaire`` (the web form or the
    workbook), ``epd``, ``pact``."""


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
        origins=_answer_origins(engine, organisation_id, rows),
    )


def _answer_origins(
    engine: Engine, organisation_id: int, rows: list[RequestView]
) -> dict[str, str]:
    keys = {uuid.UUID(v.supplier_footprint_id) for v in rows if v.supplier_footprint_id}
    if not keys:
        return {}
    with session_scope(engine) as session:
        found = session.execute(
            select(SupplierFootprint.footprint_id, SupplierFootprint.origin).where(
                SupplierFootprint.organisation_id == organisation_id,
                SupplierFootprint.footprint_id.in_(keys),
            )
        )
        return {str(key): origin for key, origin in found}


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
