"""``POST /supplier-requests/{request_id}/answer``: a supplier sends its answered workbook.

The supplier has no account here: the workbook is the credential. Its hidden metadata sheet
holds the request's token (only its SHA-256 is stored), and the body is that workbook
(``application/vnd.openxmlformats-officedocument.spreadsheetml.sheet``, within the host's
body limit). Design note, why the token is read from the workbook and not from a header:
the token is written into the workbook only (:class:`~openpcf.suppliers.spec.QuestionnaireRequest`),
so a header would need the supplier to dig it out of a very hidden sheet, or the token to be
shown elsewhere as well; the upload form of a web UI sends the file as it is.

Answers (:func:`openpcf.services.supplier_answers.import_answer`):

=======  ====================================================================================
200      stored: the request, supplier, material, footprint id, PCF, status ``answered``
400      the workbook or its answers are refused; ``message`` lists every problem with its
         sheet, cell and reason; also a request that takes no answer (answered, accepted,
         rejected, cancelled)
404      unknown request, a workbook of another request or a wrong token (one answer for all,
         so requests cannot be probed)
413      a body above the host's limit
429      too many uploads from one address (counted under the host's per-address events limit,
         ``RateLimits.events_per_address``)
=======  ====================================================================================
"""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Request

from openpcf.api.deps import Body, State
from openpcf.api.schemas import PACT_ERRORS
from openpcf.db.base import utcnow
from openpcf.services.supplier_answers import import_answer

router = APIRouter(tags=["suppliers"], responses=PACT_ERRORS)


@router.post(
    "/supplier-requests/{request_id}/answer",
    summary="A supplier's answered questionnaire workbook (no account: the workbook's token)",
)
def answer_request(
    request_id: uuid.UUID, body: Body, state: State, request: Request
) -> dict[str, Any]:
    address = request.client.host if request.client else "unknown"
    state.limiter.hit("events_per_address", address, what=f"questionnaire uploads from {address}")
    done = import_answer(
        body,
        name=f"the workbook sent for request {request_id}",
        engine=state.engine,
        now=utcnow(),
        request_id=request_id,
    )
    return done.as_dict()
