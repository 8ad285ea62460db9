"""Audit trail: the cost of one append at 1,000 records and at ``size`` records.

For each length a trail of that many chained records (each about as large as a real
calculation record, 1.5 KB) is written in one go into a temporary folder, then
``APPENDS`` records are appended one by one with :meth:`openpcf.audit.AuditTrail.append`, fsync
and anchor replacement included. Reported per length:

- ``append_ms``: median time of one append (it should not depend on the length);
- ``append_peak_kib``: the largest Python allocation peak of one append (tracemalloc, over
  ``PEAKS`` further appends);
- ``full_read_ms``: reading and parsing every line, which is what each append did before
  appends became O(1) (at 100,000 records: +3.9 s and about 1 GB per calculation);
- ``verify_ms``: ``openpcf audit verify`` (every hash recomputed), for scale.

Measured on the 2-core development machine: 1.55 ms per append at 1,000 records and 1.29 ms at
50,000 (21 KiB peak both), where the previous implementation took 12.2 ms and 1,224 ms (425 MiB
peak) on the same trails. fsync dominates and varies with the disk's load (up to 16 ms per
append when other processes write), at every length alike.
"""

from __future__ import annotations

import json
import statistics
import tempfile
import time
import tracemalloc
from pathlib import Path
from typing import Any

from openpcf.audit import AuditTrail, record_hash
from openpcf.audit.chain import GENESIS

NAME = "audit"
DEFAULT_SIZE = 50_000
SMALL = 1_000
APPENDS = 200
PEAKS = 20


def _data(n: int) -> dict[str, Any]:
    digest = f"{n:064x}"
    return {
        "product": "Widget",
        "product_ids": ["urn:openpcf:product:widget"],
        "declared_unit": "kilogram",
        "declared_amount": 1.0,
        "kg_co2e": 6.205399999999999 + n,
        "result_sha256": digest,
        "model_file": "tests/fixtures/two_process.yaml",
        "model_sha256": digest,
        "parameters": {"power": 3.0, "sheet_mass": 2.0},
        "parameters_sha256": digest,
        "factor_rows_sha256": digest,
        "factor_rows": 1,
        "factor_set": "bundled",
        "factor_set_sha256": digest,
        "factor_sets_loaded": ["cn_grid_co2", "ipcc2006_fuels", "starter_materials"],
        "databases": [{"name": "cn_grid_co2", "rows_used": 1, "rows_sha256": digest}],
        "rules": [],
        "gwp_set": "AR6",
        "gwp_source": "IPCC AR6 WG1 (2021) Table 7.SM.7",
        "solver": "superlu",
        "openpcf_version": "0.1.0",
        "actor": "bench@localhost",
        "context": {"command": "calc"},
    }


def _build(path: Path, records: int) -> None:
    """``records`` chained records and their anchor, written without a per-record fsync."""
    prev, pos, lines = GENESIS, 0, []
    start = 0
    for n in range(1, records + 1):
        body: dict[str, Any] = {
            "seq": n,
            "time": "2026-01-05T09:12:40.118000Z",
            "kind": "calculation",
            "prev": prev,
            "data": _data(n),
        }
        body["hash"] = prev = record_hash(body)
        line = (json.dumps(body, ensure_ascii=False, sort_keys=True) + "\n").encode()
        start, pos = pos, pos + len(line)
        lines.append(line)
    path.write_bytes(b"".join(lines))
    head = {"seq": records, "hash": prev, "start": start, "end": pos}
    path.with_name(path.name + ".head").write_text(json.dumps(head))


def _measure(records: int, folder: Path) -> dict[str, Any]:
    trail = AuditTrail(folder / f"trail-{records}.jsonl")
    _build(trail.path, records)
    times, peaks = [], []
    for n in range(APPENDS):
        t0 = time.perf_counter()
        trail.append("calculation", _data(records + n))
        times.append(time.perf_counter() - t0)
    for n in range(APPENDS, APPENDS + PEAKS):  # apart: tracemalloc slows the timed appends
        tracemalloc.start()
        trail.append("calculation", _data(records + n))
        peaks.append(tracemalloc.get_traced_memory()[1])
        tracemalloc.stop()
    t0 = time.perf_counter()
    rows = [json.loads(line) for line in trail.path.read_text(encoding="utf-8").splitlines()]
    full_read = time.perf_counter() - t0
    t0 = time.perf_counter()
    report = trail.verify()
    verify = time.perf_counter() - t0
    if not report.records == len(rows) == records + APPENDS + PEAKS:
        raise RuntimeError(f"the trail holds {len(rows)} records, not {records + APPENDS + PEAKS}")
    return {
        "records": records,
        "trail_mib": trail.path.stat().st_size / 2**20,
        "append_ms": statistics.median(times) * 1e3,
        "append_p90_ms": statistics.quantiles(times, n=10)[-1] * 1e3,
        "append_peak_kib": max(peaks) / 1024,
        "full_read_ms": full_read * 1e3,
        "verify_ms": verify * 1e3,
    }


def run(size: int = DEFAULT_SIZE, repeat: int = 3, seed: int = 0) -> dict[str, Any]:
    """Time appends at 1,000 and at ``size`` records (``repeat``/``seed`` unused: every
    measurement is already the median of ``APPENDS`` appends, and nothing is random)."""
    with tempfile.TemporaryDirectory(prefix="openpcf-bench-audit-") as tmp:
        rows = [_measure(n, Path(tmp)) for n in sorted({SMALL, size})]
    return {"benchmark": NAME, "appends_per_length": APPENDS, "lengths": rows}


def format_table(result: dict[str, Any]) -> str:
    lines = [
        f"{'records':>8} {'MiB':>6} {'append ms':>10} {'p90 ms':>7} {'peak KiB':>9} "
        f"{'full read ms':>13} {'verify ms':>10}"
    ]
    for r in result["lengths"]:
        lines.append(
            f"{r['records']:>8} {r['trail_mib']:>6.1f} {r['append_ms']:>10.2f} "
            f"{r['append_p90_ms']:>7.2f} {r['append_peak_kib']:>9.1f} {r['full_read_ms']:>13.1f} "
            f"{r['verify_ms']:>10.1f}"
        )
    return "\n".join(lines)
