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
    """Check every record: detects edited, deleted, reordered or inserted records.

    What an interrupted append left at the end (a killed process, a full disk) is not
    tampering: it is named, and the next append or `openpcf audit repair` records its recovery.
    """
    from openpcf.audit import verify_trail
    from openpcf.settings import get_settings

    report = verify_trail(trail or get_settings().audit_trail)
    typer.echo(f"{report.path}: {report.records} record(s), chain intact, head {report.head[:16]}")
    if report.artefact is not None:
        typer.echo(
            f"  an interrupted append left {report.artefact}: the next append or "
            "`openpcf audit repair` recovers it with a recorded repair"
        )


@app.command("repair")
def audit_repair(trail: TrailOpt = None) -> None:
    """Recover what an interrupted append left, with a `repair` record naming it.

    Checks the whole chain first and refuses a tampered trail (exit 21): a repair never
    rewrites history, it adopts a complete record whose anchor was not written and moves the
    bytes of a torn last line aside into a repair file.
    """
    from openpcf.audit import repair_trail
    from openpcf.settings import get_settings

    path = trail or get_settings().audit_trail
    record = repair_trail(path)
    if record is None:
        typer.echo(f"{path}: nothing to repair")
        return
    typer.echo(f"{path}: recovered an interrupted append, recorded as record {record.seq}")
    adopted = record.data.get("adopted")
    if adopted:
        start, end = adopted["bytes"]
        typer.echo(
            f"  adopted record {adopted['seq']} ({adopted['hash'][:16]}, bytes {start}..{end})"
        )
    for moved in record.data.get("moved_aside", []):
        start, end = moved["bytes"]
        typer.echo(
            f"  moved bytes {start}..{end} (sha256 {moved['sha256'][:16]}) aside to {moved['file']}"
        )


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
