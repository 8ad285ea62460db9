"""``openpcf audit``: the append-only, hash-chained audit trail of calculations."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from openpcf.cli.options import JsonOpt, echo_json

app = typer.Typer(help="The append-only, hash-chained audit trail of calculations.")

TrailOpt = Annotated[
    Path | None,
    typer.Option("--trail", help="Trail file (default $OPENPCF_HOME/audit/trail.jsonl)."),
]


@app.command("verify")
def audit_verify(trail: TrailOpt = None) -> None:
    """Check every record: detects edited, deleted, reordered or inserted records."""
    from openpcf.audit import verify_trail
    from openpcf.settings import get_settings

    report = verify_trail(trail or get_settings().audit_trail)
    typer.echo(f"{report.path}: {report.records} record(s), chain intact, head {report.head[:16]}")


@app.command("list")
def audit_list(
    trail: TrailOpt = None,
    limit: Annotated[int, typer.Option("--limit", "-n", help="Last N records (0: all).")] = 20,
    as_json: JsonOpt = False,
) -> None:
    """List recorded calculations (unchecked; run `openpcf audit verify`)."""
    from openpcf.audit import list_records
    from openpcf.settings import get_settings

    records = list_records(trail or get_settings().audit_trail)
    shown = records[-limit:] if limit else records
    if as_json:
        echo_json([r.to_dict() for r in shown])
        return
    for r in shown:
        d = r.data
        typer.echo(
            f"{r.seq:5}  {r.time}  {r.kind:12}  {d.get('product', '')}: "
            f"{d.get('kg_co2e', '')} kg CO2e  model {str(d.get('model_sha256', ''))[:12]}  "
            f"{r.hash[:12]}"
        )
