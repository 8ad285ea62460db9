"""Scenario footprints: what-ifs stored apart from the published footprints.

A scenario is stored in ``scenario_footprint`` (:class:`~openpcf.db.models.ScenarioFootprint`),
which no PACT route reads: it is never served, never Active and never deprecates a published
footprint. Nothing here touches the ``footprint`` table.
"""

from __future__ import annotations

import copy
import uuid
from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from openpcf.db.models import CalculationRecord, Organisation, Product, ScenarioFootprint


def find_scenario(
    session: Session, *, product: Product, name: str, footprint_id: uuid.UUID
) -> ScenarioFootprint | None:
    """The scenario ``name`` of ``product`` stored for the footprint ``footprint_id``."""
    found: ScenarioFootprint | None = session.scalar(
        select(ScenarioFootprint).where(
            ScenarioFootprint.product_id == product.id,
            ScenarioFootprint.name == name,
            ScenarioFootprint.footprint_id == footprint_id,
        )
    )
    return found


def store_scenario(
    session: Session,
    *,
    organisation: Organisation,
    product: Product,
    name: str,
    document: Mapping[str, Any],
    parameters: Mapping[str, Any],
    calculation: CalculationRecord | None = None,
) -> ScenarioFootprint:
    """Store ``document`` as scenario ``name`` of ``product`` (its ``id`` is the footprint id).

    A second store of the same name and footprint id is refused by the unique constraint
    (:func:`openpcf.db.concurrency.write_transaction` runs the caller again, which then finds
    it with :func:`find_scenario`).
    """
    row = ScenarioFootprint(
        organisation_id=organisation.id,
        product_id=product.id,
        calculation_id=calculation.id if calculation else None,
        name=name,
        footprint_id=uuid.UUID(str(document["id"])),
        document=copy.deepcopy(dict(document)),
        parameters=dict(parameters),
    )
    session.add(row)
    session.flush()
    return row


def list_scenarios(session: Session, *, product: Product) -> list[ScenarioFootprint]:
    """The scenarios of ``product``, oldest first."""
    return list(
        session.scalars(
            select(ScenarioFootprint)
            .where(ScenarioFootprint.product_id == product.id)
            .order_by(ScenarioFootprint.stored_at, ScenarioFootprint.id)
        )
    )
