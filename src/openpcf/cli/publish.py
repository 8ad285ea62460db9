"""``openpcf publish`` and ``openpcf storage``: put footprints into the database and share them.

The database is ``OPENPCF_DATABASE_URL`` or the SQLite file in ``OPENPCF_HOME``. A SQLite file
is created and migrated on first use; a PostgreSQL database is migrated only on request
(``openpcf storage upgrade``), and the other commands refuse to run on an outdated schema.
Heavy imports happen inside the command bodies so that ``openpcf --help`` stays instant.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Annotated

import typer

from openpcf.cli.options import (
    AllowIllustrativeOpt,
    FactorsOpt,
    GwpOpt,
    JsonOpt,
    ModelArg,
    PactBoundary,
    PactBoundaryOpt,
    ParamOpt,
    SolverOpt,
    calculation_options,
    echo_json,
    open_database,
)

if TYPE_CHECKING:
    from sqlalchemy import Engine
    from sqlalchemy.orm import Session

    from openpcf.db.models import ApiClient, Product
    from openpcf.services.publishing import PublishedFootprint

storage_app = typer.Typer(
    help="The footprint database: migrations, API clients and access grants.",
    no_args_is_help=True,
)


def _engine() -> Engine:
    engine = open_database()
    assert engine is not None  # created on first use
    return engine


def publish(
    model: ModelArg,
    org: Annotated[
        str | None,
        typer.Option("--org", help="Data owner (organisation); default: product.company_name."),
    ] = None,
    param: ParamOpt = None,
    gwp: GwpOpt = None,
    factors: FactorsOpt = None,
    solver: SolverOpt = "auto",
    scenario: Annotated[
        str | None,
        typer.Option(
            "--scenario",
            help="Store as this named scenario: never served to buyers, replaces nothing.",
        ),
    ] = None,
    replace_live: Annotated[
        bool,
        typer.Option(
            "--replace-live", help="With --param: make the what-if the new live footprint."
        ),
    ] = False,
    dry_run: Annotated[
        bool,
        typer.Option(
            "--dry-run", help="Print the document that would be published; store nothing."
        ),
    ] = False,
    pact_boundary: PactBoundaryOpt = PactBoundary.cradle_to_gate,
    allow_illustrative: AllowIllustrativeOpt = False,
    json_output: JsonOpt = False,
) -> None:
    """Calculate a model and store its PACT v3 footprint, ready to share.

    Republishing a changed model deprecates the footprint it replaces; an unchanged one stores
    nothing. With --param, choose --scenario NAME (kept apart, never served) or --replace-live.
    """
    from openpcf.services.publishing import publish as publish_model

    options = calculation_options(gwp, param, factors, solver)
    engine = _engine()
    try:
        published = publish_model(
            model,
            engine=engine,
            organisation=org,
            scenario=scenario,
            replace_live=replace_live,
            dry_run=dry_run,
            pact_boundary=pact_boundary.value,
            allow_illustrative=allow_illustrative,
            **options,
        )
    finally:
        engine.dispose()
    if json_output:
        out = {
            "id": str(published.id),
            "new": published.new,
            "deprecated": str(published.deprecated) if published.deprecated else None,
            "organisation": published.organisation,
            "scenario": published.scenario,
            "dry_run": published.dry_run,
            "document": published.document,
        }
        echo_json(out)
        return
    if published.dry_run:
        echo_json(published.document)
        typer.echo(f"Dry run, nothing stored: {_outcome(published)}", err=True)
        return
    typer.echo(_outcome(published))


def _outcome(published: PublishedFootprint) -> str:
    """One sentence on what was (or, in a dry run, would be) stored."""
    doc = published.document
    pcf = doc["pcf"]
    amount = f"{pcf['pcfExcludingBiogenicUptake']} kg CO2e per {pcf['declaredUnitAmount']} "
    amount += pcf["declaredUnitOfMeasurement"]
    product = doc["productIds"][0]
    would = published.dry_run
    if published.scenario is not None:
        verb = "would store" if would else ("Stored" if published.new else "Unchanged:")
        text = (
            f"{verb} scenario {published.scenario!r} of {product} ({amount}), footprint "
            f"{published.id}; never served, the live footprint is unchanged."
        )
        return text if published.new else f"{text} It was stored before."
    if not published.new:
        return (
            f"Unchanged: footprint {published.id} of {product} ({amount}) is already published "
            "with the same content; nothing " + ("would be stored." if would else "stored.")
        )
    text = (
        f"{'would publish' if would else 'Published'} footprint {published.id} of {product} "
        f"for {published.organisation}: {amount}."
    )
    if published.deprecated:
        text += (
            f" It {'would replace' if would else 'replaces'} footprint {published.deprecated}, "
            f"{'which would become' if would else 'now'} Deprecated."
        )
    return text


@storage_app.command("upgrade")
def upgrade(
    revision: Annotated[str, typer.Option(help="Target revision.")] = "head",
) -> None:
    """Create or migrate the database schema (to the newest revision by default)."""
    from sqlalchemy.engine import make_url

    from openpcf.db import migrate
    from openpcf.db.engine import database_url

    url = database_url()
    migrate.upgrade(url, revision)
    shown = make_url(url).render_as_string(hide_password=True)
    typer.echo(f"{shown}: schema at revision {migrate.current(url)}")


@storage_app.command("create-client")
def create_client(
    org: Annotated[str, typer.Argument(help="Organisation (data owner) the client reads from.")],
    scope: Annotated[
        list[str] | None,
        typer.Option("--scope", help="OAuth2 scope (repeatable); default: all PACT scopes."),
    ] = None,
    name: Annotated[str, typer.Option(help="Who the credentials are for.")] = "",
    json_output: JsonOpt = False,
) -> None:
    """Issue API client credentials; the secret is shown this once and never again."""
    from openpcf.db import repositories as repo

    with _session() as session:
        organisation = repo.get_organisation(session, name=org)
        issued = repo.create_client(
            session, organisation=organisation, scopes=scope or repo.KNOWN_SCOPES, name=name
        )
        scopes = list(issued.client.scopes)
    _show_credentials(issued.client_id, issued.secret, scopes, json_output=json_output)


@storage_app.command("grant")
def grant(
    client: Annotated[str, typer.Argument(help="client_id of the recipient.")],
    product: Annotated[str, typer.Argument(help="A product id (URN) of the product to share.")],
) -> None:
    """Let a client see every footprint of a product."""
    from openpcf.db import repositories as repo

    with _session() as session:
        api_client, found = _client_and_product(session, client, product)
        repo.grant_access(session, client=api_client, product=found)
        label = found.product_ids[0]
    typer.echo(f"{client} may now read the footprints of {label}.")


@storage_app.command("revoke")
def revoke(
    client: Annotated[str, typer.Argument(help="client_id of the recipient.")],
    product: Annotated[str, typer.Argument(help="A product id (URN) of the shared product.")],
) -> None:
    """Withdraw a grant: the client no longer sees the product's footprints."""
    from openpcf.db import repositories as repo

    with _session() as session:
        api_client, found = _client_and_product(session, client, product)
        withdrawn = repo.revoke_access(session, client=api_client, product=found)
        label = found.product_ids[0]
    if withdrawn:
        typer.echo(f"{client} may no longer read the footprints of {label}.")
    else:
        typer.echo(f"{client} had no grant for {label}; nothing changed.")


@storage_app.command("disable-client")
def disable_client(
    client: Annotated[str, typer.Argument(help="client_id of the recipient.")],
) -> None:
    """Disable a client: its credentials and every token issued to it stop working at once."""
    from openpcf.db import repositories as repo

    with _session() as session:
        repo.disable_client(session, client=repo.get_client(session, client_id=client))
    typer.echo(f"{client} is disabled; its access tokens are refused from now on.")


@storage_app.command("rotate-client")
def rotate_client(
    client: Annotated[str, typer.Argument(help="client_id whose credentials leaked.")],
    json_output: JsonOpt = False,
) -> None:
    """Issue new credentials with the same scopes and grants; the old ones stop at once."""
    from openpcf.db import repositories as repo

    with _session() as session:
        issued = repo.rotate_client(session, client=repo.get_client(session, client_id=client))
        scopes = list(issued.client.scopes)
    if not json_output:
        typer.echo(f"{client} is disabled. New credentials for the same recipient:")
    _show_credentials(issued.client_id, issued.secret, scopes, json_output=json_output)


@contextmanager
def _session() -> Iterator[Session]:
    """One transaction on the configured database (its engine disposed afterwards)."""
    from openpcf.db.engine import session_scope

    engine = _engine()
    try:
        with session_scope(engine) as session:
            yield session
    finally:
        engine.dispose()


def _client_and_product(session: Session, client: str, product: str) -> tuple[ApiClient, Product]:
    """The API client ``client`` and its organisation's product with the id ``product``."""
    from openpcf.db import repositories as repo

    api_client = repo.get_client(session, client_id=client)
    found = repo.get_product(session, organisation=api_client.organisation, product_id=product)
    return api_client, found


def _show_credentials(client_id: str, secret: str, scopes: list[str], *, json_output: bool) -> None:
    """Print new credentials once (the secret is stored only as a hash)."""
    if json_output:
        echo_json({"client_id": client_id, "client_secret": secret, "scopes": scopes})
        return
    typer.echo(f"client_id:     {client_id}")
    typer.echo(f"client_secret: {secret}")
    typer.echo(f"scopes:        {' '.join(scopes)}")
    typer.echo("Store the secret now: only its hash is kept, it cannot be shown again.", err=True)
