"""``openpcf suppliers request | list | accept | reject | cancel | coverage``: data requests
to suppliers and the primary-data coverage of a product (docs/suppliers.md)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from openpcf.cli.options import FactorsOpt, JsonOpt, ModelArg, echo_json, open_database
from openpcf.errors import InputError

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from openpcf.services.supplier_requests import RequestView

OrgOpt = Annotated[
    str | None,
    typer.Option("--org", help="The organisation asking (default: the model's company_name)."),
]
RequestIdArg = Annotated[str, typer.Argument(help="The request id (a UUID).", show_default=False)]


def register(app: typer.Typer) -> None:
    """Add this module's commands to ``openpcf suppliers``."""
    for name, command in (
        ("request", request),
        ("list", list_),
        ("accept", accept),
        ("reject", reject),
        ("cancel", cancel),
        ("coverage", coverage),
    ):
        app.command(name)(command)


def _engine() -> Engine:
    engine = open_database()
    if engine is None:  # pragma: no cover - create=True always gives one
        raise InputError("the database cannot be opened")
    return engine


def _today() -> dt.date:
    return dt.datetime.now(dt.UTC).date()


def _date(text: str, what: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise InputError(f"{what} {text!r} is not a date (YYYY-MM-DD)") from None


def request(
    model: ModelArg,
    due: Annotated[str, typer.Option("--due", help="Answer due by (YYYY-MM-DD).")],
    out: Annotated[
        Path, typer.Option("--out", help="Folder for the questionnaire workbooks (.xlsx).")
    ],
    org: OrgOpt = None,
    pact_source: Annotated[
        str | None,
        typer.Option(
            "--pact-source",
            help="Our own PACT host's URL (where answers go): suppliers that are PACT peers "
            "(`openpcf pact peer`) then get a PACT RequestCreated instead of a workbook.",
        ),
    ] = None,
    factors: FactorsOpt = None,
    json_output: JsonOpt = False,
) -> None:
    """Ask the suppliers of a model's purchased inputs for their primary data.

    One request per input that names its supplier (supplier:), unless it has an open one.
    """
    from openpcf.services.pact.outbox import peer_client
    from openpcf.services.pact.peers import FilePeers, peers_file
    from openpcf.services.supplier_requests import PactChannel, request_data
    from openpcf.settings import get_settings

    settings = get_settings()
    due_date = _date(due, "--due")
    pact = (
        PactChannel(
            peers=FilePeers(peers_file(settings.home)),
            source=pact_source,
            client_factory=peer_client,
        )
        if pact_source
        else None
    )
    engine = _engine()
    try:
        report = request_data(
            model,
            engine=engine,
            due=due_date,
            out_dir=out,
            now=dt.datetime.now(dt.UTC),
            organisation=org,
            settings=settings,
            factor_files=factors or [],
            pact=pact,
        )
    finally:
        engine.dispose()
    if json_output:
        echo_json(report.to_dict())
    else:
        typer.echo(
            f"{len(report.created)} request(s) created for {report.product_id} "
            f"({report.organisation})."
        )
        for c in report.created:
            how = str(c.workbook) if c.workbook else f"PACT event {c.pact_event_id}"
            typer.echo(f"  {c.request_id}  {c.supplier}: {c.material_name} -> {how}")
        for x, rid, status in report.already_open:
            typer.echo(f"  open already ({status}) {rid}  {x.supplier}: {x.material}")
        for x in report.no_supplier:
            typer.echo(f"  {x.where} {x.material}: no supplier named: add supplier: to the input")
        for x, error in report.failed:
            typer.echo(f"  not sent to {x.supplier} ({x.material}): {error}", err=True)
    if report.failed:
        raise typer.Exit(1)


def list_(
    org: Annotated[str | None, typer.Option("--org", help="The organisation.")] = None,
    product: Annotated[str | None, typer.Option("--product", help="Product URN.")] = None,
    status: Annotated[
        str | None,
        typer.Option("--status", help="sent, overdue, answered, accepted, rejected or cancelled."),
    ] = None,
    supplier: Annotated[str | None, typer.Option("--supplier", help="One supplier.")] = None,
    json_output: JsonOpt = False,
) -> None:
    """List the data requests (overdue: sent and past the due date)."""
    from openpcf.services.supplier_requests import list_requests

    engine = _engine()
    try:
        views = list_requests(
            engine,
            today=_today(),
            organisation=org,
            product_id=product,
            status=status,
            supplier=supplier,
        )
    finally:
        engine.dispose()
    if json_output:
        echo_json([v.to_dict() for v in views])
        return
    if not views:
        typer.echo("No requests.")
    for v in views:
        typer.echo(
            f"{v.request_id}  {v.status:<9}  due {v.due}  {v.supplier}: {v.material_name} "
            f"({v.material}) for {v.product_id} [{v.channel}]"
        )


def _decide(request_id: str, status: str, note: str, org: str | None) -> RequestView:
    from openpcf.db.engine import session_scope
    from openpcf.services.supplier_requests import decide, organisation_id

    engine = _engine()
    try:
        org_id = None
        if org:
            with session_scope(engine) as session:
                org_id = organisation_id(session, org)
        return decide(
            engine,
            request_id=request_id,
            status=status,
            note=note,
            now=dt.datetime.now(dt.UTC),
            organisation_id_=org_id,
        )
    finally:
        engine.dispose()


def accept(
    request_id: RequestIdArg,
    note: Annotated[str, typer.Option("--note", help="Why (kept with the decision).")] = "",
    org: Annotated[str | None, typer.Option("--org", help="The organisation.")] = None,
) -> None:
    """Accept an answered request: its supplier figure becomes the input's primary data."""
    view = _decide(request_id, "accepted", note, org)
    typer.echo(
        f"Accepted {view.request_id}: {view.supplier}'s figure ({view.supplier_footprint_id}) "
        f"now replaces {view.material} in calculations of {view.product_id}."
    )


def reject(
    request_id: RequestIdArg,
    reason: Annotated[str, typer.Option("--reason", help="Why the answer is refused.")],
    org: Annotated[str | None, typer.Option("--org", help="The organisation.")] = None,
) -> None:
    """Reject an answered request (with the reason); ask again with `suppliers request`."""
    view = _decide(request_id, "rejected", reason, org)
    typer.echo(f"Rejected {view.request_id} ({view.supplier}: {view.material}).")


def cancel(
    request_id: RequestIdArg,
    org: Annotated[str | None, typer.Option("--org", help="The organisation.")] = None,
) -> None:
    """Cancel a sent or answered request."""
    view = _decide(request_id, "cancelled", "cancelled by the requester", org)
    typer.echo(f"Cancelled {view.request_id} ({view.supplier}: {view.material}).")


def coverage(model: ModelArg, factors: FactorsOpt = None, json_output: JsonOpt = False) -> None:
    """Primary-data share by emissions and by mass, requests, and the supplier figures used."""
    from openpcf.services.supplier_coverage import coverage as measure
    from openpcf.settings import get_settings

    engine = _engine()
    try:
        found = measure(
            model,
            settings=get_settings(),
            engine=engine,
            today=_today(),
            factor_files=factors or [],
        )
    finally:
        engine.dispose()
    data = found.to_dict()
    if json_output:
        echo_json(data)
        return
    mass = found.by_mass
    typer.echo(f"{found.product_id} ({found.organisation}), footprint {found.footprint_id}")
    typer.echo(
        f"  total {found.total:.6g} kg CO2e (without supplier data "
        f"{found.total_without_supplier_data:.6g}; change {found.combined_change:+.6g})"
    )
    typer.echo(f"  primary data by emissions: {found.primary_share_by_emissions:.4g} %")
    share = f"{mass.share:.4g} %" if mass.share is not None else "n/a (no input in a mass unit)"
    typer.echo(f"  primary data by mass: {share} of {mass.total_kg:.6g} kg purchased")
    for x in mass.not_mass:
        typer.echo(f"    not in a mass unit: {x.material} ({x.unit})")
    for e in found.substitutions:
        s = e.substitution
        typer.echo(
            f"  {s.supplier}'s figure {s.footprint_id} replaced {s.material} "
            f"({s.material_name}): {e.change:+.6g} kg CO2e"
        )
    requests = data["requests"]
    counts = ", ".join(f"{k} {v}" for k, v in requests["counts"].items() if v)
    typer.echo(f"  requests: {counts or 'none'}")
    if requests["overdue_suppliers"]:
        typer.echo(f"  overdue suppliers: {', '.join(requests['overdue_suppliers'])}")
