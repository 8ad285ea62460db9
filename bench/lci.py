"""Real LCI databases: import and all-process footprint times, OpenPCF vs bw2io/bw2calc.

For USLCI (openLCA JSON-LD, 766 processes) and TianGong (ILCD, 4,133 processes) from
``../shared/data``, measured in a throw-away ``$OPENPCF_HOME``:

- ``import_s``: :func:`openpcf.services.databases.import_database` end to end (hash, read,
  link, one transposed solve for the gas intensities, atomic write);
- ``footprints_solve_s``: the all-process footprint from the stored ``A`` and ``B`` in one
  transposed solve (``h = A⁻ᵀ Bᵀ c``, no cache);
- ``footprints_cached_s``: ``all_footprints`` from the stored intensities (what
  ``openpcf db footprints`` does).

For USLCI the same is timed for bw2io 0.9 + bw2data 4 + bw2calc 3 (import with the
Brightway-side changes listed in ``tests/test_uslci_brightway.py``, ``write_database``;
footprints = factorise once and ``redo_lcia`` per process), and reported as ratios
Brightway / OpenPCF. A database whose file or reader is absent is reported as skipped.
"""

from __future__ import annotations

import importlib.util
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

NAME = "lci"
DEFAULT_SIZE = 0  # the real databases have fixed sizes

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
DATABASES = {
    "uslci": ("jsonld", DATA / "uslci-olca1.5-json-ld-9182448.zip"),
    "tiangong": ("ilcd", DATA / "tiangong-lca-data-a55b302.zip"),
}


def _median(fn: Callable[[], Any], repeat: int) -> float:
    times = []
    for _ in range(max(1, repeat)):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def _openpcf(fmt: str, path: Path, repeat: int) -> dict[str, Any]:
    import numpy as np

    from openpcf.core.engine import intensities
    from openpcf.io.store import DatabaseStore
    from openpcf.methods.gwp import characterisation_vector, gwp_set
    from openpcf.services.databases import all_footprints, import_database

    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        store = DatabaseStore(Path(tmp) / "databases")
        result = import_database(fmt, path, name="bench", store=store)
        import_s = time.perf_counter() - t0
        stored = store.get("bench")
        system = stored.system()
        c = characterisation_vector(gwp_set("AR6"), system.flows)
        solve_s = _median(lambda: intensities(system, np.asarray(c), cache=None), repeat)
        cached_s = _median(lambda: all_footprints("bench", "AR6", store=store), repeat)
    counts = result.report["counts"]
    return {
        "processes": counts["processes"],
        "activities": counts["activities"],
        "exchanges": counts["exchanges"],
        "import_s": import_s,
        "phases_s": result.report.get("timings_s", {}),
        "footprints_solve_s": solve_s,
        "footprints_cached_s": cached_s,
    }


def _brightway_uslci(path: Path) -> dict[str, Any]:
    """bw2io import + bw2calc all-process scores, with the test's Brightway-side changes."""
    from bench.brightway_uslci import extract, make_solvable, prepare_for_bw2io

    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        (tmp_path / "bw").mkdir()
        os.environ["BRIGHTWAY2_DIR"] = str(tmp_path / "bw")
        import bw2calc as bc
        import bw2data as bd
        from bw2io.importers.json_ld import JSONLDImporter

        from openpcf.io.jsonld import read_jsonld
        from openpcf.methods.gwp import gwp_set

        bd.projects.change_base_directories(tmp_path / "bw", project_name="bench")
        t0 = time.perf_counter()
        root = extract(path, tmp_path)
        prepare_for_bw2io(root)
        importer = JSONLDImporter(root, "uslci")
        importer.apply_strategies()
        make_solvable(importer.data)
        importer.merge_biosphere_flows()
        importer.write_database()
        import_s = time.perf_counter() - t0
        gwp = gwp_set("AR6").values
        flows = read_jsonld(path).flows.values()
        method = bd.Method(("openpcf", "AR6"))
        method.register()
        method.write([(("uslci", f.id), gwp[str(f.gas)]) for f in flows if f.gas])
        t0 = time.perf_counter()
        acts = [a for a in bd.Database("uslci") if a["type"] == "process"]
        refs = [next(iter(a.production())).input.id for a in acts]
        fu, objs, remap = bd.prepare_lca_inputs(demand={refs[0]: 1}, method=("openpcf", "AR6"))
        lca = bc.LCA(fu, data_objs=objs, remapping_dicts=remap)
        lca.lci(factorize=True)
        lca.lcia()
        for ref in refs:
            lca.redo_lcia({ref: 1})
        footprints_s = time.perf_counter() - t0
    return {"import_s": import_s, "footprints_s": footprints_s, "processes": len(refs)}


def run(size: int = DEFAULT_SIZE, repeat: int = 3, seed: int = 0) -> dict[str, Any]:
    """Time both databases (``size`` and ``seed`` are unused: real data has one size)."""
    from openpcf.services.databases import READERS

    out: dict[str, Any] = {"openpcf": {}, "brightway": {}, "ratios": {}}
    for name, (fmt, path) in DATABASES.items():
        module = READERS[fmt][0]
        if not path.is_file() or importlib.util.find_spec(module) is None:
            out["openpcf"][name] = {"skipped": f"{path.name} or {module} not available"}
            continue
        out["openpcf"][name] = _openpcf(fmt, path, repeat)
    ours = out["openpcf"].get("uslci", {})
    if importlib.util.find_spec("bw2io") is None or "import_s" not in ours:
        out["brightway"]["uslci"] = {"skipped": "bw2io or USLCI not available"}
        return out
    bw = _brightway_uslci(DATABASES["uslci"][1])
    out["brightway"]["uslci"] = bw
    out["ratios"]["uslci"] = {
        "import_brightway_over_openpcf": bw["import_s"] / ours["import_s"],
        "footprints_brightway_over_openpcf": bw["footprints_s"] / ours["footprints_solve_s"],
    }
    return out


def format_table(result: dict[str, Any]) -> str:
    lines = [
        f"{'database':<10} {'tool':<10} {'activities':>10} {'import s':>9} {'all fp s':>9}",
    ]
    for name, row in result["openpcf"].items():
        if "skipped" in row:
            lines.append(f"{name:<10} {'openpcf':<10} skipped: {row['skipped']}")
            continue
        lines.append(
            f"{name:<10} {'openpcf':<10} {row['activities']:>10} {row['import_s']:>9.2f} "
            f"{row['footprints_solve_s']:>9.4f}"
        )
    for name, row in result["brightway"].items():
        if "skipped" in row:
            lines.append(f"{name:<10} {'bw2calc':<10} skipped: {row['skipped']}")
            continue
        lines.append(
            f"{name:<10} {'bw2calc':<10} {row['processes']:>10} {row['import_s']:>9.2f} "
            f"{row['footprints_s']:>9.4f}"
        )
    for name, ratio in result["ratios"].items():
        lines.append(
            f"{name}: Brightway/OpenPCF import x{ratio['import_brightway_over_openpcf']:.1f}, "
            f"all-process footprints x{ratio['footprints_brightway_over_openpcf']:.1f}"
        )
    return "\n".join(lines)
