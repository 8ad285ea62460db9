"""Errors a report request can cause; the CLI translates them like every other input error."""

from __future__ import annotations

from openpcf.errors import InputError


class ReportError(InputError):
    """A report cannot be made as asked; the message says why and what to do."""


class UnknownLanguageError(ReportError, LookupError):
    """``--lang`` names a language the message catalogue does not have."""


class UnknownReportFormatError(ReportError, LookupError):
    """``--format`` names a format no renderer writes."""


class ReportOutputError(ReportError, OSError):
    """The report file cannot be written where asked."""
