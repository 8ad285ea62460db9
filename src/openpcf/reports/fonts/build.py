"""Rebuild the bundled font subsets from Debian's ``fonts-noto-cjk`` (see ``README.md``).

    python -m openpcf.reports.fonts.build /tmp/noto/usr/share/fonts/opentype/noto

reads ``NotoSansCJK-Regular.ttc`` and ``NotoSansCJK-Bold.ttc`` there, takes their Simplified
Chinese face, keeps the characters of :func:`charset` with their CFF outlines (no TrueType
conversion, no layout or vertical tables) and writes the two ``.otf`` files next to this file.
The same input gives the same bytes: the fonts' own timestamps are kept.
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).parent
#: Face of the Noto Sans CJK collections: 0 JP, 1 KR, 2 SC (Simplified Chinese), 3 TC, 4 HK.
SC_FACE = 2
WEIGHTS = {"Regular": "NotoSansCJKsc-Regular-GB2312.otf", "Bold": "NotoSansCJKsc-Bold-GB2312.otf"}
#: Beyond GB 2312: Latin-1 and Latin Extended-A, general punctuation, super- and subscripts
#: (CO₂), currency, letterlike symbols (℃), arrows and mathematical operators.
EXTRA_RANGES = ((0x20, 0x7E), (0xA0, 0x17F), (0x2000, 0x22FF))


def charset() -> str:
    """Every code point Python's ``gb2312`` codec encodes, plus :data:`EXTRA_RANGES`."""
    codes = {c for lo, hi in EXTRA_RANGES for c in range(lo, hi + 1)}
    for c in range(0x80, 0x10000):
        try:
            chr(c).encode("gb2312")
        except UnicodeEncodeError:
            continue
        codes.add(c)
    return "".join(chr(c) for c in sorted(codes))


def build(source: Path, target: Path = HERE) -> list[Path]:
    from fontTools import subset  # type: ignore[import-untyped]
    from fontTools.ttLib import TTFont  # type: ignore[import-untyped]

    options = subset.Options()
    options.layout_features = []  # fpdf2 sets Chinese and Latin text without shaping
    options.drop_tables += ["GSUB", "GPOS", "GDEF", "BASE", "vhea", "vmtx", "VORG"]
    options.name_IDs = ["*"]  # keeps copyright, licence and version
    options.name_languages = ["*"]
    options.notdef_outline = True
    options.hinting = False  # PDF viewers rasterise without the CFF hints; saves 0.3 MB a weight
    written = []
    for weight, name in WEIGHTS.items():
        font = TTFont(
            source / f"NotoSansCJK-{weight}.ttc", fontNumber=SC_FACE, recalcTimestamp=False
        )
        subsetter = subset.Subsetter(options)
        subsetter.populate(text=charset())
        subsetter.subset(font)
        font.save(target / name)
        written.append(target / name)
    return written


if __name__ == "__main__":
    for path in build(Path(sys.argv[1])):
        print(f"{path}: {path.stat().st_size:,} bytes")
