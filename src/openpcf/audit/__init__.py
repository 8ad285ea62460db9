"""Audit trail: every calculation recorded append-only in a hash chain.

Public API: :func:`record_calculation`, :func:`verify_trail`, :func:`repair_trail`,
:func:`list_records`, :class:`AuditTrail`, :class:`AuditRecord`, :class:`CrashArtefact`, and the
errors :class:`AuditError` and :class:`TrailTamperedError`. See ``docs/audit.md``.
"""

from __future__ import annotations

from openpcf.audit.errors import AuditError, TrailTamperedError
from openpcf.audit.record import (
    calculation_record,
    list_records,
    record_calculation,
    repair_trail,
    verify_trail,
)
from openpcf.audit.trail import AuditRecord, AuditTrail, CrashArtefact, TrailReport, record_hash

__all__ = [
    "AuditError",
    "AuditRecord",
    "AuditTrail",
    "CrashArtefact",
    "TrailReport",
    "TrailTamperedError",
    "calculation_record",
    "list_records",
    "record_calculation",
    "record_hash",
    "repair_trail",
    "verify_trail",
]
