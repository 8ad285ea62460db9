"""The ISO 14067 CFP study report: result → typed report data → HTML or PDF.

>>> from openpcf.services.calculate import calculate
>>> from openpcf.reports import build_report_data, render_html, render_pdf
>>> data = build_report_data(calculate("examples/lfp_battery_pack.yaml"), lang="zh")
>>> html = render_html(data)        # str, one self-contained page
>>> pdf = render_pdf(data)          # bytes, CJK font subset embedded

:func:`write_report` writes either to a file atomically (temporary file, then rename).
"""

from __future__ import annotations

from openpcf.reports.build import build_report_data
from openpcf.reports.data import ReportData, to_dict
from openpcf.reports.errors import (
    ReportError,
    ReportOutputError,
    UnknownLanguageError,
    UnknownReportFormatError,
)
from openpcf.reports.html import render_html
from openpcf.reports.i18n import LANGUAGES
from openpcf.reports.output import FORMATS, check_format, render, write_report
from openpcf.reports.pdf import render_pdf

__all__ = [
    "FORMATS",
    "LANGUAGES",
    "ReportData",
    "ReportError",
    "ReportOutputError",
    "UnknownLanguageError",
    "UnknownReportFormatError",
    "build_report_data",
    "check_format",
    "render",
    "render_html",
    "render_pdf",
    "to_dict",
    "write_report",
]
