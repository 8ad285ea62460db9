"""The web pages' model use cases: a new model from an uploaded BOM, and the model editor's
live validation and recalculation.

Factors are proposed from the bundled factor set. A model typed into the editor is refused,
before anything is calculated, when it names files or imported databases
(:func:`openpcf.services.rules.outside_references`): a pasted model has no folder of its own,
and a path in it would be read from the server's disk. It is calculated as publishing will
calculate it: with the signed-in person's organisation's accepted supplier data
(:mod:`openpcf.services.web_calculation`), and never recorded on the audit trail.

Nothing here raises for bad input: every problem is a :class:`FieldError` for the form, at its
line (and column) in the model text, or at its parameter field.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from openpcf.errors import OpenPCFError
from openpcf.model.bom import (
    Bom,
    BomError,
    ModelHeader,
    Proposal,
    bom_from_records,
    bom_records,
    propose,
    read_bom,
)
from openpcf.model.calculation import Calculation
from openpcf.model.loading import load_model
from openpcf.services.bom import BomModel, model_from_choices
from openpcf.services.web_calculation import WebCaller, bundled, web_calculate
from openpcf.services.web_rules import MAX_MODEL_BYTES, MODEL_NAME, FieldError, files_named
from openpcf.services.web_rules import located_errors as _located

#: The most BOM lines the web page proposes factors for (the CLI takes more).
MAX_WEB_LINES = 300

__all__ = [
    "MAX_MODEL_BYTES",
    "MAX_WEB_LINES",
    "BomUpload",
    "EditorOutcome",
    "FieldError",
    "ParameterField",
    "evaluate_model_text",
    "model_from_form",
    "proposals_for_upload",
]


@dataclass(frozen=True, slots=True, kw_only=True)
class BomUpload:
    """An uploaded BOM and its proposals, or the errors that refused it."""

    bom: Bom | None
    proposals: tuple[Proposal, ...] = ()
    errors: tuple[str, ...] = ()

    @property
    def records_json(self) -> str:
        """The lines as JSON, sent back with the confirmation form."""
        return json.dumps(bom_records(self.bom), ensure_ascii=False) if self.bom else "[]"


def proposals_for_upload(data: bytes, *, name: str, geography: str = "CN") -> BomUpload:
    """The BOM ``data`` read and its lines matched against the bundled factors."""
    try:
        bom = read_bom(data, name=name)
    except BomError as e:
        return BomUpload(bom=None, errors=_problem_lines(str(e)))
    if len(bom.lines) > MAX_WEB_LINES:
        return BomUpload(
            bom=None,
            errors=(
                f"{name}: {len(bom.lines)} lines, more than the {MAX_WEB_LINES} this page "
                "takes; use `openpcf model from-bom` for it",
            ),
        )
    return BomUpload(bom=bom, proposals=propose(bom, bundled(), geography=geography))


def model_from_form(
    records_json: str,
    choices: Mapping[int, str | None],
    *,
    name: str,
    header: ModelHeader,
) -> tuple[BomModel | None, tuple[str, ...]]:
    """The model for the lines the confirmation form sent back and the factors chosen there
    (each checked to be one of its line's candidates), or the errors."""
    try:
        records = json.loads(records_json)
        bom = bom_from_records(records, name=name)
        proposals = propose(bom, bundled(), geography=header.geography)
        return model_from_choices(bom, proposals, choices, header=header), ()
    except (ValueError, TypeError) as e:
        if isinstance(e, OpenPCFError):
            return None, _problem_lines(str(e))
        return None, (f"{name}: the BOM lines were not sent back; upload the BOM again",)


def _problem_lines(message: str) -> tuple[str, ...]:
    lines = [line.strip() for line in message.splitlines() if line.strip()]
    if len(lines) > 1 and lines[0].endswith(":"):
        lines = lines[1:]
    return tuple(lines)


@dataclass(frozen=True, slots=True, kw_only=True)
class ParameterField:
    """A parameter of the model as a number field: its value and a problem, if any."""

    name: str
    value: str
    error: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class EditorOutcome:
    """What the editor shows for a model text: errors, or the total and the parameters."""

    errors: tuple[FieldError, ...] = ()
    total: float | None = None
    declared_amount: float | None = None
    declared_unit: str = ""
    product: str = ""
    gwp: str = ""
    parameters: tuple[ParameterField, ...] = ()
    #: the calculation shown (contributions, uncertainty: :mod:`~openpcf.services.web_analysis`)
    calculation: Calculation | None = None

    @property
    def per_unit(self) -> float | None:
        """kg CO2e per one declared unit."""
        if self.total is None or not self.declared_amount:
            return None
        return self.total / self.declared_amount


def evaluate_model_text(
    text: str, overrides: Mapping[str, str] | None = None, *, caller: WebCaller | None = None
) -> EditorOutcome:
    """Validate the model ``text`` and, when valid, calculate it with the parameter values
    ``overrides`` (name → number as typed; names the model does not have are ignored, a value
    that is not a finite number is an error at its field), with the data of ``caller``'s
    organisation (:func:`~openpcf.services.web_calculation.web_options`; bundled data only
    without one). Nothing is recorded on the audit trail."""
    if len(text.encode("utf-8")) > MAX_MODEL_BYTES:
        return _refused(f"the model is larger than {MAX_MODEL_BYTES // 1000} kB")
    if not text.strip():
        return _refused("type or paste a product model (YAML)")
    try:
        loaded = load_model(Path(MODEL_NAME), text=text)
    except OpenPCFError as e:
        return EditorOutcome(errors=_located("model", str(e)))
    outside = files_named(loaded)
    if outside:
        return EditorOutcome(errors=outside)
    declared = dict(loaded.model.parameters)
    given, fields = _overrides(declared, overrides or {})
    if any(f.error for f in fields):
        return EditorOutcome(parameters=fields)
    try:
        calculation = web_calculate(loaded, caller, overrides=given)
    except OpenPCFError as e:
        return EditorOutcome(errors=_located("model", str(e)), parameters=fields)
    result = calculation.result
    resolved = calculation.compiled.parameters
    return EditorOutcome(
        total=result.total,
        declared_amount=result.declared_amount,
        declared_unit=result.declared_unit,
        product=loaded.model.product.name,
        gwp=calculation.compiled.gwp.id,
        parameters=tuple(
            ParameterField(name=f.name, value=f.value or _number(resolved.get(f.name)))
            for f in fields
        ),
        calculation=calculation,
    )


def finite_number(typed: str) -> float | None:
    """A parameter value typed in a form as a finite number, or None when it is not one."""
    try:
        value = float(typed)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _overrides(
    declared: Mapping[str, Any], overrides: Mapping[str, str]
) -> tuple[dict[str, float], tuple[ParameterField, ...]]:
    given: dict[str, float] = {}
    fields = []
    for name in declared:
        typed = (overrides.get(name) or "").strip()
        if not typed:
            fields.append(ParameterField(name=name, value=""))
            continue
        value = finite_number(typed)
        if value is None:
            fields.append(ParameterField(name=name, value=typed, error="enter a finite number"))
            continue
        given[name] = value
        fields.append(ParameterField(name=name, value=typed))
    return given, tuple(fields)


def _number(value: float | None) -> str:
    return "" if value is None else f"{value:.12g}"


def _refused(message: str) -> EditorOutcome:
    return EditorOutcome(errors=(FieldError(field="model", message=message),))
