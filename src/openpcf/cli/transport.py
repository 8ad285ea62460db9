"""``openpcf transport``: ISO 14083 emissions of a shipment or an order book.

Heavy imports happen inside the command; errors are translated by the main CLI.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal

import typer

from openpcf.cli.options import echo_json

if TYPE_CHECKING:
    from openpcf.logistics import ShipmentResult

app = typer.Typer(help="Transport emissions per ISO 14083 / GLEC.", no_args_is_help=True)

Format = Literal["table", "json"]


@app.callback()
def transport() -> None:
    """Transport emissions per ISO 14083 / GLEC (a group, so that ``calc`` stays a subcommand)."""


@app.command()
def calc(
    file: Annotated[
        Path,
        typer.Argument(help="Shipment YAML, or order-book CSV of shipments.", dir_okay=False),
    ],
    output: Annotated[Format, typer.Option("--format", help="table or json.")] = "table",
) -> None:
    """Compute a shipment (per leg and hub, WTT/TTW/WTW) or every order of an order book."""
    from openpcf.logistics import calculate_file, calculate_order_book

    if file.suffix.lower() == ".csv":
        book = calculate_order_book(file)
        if output == "json":
            data = {
                "order_book": str(file),
                "orders": [{"order": o, **r.to_dict()} for o, r in book.orders],
                "total": {"wtw_kg": book.wtw_kg, "unit": "kg CO2e"},
            }
            echo_json(data)
            return
        for order, result in book.orders:
            _print(result, title=f"Order {order}")
        typer.echo(f"Order book total: {book.wtw_kg:,.2f} kg CO2e (WTW)")
        return
    result = calculate_file(file)
    if output == "json":
        echo_json(result.to_dict())
        return
    _print(result, title=f"Shipment {result.shipment}")


def _kg(x: float | None) -> str:
    return "n/a" if x is None else f"{x:,.2f}"


def _print(result: ShipmentResult, *, title: str) -> None:
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    table = Table(title=escape(f"{title}: {result.cargo_t:g} t cargo (kg CO2e)"))
    for name, justify in [
        ("#", "right"),
        ("element", "left"),
        ("mode", "left"),
        ("km", "right"),
        ("activity", "right"),
        ("intensity method", "left"),
        ("WTT", "right"),
        ("TTW", "right"),
        ("WTW", "right"),
    ]:
        table.add_column(name, justify=justify)  # type: ignore[arg-type]
    for e in result.elements:
        table.add_row(
            str(e.index),
            escape(e.name or e.category or e.kind),
            escape(e.mode),
            "" if e.distance_km is None else f"{e.distance_km:,.1f}",
            escape(f"{e.activity:,.1f} {e.activity_unit}"),
            escape(e.intensity.method),
            _kg(e.wtt_kg),
            _kg(e.ttw_kg),
            _kg(e.wtw_kg),
        )
    table.add_row(
        "", "[bold]total[/]", "", "", "", "", _kg(result.wtt_kg), _kg(result.ttw_kg),
        f"[bold]{_kg(result.wtw_kg)}[/]",
    )  # fmt: skip
    console = Console()
    console.print(table)
    console.print(
        f"Total: WTW {_kg(result.wtw_kg)} kg CO2e (WTT {_kg(result.wtt_kg)}, "
        f"TTW {_kg(result.ttw_kg)})",
        markup=False,
    )
    if result.notes:  # what was done to a source's value: an uplift, a region, a grid's scope
        console.print("[bold]Notes[/]")
        for note in result.notes:
            console.print(f"  - {note}", markup=False)
    console.print("[bold]Methods[/]")
    for method in result.methods:
        console.print(f"  - {method}", markup=False)
    console.print("[bold]Sources[/]")
    for source in result.sources:
        console.print(f"  - {source}", markup=False)
    if result.warnings:
        console.print("[bold yellow]Warnings[/]")
        for warning in result.warnings:
            console.print(f"  - {warning}", markup=False)
