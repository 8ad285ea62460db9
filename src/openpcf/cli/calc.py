"""``openpcf calc`` and ``openpcf validate``."""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from openpcf.cli.options import (
    BackgroundElectricityOpt,
    FactorsOpt,
    GwpOpt,
    ModelArg,
    PactBoundary,
    PactBoundaryOpt,
    ParamOpt,
    RuleFilesOpt,
    RulesOpt,
    SolverOpt,
    calculation_options,
)

if TYPE_CHECKING:
    from openpcf.core.results import FootprintResult
    from openpcf.model.calculation import Calculation


class Format(StrEnum):
    table = "table"
    json = "json"
    pact = "pact"


def calculate_model(
    model: Path,
    gwp: str | None,
    param: list[str] | None,
    factors: list[Path] | None,
    solver: str = "auto",
    *,
    command: str,
    background_electricity: str | None = None,
    rules: str | None = None,
    rule_files: list[Path] | None = None,
) -> Calculation:
    """Calculate ``model`` with the shared options; the audit trail records ``command``."""
    from openpcf.services.calculate import calculate

    options = calculation_options(
        gwp, param, factors, solver, background_electricity, rules=rules, rule_files=rule_files
    )
    return calculate(model, audit={"command": command}, **options)


def calc(
    model: ModelArg,
    gwp: GwpOpt = None,
    param: ParamOpt = None,
    fmt: Annotated[Format, typer.Option("--format", "-f", help="Output format.")] = Format.table,
    factors: FactorsOpt = None,
    solver: SolverOpt = "auto",
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write to this file instead of stdout.")
    ] = None,
    pact_version: Annotated[
        str, typer.Option("--pact-version", help="PACT version for --format pact: 3 or 2.")
    ] = "3",
    pact_boundary: PactBoundaryOpt = PactBoundary.cradle_to_gate,
    background_electricity: BackgroundElectricityOpt = None,
    rules: RulesOpt = None,
    rule_file: RuleFilesOpt = None,
) -> None:
    """Calculate the carbon footprint of a product model, per declared unit."""
    calculation = calculate_model(
        model,
        gwp,
        param,
        factors,
        solver,
        command="calc",
        background_electricity=background_electricity,
        rules=rules,
        rule_files=rule_file,
    )
    if fmt is Format.table:
        text = None
        render_table(calculation.result)
        if calculation.conformance is not None:
            from openpcf.cli.rules import render_conformance

            render_conformance(calculation.conformance, summary=True)
    elif fmt is Format.json:
        from openpcf.model.result_json import result_to_dict

        data = result_to_dict(calculation.result)
        if calculation.conformance is not None:
            from openpcf.services.rules import conformance_dict

            data["conformance"] = conformance_dict(calculation.conformance)
        text = json.dumps(data, indent=2, ensure_ascii=False)
    else:
        from openpcf.exchange.pact import product_footprint

        if pact_version not in ("3", "2"):
            raise typer.BadParameter("--pact-version is 3 or 2")
        doc = product_footprint(
            calculation,
            version="3" if pact_version == "3" else "2",
            boundary=pact_boundary.value,
        )
        text = json.dumps(doc, indent=2, ensure_ascii=False)
    if text is not None:
        if output:
            output.write_text(text + "\n", encoding="utf-8")
        else:
            typer.echo(text)


def validate(
    model: ModelArg,
    gwp: GwpOpt = None,
    param: ParamOpt = None,
    factors: FactorsOpt = None,
    solver: SolverOpt = "auto",
    background_electricity: BackgroundElectricityOpt = None,
    rules: RulesOpt = None,
    rule_file: RuleFilesOpt = None,
) -> None:
    """Check a model file: schema, references, units, parameters and solvability."""
    calculation = calculate_model(
        model,
        gwp,
        param,
        factors,
        solver,
        command="validate",
        background_electricity=background_electricity,
        rules=rules,
        rule_files=rule_file,
    )
    compiled = calculation.compiled
    typer.echo(
        f"{model}: valid — {len(compiled.columns)} activities, {len(compiled.factors)} "
        f"background factors, {len(compiled.entries)} exchanges, "
        f"{len(compiled.parameters)} parameters"
    )
    for note in calculation.result.notes:  # e.g. a nearly singular system: valid, but say so
        if note.startswith("warning:"):
            typer.echo(note, err=True)


def render_table(result: FootprintResult, *, top: int = 8) -> None:
    """Human summary: total, stages, gases, fossil/biogenic split, top contributors, quality.

    Every text from the model or a factor set is escaped: rich reads ``[...]`` as markup, so a
    product named ``Widget [/red]`` crashed the table with a MarkupError (issue 11, item 12).
    """
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    console = Console()
    unit = escape(f"kg CO2e per {result.declared_amount:g} {result.declared_unit}")
    console.print(
        f"[bold]{escape(result.product)}[/bold]: [bold green]{result.total:.4g}[/] {unit} "
        f"({escape(result.gwp)})"
    )

    stages = Table(title="By life-cycle stage", show_edge=False)
    stages.add_column("stage")
    stages.add_column("kg CO2e", justify="right")
    stages.add_column("share", justify="right")
    for stage, value in result.by_stage.items():
        stages.add_row(escape(stage.replace("_", " ")), f"{value:.4g}", _pct(value, result.total))
    console.print(stages)

    gases = Table(title="By gas", show_edge=False)
    for col in ("gas", "kg", "kg CO2e", "share"):
        gases.add_column(col, justify="left" if col == "gas" else "right")
    for gas, kg in result.by_gas_kg.items():
        if kg:
            co2e = result.by_gas_co2e[gas]
            gases.add_row(escape(gas), f"{kg:.4g}", f"{co2e:.4g}", _pct(co2e, result.total))
    console.print(gases)

    split = Table(title="Fossil and biogenic (ISO 14067 7.2, PACT v3)", show_edge=False)
    split.add_column("part")
    split.add_column("kg CO2e", justify="right")
    for label, value in (
        ("fossil GHG emissions", result.fossil),
        ("biogenic emissions", result.biogenic),
        ("biogenic CO2 uptake", result.uptake),
        ("direct land-use change", result.luc),
        ("aircraft (included above)", result.aircraft),
        ("PCF excluding biogenic uptake", result.pcf_excluding_biogenic_uptake),
        ("PCF including biogenic uptake", result.pcf_including_biogenic_uptake),
    ):
        split.add_row(label, f"{value:.4g}")
    console.print(split)

    contributors = Table(title=f"Top {top} contributors", show_edge=False)
    for col in ("process", "exchange", "amount", "kg CO2e", "share"):
        contributors.add_column(col, justify="right" if col in {"kg CO2e", "share"} else "left")
    for e in (x for x in result.top_contributors(top) if x.co2e):
        contributors.add_row(
            escape(e.process),
            escape(e.label),
            escape(f"{e.amount:.4g} {e.unit}"),
            f"{e.co2e:.4g}",
            _pct(e.co2e, result.total),
        )
    console.print(contributors)

    q = result.quality
    console.print(
        f"Data quality (1 best – 5 worst): technological {q.technological:.2f}, geographical "
        f"{q.geographical:.2f}, temporal {q.temporal:.2f} → {q.label}; pedigree coverage "
        f"{q.coverage:.0%}. Primary data share {result.primary_data_share:.1f} %."
    )
    for note in result.notes:
        console.print(f"[yellow]note:[/yellow] {escape(note)}", highlight=False, markup=True)


def _pct(value: float, total: float) -> str:
    return f"{100 * value / total:.1f} %" if total else "–"
