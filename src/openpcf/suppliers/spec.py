"""What a questionnaire asks one supplier about one purchased input (the request, as the
workbook and the web form show it).

Made by the request service (:mod:`openpcf.services.supplier_requests`) when a request goes
out by questionnaire, turned into a workbook by :mod:`openpcf.suppliers.workbook`, and checked
against the answer when it comes back (:mod:`openpcf.services.supplier_answers`).
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

#: The questionnaire template's version, written into every workbook; an answer in another
#: version is refused (the cells it reads would not be where this version expects them).
TEMPLATE_VERSION = "1"


@dataclass(frozen=True, slots=True, kw_only=True)
class QuestionnaireRequest:
    """One request for primary data, as the supplier sees it."""

    request_id: uuid.UUID
    #: the per-request secret; only its SHA-256 is stored, so only the workbook can answer
    token: str
    template_version: str
    customer: str  # the organisation asking (the model's product.company_name)
    supplier: str
    product_name: str  # the customer's product the input goes into
    material: str  # the input as the model names it (factor id, background ref, ...)
    material_name: str  # a readable name of the material
    amount: float  # per declared unit of the customer's product, in ``unit``
    unit: str
    due: dt.date
