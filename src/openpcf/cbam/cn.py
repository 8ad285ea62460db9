"""CN codes: normalise user input ("7208 39 00", "7208.39.00", "72083900") and print it back.

The Combined Nomenclature (Council Regulation (EEC) No 2658/87, Annex I) numbers goods with
2-digit chapters, 4-digit headings, 6-digit HS subheadings and 8-digit CN subheadings; TARIC
adds two more digits. Annex I of Implementing Regulation (EU) 2025/2621 lists default values at
4, 6, 8 and 10 digits, so OpenPCF accepts 4 to 10 digits.
"""

from __future__ import annotations

from openpcf.cbam.errors import UnknownCnCodeError

#: Chapters the CN does not use for goods: 00, 77 (reserved by the HS) and 98-99 (special
#: codes for complete industrial plant and statistical use).
_UNUSED_CHAPTERS = frozenset({"00", "77", "98", "99"})


def normalise_cn(code: object, *, field: str = "CN code") -> str:
    """Return ``code`` as digits only (spaces, dots and hyphens removed).

    Raises
    ------
    UnknownCnCodeError
        If the result is not 4, 6, 8 or 10 digits, or names a chapter the CN does not use.
        Nine digits ending in 0 are read as eight, because Annex I of Reg. 2023/956 writes
        hydrogen as "2804 10 000".
    """
    text = str(code).strip()
    digits = "".join(ch for ch in text if ch not in " .-\u00a0")
    if len(digits) == 9 and digits.endswith("0"):
        digits = digits[:8]
    if not digits.isdigit() or len(digits) not in (4, 6, 8, 10):
        raise UnknownCnCodeError(
            f"{field} {text!r} is not a CN code: give 4, 6, 8 or 10 digits, e.g. '7208 39 00' "
            "(spaces are optional)."
        )
    if digits[:2] in _UNUSED_CHAPTERS:
        raise UnknownCnCodeError(
            f"{field} {text!r} is not a CN code: chapter {digits[:2]} is not used for goods."
        )
    return digits


def format_cn(digits: str) -> str:
    """``"72083900"`` -> ``"7208 39 00"`` (the Official Journal's spacing)."""
    parts = [digits[:4]] + [digits[i : i + 2] for i in range(4, len(digits), 2)]
    return " ".join(parts)
