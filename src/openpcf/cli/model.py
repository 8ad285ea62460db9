"""``openpcf model``: start a product model from a bill of materials.

``from-bom`` reads the BOM (CSV or xlsx, columns in English or Chinese), shows the ranked
factors of the active factor set for each line and writes a model for the chosen ones:
``--accept-best`` takes each line's first candidate; on a terminal, without it, each line is
confirmed in turn; otherwise the proposals are shown and nothing is written. Lines without a
candidate (see :data:`openpcf.factors.matching.THRESHOLD`) are written as comments and listed
as unmatched. Errors are not caught here: the main CLI translates them (exit 2 for a bad BOM).
"""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from openpcf.cli.options import FactorsOpt, JsonOpt, echo_json

if TYPE_CHECKING:
    from openpcf.model.bom import Proposal

app = typer.Typer(help="Start product models.", no_args_is_help=True)


@app.command("from-bom")
def from_bom(
    bom: Annotated[
        Path,
        typer.Argument(help="Bill of materials: .csv or .xlsx.", exists=True, dir_okay=False),
    ],
    product: Annotated[str | None, typer.Option(help="Product name (default: the file's).")] = None,
    org: Annotated[str, typer.Option(help="Company name written into the model.")] = (
        "OpenPCF user"
    ),
    geography: Annotated[str, typer.Option(help="Where the product is made; ranks factors.")] = (
        "CN"
    ),
    year: Annotated[int | None, typer.Option(help="Reference year (default: last year).")] = None,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write the model here (default: stdout).")
    ] = None,
    accept_best: Annotated[
        bool, typer.Option("--accept-best", help="Take each line's best candidate.")
    ] = False,
    as_json: JsonOpt = False,
    factors: FactorsOpt = None,
) -> None:
    """Propose factors for each BOM line and write a product model for the chosen ones."""
    from openpcf.files.bounded import read_bounded
    from openpcf.model.bom import MAX_BYTES, BomError, ModelHeader, best_choices
    from openpcf.services.bom import bom_proposals, model_from_choices
    from openpcf.services.calculate import active_factor_set
    from openpcf.settings import get_settings

    data = read_bounded(bom, limit=MAX_BYTES, error=BomError)
    active = active_factor_set(factor_files=factors or [], settings=get_settings())
    parsed, proposals = bom_proposals(data, name=bom.name, factors=active, geography=geography)
    interactive = not accept_best and not as_json and sys.stdin.isatty()
    if as_json or not (accept_best or interactive):
        _show(proposals, as_json=as_json)
        if not as_json:
            typer.echo("Nothing written: add --accept-best, or run on a terminal to choose.")
        return
    choices: dict[int, str | None]
    if accept_best:
        choices = {row: (c.factor.id if c else None) for row, c in best_choices(proposals).items()}
    else:
        choices = {p.line.row: _ask(p) for p in proposals}
    header = ModelHeader(
        product=product or bom.stem,
        organisation=org,
        geography=geography,
        year=year or dt.date.today().year - 1,
    )
    written = model_from_choices(parsed, proposals, choices, header=header)
    if output is None:
        typer.echo(written.text, nl=False)
    else:
        from openpcf.files.durable import atomic_write

        atomic_write(output, written.text.encode("utf-8"))
        typer.echo(f"{output}: {written.matched} line(s) matched", err=True)
    if written.unmatched:
        rows = ", ".join(map(str, written.unmatched))
        typer.echo(
            f"unmatched BOM rows (written as comments, add their factors by hand): {rows}",
            err=True,
        )


def _show(proposals: tuple[Proposal, ...], *, as_json: bool) -> None:
    from openpcf.services.bom import co2e_ar6

    if as_json:
        echo_json(
            [
                {
                    "row": p.line.row,
                    "part": p.line.part,
                    "material": p.line.material,
                    "mass": p.line.mass,
                    "unit": p.line.unit,
                    "supplier": p.line.supplier,
                    "candidates": [
                        {
                            "id": c.factor.id,
                            "name": c.factor.name,
                            "name_zh": c.factor.name_zh,
                            "score": c.score,
                            "unit": c.factor.unit,
                            "kg_co2e_per_unit_ar6": co2e_ar6(c),
                            "source": c.factor.source,
                        }
                        for c in p.candidates
                    ],
                }
                for p in proposals
            ]
        )
        return
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    console = Console()
    for p in proposals:
        line = p.line
        title = f"row {line.row}: {line.part} / {line.material}, {line.mass:g} {line.unit}"
        if not p.candidates:
            console.print(escape(title) + "  [yellow]no factor matched (unmatched)[/]")
            continue
        table = Table(title=escape(title), title_justify="left")
        table.add_column("#", justify="right")
        table.add_column("id", no_wrap=True)
        table.add_column("name", ratio=2)
        table.add_column("score", justify="right")
        table.add_column("kg CO2e/unit (AR6)", justify="right", no_wrap=True)
        table.add_column("source", ratio=1)
        for n, c in enumerate(p.candidates, start=1):
            f = c.factor
            name = f"{f.name} {f.name_zh}".strip()
            table.add_row(
                str(n),
                escape(f.id),
                escape(name),
                f"{c.score:.2f}",
                f"{co2e_ar6(c):.4g} /{escape(f.unit)}",
                escape(f.source.split(",")[0][:40]),
            )
        console.print(table)


def _ask(proposal: Proposal) -> str | None:
    """Show one line's candidates and ask which to take (0: leave it unmatched)."""
    _show((proposal,), as_json=False)
    if not proposal.candidates:
        return None
    n = len(proposal.candidates)
    pick = typer.prompt(f"take which (1-{n}, 0 = leave unmatched)", default=1, type=int)
    while not 0 <= pick <= n:
        pick = typer.prompt(f"a number from 0 to {n}", default=1, type=int)
    return proposal.candidates[pick - 1].factor.id if pick else None
