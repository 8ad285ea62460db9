"""Horizontal bar charts as inline SVG, drawn from :class:`~openpcf.reports.data.Chart`.

Hand-written SVG rather than matplotlib: the charts are plain bars, the output is a few
kilobytes of text that diffs well in golden files, and the report needs no plotting library.
Labels are escaped; the viewer's fonts render them (CJK included).
"""

from __future__ import annotations

from html import escape

from openpcf.reports.data import Chart

WIDTH = 640
ROW = 22
LABEL_W = 250
VALUE_W = 80
TOP = 8
POSITIVE = "#2f6f8f"
NEGATIVE = "#5f9f4f"


def svg(chart: Chart) -> str:
    """The chart as one ``<svg>`` element (no XML declaration, for inline use)."""
    bar_w = WIDTH - LABEL_W - VALUE_W - 16
    height = TOP * 2 + ROW * max(len(chart.bars), 1)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" '
        f'viewBox="0 0 {WIDTH} {height}" width="{WIDTH}" height="{height}" '
        f'aria-label="{escape(chart.title)} ({escape(chart.unit)})">',
        f"<title>{escape(chart.title)} ({escape(chart.unit)})</title>",
    ]
    for i, bar in enumerate(chart.bars):
        y = TOP + i * ROW
        width = max(bar.fraction * bar_w, 0.5)
        colour = NEGATIVE if bar.negative else POSITIVE
        parts.append(
            f'<text x="{LABEL_W - 6}" y="{y + 15}" text-anchor="end" font-size="12">'
            f"{escape(_short(bar.label))}</text>"
            f'<rect x="{LABEL_W}" y="{y + 3}" width="{width:.1f}" height="{ROW - 6}" '
            f'fill="{colour}"/>'
            f'<text x="{LABEL_W + width + 6:.1f}" y="{y + 15}" font-size="12">'
            f"{escape(bar.text)}</text>"
        )
    parts.append("</svg>")
    return "".join(parts)


def _short(label: str, limit: int = 38) -> str:
    return label if len(label) <= limit else label[: limit - 1] + "…"
