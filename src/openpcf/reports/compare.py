"""``openpcf compare --report``: the comparison as a self-contained HTML page or an SVG waterfall.

The waterfall runs from A's total through each dimension's effect (in the fixed order of
:data:`openpcf.rules.compare.DIMENSIONS`) and the interaction to B's total; each step is a
floating horizontal bar from the running total before it to the running total after it, drawn
like the bar charts of the ISO 14067 report (:mod:`openpcf.reports.charts`: same sizes, label
shortening and colours, hand-written SVG, labels escaped). The page holds its style and chart
inline: no script, font or file beside it.
"""

from __future__ import annotations

from html import escape

from openpcf.reports.charts import LABEL_W, NEGATIVE, POSITIVE, ROW, TOP, VALUE_W, WIDTH, _short
from openpcf.reports.numbers import number_text as _number_text
from openpcf.rules.compare import Comparison

INCREASE = "#b5543c"
AXIS = "#888888"
#: significant figures of the page's numbers
FIGURES = 4


def number_text(x: float) -> str:
    return _number_text(x, FIGURES)


def steps(c: Comparison) -> list[tuple[str, float, float, str]]:
    """The waterfall's bars: (label, start, end, kind) with kind total, effect or interaction."""
    out = [(f"{c.a_label} total", 0.0, c.a_total, "total")]
    running = c.a_total
    for e in c.effects:
        out.append((e.dimension, running, running + e.effect, "effect"))
        running += e.effect
    out.append(("interaction", running, running + c.interaction, "interaction"))
    out.append((f"{c.b_label} total", 0.0, c.b_total, "total"))
    return out


def waterfall_svg(c: Comparison) -> str:
    """The waterfall as one ``<svg>`` element (no XML declaration, for inline use)."""
    bars = steps(c)
    low = min(0.0, *(min(s, e) for _, s, e, _ in bars))
    high = max(0.0, *(max(s, e) for _, s, e, _ in bars))
    span = (high - low) or 1.0
    bar_w = WIDTH - LABEL_W - VALUE_W - 16
    height = TOP * 2 + ROW * len(bars)

    def x(v: float) -> float:
        return LABEL_W + (v - low) / span * bar_w

    title = f"{c.a_label} → {c.b_label}: effect of each choice ({c.unit})"
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart waterfall" role="img" '
        f'viewBox="0 0 {WIDTH} {height}" width="{WIDTH}" height="{height}" '
        f'aria-label="{escape(title)}">',
        f"<title>{escape(title)}</title>",
        f'<line x1="{x(0.0):.1f}" y1="{TOP}" x2="{x(0.0):.1f}" y2="{height - TOP}" '
        f'stroke="{AXIS}" stroke-width="1"/>',
    ]
    for i, (label, start, end, kind) in enumerate(bars):
        y = TOP + i * ROW
        left, right = sorted((x(start), x(end)))
        width = max(right - left, 0.5)
        if kind == "total":
            colour, text = POSITIVE, number_text(end)
        else:
            colour = INCREASE if end > start else NEGATIVE
            text = _signed(end - start)
        parts.append(
            f'<text x="{LABEL_W - 6}" y="{y + 15}" text-anchor="end" font-size="12">'
            f"{escape(_short(label))}</text>"
            f'<rect x="{left:.1f}" y="{y + 3}" width="{width:.1f}" height="{ROW - 6}" '
            f'fill="{colour}"><title>{escape(label)}: {escape(text)}</title></rect>'
            f'<text x="{left + width + 6:.1f}" y="{y + 15}" font-size="12">{escape(text)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def standalone_svg(c: Comparison) -> str:
    """The waterfall as an SVG file."""
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + waterfall_svg(c) + "\n"


def html_page(c: Comparison, *, model: str = "") -> str:
    """The comparison as one self-contained HTML page: both methodologies, the table, the
    check line and the waterfall."""
    rows = [
        f"<tr><td>{escape(e.dimension)}</td><td>{escape(e.a_value)}</td>"
        f"<td>{escape(e.b_value)}</td><td class=n>{escape(_signed(e.effect))}</td>"
        f"<td class=n>{escape(_pct(e.share))}</td></tr>"
        for e in c.effects
    ]
    rows.append(
        f"<tr><td>interaction</td><td></td><td></td>"
        f"<td class=n>{escape(_signed(c.interaction))}</td>"
        f"<td class=n>{escape(_pct(c.interaction_share))}</td></tr>"
    )
    sides = "".join(
        f"<h2>{escape(label)}: {escape(number_text(total))} {escape(c.unit)}</h2>"
        f"<ul>{''.join(f'<li>{escape(line)}</li>' for line in lines)}</ul>"
        for label, total, lines in (
            (c.a_label, c.a_total, c.a_description),
            (c.b_label, c.b_total, c.b_description),
        )
    )
    heading = f"Methodology comparison{': ' + model if model else ''}"
    order = ", ".join(c.order)
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{escape(heading)}</title>
<style>
body {{ font-family: sans-serif; max-width: 60rem; margin: 2rem auto; color: #222; }}
table {{ border-collapse: collapse; margin: 1rem 0; }}
th, td {{ border-bottom: 1px solid #ccc; padding: .3rem .6rem; text-align: left; }}
td.n, th.n {{ text-align: right; font-variant-numeric: tabular-nums; }}
tfoot td {{ font-weight: bold; }}
</style>
</head>
<body>
<h1>{escape(heading)}</h1>
{sides}
<h2>Difference {escape(c.b_label)} − {escape(c.a_label)}: {escape(_signed(c.difference))} \
{escape(c.unit)}</h2>
<table>
<thead><tr><th>dimension</th><th>{escape(c.a_label)}</th><th>{escape(c.b_label)}</th>\
<th class=n>effect ({escape(c.unit)})</th><th class=n>share of difference</th></tr></thead>
<tbody>
{chr(10).join(rows)}
</tbody>
<tfoot><tr><td colspan=3>sum of effects and interaction = difference</td>\
<td class=n>{escape(_signed(c.explained))}</td>\
<td class=n>{escape(_pct(1.0 if c.difference else None))}</td></tr></tfoot>
</table>
<p>Each effect switches one dimension from {escape(c.a_label)}'s choice to \
{escape(c.b_label)}'s, all others kept at {escape(c.a_label)}'s; dimensions in the fixed order \
{escape(order)}. The interaction is what switching them together adds beyond the sum of the \
one-at-a-time effects.</p>
{waterfall_svg(c)}
</body>
</html>
"""


def _signed(v: float) -> str:
    text = number_text(v)
    return text if text.startswith(("-", "−")) or v == 0 else f"+{text}"


def _pct(share: float | None) -> str:
    return "–" if share is None else f"{share * 100:.1f} %"
