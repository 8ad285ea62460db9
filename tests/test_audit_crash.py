"""Audit trail crash safety: an interrupted append is recovered with a recorded repair,
tampering is still refused, and an append reads a constant amount whatever the trail's length.

Cost of an append, measured (not asserted) with ``python -m bench.run --only audit`` on the
2-core development machine, median of 200 appends with fsync and anchor replacement
(``bench/results/audit.json``):

=========  ==========  ===============  =====================================
records    append ms   peak allocation  previous version (re-read everything)
=========  ==========  ===============  =====================================
1,000      1.55        21 KiB           12.2 ms
50,000     1.29        21 KiB           1,224 ms (425 MiB peak)
=========  ==========  ===============  =====================================

An append reads the anchor, the anchored record and the bytes after it, never the whole
trail. :func:`test_append_reads_only_the_end` checks that mechanism without timing anything.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from openpcf.audit import (
    AuditError,
    AuditTrail,
    TrailTamperedError,
    list_records,
    repair_trail,
    verify_trail,
)

TAMPERED = TrailTamperedError.exit_code  # 21, as before crash recovery existed


@pytest.fixture
def trail(tmp_path: Path) -> AuditTrail:
    t = AuditTrail(tmp_path / "audit" / "trail.jsonl")
    for n in range(4):
        t.append("calculation", {"product": "Widget", "n": n})
    return t


def run(*args: str) -> tuple[int, str]:
    from test_certificate import run as run_cli

    return run_cli(*args)


def interrupted_before_anchor(t: AuditTrail, data: dict[str, object]) -> None:
    """An append whose process died after its record was written, before its anchor was."""
    head = t.head_path.read_bytes()
    t.append("calculation", data)
    t.head_path.write_bytes(head)


def torn(t: AuditTrail, cut: int = 57) -> bytes:
    """An append whose write stopped part-way (full disk, power cut): no final newline."""
    line = json.dumps({"seq": 99, "kind": "calculation", "data": {"product": "Gizmo"}})
    part = line[:cut].encode()
    with open(t.path, "ab") as handle:
        handle.write(part)
    return part


def snapshot(t: AuditTrail) -> tuple[bytes, bytes]:
    return t.path.read_bytes(), t.head_path.read_bytes()


# -- recovery --------------------------------------------------------------------------------
def test_missing_anchor_update_is_recovered_by_the_next_append(trail: AuditTrail) -> None:
    interrupted_before_anchor(trail, {"product": "Widget", "n": 4})
    report = verify_trail(trail)  # not tampering
    assert report.records == 5
    assert report.artefact is not None
    assert [s.seq for s in report.artefact.unanchored] == [5]
    assert "record 5 written but not anchored" in str(report.artefact)
    unanchored = report.artefact.unanchored[0]

    record = trail.append("calculation", {"product": "Widget", "n": 5})
    records = list_records(trail)
    assert [r.kind for r in records] == ["calculation"] * 5 + ["repair", "calculation"]
    assert record.seq == 7
    repair = records[5].data
    assert repair["adopted"] == {
        "seq": 5,
        "hash": records[4].hash,
        "kind": "calculation",
        "bytes": [unanchored.start, unanchored.end],
    }
    assert repair["moved_aside"] == []
    assert repair["by"] == "append"
    report = verify_trail(trail)
    assert (report.records, report.artefact) == (7, None)
    assert [r.data.get("n") for r in records if r.kind == "calculation"] == [0, 1, 2, 3, 4, 5]


def test_torn_write_is_moved_aside_by_audit_repair(trail: AuditTrail) -> None:
    size = trail.path.stat().st_size
    part = torn(trail)
    report = verify_trail(trail)
    assert report.records == 4
    assert report.artefact is not None
    assert report.artefact.torn == (size, size + len(part))
    assert len(list_records(trail)) == 4  # `audit list` still works
    code, out = run("audit", "verify", "--trail", str(trail.path))
    assert code == 0, out
    assert "a torn last line" in out

    code, out = run("audit", "repair", "--trail", str(trail.path))
    assert code == 0, out
    assert f"moved bytes {size}..{size + len(part)}" in out
    digest = hashlib.sha256(part).hexdigest()
    aside = trail.path.with_name(f"trail.jsonl.repair-{size}-{digest[:16]}")
    assert aside.read_bytes() == part
    repair = list_records(trail)[-1]
    assert repair.kind == "repair"
    assert repair.data["adopted"] is None
    assert repair.data["moved_aside"] == [
        {
            "file": aside.name,
            "bytes": [size, size + len(part)],
            "length": len(part),
            "sha256": digest,
        }
    ]
    assert repair.data["by"] == "openpcf audit repair"
    assert verify_trail(trail).artefact is None
    code, out = run("audit", "repair", "--trail", str(trail.path))
    assert (code, "nothing to repair" in out) == (0, True)


def test_unanchored_record_and_torn_tail_together(trail: AuditTrail) -> None:
    interrupted_before_anchor(trail, {"n": 4})
    torn(trail, cut=200)
    record = repair_trail(trail)
    assert record is not None
    assert record.data["adopted"]["seq"] == 5
    assert len(record.data["moved_aside"]) == 1
    assert verify_trail(trail).records == 6


def test_interrupted_repair_is_recovered_again(trail: AuditTrail) -> None:
    """A repair record that lost its own anchor is adopted by the next repair, and so on."""
    interrupted_before_anchor(trail, {"n": 4})
    head = trail.head_path.read_bytes()
    repair_trail(trail)
    trail.head_path.write_bytes(head)  # the repair's anchor was not written either
    report = verify_trail(trail)
    assert report.artefact is not None
    assert [s.seq for s in report.artefact.unanchored] == [5, 6]
    record = trail.append("calculation", {"n": 5})
    kinds = [(r.seq, r.kind, (r.data.get("adopted") or {}).get("seq")) for r in list_records(trail)]
    assert kinds[4:] == [(5, "calculation", None), (6, "repair", 5), (7, "repair", 6),
                         (8, "calculation", None)]  # fmt: skip
    assert record.seq == 8
    assert verify_trail(trail).artefact is None


def test_calc_after_a_crash_records_the_repair_and_succeeds(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Before, every calculating command exited 21 on such a trail, for good."""
    from openpcf.settings import get_settings

    monkeypatch.setenv("OPENPCF_HOME", str(tmp_path / "home"))
    get_settings.cache_clear()
    try:
        fixture = str(Path(__file__).parent / "fixtures" / "two_process.yaml")
        assert run("calc", fixture)[0] == 0
        t = AuditTrail(get_settings().audit_trail)
        interrupted_before_anchor(t, {"n": 1})
        torn(t)
        code, out = run("calc", fixture)
        assert code == 0, out
        assert [r.kind for r in list_records(t)] == [
            "calculation", "calculation", "repair", "calculation"
        ]  # fmt: skip
        assert verify_trail(t).artefact is None
    finally:
        get_settings.cache_clear()


def test_first_append_interrupted_is_recovered(tmp_path: Path) -> None:
    """A new trail is anchored at record 0 first, so even record 1 without its anchor is a
    crash artefact, not a missing anchor."""
    t = AuditTrail(tmp_path / "trail.jsonl")
    t.append("calculation", {"n": 0})
    assert json.loads(t.head_path.read_text())["seq"] == 1
    # the anchor of record 0, which the first append writes before its record
    t.head_path.write_text(json.dumps({"seq": 0, "hash": "0" * 64, "start": 0, "end": 0}))
    assert verify_trail(t).artefact is not None
    t.append("calculation", {"n": 1})
    assert [r.kind for r in list_records(t)] == ["calculation", "repair", "calculation"]


def test_anchor_without_byte_range_still_works(trail: AuditTrail) -> None:
    """Trails of older versions anchor only {seq, hash}: the next append checks the whole
    trail once and writes the byte range from then on."""
    head = json.loads(trail.head_path.read_text())
    trail.head_path.write_text(json.dumps({"seq": head["seq"], "hash": head["hash"]}))
    assert verify_trail(trail).records == 4
    trail.append("calculation", {"n": 4})
    assert set(json.loads(trail.head_path.read_text())) == {"seq", "hash", "start", "end"}
    assert verify_trail(trail).records == 5


def test_full_disk_records_nothing(trail: AuditTrail, monkeypatch: pytest.MonkeyPatch) -> None:
    """A full disk while writing the anchor: the record is taken back, the error is an
    AuditError (exit 20) and the trail stays intact."""
    import openpcf.audit.trail as module

    before = snapshot(trail)

    def full(*args: object, **kwargs: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(module, "atomic_write", full)
    with pytest.raises(AuditError, match=r"No space left on device.*nothing was recorded") as info:
        trail.append("calculation", {"n": 4})
    assert not isinstance(info.value, TrailTamperedError)
    assert info.value.exit_code == 20
    assert snapshot(trail) == before
    monkeypatch.undo()
    assert verify_trail(trail).artefact is None


def test_full_disk_mid_line_leaves_no_partial_line(
    trail: AuditTrail, monkeypatch: pytest.MonkeyPatch
) -> None:
    import openpcf.files.durable as durable

    before = snapshot(trail)
    real = os.write

    def short_then_full(fd: int, data: bytes) -> int:
        if len(data) > 10:
            return real(fd, bytes(data[:10]))
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(durable.os, "write", short_then_full)
    with pytest.raises(AuditError, match="nothing was recorded"):
        trail.append("calculation", {"n": 4})
    monkeypatch.undo()
    assert snapshot(trail) == before


def test_full_disk_during_recovery_is_recorded_later(
    trail: AuditTrail, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The torn bytes were saved aside, then the repair record could not be written: the
    next append finds the repair file no record names and records it."""
    import openpcf.files.durable as durable

    size = trail.path.stat().st_size
    part = torn(trail)

    def full(fd: int, data: bytes) -> int:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(durable.os, "write", full)
    with pytest.raises(AuditError, match="nothing was recorded"):
        trail.append("calculation", {"n": 4})
    monkeypatch.undo()
    assert trail.path.stat().st_size == size  # taken back to the last complete record
    report = verify_trail(trail)
    assert report.artefact is not None
    (orphan,) = report.artefact.orphans
    assert trail.path.with_name(orphan).read_bytes() == part
    trail.append("calculation", {"n": 4})
    repair = list_records(trail)[4]
    assert repair.kind == "repair"
    assert [m["file"] for m in repair.data["moved_aside"]] == [orphan]
    assert verify_trail(trail).artefact is None


def test_unwritable_trail_is_an_audit_error(
    trail: AuditTrail, monkeypatch: pytest.MonkeyPatch
) -> None:
    import openpcf.audit.trail as module

    torn(trail)
    before = snapshot(trail)

    def full(*args: object, **kwargs: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(module, "atomic_write", full)  # the repair file cannot be saved
    with pytest.raises(AuditError, match=r"cannot be written.*nothing was recorded"):
        trail.append("calculation", {"n": 4})
    assert snapshot(trail) == before


# -- tampering is still refused --------------------------------------------------------------
def test_repair_refuses_a_tampered_trail(trail: AuditTrail) -> None:
    rows = trail.path.read_text().splitlines(keepends=True)
    rows[1] = rows[1].replace('"n": 1', '"n": 7')
    trail.path.write_text("".join(rows))
    torn(trail)  # a crash artefact does not excuse the edit
    before = snapshot(trail)
    code, out = run("audit", "repair", "--trail", str(trail.path))
    assert code == TAMPERED
    assert "record 2" in out
    assert "edited" in out
    assert snapshot(trail) == before  # untouched: no repair file, no record
    assert not list(trail.path.parent.glob("*.repair-*"))
    code, _ = run("audit", "verify", "--trail", str(trail.path))
    assert code == TAMPERED


def test_records_behind_a_rolled_back_anchor_are_tampering(trail: AuditTrail) -> None:
    """Two ordinary records after the anchor are not what a crash leaves."""
    lines = trail.path.read_bytes().splitlines(keepends=True)
    record2 = json.loads(lines[1])
    start = len(lines[0])
    trail.head_path.write_text(
        json.dumps(
            {"seq": 2, "hash": record2["hash"], "start": start, "end": start + len(lines[1])}
        )
    )
    with pytest.raises(TrailTamperedError, match=r"records 3\.\.4 follow it") as info:
        verify_trail(trail)
    assert info.value.reason == "not anchored"
    before = snapshot(trail)
    with pytest.raises(TrailTamperedError):
        trail.append("calculation", {"n": 4})
    assert snapshot(trail) == before
    code, _ = run("audit", "repair", "--trail", str(trail.path))
    assert code == TAMPERED


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"hash": "f" * 64}, "does not match record 4"),
        ({"start": 3}, "places record 4 at bytes 3"),
        ({"seq": 9}, r"record\(s\) 5\.\.9 were deleted from the end"),
    ],
)
def test_an_anchor_matching_no_prefix_is_tampering(
    trail: AuditTrail, change: dict[str, object], message: str
) -> None:
    head = json.loads(trail.head_path.read_text())
    trail.head_path.write_text(json.dumps(head | change))
    torn(trail)
    with pytest.raises(TrailTamperedError, match=message):
        verify_trail(trail)
    with pytest.raises(TrailTamperedError, match=message):
        trail.append("calculation", {"n": 4})
    with pytest.raises(TrailTamperedError, match=message):
        repair_trail(trail)


def test_deleted_anchor_with_a_torn_tail_is_tampering(trail: AuditTrail) -> None:
    trail.head_path.unlink()
    torn(trail)
    code, out = run("audit", "repair", "--trail", str(trail.path))
    assert code == TAMPERED
    assert "head anchor is missing" in out


def test_last_record_cut_to_look_torn_is_tampering(trail: AuditTrail) -> None:
    """Cutting the newline and the end of an anchored record is a deletion, not a crash."""
    data = trail.path.read_bytes()
    trail.path.write_bytes(data[:-30])
    with pytest.raises(TrailTamperedError, match=r"record\(s\) 4\.\.4 were deleted from the end"):
        repair_trail(trail)


# -- cost ------------------------------------------------------------------------------------
def test_append_reads_only_the_end(trail: AuditTrail, monkeypatch: pytest.MonkeyPatch) -> None:
    """An append on an intact trail never walks the whole file (the fast path decides)."""

    def whole_file(self: AuditTrail) -> None:
        pytest.fail("an append on an intact trail read the whole trail")

    monkeypatch.setattr(AuditTrail, "_scan", whole_file)
    monkeypatch.setattr(AuditTrail, "_lines", whole_file)
    for n in range(3):
        trail.append("calculation", {"n": 4 + n})
    interrupted_before_anchor(trail, {"n": 7})
    trail.append("calculation", {"n": 8})  # recovery needs the end only, too
    monkeypatch.undo()
    assert verify_trail(trail).records == 10


# -- real processes killed at random moments ---------------------------------------------------
CHILD = """
import os, sys, time
from openpcf.audit.trail import AuditTrail

trail, child, slow = AuditTrail(sys.argv[1]), sys.argv[2], sys.argv[3] == "slow"
if slow:  # every write in two halves with a pause: kills also land inside a line
    import openpcf.files.durable as durable
    real = os.write
    def halves(fd, data):
        if len(data) > 1:
            n = real(fd, bytes(data[: len(data) // 2]))
            time.sleep(0.002)
            return n
        return real(fd, data)
    durable.os = type(os)("os_halves")
    durable.os.__dict__.update(os.__dict__)
    durable.os.write = halves
print("ready", flush=True)
n = 0
while True:
    trail.append("calculation", {"child": child, "n": n})
    print(n, flush=True)
    n += 1
"""


def test_processes_killed_at_random_moments_leave_a_recoverable_trail(tmp_path: Path) -> None:
    """SIGKILL at random moments, eight times, half of them with writes slowed so that kills
    land inside a line too: each time `verify` finds no tampering, the next process recovers
    what the last one left, and every record whose append returned is kept."""
    rng = random.Random(20_260_105)
    t = AuditTrail(tmp_path / "trail.jsonl")
    completed: list[tuple[str, int]] = []
    env = os.environ | {"PYTHONPATH": os.pathsep.join(sys.path)}
    for round_ in range(8):
        mode = "slow" if round_ % 2 else "fast"
        child = subprocess.Popen(
            [sys.executable, "-c", CHILD, str(t.path), str(round_), mode],
            stdout=subprocess.PIPE,
            text=True,
            env=env,
        )
        assert child.stdout is not None
        assert child.stdout.readline() == "ready\n"
        time.sleep(rng.uniform(0.05, 0.4))
        child.send_signal(signal.SIGKILL)
        out, _ = child.communicate(timeout=30)
        completed += [(str(round_), int(n)) for n in out.split()]
        verify_trail(t)  # never tampering, whatever the moment of the kill
    assert completed, "no child completed an append before it was killed: sleep longer"
    repair_trail(t)
    report = verify_trail(t)
    assert report.artefact is None
    kept = [(r.data["child"], r.data["n"]) for r in list_records(t) if r.kind == "calculation"]
    assert set(completed) <= set(kept)
    assert len(kept) == len(set(kept))
