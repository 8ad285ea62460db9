"""(being written) commands of ``openpcf suppliers``; see :mod:`openpcf.cli.suppliers`."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Add this module's commands to ``openpcf suppliers``."""
    del app
