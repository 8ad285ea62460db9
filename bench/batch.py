"""``openpcf batch`` of SKU models on one background: SKUs per second at 1 and 2 workers.

**The batch.** USLCI (openLCA JSON-LD, 766 activities, ``shared/data``) is imported into a
throwaway ``$OPENPCF_HOME`` and ``size`` SKU model files are written into one folder, each a
product of its own on that background: one process with ``background_linking: linked`` inputs
from three of twelve USLCI activities (the first twelve by id whose unit is kg or MJ and
whose AR6 footprint is positive), with its own amounts (seeded), and a direct CO2 emission.
Linked inputs make each calculation use the whole USLCI system: each worker process factorises
it once and keeps the factorisation (the engine's process-wide cache), which is what the batch
service's design rests on.

**The runs.** The folder is calculated by the real command, ``openpcf batch FOLDER --json``,
in a subprocess:

- ``--workers 1`` and ``--workers 2``: a process pool on this machine (the default executor);
- ``--scheduler tcp://127.0.0.1:PORT``: a Dask ``LocalCluster`` on loopback with 1 and 2
  single-threaded worker processes, started before the command (as a user's cluster is) and
  closed after it, so each run starts from fresh workers that factorise again.

Each time is the command's wall time (interpreter start, imports and pool start-up included:
what a user waits for), the median of ``repeat`` runs. Every run's items are checked to be
calculated and identical (kg CO2e, stages, footprint id) to the first run's. Reported:
``skus_per_s`` per executor and worker count, ``speedup`` (2 workers over 1), the machine's
CPU count and its load average before the runs (the figures are only as quiet as the machine).
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

NAME = "batch"
DEFAULT_SIZE = 1_000
ROOT = Path(__file__).resolve().parents[1]
USLCI = ROOT.parent / "shared" / "data" / "uslci-olca1.5-json-ld-9182448.zip"
#: USLCI activities the SKUs draw on, and how many each SKU uses
POOL, PER_SKU = 12, 3
OPENPCF = str(Path(sys.executable).with_name("openpcf"))

SKU = """\
openpcf: 1
product:
  name: SKU {k}
  ids: [urn:openpcf:product:sku-{k:05d}]
  declared_unit: kilogram
  mass_per_declared_unit: 1
  reference_period: {{start: 2024-01-01, end: 2024-12-31}}
boundary: cradle-to-gate
reference_process: make
background_linking: linked
processes:
  - id: make
    name: Make SKU {k}
    stage: production
    output: {{product: sku {k}, amount: 1, unit: kg}}
    inputs:
{inputs}
    emissions:
      - {{gas: CO2-fossil, amount: {co2:.4f}, unit: kg}}
"""


def uslci_products(folder: Path, count: int) -> list[tuple[str, str]]:
    """Import USLCI into ``folder/home``; the first ``count`` (id, unit) of its activities
    in kg or MJ with a positive footprint, sorted by id (the products the benches' models
    draw on)."""
    from openpcf.io.store import DatabaseStore
    from openpcf.methods.gwp import characterisation_vector, gwp_set
    from openpcf.services.databases import import_database

    if not USLCI.is_file():
        raise SystemExit(f"{USLCI}: not found; the bench needs USLCI (shared/data)")
    store = DatabaseStore(folder / "home" / "databases")
    import_database("jsonld", USLCI, name="uslci", store=store)
    stored = store.get("uslci")
    lam = stored.intensities() @ characterisation_vector(gwp_set("AR6"), stored.meta["gases"])
    return sorted(
        (c.id, c.unit)
        for i, c in enumerate(stored.columns())
        if c.unit in ("kg", "MJ") and lam[i] > 0
    )[:count]


def prepare(folder: Path, size: int, seed: int) -> Path:
    """Import USLCI into ``folder/home`` and write ``size`` SKU models into ``folder/skus``;
    return the SKU folder."""
    pool = uslci_products(folder, POOL)
    rng = np.random.default_rng(seed)
    skus = folder / "skus"
    skus.mkdir()
    for k in range(size):
        picked = rng.choice(len(pool), size=PER_SKU, replace=False)
        lines = [
            f'      - {{background: "uslci:{pool[j][0]}", amount: {rng.uniform(0.1, 5):.4f}, '
            f"unit: {pool[j][1]}}}"
            for j in sorted(picked)
        ]
        text = SKU.format(k=k, inputs="\n".join(lines), co2=rng.uniform(0, 2))
        (skus / f"SKU-{k:05d}.yaml").write_text(text, encoding="utf-8")
    return skus


@contextmanager
def _cluster(workers: int) -> Iterator[str]:
    from distributed import LocalCluster

    # distributed ships no annotations for LocalCluster's constructor
    with LocalCluster(  # type: ignore[no-untyped-call]
        n_workers=workers,
        processes=True,
        threads_per_worker=1,
        host="127.0.0.1",
        dashboard_address=None,
    ) as cluster:
        yield str(cluster.scheduler_address)


def _batch(skus: Path, home: Path, args: list[str]) -> tuple[float, list[dict[str, Any]]]:
    """``openpcf batch SKUS --json ARGS``: its wall time and items."""
    env = {**os.environ, "OPENPCF_HOME": str(home)}
    start = time.perf_counter()
    done = subprocess.run(
        [OPENPCF, "batch", str(skus), "--json", *args],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise RuntimeError(f"openpcf batch {' '.join(args)}: {done.stderr[-2000:]}")
    items: list[dict[str, Any]] = json.loads(done.stdout)["items"]
    return seconds, items


def run(size: int = DEFAULT_SIZE, repeat: int = 3, seed: int = 0) -> dict[str, Any]:
    folder = Path(tempfile.mkdtemp(prefix="openpcf-batch-bench-"))
    try:
        return _measure(folder, size, repeat, seed)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _measure(folder: Path, size: int, repeat: int, seed: int) -> dict[str, Any]:
    skus = prepare(folder, size, seed)
    home = folder / "home"
    load = os.getloadavg()[0]
    reference: list[dict[str, Any]] | None = None
    rows: list[dict[str, Any]] = []
    executors = ["processes"]
    try:
        import distributed  # noqa: F401

        executors.append("dask")
    except ImportError:
        pass
    for executor in executors:
        rates: dict[int, float] = {}
        for workers in (1, 2):
            times = []
            for _ in range(repeat):
                if executor == "dask":
                    with _cluster(workers) as address:
                        seconds, items = _batch(skus, home, ["--scheduler", address])
                else:
                    seconds, items = _batch(skus, home, ["--workers", str(workers)])
                failed = [i for i in items if i["error"]]
                if len(items) != size or failed:
                    raise RuntimeError(f"{executor} x {workers}: {failed[:1] or len(items)}")
                if reference is None:
                    reference = items
                elif items != reference:
                    raise RuntimeError(f"{executor} with {workers} workers: results differ")
                times.append(seconds)
            median = statistics.median(times)
            rates[workers] = size / median
            rows.append(
                {
                    "executor": executor,
                    "workers": workers,
                    "seconds": round(median, 3),
                    "skus_per_s": round(rates[workers], 1),
                }
            )
        rows[-1]["speedup"] = round(rates[2] / rates[1], 2)
    assert reference is not None
    co2e = [float(i["kg_co2e"]) for i in reference]
    return {
        "benchmark": NAME,
        "background": f"USLCI ({USLCI.name}), linked",
        "skus": size,
        "repeat": repeat,
        "seed": seed,
        "cpus": os.cpu_count(),
        "load_average_before": round(load, 2),
        "identical_results": True,
        "kg_co2e_range": [min(co2e), max(co2e)],
        "rows": rows,
    }


def format_table(result: dict[str, Any]) -> str:
    lines = [
        f"openpcf batch: {result['skus']} SKU models on {result['background']} "
        f"(median of {result['repeat']}; results identical at every worker count; "
        f"{result['cpus']} CPUs, load {result['load_average_before']})",
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
    print(format_table(run(size=100, repeat=1)))
