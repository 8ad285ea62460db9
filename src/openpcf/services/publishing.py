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
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from openpcf.audit import record_calculation
from openpcf.db import repositories as repo
from openpcf.db.engine import session_scope
from openpcf.exchange.pact import product_footprint
from openpcf.services.calculate import calculate
from openpcf.model.result_json import result_to_dict

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from openpcf.db.models import Footprint
    from openpcf.factors import FactorSet
    from openpcf.model.parameters import Value

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
    overrides: Mapping[str, Value] | None = None,
    gwp: str | None = None,
    factors: FactorSet | None = None,
    now: dt.datetime | None = None,
) -> PublishedFootprint:
    """Calculate the model at ``model_path`` and publish its PACT v3 footprint.

    ``organisation`` is the data owner's name; by default the model's ``product.company_name``.
    The database must be migrated (:func:`openpcf.db.migrate.upgrade`).
    """
    calculation = calculate(model_path, overrides=overrides, gwp=gwp, factors=factors)
    record_calculation(calculation, context={"command": "publish"})
    document = product_footprint(calculation, version="3", created=now)
    product_model = calculation.compiled.model.product
    owner = organisation or product_model.company_name
    period = repo.footprint_facts(document).reference_period
    with session_scope(engine) as session:
        org = repo.ensure_organisation(session, name=owner, company_ids=document["companyIds"])
        product = repo.upsert_product(
            session,
            organisation=org,
            product_ids=document["productIds"],
            name=product_model.name,
            cn_code=product_model.cn_code,
            cpc=product_model.cpc,
        )
        current = repo.find_active_footprint(session, product=product, reference_period=period)
        if current is not None and same_content(current.document, document):
            return _published(current, org.name, new=False, deprecated=None)
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
            document=document,
            preceding=[current] if current is not None else None,
            calculation=record,
            now=now,
        )
        return _published(footprint, org.name, new=True, deprecated=current.id if current else None)


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
