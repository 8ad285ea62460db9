"""Render report data as one self-contained HTML page (step 3 of 3, HTML).

One Jinja2 template (``templates/report.html.j2``) with no logic beyond loops and ifs; its
words come from the message catalogue, its numbers from :class:`ReportData`, its charts from
:mod:`openpcf.reports.charts` as inline SVG. The page needs no file, script or font beside it.
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING

from openpcf.reports import charts, i18n
from openpcf.reports.data import ReportData

if TYPE_CHECKING:
    import jinja2


@cache
def _environment() -> jinja2.Environment:
    import jinja2

    return jinja2.Environment(
        loader=jinja2.PackageLoader("openpcf.reports", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,  # a missing message key is an error, not a blank
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def render_html(data: ReportData) -> str:
    """The report as an HTML document (UTF-8 text)."""
    from markupsafe import Markup

    template = _environment().get_template("report.html.j2")
    # charts.svg() escapes every label itself, so its output is safe markup
    shown = [*data.charts, *([data.uncertainty_chart] if data.uncertainty_chart else [])]
    shown += [data.sobol.chart] if data.sobol else []
    svgs = {c.id: Markup(charts.svg(c)) for c in shown}
    return template.render(d=data, t=i18n.messages(data.lang), svg=svgs)
