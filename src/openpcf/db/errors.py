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


class WriteConflictError(StorageError):
    """A write collides with a row another transaction stored meanwhile (or had stored).

    Examples: a second Active footprint of the same product and reference period (the partial
    unique index ``uq_footprint_one_active``), a predecessor that another publisher superseded
    while this one was working. Raised so that the whole transaction can be rolled back and run
    again on fresh data (:func:`openpcf.db.concurrency.write_transaction` does that); its
    message says which rows collided.
    """


class ReplayedEventError(DuplicateError):
    """An inbound event with the same ``(source, id)`` was received before."""


class ImmutableFootprintError(StorageError):
    """A stored footprint would change other than by deprecation (PACT v3 ADR-41)."""


class SchemaOutdatedError(StorageError):
    """The database schema is not at the revision this version of OpenPCF needs."""
