"""``openpcf batch``: many models or parameter sets, in processes or on a Dask cluster.

See ``docs/batch.md``, :mod:`openpcf.services.batch` and, for ``--slurm``,
:mod:`openpcf.services.batch_slurm`. The exit code is 0 when every item was calculated and 1
when any failed (each failure is listed); a batch that cannot start (no such file, no scheduler
answering, no SLURM workers within the timeout) is an error with exit code 2.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from openpcf.cli.options import (
    FactorsOpt,
    GwpOpt,
    JsonOpt,
    SolverOpt,
    calculation_options,
    progress_bar,
)

if TYPE_CHECKING:
    from openpcf.services.batch import BatchResult


def batch(
    source: Annotated[
        Path,
        typer.Argument(
            help="A folder of model files, or a CSV of items: a 'model' column, an optional "
            "'sku'/'name'/'id' column and one column per parameter.",
            show_default=False,
        ),
    ],
    model: Annotated[
        Path | None,
        typer.Option("--model", "-m", help="The model of every row, for a CSV without 'model'."),
    ] = None,
    workers: Annotated[
        int | None,
        typer.Option("--workers", "-w", help="Processes on this machine (default: CPU count)."),
    ] = None,
    scheduler: Annotated[
        str | None,
        typer.Option(
            "--scheduler",
            help="Calculate on the Dask cluster at this address (tcp://HOST:PORT); needs the "
            "dask extra.",
        ),
    ] = None,
    slurm: Annotated[
        int | None,
        typer.Option(
            "--slurm",
            help="Start this many SLURM jobs of Dask workers through dask-jobqueue, calculate "
            "on them and cancel them; needs the dask extra and sbatch.",
            show_default=False,
        ),
    ] = None,
    slurm_config: Annotated[
        Path | None,
        typer.Option(
            "--slurm-config",
            help="YAML file of the jobs' partition, account, walltime, cores, memory, "
            "prologue, interface/host (docs/batch.md).",
            show_default=False,
        ),
    ] = None,
    timeout: Annotated[
        float | None,
        typer.Option(
            "--timeout",
            help="Seconds to wait for the scheduler to answer (default 10), or for every "
            "--slurm worker to connect (default 300).",
            show_default=False,
        ),
    ] = None,
    gwp: GwpOpt = None,
    factors: FactorsOpt = None,
    solver: SolverOpt = "auto",
    as_json: JsonOpt = False,
    csv_out: Annotated[
        Path | None, typer.Option("--csv", help="Also write the results to this CSV file.")
    ] = None,
) -> None:
    """Calculate many models or parameter sets; results in input order."""
    from openpcf.services.batch import BatchOptions, read_batch, run_batch
    from openpcf.services.batch_slurm import read_slurm_config, run_batch_on_slurm

    if scheduler is not None and slurm is not None:
        raise typer.BadParameter(
            "--scheduler uses a running Dask cluster and --slurm starts one; give one of them"
        )
    cluster = "--scheduler" if scheduler is not None else "--slurm" if slurm is not None else None
    if cluster is not None and workers is not None:
        raise typer.BadParameter(
            f"--workers is for processes on this machine; drop it with {cluster} (the "
            "cluster has its own workers; with --slurm, set cores per job in --slurm-config)"
        )
    if slurm_config is not None and slurm is None:
        raise typer.BadParameter("--slurm-config describes the jobs of --slurm N; add --slurm")
    items = read_batch(source, default_model=model)
    shared = calculation_options(gwp, None, factors, solver)
    options = BatchOptions(
        gwp=shared.get("gwp"),
        factor_files=tuple(shared.get("factor_files", ())),
        backend=shared.get("backend", "auto"),
        settings=shared.get("settings"),
    )
    job_config = None if slurm_config is None else read_slurm_config(slurm_config)
    wait = {} if timeout is None else {"timeout": timeout}  # each executor has its default
    with progress_bar(f"{len(items)} items", enabled=not as_json) as progress:
        if slurm is not None:
            result = run_batch_on_slurm(
                items, options, jobs=slurm, config=job_config, progress=progress, **wait
            )
        else:
            result = run_batch(
                items, options, workers=workers, scheduler=scheduler, progress=progress, **wait
            )
    if csv_out is not None:
        write_csv(result, csv_out)
    if as_json:
        typer.echo(json.dumps(_to_json(result), indent=2, ensure_ascii=False))
    else:
        _render(result)
    if result.failed:
        raise typer.Exit(1)


def _to_json(result: BatchResult) -> dict[str, Any]:
    return {
        "executor": result.executor,
        "workers": result.workers,
        "items": [r.to_dict() for r in result.items],
        "failed": result.failed,
    }


def write_csv(result: BatchResult, path: Path) -> None:
    """One row per item: id, model, parameters (name=value; ...), total, stages, error."""
    stages = sorted({s for r in result.items for s in r.by_stage})
    with path.open("w", encoding="utf-8", newline="") as f:
        out = csv.writer(f)
        head = ["id", "model", "parameters", "kg_co2e", "declared_unit"]
        out.writerow([*head, *stages, "footprint_id", "error"])
        for r in result.items:
            out.writerow(
                [
                    r.id,
                    r.model,
                    "; ".join(f"{k}={v}" for k, v in r.parameters.items()),
                    "" if r.kg_co2e is None else repr(r.kg_co2e),
                    r.declared_unit or "",
                    *("" if s not in r.by_stage else repr(r.by_stage[s]) for s in stages),
                    r.footprint_id or "",
                    r.error or "",
                ]
            )


def _render(result: BatchResult) -> None:
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    table = Table(show_edge=False)
    for column in ("id", "parameters", "kg CO2e", "per", "footprint id / error"):
        table.add_column(column, justify="right" if column == "kg CO2e" else "left")
    for r in result.items:
        params = ", ".join(f"{k}={v}" for k, v in r.parameters.items())
        if r.ok:
            table.add_row(
                escape(r.id),
                escape(params),
                f"{r.kg_co2e:.6g}",
                escape(r.declared_unit or ""),
                r.footprint_id or "",
            )
        else:
            table.add_row(escape(r.id), escape(params), "", "", f"[red]{escape(r.error or '')}[/]")
    console = Console()
    console.print(table)
    ok = len(result.items) - result.failed
    console.print(
        f"{ok} of {len(result.items)} calculated on {escape(result.executor)} "
        f"({result.workers} worker{'s' if result.workers != 1 else ''})"
        + (f"; [red]{result.failed} failed[/]" if result.failed else "")
    )
