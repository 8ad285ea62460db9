"""``openpcf suppliers import FILE``: import a supplier's answered questionnaire workbook.

See :mod:`openpcf.cli.suppliers` for the group and :mod:`openpcf.services.supplier_answers`
for what is checked. Bad input (every problem with sheet, cell and reason, a workbook of
another request or template version, a request that takes no answer) exits 2 and writes
nothing.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from openpcf.cli.options import JsonOpt, echo_json, open_database
from openpcf.errors import InputError


def register(app: typer.Typer) -> None:
    """Add this module's commands to ``openpcf suppliers``."""
    app.command("import")(import_)


def import_(
    file: Annotated[
        Path,
        typer.Argument(help="The answered questionnaire workbook (.xlsx).", show_default=False),
    ],
    json_output: JsonOpt = False,
) -> None:
    """Check an answered questionnaire and keep it as the request's supplier footprint.

    The request moves to ``answered``; accept or reject it with the request commands.
    """
    from rich.console import Console

    from openpcf.db.base import utcnow
    from openpcf.files.bounded import read_bounded
    from openpcf.services.supplier_answers import import_answer
    from openpcf.suppliers.answers import MAX_BYTES

    data = read_bounded(file, limit=MAX_BYTES, error=InputError)
    engine = open_database()
    if engine is None:  # pragma: no cover - create=True always gives one
        raise InputError("the database cannot be opened")
    try:
        done = import_answer(data, name=str(file), engine=engine, now=utcnow())
    finally:
        engine.dispose()
    if json_output:
        echo_json(done.as_dict())
        return
    console = Console()
    console.print(f"[bold]request[/bold]   {done.request_id} ({done.organisation})")
    console.print(f"[bold]supplier[/bold]  {done.supplier}")
    console.print(f"[bold]material[/bold]  {done.material_name} ({done.material})")
    console.print(f"[bold]product[/bold]   {done.product_name}")
    console.print(
        f"[bold]PCF[/bold]       {done.pcf} kg CO2e per {done.declared_unit} "
        f"(footprint {done.footprint_id}, origin questionnaire)"
    )
    console.print(f"[bold]status[/bold]    [green]{done.status}[/green]")
