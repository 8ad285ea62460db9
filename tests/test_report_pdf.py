"""The PDF report: pages, an embedded CJK font, and text a machine can read back (pypdf)."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

import pytest
from pypdf import PdfReader

from openpcf.reports import ReportData, build_report_data, render_pdf
from openpcf.reports.sensitivity import analyse
from openpcf.services.calculate import calculate

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "lfp_battery_pack.yaml"


@pytest.fixture(scope="module")
def pdfs() -> dict[str, tuple[ReportData, bytes]]:
    calculation = calculate(EXAMPLE)
    sensitivity = analyse(calculation.compiled, calculation.result.total)
    out = {}
    for lang in ("en", "zh"):
        data = build_report_data(
            calculation, lang=lang, today=dt.date(2025, 1, 1), sensitivity=sensitivity
        )
        out[lang] = (data, render_pdf(data))
    return out


def _text(pdf: bytes) -> tuple[int, str]:
    reader = PdfReader(io.BytesIO(pdf))
    return len(reader.pages), "\n".join(page.extract_text() for page in reader.pages)


def test_english_pdf(pdfs: dict[str, tuple[ReportData, bytes]]) -> None:
    data, pdf = pdfs["en"]
    pages, text = _text(pdf)
    assert pdf.startswith(b"%PDF-")
    assert 6 <= pages <= 10, pages
    for s in (
        "Carbon footprint of a product (CFP) study report",
        "114 kg CO2e",
        "System boundary and cut-off",
        "Sensitivity analysis and uncertainty",
        "Annex A: ISO 14067:2018 clause 7 checklist",
        f"Page {pages} of {pages}",
    ):
        assert s in text, s
    assert data.product in text


def test_chinese_pdf_text_is_extractable(pdfs: dict[str, tuple[ReportData, bytes]]) -> None:
    _, pdf = pdfs["zh"]
    pages, text = _text(pdf)
    assert 6 <= pages <= 10, pages
    for s in (
        "产品碳足迹研究报告",
        "磷酸铁锂电池包",
        "声明单位",
        "系统边界与取舍准则",
        "生命周期阶段",
        "数据质量",
        "全球增温潜势",
        "原材料获取",
        "敏感性分析与不确定性",
        "114 kg CO2e",
        f"第 {pages} 页，共 {pages} 页",
    ):
        assert s in text, s


def test_font_is_embedded_truetype(pdfs: dict[str, tuple[ReportData, bytes]]) -> None:
    """A CIDFontType2 with its program inside: renders on a machine without CJK fonts."""
    _, pdf = pdfs["zh"]
    reader = PdfReader(io.BytesIO(pdf))
    fonts = reader.pages[0]["/Resources"]["/Font"]
    for ref in fonts.values():
        font = ref.get_object()
        descendant = font["/DescendantFonts"][0].get_object()
        assert descendant["/Subtype"] == "/CIDFontType2"
        program = descendant["/FontDescriptor"].get_object()["/FontFile2"].get_object()
        assert program.get_data()[:4] == b"\x00\x01\x00\x00"  # TrueType outlines, not CFF
        assert "/ToUnicode" in font


def test_same_data_same_bytes(pdfs: dict[str, tuple[ReportData, bytes]]) -> None:
    data, pdf = pdfs["en"]
    assert render_pdf(data) == pdf
