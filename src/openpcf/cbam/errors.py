"""CBAM errors: bad CN codes, goods outside CBAM, wrong precursors, periods, mass balances.

All derive from :class:`openpcf.errors.InputError` (exit code 2 at the CLI); messages name the
file and line where known, the field, and what to do.
"""

from __future__ import annotations

from openpcf.errors import InputError


class CbamError(InputError):
    """Root of the CBAM input errors."""


class UnknownCnCodeError(CbamError, LookupError):
    """A string is not a CN code (not 4-10 digits, or a chapter the CN does not use)."""


class NotCbamGoodError(CbamError, LookupError):
    """A well-formed CN code that is not in the CBAM goods list (Annex I of Reg. 2023/956)."""


class AmbiguousCnCodeError(CbamError, LookupError):
    """A CN code too short to choose one CBAM line or one default-value row."""


class NoDefaultValueError(CbamError, LookupError):
    """Neither the country row nor the fallback row of Annex I gives a value."""


class PrecursorNotRelevantError(CbamError):
    """A process consumes a precursor that is not relevant to its good or route."""


class RouteError(CbamError):
    """A production route that the aggregated good does not have."""


class ReportingPeriodError(CbamError):
    """A reporting period that is reversed, too short or longer than allowed."""


class MassBalanceError(CbamError, ArithmeticError):
    """A mass-balance source stream whose carbon does not close."""


class CbamModelError(CbamError):
    """An installation file that is inconsistent (unknown ids, shares not summing to 1, ...)."""


class UnknownYearError(CbamError, LookupError):
    """A year for which CBAM certificates, their adjustment or a factor is not defined."""


class MissingBenchmarkError(CbamError):
    """An import line without the CBAM benchmark (or its source) the net view needs."""


class TemplateError(CbamError):
    """A workbook that is not the Commission's communication template OpenPCF fills."""
