"""The questionnaire workbook (xlsx, bilingual zh/en) that asks one supplier for primary data.

Sheets (:mod:`openpcf.suppliers.template` fixes every cell):

- ``说明 Instructions``: what is asked and why, units, how to return the file, the due date,
  the customer and the material;
- ``回答 Answer``: the product, the cradle-to-gate PCF (boundary, standard, GWP values,
  reference period, fossil / biogenic non-CO2 / land-use change split, biogenic CO2 removals,
  process emissions, primary data share), recycled and scrap content, the verification;
- ``电力 Electricity``: one row per electricity source (grid by province, GEC, I-REC, PPA,
  onsite), with amounts, certificate or contract ids and periods;
- ``openpcf_meta`` (``veryHidden``): request id, the request's token and the template version.

Answer cells are unlocked and carry Excel data validation (lists, decimal ranges, dates); the
rest of each sheet is protected and the workbook's structure is locked (no sheets added or
removed in Excel). Validation and protection help the supplier fill the file in; they are not
what the import trusts: :mod:`openpcf.suppliers.answers` checks every value again.

Design note, determinism: the same request gives the same bytes. openpyxl stamps the
document properties with the time of saving and :mod:`zipfile` stamps each member, so the
properties are fixed to the request's due date (``docProps/core.xml`` is written again after
saving) and the zip is rewritten with a fixed member
time (1980-01-01, the earliest a zip can hold) and a fixed member order.
"""

from __future__ import annotations

import datetime as dt
import io
import zipfile

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill, Protection
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet
from openpyxl.xml.functions import tostring

from openpcf.suppliers import template as t
from openpcf.suppliers.spec import QuestionnaireRequest

_INPUT = PatternFill("solid", start_color="FFF2CC", end_color="FFF2CC")
_HEADING = Font(bold=True)
_UNLOCKED = Protection(locked=False)
_FIXED_ZIP_TIME = (1980, 1, 1, 0, 0, 0)


def build_workbook(request: QuestionnaireRequest) -> bytes:
    """The questionnaire of ``request`` as xlsx bytes (the same bytes for the same request)."""
    wb = Workbook()
    instructions = wb.active
    assert instructions is not None  # a new workbook always has its first sheet
    instructions.title = t.SHEET_INSTRUCTIONS
    _instructions(instructions, request)
    _answer(wb.create_sheet(t.SHEET_ANSWER), request)
    _electricity(wb.create_sheet(t.SHEET_ELECTRICITY))
    _meta(wb.create_sheet(t.SHEET_META), request)
    moment = dt.datetime.combine(request.due, dt.time())
    wb.properties.creator = "OpenPCF"
    wb.properties.lastModifiedBy = "OpenPCF"
    wb.properties.title = f"OpenPCF questionnaire {request.request_id}"
    wb.properties.created = moment
    wb.properties.modified = moment
    wb.security.lockStructure = True
    out = io.BytesIO()
    wb.save(out)  # stamps properties.modified with the time of saving
    wb.properties.modified = moment
    core = tostring(wb.properties.to_tree())
    return _fixed_zip(out.getvalue(), replace={"docProps/core.xml": core})


def _instructions(ws: Worksheet, r: QuestionnaireRequest) -> None:
    lines = [
        ("产品碳足迹数据问卷", "Product carbon footprint questionnaire"),
        ("", ""),
        ("客户", f"Customer: {r.customer}"),
        ("供应商", f"Supplier: {r.supplier}"),
        ("物料", f"Material: {r.material_name} ({r.material})"),
        (
            "用量",
            f"Used in: {r.product_name}, {r.amount:g} {r.unit} per declared unit of that product",
        ),
        ("截止日期", f"Due: {r.due.isoformat()}"),
        ("请求编号", f"Request: {r.request_id}"),
        ("", ""),
        (
            "请填写《回答》和《电力》工作表中的黄色单元格。",
            "Fill in the yellow cells of the sheets Answer and Electricity.",
        ),
        (
            "所有排放量均为每一个声明单位的摇篮到大门排放, 默认单位 kg CO2e。",
            "Every amount is cradle-to-gate, per ONE declared unit of your product, in kg CO2e "
            "unless you change the unit cell next to it (t CO2e, g CO2e, or e.g. kg CO2e / t).",
        ),
        (
            "合计 = 化石源 + 生物源非CO2 + 土地利用变化 (允许 1% 的舍入误差)。",
            "Total = fossil + biogenic non-CO2 + land-use change (1 % rounding allowed); the "
            "biogenic CO2 removals are entered as a positive amount and are not in the total.",
        ),
        (
            "占比填写 0-100 之间的百分数。日期格式 YYYY-MM-DD。",
            "Shares are percentages from 0 to 100; dates as YYYY-MM-DD.",
        ),
        (
            "请填写数值, 不要使用公式; 不要添加或隐藏工作表。",
            "Enter values, not formulas; do not add, remove or hide sheets: such a file is "
            "refused.",
        ),
        (
            "电力: 每个来源一行 (省级电网、绿证 GEC、I-REC、购电协议 PPA、自发电), "
            "证书或合同须填写编号。",
            "Electricity: one row per source (provincial grid, GEC, I-REC, PPA, onsite) used to "
            "make this product in the period; certificates and PPAs need their id.",
        ),
        (
            "填写完成后, 将本文件原样交回客户 (邮件或网页上传)。",
            "Return this file as it is to your customer (e-mail, or upload it on the customer's "
            f"OpenPCF host: POST /supplier-requests/{r.request_id}/answer). The file itself "
            "identifies the request: do not share it with anyone else.",
        ),
    ]
    for row, (zh, en) in enumerate(lines, start=1):
        ws.cell(row=row, column=1, value=zh or None)
        ws.cell(row=row, column=2, value=en or None)
    ws["A1"].font = Font(bold=True, size=14)
    ws["B1"].font = Font(bold=True, size=14)
    ws.column_dimensions["A"].width = 60
    ws.column_dimensions["B"].width = 110
    ws.protection.sheet = True


def _answer(ws: Worksheet, r: QuestionnaireRequest) -> None:
    ws["A1"] = "回答 Answer"
    ws["A1"].font = Font(bold=True, size=14)
    ws["A2"] = f"{r.material_name} → {r.customer} ({r.request_id})"
    for col, text in zip(
        "ABCDE", ("中文", "English", "值 Value", "单位 Unit", "说明 Note"), strict=True
    ):
        ws[f"{col}3"] = text
        ws[f"{col}3"].font = _HEADING
    for row, section in t.section_rows():
        ws.cell(row=row, column=1, value=section.zh).font = _HEADING
        ws.cell(row=row, column=2, value=section.en).font = _HEADING
    defaults = {"company_name": r.supplier, "boundary": "cradle-to-gate", "gwp": "AR6"}
    for key, (row, f) in t.answer_rows().items():
        ws.cell(row=row, column=1, value=f.zh + (" *" if f.mandatory else ""))
        ws.cell(row=row, column=2, value=f.en + (" *" if f.mandatory else ""))
        value = ws.cell(row=row, column=3, value=defaults.get(key))
        _input(value)
        unit = ws.cell(row=row, column=4, value=f.unit or None)
        if f.unit_input:
            _input(unit)
            _validate(ws, f"D{row}", _choices(t.EMISSION_UNITS, strict=False))
        if f.help:
            ws.cell(row=row, column=5, value=f.help)
        validation = _field_validation(f)
        if validation is not None:
            _validate(ws, f"C{row}", validation)
        if f.kind == "date":
            value.number_format = "yyyy-mm-dd"
    ws.column_dimensions["A"].width = 36
    ws.column_dimensions["B"].width = 48
    ws.column_dimensions["C"].width = 28
    ws.column_dimensions["D"].width = 16
    ws.column_dimensions["E"].width = 44
    ws.protection.sheet = True


def _electricity(ws: Worksheet) -> None:
    ws["A1"] = "电力 Electricity"
    ws["A1"].font = Font(bold=True, size=14)
    ws["A2"] = (
        "每个来源一行; 电量为该期间用于本产品的电量 / one row per source: the electricity used "
        "to make this product in the period (not per declared unit)"
    )
    for col, _key, zh, en in t.ELECTRICITY_COLUMNS:
        cell = ws[f"{col}{t.ELECTRICITY_HEADER_ROW}"]
        cell.value = f"{zh}\n{en}"
        cell.font = _HEADING
        cell.alignment = Alignment(wrap_text=True)
        ws.column_dimensions[col].width = 24
    first, last = t.ELECTRICITY_FIRST_ROW, t.ELECTRICITY_FIRST_ROW + t.ELECTRICITY_ROWS - 1
    for row in range(first, last + 1):
        for col, key, _zh, _en in t.ELECTRICITY_COLUMNS:
            cell = ws[f"{col}{row}"]
            _input(cell)
            if key == "unit":
                cell.value = "kWh"
            if key in ("start", "end"):
                cell.number_format = "yyyy-mm-dd"
    _validate(ws, f"A{first}:A{last}", _choices(t.ELECTRICITY_SOURCES))
    _validate(ws, f"C{first}:C{last}", _decimal(0, None))
    _validate(ws, f"D{first}:D{last}", _choices(t.ENERGY_UNITS, strict=False))
    _validate(ws, f"F{first}:G{last}", _date())
    ws.protection.sheet = True


def _meta(ws: Worksheet, r: QuestionnaireRequest) -> None:
    ws["A1"], ws[t.META_REQUEST_ID] = "request_id", str(r.request_id)
    ws["A2"], ws[t.META_TOKEN] = "token", r.token
    ws["A3"], ws[t.META_VERSION] = "template_version", r.template_version
    ws.sheet_state = "veryHidden"
    ws.protection.sheet = True


def _input(cell: object) -> None:
    cell.protection = _UNLOCKED  # type: ignore[attr-defined]
    cell.fill = _INPUT  # type: ignore[attr-defined]


def _field_validation(f: t.Field) -> DataValidation | None:
    if f.kind == "choice":
        return _choices(f.choices)
    if f.kind == "percent":
        return _decimal(0, 100)
    if f.kind in ("decimal", "emission"):
        return _decimal(0, None)
    if f.kind == "date":
        return _date()
    return None


def _choices(values: tuple[str, ...], *, strict: bool = True) -> DataValidation:
    """A drop-down list; ``strict=False`` lets another value be typed (a warning only)."""
    dv = DataValidation(type="list", formula1='"' + ",".join(values) + '"', allow_blank=True)
    if not strict:
        dv.errorStyle = "warning"
    dv.error = "请选择列表中的值 / choose a value of the list"
    dv.showErrorMessage = True
    return dv


def _decimal(low: float, high: float | None) -> DataValidation:
    if high is None:
        dv = DataValidation(type="decimal", operator="greaterThanOrEqual", formula1=str(low))
        dv.error = f"数值须 ≥ {low:g} / a number ≥ {low:g}"
    else:
        dv = DataValidation(
            type="decimal", operator="between", formula1=str(low), formula2=str(high)
        )
        dv.error = f"数值须在 {low:g} 与 {high:g} 之间 / a number from {low:g} to {high:g}"
    dv.allow_blank = True
    dv.showErrorMessage = True
    return dv


def _date() -> DataValidation:
    dv = DataValidation(type="date", operator="greaterThan", formula1="DATE(1990,1,1)")
    dv.error = "日期 YYYY-MM-DD / a date YYYY-MM-DD"
    dv.allow_blank = True
    dv.showErrorMessage = True
    return dv


def _validate(ws: Worksheet, where: str, dv: DataValidation) -> None:
    ws.add_data_validation(dv)
    dv.add(where)


def _fixed_zip(data: bytes, *, replace: dict[str, bytes]) -> bytes:
    """``data`` (a zip) rewritten with fixed member times, in the order openpyxl wrote them,
    with the members named in ``replace`` replaced."""
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(data)) as source,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target,
    ):
        for info in source.infolist():
            member = zipfile.ZipInfo(info.filename, date_time=_FIXED_ZIP_TIME)
            member.compress_type = zipfile.ZIP_DEFLATED
            member.external_attr = 0o600 << 16
            target.writestr(member, replace.get(info.filename) or source.read(info))
    return out.getvalue()
