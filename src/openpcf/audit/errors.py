"""Errors of the audit trail, part of the one error tree rooted at :class:`OpenPCFError`."""

from __future__ import annotations

from openpcf.errors import OpenPCFError


class AuditError(OpenPCFError):
    """The audit trail cannot be read or written."""

    exit_code = 20


class TrailTamperedError(AuditError):
    """A stored record was edited, deleted, reordered or inserted.

    Attributes
    ----------
    record : int or None
        1-based number of the first bad record (its line in the trail file), or None when the
        problem is the trail as a whole (e.g. its head anchor is missing).
    reason : str
        What is wrong with it, e.g. "content does not match its stored hash (edited)".
    """

    exit_code = 21

    def __init__(self, message: str, *, record: int | None, reason: str) -> None:
        super().__init__(message)
        self.record = record
        self.reason = reason
