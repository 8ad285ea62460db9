"""``openpcf compare``: one model under two methodologies, and the difference decomposed.

Each side is the model as written plus ``KEY=VALUE`` choices (``--a``, ``--b``, repeatable);
the difference is split into the effect of each dimension (switched one at a time from A, in
the fixed order of :data:`openpcf.rules.compare.DIMENSIONS`) and their interaction, which sum
to the difference exactly. See ``docs/compare.md``.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from openpcf.cli.options import (
    JsonOpt,
    ModelArg,
    ParamOpt,
    RuleFilesOpt,
    SolverOpt,
    calculation_options,
    echo_json,
)

if TYPE_CHECKING:
    from openpcf.rules.compare import Comparison

_KEYS_HELP = (
    "rules=ID, gwp=AR5, allocation=METHOD (every multi-output process), "
    "allocation.PROCESS=METHOD, electricity=location|market|market:CLAIMS.yaml, "
    "recycled=cut-off|50-50|cff, cutoff=PERCENT or PERCENT/TOTAL, boundary=cradle-to-gate|..., "
    "factors=FILE"
)
SideAOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--a",
        help=f"A choice of methodology A, KEY=VALUE (repeatable): {_KEYS_HELP}. "
        "None: the model as written.",
    ),
]
SideBOpt = Annotated[
    list[str] | None,
    typer.Option("--b", help="A choice of methodology B, KEY=VALUE (repeatable; keys as --a)."),
]
ReportOpt = Annotated[
    Path | None,
    typer.Option(
        "--report",
        help="Also write the table and a waterfall chart: FILE.html (a self-contained page) "
        "or FILE.svg (the chart).",
    ),
]


def compare(
    model: ModelArg,
    a: SideAOpt = None,
    b: SideBOpt = None,
    param: ParamOpt = None,
    rule_file: RuleFilesOpt = None,
    solver: SolverOpt = "auto",
    report: ReportOpt = None,
    json_output: JsonOpt = False,
) -> None:
    """The same product under two methodologies: both footprints and the difference
    decomposed into the effect of each choice (factors, gwp, allocation, electricity, recycled
    content, cut-off, boundary; one at a time from A) plus their interaction."""
    from openpcf.errors import InputError
    from openpcf.rules.compare import parse_side
    from openpcf.services.compare import compare_methodologies

    if report is not None and report.suffix.lower() not in (".html", ".htm", ".svg"):
        raise typer.BadParameter(f"--report {report}: give a .html or .svg file")
    try:
        side_a = parse_side(a or [], label="A", option="--a")
        side_b = parse_side(b or [], label="B", option="--b")
    except InputError as e:
        raise typer.BadParameter(str(e)) from None
    options = calculation_options(None, param, None, solver, rule_files=rule_file)
    comparison = compare_methodologies(model, side_a, side_b, **options)
    if report is not None:
        _write_report(comparison, report, model)
    if json_output:
        echo_json(comparison.to_dict())
    else:
        render(comparison)
    if report is not None and not json_output:
        typer.echo(f"report written to {report}")


def _write_report(c: Comparison, path: Path, model: Path) -> None:
    from openpcf.files.durable import atomic_write
    from openpcf.reports.compare import html_page, standalone_svg

    text = standalone_svg(c) if path.suffix.lower() == ".svg" else html_page(c, model=model.name)
    atomic_write(path, text.encode())


def render(c: Comparison) -> None:
    """Both totals, each dimension's effect (kg and share of the difference), the interaction
    and the check line."""
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    console = Console(soft_wrap=True, highlight=False)
    for label, total, lines in (
        (c.a_label, c.a_total, c.a_description),
        (c.b_label, c.b_total, c.b_description),
    ):
        console.print(f"[bold]{label}[/bold]: {total:.4f} {escape(c.unit)}")
        for line in lines:
            console.print(f"  {escape(line)}")
    console.print(f"difference {c.b_label} - {c.a_label}: {c.difference:+.4f} {escape(c.unit)}")
    table = Table(title=f"effect of each choice, one at a time from {c.a_label}")
    table.add_column("dimension")
    table.add_column(c.a_label, overflow="fold")
    table.add_column(c.b_label, overflow="fold")
    table.add_column("effect kg CO2e", justify="right")
    table.add_column("% of difference", justify="right")
    for e in c.effects:
        table.add_row(
            escape(e.dimension),
            escape(e.a_value),
            escape(e.b_value),
            f"{e.effect:+.4f}",
            _pct(e.share),
        )
    table.add_row("interaction", "", "", f"{c.interaction:+.4f}", _pct(c.interaction_share))
    console.print(table)
    console.print(
        f"check: sum of effects = difference: {c.explained:+.4f} = {c.difference:+.4f} "
        f"(order: {', '.join(c.order)})"
    )


def _pct(share: float | None) -> str:
    return "–" if share is None else f"{share * 100:+.1f} %"


__all__ = ["compare", "render"]
