"""``openpcf batch``: SKUs per second at 1 and 2 workers, in processes and on a Dask cluster.

``size`` SKUs are generated as parameter sets of one model, ``examples/hot_rolled_coil_hebei.yaml``
(the bundled Hebei hot-rolled coil, 5 stages, on the bundled factors): each SKU sets the coal
mine's methane (``mine_ch4_m3_per_t``) to its own value between 0.8x and 1.2x the model's, so
every SKU has its own footprint while the technosphere matrix, and thus the factorisation,
stays the same (each worker factorises once). The SKUs are calculated by
:func:`openpcf.services.batch.run_batch` with

- a process pool of 1 and of 2 workers (the default executor), and
- a Dask ``LocalCluster`` on loopback with 1 and 2 single-threaded worker processes;

each figure is the median of ``repeat`` runs, pool or cluster start-up included (that is what
a user waits for), and the results of every run are checked to be identical. Reported:
``skus_per_s`` per executor and worker count and ``speedup`` (2 workers over 1).

The USLCI background is not used: no model of the repository links it without an imported
database in ``$OPENPCF_HOME``, so the bundled example is measured. On the 2-core development
machine the two workers compete with each other (and with anything else running) for the two
cores, so the speed-up there is a floor, not what a larger machine gets.
"""

from __future__ import annotations

import statistics
import time
from pathlib import Path
from typing import Any

NAME = "batch"
DEFAULT_SIZE = 1_000
MODEL = Path(__file__).resolve().parents[1] / "examples" / "hot_rolled_coil_hebei.yaml"
PARAMETER = "mine_ch4_m3_per_t"
BASE_VALUE = 20.5


def skus(size: int) -> list[Any]:
    from openpcf.services.batch import BatchItem

    return [
        BatchItem(
            id=f"SKU-{k:05d}",
            model=MODEL,
            parameters={PARAMETER: repr(BASE_VALUE * (0.8 + 0.4 * k / max(1, size - 1)))},
        )
        for k in range(size)
    ]


def _time_processes(items: list[Any], workers: int) -> tuple[float, list[Any]]:
    from openpcf.services.batch import BatchOptions, run_batch

    start = time.perf_counter()
    result = run_batch(items, BatchOptions(), workers=workers)
    return time.perf_counter() - start, result.items


def _time_dask(items: list[Any], workers: int) -> tuple[float, list[Any]]:
    from distributed import LocalCluster

    from openpcf.services.batch import BatchOptions, run_batch

    start = time.perf_counter()
    with LocalCluster(
        n_workers=workers,
        processes=True,
        threads_per_worker=1,
        host="127.0.0.1",
        dashboard_address=None,
    ) as cluster:
        result = run_batch(items, BatchOptions(), scheduler=cluster.scheduler_address)
    return time.perf_counter() - start, result.items


def run(size: int = DEFAULT_SIZE, repeat: int = 3, seed: int = 0) -> dict[str, Any]:
    items = skus(size)
    reference: list[Any] | None = None
    rows: list[dict[str, Any]] = []
    executors: list[tuple[str, Any]] = [("processes", _time_processes)]
    try:
        import distributed  # noqa: F401

        executors.append(("dask", _time_dask))
    except ImportError:
        pass
    for name, timer in executors:
        rates: dict[int, float] = {}
        for workers in (1, 2):
            times = []
            for _ in range(repeat):
                seconds, results = timer(items, workers)
                failed = [r for r in results if not r.ok]
                if failed:
                    raise RuntimeError(f"{failed[0].id}: {failed[0].error}")
                if reference is None:
                    reference = results
                elif results != reference:
                    raise RuntimeError(f"{name} with {workers} workers: results differ")
                times.append(seconds)
            rates[workers] = size / statistics.median(times)
            rows.append(
                {
                    "executor": name,
                    "workers": workers,
                    "seconds": round(statistics.median(times), 3),
                    "skus_per_s": round(rates[workers], 1),
                }
            )
        rows[-1]["speedup"] = round(rates[2] / rates[1], 2)
    assert reference is not None
    return {
        "benchmark": NAME,
        "model": MODEL.name,
        "skus": size,
        "repeat": repeat,
        "identical_results": True,
        "kg_co2e_range": [
            min(r.kg_co2e for r in reference),
            max(r.kg_co2e for r in reference),
        ],
        "rows": rows,
    }


def format_table(result: dict[str, Any]) -> str:
    lines = [
        f"openpcf batch: {result['skus']} SKUs of {result['model']} "
        f"(median of {result['repeat']}; results identical at every worker count)",
        f"{'executor':<10} {'workers':>7} {'seconds':>9} {'SKUs/s':>9} {'speed-up':>9}",
    ]
    for row in result["rows"]:
        speedup = f"{row['speedup']:.2f}x" if "speedup" in row else ""
        lines.append(
            f"{row['executor']:<10} {row['workers']:>7} {row['seconds']:>9.3f} "
            f"{row['skus_per_s']:>9.1f} {speedup:>9}"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    print(format_table(run(size=200, repeat=1)))
