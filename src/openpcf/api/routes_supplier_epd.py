"""``POST /supplier-epds``: a supplier's EPD (ILCD+EPD XML body) stored as supplier data.

The token needs the scope ``suppliers:manage``; the footprint is stored for the token's own
organisation. A bad EPD is answered 400 with the reason (file, element, why), nothing stored.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Query

from openpcf.api.deps import Body, Claims, State
from openpcf.api.schemas import PACT_ERRORS
from openpcf.db.engine import session_scope
from openpcf.db.models import Organisation
from openpcf.services.pact.host import acting_organisation
from openpcf.services.supplier_epd import import_epd

router = APIRouter(responses=PACT_ERRORS)


@router.post("/supplier-epds", status_code=201)
def post_supplier_epd(
    claims: Claims,
    state: State,
    body: Body,
    product_id: Annotated[str, Query(alias="productId", max_length=300)],
    supplier: Annotated[str, Query(max_length=300)],
    unit: Annotated[str, Query(max_length=20)] = "kg",
    mass_kg: Annotated[float | None, Query(alias="massKg")] = None,
) -> dict[str, Any]:
    """Import the EPD in the body for the token's organisation; 201 with the footprint."""
    with session_scope(state.engine) as session:
        org_id = acting_organisation(session, claims, "suppliers:manage")
        org = session.get(Organisation, org_id)
        org_name = org.name if org is not None else None
    done = import_epd(
        body,
        product_id=product_id,
        supplier=supplier,
        engine=state.engine,
        organisation=org_name,
        today=dt.datetime.now(dt.UTC).date(),
        declared_unit=unit,
        mass_per_declared_unit=mass_kg,
        label="request body",
    )
    epd = done.epd
    return {
        "footprintId": done.footprint["id"],
        "new": done.new,
        "expired": epd.expired,
        "validUntil": epd.valid_until.isoformat() if epd.valid_until else None,
        "registration": epd.registration,
        "verifier": epd.verifier,
        "warnings": done.warnings,
        "footprint": done.footprint,
    }
