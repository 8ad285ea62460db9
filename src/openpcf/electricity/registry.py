"""A persistent registry of claimed certificates and contracts, so none is claimed twice.

The registry is one JSON file, by default ``$OPENPCF_HOME/registry/electricity_certificates.json``::

    {"version": 1,
     "certificates": {"GEC-2024-000123": {"type": "GEC", "mwh": 300,
        "certificate_period": "2024-01-01/2024-06-30", "claim": "suzhou-2024",
        "site": "Suzhou plant", "period": "2024-01-01/2024-12-31",
        "file": "/data/claims/suzhou_2024.yaml", "claimed_at": "2026-11-02T10:00:00+00:00"}}}

Re-running the *same* claim (same claim id, site and period) is allowed and changes nothing but
the file and time; any other claim on a recorded id is a :class:`DoubleClaimError`. Writes go
through :func:`openpcf.files.durable.atomic_write` (mode 0600), so a crash leaves either the old
or the new registry, never half of one. Concurrent writers are not locked against.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

from openpcf.electricity.errors import ClaimError, DoubleClaimError, RegistryError
from openpcf.electricity.schema import Claims
from openpcf.files.durable import atomic_write


class CertificateRegistry:
    """Claimed instrument ids, read from and written to one JSON file."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def records(self) -> dict[str, dict[str, Any]]:
        """Instrument id → claim record (empty if the file does not exist yet)."""
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return {}
        except OSError as e:
            raise RegistryError(f"{self.path}: cannot read the certificate registry: {e}") from None
        try:
            data = json.loads(text)
            certificates = data["certificates"]
            if not isinstance(certificates, dict):
                raise TypeError
        except (ValueError, KeyError, TypeError):
            raise RegistryError(
                f"{self.path}: the certificate registry is not valid JSON of the form "
                '{"version": 1, "certificates": {...}}; restore it from a backup'
            ) from None
        return certificates

    def register(self, claims: Claims, *, file: str = "") -> None:
        """Record every instrument of ``claims``; all or none (checked before writing).

        Raises
        ------
        DoubleClaimError
            An id already recorded for another claim, site or period.
        """
        records = self.records()
        for inst in claims.instruments:
            earlier = records.get(inst.id)
            if earlier is not None and not _same_claim(earlier, claims):
                raise DoubleClaimError(
                    f"{inst.type} {inst.id!r} is already claimed by claim {earlier.get('claim')!r} "
                    f"(site {earlier.get('site')!r}, period {earlier.get('period')}, file "
                    f"{earlier.get('file') or '-'}), recorded in {self.path}. A certificate can be "
                    f"claimed once; if that claim is void, run 'openpcf electricity release "
                    f"{inst.id}'"
                )
        now = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        for inst in claims.instruments:
            records[inst.id] = {
                "type": inst.type,
                "mwh": inst.mwh,
                "certificate_period": str(inst.period),
                "claim": claims.claim,
                "site": claims.site,
                "period": str(claims.period),
                "file": file,
                "claimed_at": now,
            }
        self._write(records)

    def release(self, certificate_id: str) -> dict[str, Any]:
        """Remove ``certificate_id`` from the registry and return its record."""
        records = self.records()
        record = records.pop(certificate_id, None)
        if record is None:
            raise ClaimError(
                f"{certificate_id!r} is not claimed in {self.path}; nothing to release"
            )
        self._write(records)
        return record

    def _write(self, records: dict[str, dict[str, Any]]) -> None:
        text = json.dumps(
            {"version": 1, "certificates": dict(sorted(records.items()))},
            ensure_ascii=False,
            indent=2,
        )
        atomic_write(self.path, text.encode("utf-8"), mode=0o600)


def _same_claim(record: dict[str, Any], claims: Claims) -> bool:
    return (
        record.get("claim") == claims.claim
        and record.get("site") == claims.site
        and record.get("period") == str(claims.period)
    )
