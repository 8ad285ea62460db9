"""(being written) ``openpcf dossier``: the export compliance dossier per SKU and market."""

from __future__ import annotations

import typer

app = typer.Typer(help="The export compliance dossier per SKU and market.", no_args_is_help=True)
