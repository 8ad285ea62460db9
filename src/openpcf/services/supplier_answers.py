"""Import a supplier's answered questionnaire: check it, keep it as a supplier footprint.

:func:`import_answer` takes the workbook's bytes (from ``openpcf suppliers import FILE`` or
``POST /supplier-requests/{id}/answer``) and, in this order:

1. opens it at a bounded cost and reads the request id and token of its hidden metadata
   sheet (:func:`openpcf.suppliers.answers.open_answer`);
2. finds the request and compares the SHA-256 of the token with the stored ``token_sha256``
   in constant time (:func:`hmac.compare_digest`). An unknown request and a wrong token are
   the same :class:`UnknownAnswerRequestError` (HTTP 404), checked **before** anything about
   the answers is reported, so a workbook of someone else's request reveals nothing;
3. refuses a request that is not ``sent`` (:class:`~openpcf.suppliers.errors.AnswerRefusedError`):
   an ``answered`` one already holds an answer (a changed answer would silently replace figures
   a verifier may have seen; the customer rejects it first and sends a new request), an
   ``accepted`` one is primary data already, a ``rejected`` or ``cancelled`` one is closed. An
   overdue request (sent, past its due date) still takes its answer: late data beats none;
4. checks every answer (:meth:`~openpcf.suppliers.answers.AnswerBook.read`, all problems in one
   :class:`~openpcf.suppliers.errors.QuestionnaireError`) and that the declared unit converts
   to the unit the request asks the material in;
5. builds the PACT v3 footprint (:func:`openpcf.suppliers.answer_footprint.answer_footprint`)
   and validates it (:func:`openpcf.services.suppliers.check_received`);
6. in one :func:`~openpcf.db.concurrency.write_transaction`: locks the request row
   (``SELECT … FOR UPDATE`` on PostgreSQL; SQLite's ``BEGIN IMMEDIATE`` serialises writers),
   checks again that it is ``sent``, stores the footprint for the request's organisation with
   origin ``questionnaire`` and moves the request to ``answered`` with the footprint's id.
   Any error rolls everything back: nothing is written.

:func:`store_form_answer` stores an answer given in the web form the same way (steps 5 and
6; the web page checked the supplier's grant and the answer).

The footprint's id is a UUID5 of the request id and the workbook's SHA-256, so the same answer
imported twice in parallel names the same footprint; the lock makes the second import find
the request answered and be refused.

Design note, no re-issue: a lost workbook cannot be issued again, because only the SHA-256 of
its token is stored; the customer cancels the request and sends a new one (new token).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from openpcf.db import repositories as repo
from openpcf.db.concurrency import write_transaction
from openpcf.db.engine import session_scope
from openpcf.db.errors import NotFoundError
from openpcf.errors import InputError
from openpcf.services.suppliers import check_received, store_received
from openpcf.suppliers.answer_footprint import answer_footprint
from openpcf.suppliers.answers import SupplierAnswer, open_answer
from openpcf.suppliers.errors import AnswerRefusedError, Problem, QuestionnaireError

if TYPE_CHECKING:
    from sqlalchemy import Engine
    from sqlalchemy.orm import Session

    from openpcf.db.models import SupplierRequest

#: namespace of the footprint ids made from answers (UUID5 of request id and workbook hash)
_ANSWER_NAMESPACE = uuid.UUID("0b7d3f3e-5c44-4b6e-9f5e-3f1f0f6c2a77")
ORIGIN = "questionnaire"


class UnknownAnswerRequestError(NotFoundError, InputError):
    """No request matches the workbook: unknown id, or a token that is not the request's.

    One class and one message for both, so that an answer cannot probe which requests exist.
    A :class:`NotFoundError` for the API (404), an :class:`InputError` for the CLI (exit 2).
    """


_UNKNOWN = (
    "{name}: this workbook does not answer any open request of this installation (unknown "
    "request, or a workbook that was not issued for it): answer in the workbook your customer "
    "sent you"
)


@dataclass(frozen=True, slots=True, kw_only=True)
class ImportedAnswer:
    """What an import stored."""

    request_id: uuid.UUID
    organisation: str
    supplier: str
    product_name: str
    material: str
    material_name: str
    footprint_id: uuid.UUID
    declared_unit: str
    pcf: str  # kg CO2e per declared unit (pcfExcludingBiogenicUptake)
    status: str
    document: dict[str, Any]

    def as_dict(self) -> dict[str, Any]:
        return {
            "requestId": str(self.request_id),
            "organisation": self.organisation,
            "supplier": self.supplier,
            "productName": self.product_name,
            "material": self.material,
            "materialName": self.material_name,
            "footprintId": str(self.footprint_id),
            "declaredUnit": self.declared_unit,
            "pcfExcludingBiogenicUptake": self.pcf,
            "status": self.status,
        }


def import_answer(
    data: bytes,
    *,
    name: str,
    engine: Engine,
    now: dt.datetime,
    request_id: uuid.UUID | None = None,
) -> ImportedAnswer:
    """Check the answered workbook ``data`` and store its footprint (see the module docstring).

    ``request_id``: the request the caller expects (the HTTP route's path); a workbook of
    another request is then an :class:`UnknownAnswerRequestError` as well.

    Raises
    ------
    UnknownAnswerRequestError
        No such request, a wrong token, or another request than ``request_id``.
    AnswerRefusedError
        The request is not waiting for an answer (answered, accepted, rejected, cancelled).
    QuestionnaireError
        The workbook or its answers, with every problem (sheet, cell, reason).
    """
    try:
        book = open_answer(data, name=name)
    except QuestionnaireError as e:
        if e.request_id is not None and e.token is not None:
            _authenticate(engine, e.request_id, e.token, name, request_id)
        elif request_id is not None and e.request_id not in (None, request_id):
            raise UnknownAnswerRequestError(_UNKNOWN.format(name=name)) from None
        raise
    unit, material = _authenticate(engine, book.request_id, book.token, name, request_id)
    answer = book.read(unit=unit)
    footprint_id = uuid.uuid5(
        _ANSWER_NAMESPACE, f"{book.request_id}:{hashlib.sha256(data).hexdigest()}"
    )
    document = answer_footprint(answer, material=material, footprint_id=footprint_id, created=now)
    problems = check_received(document, version="3")
    if problems:
        raise QuestionnaireError(
            name,
            [Problem("(footprint)", "", f"the PACT footprint made of it: {p}") for p in problems],
        )
    return write_transaction(
        engine,
        lambda session: _store(session, answer, document, footprint_id, name, now),
        what=f"the answer to request {book.request_id}",
    )


def store_form_answer(
    answer: SupplierAnswer,
    *,
    engine: Engine,
    now: dt.datetime,
    fingerprint: bytes,
) -> ImportedAnswer:
    """Store an answer given in the web form (:mod:`openpcf.suppliers.answer_form`).

    The caller has checked who may answer the request (a signed-in supplier's grant, instead
    of a workbook's token) and the answer itself; this builds and validates the PACT
    footprint like :func:`import_answer` and stores it in the same write transaction (the
    request locked, still ``sent``, then ``answered``). ``fingerprint``: the bytes the
    footprint id is made from (the form's values, canonical), as the workbook's bytes are.

    Raises
    ------
    UnknownAnswerRequestError
        No such request.
    AnswerRefusedError
        The request is not waiting for an answer.
    QuestionnaireError
        The PACT footprint made of the answer is not valid.
    """
    name = answer.name
    with session_scope(engine) as session:
        try:
            row = repo.get_supplier_request(session, request_id=answer.request_id)
        except NotFoundError:
            raise UnknownAnswerRequestError(_UNKNOWN.format(name=name)) from None
        _require_sent(row, name)
        material = row.material
    footprint_id = uuid.uuid5(
        _ANSWER_NAMESPACE, f"{answer.request_id}:{hashlib.sha256(fingerprint).hexdigest()}"
    )
    document = answer_footprint(answer, material=material, footprint_id=footprint_id, created=now)
    problems = check_received(document, version="3")
    if problems:
        raise QuestionnaireError(
            name,
            [Problem("(footprint)", "", f"the PACT footprint made of it: {p}") for p in problems],
        )
    return write_transaction(
        engine,
        lambda session: _store(session, answer, document, footprint_id, name, now),
        what=f"the answer to request {answer.request_id}",
    )


def _authenticate(
    engine: Engine, request_id: uuid.UUID, token: str, name: str, expected: uuid.UUID | None
) -> tuple[str, str]:
    """(unit, material) of the request the workbook answers; refuses a wrong token and a
    request that is not waiting for an answer."""
    if expected is not None and request_id != expected:
        raise UnknownAnswerRequestError(_UNKNOWN.format(name=name))
    with session_scope(engine) as session:
        try:
            row = repo.get_supplier_request(session, request_id=request_id)
        except NotFoundError:
            raise UnknownAnswerRequestError(_UNKNOWN.format(name=name)) from None
        if not token_matches(token, row.token_sha256):
            raise UnknownAnswerRequestError(_UNKNOWN.format(name=name))
        _require_sent(row, name)
        return row.unit, row.material


def token_matches(token: str, token_sha256: str) -> bool:
    """Whether ``token`` hashes to ``token_sha256`` (compared in constant time)."""
    digest = hashlib.sha256(token.encode("utf-8")).hexdigest()
    return hmac.compare_digest(digest, token_sha256.strip().lower())


def _require_sent(row: SupplierRequest, name: str) -> None:
    if row.status == "sent":
        return
    why = {
        "answered": (
            f"was answered already (footprint {row.supplier_footprint_id}, "
            f"{row.answered_at:%Y-%m-%d}); a changed answer needs a new request: ask your "
            "customer to reject the answer and send a new questionnaire"
            if row.answered_at
            else "was answered already"
        ),
        "accepted": "was answered and its answer accepted; it takes no further answer",
        "rejected": "was closed (its answer was rejected); answer the new request you receive",
        "cancelled": "was cancelled by your customer; it takes no answer",
    }.get(row.status, f"is {row.status}")
    raise AnswerRefusedError(f"{name}: request {row.request_id} {why}")


def _store(
    session: Session,
    answer: SupplierAnswer,
    document: dict[str, Any],
    footprint_id: uuid.UUID,
    name: str,
    now: dt.datetime,
) -> ImportedAnswer:
    row = repo.get_supplier_request(session, request_id=answer.request_id)
    session.refresh(row, with_for_update=True)  # waits for a concurrent import of it
    _require_sent(row, name)
    store_received(
        session,
        organisation=row.organisation,
        documents=[document],
        origin=ORIGIN,
        source=f"questionnaire answer {name}"[:2048],
        now=now,
    )
    repo.set_supplier_request_status(
        session, request=row, status="answered", at=now, supplier_footprint_id=footprint_id
    )
    return ImportedAnswer(
        request_id=row.request_id,
        organisation=row.organisation.name,
        supplier=row.supplier,
        product_name=row.product_name,
        material=row.material,
        material_name=row.material_name,
        footprint_id=footprint_id,
        declared_unit=answer.declared_unit,
        pcf=document["pcf"]["pcfExcludingBiogenicUptake"],
        status=row.status,
        document=document,
    )
