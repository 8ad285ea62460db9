"""The hash chain of audit records, and the checks that name the first bad record.

A record is ``{"seq", "time", "kind", "prev", "data", "hash"}`` with
``hash = SHA-256(RFC 8785 canonical JSON of the record without "hash")``; ``prev`` is the hash
of the record before it (:data:`GENESIS` for the first). A head anchor ``{"seq", "hash"}`` names
the last record, so that records cut off the end are detected too.

These checks work on record dicts, whatever stored them: :mod:`openpcf.audit.trail` feeds them
the lines of its JSON Lines file, and :func:`verify_records` takes rows read from SQL.

Design note: an append writes its record first and its head anchor second, so a crash between
the two leaves records *after* the one the anchor names. :class:`ChainWalk` accepts that shape
only as a crash leaves it: the first record after the anchor may be anything that chains, and
every later one must be the ``repair`` record that adopted the one before it (a repair that was
itself interrupted before its anchor). Anything else after the anchor (a second ordinary
record, an anchor naming a record whose hash differs) is tampering, so an attacker gains
nothing over what write access to the head file already gives.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import rfc8785

from openpcf.audit.errors import TrailTamperedError

GENESIS = "0" * 64
FIELDS = ("seq", "time", "kind", "prev", "data", "hash")
#: The kind of the record that names what a recovery from an interrupted append did.
REPAIR = "repair"
#: Unanchored records remembered in full; a legitimate crash leaves one or two.
_KEEP_UNANCHORED = 64


def record_hash(record: Mapping[str, Any]) -> str:
    """SHA-256 (hex) of the RFC 8785 canonical JSON of ``record`` without its ``hash``."""
    body = {k: v for k, v in record.items() if k != "hash"}
    return hashlib.sha256(rfc8785.dumps(body)).hexdigest()


@dataclass(frozen=True, slots=True, kw_only=True)
class Span:
    """Where a stored record is: its number, hash and kind, and its bytes in the trail file.

    ``start``/``end`` are byte offsets of its line (``end`` after the newline); 0 and 0 for
    records that do not come from a file.
    """

    seq: int
    hash: str
    kind: str
    start: int = 0
    end: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "hash": self.hash,
            "kind": self.kind,
            "bytes": [self.start, self.end],
        }


def describe(row: Any) -> str:
    """`` (calculation of Widget, 2026-01-05T...)`` for a record, for messages."""
    if isinstance(row, dict):
        data = row.get("data") if isinstance(row.get("data"), dict) else {}
        what = data.get("product") if isinstance(data, dict) else None
        return f" ({row.get('kind')}{' of ' + str(what) if what else ''}, {row.get('time')})"
    return ""


def check_row(n: int, row: Any, prev: str | None, where: str) -> None:
    """Check stored record number ``n`` (1-based) against itself and ``prev``.

    It must be a JSON object with the six fields, hash to its stored ``hash`` (else it was
    edited), carry ``seq == n`` (else records were deleted, reordered or inserted before it)
    and have ``prev`` equal to the hash of record ``n-1`` (else the record before it was
    rewritten with a recomputed hash). ``prev=None`` skips the link.
    """

    def fail(reason: str, detail: str) -> TrailTamperedError:
        return TrailTamperedError(
            f"{where}: record {n}{describe(row)}: {detail}", record=n, reason=reason
        )

    if not isinstance(row, dict):
        raise fail("not valid JSON", "the line is not a JSON record (edited or truncated)")
    if set(row) != set(FIELDS):
        raise fail("fields changed", f"fields {sorted(row)} are not {list(FIELDS)} (edited)")
    try:
        digest = record_hash(row)
    except rfc8785.CanonicalizationError:
        digest = ""
    if digest != row["hash"]:
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


def check_rows(rows: Iterable[Any], *, start: int, prev: str | None, where: str) -> str:
    """Check stored records numbered from ``start`` (:func:`check_row`); return the last hash."""
    for n, row in enumerate(rows, start=start):
        check_row(n, row, prev, where)
        prev = row["hash"]
    return prev or GENESIS


def check_head(head: Mapping[str, Any] | None, *, records: int, last: str, where: str) -> None:
    """Check that the head anchor names the last record (else records were cut off the end)."""
    if head is None:
        if records:
            raise missing_head(records, where)
        return
    seq, digest = head.get("seq"), head.get("hash")
    if seq == records and digest == last:
        return
    if isinstance(seq, int) and seq > records:
        raise cut_off(seq, records, where)
    raise TrailTamperedError(
        f"{where}: the head anchor (record {seq}, hash {str(digest)[:12]}...) does not match "
        f"the last record ({records}, hash {last[:12]}...): the end of the trail or the "
        "anchor was changed",
        record=records or None,
        reason="head mismatch",
    )


def missing_head(records: int, where: str) -> TrailTamperedError:
    return TrailTamperedError(
        f"{where}: the head anchor is missing, so records cut off the end cannot be ruled out "
        f"({records} records found)",
        record=None,
        reason="head anchor missing",
    )


def cut_off(seq: int, records: int, where: str) -> TrailTamperedError:
    return TrailTamperedError(
        f"{where}: the head anchor names record {seq} but the trail ends at record "
        f"{records}: record(s) {records + 1}..{seq} were deleted from the end",
        record=records + 1,
        reason="deleted from the end",
    )


def verify_records(
    rows: Sequence[Any], *, head: Mapping[str, Any] | None, where: str = "audit trail"
) -> str:
    """Check a whole trail and its head anchor; return the last hash (GENESIS when empty).

    Strict: the anchor must name the last row (rows read from SQL are written in one
    transaction with their anchor, so they have no crash artefact to tolerate).

    Raises
    ------
    TrailTamperedError
        For the first bad record, naming it and what is wrong (see :func:`check_row` and
        :func:`check_head`).
    """
    last = check_rows(rows, start=1, prev=GENESIS, where=where)
    check_head(head, records=len(rows), last=last, where=where)
    return last


class ChainWalk:
    """Check stored records one by one, in order, and place them against the head anchor.

    Feed every complete record to :meth:`add` (from record ``start``, chained to ``prev``),
    then call :meth:`finish`. Records after the one the anchor names are kept as
    ``unanchored`` when they have the shape an interrupted append leaves (see the module's
    design note); anything else raises :class:`TrailTamperedError` naming it. Memory stays
    constant whatever the trail's length.
    """

    def __init__(
        self,
        *,
        head_seq: int,
        head_hash: str,
        where: str,
        start: int = 1,
        prev: str = GENESIS,
    ) -> None:
        self.head_seq, self.head_hash, self.where = head_seq, head_hash, where
        self.records = start - 1
        self.last = prev
        self.anchor: Span | None = None
        self.unanchored: list[Span] = []
        self._after = 0  # records after the anchor, all counted
        self._odd: int | None = None  # first record after the anchor not shaped by a crash

    def add(self, row: Any, *, start: int = 0, end: int = 0) -> Span:
        n = self.records + 1
        check_row(n, row, self.last, self.where)
        span = Span(seq=n, hash=row["hash"], kind=str(row["kind"]), start=start, end=end)
        if n == self.head_seq:
            self.anchor = span
        elif n > self.head_seq:
            self._after += 1
            if self._after > 1 and self._odd is None and not _adopts(row, self.last):
                self._odd = n
            if len(self.unanchored) < _KEEP_UNANCHORED:
                self.unanchored.append(span)
        self.records, self.last = n, span.hash
        return span

    def finish(self) -> tuple[Span, ...]:
        """The unanchored records (empty on a clean end).

        Raises
        ------
        TrailTamperedError
            The anchor names a record beyond the end (records cut off), or one whose hash
            differs (the anchor or that record was changed), or records follow the anchor that
            no crash explains (appended behind its back, or the anchor rolled back).
        """
        n, h, where = self.records, self.head_seq, self.where
        if h > n:
            raise cut_off(h, n, where)
        if self.anchor is not None and self.anchor.hash != self.head_hash:
            raise TrailTamperedError(
                f"{where}: the head anchor (record {h}, hash {self.head_hash[:12]}...) does "
                f"not match record {h} (hash {self.anchor.hash[:12]}...): that record or the "
                "anchor was changed",
                record=h,
                reason="head mismatch",
            )
        if self._odd is not None:
            raise TrailTamperedError(
                f"{where}: the head anchor names record {h} but records {h + 1}..{n} follow "
                f"it, and record {self._odd} is not the repair of an interrupted append: "
                "records were appended behind the anchor's back, or the anchor was rolled back",
                record=self._odd,
                reason="not anchored",
            )
        return tuple(self.unanchored)


def _adopts(row: Mapping[str, Any], prev: str) -> bool:
    """Whether ``row`` is the repair record that adopted the record whose hash is ``prev``."""
    data = row.get("data")
    adopted = data.get("adopted") if isinstance(data, dict) else None
    return row.get("kind") == REPAIR and isinstance(adopted, dict) and adopted.get("hash") == prev
