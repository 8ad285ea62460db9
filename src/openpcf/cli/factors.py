"""``openpcf factors``: find an emission factor and see where its number comes from.

Heavy imports (numpy via the GWP module, pint, yaml, rich tables) happen inside the command
bodies so that ``openpcf --help`` stays instant. Errors are not caught here: the main CLI
translates every :class:`~openpcf.errors.OpenPCFError` once.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from openpcf.cli.options import JsonOpt, echo_json

if TYPE_CHECKING:
    from openpcf.factors import Factor, FactorSet

app = typer.Typer(help="Find and explain emission factors.", no_args_is_help=True)

FactorsOption = Annotated[
    list[Path] | None,
    typer.Option(
        "--factors",
        help="Extra factor-set file (.csv/.yaml), merged with the bundled set. Repeatable.",
        exists=True,
        dir_okay=False,
    ),
]


def _factor_set(paths: list[Path] | None) -> FactorSet:
    """The factors a calculation may use: bundled, ``$OPENPCF_HOME/factors`` and ``paths``."""
    from openpcf.services.calculate import active_factor_set
    from openpcf.settings import get_settings

    return active_factor_set(factor_files=paths or [], settings=get_settings())


def _ar6(factor: Factor) -> float:
    from openpcf.methods.gwp import gwp_set

    return factor.co2e(gwp_set("AR6").values)


def _shorten(text: str, width: int = 48) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def _as_json(factor: Factor) -> dict[str, Any]:
    out = factor.canonical()
    out["set_name"] = factor.set_name
    out["kg_co2e_per_unit_ar6"] = _ar6(factor)
    return out


@app.command()
def search(
    query: Annotated[str, typer.Argument(help="Words that must all appear (English or 中文).")],
    category: Annotated[str | None, typer.Option(help="e.g. electricity, fuel.")] = None,
    geography: Annotated[str | None, typer.Option(help="e.g. CN, CN-HE, GLO.")] = None,
    year: Annotated[int | None, typer.Option(help="Reference year.")] = None,
    as_json: JsonOpt = False,
    factors: FactorsOption = None,
) -> None:
    """Search factors by id, name, Chinese name and geography."""
    found = _factor_set(factors).search(query, category=category, geography=geography, year=year)
    if as_json:
        echo_json([_as_json(f) for f in found])
        return
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    table = Table(title=escape(f"{len(found)} factor(s) matching {query!r}"))
    table.add_column("id", no_wrap=True)  # ids are copied into models: never break them
    table.add_column("name", ratio=2)
    table.add_column("unit", no_wrap=True)
    table.add_column("geo", no_wrap=True)
    table.add_column("year", no_wrap=True)
    table.add_column("kg CO2e/unit (AR6)", justify="right", no_wrap=True)
    table.add_column("source", ratio=1)
    for f in found:
        flag = " [yellow](illustrative)[/]" if f.illustrative else ""
        publisher = f.source.split(",")[0]
        table.add_row(
            escape(f.id),
            escape(f.name) + flag,
            escape(f.unit),
            escape(f.geography),
            str(f.year),
            f"{_ar6(f):.4g}",
            escape(_shorten(publisher, 32)),
        )
    Console().print(table)


@app.command()
def show(
    factor_id: Annotated[str, typer.Argument(metavar="ID", help="Factor id.")],
    as_json: JsonOpt = False,
    factors: FactorsOption = None,
) -> None:
    """Show every field of one factor, its gas amounts and its provenance."""
    factor = _factor_set(factors).get(factor_id)
    if as_json:
        echo_json(_as_json(factor))
        return
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    console = Console()
    console.print(
        f"[bold]{escape(factor.id)}[/]  {escape(factor.name)}  {escape(factor.name_zh)}".rstrip()
    )
    if factor.illustrative:
        console.print(
            "[bold yellow]Warning: illustrative value[/] - no open published figure; "
            "replace it with supplier or database data before publishing a footprint."
        )
    gases = Table(title=escape(f"Emissions per 1 {factor.unit}"))
    gases.add_column("gas")
    gases.add_column("kg per unit", justify="right")
    for gas, amount in sorted(factor.emissions.items()):
        gases.add_row(escape(gas), f"{amount:.6g}")
    gases.add_row("[bold]CO2e (AR6)[/]", f"[bold]{_ar6(factor):.6g}[/]")
    console.print(gases)
    info = Table(show_header=False, title="Provenance")
    info.add_column("field", style="bold")
    info.add_column("value", overflow="fold")
    rows = [
        ("category", factor.category),
        ("geography", factor.geography),
        ("year", str(factor.year)),
        ("source", factor.source),
        ("licence", factor.licence),
        ("GWP basis", factor.gwp_basis or "-"),
        ("NCV (MJ/kg)", "-" if factor.ncv_mj_per_kg is None else f"{factor.ncv_mj_per_kg:g}"),
        ("notes", factor.notes or "-"),
        ("factor set", factor.set_name or "-"),
    ]
    for name, value in rows:
        info.add_row(name, escape(value))
    console.print(info)


@app.command()
def derive(
    databases: Annotated[list[str], typer.Argument(help="Imported database(s), name[@version].")],
    select: Annotated[
        Path | None,
        typer.Option(
            help="Curation CSV: which process stands for which material (docs/factors.md). "
            "Without it, every activity becomes a row.",
            dir_okay=False,
        ),
    ] = None,
    output: Annotated[
        Path | None,
        typer.Option(
            "--output",
            "-o",
            help="CSV to write; the licences go to <name>.licences.txt next to it. "
            "Default: the CSV on standard output.",
            dir_okay=False,
        ),
    ] = None,
) -> None:
    """Derive a factor set (cradle-to-gate per-gas intensities) from imported databases."""
    from openpcf.factors.derive import read_selection, render_derived_csv
    from openpcf.io.store import DatabaseStore
    from openpcf.services.derive import derive_factor_set, licence_text
    from openpcf.settings import get_settings

    selection = read_selection(select) if select is not None else None
    store = DatabaseStore(get_settings().databases_dir)
    derived = derive_factor_set(databases, selection, store=store)
    text = render_derived_csv(derived.rows)
    if output is None:
        typer.echo(text, nl=False)
        return
    output.write_text(text, encoding="utf-8", newline="")
    licences = output.with_name(f"{output.stem}.licences.txt")
    licences.write_text(licence_text(derived), encoding="utf-8", newline="")
    gaps = (
        f"; {len(derived.gaps)} curated material(s) without an open source" if derived.gaps else ""
    )
    typer.echo(
        f"Wrote {len(derived.rows)} factor row(s) to {output} and {licences.name}{gaps}.", err=True
    )
