"""Rounding and printing of report numbers: significant figures, units, per cent.

Reports print three significant figures for kg CO2e (about the precision background factors
support, often less) and shares to 0.1 %. Values keep the rounded number so that a chart and a
table never disagree. Thousands are grouped with commas, in English and in Chinese alike.
"""

from __future__ import annotations

import math

from openpcf.reports.data import Percent, Quantity

SIG_FIGS = 3


def round_sig(x: float, figures: int = SIG_FIGS) -> float:
    """``x`` rounded to ``figures`` significant figures (0 stays 0, -0 becomes 0)."""
    if x == 0 or not math.isfinite(x):
        return 0.0 if x == 0 else x
    return round(x, figures - 1 - math.floor(math.log10(abs(x)))) + 0.0


def number_text(x: float, figures: int = SIG_FIGS) -> str:
    """``x`` rounded to ``figures`` significant figures, printed without exponent."""
    value = round_sig(x, figures)
    if value == 0:
        return "0"
    decimals = max(0, figures - 1 - math.floor(math.log10(abs(value))))
    return f"{value:,.{decimals}f}"


def plain(x: float) -> str:
    """A model input printed as given (up to 6 significant figures), e.g. ``1``, ``0.95``."""
    return f"{x:,.6g}"


def quantity(x: float, unit: str, figures: int = SIG_FIGS) -> Quantity:
    text = number_text(x, figures)
    return Quantity(value=round_sig(x, figures), unit=unit, text=f"{text} {unit}".strip())


def percent(part: float, whole: float) -> Percent:
    """``part`` as a share of ``whole`` (``–`` when ``whole`` is 0)."""
    if whole == 0:
        return Percent(value=0.0, text="–")
    value = round(100.0 * part / whole, 1) + 0.0
    return Percent(value=value, text=f"{value:.1f} %")


def change_text(new: float, base: float) -> str:
    """Signed relative change of ``new`` against ``base``, e.g. ``"+2.4 %"``."""
    if base == 0:
        return "–"
    value = round(100.0 * (new - base) / abs(base), 1) + 0.0
    return f"{value:+.1f} %"
