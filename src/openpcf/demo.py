"""``python -m openpcf.demo``: calculate the four example models and print their results.

The examples are looked up in ``./examples`` first (running from a checkout), then next to the
source tree. Errors are not caught: in development they should surface.
"""

from __future__ import annotations

from pathlib import Path

from openpcf.cli.calc import render_table
from openpcf.core.results import FootprintResult
from openpcf.services.calculate import calculate

EXAMPLES = (
    "hot_rolled_coil_hebei.yaml",
    "hydrogen_alkaline_inner_mongolia.yaml",
    "lfp_battery_pack.yaml",
    "alkaline_electrolyser_stack.yaml",
)


def examples_dir() -> Path:
    """The examples folder: ``./examples`` if present, else the repository's."""
    here = Path("examples")
    if all((here / name).is_file() for name in EXAMPLES):
        return here
    return Path(__file__).resolve().parents[2] / "examples"


def summary(result: FootprintResult) -> str:
    stages = ", ".join(f"{s.replace('_', ' ')} {v:.4g}" for s, v in result.by_stage.items())
    return (
        f"{result.product}: {result.total:.4g} kg CO2e per {result.declared_amount:g} "
        f"{result.declared_unit} ({result.gwp}; {stages})"
    )


def main() -> None:
    folder = examples_dir()
    results = []
    for name in EXAMPLES:
        result = calculate(folder / name).result
        print(f"\n=== {name} ===")
        render_table(result)
        results.append(result)
    print("\nSummary")
    for result in results:
        print(f"  {summary(result)}")


if __name__ == "__main__":
    main()
