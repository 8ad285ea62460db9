"""``openpcf report``: the ISO 14067 CFP study report of a model, as HTML or PDF."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from openpcf.cli.calc import calculate_model
from openpcf.cli.options import (
    BackgroundElectricityOpt,
    FactorsOpt,
    GwpOpt,
    ModelArg,
    ParamOpt,
    RuleFilesOpt,
    RulesOpt,
    SolverOpt,
)


def report(
    model: ModelArg,
    output: Annotated[
        Path, typer.Option("--output", "-o", help="Report file to write.", show_default=False)
    ],
    fmt: Annotated[str, typer.Option("--format", "-f", help="html or pdf.")] = "html",
    lang: Annotated[
        str, typer.Option("--lang", help="en (English) or zh (Simplified Chinese).")
    ] = "en",
    gwp: GwpOpt = None,
    param: ParamOpt = None,
    factors: FactorsOpt = None,
    solver: SolverOpt = "auto",
    fallback_font: Annotated[
        list[Path] | None,
        typer.Option(
            "--fallback-font",
            help="Font for characters outside the bundled Chinese font (PDF; give a Regular and "
            "optionally a Bold). Default: Debian's fonts-noto-cjk where installed.",
        ),
    ] = None,
    background_electricity: BackgroundElectricityOpt = None,
    rules: RulesOpt = None,
    rule_file: RuleFilesOpt = None,
) -> None:
    """Write the CFP study report (ISO 14067:2018 clause 7) of a product model."""
    import warnings

    from openpcf.reports import ReportError, build_report_data, check_format, render, write_report
    from openpcf.reports.fonts import MissingGlyphWarning
    from openpcf.reports.i18n import check_language
    from openpcf.reports.output import check_writable

    # Check what is cheap to check before calculating; nothing is written until the end.
    check_format(fmt)
    check_language(lang)
    check_writable(output)
    for font in fallback_font or ():
        if not font.is_file():
            raise ReportError(f"--fallback-font {font}: no such file")
    calculation = calculate_model(
        model,
        gwp,
        param,
        factors,
        solver,
        command="report",
        background_electricity=background_electricity,
        rules=rules,
        rule_files=rule_file,
    )
    data = build_report_data(calculation, lang=lang)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", MissingGlyphWarning)
        content = render(data, fmt, fallback_fonts=fallback_font or None)
    for warning in caught:  # e.g. a character no font has: say so, the report is still written
        if issubclass(warning.category, MissingGlyphWarning):
            typer.echo(f"warning: {warning.message}", err=True)
        else:
            warnings.warn_explicit(
                warning.message, warning.category, warning.filename, warning.lineno
            )
    path = write_report(output, content)
    typer.echo(f"{path}: {fmt.upper()} report ({lang}), {data.total.text} {data.per_unit}")
