"""OpenPCF's own validator of the PACT ProductFootprint (data model v3.0 and v2.3).

This is OpenPCF's implementation, written as pydantic models from the facts of the
specification: property names, JSON types, which properties are required, patterns, enumerations
and sign rules. It is not WBCSD's OpenAPI file and contains none of its text; nothing is read
from a file at run time.

Implemented:

* **PACT Technical Specifications v3.0** (3.0.3, 2025-11-18), §Data Model: ProductFootprint,
  CarbonFootprint, DataQualityIndicators, Verification, EmissionFactorSource,
  ProductOrSectorSpecificRule, DataModelExtension; §Basic Types, §Qualifiers, §Undefined
  Properties; the decimal types of the OpenAPI components (``Decimal``,
  ``PositiveNonZeroDecimal``, ``PositiveOrZeroDecimal``, ``NegativeOrZeroDecimal``)
  (:mod:`.v3`);
* **PACT Technical Specifications v2.3** (2.3.3, 2025-12-11), §Data Model: #dt-pf,
  #dt-carbonfootprint, #dt-dataqualityindicators, #dt-assurance, #dt-datamodelextension and the
  data types they use (:mod:`.v2`).

:func:`validate` returns the problems as ``"path: what is wrong"`` (``path`` like
``pcf/fossilGhgEmissions`` or ``companyIds/0``; ``(document)`` for the whole document), empty
when the footprint is valid, the same shape as validating against an official OpenAPI file
with :func:`openpcf.exchange.schema.validate_footprint` and ``openapi_path=``.

Design note, where OpenPCF refuses what the official OpenAPI files let through. Every official
example and sample footprint is valid under both, and the verdicts differ only in these cases
(``tests/test_footprint_schema.py`` checks each against the official files when ``../shared``
is present):

* v3's ``PositiveNonZeroDecimal`` and ``NegativeOrZeroDecimal`` patterns anchor only one side of
  their ``|`` (``^a|b$``), so the official file accepts ``"1e-7"`` as a declared unit amount and
  ``"10"`` as a biogenic uptake. OpenPCF checks what the types are named for: a decimal
  ``> 0`` or ``<= 0``;
* v3 DQRs must be from 1 to 5 (the DataQualityIndicators text says MUST; the schema has no
  bounds), and v3 percentages (``primaryDataShare``, ``exemptedEmissionsPercent``) from 0 to
  100 (v2's Percent, a decimal string since ADR 39);
* v2's decimal properties have no pattern and no sign in its OpenAPI file; OpenPCF applies the
  dotted-decimal form and each property's sign as the v2 prose defines them;
* ``specVersion`` must have the major version validated against (a ``2.3.0`` document is not
  a v3 document), and v2's ``version`` must fit its ``int32`` format.

Every other rule is the schema's. Properties neither version defines are accepted (neither
forbids them), and ``null`` is refused (see :class:`.base.PactModel`).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from openpcf.exchange.footprint_schema import v2, v3

#: The ProductFootprint model of each PACT API version ("3": v3.0, "2": v2.3).
MODELS: dict[str, type[BaseModel]] = {"3": v3.ProductFootprint, "2": v2.ProductFootprint}
#: The data-model version each API version validates.
SPEC: dict[str, str] = {"3": "3.0", "2": "2.3"}

_JSON_TYPES = {
    "string_type": "a string",
    "int_type": "an integer",
    "float_type": "a number",
    "bool_type": "true or false",
    "list_type": "an array",
    "dict_type": "an object",
    "model_type": "an object",
}


def _json_type(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return f"the number {value!r}"
    if isinstance(value, str):
        return f"the string {value!r}"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def _message(error: ErrorDetails) -> str:
    kind, given, ctx = error["type"], error["input"], error.get("ctx", {})
    if kind == "missing":
        return "required property is missing"
    if kind in _JSON_TYPES:
        return f"must be {_JSON_TYPES[kind]}, not {_json_type(given)}"
    if kind == "literal_error":
        return f"{given!r} is not allowed: use {ctx['expected']}"
    if kind in ("too_short", "string_too_short"):
        return "must not be empty"
    if kind == "greater_than_equal":
        return f"{given!r} is below the minimum {ctx['ge']}"
    if kind == "less_than_equal":
        return f"{given!r} is above the maximum {ctx['le']}"
    return error["msg"]


def _describe(error: ErrorDetails) -> str:
    where = "/".join(str(part) for part in error["loc"]) or "(document)"
    return f"{where}: {_message(error)}"


def validate(doc: Any, *, version: str) -> list[str]:
    """Problems of ``doc`` as a ProductFootprint of PACT API ``version`` (``"3"`` or ``"2"``).

    Empty when valid, else one ``"path: what is wrong"`` per problem, sorted by path:

    >>> validate({"specVersion": "3.0.0"}, version="3")[:2]
    ['companyIds: required property is missing', 'companyName: required property is missing']

    Raises
    ------
    KeyError
        For a version other than ``"3"`` and ``"2"``.
    """
    model = MODELS[version]
    try:
        model.model_validate(doc)
    except ValidationError as e:
        return sorted(_describe(error) for error in e.errors(include_url=False))
    return []
