"""Data requests to suppliers: send them, list them, and decide on their answers.

:func:`request_data` finds the purchased inputs of a product model
(:mod:`openpcf.suppliers.requests`) and creates one request per input that names its
``supplier:``, each in its own write transaction. The database keeps one *open* (sent or
answered) request per organisation, product and input (a partial unique index), so a second
run, or four runs in parallel, create nothing twice: an input with an open request is
reported as such and skipped.

Channels: a supplier that is one of our configured PACT peers gets a PACT RequestCreated
event (:func:`openpcf.services.pact.pull.send_request`, whose event id is kept in
``pact_event_id``; the answer arrives on our host and moves the request to ``answered``,
:mod:`openpcf.services.pact.answers`). Every other supplier gets a bilingual questionnaire
workbook (:func:`openpcf.suppliers.workbook.build_workbook`) written to
``<out_dir>/<supplier-slug>_<request id>.xlsx``, carrying a secret token of which only the
SHA-256 is stored, so only that workbook can answer the request.

Design note, which supplier is a PACT peer: a peer (``openpcf pact peer``) is configured for
one of *our* API clients, the credentials the supplier answers with. The supplier named in a
model (``supplier: Baosteel``) is that peer when the organisation has an API client whose
name is the supplier's name (ignoring case) and that client has a peer entry, and a PACT
channel (our own host's public URL, where the answer is sent) is given. The request is
claimed in the database first and sent after the commit: of four parallel runs only the one
that claimed it sends it. A request whose sending fails is cancelled (with the reason), so the
next run sends it again.

Lifecycle (:mod:`openpcf.db.repositories.requests`): ``sent`` → ``answered`` →
``accepted`` | ``rejected``; ``sent`` or ``answered`` → ``cancelled``. ``overdue`` is shown
for a sent request past its due date (computed against ``today``, never stored).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select

from openpcf.db import repositories as repo
from openpcf.db.concurrency import write_transaction
from openpcf.db.engine import session_scope
from openpcf.db.errors import NotFoundError
from openpcf.db.models import ApiClient, Organisation, SupplierRequest
from openpcf.errors import InputError
from openpcf.files.durable import atomic_write
from openpcf.model.compiler import CompiledModel, compile_model
from openpcf.model.loading import LoadedModel, load_model
from openpcf.services.calculate import active_factor_set, user_resolvers, with_model_sets
from openpcf.services.pact.pull import send_request
from openpcf.suppliers.requests import PurchasedInput, purchased_inputs, slug, without_supplier
from openpcf.suppliers.spec import TEMPLATE_VERSION, QuestionnaireRequest
from openpcf.suppliers.workbook import build_workbook

if TYPE_CHECKING:
    from sqlalchemy import Engine
    from sqlalchemy.orm import Session

    from openpcf.exchange.client import PactClient
    from openpcf.exchange.events import Version
    from openpcf.services.pact.peers import Peer, PeerDirectory
    from openpcf.settings import Settings

#: Statuses a listing may filter on: the stored ones and the computed ``overdue``.
SHOWN_STATUSES = ("sent", "overdue", "answered", "accepted", "rejected", "cancelled")
WorkbookBuilder = Callable[[QuestionnaireRequest], bytes]


# --------------------------------------------------------------------------------------------
# what a request looks like to its readers


@dataclass(frozen=True, slots=True, kw_only=True)
class RequestView:
    """A stored request as the CLI and the API show it (``status`` as shown: ``overdue`` for
    a sent request past its due date)."""

    request_id: str
    organisation: str
    product_id: str
    product_name: str
    process_id: str
    input_key: str
    input_kind: str
    material: str
    material_name: str
    amount: float
    unit: str
    supplier: str
    supplier_url: str | None
    channel: str
    status: str
    stored_status: str
    overdue: bool
    due: dt.date
    created_at: dt.datetime
    answered_at: dt.datetime | None
    decided_at: dt.datetime | None
    decision_note: str
    supplier_footprint_id: str | None
    pact_event_id: str | None

    @classmethod
    def of(cls, row: SupplierRequest, today: dt.date) -> RequestView:
        return cls(
            request_id=str(row.request_id),
            organisation=row.organisation.name,
            product_id=row.product_id,
            product_name=row.product_name,
            process_id=row.process_id,
            input_key=row.input_key,
            input_kind=row.input_kind,
            material=row.material,
            material_name=row.material_name,
            amount=row.amount,
            unit=row.unit,
            supplier=row.supplier,
            supplier_url=row.supplier_url,
            channel=row.channel,
            status=repo.shown_status(row, today),
            stored_status=row.status,
            overdue=repo.is_overdue(row, today),
            due=row.due,
            created_at=row.created_at,
            answered_at=row.answered_at,
            decided_at=row.decided_at,
            decision_note=row.decision_note,
            supplier_footprint_id=(
                str(row.supplier_footprint_id) if row.supplier_footprint_id else None
            ),
            pact_event_id=row.pact_event_id,
        )

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {name: getattr(self, name) for name in self.__slots__}
        for name in ("due", "created_at", "answered_at", "decided_at"):
            value = out[name]
            out[name] = value.isoformat() if value is not None else None
        return out


# --------------------------------------------------------------------------------------------
# sending


@dataclass(frozen=True, slots=True, kw_only=True)
class PactChannel:
    """How requests go out over PACT: our peers, our own host's URL (``source``, where the
    answer is sent) and how to reach a peer's host with the credentials it issued us."""

    peers: PeerDirectory
    source: str
    client_factory: Callable[[Peer], PactClient]
    version: str = "3"


@dataclass(frozen=True, slots=True, kw_only=True)
class Created:
    """One request :func:`request_data` created."""

    request_id: str
    supplier: str
    material: str
    material_name: str
    input_key: str
    channel: str
    workbook: Path | None = None
    pact_event_id: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "request_id": self.request_id,
            "supplier": self.supplier,
            "material": self.material,
            "material_name": self.material_name,
            "input_key": self.input_key,
            "channel": self.channel,
            "workbook": str(self.workbook) if self.workbook else None,
            "pact_event_id": self.pact_event_id,
        }


@dataclass
class RequestReport:
    """What one :func:`request_data` run did."""

    organisation: str
    product_id: str
    created: list[Created] = field(default_factory=list)
    #: inputs that already have an open request: (input, its request id, its status)
    already_open: list[tuple[PurchasedInput, str, str]] = field(default_factory=list)
    #: purchased inputs that name no supplier (nobody to ask)
    no_supplier: list[PurchasedInput] = field(default_factory=list)
    #: PACT requests whose sending failed (cancelled, so a later run sends them again)
    failed: list[tuple[PurchasedInput, str]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "organisation": self.organisation,
            "product_id": self.product_id,
            "created": [c.to_dict() for c in self.created],
            "already_open": [
                {**x.to_dict(), "request_id": rid, "status": status}
                for x, rid, status in self.already_open
            ],
            "no_supplier": [x.to_dict() for x in self.no_supplier],
            "failed": [{**x.to_dict(), "error": error} for x, error in self.failed],
        }


def compiled_for_requests(
    model: Path | str | LoadedModel,
    *,
    settings: Settings | None = None,
    factor_files: Sequence[Path] = (),
) -> CompiledModel:
    """The model compiled as written (no supplier figure substituted, no rule set applied),
    so each input keeps the exchange key its requests are stored under."""
    loaded = model if isinstance(model, LoadedModel) else load_model(model)
    factors = with_model_sets(
        loaded, active_factor_set(factor_files=factor_files, settings=settings)
    )
    resolvers = user_resolvers(settings, organisation=loaded.model.product.company_name)
    return compile_model(loaded, factors=factors, resolvers=resolvers)


def request_data(
    model: Path | str | LoadedModel,
    *,
    engine: Engine,
    due: dt.date,
    out_dir: Path,
    now: dt.datetime,
    organisation: str | None = None,
    settings: Settings | None = None,
    factor_files: Sequence[Path] = (),
    pact: PactChannel | None = None,
    workbook_builder: WorkbookBuilder = build_workbook,
) -> RequestReport:
    """Create a request per purchased input of ``model`` that names its supplier.

    ``organisation`` is the organisation asking (default: the model's
    ``product.company_name``, whose supplier data the calculation reads); it is created if
    new. ``now`` stamps the requests; a due date before ``now``'s date is refused.

    Raises
    ------
    InputError
        A due date in the past; the model's own errors (file:line).
    """
    if due < now.date():
        raise InputError(f"--due {due.isoformat()} is in the past (today is {now.date()})")
    compiled = compiled_for_requests(model, settings=settings, factor_files=factor_files)
    product = compiled.model.product
    org_name = (organisation or product.company_name).strip()
    inputs = purchased_inputs(compiled)
    model_sha256 = hashlib.sha256(compiled.loaded.doc.text.encode()).hexdigest()
    report = RequestReport(
        organisation=org_name, product_id=product.ids[0], no_supplier=without_supplier(inputs)
    )
    for x in inputs:
        if not x.supplier:
            continue
        _request_one(
            x,
            engine=engine,
            report=report,
            base={
                "product_id": product.ids[0],
                "product_name": product.name,
                "model_sha256": model_sha256,
                "due": due,
                "created_at": now,
            },
            out_dir=out_dir,
            pact=pact,
            build=workbook_builder,
            now=now,
        )
    return report


def _request_one(
    x: PurchasedInput,
    *,
    engine: Engine,
    report: RequestReport,
    base: dict[str, Any],
    out_dir: Path,
    pact: PactChannel | None,
    build: WorkbookBuilder,
    now: dt.datetime,
) -> None:
    assert x.supplier is not None
    request_id = uuid.uuid4()
    token = secrets.token_urlsafe(32)
    peer = _peer(engine, report.organisation, x.supplier, pact)
    channel = "pact" if peer is not None else "questionnaire"
    workbook: bytes | None = None
    if channel == "questionnaire":
        workbook = build(
            QuestionnaireRequest(
                request_id=request_id,
                token=token,
                template_version=TEMPLATE_VERSION,
                customer=report.organisation,
                supplier=x.supplier,
                product_name=base["product_name"],
                material=x.material,
                material_name=x.material_name,
                amount=x.amount,
                unit=x.unit,
                due=base["due"],
            )
        )

    def claim(session: Session) -> tuple[str, str] | None:
        org = repo.ensure_organisation(session, name=report.organisation)
        held = repo.find_open_supplier_request(
            session, organisation_id=org.id, product_id=base["product_id"], input_key=x.input_key
        )
        if held is not None:
            return str(held.request_id), held.status
        repo.add_supplier_request(
            session,
            request_id=request_id,
            organisation_id=org.id,
            process_id=x.process_id,
            input_key=x.input_key,
            input_kind=x.kind,
            material=x.material,
            material_name=x.material_name,
            amount=x.amount,
            unit=x.unit,
            supplier=x.supplier,
            supplier_url=peer.base if peer is not None else None,
            channel=channel,
            token_sha256=hashlib.sha256(token.encode()).hexdigest(),
            template_version=TEMPLATE_VERSION,
            **base,
        )
        return None

    held = write_transaction(engine, claim, what=f"the request for {x.input_key}")
    if held is not None:
        report.already_open.append((x, *held))
        return
    created = Created(
        request_id=str(request_id),
        supplier=x.supplier,
        material=x.material,
        material_name=x.material_name,
        input_key=x.input_key,
        channel=channel,
    )
    try:
        if peer is not None:
            assert pact is not None
            event_id = _send(engine, request_id, x, base, peer, pact, now)
            created = replace(created, pact_event_id=event_id)
        else:
            assert workbook is not None
            target = out_dir / f"{slug(x.supplier)}_{request_id}.xlsx"
            atomic_write(target, workbook)
            created = replace(created, workbook=target)
    except Exception as e:
        _cancel_unsent(engine, request_id, f"not sent: {type(e).__name__}: {e}", now)
        if peer is None:
            raise
        report.failed.append((x, f"{type(e).__name__}: {e}"))
        return
    report.created.append(created)


def _peer(
    engine: Engine, organisation: str, supplier: str, pact: PactChannel | None
) -> Peer | None:
    """The PACT peer the supplier answers as (see the module's design note), if any."""
    if pact is None:
        return None
    with session_scope(engine) as session:
        clients = session.scalars(
            select(ApiClient)
            .join(ApiClient.organisation)
            .where(
                func.lower(ApiClient.name) == supplier.strip().lower(),
                ApiClient.disabled.is_(False),
            )
        ).all()
        ids = [c.client_id for c in clients if c.organisation.name == organisation]
    for client_id in ids:
        peer = pact.peers.for_client(client_id)
        if peer is not None:
            return peer
    return None


def _send(
    engine: Engine,
    request_id: uuid.UUID,
    x: PurchasedInput,
    base: dict[str, Any],
    peer: Peer,
    pact: PactChannel,
    now: dt.datetime,
) -> str:
    """Send the RequestCreated event and record its id on the request."""
    criteria = {"productId": [x.material]} if x.material.lower().startswith("urn:") else {}
    comment = (
        f"OpenPCF data request {request_id}: cradle-to-gate PCF of {x.material_name} "
        f"({x.material}), {x.amount:g} {x.unit} per unit of {base['product_name']}, due "
        f"{base['due'].isoformat()}"
    )
    version: Version = "2" if pact.version == "2" else "3"
    with pact.client_factory(peer) as client:
        event_id = send_request(
            client,
            engine=engine,
            answered_by=peer.client_id,
            source=pact.source,
            criteria=criteria,
            version=version,
            comment=comment,
            now=now,
        )

    def record(session: Session) -> None:
        row = repo.get_supplier_request(session, request_id=request_id)
        row.pact_event_id = event_id

    write_transaction(engine, record, what=f"the PACT event id of request {request_id}")
    return event_id


def _cancel_unsent(engine: Engine, request_id: uuid.UUID, why: str, now: dt.datetime) -> None:
    def cancel(session: Session) -> None:
        row = repo.get_supplier_request(session, request_id=request_id)
        repo.set_supplier_request_status(
            session, request=row, status="cancelled", at=now, note=why[:2000]
        )

    write_transaction(engine, cancel, what=f"cancelling unsent request {request_id}")


# --------------------------------------------------------------------------------------------
# reading and deciding


def organisation_id(session: Session, name: str) -> int:
    """The id of the organisation ``name`` (an :class:`InputError` naming it when unknown)."""
    try:
        return repo.get_organisation(session, name=name).id
    except NotFoundError:
        raise InputError(f"no organisation {name!r} in this database") from None


def list_requests(
    engine: Engine,
    *,
    today: dt.date,
    organisation: str | None = None,
    organisation_id_: int | None = None,
    product_id: str | None = None,
    status: str | None = None,
    supplier: str | None = None,
) -> list[RequestView]:
    """The requests of one organisation (by name or id; by name default: the only one),
    oldest first, filtered by product, supplier and shown status (``overdue`` included)."""
    if status is not None and status not in SHOWN_STATUSES:
        raise InputError(f"unknown status {status!r}; use one of {', '.join(SHOWN_STATUSES)}")
    stored = ["sent"] if status == "overdue" else [status] if status else None
    with session_scope(engine) as session:
        org_id = organisation_id_ or _org(session, organisation)
        rows = repo.list_supplier_requests(
            session,
            organisation_id=org_id,
            product_id=product_id,
            statuses=stored,
            supplier=supplier,
        )
        views = [RequestView.of(r, today) for r in rows]
    return [v for v in views if status is None or v.status == status]


def _org(session: Session, name: str | None) -> int:
    if name:
        return organisation_id(session, name)
    names = list(session.scalars(select(Organisation.name).order_by(Organisation.name).limit(21)))
    if len(names) == 1:
        return organisation_id(session, names[0])
    if not names:
        raise InputError("this database holds no organisation yet: no requests were made")
    raise InputError(
        f"this database holds several organisations ({', '.join(names[:20])}); name one with --org"
    )


def get_request(
    engine: Engine, *, request_id: str, today: dt.date, organisation_id_: int | None = None
) -> RequestView:
    """One request (of this organisation, when given: another's answers :class:`NotFoundError`)."""
    with session_scope(engine) as session:
        row = repo.get_supplier_request(
            session, request_id=_uuid(request_id), organisation_id=organisation_id_
        )
        return RequestView.of(row, today)


def decide(
    engine: Engine,
    *,
    request_id: str,
    status: str,
    now: dt.datetime,
    note: str = "",
    organisation_id_: int | None = None,
) -> RequestView:
    """Accept (``accepted``), reject (``rejected``, ``note`` the reason) or cancel
    (``cancelled``) a request.

    Raises
    ------
    NotFoundError
        No such request (of this organisation).
    InputError
        A move the lifecycle refuses (accepting an unanswered request, deciding twice),
        rejecting without a reason, or accepting an answer whose footprint the organisation's
        supplier store does not hold.
    """
    if status not in ("accepted", "rejected", "cancelled"):
        raise InputError(f"a request can be accepted, rejected or cancelled, not {status!r}")
    if status == "rejected" and not note.strip():
        raise InputError("give the reason for rejecting the answer (--reason)")
    rid = _uuid(request_id)

    def work(session: Session) -> RequestView:
        row = repo.get_supplier_request(session, request_id=rid, organisation_id=organisation_id_)
        if status == "accepted" and row.status == "answered":
            _check_footprint_held(session, row)
        repo.set_supplier_request_status(
            session, request=row, status=status, at=now, note=note.strip()[:2000]
        )
        return RequestView.of(row, now.date())

    return write_transaction(engine, work, what=f"the decision on request {request_id}")


def _check_footprint_held(session: Session, row: SupplierRequest) -> None:
    found = (
        repo.find_supplier_footprints(
            session, ref=str(row.supplier_footprint_id), organisation=row.organisation
        )
        if row.supplier_footprint_id
        else []
    )
    if not found:
        raise InputError(
            f"request {row.request_id} is answered, but the supplier footprint "
            f"{row.supplier_footprint_id} is not in {row.organisation.name}'s supplier store; "
            "import the answer again before accepting it"
        )


def summary(
    engine: Engine, *, organisation_id_: int, today: dt.date, product_id: str | None = None
) -> dict[str, Any]:
    """Counts by shown status, the overdue requests' suppliers, and the open requests."""
    views = list_requests(
        engine, today=today, organisation_id_=organisation_id_, product_id=product_id
    )
    return summarise(views)


def summarise(views: Sequence[RequestView]) -> dict[str, Any]:
    counts = dict.fromkeys(SHOWN_STATUSES, 0)
    for v in views:
        counts[v.status] += 1
    return {
        "counts": counts,
        "open": sum(1 for v in views if v.stored_status in ("sent", "answered")),
        "overdue_suppliers": sorted({v.supplier for v in views if v.overdue}),
        "overdue": [v.request_id for v in views if v.overdue],
    }


def _uuid(value: str) -> uuid.UUID:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        raise NotFoundError(f"no supplier request {value!r} (not a request id)") from None
