"""An answered questionnaire workbook, read and checked (untrusted input from a supplier).

:func:`read_answers` bounds the cost first (at most :data:`MAX_BYTES`, the zip within
:data:`LIMITS`, XML parsed with defusedxml by openpyxl), then refuses, **all problems together**
in one :class:`~openpcf.suppliers.errors.QuestionnaireError`, each with its sheet, cell and
reason:

- a file that is not an xlsx: not a zip, an encrypted (password-protected) workbook (an OLE
  compound file, not a zip), an old ``.xls``, a macro-enabled workbook (``vbaProject.bin``),
  external links;
- sheets other than the template's (added, removed, renamed) and hidden sheets other than the
  template's metadata sheet;
- formulas anywhere (the template has none; a value is expected in every answer cell);
- another template version (the cells would be read as the wrong fields);
- missing mandatory answers, a value not in a list, text where a number or date is expected;
- units: the amounts of the PCF block are in a mass of CO2 equivalent per declared unit
  (``kg CO2e``, ``t CO2e``, ``g CO2e``, optionally ``/ <unit>``; the ``<unit>`` must convert to
  the declared unit with pint, e.g. ``kg CO2e / t`` for a footprint declared per kilogram is
  divided by 1000); electricity in an energy unit converted to kWh; anything pint cannot
  convert is refused with pint's reason;
- negative amounts, shares outside 0–100 %, recycled content above 100 % in all;
- a PCF that does not add up: ``|fossil + biogenic non-CO2 + land-use change − total|`` above
  :data:`TOLERANCE` × ``|total|`` (1 %: each figure copied at three significant digits may be
  off by up to 0.5 % of itself), more fossil than total, process emissions above the fossil
  emissions;
- a period that ends before it starts (reference period, electricity rows).

The answer cells are checked by :mod:`openpcf.suppliers.answer_cells`. Whether the answer
belongs to a request, and to which, is not decided here: the workbook's
request id and token are read (:attr:`SupplierAnswer.request_id`, :attr:`~SupplierAnswer.token`)
and checked by :mod:`openpcf.services.supplier_answers`.
"""

from __future__ import annotations

import io
import uuid
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from openpcf.errors import InputError
from openpcf.files.zips import MIB, READ_ERRORS, ZipLimits, check_listing
from openpcf.suppliers import template as t
from openpcf.suppliers.answer_cells import (
    TOLERANCE,
    TOLERANCE_FLOOR,
    AnswerCells,
    ElectricityRow,
    SupplierAnswer,
    Verification,
    emission_factor,
    read_cells,
)
from openpcf.suppliers.errors import Problem, QuestionnaireError
from openpcf.suppliers.spec import TEMPLATE_VERSION

#: Largest answered workbook read (a filled template is about 15 KB; 5 MB leaves room for
#: what Excel and WPS add when they save it, and bounds what one upload can cost).
MAX_BYTES = 5 * MIB
#: What the workbook's zip may cost (a template saved by Excel has about 15 members).
LIMITS = ZipLimits(
    members=200,
    member_bytes=20 * MIB,
    total_bytes=40 * MIB,
    ratio=200.0,
    ratio_from=MIB,
    directory_bytes=MIB,
)
_CFB = bytes.fromhex("D0CF11E0A1B11AE1")  # OLE compound file: encrypted xlsx or .xls
_FILE = "(file)"


def read_answers(data: bytes, *, name: str, unit: str | None = None) -> SupplierAnswer:
    """The checked answer of the workbook ``data`` (``name`` labels it in messages).

    ``unit``: the unit the request asks the material in (the model's input unit); the
    declared unit must convert to it, or the footprint could not be used for the input.

    Raises
    ------
    QuestionnaireError
        With every problem found (see the module docstring).
    """
    book = open_answer(data, name=name)
    return book.read(unit=unit)


@dataclass
class AnswerBook(AnswerCells):
    """An answered workbook opened, its structure and metadata checked; :meth:`read` checks
    the answers. ``problems`` holds what was found wrong so far."""

    def fail(self) -> QuestionnaireError:
        return QuestionnaireError(
            self.name, self.problems, request_id=self.request_id, token=self.token
        )

    def read(self, *, unit: str | None = None) -> SupplierAnswer:
        """The answer, or :class:`QuestionnaireError` with every problem (structure too)."""
        answer = read_cells(self, unit)
        if self.problems or answer is None:
            raise self.fail()
        return answer


def open_answer(data: bytes, *, name: str) -> AnswerBook:
    """Open ``data`` at a bounded cost and check the structure and the metadata sheet.

    Raises :class:`QuestionnaireError` when the file cannot be read further (not an xlsx,
    no metadata, another template version); other problems are kept in the book.
    """
    if len(data) > MAX_BYTES:
        _refuse(name, f"{len(data):,} bytes, more than the {MAX_BYTES:,} a questionnaire may have")
    if data[:8] == _CFB:
        _refuse(
            name,
            "an encrypted (password-protected) workbook or an old .xls file, not an .xlsx: "
            "remove the password and save it as an Excel workbook (.xlsx)",
        )
    if not zipfile.is_zipfile(io.BytesIO(data)):
        _refuse(name, "not an .xlsx workbook (not a zip file)")
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            infos = [i for i in z.infolist() if not i.is_dir()]
            check_listing(Path(name), infos, LIMITS, "a questionnaire workbook", InputError)
            members = {i.filename for i in infos}
    except InputError as e:
        _refuse(name, str(e))
    except READ_ERRORS as e:
        _refuse(name, f"a damaged .xlsx file ({type(e).__name__}: {e})")
    if any(m.lower().endswith("vbaproject.bin") for m in members):
        _refuse(
            name, "a macro-enabled workbook: save it as an Excel workbook (.xlsx) without macros"
        )
    problems = [
        Problem(_FILE, "", f"an external link ({m}): remove links to other files")
        for m in sorted(members)
        if m.startswith("xl/externalLinks/")
    ]
    wb = _load(data, name)
    return _structure(wb, name, problems)


def _refuse(name: str, reason: str) -> Any:
    raise QuestionnaireError(name, [Problem(_FILE, "", reason)])


def _load(data: bytes, name: str) -> Any:
    from openpyxl import load_workbook  # slow import: only when a workbook is read

    try:
        return load_workbook(io.BytesIO(data), data_only=False, keep_vba=False, keep_links=True)
    except Exception as e:  # openpyxl raises many kinds for a broken file
        return _refuse(name, f"cannot be read as an .xlsx workbook ({type(e).__name__}: {e})")


def _structure(wb: Any, name: str, problems: list[Problem]) -> AnswerBook:
    sheets = list(wb.sheetnames)
    for sheet in sheets:
        if sheet not in t.SHEETS:
            problems.append(
                Problem(sheet, "", "a sheet the questionnaire does not have: remove it")
            )
    for ws in wb.worksheets:
        if ws.title in t.SHEETS and ws.title != t.SHEET_META and ws.sheet_state != "visible":
            problems.append(Problem(ws.title, "", "a hidden sheet: show it again"))
    if getattr(wb, "_external_links", None) and not any(
        "external link" in p.reason for p in problems
    ):
        problems.append(Problem(_FILE, "", "external links to other workbooks: remove them"))
    for chart_sheet in getattr(wb, "chartsheets", []):
        problems.append(
            Problem(chart_sheet.title, "", "a chart sheet the questionnaire does not have")
        )
    missing = [s for s in t.SHEETS if s not in sheets]
    if t.SHEET_META in missing:
        problems.append(
            Problem(
                t.SHEET_META,
                "",
                "the questionnaire's hidden metadata sheet is missing: this file was not made "
                "from an OpenPCF questionnaire, or the sheet was deleted; answer in the workbook "
                "you received",
            )
        )
        raise QuestionnaireError(name, problems)
    cells, formats = {}, {}
    for ws in wb.worksheets:
        values, numbers = {}, {}
        for cell in getattr(ws, "_cells", {}).values():  # only cells that exist in the file
            if cell.value is None:
                continue
            # array and data-table formulas are objects, not "=..." strings
            if cell.data_type == "f" or type(cell.value).__name__.endswith("Formula"):
                problems.append(
                    Problem(
                        ws.title,
                        cell.coordinate,
                        "a formula where a value is expected: enter the value itself",
                    )
                )
                continue
            values[cell.coordinate] = cell.value
            numbers[cell.coordinate] = str(cell.number_format or "")
        cells[ws.title], formats[ws.title] = values, numbers
    for sheet in missing:
        problems.append(
            Problem(sheet, "", "the sheet is missing: answer in the workbook you received")
        )
    meta = cells.get(t.SHEET_META, {})
    version = str(meta.get(t.META_VERSION, "")).strip()
    token = str(meta.get(t.META_TOKEN, "")).strip()
    try:
        request_id = uuid.UUID(str(meta.get(t.META_REQUEST_ID, "")).strip())
    except ValueError:
        problems.append(
            Problem(t.SHEET_META, t.META_REQUEST_ID, "no request id: the workbook was altered")
        )
        raise QuestionnaireError(name, problems) from None
    if not token:
        problems.append(
            Problem(t.SHEET_META, t.META_TOKEN, "no request token: the workbook was altered")
        )
        raise QuestionnaireError(name, problems, request_id=request_id)
    if version != TEMPLATE_VERSION:
        problems.append(
            Problem(
                t.SHEET_META,
                t.META_VERSION,
                f"questionnaire template version {version or '(none)'!r}; this OpenPCF reads "
                f"version {TEMPLATE_VERSION}: ask your customer for a new questionnaire",
            )
        )
        raise QuestionnaireError(name, problems, request_id=request_id, token=token)
    return AnswerBook(name, request_id, token, cells, formats, problems)


__all__ = [
    "LIMITS",
    "MAX_BYTES",
    "TOLERANCE",
    "TOLERANCE_FLOOR",
    "AnswerBook",
    "ElectricityRow",
    "SupplierAnswer",
    "Verification",
    "emission_factor",
    "open_answer",
    "read_answers",
]
