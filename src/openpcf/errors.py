"""The one error tree of OpenPCF.

Every error a user can cause derives from :class:`OpenPCFError` and from the builtin that
matches its condition, so callers may catch either. Messages say what is wrong, where
(file, line, process, exchange) and what to do next. The edges (CLI, API) translate these
errors once; everything below raises them.

An error raised deep down often learns *where* it happened only on its way up (the file and
line of the row, the process, the order). :func:`located` adds that place in front of the
message while keeping the error's class and attributes (``exit_code``, ``check``, ...)::

    except OpenPCFError as e:
        raise located(e, f"{path}:{line}") from None
"""

from __future__ import annotations

from typing import TypeVar

_E = TypeVar("_E", bound="OpenPCFError")


class OpenPCFError(Exception):
    """Root of every error OpenPCF raises on purpose."""

    exit_code = 1


def located(error: _E, where: str) -> _E:
    """A new ``error`` of the same class and attributes, its message prefixed with ``where: ``.

    The copy is made without calling the class's ``__init__``, so subclasses with their own
    constructor arguments (``record``, ``status``, ...) keep them as attributes unchanged.
    The original traceback and cause are not carried over: raise the result ``from None``.
    """
    cls = type(error)
    new = cls.__new__(cls)
    new.__dict__.update(error.__dict__)
    new.args = (f"{where}: {error}",)
    return new


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


class UnproductiveSystemError(SolveError):
    """Processes in a loop consume more of each other's products than the loop produces.

    Such a technosphere matrix can be solved, but its solution has negative amounts of the
    looping processes and so a negative (impossible) footprint. The message names the loop.
    """

    exit_code = 3


class QuotaExceededError(OpenPCFError):
    """A rate limit or a storage quota is used up; ``retry_after`` says when to try again.

    The API answers it with 429 and a ``Retry-After`` header (seconds, rounded up); ``None``
    means the quota does not free up by waiting a known time.
    """

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class RuleSetError(InputError):
    """A rule-set file breaks the format, or a rule set asked for is unknown."""
