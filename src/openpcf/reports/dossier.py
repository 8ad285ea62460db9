"""The compliance dossier of a SKU as a workbook (openpyxl) and a PDF (fpdf2), bilingual.

Both render a :class:`~openpcf.suppliers.dossier.Dossier` as it is: one line per requirement
with its status, dates, evidence and source; nothing is recomputed here. The PDF reuses the
report machinery of :mod:`openpcf.reports.pdf` (the bundled CJK font, its tables with cut
cells and fitted headings). Write either with :func:`openpcf.reports.output.write_report`
(atomic: all of the file or nothing).

Text from users (issuer names, file names) goes into the workbook as text, never as a
formula: a cell starting with ``=``, ``+``, ``-`` or ``@`` is stored as a string.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Sequence
from typing import Any

from openpcf.reports import fonts
from openpcf.reports.pdf import FAMILY, _Document, _document_class
from openpcf.suppliers.dossier import STATUSES, Dossier, DossierRow

#: (key, English, Chinese) of the workbook's columns, in order
COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("requirement", "Requirement", "要求"),
    ("title", "Title", "名称"),
    ("market", "Market", "市场"),
    ("kind", "Kind", "类别"),
    ("status", "Status", "状态"),
    ("in_force", "In force", "已生效"),
    ("required_from", "Required from", "起始日期"),
    ("expires", "Expires", "到期日"),
    ("document", "Document", "文件"),
    ("standard", "Standard", "标准"),
    ("holder", "Holder", "持有方"),
    ("issuer", "Issuer", "签发方"),
    ("accreditation", "Accreditation", "认可资质"),
    ("issued", "Issued", "签发日期"),
    ("sha256", "File SHA-256", "文件 SHA-256"),
    ("source", "Source", "依据"),
)
STATUS_ZH = {"held": "已持有", "expiring": "即将到期", "expired": "已过期", "missing": "缺失"}
TITLE = "Export compliance dossier / 出口合规文件"


def heading(en: str, zh: str) -> str:
    return f"{en} / {zh}"


def _day(value: dt.date | None) -> str:
    return value.isoformat() if value is not None else ""


def row_cells(row: DossierRow) -> dict[str, str]:
    """The texts of one row (the same in both formats)."""
    req, ev = row.requirement, row.evidence
    src = req.source
    deadline = _day(row.deadline) or ("pending" if req.pending else "")
    return {
        "requirement": req.id,
        "title": f"{req.title.en} / {req.title.zh}",
        "market": req.market,
        "kind": req.kind,
        "status": f"{row.status} / {STATUS_ZH[row.status]}",
        "in_force": "yes / 是" if row.in_force else "no / 否",
        "required_from": deadline,
        "expires": _day(row.expires),
        "document": ev.document if ev is not None else req.document.en,
        "standard": req.standard,
        "holder": req.holder,
        "issuer": ev.issuer if ev is not None else req.issuer,
        "accreditation": ev.accreditation if ev is not None else req.accreditation,
        "issued": _day(ev.issued) if ev is not None else "",
        "sha256": ev.file_sha256 if ev is not None else "",
        "source": f"{src.document}, {src.clause} ({src.year}; {src.access})",
    }


def _summary(d: Dossier) -> list[tuple[str, str]]:
    counts = ", ".join(f"{s} {d.count(s)}" for s in STATUSES)
    return [
        (heading("SKU", "库存单位"), d.sku),
        (heading("Product", "产品"), d.name),
        (heading("CN code", "CN 编码"), d.cn_code),
        (heading("Rules / class", "规则/类别"), d.rules or ""),
        (heading("Market", "市场"), d.market or "all / 全部"),
        (heading("As of", "截至"), d.on.isoformat()),
        (heading("Expiring within (days)", "到期预警（天）"), str(d.window_days)),
        (heading("Rows", "行数"), counts),
        (heading("Organisation", "组织"), d.organisation),
    ]


def dossier_xlsx(d: Dossier) -> bytes:
    """The workbook: sheet ``Dossier`` (a bilingual heading row, then one row per
    requirement) and sheet ``SKU`` (what the dossier is of)."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    sheet = book.active
    assert sheet is not None  # a new workbook has one sheet
    sheet.title = "Dossier"
    _append(sheet, [heading(en, zh) for _, en, zh in COLUMNS])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in d.rows:
        cells = row_cells(row)
        _append(sheet, [cells[key] for key, _, _ in COLUMNS])
    sheet.freeze_panes = "B2"
    info = book.create_sheet("SKU")
    for label, value in _summary(d):
        _append(info, [label, value])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _append(sheet: Any, values: Sequence[str]) -> None:
    sheet.append(list(values))
    for cell in sheet[sheet.max_row]:
        if isinstance(cell.value, str) and cell.value.startswith(("=", "+", "-", "@")):
            cell.data_type = "s"  # text, not a formula


def dossier_pdf(d: Dossier, *, fallback_fonts: Sequence[fonts.FontFile] | None = None) -> bytes:
    """The dossier as an A4 PDF (landscape), fonts embedded."""
    rows = [row_cells(row) for row in d.rows]
    text = TITLE + "".join(f"{a}{b}" for a, b in _summary(d))
    text += "".join(v for r in rows for v in r.values()) + "".join(en + zh for _, en, zh in COLUMNS)
    plan = fonts.plan(text, fallback_fonts)
    doc = _DossierDocument(d, plan)
    doc.write(rows)
    return bytes(doc.output())


class _DossierDocument(_Document):
    """The report machinery's building blocks (tables, headings) on a dossier page."""

    def __init__(self, d: Dossier, plan: fonts.FontPlan) -> None:
        from fpdf.enums import WrapMode

        pdf = _document_class()(orientation="L", unit="mm", format="A4")
        pdf.set_margins(12, 12, 12)
        pdf.set_auto_page_break(True, margin=14)
        pdf.add_font(FAMILY, "", str(plan.regular.path))
        pdf.add_font(FAMILY, "B", str(plan.bold.path))
        pdf.set_title(f"{TITLE}: {d.sku}")
        pdf.set_creator("OpenPCF")
        # the dossier's own date, not the clock: the same data gives the same file
        pdf.set_creation_date(dt.datetime.combine(d.on, dt.time(), tzinfo=dt.UTC))
        pdf.running_title = f"{TITLE} · {d.sku}"
        pdf.page_label = "{n} / {{nb}}"
        self.pdf = pdf
        self.dossier = d
        self.wrap = WrapMode.WORD
        self.word = WrapMode.WORD

    def write(self, rows: list[dict[str, str]]) -> None:
        self.pdf.add_page()
        self.h2("", TITLE)
        self.table(None, _summary(self.dossier), (0.3, 0.7), bold_first=True)
        keys = ("requirement", "status", "required_from", "expires", "issuer", "issued", "source")
        names = {key: heading(en, zh) for key, en, zh in COLUMNS}
        self.table(
            [names[k] for k in keys],
            [[r[k] for k in keys] for r in rows],
            (0.2, 0.11, 0.09, 0.09, 0.16, 0.08, 0.27),
            size=7,
        )
