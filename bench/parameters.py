"""Recalculating one model with other parameter values: milliseconds per parameter set.

**The batch.** USLCI (openLCA JSON-LD, 766 activities, ``shared/data``) is imported into a
throwaway ``$OPENPCF_HOME``; one model (two processes, ``background_linking: linked``) draws
three USLCI activities, two of them in amounts that are parameters (``A_bf``), and has a
parameter in its direct emission (``B_f``) and one in the amount it draws of its own part
(``A_ff``). ``size`` parameter sets (seeded) are written to a CSV. Timed, in this process
after one warm-up calculation (the database read and factorised once, as a worker does):

- ``fresh``: each set through :func:`openpcf.services.batch.calculate_item` alone, every
  solve from the start (what a single ``openpcf calc --param`` does);
- ``recalculating``: the sets as one :func:`~openpcf.services.batch.calculate_chunk`, which
  solves inside :func:`openpcf.model.recalculation.recalculating`;
- ``command``: ``openpcf batch SETS.csv --workers 1 --json`` in a subprocess (interpreter
  start, imports, the database read and factorised included: what a user waits for).

**The scenarios.** The web editor's scenario comparison
(:func:`openpcf.services.web_scenarios.compare_scenarios`) of ``tests/fixtures/two_process.yaml``
(bundled factors) with 6 scenarios, as the editor runs it: the text parsed once and every
scenario solved inside one ``recalculating()`` block, which ``compare_scenarios`` opens itself.
(Before it did, 57 % of a comparison was parsing the same text again for each scenario.)

Every timing is the median of ``repeat`` runs; the batch's ways are checked to give the same
kg CO2e, stages and footprint id for every set (``identical``).
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from bench.batch import USLCI, uslci_products

NAME = "parameters"
DEFAULT_SIZE = 200
ROOT = Path(__file__).resolve().parents[1]
OPENPCF = str(Path(sys.executable).with_name("openpcf"))
SCENARIOS = 6

MODEL = """\
openpcf: 1
product:
  name: Widget
  ids: [urn:openpcf:product:widget]
  declared_unit: kilogram
  mass_per_declared_unit: 1
  reference_period: {{start: 2024-01-01, end: 2024-12-31}}
boundary: cradle-to-gate
reference_process: make
background_linking: linked
parameters:
  a: 1.5
  b: 2.0
  e: 0.7
  part_kg: 0.5
processes:
  - id: make
    name: Make widget
    stage: production
    output: {{product: widget, amount: 1, unit: kg}}
    inputs:
      - {{background: "uslci:{u0}", amount: a, unit: {n0}}}
      - {{background: "uslci:{u1}", amount: b, unit: {n1}}}
      - {{process: part, amount: part_kg, unit: kg}}
    emissions:
      - {{gas: CO2-fossil, amount: e, unit: kg}}
  - id: part
    name: Part
    stage: production
    output: {{product: part, amount: 1, unit: kg}}
    inputs:
      - {{background: "uslci:{u2}", amount: 2, unit: {n2}}}
"""


def prepare(folder: Path, size: int, seed: int) -> Path:
    """Import USLCI into ``folder/home``, write the model and ``size`` parameter sets; return
    the CSV (``a``, ``b`` and ``e`` vary in every set, ``part_kg`` in every fourth)."""
    pool = uslci_products(folder, 3)
    fields = {f"u{k}": u for k, (u, _) in enumerate(pool)}
    fields.update({f"n{k}": n for k, (_, n) in enumerate(pool)})
    (folder / "widget.yaml").write_text(MODEL.format(**fields), encoding="utf-8")
    rng = np.random.default_rng(seed)
    sheet = folder / "sets.csv"
    with sheet.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(["id", "model", "a", "b", "e", "part_kg"])
        for k in range(size):
            a, b, e = rng.uniform(0.5, 3.0, size=3)
            part = 0.5 if k % 4 else rng.uniform(0.2, 1.0)
            writer.writerow([f"set-{k:04d}", "widget.yaml", a, b, e, part])
    return sheet


def _median(repeat: int, work: Callable[[], Any]) -> tuple[float, Any]:
    times, out = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        out = work()
        times.append(time.perf_counter() - start)
    return statistics.median(times), out


def _summary(items: list[Any]) -> list[tuple[Any, ...]]:
    return [(i.kg_co2e, sorted(i.by_stage.items()), i.footprint_id, i.error) for i in items]


def _batch_rows(sheet: Path, size: int, repeat: int) -> list[dict[str, Any]]:
    from openpcf.services.batch import BatchOptions, calculate_chunk, calculate_item, read_batch
    from openpcf.settings import get_settings

    items = read_batch(sheet)
    options = BatchOptions(settings=get_settings())
    calculate_item(items[0], options)  # the database read and factorised, as in a worker

    def fresh() -> list[Any]:
        loaded: dict[Path, Any] = {}  # the model file read once, as calculate_chunk does
        return [calculate_item(item, options, loaded) for item in items]

    fresh_s, before = _median(repeat, fresh)
    chunk_s, after = _median(repeat, lambda: calculate_chunk(items, options))
    if any(i.error for i in after) or _summary(before) != _summary(after):
        raise RuntimeError("recalculated batch items differ from fresh ones")
    env = {**os.environ, "OPENPCF_HOME": str(sheet.parent / "home")}
    command = [OPENPCF, "batch", str(sheet), "--workers", "1", "--json"]

    def run_command() -> list[dict[str, Any]]:
        done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"openpcf batch: {done.stderr[-2000:]}")
        out: list[dict[str, Any]] = json.loads(done.stdout)["items"]
        return out

    command_s, served = _median(repeat, run_command)
    if [i["kg_co2e"] for i in served] != [i.kg_co2e for i in after]:
        raise RuntimeError("openpcf batch differs from the in-process batch")
    return [
        _row("batch", "fresh", fresh_s, size),
        _row("batch", "recalculating", chunk_s, size),
        _row("batch", "command (workers 1)", command_s, size),
    ]


def _scenario_rows(repeat: int) -> list[dict[str, Any]]:
    from openpcf.services.web_scenarios import ScenarioInput, compare_scenarios

    text = (ROOT / "tests" / "fixtures" / "two_process.yaml").read_text(encoding="utf-8")
    scenarios = [
        ScenarioInput(number=k, name=f"S{k}", values={"power": str(k), "sheet_mass": str(k / 2)})
        for k in range(1, SCENARIOS + 1)
    ]

    def compare() -> tuple[float | None, ...]:
        comparison, _ = compare_scenarios(text, {}, scenarios)
        if comparison is None:
            raise RuntimeError("the scenarios did not calculate")
        return comparison.total.values

    compare()
    seconds, _ = _median(repeat, compare)
    sets = SCENARIOS + 1  # the current values and each scenario
    return [_row("web scenarios", "compare_scenarios", seconds, sets)]


def _row(case: str, how: str, seconds: float, sets: int) -> dict[str, Any]:
    return {
        "case": case,
        "how": how,
        "sets": sets,
        "seconds": round(seconds, 4),
        "ms_per_set": round(1000 * seconds / sets, 3),
    }


def run(size: int = DEFAULT_SIZE, repeat: int = 3, seed: int = 0) -> dict[str, Any]:
    load = os.getloadavg()[0]
    folder = Path(tempfile.mkdtemp(prefix="openpcf-parameters-bench-"))
    previous = os.environ.get("OPENPCF_HOME")
    os.environ["OPENPCF_HOME"] = str(folder / "home")
    from openpcf.settings import get_settings

    get_settings.cache_clear()
    try:
        sheet = prepare(folder, size, seed)
        rows = _batch_rows(sheet, size, repeat) + _scenario_rows(repeat)
    finally:
        if previous is None:
            os.environ.pop("OPENPCF_HOME", None)
        else:
            os.environ["OPENPCF_HOME"] = previous
        get_settings.cache_clear()
        shutil.rmtree(folder, ignore_errors=True)
    return {
        "benchmark": NAME,
        "background": f"USLCI ({USLCI.name}), linked",
        "parameter_sets": size,
        "repeat": repeat,
        "seed": seed,
        "cpus": os.cpu_count(),
        "load_average_before": round(load, 2),
        "identical_results": True,
        "rows": rows,
    }


def format_table(result: dict[str, Any]) -> str:
    lines = [
        f"parameter sets recalculated: {result['parameter_sets']} sets of one model on "
        f"{result['background']} (median of {result['repeat']}; results identical; "
        f"{result['cpus']} CPUs, load {result['load_average_before']})",
        f"{'case':<14} {'how':<20} {'sets':>5} {'seconds':>9} {'ms/set':>8}",
    ]
    for row in result["rows"]:
        lines.append(
            f"{row['case']:<14} {row['how']:<20} {row['sets']:>5} {row['seconds']:>9.3f} "
            f"{row['ms_per_set']:>8.3f}"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    print(format_table(run(size=20, repeat=1)))
