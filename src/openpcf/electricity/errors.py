"""Errors of the electricity package (all are :class:`~openpcf.errors.InputError`)."""

from __future__ import annotations

from openpcf.errors import InputError, ModelFileError


class ClaimError(InputError):
    """An electricity claim or contractual instrument is wrong; the message says where."""


class ClaimFileError(ClaimError, ModelFileError):
    """A claims YAML file cannot be read or does not follow the schema."""


class DoubleClaimError(ClaimError):
    """A certificate or contract id is claimed a second time."""


class ResidualMixError(ClaimError, LookupError):
    """No sourced residual-mix factor exists for the request; the user must give one."""


class RegistryError(ClaimError):
    """The certificate registry file is unreadable or corrupt."""
