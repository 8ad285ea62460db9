"""The CJK font of the PDF report: Noto Sans CJK SC, cut down to the characters used.

The font comes from the ``manimgx-fonts-cjk`` wheel on PyPI (Noto Sans CJK as Google/Adobe
publish it, SIL Open Font License 1.1), so a machine set up by ``pip install`` alone renders
Chinese: no system font, no download at run time. That file is a variable CFF2 collection
(weights 100 to 900, five regional faces). fpdf2 can instance it itself, but over all 65,000
glyphs that takes minutes; here we first subset the Simplified Chinese face to the characters of
the report (about a second), then pin the weight, then convert the cubic CFF outlines to
TrueType quadratics (cu2qu), because a TrueType ``CIDFontType2`` is what every PDF viewer reads
and what fpdf2 embeds. The result is a small static ``.ttf`` per weight, embedded (and subset
again) by fpdf2, with a ToUnicode map, so the text is extractable.
"""

from __future__ import annotations

import io
from functools import lru_cache
from importlib import resources
from typing import Any

from openpcf.reports.errors import ReportError

#: Face of the collection: 0 JP, 1 KR, 2 SC (Simplified Chinese), 3 TC, 4 HK.
SC_FACE = 2
REGULAR = 400
BOLD = 700
#: Always included, so that numbers and Latin text never miss a glyph.
BASE_CHARS = (
    "".join(chr(c) for c in range(0x20, 0x7F)) + "–—‘’“”…·•×±≤≥−→°µ²³€£¥％（），：；。、《》"
)


def _font_file() -> bytes:
    try:
        package = resources.files("manimgx_fonts_cjk")
    except ModuleNotFoundError:
        raise ReportError(
            "the PDF report needs the Noto Sans CJK font of the 'manimgx-fonts-cjk' package; "
            "reinstall OpenPCF (pip install -e .) to get it"
        ) from None
    return package.joinpath("NotoSansCJK-VF.otf.ttc").read_bytes()


@lru_cache(maxsize=1)
def _collection_bytes() -> bytes:
    return _font_file()


@lru_cache(maxsize=4)
def _subset_variable(chars: str) -> bytes:
    """The variable SC face cut down to ``chars`` (the slow part; shared by both weights)."""
    from fontTools import subset  # type: ignore[import-untyped]
    from fontTools.ttLib import TTFont  # type: ignore[import-untyped]

    font = TTFont(io.BytesIO(_collection_bytes()), fontNumber=SC_FACE, lazy=True)
    options = subset.Options()
    options.layout_features = []  # no shaping is needed for Chinese and Latin text
    options.name_IDs = ["*"]
    options.name_languages = ["*"]
    options.notdef_outline = True
    options.hinting = False
    subsetter = subset.Subsetter(options)
    subsetter.populate(text=chars)
    subsetter.subset(font)
    out = io.BytesIO()
    font.save(out)
    return out.getvalue()


@lru_cache(maxsize=8)
def subset_font(text: str, weight: int) -> bytes:
    """A static TrueType font with the glyphs of ``text`` (plus :data:`BASE_CHARS`)."""
    from fontTools.ttLib import TTFont
    from fontTools.varLib import instancer  # type: ignore[import-untyped]

    chars = "".join(sorted(set(text + BASE_CHARS)))
    font = TTFont(io.BytesIO(_subset_variable(chars)))
    font = instancer.instantiateVariableFont(font, {"wght": weight})
    _to_truetype(font)
    out = io.BytesIO()
    font.save(out)
    return out.getvalue()


def _to_truetype(font: Any) -> None:
    """Replace CFF/CFF2 outlines by TrueType ones (as fontTools' otf2ttf snippet does)."""
    from fontTools.pens.cu2quPen import Cu2QuPen  # type: ignore[import-untyped]
    from fontTools.pens.ttGlyphPen import TTGlyphPen  # type: ignore[import-untyped]
    from fontTools.ttLib import newTable

    f = font  # a fontTools TTFont (fontTools ships no type hints)
    order = f.getGlyphOrder()
    glyph_set = f.getGlyphSet()
    glyf = newTable("glyf")
    glyf.glyphOrder = order
    glyf.glyphs = {}
    for name in order:
        pen = TTGlyphPen(None)
        # 1 unit in 1000: invisible at any size; TrueType contours run the other way round
        glyph_set[name].draw(Cu2QuPen(pen, max_err=1.0, reverse_direction=True))
        glyf[name] = pen.glyph()
    for tag in ("CFF ", "CFF2", "VORG"):
        if tag in f:
            del f[tag]
    f["glyf"] = glyf
    f["loca"] = newTable("loca")
    maxp = f["maxp"]
    maxp.tableVersion = 0x00010000
    for attr in (
        "maxZones",
        "maxTwilightPoints",
        "maxStorage",
        "maxFunctionDefs",
        "maxInstructionDefs",
        "maxStackElements",
        "maxSizeOfInstructions",
        "maxComponentElements",
        "maxComponentDepth",
    ):
        setattr(maxp, attr, 1 if attr == "maxZones" else 0)
    post = f["post"]
    post.formatType = 2.0
    post.extraNames = []
    post.mapping = {}
    post.glyphOrder = order
    f["head"].glyphDataFormat = 0
    f.sfntVersion = "\x00\x01\x00\x00"
