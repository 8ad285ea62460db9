"""A questionnaire answer given in a web form, checked exactly like the workbook's cells.

The form has one input per answer field of :mod:`openpcf.suppliers.template` (named by the
field's key; an emission amount has a unit input ``<key>__unit``) and
:data:`ELECTRICITY_FORM_ROWS` rows of electricity sources (``el<i>_<column key>``).
:func:`check_form` puts the typed texts into the cells the workbook would hold them in and
runs :func:`openpcf.suppliers.answer_cells.read_cells` on them: the same parsing, units,
tolerance and refusals as an uploaded workbook. Each problem is mapped back from its cell to
the form field it came from, so the page shows it next to that field.

The form is reached through a signed-in supplier's grant, not a workbook's token: the token
of the :class:`~openpcf.suppliers.answer_cells.SupplierAnswer` is empty.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass

from openpcf.suppliers import template as t
from openpcf.suppliers.answer_cells import AnswerCells, SupplierAnswer, read_cells

#: Electricity rows offered by the form (the workbook has :data:`template.ELECTRICITY_ROWS`).
ELECTRICITY_FORM_ROWS = 3
#: Longest text accepted in one form field (a workbook cell holds at most 32,767 characters).
MAX_FIELD_CHARS = 2000
#: Where problems that belong to no single field are shown.
GENERAL = "_general"


@dataclass(frozen=True, slots=True)
class FormField:
    """One input of the form: a template field, its form name and its unit input's name."""

    field: t.Field
    name: str
    unit_name: str | None


def unit_name(key: str) -> str:
    return f"{key}__unit"


def electricity_name(index: int, key: str) -> str:
    return f"el{index}_{key}"


def form_sections() -> list[tuple[t.Section, list[FormField]]]:
    """The sections and inputs of the form, in the workbook's order."""
    return [
        (
            section,
            [
                FormField(f, f.key, unit_name(f.key) if f.unit_input else None)
                for f in section.fields
            ],
        )
        for section in t.SECTIONS
    ]


def form_names() -> list[str]:
    """Every input name of the form (the values kept and shown back)."""
    names = []
    for _section, fields in form_sections():
        for ff in fields:
            names.append(ff.name)
            if ff.unit_name:
                names.append(ff.unit_name)
    for i in range(ELECTRICITY_FORM_ROWS):
        names.extend(electricity_name(i, key) for _c, key, _zh, _en in t.ELECTRICITY_COLUMNS)
    return names


@dataclass(frozen=True, slots=True, kw_only=True)
class FormCheck:
    """The checked answer, or the problems per form input name (:data:`GENERAL` for others)."""

    answer: SupplierAnswer | None
    errors: dict[str, list[str]]


def check_form(
    values: Mapping[str, str], *, request_id: uuid.UUID, unit: str | None, name: str
) -> FormCheck:
    """Check the form ``values`` (input name → typed text) as the workbook would be checked.

    ``unit``: the unit the request asks the material in (the declared unit must convert to
    it); ``name`` labels the answer (stored as its source).
    """
    errors: dict[str, list[str]] = {}
    rows = t.answer_rows()
    answer_cells: dict[str, object] = {}
    where: dict[tuple[str, str], str] = {}
    for key, (row, f) in rows.items():
        text = _text(values.get(key), key, errors)
        where[(t.SHEET_ANSWER, f"C{row}")] = key
        if text:
            answer_cells[f"C{row}"] = text
        if f.unit_input:
            where[(t.SHEET_ANSWER, f"D{row}")] = unit_name(key)
            unit_text = _text(values.get(unit_name(key)), unit_name(key), errors)
            if unit_text:
                answer_cells[f"D{row}"] = unit_text
    electricity: dict[str, object] = {}
    for i in range(ELECTRICITY_FORM_ROWS):
        row = t.ELECTRICITY_FIRST_ROW + i
        for column, key, _zh, _en in t.ELECTRICITY_COLUMNS:
            input_name = electricity_name(i, key)
            where[(t.SHEET_ELECTRICITY, f"{column}{row}")] = input_name
            text = _text(values.get(input_name), input_name, errors)
            if text:
                electricity[f"{column}{row}"] = text
    if errors:
        return FormCheck(answer=None, errors=errors)
    book = AnswerCells(
        name=name,
        request_id=request_id,
        token="",
        cells={t.SHEET_ANSWER: answer_cells, t.SHEET_ELECTRICITY: electricity},
        formats={},
        problems=[],
    )
    answer = read_cells(book, unit)
    for problem in book.problems:
        target = where.get((problem.sheet, problem.cell), GENERAL)
        errors.setdefault(target, []).append(problem.reason)
    if errors or answer is None:
        errors = errors or {GENERAL: ["the answer could not be read"]}
        return FormCheck(answer=None, errors=errors)
    return FormCheck(answer=answer, errors={})


def _text(value: str | None, name: str, errors: dict[str, list[str]]) -> str:
    text = (value or "").strip()
    if len(text) > MAX_FIELD_CHARS:
        errors.setdefault(name, []).append(
            f"{len(text):,} characters, more than the {MAX_FIELD_CHARS:,} a field may hold"
        )
        return ""
    return text
