"""The fonts of the PDF report: a bundled Noto Sans CJK SC subset, and a system fallback.

All PDF text, Latin and Chinese, is set in **Noto Sans CJK SC** Regular and Bold, cut down to
GB 2312 plus Latin and punctuation (``build.py`` in this folder makes them; ``README.md`` says
from what). fpdf2 reads these static CFF fonts directly and embeds the glyphs a report uses, so
nothing is converted or subset per report and ``pip install`` alone renders Chinese.

A character outside the subset (a rare hanzi in a supplier's name, a Japanese kana) is looked
up in a fallback font: by default Debian's ``fonts-noto-cjk`` (:data:`SYSTEM_FALLBACK`), or a
font the caller names. A character in neither gets a :class:`MissingGlyphWarning` naming it,
never a crash or a silent blank box.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path

REGULAR_FILE = "NotoSansCJKsc-Regular-GB2312.otf"
BOLD_FILE = "NotoSansCJKsc-Bold-GB2312.otf"
#: Face index of Simplified Chinese in Noto Sans CJK collections (0 JP, 1 KR, 2 SC, 3 TC, 4 HK).
SC_FACE = 2


class MissingGlyphWarning(UserWarning):
    """Characters of a report that no available font can draw."""


@dataclass(frozen=True, slots=True)
class FontFile:
    """A font file, and the face to use when it is a collection (``.ttc``)."""

    path: Path
    face: int = 0


#: Debian's ``fonts-noto-cjk`` (Regular, Bold), used for characters outside the bundled subset.
SYSTEM_FALLBACK: tuple[FontFile, FontFile] = (
    FontFile(Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"), SC_FACE),
    FontFile(Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc"), SC_FACE),
)


@dataclass(frozen=True, slots=True, kw_only=True)
class FontPlan:
    """Which fonts a report needs: the bundled pair, the fallbacks it uses, what none covers."""

    regular: FontFile
    bold: FontFile
    fallback: tuple[FontFile, ...]  # (regular[, bold]); empty when the subset covers all
    missing: str  # characters no font has, sorted


def bundled() -> tuple[FontFile, FontFile]:
    """The bundled Regular and Bold subsets (files inside the installed package)."""
    folder = resources.files(__name__)
    return (
        FontFile(Path(str(folder.joinpath(REGULAR_FILE)))),
        FontFile(Path(str(folder.joinpath(BOLD_FILE)))),
    )


@cache
def coverage(font: FontFile) -> frozenset[int]:
    """The code points ``font`` maps to a glyph (read once per file)."""
    from fontTools.ttLib import TTFont  # type: ignore[import-untyped]

    with TTFont(font.path, fontNumber=font.face, lazy=True) as f:
        return frozenset(f.getBestCmap() or {})


def plan(text: str, fallback: Sequence[FontFile] | None = None) -> FontPlan:
    """The fonts needed for ``text``; warns (:class:`MissingGlyphWarning`) about characters that
    none of them has.

    ``fallback`` is one font, or a Regular and a Bold, for characters outside the bundled
    subset; ``None`` means Debian's :data:`SYSTEM_FALLBACK` where it is installed.
    """
    regular, bold = bundled()
    needed = {ord(c) for c in text if c.isprintable() and not c.isspace()}
    outside = needed - coverage(regular)
    chosen: tuple[FontFile, ...] = ()
    if outside:
        candidates = tuple(SYSTEM_FALLBACK if fallback is None else fallback)
        usable = tuple(f for f in candidates if f.path.is_file())
        if usable and outside & coverage(usable[0]):
            chosen = usable
            outside -= coverage(usable[0])
    missing = "".join(chr(c) for c in sorted(outside))
    if missing:
        shown = " ".join(f"{c} (U+{ord(c):04X})" for c in missing[:20])
        more = f" and {len(missing) - 20} more" if len(missing) > 20 else ""
        warnings.warn(
            MissingGlyphWarning(
                f"the PDF report has {len(missing)} character(s) that no font can draw: "
                f"{shown}{more}; they print as blank boxes. Install Debian's fonts-noto-cjk "
                "(apt-get install fonts-noto-cjk) or name a font that has them "
                "(openpcf report --fallback-font FILE)"
            ),
            stacklevel=2,
        )
    return FontPlan(regular=regular, bold=bold, fallback=chosen, missing=missing)
