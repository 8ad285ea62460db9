"""Scenarios of the model editor: named parameter sets calculated side by side.

Each scenario is the editor's model text calculated like the editor's own result
(:func:`~openpcf.services.web_models.evaluate_model_text`) with the editor's parameter fields
and the scenario's values over them; the totals and life-cycle stages are shown side by side
with their differences from the editor's current result (the first column). The model format
has no ``scenarios:`` section (``docs/models.md``); ``openpcf batch`` takes a CSV of parameter
sets for many at once, and ``openpcf publish --scenario`` stores one.

Design note: the text is parsed once and each scenario's values are its parameter overrides
(``calculate(..., overrides=)``, as ``--param``), solved inside one
:func:`~openpcf.model.recalculation.recalculating` block; each column is exactly the result the
editor gives for those values. Parsing the text again for each scenario took 58 % of a
comparison (``bench/parameters.py``, web scenarios row).

Bounds: at most :data:`MAX_SCENARIOS` scenarios, names and values cut at
:data:`MAX_NAME_CHARS` and :data:`MAX_VALUE_CHARS`. Nothing here raises for bad input:
problems are messages at their fields.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from openpcf.errors import OpenPCFError
from openpcf.model.calculation import Calculation
from openpcf.model.loading import LoadedModel, load_model
from openpcf.model.recalculation import recalculating
from openpcf.model.schema import STAGES
from openpcf.services.web_calculation import WebCaller, web_calculate
from openpcf.services.web_models import (
    EditorOutcome,
    FieldError,
    evaluate_model_text,
    finite_number,
)
from openpcf.services.web_rules import MODEL_NAME, located_errors

#: The most scenarios the editor compares at once (besides its current result).
MAX_SCENARIOS = 6
#: The longest scenario name and parameter value read from the form.
MAX_NAME_CHARS = 60
MAX_VALUE_CHARS = 100

__all__ = [
    "MAX_SCENARIOS",
    "ScenarioColumn",
    "ScenarioComparison",
    "ScenarioInput",
    "StageRow",
    "basis",
    "compare_scenarios",
    "parameter_names",
    "scenarios_from_form",
]


def basis(amount: float, unit: str) -> str:
    """The unit of the numbers the analysis shows, the calculation's own basis: ``kg CO2e per 1
    kilogram``."""
    return f"kg CO2e per {amount:g} {unit}".strip()


@dataclass(frozen=True, slots=True, kw_only=True)
class ScenarioInput:
    """A scenario as typed into the editor: its column, name and parameter values, and the
    problems found in them (field → message; the field is ``name`` or a parameter)."""

    number: int  # 1..MAX_SCENARIOS, the column of the form
    name: str
    values: Mapping[str, str]
    errors: Mapping[str, str] = field(default_factory=dict)

    def value(self, parameter: str) -> str:
        return self.values.get(parameter, "")


_NAME_FIELD = re.compile(r"^scenario-name\.([1-9][0-9]?)$")
_VALUE_FIELD = re.compile(r"^scenario\.([1-9][0-9]?)\.(.{1,100})$")


def scenarios_from_form(items: Iterable[tuple[str, Any]]) -> tuple[ScenarioInput, ...]:
    """The scenarios of the editor's form, in column order: fields ``scenario-name.N`` and
    ``scenario.N.PARAMETER`` for N in 1..:data:`MAX_SCENARIOS` (other columns are ignored).

    A column with nothing typed is no scenario. A scenario needs a name, unique among them
    (an error at its name field otherwise); its values are checked when it is calculated.
    """
    names: dict[int, str] = {}
    values: dict[int, dict[str, str]] = {}
    for key, value in items:
        if not isinstance(value, str):
            continue
        if found := _NAME_FIELD.match(key):
            names[int(found.group(1))] = " ".join(value.split())[:MAX_NAME_CHARS]
        elif found := _VALUE_FIELD.match(key):
            typed = value.strip()[:MAX_VALUE_CHARS]
            if typed:
                values.setdefault(int(found.group(1)), {})[found.group(2)] = typed
    out: list[ScenarioInput] = []
    seen: set[str] = set()
    for number in range(1, MAX_SCENARIOS + 1):
        name, given = names.get(number, ""), values.get(number, {})
        if not name and not given:
            continue
        errors: dict[str, str] = {}
        if not name:
            errors["name"] = "missing"
        elif name.casefold() in seen:
            errors["name"] = "duplicate"
        seen.add(name.casefold())
        out.append(ScenarioInput(number=number, name=name, values=given, errors=errors))
    return tuple(out)


@dataclass(frozen=True, slots=True, kw_only=True)
class ScenarioColumn:
    """One column of the comparison: a scenario's parameters and results (None: failed)."""

    name: str
    parameters: Mapping[str, float]  # every parameter's resolved value
    total: float | None
    stages: Mapping[str, float]
    errors: tuple[FieldError, ...] = ()  # why this scenario did not calculate, at its lines


@dataclass(frozen=True, slots=True, kw_only=True)
class StageRow:
    """One row of the comparison: a stage (or the total) across the columns, and each
    scenario's difference from the first column (the editor's current result)."""

    stage: str
    values: tuple[float | None, ...]

    @property
    def differences(self) -> tuple[float | None, ...]:
        base = self.values[0]
        return tuple(None if base is None or v is None else v - base for v in self.values[1:])

    @property
    def relative(self) -> tuple[float | None, ...]:
        """Differences as fractions of the first column (None where it is 0)."""
        base = self.values[0]
        return tuple(None if d is None or not base else d / abs(base) for d in self.differences)


@dataclass(frozen=True, slots=True, kw_only=True)
class ScenarioComparison:
    """The editor's current result (first column) and each scenario, side by side."""

    columns: tuple[ScenarioColumn, ...]
    stages: tuple[StageRow, ...]
    total: StageRow
    parameters: tuple[str, ...]
    unit: str

    def chart(self, stage_names: Mapping[str, str], current: str) -> dict[str, Any]:
        """Stages (stacked) per column for ``static/analysis.js``; ``current`` names the first
        column."""
        return {
            "kind": "stacked",
            "unit": self.unit,
            "labels": [c.name or current for c in self.columns],
            "series": [
                {
                    "name": stage_names.get(row.stage, row.stage),
                    "values": [0.0 if v is None else round(v, 12) for v in row.values],
                }
                for row in self.stages
            ],
        }


def compare_scenarios(
    text: str,
    overrides: Mapping[str, str],
    scenarios: Iterable[ScenarioInput],
    *,
    base: EditorOutcome | None = None,
    caller: WebCaller | None = None,
) -> tuple[ScenarioComparison | None, tuple[ScenarioInput, ...]]:
    """The model ``text`` with the parameter fields ``overrides`` (the first column, unnamed:
    the page calls it the current result) and with each scenario's values over them, side by
    side; and the scenarios with the errors found at their fields. ``base`` is the editor's
    outcome for ``overrides`` when already calculated; ``caller`` whose data every column is
    calculated with (:func:`~openpcf.services.web_models.evaluate_model_text`).

    No comparison (None) when the model itself does not calculate, or any scenario has a
    problem at a field (each is then at its field, and nothing is compared).
    """
    first = base if base is not None else evaluate_model_text(text, overrides, caller=caller)
    checked = tuple(scenarios)
    if first.calculation is None:
        return None, checked
    try:
        loaded = load_model(Path(MODEL_NAME), text=text)  # parsed once for every scenario
    except OpenPCFError:  # not the text ``base`` was calculated from
        return None, checked
    declared = tuple(loaded.model.parameters)
    given: list[dict[str, float]] = []
    marked: list[ScenarioInput] = []
    for scenario in checked:
        values, bad = _numbers(declared, {**overrides, **scenario.values})
        errors = {**scenario.errors, **bad}
        marked.append(scenario if errors == scenario.errors else _with_errors(scenario, errors))
        given.append(values)
    marked_t = tuple(marked)
    if any(s.errors for s in marked_t):
        return None, marked_t
    columns = [_column("", first.calculation)]
    with recalculating():
        columns.extend(
            _scenario(s.name, loaded, values, caller)
            for s, values in zip(marked_t, given, strict=True)
        )
    result = first.calculation.result
    present = {s for c in columns for s in c.stages}
    stages = tuple(
        StageRow(
            stage=s,
            values=tuple(c.stages.get(s, 0.0) if c.total is not None else None for c in columns),
        )
        for s in (*STAGES, *sorted(present - set(STAGES)))
        if s in present
    )
    comparison = ScenarioComparison(
        columns=tuple(columns),
        stages=stages,
        total=StageRow(stage="total", values=tuple(c.total for c in columns)),
        parameters=parameter_names(first),
        unit=basis(result.declared_amount, result.declared_unit),
    )
    return comparison, marked_t


def parameter_names(outcome: EditorOutcome) -> tuple[str, ...]:
    """The parameter names of the model, in its order (names a scenario gives that the model
    does not have are ignored, as :func:`evaluate_model_text` ignores them)."""
    return tuple(p.name for p in outcome.parameters)


def _with_errors(scenario: ScenarioInput, errors: Mapping[str, str]) -> ScenarioInput:
    return ScenarioInput(
        number=scenario.number, name=scenario.name, values=scenario.values, errors=dict(errors)
    )


def _numbers(
    declared: Iterable[str], typed: Mapping[str, str]
) -> tuple[dict[str, float], dict[str, str]]:
    """The values typed for the model's parameters as numbers (names the model does not have
    are ignored), and the fields whose value is not a finite number, as the editor checks its
    parameter fields (:func:`~openpcf.services.web_models.evaluate_model_text`)."""
    values: dict[str, float] = {}
    errors: dict[str, str] = {}
    for name in declared:
        text = (typed.get(name) or "").strip()
        if not text:
            continue
        value = finite_number(text)
        if value is None:
            errors[name] = "enter a finite number"
        else:
            values[name] = value
    return values, errors


def _scenario(
    name: str, loaded: LoadedModel, values: Mapping[str, float], caller: WebCaller | None
) -> ScenarioColumn:
    """The column of one scenario: ``loaded`` calculated as the editor calculates it, with
    ``values`` as the parameters' overrides; failed at the model's lines when it does not."""
    try:
        calc = web_calculate(loaded, caller, overrides=values)
    except OpenPCFError as e:
        errors = located_errors("model", str(e))
        return ScenarioColumn(name=name, parameters={}, total=None, stages={}, errors=errors)
    return _column(name, calc)


def _column(name: str, calc: Calculation) -> ScenarioColumn:
    return ScenarioColumn(
        name=name,
        parameters=dict(calc.compiled.parameters),
        total=calc.result.total,
        stages=dict(calc.result.by_stage),
    )
