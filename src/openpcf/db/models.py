"""Tables of the PACT exchange: organisations, API clients, products, footprints, events,
the requests this host sent and the supplier footprints it received.

A footprint row holds the PACT document exactly as published (``document``) plus columns copied
out of it so the host can filter in SQL on both backends:

* ``status``, ``reference_period_*``, ``geography_*`` and ``spec_version`` are plain columns;
* ``validity_start``/``validity_end`` hold the *effective* validity: the document's
  ``validityPeriodStart``/``End`` or, when absent, PACT's default ``referencePeriodEnd`` …
  ``referencePeriodEnd + 3 years``, so the ``validOn``/``validAfter``/``validBefore`` filters are
  plain comparisons;
* the list-valued filter keys (product ids, company ids, classifications and the geography
  codes) are rows of :class:`FootprintKey`, lower-cased, one per value.

Design note: the key table rather than JSON-array columns because "any of these values, ignoring
case" on a JSON array needs ``json_each`` on SQLite and ``jsonb`` operators on PostgreSQL, cannot
use an index and gets case-insensitivity wrong on one of them. With the key table every v3 filter
is the same portable ``EXISTS (… kind = ? AND value IN (…))`` on an indexed column.

Footprints are immutable (PACT v3 ADR-41): a listener refuses any update of a footprint other
than deprecating it, which changes ``status``, ``status_changed_at`` and the ``status`` member of
the document (plus ``version``/``updated`` for a v2.x document, whose lifecycle asks for that).
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
    event,
    inspect,
    select,
    text,
)
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Mapped, Mapper, mapped_column, relationship

from openpcf.db.base import Base, utcnow
from openpcf.db.errors import ImmutableFootprintError

ACTIVE = "Active"
DEPRECATED = "Deprecated"
STATUSES = (ACTIVE, DEPRECATED)

#: Kinds of :class:`FootprintKey` rows, named after the v3 ListFootprints query parameters.
KEY_KINDS = ("productId", "companyId", "classification", "geography")


#: How the host answers the RequestCreated events of an organisation's clients: ``auto`` at
#: once, in the transaction that stores the request; ``review`` holds it for a person
#: (:mod:`openpcf.services.pact.review`, migration 0010).
ANSWER_MODES = ("auto", "review")


class Organisation(Base):
    """A data owner: the company whose footprints are stored and shared."""

    __tablename__ = "organisation"
    __table_args__ = (
        CheckConstraint("pact_answer_mode IN ('auto', 'review')", name="pact_answer_mode"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    company_ids: Mapped[list[str]] = mapped_column(default=list)
    created: Mapped[dt.datetime] = mapped_column(default=utcnow)
    pact_answer_mode: Mapped[str] = mapped_column(String(8), default="auto", server_default="auto")


class ApiClient(Base):
    """OAuth2 client credentials a data owner gave to one recipient.

    ``secret_hash`` is ``scrypt$n$r$p$<salt b64>$<hash b64>``; the plaintext is never stored.
    """

    __tablename__ = "api_client"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisation.id", ondelete="CASCADE"), index=True
    )
    client_id: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    secret_hash: Mapped[str] = mapped_column(String(255))
    scopes: Mapped[list[str]] = mapped_column(default=list)
    created: Mapped[dt.datetime] = mapped_column(default=utcnow)
    disabled: Mapped[bool] = mapped_column(default=False)

    organisation: Mapped[Organisation] = relationship(lazy="joined")


class Product(Base):
    """A product of an organisation, known by its PACT product ids (URNs)."""

    __tablename__ = "product"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisation.id", ondelete="CASCADE"), index=True
    )
    product_ids: Mapped[list[str]] = mapped_column()
    name: Mapped[str] = mapped_column(String(500))
    cn_code: Mapped[str | None] = mapped_column(String(16))
    cpc: Mapped[str | None] = mapped_column(String(16))
    created: Mapped[dt.datetime] = mapped_column(default=utcnow)

    organisation: Mapped[Organisation] = relationship()


class CalculationRecord(Base):
    """The calculation a published footprint was made from: result and provenance, frozen.

    ``model_text`` is the model's own YAML exactly as loaded (its SHA-256 is
    ``model_sha256``), kept when the model is self-contained and at most the editor's size
    (:func:`openpcf.services.publishing.kept_model_text`), else None, as in records stored
    before migration 0012: the product page recalculates its uncertainty and report from it.
    """

    __tablename__ = "calculation_record"

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("product.id"), index=True)
    model_sha256: Mapped[str] = mapped_column(String(64))
    result: Mapped[dict[str, Any]] = mapped_column()
    provenance: Mapped[dict[str, Any]] = mapped_column()
    model_text: Mapped[str | None] = mapped_column(Text)
    created: Mapped[dt.datetime] = mapped_column(default=utcnow)


class Footprint(Base):
    """One PACT ProductFootprint; ``id`` is the PACT ``id``."""

    __tablename__ = "footprint"
    __table_args__ = (
        CheckConstraint("status IN ('Active', 'Deprecated')", name="status"),
        Index("ix_footprint_product_status", "product_id", "status"),
        # the listing order; product_id makes a page's grant check index-only (migration 0011)
        Index(
            "ix_footprint_organisation_stored_product",
            "organisation_id",
            "stored_at",
            "id",
            "product_id",
        ),
        # one Active footprint per product and reference period (migration 0002)
        Index(
            "uq_footprint_one_active",
            "product_id",
            "reference_period_start",
            "reference_period_end",
            unique=True,
            sqlite_where=text("status = 'Active'"),
            postgresql_where=text("status = 'Active'"),
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"))
    product_id: Mapped[int] = mapped_column(ForeignKey("product.id"))
    calculation_id: Mapped[int | None] = mapped_column(ForeignKey("calculation_record.id"))
    spec_version: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default=ACTIVE)
    status_changed_at: Mapped[dt.datetime | None] = mapped_column()
    created: Mapped[dt.datetime] = mapped_column()
    stored_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    document: Mapped[dict[str, Any]] = mapped_column(JSON)
    preceding_pf_ids: Mapped[list[str]] = mapped_column(default=list)
    reference_period_start: Mapped[dt.datetime] = mapped_column()
    reference_period_end: Mapped[dt.datetime] = mapped_column()
    validity_start: Mapped[dt.datetime] = mapped_column(index=True)
    validity_end: Mapped[dt.datetime] = mapped_column(index=True)
    geography_region: Mapped[str | None] = mapped_column(String(64))
    geography_country: Mapped[str | None] = mapped_column(String(2))
    geography_subdivision: Mapped[str | None] = mapped_column(String(8))

    organisation: Mapped[Organisation] = relationship()
    product: Mapped[Product] = relationship()
    keys: Mapped[list[FootprintKey]] = relationship(
        cascade="all, delete-orphan", passive_deletes=True
    )


class FootprintKey(Base):
    """One lower-cased filter value of a footprint (see the module's design note)."""

    __tablename__ = "footprint_key"
    __table_args__ = (
        CheckConstraint(
            "kind IN ('productId', 'companyId', 'classification', 'geography')", name="kind"
        ),
        Index("ix_footprint_key_kind_value", "kind", "value"),
    )

    footprint_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("footprint.id", ondelete="CASCADE"), primary_key=True
    )
    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    value: Mapped[str] = mapped_column(String(500), primary_key=True)


class FootprintAccess(Base):
    """The data owner lets one client see every footprint of one product."""

    __tablename__ = "footprint_access"
    __table_args__ = (UniqueConstraint("client_id", "product_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("api_client.id", ondelete="CASCADE"))
    product_id: Mapped[int] = mapped_column(
        ForeignKey("product.id", ondelete="CASCADE"), index=True
    )
    granted: Mapped[dt.datetime] = mapped_column(default=utcnow)


class Event(Base):
    """An inbound CloudEvent; ``(source, event_id)`` is unique so a replay is refused.

    A RequestCreated event held for a person to answer (the organisation's answer mode is
    ``review``) has ``answer_state`` ``pending`` and the CloudEvents ``answer_source`` its
    answer will carry; answering sets ``answered`` once (:func:`openpcf.db.repositories.
    events.mark_request_answered`). ``answer_state`` is NULL for every other event,
    requests the host answered itself included.
    """

    __tablename__ = "event"
    __table_args__ = (
        UniqueConstraint("source", "event_id"),
        CheckConstraint("answer_state IN ('pending', 'answered')", name="answer_state"),
        Index(
            "ix_event_pending_client",
            "client_id",
            sqlite_where=text("answer_state = 'pending'"),
            postgresql_where=text("answer_state = 'pending'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[str] = mapped_column(String(255))
    source: Mapped[str] = mapped_column(String(1024))
    type: Mapped[str] = mapped_column(String(255))
    client_id: Mapped[int | None] = mapped_column(ForeignKey("api_client.id", ondelete="SET NULL"))
    received: Mapped[dt.datetime] = mapped_column(default=utcnow)
    payload: Mapped[dict[str, Any]] = mapped_column()
    answer_state: Mapped[str | None] = mapped_column(String(16))
    answer_source: Mapped[str | None] = mapped_column(String(1024))
    answered_at: Mapped[dt.datetime | None] = mapped_column()
    answered_by: Mapped[str | None] = mapped_column(String(320))


class OutboxEvent(Base):
    """An outgoing event, retried with exponential backoff until delivered or abandoned."""

    __tablename__ = "outbox_event"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    organisation_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisation.id", ondelete="CASCADE")
    )
    target_url: Mapped[str] = mapped_column(String(2048))
    payload: Mapped[dict[str, Any]] = mapped_column()
    attempts: Mapped[int] = mapped_column(default=0)
    created: Mapped[dt.datetime] = mapped_column(default=utcnow)
    next_attempt_at: Mapped[dt.datetime | None] = mapped_column(index=True)
    last_error: Mapped[str | None] = mapped_column(Text)
    delivered_at: Mapped[dt.datetime | None] = mapped_column()
    abandoned_at: Mapped[dt.datetime | None] = mapped_column()


#: How a supplier footprint reached this host (:class:`SupplierFootprint`).
ORIGINS = ("pulled", "answered", "imported", "questionnaire", "epd")


class PactRequest(Base):
    """A RequestCreated event this host sent to a supplier's PACT host (``openpcf pact request``).

    Recorded *before* it is sent, so that the answer cannot arrive first. An inbound Fulfilled
    or Rejected event is accepted only as the answer to one of these rows: its
    ``requestEventId`` is ``event_id``, it arrives with the token of ``client`` (the API client
    this host issued to that supplier), on the same API version, and only once
    (``answered_at``).
    """

    __tablename__ = "pact_request"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[str] = mapped_column(String(255), unique=True)
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisation.id", ondelete="CASCADE"), index=True
    )
    client_id: Mapped[int | None] = mapped_column(ForeignKey("api_client.id", ondelete="SET NULL"))
    target_url: Mapped[str] = mapped_column(String(2048))
    version: Mapped[str] = mapped_column(String(1))
    payload: Mapped[dict[str, Any]] = mapped_column()
    sent_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    answered_at: Mapped[dt.datetime | None] = mapped_column()
    answer_type: Mapped[str | None] = mapped_column(String(255))
    answer_event_id: Mapped[str | None] = mapped_column(String(255))

    organisation: Mapped[Organisation] = relationship()
    client: Mapped[ApiClient | None] = relationship()


class SupplierFootprint(Base):
    """A supplier's PACT footprint held by one organisation (the receiving data owner).

    ``document`` is the footprint exactly as received, ``sha256`` the hash of its canonical JSON.
    ``(organisation_id, footprint_id)`` is unique and a row never changes: the same id with the
    same content again is a no-op, with different content it is refused (PACT footprints are
    immutable; a changed one has a new id and names the old one in ``precedingPfIds``).
    ``origin`` says how it came (``pulled`` with ``openpcf pact pull``, ``answered`` in reply to
    our request, ``imported`` from a file, ``questionnaire`` from an accepted questionnaire
    answer, ``epd`` from a supplier's EPD), ``source`` from where (the supplier's host, the
    answer's event source, the file) and ``client_id``/``request_event_id`` which API client
    delivered the answer to which request.
    """

    __tablename__ = "supplier_footprint"
    __table_args__ = (
        UniqueConstraint("organisation_id", "footprint_id"),
        CheckConstraint(
            "origin IN ('pulled', 'answered', 'imported', 'questionnaire', 'epd')", name="origin"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id", ondelete="CASCADE"))
    footprint_id: Mapped[uuid.UUID] = mapped_column(index=True)
    spec_version: Mapped[str] = mapped_column(String(16))
    status: Mapped[str | None] = mapped_column(String(16))
    created: Mapped[dt.datetime | None] = mapped_column()
    document: Mapped[dict[str, Any]] = mapped_column(JSON)
    sha256: Mapped[str] = mapped_column(String(64))
    origin: Mapped[str] = mapped_column(String(16))
    source: Mapped[str] = mapped_column(String(2048))
    client_id: Mapped[int | None] = mapped_column(ForeignKey("api_client.id", ondelete="SET NULL"))
    request_event_id: Mapped[str | None] = mapped_column(String(255))
    received_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    organisation: Mapped[Organisation] = relationship()
    products: Mapped[list[SupplierFootprintProduct]] = relationship(
        cascade="all, delete-orphan", passive_deletes=True
    )


class SupplierFootprintProduct(Base):
    """One lower-cased product id of a supplier footprint, so product URNs are found in SQL."""

    __tablename__ = "supplier_footprint_product"

    supplier_footprint_id: Mapped[int] = mapped_column(
        # named by hand: the convention's name is longer than PostgreSQL's 63 characters
        ForeignKey(
            "supplier_footprint.id", ondelete="CASCADE", name="fk_supplier_footprint_product_row"
        ),
        primary_key=True,
    )
    product_id: Mapped[str] = mapped_column(String(500), primary_key=True, index=True)


class ScenarioFootprint(Base):
    """A what-if footprint (``openpcf publish --param ... --scenario NAME``), kept apart.

    Design note: scenarios have their own table rather than a flag on :class:`Footprint`, so
    the database itself keeps them from the live footprint: every PACT route reads
    ``footprint`` only, so a scenario is never served to a buyer; it has no ``status``, so it
    is never Active and never counts against the one-Active index (migration 0002); storing
    one writes no ``footprint`` row, so it deprecates nothing. A flag would leave each of
    these to every query remembering ``WHERE NOT scenario`` (issue 13: ``publish --param``
    replaced the live footprint). ``(product_id, name, footprint_id)`` is unique: the same
    scenario with the same calculation is stored once; a changed one is another row.
    """

    __tablename__ = "scenario_footprint"
    __table_args__ = (UniqueConstraint("product_id", "name", "footprint_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisation.id", ondelete="CASCADE"), index=True
    )
    product_id: Mapped[int] = mapped_column(ForeignKey("product.id", ondelete="CASCADE"))
    calculation_id: Mapped[int | None] = mapped_column(ForeignKey("calculation_record.id"))
    name: Mapped[str] = mapped_column(String(100))
    footprint_id: Mapped[uuid.UUID] = mapped_column()
    document: Mapped[dict[str, Any]] = mapped_column(JSON)
    parameters: Mapped[dict[str, Any]] = mapped_column(JSON)
    stored_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


#: Statuses of a supplier data request as stored; "overdue" is computed (sent, past due).
REQUEST_STATUSES = ("sent", "answered", "accepted", "rejected", "cancelled")
#: Statuses in which a request is open: at most one open request per product input.
OPEN_REQUEST_STATUSES = ("sent", "answered")
_OPEN_REQUEST = text("status IN ('sent', 'answered')")


class SupplierRequest(Base):
    """A request for primary data, sent to one supplier for one purchased input of a model.

    ``request_id`` is the public id written into the questionnaire workbook or the PACT
    RequestCreated event; ``token_sha256`` the SHA-256 of the secret written into the workbook
    only, so an answer is accepted for this request alone. The product input is named by the
    model's product URN (``product_id``) and the input's key (``input_key``, as the compiler
    names exchanges: ``process/source[#n]``). The database keeps at most one *open* request
    (sent or answered) per organisation, product and input (a partial unique index), so two
    ``openpcf suppliers request`` runs in parallel cannot send the same request twice.
    ``overdue`` is not stored: a sent request past its ``due`` date is overdue.
    """

    __tablename__ = "supplier_request"
    __table_args__ = (
        CheckConstraint(
            "status IN ('sent', 'answered', 'accepted', 'rejected', 'cancelled')", name="status"
        ),
        CheckConstraint("channel IN ('pact', 'questionnaire')", name="channel"),
        Index(
            "uq_supplier_request_open_input",
            "organisation_id",
            "product_id",
            "input_key",
            unique=True,
            sqlite_where=_OPEN_REQUEST,
            postgresql_where=_OPEN_REQUEST,
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[uuid.UUID] = mapped_column(unique=True)
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisation.id", ondelete="CASCADE"), index=True
    )
    product_id: Mapped[str] = mapped_column(String(500))
    product_name: Mapped[str] = mapped_column(String(500))
    model_sha256: Mapped[str] = mapped_column(String(64))
    process_id: Mapped[str] = mapped_column(String(255))
    input_key: Mapped[str] = mapped_column(String(1000))
    input_kind: Mapped[str] = mapped_column(String(32))
    material: Mapped[str] = mapped_column(String(1000))
    material_name: Mapped[str] = mapped_column(String(1000))
    amount: Mapped[float] = mapped_column()
    unit: Mapped[str] = mapped_column(String(64))
    supplier: Mapped[str] = mapped_column(String(500))
    supplier_url: Mapped[str | None] = mapped_column(String(2048))
    channel: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16))
    due: Mapped[dt.date] = mapped_column()
    token_sha256: Mapped[str] = mapped_column(String(64))
    template_version: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    answered_at: Mapped[dt.datetime | None] = mapped_column()
    decided_at: Mapped[dt.datetime | None] = mapped_column()
    decision_note: Mapped[str] = mapped_column(String(2000), default="")
    #: the supplier footprint made from the answer (``supplier_footprint.footprint_id``)
    supplier_footprint_id: Mapped[uuid.UUID | None] = mapped_column()
    #: the RequestCreated event id (channel ``pact``)
    pact_event_id: Mapped[str | None] = mapped_column(String(255))

    organisation: Mapped[Organisation] = relationship()


class Sku(Base):
    """A product an organisation sells (a stock-keeping unit), for the compliance dossier.

    ``cn_code`` (digits) decides which requirements of the catalogue apply; ``rules`` is the
    product's rule-set id when known; ``product_urn`` links it to a product model.
    """

    __tablename__ = "sku"
    __table_args__ = (UniqueConstraint("organisation_id", "sku"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id", ondelete="CASCADE"))
    sku: Mapped[str] = mapped_column(String(255))
    name: Mapped[str] = mapped_column(String(500))
    cn_code: Mapped[str] = mapped_column(String(16))
    rules: Mapped[str | None] = mapped_column(String(100))
    product_urn: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    organisation: Mapped[Organisation] = relationship()
    evidence: Mapped[list[Evidence]] = relationship(
        cascade="all, delete-orphan", passive_deletes=True
    )


class Evidence(Base):
    """A document held for a SKU against one requirement of the catalogue: who issued it
    (and under which accreditation), when, until when, and the SHA-256 of the file.

    ``(sku_id, requirement_id, file_sha256)`` is unique: recording the same file again for the
    same requirement is a no-op; a renewed document is another row (the latest counts).
    """

    __tablename__ = "evidence"
    __table_args__ = (UniqueConstraint("sku_id", "requirement_id", "file_sha256"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    sku_id: Mapped[int] = mapped_column(ForeignKey("sku.id", ondelete="CASCADE"), index=True)
    requirement_id: Mapped[str] = mapped_column(String(100))
    document: Mapped[str] = mapped_column(String(500))
    issuer: Mapped[str] = mapped_column(String(500))
    accreditation: Mapped[str] = mapped_column(String(500), default="")
    issued: Mapped[dt.date] = mapped_column()
    expires: Mapped[dt.date | None] = mapped_column()
    file_name: Mapped[str] = mapped_column(String(500))
    file_sha256: Mapped[str] = mapped_column(String(64))
    recorded_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


# --------------------------------------------------------------------------------------------
# immutability guard

#: Columns a deprecation may change; every other column of a stored footprint is frozen.
_DEPRECATION_COLUMNS = frozenset({"status", "status_changed_at", "document"})
#: Document members a deprecation may change (``version``/``updated`` only exist in v2.x).
_DEPRECATION_MEMBERS = frozenset({"status", "version", "updated"})


@event.listens_for(Footprint, "before_update")
def _refuse_changes(mapper: Mapper[Footprint], connection: Connection, target: Footprint) -> None:
    state = inspect(target)
    changed = {
        attr.key for attr in mapper.column_attrs if state.attrs[attr.key].history.has_changes()
    }
    if not changed:
        return
    frozen = changed - _DEPRECATION_COLUMNS
    if frozen:
        raise ImmutableFootprintError(
            f"footprint {target.id}: {', '.join(sorted(frozen))} cannot change once published; "
            "publish a new footprint that names this one in precedingPfIds"
        )
    old_status = _old_value(state, connection, target, "status")
    if old_status == DEPRECATED:
        raise ImmutableFootprintError(
            f"footprint {target.id} is Deprecated and can never change again"
        )
    if "document" in changed:
        old = _old_value(state, connection, target, "document")
        new = target.document
        keys = (set(old) | set(new)) - _DEPRECATION_MEMBERS
        if any(old.get(k) != new.get(k) for k in keys) or new.get("status") != target.status:
            raise ImmutableFootprintError(
                f"footprint {target.id}: only its status may change once published (PACT v3 "
                "ADR-41); publish a new footprint that names this one in precedingPfIds"
            )


def _old_value(state: Any, connection: Connection, target: Footprint, key: str) -> Any:
    """The value of ``key`` before this flush (read from the database if never loaded)."""
    history = state.attrs[key].history
    if history.deleted:
        return history.deleted[0]
    if not history.added:
        return getattr(target, key)
    column = Footprint.__table__.c[key]
    return connection.execute(select(column).where(Footprint.__table__.c.id == target.id)).scalar()


# the web application's accounts live in their own module; importing it here puts their tables
# on the one metadata wherever the models are loaded (migrations, tests)
from openpcf.db import web_models as web_models  # noqa: E402
