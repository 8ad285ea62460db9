"""``openpcf dossier``: the export compliance dossier per SKU and market.

``dossier show SKU --market EU`` is the issue's ``openpcf dossier SKU --market EU``: typer
cannot mix a positional SKU with sub-commands in one group, so the dossier of a SKU is the
``show`` command (docs/dossier.md).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from openpcf.cli.options import JsonOpt, echo_json, open_database

if TYPE_CHECKING:
    from sqlalchemy import Engine

app = typer.Typer(help="The export compliance dossier per SKU and market.", no_args_is_help=True)
sku_app = typer.Typer(help="The SKUs whose dossier is kept.", no_args_is_help=True)
evidence_app = typer.Typer(help="Documents held for a SKU.", no_args_is_help=True)
app.add_typer(sku_app, name="sku")
app.add_typer(evidence_app, name="evidence")

OrgOpt = Annotated[
    str | None,
    typer.Option("--org", help="Organisation (data owner); default: the model's company_name."),
]
MarketOpt = Annotated[
    str | None, typer.Option("--market", help="Export market: EU, CN, US or GLOBAL.")
]
OnOpt = Annotated[
    str | None, typer.Option("--on", help="As of this date (YYYY-MM-DD); default: today.")
]
WindowOpt = Annotated[
    int, typer.Option("--window", min=0, max=3650, help="Days before expiry shown as expiring.")
]


def _engine() -> Engine:
    engine = open_database()
    assert engine is not None  # created on first use
    return engine


def _date(text: str | None, option: str) -> dt.date | None:
    if text is None:
        return None
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        raise typer.BadParameter(f"{option} {text!r}: give a date as YYYY-MM-DD") from None


def _org(org: str | None) -> str:
    if not org:
        raise typer.BadParameter("--org: name the organisation whose dossier this is")
    return org


@sku_app.command("add")
def sku_add(
    sku: Annotated[str, typer.Argument(help="The SKU id (your article number).")],
    name: Annotated[str | None, typer.Option("--name", help="Product name.")] = None,
    cn: Annotated[str | None, typer.Option("--cn", help="CN code (4 to 10 digits).")] = None,
    rules: Annotated[
        str | None,
        typer.Option(
            "--rules",
            help="Rule-set or product-class id (e.g. steel.hot-rolled-coil, "
            "truck.heavy-duty.fcev); decides which requirements apply.",
        ),
    ] = None,
    model: Annotated[
        Path | None,
        typer.Option("--model", help="Take the id, name, CN code and rules from a model."),
    ] = None,
    org: OrgOpt = None,
) -> None:
    """Add a SKU (adding the same SKU again with the same data changes nothing)."""
    from openpcf.services import dossier

    fields = dossier.sku_fields(sku=sku, name=name, cn=cn, rules=rules, model=model)
    if org is None and model is not None:
        from openpcf.model.loading import load_model

        org = load_model(model).model.product.company_name
    engine = _engine()
    try:
        created = dossier.add_sku(engine, organisation=_org(org), fields=fields)
    finally:
        engine.dispose()
    typer.echo(f"{'added' if created else 'already held'}: SKU {fields.sku} (CN {fields.cn_code})")


@sku_app.command("list")
def sku_list(org: OrgOpt = None, json_output: JsonOpt = False) -> None:
    """List the organisation's SKUs."""
    from openpcf.services import dossier

    engine = _engine()
    try:
        skus = dossier.list_skus(engine, organisation=_org(org))
    finally:
        engine.dispose()
    data = [
        {
            "sku": s.sku,
            "name": s.name,
            "cnCode": s.cn_code,
            "rules": s.rules,
            "product": s.product_urn,
        }
        for s in skus
    ]
    if json_output:
        echo_json(data)
        return
    for s in skus:
        typer.echo(f"{s.sku}\t{s.cn_code}\t{s.rules or '-'}\t{s.name}")


@evidence_app.command("add")
def evidence_add(
    sku: Annotated[str, typer.Argument(help="The SKU.")],
    requirement: Annotated[str, typer.Option("--requirement", help="Requirement id.")],
    file: Annotated[Path, typer.Option("--file", help="The document (its SHA-256 is stored).")],
    issuer: Annotated[str, typer.Option("--issuer", help="Who issued the document.")],
    issued: Annotated[str, typer.Option("--issued", help="Issue date (YYYY-MM-DD).")],
    expires: Annotated[
        str | None, typer.Option("--expires", help="Expiry date (YYYY-MM-DD), if any.")
    ] = None,
    accreditation: Annotated[
        str, typer.Option("--accreditation", help="The issuer's accreditation.")
    ] = "",
    document: Annotated[
        str | None, typer.Option("--document", help="Document title; default: the type.")
    ] = None,
    org: OrgOpt = None,
) -> None:
    """Record a document held for a SKU against one requirement."""
    from openpcf.services import dossier

    issued_on = _date(issued, "--issued")
    assert issued_on is not None
    engine = _engine()
    try:
        recorded = dossier.record_evidence_file(
            engine,
            path=file,
            organisation=_org(org),
            sku=sku,
            requirement_id=requirement,
            issuer=issuer,
            issued=issued_on,
            expires=_date(expires, "--expires"),
            accreditation=accreditation,
            document=document,
        )
    finally:
        engine.dispose()
    what = "recorded" if recorded.created else "already held (same file)"
    typer.echo(f"{what}: {recorded.requirement_id} for {sku}, sha256 {recorded.file_sha256}")


@app.command("show")
def show(
    sku: Annotated[str, typer.Argument(help="The SKU.")],
    market: MarketOpt = "EU",
    on: OnOpt = None,
    window: WindowOpt = 90,
    xlsx: Annotated[Path | None, typer.Option("--xlsx", help="Write the dossier as xlsx.")] = None,
    pdf: Annotated[Path | None, typer.Option("--pdf", help="Write the dossier as PDF.")] = None,
    org: OrgOpt = None,
    json_output: JsonOpt = False,
) -> None:
    """What a SKU needs for a market: held, expiring, expired and missing documents."""
    from openpcf.reports.output import check_writable, write_report
    from openpcf.services import dossier
    from openpcf.suppliers.dossier import dossier_dict

    for path in (xlsx, pdf):
        if path is not None:
            check_writable(path)
    engine = _engine()
    try:
        found = dossier.sku_dossier(
            engine,
            organisation=_org(org),
            sku=sku,
            market=market,
            on=_date(on, "--on") or dt.date.today(),
            window_days=window,
        )
    finally:
        engine.dispose()
    if xlsx is not None:
        from openpcf.reports.dossier import dossier_xlsx

        write_report(xlsx, dossier_xlsx(found))
    if pdf is not None:
        from openpcf.reports.dossier import dossier_pdf

        write_report(pdf, dossier_pdf(found))
    if json_output:
        echo_json(dossier_dict(found))
        return
    _print_dossier(found)


def _print_dossier(found: object) -> None:
    from rich.console import Console
    from rich.table import Table

    from openpcf.suppliers.dossier import Dossier

    assert isinstance(found, Dossier)
    table = Table(title=f"{found.sku} · {found.market or 'all'} · {found.on}")
    for column in ("requirement", "status", "required from", "expires", "issuer"):
        table.add_column(column)
    colour = {"held": "green", "expiring": "yellow", "expired": "red", "missing": "red"}
    for row in found.rows:
        deadline = (
            row.deadline.isoformat()
            if row.deadline
            else ("pending" if row.requirement.pending else "-")
        )
        table.add_row(
            row.requirement.id,
            f"[{colour[row.status]}]{row.status}[/]",
            deadline,
            row.expires.isoformat() if row.expires else "-",
            row.evidence.issuer if row.evidence else "-",
        )
    Console().print(table)


@app.command("gaps")
def gaps(
    market: MarketOpt = None,
    on: OnOpt = None,
    window: WindowOpt = 90,
    org: OrgOpt = None,
    json_output: JsonOpt = False,
) -> None:
    """The SKUs with the most urgent gaps first (docs/dossier.md states the rule)."""
    from openpcf.services import dossier
    from openpcf.suppliers.dossier import gaps_dict

    engine = _engine()
    try:
        ranked = dossier.gaps(
            engine,
            organisation=_org(org),
            market=market,
            on=_date(on, "--on") or dt.date.today(),
            window_days=window,
        )
    finally:
        engine.dispose()
    if json_output:
        echo_json([gaps_dict(item) for item in ranked])
        return
    for rank, item in enumerate(ranked, 1):
        nxt = item.next_date.isoformat() if item.next_date else "-"
        missing = ", ".join(f"{r.requirement.id} ({r.status})" for r in item.gaps)
        typer.echo(
            f"{rank}. {item.sku} [{item.market}] overdue {item.overdue}, next {nxt}: {missing}"
        )


@app.command("requirements")
def requirements(
    market: MarketOpt = None,
    cn: Annotated[
        str | None, typer.Option("--cn", help="Only those that may cover this CN code.")
    ] = None,
    json_output: JsonOpt = False,
) -> None:
    """The requirement catalogue, each entry with its source."""
    from openpcf.cbam.cn import normalise_cn
    from openpcf.suppliers.dossier import bundled_catalogue, check_market

    check_market(market)
    code = normalise_cn(cn, field="--cn") if cn else None
    found = bundled_catalogue().select(market=market, cn=code)
    if json_output:
        echo_json([r.model_dump(mode="json", exclude_none=True) for r in found])
        return
    for r in found:
        start = r.required_from if r.required_from is not None else "-"
        typer.echo(
            f"{r.id}\t{r.market}\t{r.kind}\tfrom {start}\t{r.source.document}, {r.source.clause}"
        )
