"""The PDF report: pages, an embedded CJK font, and text a machine can read back (pypdf)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
import itertools
import re
from pathlib import Path

import pytest
from pypdf import PdfReader
from pypdf.generic import NameObject

from openpcf.reports import ReportData, build_report_data, fonts, render_pdf
from openpcf.reports import pdf as pdf_module
from openpcf.reports.fonts import MissingGlyphWarning
from openpcf.reports.fonts.build import charset
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


def pdf_text(pdf: bytes) -> tuple[int, str]:
    """The number of pages and the text of ``pdf``, as pypdf extracts it.

    fpdf2 embeds a CFF font as a ``CIDFontType0`` whose ``/Encoding`` is an embedded CMap
    (character code -> CID). pypdf does not read embedded CMaps: it falls back to a one-byte
    encoding and garbles the text, while poppler (``pdftotext``) and viewers read it right. The
    ToUnicode map is keyed by character code, so naming the encoding ``Identity-H`` (2-byte
    codes) lets pypdf read the text exactly; nothing else is changed.
    """
    reader = PdfReader(io.BytesIO(pdf))
    for page in reader.pages:
        for ref in page["/Resources"]["/Font"].values():
            font = ref.get_object()
            if font.get("/Subtype") == "/Type0":
                font[NameObject("/Encoding")] = NameObject("/Identity-H")
    return len(reader.pages), "\n".join(page.extract_text() for page in reader.pages)


_text = pdf_text


def test_english_pdf(pdfs: dict[str, tuple[ReportData, bytes]]) -> None:
    data, pdf = pdfs["en"]
    pages, text = _text(pdf)
    assert pdf.startswith(b"%PDF-")
    assert 6 <= pages <= 14, pages
    for s in (
        "Carbon footprint of a product (CFP) study report",
        "111 kg CO2e",
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
    assert 6 <= pages <= 14, pages
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
        "111 kg CO2e",
        f"第 {pages} 页，共 {pages} 页",
    ):
        assert s in text, s


def test_font_is_embedded_cff(pdfs: dict[str, tuple[ReportData, bytes]]) -> None:
    """The bundled CFF font, embedded (a CIDFontType0 with its program inside, subset to the
    glyphs used): renders on a machine without CJK fonts, and its text can be extracted."""
    _, pdf = pdfs["zh"]
    reader = PdfReader(io.BytesIO(pdf))
    fonts = reader.pages[0]["/Resources"]["/Font"]
    assert len(fonts) == 2  # Regular and Bold, no fallback font needed for this report
    for ref in fonts.values():
        font = ref.get_object()
        assert "NotoSansCJKSC" in font["/BaseFont"]
        descendant = font["/DescendantFonts"][0].get_object()
        assert descendant["/Subtype"] == "/CIDFontType0"
        program = descendant["/FontDescriptor"].get_object()["/FontFile3"].get_object()
        assert program["/Subtype"] == "/CIDFontType0C"  # CFF outlines, not converted
        assert len(program.get_data()) < 400_000  # the glyphs used, not the 1.5 MB subset
        assert "/ToUnicode" in font


def test_same_data_same_bytes(pdfs: dict[str, tuple[ReportData, bytes]]) -> None:
    data, pdf = pdfs["en"]
    assert render_pdf(data) == pdf


# -- fonts ------------------------------------------------------------------------------------
RARE = "龘"  # U+9F98: not in GB 2312, so not in the bundled subset


def one_glyph_font(path: Path, char: str = RARE) -> Path:
    """A TrueType font with one glyph (a box) for ``char``, made with fontTools."""
    from fontTools.fontBuilder import FontBuilder
    from fontTools.pens.ttGlyphPen import TTGlyphPen

    box = TTGlyphPen(None)
    for x, y in ((100, 0), (100, 800), (900, 800), (900, 0)):
        (box.lineTo if x != 100 or y != 0 else box.moveTo)((x, y))
    box.closePath()
    builder = FontBuilder(1000, isTTF=True)
    builder.setupGlyphOrder([".notdef", "rare"])
    builder.setupCharacterMap({ord(char): "rare"})
    builder.setupGlyf({".notdef": TTGlyphPen(None).glyph(), "rare": box.glyph()})
    builder.setupHorizontalMetrics({".notdef": (500, 0), "rare": (1000, 100)})
    builder.setupHorizontalHeader(ascent=880, descent=-120)
    builder.setupNameTable({"familyName": "OneGlyphTest", "styleName": "Regular"})
    builder.setupOS2(sTypoAscender=880, sTypoDescender=-120, usWinAscent=880, usWinDescent=120)
    builder.setupPost()
    builder.save(path)
    return path


def test_the_bundled_subset_covers_gb2312() -> None:
    regular, bold = fonts.bundled()
    assert regular.path.stat().st_size < 2_000_000
    gb2312 = {ord(c) for c in charset() if ord(c) >= 0x80 and _in_gb2312(c)}
    assert len(gb2312) > 7000
    for font in (regular, bold):
        cover = fonts.coverage(font)
        assert gb2312 - cover == set(), sorted(gb2312 - cover)[:10]
        assert ord(RARE) not in cover


def _in_gb2312(char: str) -> bool:
    try:
        char.encode("gb2312")
    except UnicodeEncodeError:
        return False
    return True


def test_fallback_font_draws_what_the_subset_lacks(
    pdfs: dict[str, tuple[ReportData, bytes]], tmp_path: Path
) -> None:
    """A character outside GB 2312 comes from the fallback font given, without a warning
    (the test suite turns warnings into errors)."""
    data, _ = pdfs["zh"]
    rare = dataclasses.replace(data, product=f"{data.product} {RARE}")
    pdf = render_pdf(rare, fallback_fonts=[one_glyph_font(tmp_path / "one.ttf")])
    _, text = pdf_text(pdf)
    assert f"{data.product} {RARE}" in text
    reader = PdfReader(io.BytesIO(pdf))
    names = {
        str(f.get_object()["/BaseFont"]) for f in reader.pages[0]["/Resources"]["/Font"].values()
    }
    assert any("OneGlyphTest" in name for name in names), names


def test_a_character_no_font_has_is_named_in_a_warning(
    pdfs: dict[str, tuple[ReportData, bytes]],
) -> None:
    data, _ = pdfs["en"]
    rare = dataclasses.replace(data, product=f"{data.product} {RARE}")
    with pytest.warns(MissingGlyphWarning, match=r"龘 \(U\+9F98\).*fonts-noto-cjk"):
        pdf = render_pdf(rare, fallback_fonts=[])
    assert pdf.startswith(b"%PDF-")


def test_headings_break_between_words_only(
    pdfs: dict[str, tuple[ReportData, bytes]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every word of every table heading fits its column, and lines break at spaces or next
    to a CJK character, never inside a word ("illustra-tive")."""
    seen: list[tuple[str, str, float, float]] = []
    wrap = pdf_module._Document.wrap_heading

    def spy(self: pdf_module._Document, text: str, width: float) -> str:
        out = wrap(self, text, width)
        widest = max(self.pdf.get_string_width(w) for w in pdf_module._words(text))
        seen.append((text, out, widest, width))
        return out

    monkeypatch.setattr(pdf_module._Document, "wrap_heading", spy)
    for lang in ("en", "zh"):
        render_pdf(pdfs[lang][0])
    assert len(seen) > 50
    cjk = re.compile(r"[\u2e80-\u9fff\uff00-\uffef\u3000-\u303f]")
    for text, out, widest, width in seen:
        assert widest <= width - pdf_module.PAD, (text, width)
        lines = out.split("\n")
        for before, after in itertools.pairwise(lines):
            assert cjk.match(before[-1]) or cjk.match(after[0]) or f"{before} {after}" in text, out
