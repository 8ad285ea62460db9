"""An append-only, hash-chained audit trail in a JSON Lines file.

Each line is one record::

    {"seq": 3, "time": "2026-01-02T03:04:05Z", "kind": "calculation",
     "prev": "<hash of record 2>", "data": {...}, "hash": "<hash of this record>"}

``hash = SHA-256(RFC 8785 canonical JSON of the record without "hash")``, so it covers the
previous record's hash: changing, removing, reordering or inserting any record breaks the chain
at that point. The first record's ``prev`` is 64 zeros. A second file, ``<trail>.head``, keeps
the sequence number and hash of the last record, so that cutting records off the end (which the
chain alone cannot reveal) is detected too.

Writes take an exclusive lock, append one line and fsync it, then replace the head atomically.

Design note: a JSON Lines file rather than a table, because the storage models may not change
in this release. The mapping to a future ``audit_record`` table is one row per line: ``seq``
(primary key), ``time`` (UTC timestamp), ``kind``, ``prev_hash`` and ``record_hash`` (CHAR(64),
unique), ``data`` (JSON); the head becomes a one-row ``audit_head`` table updated in the same
transaction (``SELECT ... FOR UPDATE`` serialises writers). :func:`verify_records` works on any
iterable of record dicts, so the same check runs over rows read from SQL.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import rfc8785

from openpcf.audit.errors import AuditError, TrailTamperedError
from openpcf.files.durable import append_line, atomic_write, exclusive_lock

GENESIS = "0" * 64
FIELDS = ("seq", "time", "kind", "prev", "data", "hash")


@dataclass(frozen=True, slots=True, kw_only=True)
class AuditRecord:
    """One stored record of the trail."""

    seq: int
    time: str
    kind: str
    prev: str
    data: Mapping[str, Any]
    hash: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "time": self.time,
            "kind": self.kind,
            "prev": self.prev,
            "data": dict(self.data),
            "hash": self.hash,
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class TrailReport:
    """What :func:`verify_trail` found on an intact trail."""

    path: str
    records: int
    head: str  # hash of the last record (GENESIS when empty)


def record_hash(record: Mapping[str, Any]) -> str:
    """SHA-256 (hex) of the RFC 8785 canonical JSON of ``record`` without its ``hash``."""
    body = {k: v for k, v in record.items() if k != "hash"}
    return hashlib.sha256(rfc8785.dumps(body)).hexdigest()


def _now() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class AuditTrail:
    """The trail stored at ``path`` (a ``.jsonl`` file) with its head anchor beside it."""

    __slots__ = ("path",)

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)

    def __repr__(self) -> str:
        return f"AuditTrail({str(self.path)!r})"

    @property
    def head_path(self) -> Path:
        return self.path.with_name(self.path.name + ".head")

    def append(self, kind: str, data: Mapping[str, Any], *, time: str | None = None) -> AuditRecord:
        """Append a record chained to the current last one and return it.

        Raises
        ------
        TrailTamperedError
            If the stored trail does not end where its head anchor says (refusing to extend a
            damaged chain keeps the damage visible).
        AuditError
            If ``data`` cannot be written as canonical JSON (NaN, huge integers).
        """
        with exclusive_lock(self.path):
            seq, prev = self._tail()
            body: dict[str, Any] = {
                "seq": seq + 1,
                "time": time or _now(),
                "kind": kind,
                "prev": prev,
                "data": json.loads(json.dumps(dict(data))),
            }
            try:
                body["hash"] = record_hash(body)
            except rfc8785.CanonicalizationError as e:
                raise AuditError(f"audit record for {kind!r} is not canonical JSON: {e}") from None
            append_line(self.path, json.dumps(body, ensure_ascii=False, sort_keys=True))
            head = {"seq": body["seq"], "hash": body["hash"]}
            atomic_write(self.head_path, json.dumps(head).encode())
        return _record(body)

    def records(self) -> list[AuditRecord]:
        """Every record, in file order (no integrity check: use :meth:`verify`)."""
        return [_record(r) for r in self._raw()]

    def verify(self) -> TrailReport:
        """Check the whole chain and the head anchor (see :func:`verify_records`)."""
        rows = self._raw(strict=False)
        head = verify_records(rows, head=self._head(), where=str(self.path))
        return TrailReport(path=str(self.path), records=len(rows), head=head)

    # -- internals ------------------------------------------------------------------------
    def _tail(self) -> tuple[int, str]:
        """Last (seq, hash): the last record checked against itself and the head anchor.

        Only the tail is checked so that appending stays fast on a long trail; ``openpcf
        audit verify`` checks the whole chain.
        """
        rows = self._raw(strict=False)
        n = len(rows)
        last = check_rows(rows[-1:], start=n, prev=None, where=str(self.path)) if n else GENESIS
        check_head(self._head(), records=n, last=last, where=str(self.path))
        return n, last

    def _head(self) -> Mapping[str, Any] | None:
        try:
            data = json.loads(self.head_path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as e:
            raise TrailTamperedError(
                f"{self.head_path}: the head anchor cannot be read ({e}); the end of the trail "
                "cannot be checked",
                record=None,
                reason="head anchor unreadable",
            ) from None
        return data if isinstance(data, dict) else {}

    def _raw(self, *, strict: bool = True) -> list[Any]:
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return []
        except (OSError, UnicodeDecodeError) as e:
            raise AuditError(f"{self.path}: cannot read the audit trail: {e}") from None
        rows: list[Any] = []
        for n, line in enumerate(text.splitlines(), start=1):
            try:
                rows.append(json.loads(line))
            except ValueError:
                if strict:
                    raise TrailTamperedError(
                        f"{self.path}: record {n} (line {n}) is not valid JSON: the line was "
                        "edited or cut; run `openpcf audit verify`",
                        record=n,
                        reason="not valid JSON",
                    ) from None
                rows.append(line)  # verify_records names it
        return rows


def _record(row: Mapping[str, Any]) -> AuditRecord:
    return AuditRecord(**{k: row[k] for k in FIELDS})


def _describe(row: Any) -> str:
    if isinstance(row, dict):
        data = row.get("data") if isinstance(row.get("data"), dict) else {}
        what = data.get("product") if isinstance(data, dict) else None
        return f" ({row.get('kind')}{' of ' + str(what) if what else ''}, {row.get('time')})"
    return ""


def verify_records(
    rows: Sequence[Any], *, head: Mapping[str, Any] | None, where: str = "audit trail"
) -> str:
    """Check a whole trail and its head anchor; return the last hash (GENESIS when empty).

    Raises
    ------
    TrailTamperedError
        For the first bad record, naming it and what is wrong (see :func:`check_rows` and
        :func:`check_head`).
    """
    last = check_rows(rows, start=1, prev=GENESIS, where=where)
    check_head(head, records=len(rows), last=last, where=where)
    return last


def check_rows(rows: Sequence[Any], *, start: int, prev: str | None, where: str) -> str:
    """Check stored records numbered from ``start``; return the last one's hash.

    Record ``n`` must be a JSON object with the six fields, hash to its stored ``hash`` (else
    it was edited), carry ``seq == n`` (else records were deleted, reordered or inserted before
    it) and have ``prev`` equal to the hash of record ``n-1`` (else the record before it was
    rewritten with a recomputed hash). ``prev=None`` skips the link of the first row.
    """
    for n, row in enumerate(rows, start=start):
        _check_row(n, row, prev, where)
        prev = row["hash"]
    return prev or GENESIS


def _check_row(n: int, row: Any, prev: str | None, where: str) -> None:
    def fail(reason: str, detail: str) -> TrailTamperedError:
        return TrailTamperedError(
            f"{where}: record {n}{_describe(row)}: {detail}", record=n, reason=reason
        )

    if not isinstance(row, dict):
        raise fail("not valid JSON", "the line is not a JSON record (edited or truncated)")
    if set(row) != set(FIELDS):
        raise fail("fields changed", f"fields {sorted(row)} are not {list(FIELDS)} (edited)")
    if record_hash(row) != row["hash"]:
        raise fail("edited", "its content does not match its stored hash: the record was edited")
    seq = row["seq"]
    if seq != n:
        if isinstance(seq, int) and seq > n:
            raise fail(
                "deleted or reordered",
                f"holds sequence number {seq} where {n} was expected: record(s) "
                f"{n}..{seq - 1} were deleted, or records were reordered",
            )
        raise fail(
            "inserted or reordered",
            f"holds sequence number {seq} where {n} was expected: a record was inserted "
            "before it, or records were reordered",
        )
    if prev is not None and row["prev"] != prev:
        raise fail(
            "chain broken",
            f"its previous-record hash {str(row['prev'])[:12]}... does not match record "
            f"{n - 1}'s hash {prev[:12]}...: record {n - 1} was rewritten with a recomputed "
            "hash, or a record between them was removed",
        )


def check_head(head: Mapping[str, Any] | None, *, records: int, last: str, where: str) -> None:
    """Check that the head anchor names the last record (else records were cut off the end)."""
    if head is None:
        if records:
            raise TrailTamperedError(
                f"{where}: the head anchor is missing, so records cut off the end cannot be "
                f"ruled out ({records} records found)",
                record=None,
                reason="head anchor missing",
            )
        return
    seq, digest = head.get("seq"), head.get("hash")
    if seq == records and digest == last:
        return
    if isinstance(seq, int) and seq > records:
        raise TrailTamperedError(
            f"{where}: the head anchor names record {seq} but the trail ends at record "
            f"{records}: record(s) {records + 1}..{seq} were deleted from the end",
            record=records + 1,
            reason="deleted from the end",
        )
    raise TrailTamperedError(
        f"{where}: the head anchor (record {seq}, hash {str(digest)[:12]}...) does not match "
        f"the last record ({records}, hash {last[:12]}...): the end of the trail or the "
        "anchor was changed",
        record=records or None,
        reason="head mismatch",
    )
