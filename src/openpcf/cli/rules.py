"""``openpcf rules list|show`` and ``openpcf check``: sector rules as executable checks.

``check`` exits 0 when the model conforms, 5 when there are only warnings, 6 when a clause
is violated (errors), so a build or a review script can gate on it.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from openpcf.cli.options import (
    FactorsOpt,
    GwpOpt,
    JsonOpt,
    ModelArg,
    ParamOpt,
    RuleFilesOpt,
    RulesOpt,
    SolverOpt,
    calculation_options,
    echo_json,
)

if TYPE_CHECKING:
    from openpcf.model.conformance import Conformance

app = typer.Typer(help="Browse the sector calculation rule sets.", no_args_is_help=True)

#: ``openpcf check`` exit codes
EXIT_WARNINGS = 5
EXIT_ERRORS = 6

LangOpt = Annotated[str, typer.Option("--lang", help="en (English) or zh (简体中文).")]


def _folders() -> list[Path]:
    """The user's own rule sets: ``$OPENPCF_HOME/rules``."""
    from openpcf.settings import get_settings

    return [get_settings().rules_dir]


@app.command("list")
def list_rules(rule_file: RuleFilesOpt = None, json_output: JsonOpt = False) -> None:
    """The rule sets a model can name (bundled, $OPENPCF_HOME/rules, --rule-file)."""
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    from openpcf.services.rules import list_rule_sets, rule_set_dict

    found = list_rule_sets(_folders(), rule_file or ())
    if json_output:
        echo_json([rule_set_dict(r) | {"clauses": len(r.rules.clauses)} for r in found])
        return
    table = Table(title=f"{len(found)} rule sets")
    for name in ("id", "version", "product", "产品", "CN", "clauses", "from"):
        table.add_column(name)
    for r in found:
        cls = r.rules.product_class
        table.add_row(
            r.rules.id,
            r.rules.version,
            escape(cls.name.en),
            escape(cls.name.zh),
            ", ".join(cls.cn_codes),
            str(len(r.rules.clauses)),
            "bundled" if r.bundled else escape(str(r.doc.path)),
        )
    Console(soft_wrap=True).print(table)


@app.command("show")
def show(
    rule_set: Annotated[str, typer.Argument(help="Rule set id (or id@version).")],
    lang: LangOpt = "en",
    rule_file: RuleFilesOpt = None,
    json_output: JsonOpt = False,
) -> None:
    """Every clause of a rule set: what it requires, its source, whether it changes the
    calculation."""
    from openpcf.rules.check import source_text
    from openpcf.services.rules import get_rule_set, rule_set_dict

    r = get_rule_set(rule_set, _folders(), rule_file or ())
    if json_output:
        echo_json(rule_set_dict(r))
        return
    zh = lang == "zh"
    rs = r.rules
    typer.echo(f"{rs.id}@{rs.version}: {rs.title.zh if zh else rs.title.en}")
    typer.echo(rs.summary.zh if zh else rs.summary.en)
    typer.echo("documents: " + "; ".join(rs.documents))
    for c in rs.clauses:
        applies = getattr(c, "applies", None)
        tail = f" [calc --rules applies: {applies}]" if applies not in (None, False) else ""
        typer.echo(f"\n{c.id} ({c.kind}, {c.severity}){tail}")
        typer.echo(f"  {c.requirement.zh if zh else c.requirement.en}")
        typer.echo(f"  source: {source_text(c.source)}")


def check(
    model: ModelArg,
    rules: RulesOpt = None,
    rule_file: RuleFilesOpt = None,
    gwp: GwpOpt = None,
    param: ParamOpt = None,
    factors: FactorsOpt = None,
    solver: SolverOpt = "auto",
    lang: LangOpt = "en",
    json_output: JsonOpt = False,
) -> None:
    """Check a model against its product's rule set: every violation with file, line and
    process, the clause and its source, and a fix hint. Exit 0 conforms, 5 warnings, 6 errors."""
    from openpcf.services.rules import check_model, conformance_dict

    options = calculation_options(gwp, param, factors, solver, rules=rules, rule_files=rule_file)
    conformance = check_model(model, **options)
    if json_output:
        echo_json(conformance_dict(conformance))
    else:
        render_conformance(conformance, zh=lang == "zh")
    if conformance.errors:
        raise typer.Exit(EXIT_ERRORS)
    if conformance.warnings:
        raise typer.Exit(EXIT_WARNINGS)


def render_conformance(c: Conformance, *, zh: bool = False, summary: bool = False) -> None:
    """Findings first (each with where, clause, why, fix), then the clause-by-clause table;
    ``summary``: one line per finding and the counts (after ``calc``)."""
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    console = Console(soft_wrap=True, highlight=False)
    title = c.title_zh if zh else c.title
    verdict = "conforms" if c.conforms else "does not conform"
    console.print(
        f"[bold]{escape(c.ref)}[/bold] {escape(title)}: {verdict} ({c.errors} errors, "
        f"{c.warnings} warnings)"
    )
    for s in c.clauses:
        for f in s.findings:
            colour = "red" if f.severity == "error" else "yellow"
            console.print(
                f"[{colour}]{f.severity}[/{colour}] {escape(f.where)} \\[{escape(s.clause)}] "
                f"{escape(f.message)}"
            )
            if not summary:
                requirement = s.requirement_zh if zh else s.requirement
                console.print(f"  rule: {escape(requirement)} ({escape(f.source)})")
                if f.hint:
                    console.print(f"  fix: {escape(f.hint)}")
    if summary:
        for line in c.choices:
            console.print(f"applied {escape(line)}")
        return
    table = Table(title="clause by clause")
    for name in ("clause", "kind", "status", "applied", "source"):
        table.add_column(name)
    for s in c.clauses:
        table.add_row(s.clause, s.kind, s.status, escape(s.applied or ""), escape(s.source[:80]))
    console.print(table)


__all__ = ["app", "check", "render_conformance"]
