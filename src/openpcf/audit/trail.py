"""An append-only, hash-chained audit trail in a JSON Lines file that survives crashes.

Each line is one record (see :mod:`openpcf.audit.chain` for the hash and the checks)::

    {"seq": 3, "time": "2026-01-02T03:04:05Z", "kind": "calculation",
     "prev": "<hash of record 2>", "data": {...}, "hash": "<hash of this record>"}

Beside ``trail.jsonl``:

- ``trail.jsonl.head``, the head anchor ``{"seq", "hash", "start", "end"}``: the last record's
  number and hash and the byte range of its line. It exists from the first append on (a new
  trail is anchored at record 0 before its first record is written), so a missing anchor on a
  non-empty trail is always tampering.
- ``trail.jsonl.lock``, the writers' exclusive lock.
- ``trail.jsonl.repair-<offset>-<sha256[:16]>``, the bytes of a torn last line that a recovery
  moved aside (``<offset>``: where they were).

An append, under the lock: reads the anchor, checks that the bytes at ``start..end`` are the
record it names, and reads only what follows ``end``; recovers an interrupted append found
there; writes its record at the end and fsyncs it; then replaces the anchor atomically.

Design note (crash safety): a process killed, a full disk or a power cut between writing a
record and replacing the anchor leaves one of three things after the anchored record: a
complete record the anchor does not name yet, a last line without its newline (a torn write),
or a repair file that no record names yet (a recovery whose own write failed). None of them is
tampering, and none is hidden either: the next append (or ``openpcf audit repair``) adopts the
unanchored record, moves torn bytes aside into a repair file and appends a ``repair`` record
naming each (hash and byte range), so the history shows what happened. Everything else that
differs from what the anchor and the chain promise (an edited, deleted, reordered or inserted
record, an anchor that names no prefix of the trail, ordinary records piling up behind the
anchor) is still refused as tampering, by the rules in :class:`~openpcf.audit.chain.ChainWalk`.
The repair record is written *over* the torn bytes (:func:`~openpcf.files.durable.write_line_at`)
after they were saved, so a kill at any point leaves a state the next append recovers from.

Design note (cost): appending used to re-read and re-parse the whole trail to find its end
(+3.9 s and about 1 GB per calculation at 100,000 records). Now an append reads the anchor,
one record and the tail after it: constant in the trail's length (``bench/audit.py``: the same
time per append at 1,000 and 50,000 records). It checks only the end; ``openpcf audit verify``
checks every record, streaming the file in constant memory.

Design note (storage): a JSON Lines file rather than a table, because the storage models may
not change in this release. The mapping to a future ``audit_record`` table is one row per line;
the head becomes a one-row ``audit_head`` table updated in the same transaction, which has no
crash artefact to recover (:func:`~openpcf.audit.chain.verify_records` stays strict).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import getpass
import hashlib
import json
import os
import socket
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import rfc8785

from openpcf.audit.chain import (
    FIELDS,
    GENESIS,
    REPAIR,
    ChainWalk,
    Span,
    check_head,
    check_row,
    check_rows,
    missing_head,
    record_hash,
    verify_records,
)
from openpcf.audit.errors import AuditError, TrailTamperedError
from openpcf.files.durable import atomic_write, exclusive_lock, truncate_file, write_line_at

__all__ = [
    "FIELDS",
    "GENESIS",
    "AuditRecord",
    "AuditTrail",
    "CrashArtefact",
    "TrailReport",
    "actor",
    "check_head",
    "check_rows",
    "record_hash",
    "verify_records",
]

#: What an append reads after the anchored record before it hands over to the full check.
_MAX_TAIL = 4 * 1024 * 1024


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
class CrashArtefact:
    """What interrupted appends left after the anchored record: to recover, not tampering.

    ``anchored`` is the record the head anchor names (0: none yet); ``unanchored`` the complete
    records after it; ``torn`` the byte range of a last line without its newline; ``orphans``
    the repair files holding moved-aside bytes that no record names yet.
    """

    anchored: int
    unanchored: tuple[Span, ...] = ()
    torn: tuple[int, int] | None = None
    orphans: tuple[str, ...] = ()

    def __str__(self) -> str:
        parts = []
        if self.unanchored:
            first, last = self.unanchored[0].seq, self.unanchored[-1].seq
            which = f"record {first}" if first == last else f"records {first}..{last}"
            parts.append(f"{which} written but not anchored")
        if self.torn:
            parts.append(f"a torn last line (bytes {self.torn[0]}..{self.torn[1]})")
        if self.orphans:
            parts.append(f"moved-aside bytes no record names yet ({', '.join(self.orphans)})")
        return "; ".join(parts)


@dataclass(frozen=True, slots=True, kw_only=True)
class TrailReport:
    """What :meth:`AuditTrail.verify` found on a trail without tampering.

    ``artefact`` is what an interrupted append left at the end, if anything: the next append
    or ``openpcf audit repair`` records its recovery.
    """

    path: str
    records: int
    head: str  # hash of the last complete record (GENESIS when empty)
    artefact: CrashArtefact | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class _End:
    """Where the trail ends: complete records, the last one's hash, the byte after it."""

    records: int
    last: str
    end: int
    artefact: CrashArtefact | None = None


def _now() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def actor() -> str:
    """``user@host`` of this process, kept with each record."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # no login name (containers without a passwd entry)
        user = "unknown"
    return f"{user}@{socket.gethostname()}"


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

        An interrupted earlier append found at the end is recovered first, with a ``repair``
        record (see the module's design note). Reads a constant amount whatever the length.

        Raises
        ------
        TrailTamperedError
            If the end of the trail or its anchor was changed (refusing to extend a damaged
            chain keeps the damage visible).
        AuditError
            If ``data`` is not canonical JSON (NaN, huge integers) or the disk is full.
        """
        payload = _payload(kind, data)
        with self._locked():
            end = self._end()
            if end.artefact is not None:
                end = self._recover(end, end.artefact, by="append")[1]
            return self._write(end, kind, payload, time)[0]

    def repair(self) -> AuditRecord | None:
        """Recover what an interrupted append left, recording a ``repair`` record.

        The whole chain is checked first: a tampered trail is never touched. Returns the
        repair record, or None when there was nothing to recover.

        Raises
        ------
        TrailTamperedError
            Naming the first bad record, as :meth:`verify` does.
        """
        with self._locked():
            end = self._scan()
            if end.artefact is None:
                return None
            return self._recover(end, end.artefact, by="openpcf audit repair")[0]

    def records(self) -> list[AuditRecord]:
        """Every complete record, in file order (no integrity check: use :meth:`verify`).

        A torn last line (an interrupted append) is not a record and is left out.
        """
        out = []
        for n, (row, _, _, complete) in enumerate(self._lines(), start=1):
            if not complete:
                break
            if not isinstance(row, dict):
                raise TrailTamperedError(
                    f"{self.path}: record {n} (line {n}) is not valid JSON: the line was "
                    "edited or cut; run `openpcf audit verify`",
                    record=n,
                    reason="not valid JSON",
                )
            out.append(_record(row))
        return out

    def verify(self) -> TrailReport:
        """Check every record and the head anchor, streaming the file.

        Raises
        ------
        TrailTamperedError
            For the first bad record or a bad anchor (see :class:`~openpcf.audit.chain.ChainWalk`).
        """
        end = self._scan()
        return TrailReport(
            path=str(self.path), records=end.records, head=end.last, artefact=end.artefact
        )

    # -- reading ---------------------------------------------------------------------------
    def _lines(self) -> Iterator[tuple[Any, int, int, bool]]:
        """(parsed record, start, end, complete) per line; a raw string for a non-JSON line."""
        try:
            handle = open(self.path, "rb")  # noqa: SIM115 - closed by the with below
        except FileNotFoundError:
            return
        except OSError as e:
            raise AuditError(f"{self.path}: cannot read the audit trail: {e}") from None
        with handle:
            pos = 0
            for line in handle:
                start, pos = pos, pos + len(line)
                complete = line.endswith(b"\n")
                yield (_parse(line) if complete else None), start, pos, complete

    def _head(self) -> tuple[int, str, tuple[int, int] | None] | None:
        """The anchor's (seq, hash, byte range), the range None in an older OpenPCF's anchor."""
        try:
            data = json.loads(self.head_path.read_bytes())
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as e:
            raise TrailTamperedError(
                f"{self.head_path}: the head anchor cannot be read ({e}); the end of the trail "
                "cannot be checked",
                record=None,
                reason="head anchor unreadable",
            ) from None
        ok = isinstance(data, dict) and _count(data.get("seq"))
        if not ok or not isinstance(data.get("hash"), str):
            raise TrailTamperedError(
                f"{self.head_path}: the head anchor is not {{seq, hash}} ({data!r:.80}): the "
                "anchor was changed",
                record=None,
                reason="head mismatch",
            )
        start, end = data.get("start"), data.get("end")
        span = (start, end) if _count(start) and _count(end) else None
        return data["seq"], data["hash"], span

    def _scan(self) -> _End:
        """The whole trail checked against the chain and the anchor: the one authority."""
        head = self._head()  # before the trail: a concurrent append only adds after it
        where = str(self.path)
        seq, digest, span = head if head is not None else (0, GENESIS, None)
        walk = ChainWalk(head_seq=seq, head_hash=digest, where=where)
        torn, end = None, 0
        for row, start, stop, complete in self._lines():
            if not complete:
                torn = (start, stop)
                break
            walk.add(row, start=start, end=stop)
            end = stop
        if head is None and walk.records:
            raise missing_head(walk.records, where)
        unanchored = walk.finish()
        if span is not None and walk.anchor is not None:
            found = (walk.anchor.start, walk.anchor.end)
            if found != span:
                raise TrailTamperedError(
                    f"{where}: the head anchor places record {seq} at bytes {span[0]}..{span[1]} "
                    f"but it is at {found[0]}..{found[1]}: the anchor or an earlier record was "
                    "changed",
                    record=seq,
                    reason="head mismatch",
                )
        return _End(
            records=walk.records,
            last=walk.last,
            end=end,
            artefact=self._artefact(seq, unanchored, torn, end),
        )

    def _end(self) -> _End:
        """Where the trail ends, reading only the anchored record and what follows it.

        Falls back to :meth:`_scan` (which names the first bad record, or finds the state of an
        older trail whose anchor has no byte range) whenever the end is not as expected.
        """
        head = self._head()
        if head is None:
            if _size(self.path) == 0:  # a new trail: anchor record 0 before record 1
                self._write_head(0, GENESIS, 0, 0)
                return _End(records=0, last=GENESIS, end=0, artefact=self._artefact(0, (), None, 0))
            return self._scan()
        seq, digest, span = head
        if span is None:
            return self._scan()
        try:
            fast = self._tail(seq, digest, span)
        except TrailTamperedError:
            fast = None
        return fast if fast is not None else self._scan()

    def _tail(self, seq: int, digest: str, span: tuple[int, int]) -> _End | None:
        """The end as the anchor and the bytes after it show it; None when undecided."""
        start, end = span
        try:
            with open(self.path, "rb") as handle:
                size = os.fstat(handle.fileno()).st_size
                if size < end or size - end > _MAX_TAIL:
                    return None
                if seq:
                    handle.seek(start)
                    line = handle.read(end - start)
                    row = _parse(line) if line.endswith(b"\n") else None
                    check_row(seq, row, None, str(self.path))
                    if not isinstance(row, dict) or row["hash"] != digest:
                        return None
                handle.seek(end)
                tail = handle.read(size - end)
        except FileNotFoundError:
            if seq or end:
                return None
            tail = b""
        walk = ChainWalk(
            head_seq=seq, head_hash=digest, where=str(self.path), start=seq + 1, prev=digest
        )
        *lines, rest = tail.split(b"\n")
        pos = end
        for line in lines:
            walk.add(_parse(line + b"\n"), start=pos, end=pos + len(line) + 1)
            pos += len(line) + 1
        torn = (pos, pos + len(rest)) if rest else None
        return _End(
            records=walk.records,
            last=walk.last,
            end=pos,
            artefact=self._artefact(seq, walk.finish(), torn, pos),
        )

    def _artefact(
        self, anchored: int, unanchored: tuple[Span, ...], torn: tuple[int, int] | None, end: int
    ) -> CrashArtefact | None:
        orphans = self._orphans(end)
        if not (unanchored or torn or orphans):
            return None
        return CrashArtefact(anchored=anchored, unanchored=unanchored, torn=torn, orphans=orphans)

    def _orphans(self, end: int) -> tuple[str, ...]:
        """Repair files of bytes that stood at ``end``: saved, but the record naming them was
        not written (a recorded one stands before its repair record, so never at the end)."""
        prefix = f"{self.path.name}.repair-{end}-"
        try:
            return tuple(
                sorted(p.name for p in self.path.parent.iterdir() if p.name.startswith(prefix))
            )
        except FileNotFoundError:
            return ()

    # -- writing (under the lock) -------------------------------------------------------
    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        """The writers' lock; a file system error (no space, no permission) is an AuditError."""
        try:
            with exclusive_lock(self.path):
                yield
        except OSError as e:
            raise AuditError(
                f"{self.path}: the audit trail cannot be written ({e}); nothing was recorded"
            ) from None

    def _recover(self, end: _End, art: CrashArtefact, *, by: str) -> tuple[AuditRecord, _End]:
        """Save torn bytes aside, then append the ``repair`` record naming what was recovered."""
        moved: list[str] = []
        if art.torn is not None:
            a, b = art.torn
            with open(self.path, "rb") as handle:
                handle.seek(a)
                torn = handle.read(b - a)
            name = f"{self.path.name}.repair-{a}-{hashlib.sha256(torn).hexdigest()[:16]}"
            atomic_write(self.path.with_name(name), torn, mode=0o600)
            moved.append(name)
        moved += [n for n in art.orphans if n not in moved]
        adopted = art.unanchored[-1] if art.unanchored else None
        data = {
            "recovered": "an append was interrupted (process killed, disk full or power cut)",
            "anchored": art.anchored,
            "adopted": adopted.to_dict() if adopted else None,
            "moved_aside": [self._moved(name) for name in moved],
            "by": by,
            "actor": actor(),
        }
        for temp in self.path.parent.glob(f".{self.path.name}.*.tmp"):
            with contextlib.suppress(OSError):  # an anchor or repair file killed half-written
                temp.unlink()
        return self._write(end, REPAIR, data, None)

    def _moved(self, name: str) -> dict[str, Any]:
        data = self.path.with_name(name).read_bytes()
        start = int(name.removeprefix(f"{self.path.name}.repair-").split("-")[0])
        return {
            "file": name,
            "bytes": [start, start + len(data)],
            "length": len(data),
            "sha256": hashlib.sha256(data).hexdigest(),
        }

    def _write(
        self, end: _End, kind: str, payload: Mapping[str, Any], time: str | None
    ) -> tuple[AuditRecord, _End]:
        """Write the record at ``end.end`` (over any torn bytes), then anchor it."""
        body: dict[str, Any] = {
            "seq": end.records + 1,
            "time": time or _now(),
            "kind": kind,
            "prev": end.last,
            "data": dict(payload),
        }
        body["hash"] = record_hash(body)
        line = json.dumps(body, ensure_ascii=False, sort_keys=True)
        try:
            stop = write_line_at(self.path, end.end, line)
            try:
                self._write_head(body["seq"], body["hash"], end.end, stop)
            except OSError:
                with contextlib.suppress(OSError):  # the caller is told nothing was recorded
                    truncate_file(self.path, end.end)
                raise
        except OSError as e:
            raise AuditError(
                f"{self.path}: the {kind} record could not be written ({e}); nothing was "
                "recorded: free disk space and run the command again"
            ) from None
        return _record(body), _End(records=body["seq"], last=body["hash"], end=stop)

    def _write_head(self, seq: int, digest: str, start: int, end: int) -> None:
        head = {"seq": seq, "hash": digest, "start": start, "end": end}
        atomic_write(self.head_path, json.dumps(head).encode(), mode=0o600)


def _payload(kind: str, data: Mapping[str, Any]) -> dict[str, Any]:
    """``data`` as plain JSON, checked to be canonical before anything is written."""
    payload: dict[str, Any] = json.loads(json.dumps(dict(data)))
    try:
        rfc8785.dumps(payload)
    except rfc8785.CanonicalizationError as e:
        raise AuditError(f"audit record for {kind!r} is not canonical JSON: {e}") from None
    return payload


def _parse(line: bytes) -> Any:
    try:
        return json.loads(line)
    except ValueError:
        return line.decode("utf-8", "replace")  # not a record: ChainWalk names it


def _count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return 0


def _record(row: Mapping[str, Any]) -> AuditRecord:
    return AuditRecord(**{k: row[k] for k in FIELDS})
