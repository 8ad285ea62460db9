"""Run OpenPCF's benchmarks: ``python -m bench.run [--size N] [--only NAME ...]``.

Each benchmark is a module in :data:`BENCHMARKS` with ``NAME``, ``DEFAULT_SIZE``,
``run(size=..., repeat=..., seed=...) -> dict`` and ``format_table(result) -> str``. Results go
to ``bench/results/<name>.json`` at the default size and to ``<name>-size<N>.json`` otherwise,
so a quick check does not overwrite the reference results. To add a benchmark, write the module
and add it to :data:`BENCHMARKS`.
"""

from __future__ import annotations

import argparse
import importlib
import json
from pathlib import Path
from typing import Any

#: Benchmark name -> module.
BENCHMARKS: dict[str, str] = {
    "engine": "bench.engine",
    "lci": "bench.lci",
    "api": "bench.api_load",
    "audit": "bench.audit",
    "v2_filter": "bench.v2_filter",
    "batch": "bench.batch",
    "parameters": "bench.parameters",
    "web": "bench.web_pages",
}

RESULTS = Path(__file__).resolve().parent / "results"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__)
    parser.add_argument(
        "--size", type=int, default=None, help="problem size (default: each benchmark's own)"
    )
    parser.add_argument("--repeat", type=int, default=3, help="runs per measurement (median)")
    parser.add_argument("--seed", type=int, default=20_240_601)
    parser.add_argument(
        "--only", nargs="+", choices=sorted(BENCHMARKS), help="run only these benchmarks"
    )
    parser.add_argument("--out", type=Path, default=RESULTS, help="directory for JSON results")
    args = parser.parse_args(argv)

    args.out.mkdir(parents=True, exist_ok=True)
    for name in args.only or list(BENCHMARKS):
        module: Any = importlib.import_module(BENCHMARKS[name])
        size = args.size or module.DEFAULT_SIZE
        result = module.run(size=size, repeat=args.repeat, seed=args.seed)
        stem = name if size == module.DEFAULT_SIZE else f"{name}-size{size}"
        path = args.out / f"{stem}.json"
        path.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
        print(module.format_table(result))
        print(f"written: {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
