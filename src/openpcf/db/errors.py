"""Errors of the storage layer, part of the one error tree rooted at :class:`OpenPCFError`."""

from __future__ import annotations

from openpcf.errors import OpenPCFError

# storage refuses such documents; the class belongs to the PACT vocabulary
from openpcf.exchange.errors import FootprintDocumentError as FootprintDocumentError


class StorageError(OpenPCFError):
    """The database refused an operation or is not in the state the operation needs."""


class NotFoundError(StorageError, LookupError):
    """No such record, or none the caller may see (the message never says which)."""


class DuplicateError(StorageError, ValueError):
    """A record with the same unique key exists (an organisation name, a product id, ...)."""


class ReplayedEventError(DuplicateError):
    """An inbound event with the same ``(source, id)`` was received before."""


class ImmutableFootprintError(StorageError):
    """A stored footprint would change other than by deprecation (PACT v3 ADR-41)."""


class SchemaOutdatedError(StorageError):
    """The database schema is not at the revision this version of OpenPCF needs."""
