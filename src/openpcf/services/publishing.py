"""Publish a product model's footprint: calculate, build the PACT v3 document, store it.

Everything is stored in one transaction: the organisation (created on first use), the product
(found by any of its product ids, else created), the calculation record and the footprint.
If anything fails, nothing is stored.

Republishing follows PACT v3 ADR-41 (footprints are immutable). For the Active footprint of
the same product and the same reference period:

* if the new document has the same content, nothing is stored and that footprint is returned
  (``PublishedFootprint.new`` is ``False``);
* otherwise the new footprint names it in ``precedingPfIds`` and it becomes Deprecated.

"Same content" compares every member of the document except those that differ on every run
or say nothing about the footprint: ``id``, ``created``, ``status``, ``precedingPfIds`` and
``comment`` (which carries the model file's hash and the software version, so a reformatted
model file or a new OpenPCF release with equal numbers does not make a new footprint). A
footprint for a different reference period is a new footprint and deprecates nothing.

The stored footprint's id is the calculation's own
(:attr:`~openpcf.model.calculation.Calculation.footprint_id`), so ``calc --format pact``,
``certificate issue``, ``package`` and the audit trail name the same footprint. Two cases
keep an older id: an unchanged republish returns the footprint already stored, and a
calculation whose id was published before and has since been superseded (a model changed
and changed back) is a new footprint with an id derived from the calculation's and its
predecessor's. :func:`find_published` finds the stored footprint of a calculation in every
case, which is how a certificate binds exactly the document the host serves.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Unpack

from openpcf.db import repositories as repo
from openpcf.db.concurrency import write_transaction
from openpcf.db.engine import session_scope
from openpcf.db.errors import NotFoundError
from openpcf.db.models import ACTIVE, Footprint
from openpcf.errors import InputError
from openpcf.exchange.pact import product_footprint
from openpcf.model.result_json import result_to_dict
from openpcf.services.calculate import CalculationOptions, calculate

if TYPE_CHECKING:
    from sqlalchemy import Engine
    from sqlalchemy.orm import Session

    from openpcf.model.calculation import Calculation

#: Document members left out when deciding whether a republished footprint changed.
VOLATILE_MEMBERS = frozenset({"id", "created", "status", "precedingPfIds", "comment"})


@dataclass(frozen=True, slots=True)
class PublishedFootprint:
    """What :func:`publish` stored, or found already stored."""

    id: uuid.UUID
    organisation: str
    product_ids: tuple[str, ...]
    document: dict[str, Any]
    new: bool
    """``False`` when an identical footprint was published before and is returned instead."""
    deprecated: uuid.UUID | None
    """The footprint this one replaced (now Deprecated), if any."""


def publish(
    model_path: Path | str,
    *,
    engine: Engine,
    organisation: str | None = None,
    now: dt.datetime | None = None,
    **options: Unpack[CalculationOptions],
) -> PublishedFootprint:
    """Calculate the model at ``model_path`` and publish its PACT v3 footprint.

    ``organisation`` is the data owner's name; by default the model's ``product.company_name``.
    ``options`` are those of :func:`~openpcf.services.calculate.calculate`. The database must
    be migrated (:func:`openpcf.db.migrate.upgrade`).

    Safe to run in parallel (processes, threads, hosts on one PostgreSQL): the storing runs
    in :func:`~openpcf.db.concurrency.write_transaction`. A publisher that loses a race (the
    database refuses a second Active footprint of the product and period, or a second new
    organisation of the same name) is rolled back and runs again from reading the Active
    footprint, so concurrent publishes of one product leave exactly one Active footprint and
    one linear chain of ``precedingPfIds``. The calculation itself runs once, outside the
    transaction.
    """
    calculation = calculate(model_path, audit={"command": "publish"}, **options)
    document = product_footprint(calculation, version="3", created=now)
    product_model = calculation.compiled.model.product
    owner = organisation or product_model.company_name
    period = repo.footprint_facts(document).reference_period

    def store(session: Session) -> PublishedFootprint:
        doc = dict(document)  # this attempt's copy: a retry starts from the calculation's id
        org = repo.ensure_organisation(session, name=owner, company_ids=doc["companyIds"])
        product = repo.upsert_product(
            session,
            organisation=org,
            product_ids=doc["productIds"],
            name=product_model.name,
            cn_code=product_model.cn_code,
            cpc=product_model.cpc,
        )
        current = repo.find_active_footprint(session, product=product, reference_period=period)
        if current is not None and same_content(current.document, doc):
            return _published(current, org.name, new=False, deprecated=None)
        if session.get(Footprint, calculation.footprint_id) is not None:
            # published before and superseded since: PACT footprints are immutable, so the
            # same numbers come back under a new id (derived, so find_published still finds it)
            after = str(current.id) if current is not None else "republished"
            doc["id"] = str(uuid.uuid5(calculation.footprint_id, after))
        record = repo.record_calculation(
            session,
            product=product,
            result=result_to_dict(calculation.result),
            provenance=dict(calculation.result.provenance),
        )
        footprint = repo.publish_footprint(
            session,
            organisation=org,
            product=product,
            document=doc,
            preceding=[current] if current is not None else None,
            calculation=record,
            now=now,
        )
        return _published(footprint, org.name, new=True, deprecated=current.id if current else None)

    return write_transaction(
        engine, store, what=f"publishing {document['productIds'][0]} for {owner}"
    )


def find_published(
    engine: Engine,
    calculation: Calculation,
    *,
    document: Mapping[str, Any] | None = None,
    organisation: str | None = None,
) -> dict[str, Any] | None:
    """The stored PACT v3 document of ``calculation``'s footprint, or None if not published.

    That is the Active footprint stored under the calculation's id, else the Active footprint
    of its product and reference period (for ``organisation``, by default the model's
    ``product.company_name``) with the same content as ``document`` (the calculation's own
    PACT v3 document, made here when not given): what :func:`publish` returned for it.
    """
    document = document or product_footprint(calculation, version="3")
    owner = organisation or calculation.compiled.model.product.company_name
    with session_scope(engine) as session:
        stored = session.get(Footprint, calculation.footprint_id)
        if stored is not None and stored.status == ACTIVE:
            return dict(stored.document)
        try:
            org = repo.get_organisation(session, name=owner)
        except NotFoundError:
            return None
        product = repo.find_product(session, organisation=org, product_ids=document["productIds"])
        if product is None:
            return None
        period = repo.footprint_facts(document).reference_period
        current = repo.find_active_footprint(session, product=product, reference_period=period)
        if current is not None and same_content(current.document, document):
            return dict(current.document)
    return None


def same_content(a: Mapping[str, Any], b: Mapping[str, Any]) -> bool:
    """Whether two PACT documents agree on everything but :data:`VOLATILE_MEMBERS`."""
    keys = (set(a) | set(b)) - VOLATILE_MEMBERS
    return all(a.get(k) == b.get(k) for k in keys)


def _published(
    footprint: Footprint, organisation: str, *, new: bool, deprecated: uuid.UUID | None
) -> PublishedFootprint:
    doc = dict(footprint.document)
    return PublishedFootprint(
        id=footprint.id,
        organisation=organisation,
        product_ids=tuple(doc["productIds"]),
        document=doc,
        new=new,
        deprecated=deprecated,
    )


def deliverable_footprint(calculation: Calculation, *, engine: Engine | None) -> dict[str, Any]:
    """The PACT v3 document every deliverable of ``calculation`` carries.

    When the calculation is published, that is the stored document, exactly as
    ``GET /3/footprints/{id}`` serves it; otherwise the calculation's own document under its
    :attr:`~openpcf.model.calculation.Calculation.footprint_id`.
    """
    own = product_footprint(calculation, version="3")
    stored = find_published(engine, calculation, document=own) if engine is not None else None
    return stored if stored is not None else own


def stored_footprint(engine: Engine, footprint_id: str) -> dict[str, Any]:
    """The stored PACT v3 document with this id (any status).

    Raises
    ------
    InputError
        When ``footprint_id`` is not a UUID; :class:`NotFoundError` when nothing is stored
        under it.
    """
    try:
        key = uuid.UUID(footprint_id)
    except ValueError:
        raise InputError(f"{footprint_id!r} is not a footprint id (a UUID)") from None
    with session_scope(engine) as session:
        stored = session.get(Footprint, key)
        if stored is None:
            raise NotFoundError(f"no footprint {key} is stored in this database")
        return dict(stored.document)
