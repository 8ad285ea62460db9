"""Render report data as a PDF with fpdf2 (step 3 of 3, PDF).

The same sections as the HTML template, in the same order, laid out with fpdf2's tables. All
text, Latin and Chinese, is set in the bundled Noto Sans CJK SC subset, which fpdf2 embeds with
the glyphs used (a CFF ``CIDFontType0``, with a ToUnicode map so the text can be extracted);
characters outside it come from a fallback font (:mod:`openpcf.reports.fonts`). Bar charts are
drawn as rectangles from the same :class:`~openpcf.reports.data.Chart` data as the SVG ones.
The renderer decides layout only: every word and number comes from :class:`ReportData` or the
message catalogue.

Tables hold real data: a cell is cut (``…``) where it would need more than :data:`MAX_LINES`
lines, so no row outgrows a page (the full texts are in the annexes or the HTML report), and
columns are widened until every word of their heading fits, so headings never break mid-word.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import math
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from openpcf.reports import fonts, i18n
from openpcf.reports.data import Chart, ContributorRow, Field, ReportData, to_dict

FAMILY = "notocjk"
ACCENT = (47, 111, 143)
NEGATIVE = (95, 159, 79)
GREY = (86, 99, 107)
HEAD_FILL = (238, 243, 246)
FALLBACK = "fallback"
#: Most lines a table cell shows before it is cut with "…" (fields: :data:`MAX_FIELD_LINES`).
MAX_LINES = 14
MAX_FIELD_LINES = 40
#: Left + right cell padding (mm), and a little room for rounding in fpdf2's line breaking.
PAD = 2.4
SLACK = 0.4
#: A word of a heading: a run of non-CJK, non-space characters, or one CJK character.
_CJK = "\u2e80-\u9fff\uf900-\ufaff\uff00-\uffef\u3000-\u303f"
_PIECES = re.compile(rf"\s+|[{_CJK}]|[^\s{_CJK}]+")


def render_pdf(
    data: ReportData, *, fallback_fonts: Sequence[Path | fonts.FontFile] | None = None
) -> bytes:
    """The report as PDF bytes (A4, fonts embedded).

    ``fallback_fonts`` (a font, or a Regular and a Bold) draws characters outside the bundled
    GB 2312 subset; by default Debian's ``fonts-noto-cjk`` where installed. Characters no font
    has are named in a :class:`~openpcf.reports.fonts.MissingGlyphWarning`.
    """
    t = i18n.messages(data.lang)
    fallback = (
        None
        if fallback_fonts is None
        else [
            f if isinstance(f, fonts.FontFile) else fonts.FontFile(Path(f)) for f in fallback_fonts
        ]
    )
    plan = fonts.plan(_all_text(data, t), fallback)
    pdf = _Document(data, t, plan)
    pdf.write_report()
    # fpdf2 logs each missing glyph per font; the plan has already warned about them once
    logger = logging.getLogger("fpdf.output")
    level = logger.level
    if plan.missing:
        logger.setLevel(logging.ERROR)
    try:
        return bytes(pdf.output())
    finally:
        logger.setLevel(level)


def _all_text(data: ReportData, t: Mapping[str, str]) -> str:
    """Every character the PDF may print, so the font subset misses none."""
    return json.dumps(to_dict(data), ensure_ascii=False) + "".join(t.values()) + "•"


def _document_class() -> type[Any]:
    from fpdf import FPDF

    class Base(FPDF):
        page_label = ""
        running_title = ""

        def header(self) -> None:
            if self.page_no() > 1:
                self.set_font(FAMILY, "", 7)
                self.set_text_color(*GREY)
                self.cell(0, 5, self.running_title, new_x="LMARGIN", new_y="NEXT")
                self.ln(2)

        def footer(self) -> None:
            self.set_y(-12)
            self.set_font(FAMILY, "", 7)
            self.set_text_color(*GREY)
            self.cell(0, 5, self.page_label.format(n=self.page_no()), align="C")

    return Base


class _Document:
    """Lays the sections out on an fpdf2 document."""

    def __init__(self, data: ReportData, t: Mapping[str, str], plan: fonts.FontPlan) -> None:
        from fpdf.enums import WrapMode

        self.d, self.t = data, t
        pdf = _document_class()(orientation="P", unit="mm", format="A4")
        pdf.set_margins(16, 16, 16)
        pdf.set_auto_page_break(True, margin=16)
        pdf.add_font(FAMILY, "", str(plan.regular.path))
        pdf.add_font(FAMILY, "B", str(plan.bold.path))
        if plan.fallback:
            for style, font in zip(("", "B"), plan.fallback, strict=False):
                pdf.add_font(FALLBACK, style, str(font.path), collection_font_number=font.face)
            # bold text falls back to the regular face when only one fallback font is given
            pdf.set_fallback_fonts([FALLBACK], exact_match=False)
        pdf.set_title(f"{data.title}: {data.product}")
        pdf.set_author(data.software)
        pdf.set_creator(data.software)
        pdf.set_lang("zh-CN" if data.lang == "zh" else "en")
        # the report's own date, not the clock: the same data gives the same file
        pdf.set_creation_date(dt.datetime.fromisoformat(data.generated).replace(tzinfo=dt.UTC))
        pdf.running_title = f"{data.title} · {data.product}"
        pdf.page_label = t["page_of"].replace("{total}", "{{nb}}")
        self.pdf = pdf
        # Chinese prose has no spaces to break at; model text (names, sources) is mostly English
        self.wrap = WrapMode.CHAR if data.lang == "zh" else WrapMode.WORD
        self.word = WrapMode.WORD

    def output(self) -> bytearray:
        result: bytearray = self.pdf.output()
        return result

    # -- building blocks ----------------------------------------------------------------------
    @property
    def width(self) -> float:
        return float(self.pdf.epw)

    def h2(self, number: int | str, title: str) -> None:
        pdf = self.pdf
        if pdf.get_y() > pdf.h - 60:
            pdf.add_page()
        pdf.ln(4)
        pdf.set_font(FAMILY, "B", 13)
        pdf.set_text_color(0, 0, 0)
        pdf.multi_cell(
            0, 7, f"{number} {title}".strip(), new_x="LMARGIN", new_y="NEXT", wrapmode=self.wrap
        )
        pdf.set_draw_color(*ACCENT)
        pdf.set_line_width(0.5)
        pdf.line(pdf.l_margin, pdf.get_y(), pdf.l_margin + self.width, pdf.get_y())
        pdf.ln(2)

    def h3(self, title: str) -> None:
        pdf = self.pdf
        if pdf.get_y() > pdf.h - 40:
            pdf.add_page()
        pdf.ln(1.5)
        pdf.set_font(FAMILY, "B", 10)
        pdf.set_text_color(0, 0, 0)
        pdf.multi_cell(0, 5.5, title, new_x="LMARGIN", new_y="NEXT", wrapmode=self.wrap)

    def para(self, text: str, size: float = 9, colour: tuple[int, int, int] = (0, 0, 0)) -> None:
        pdf = self.pdf
        pdf.set_font(FAMILY, "", size)
        pdf.set_text_color(*colour)
        pdf.multi_cell(0, size * 0.5, text, new_x="LMARGIN", new_y="NEXT", wrapmode=self.wrap)
        pdf.ln(1.2)

    def bullets(self, items: Sequence[str], size: float = 9) -> None:
        for item in items:
            self.para(f"•  {item}", size)

    def fields(self, fields: Sequence[Field]) -> None:
        self.table(
            None,
            [(f.label, f.text) for f in fields],
            (0.32, 0.68),
            bold_first=True,
            max_lines=MAX_FIELD_LINES,
        )

    def table(
        self,
        headings: Sequence[str] | None,
        rows: Sequence[Sequence[str]],
        widths: Sequence[float],
        *,
        right: Sequence[int] = (),
        size: float = 7.5,
        bold_first: bool = False,
        model_text: bool = False,
        max_lines: int = MAX_LINES,
    ) -> None:
        from fpdf.fonts import FontFace

        pdf = self.pdf
        mm = self.column_widths(headings, widths, size)
        pdf.set_font(FAMILY, "", size)
        pdf.set_text_color(0, 0, 0)
        pdf.set_draw_color(213, 221, 226)
        pdf.set_line_width(0.2)
        align = tuple("RIGHT" if i in right else "LEFT" for i in range(len(widths)))
        with pdf.table(
            col_widths=tuple(mm),
            width=self.width,
            text_align=align,
            first_row_as_headings=headings is not None,
            headings_style=FontFace(emphasis="BOLD", fill_color=HEAD_FILL),
            borders_layout="HORIZONTAL_LINES",
            cell_fill_mode="NONE",
            line_height=size * 0.55,
            padding=(0.8, 1.2, 0.8, 1.2),
            wrapmode=self.word if model_text else self.wrap,
        ) as table:
            if headings is not None:
                pdf.set_font(FAMILY, "B", size)
                wrapped = [self.wrap_heading(h, w) for h, w in zip(headings, mm, strict=True)]
                cells = table.row()
                for text in wrapped:
                    cells.cell(text)
            for row in rows:
                cells = table.row()
                for i, text in enumerate(row):
                    bold = bold_first and i == 0
                    pdf.set_font(FAMILY, "B" if bold else "", size)
                    clipped = self.clip(text, mm[i], max_lines)
                    cells.cell(clipped, style=FontFace(emphasis="BOLD") if bold else None)
            pdf.set_font(FAMILY, "", size)
        pdf.ln(2)

    def column_widths(
        self, headings: Sequence[str] | None, widths: Sequence[float], size: float
    ) -> list[float]:
        """Column widths in mm: ``widths`` (fractions), each column widened until the longest
        word of its heading fits, the room taken from columns that have some to spare."""
        mm = [w / sum(widths) * self.width for w in widths]
        if headings is None:
            return mm
        self.pdf.set_font(FAMILY, "B", size)
        need = [
            max((self.pdf.get_string_width(p) for p in _words(h)), default=0.0) + PAD + SLACK
            for h in headings
        ]
        short = sum(max(0.0, n - w) for n, w in zip(need, mm, strict=True))
        spare = sum(max(0.0, w - n) for n, w in zip(need, mm, strict=True))
        if short == 0:
            return mm
        if spare < short:  # nothing to spare: share the page in proportion to the need
            return [n / sum(need) * self.width for n in need]
        return [n if w < n else w - (w - n) / spare * short for n, w in zip(need, mm, strict=True)]

    def wrap_heading(self, text: str, width: float) -> str:
        """``text`` broken into lines of ``width`` mm (current font) between words only, and
        between CJK characters."""
        avail = width - PAD - SLACK
        lines: list[str] = []
        line, space = "", False
        for piece in _PIECES.findall(text):
            if piece.isspace():
                space = bool(line)
                continue
            candidate = f"{line} {piece}" if space else line + piece
            if not line or self.pdf.get_string_width(candidate) <= avail:
                line = candidate
            else:
                lines.append(line)
                line = piece
            space = False
        return "\n".join([*lines, line])

    def clip(self, text: str, width: float, max_lines: int) -> str:
        """``text`` cut with "…" where it would need more than ``max_lines`` lines of
        ``width`` mm in the current font (estimated; word wrapping wastes up to a fifth)."""
        avail = (width - PAD) * 0.8
        if avail <= 0:
            return text
        lines, kept = 0, []
        for line in text.split("\n"):
            need = max(1, math.ceil(self.pdf.get_string_width(line) / avail))
            if lines + need <= max_lines:
                kept.append(line)
                lines += need
                continue
            room = (max_lines - lines) * avail - self.pdf.get_string_width("…")
            lo, hi = 0, len(line)
            while lo < hi:  # longest prefix that fits the remaining lines
                mid = (lo + hi + 1) // 2
                if self.pdf.get_string_width(line[:mid]) <= room:
                    lo = mid
                else:
                    hi = mid - 1
            kept.append(line[:lo].rstrip() + "…")
            break
        return "\n".join(kept)

    def chart(self, chart: Chart) -> None:
        pdf = self.pdf
        row = 5.0
        needed = row * len(chart.bars) + 10
        if pdf.get_y() + needed > pdf.h - 20:
            pdf.add_page()
        self.h3(f"{chart.title} ({chart.unit})")
        label_w, value_w = 62.0, 22.0
        bar_w = self.width - label_w - value_w - 4
        pdf.set_font(FAMILY, "", 7.5)
        for bar in chart.bars:
            x, y = pdf.l_margin, pdf.get_y()
            pdf.set_text_color(0, 0, 0)
            pdf.set_xy(x, y)
            pdf.cell(label_w - 2, row, _fit(pdf, bar.label, label_w - 3), align="R")
            pdf.set_fill_color(*(NEGATIVE if bar.negative else ACCENT))
            width = max(bar.fraction * bar_w, 0.3)
            pdf.rect(x + label_w, y + 0.8, width, row - 1.6, style="F")
            pdf.set_xy(x + label_w + width + 1.5, y)
            pdf.cell(value_w, row, bar.text)
            pdf.set_xy(x, y + row)
        pdf.set_fill_color(255, 255, 255)  # tables must not inherit the bar colour
        pdf.ln(2)

    # -- the report -------------------------------------------------------------------------
    def write_report(self) -> None:
        d, t, pdf = self.d, self.t, self.pdf
        pdf.add_page()
        pdf.set_font(FAMILY, "B", 18)
        pdf.set_text_color(0, 0, 0)
        pdf.multi_cell(0, 9, d.title, new_x="LMARGIN", new_y="NEXT", wrapmode=self.wrap)
        self.para(d.subtitle, 10, GREY)
        pdf.set_font(FAMILY, "B", 12)
        pdf.multi_cell(0, 7, d.product, new_x="LMARGIN", new_y="NEXT", wrapmode=self.wrap)
        self.para(f"{t['generated']}: {d.generated} · {t['software']}: {d.software}", 8, GREY)
        self.results()
        self.scope_and_boundary()
        self.processes_and_data()
        self.methods()
        self.sensitivity_and_interpretation()
        self.annexes()

    def section(self, number: int) -> None:
        self.h2(number, self.d.sections[number - 1].title)

    def results(self) -> None:
        d, t, pdf = self.d, self.t, self.pdf
        self.section(1)
        self.para(d.headline_label, 9, GREY)
        pdf.set_font(FAMILY, "B", 16)
        pdf.set_text_color(*ACCENT)
        pdf.cell(0, 9, d.total.text, new_x="LMARGIN", new_y="NEXT")
        pdf.ln(1)
        self.h3(t["split_title"])
        self.table(
            (t["part"], t["co2e"]),
            [(r.label, r.co2e.text) for r in d.split],
            (0.7, 0.3),
            right=(1,),
        )
        self.table(
            (t["stage"], t["co2e"], t["share"]),
            [(r.label, r.co2e.text, r.share.text) for r in d.stages],
            (0.55, 0.25, 0.2),
            right=(1, 2),
        )
        for chart in d.charts:
            self.chart(chart)
        self.h3(t["chart_gases"])
        self.table(
            (t["gas"], t["name"], t["kg"], t["gwp"], t["co2e"], t["share"]),
            [(r.gas, r.name, r.kg.text, r.gwp, r.co2e.text, r.share.text) for r in d.gases],
            (0.14, 0.3, 0.14, 0.1, 0.18, 0.14),
            right=(2, 3, 4, 5),
        )
        self.h3(t["contributors_title"])
        self.exchanges(d.contributors)
        self.para(f"{t['not_calculated']} {t['offsets']}", 8, GREY)

    def exchanges(self, rows: Sequence[ContributorRow], *, where: bool = False) -> None:
        """The top contributors, or (``where``) the full inventory with the model's lines."""
        t = self.t
        headings = [
            "#",
            t["process"],
            t["exchange"],
            t["amount"],
            t["co2e"],
            t["share"],
            t["primary"],
            t["pedigree"],
        ]
        widths = [0.04, 0.15, 0.3, 0.12, 0.12, 0.07, 0.07, 0.13]
        if where:
            headings.append(t["line"])
            widths = [0.04, 0.14, 0.29, 0.11, 0.11, 0.07, 0.06, 0.11, 0.07]
        self.table(
            headings,
            [
                (
                    str(r.rank),
                    r.process_name,
                    f"{r.name}\n{r.kind}" if where else r.name,
                    r.amount.text,
                    r.co2e.text,
                    r.share.text,
                    r.primary,
                    r.pedigree,
                    *((r.where,) if where else ()),
                )
                for r in rows
            ],
            widths,
            right=(3, 4, 5, 8) if where else (3, 4, 5),
            size=6.5 if where else 7,
            model_text=True,
        )

    def scope_and_boundary(self) -> None:
        d, t = self.d, self.t
        self.section(2)
        self.h3(t["product"])
        self.fields(d.product_fields)
        self.h3(t["unit_kind"])
        self.fields(d.unit_fields)
        self.section(3)
        self.fields(d.boundary_fields)
        self.h3(t["exclusions"])
        if d.exclusions:
            self.bullets(d.exclusions)
        else:
            self.para(t["no_exclusions"])
        if d.model_comment:
            self.h3(t["model_comment"])
            self.para(d.model_comment)

    def processes_and_data(self) -> None:
        d, t = self.d, self.t
        self.section(4)
        self.para(d.processes_intro)
        self.table(
            (
                t["process"],
                t["name"],
                t["stage"],
                t["output"],
                t["co2e"],
                t["share"],
                t["significant"],
            ),
            [
                (
                    r.id,
                    f"{r.name}\n{r.comment}".strip(),
                    r.stage,
                    r.output,
                    r.co2e.text,
                    r.share.text,
                    r.significant,
                )
                for r in d.processes
            ],
            (0.13, 0.27, 0.13, 0.2, 0.11, 0.08, 0.08),
            right=(4, 5),
            size=7,
            model_text=True,
        )
        self.section(5)
        self.para(t["data_intro"])
        self.fields(d.quality_fields)
        self.h3(t["factors_title"])
        self.para(t["factors_note"], 8, GREY)
        self.table(
            (
                t["factor"],
                t["per_unit"],
                t["geography"],
                t["year"],
                t["source"],
                t["licence"],
                t["illustrative"],
            ),
            [
                (
                    f"{r.name}\n{r.id}",
                    r.co2e_per_unit.text,
                    r.geography,
                    str(r.year),
                    r.source,
                    r.licence,
                    r.illustrative,
                )
                for r in d.factors
            ],
            (0.27, 0.13, 0.08, 0.06, 0.22, 0.14, 0.1),
            right=(1,),
            size=6.5,
            model_text=True,
        )

    def methods(self) -> None:
        d, t = self.d, self.t
        self.section(6)
        self.fields(d.ghg_fields)
        self.para(t["gases_intro"])
        self.table(
            (t["gas"], t["name"], t["gwp"], t["kg"], t["co2e"]),
            [(r.gas, r.name, r.gwp, r.kg.text, r.co2e.text) for r in d.gases],
            (0.16, 0.36, 0.12, 0.18, 0.18),
            right=(2, 3, 4),
        )
        self.section(7)
        if d.allocations:
            self.para(t["allocation_intro"])
            self.table(
                (t["process"], t["co_products"], t["method"], t["justification"]),
                [(r.process, r.products, r.method, r.justification) for r in d.allocations],
                (0.22, 0.22, 0.14, 0.42),
                model_text=True,
            )
        else:
            self.para(t["no_allocation"])
        self.section(8)
        self.para(t["electricity_intro"])
        if d.electricity:
            self.table(
                (t["requested"], t["used"], t["level"], t["per_unit"], t["year"], t["note"]),
                [
                    (r.requested, r.factor, r.level, r.intensity.text, str(r.year), r.note)
                    for r in d.electricity
                ],
                (0.1, 0.3, 0.1, 0.16, 0.07, 0.27),
                right=(3,),
                model_text=True,
            )
        if d.electricity_factors:
            self.h3(t["electricity_factors_title"])
            self.table(
                (t["factor"], t["per_unit"], t["geography"], t["year"], t["source"]),
                [
                    (f"{r.name}\n{r.id}", r.co2e_per_unit.text, r.geography, str(r.year), r.source)
                    for r in d.electricity_factors
                ],
                (0.28, 0.14, 0.08, 0.06, 0.44),
                right=(1,),
                size=7,
                model_text=True,
            )
        else:
            self.para(t["no_electricity"])
        self.section(9)
        self.fields(d.period_fields)

    def sensitivity_and_interpretation(self) -> None:
        d, t = self.d, self.t
        self.section(10)
        self.para(d.sensitivity_intro)
        if d.sensitivity:
            self.table(
                (t["parameter"], t["base_value"], t["minus10"], t["plus10"], t["change"]),
                [
                    (f"{r.parameter}\n{r.note}".strip(), r.base, r.low, r.high, r.change)
                    for r in d.sensitivity
                ],
                (0.4, 0.1, 0.16, 0.16, 0.18),
                right=(1, 2, 3, 4),
                size=7,
            )
        self.h3(t["gwp_sensitivity_title"])
        self.para(t["gwp_sensitivity_intro"])
        self.table(
            (t["gwp_set"], t["co2e"], t["change"]),
            [(f"{r.gwp}: {r.name}", r.total.text, r.change.text) for r in d.gwp_sensitivity],
            (0.6, 0.22, 0.18),
            right=(1, 2),
        )
        self.h3(t["uncertainty_title"])
        self.para(d.uncertainty)
        if d.uncertainty_chart is not None:
            self.chart(d.uncertainty_chart)
        if d.sobol is not None:
            self.h3(t["sobol_title"])
            self.para(d.sobol.text)
            self.table(
                (t["sobol_input"], t["sobol_share"], t["sobol_s1"], t["sobol_st"]),
                [(r.input, r.share, r.s1, r.st) for r in d.sobol.rows],
                (0.4, 0.2, 0.2, 0.2),
                right=(1, 2, 3),
            )
            self.chart(d.sobol.chart)
        self.section(11)
        self.h3(t["conclusions"])
        self.bullets(d.conclusions)
        self.h3(t["limitations"])
        self.bullets(d.limitations)
        if d.notes:
            self.h3(t["limitation_notes"])
            self.bullets(d.notes, size=7.5)
        self.h3(t["value_choices"])
        self.bullets(d.value_choices)
        self.section(12)
        self.fields(d.rules_fields)
        if d.conformance:
            self.h3(t["conformance_title"])
            self.table(
                (t["clause"], t["requirement"], t["status"], t["detail"]),
                [
                    (r.clause, f"{r.requirement} ({r.source})", r.status, r.detail)
                    for r in d.conformance
                ],
                (0.14, 0.42, 0.14, 0.30),
                size=7,
                model_text=True,
            )

    def annexes(self) -> None:
        d, t = self.d, self.t
        self.h2("", t["s_checklist"])
        self.para(t["checklist_intro"])
        self.table(
            (t["requirement"], t["section"]),
            [(r.requirement, f"{r.section} {r.title}") for r in d.checklist],
            (0.58, 0.42),
        )
        self.h2("", t["s_provenance"])
        self.para(t["provenance_intro"])
        self.table(
            (t["key"], t["value"]),
            [(f.label, f.text) for f in d.provenance],
            (0.25, 0.75),
            size=7,
            model_text=True,
        )
        self.h2("", t["s_inventory"])
        self.para(t["inventory_intro"])
        self.exchanges(d.inventory, where=True)
        self.h2("", t["s_parameters"])
        self.para(t["parameters_intro"])
        if d.parameters:
            self.table(
                (t["parameter"], t["base_value"], t["definition"], t["overridden"]),
                [(r.name, r.value, r.definition, r.overridden) for r in d.parameters],
                (0.3, 0.15, 0.4, 0.15),
                right=(1,),
                size=7,
                model_text=True,
            )
        else:
            self.para(t["no_parameters"])
        self.h2("", t["s_references"])
        self.para(t["references_intro"])
        for title, refs in ((t["sources_title"], d.sources), (t["licences_title"], d.licences)):
            self.h3(title)
            self.table(
                (t["ref"], t["full_text"], t["used_by"]),
                [(r.ref, r.text, r.used_by) for r in refs],
                (0.08, 0.62, 0.3),
                size=6.5,
                model_text=True,
                max_lines=MAX_FIELD_LINES,
            )


def _words(text: str) -> list[str]:
    return [p for p in _PIECES.findall(text) if not p.isspace()]


def _fit(pdf: Any, text: str, width: float) -> str:
    """``text`` shortened with an ellipsis to fit ``width`` mm in the current font."""
    if pdf.get_string_width(text) <= width:
        return text
    while text and pdf.get_string_width(text + "…") > width:
        text = text[:-1]
    return text + "…"
