"""The one error tree of OpenPCF.

Every error a user can cause derives from :class:`OpenPCFError` and from the builtin that
matches its condition, so callers may catch either. Messages say what is wrong, where
(file, line, process, exchange) and what to do next. The edges (CLI, API) translate these
errors once; everything below raises them.
"""

from __future__ import annotations


class OpenPCFError(Exception):
    """Root of every error OpenPCF raises on purpose."""

    exit_code = 1


class InputError(OpenPCFError, ValueError):
    """Something in the user's input is wrong; the message says where."""

    exit_code = 2


class ModelFileError(InputError):
    """A product model file cannot be read or does not follow the schema."""


class ParameterError(InputError):
    """A parameter expression has a syntax error, an unknown name or a bad value."""


class UnitError(InputError):
    """A unit is unknown or cannot be converted into the unit required."""


class UnknownFactorError(InputError, LookupError):
    """A background factor id is not in any loaded factor set."""


class UnknownProcessError(InputError, LookupError):
    """An exchange refers to a process the model does not define."""


class FactorSetError(InputError):
    """A factor set file is malformed or lacks provenance."""


class AllocationError(InputError):
    """A multi-output process cannot be allocated as specified."""


class SolveError(OpenPCFError, ArithmeticError):
    """A compiled system cannot be solved."""


class SingularSystemError(SolveError):
    """The technosphere matrix cannot be solved: some processes have no independent production."""

    exit_code = 3


class NonSquareSystemError(SolveError):
    """The technosphere matrix has more products than activities, or the reverse."""

    exit_code = 3
