"""``openpcf publish`` and ``openpcf storage``: put footprints into the database and share them.

The database is ``OPENPCF_DATABASE_URL`` or the SQLite file in ``OPENPCF_HOME``. A SQLite file
is created and migrated on first use; a PostgreSQL database is migrated only on request
(``openpcf storage upgrade``), and the other commands refuse to run on an outdated schema.
Heavy imports happen inside the command bodies so that ``openpcf --help`` stays instant.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from openpcf.cli.options import (
    FactorsOpt,
    GwpOpt,
    JsonOpt,
    ModelArg,
    ParamOpt,
    SolverOpt,
    calculation_options,
    echo_json,
    open_database,
)

if TYPE_CHECKING:
    from sqlalchemy import Engine

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
    json_output: JsonOpt = False,
) -> None:
    """Calculate a model and store its PACT v3 footprint, ready to share.

    Republishing a changed model deprecates the footprint it replaces; an unchanged one stores
    nothing.
    """
    from openpcf.services.publishing import publish as publish_model

    options = calculation_options(gwp, param, factors, solver)
    engine = _engine()
    try:
        published = publish_model(model, engine=engine, organisation=org, **options)
    finally:
        engine.dispose()
    if json_output:
        out = {
            "id": str(published.id),
            "new": published.new,
            "deprecated": str(published.deprecated) if published.deprecated else None,
            "organisation": published.organisation,
            "document": published.document,
        }
        echo_json(out)
        return
    doc = published.document
    pcf = doc["pcf"]
    amount = f"{pcf['pcfExcludingBiogenicUptake']} kg CO2e per {pcf['declaredUnitAmount']} "
    amount += pcf["declaredUnitOfMeasurement"]
    if not published.new:
        typer.echo(
            f"Unchanged: footprint {published.id} of {doc['productIds'][0]} ({amount}) is "
            "already published with the same content; nothing stored."
        )
        return
    typer.echo(
        f"Published footprint {published.id} of {doc['productIds'][0]} for "
        f"{published.organisation}: {amount}."
    )
    if published.deprecated:
        typer.echo(f"It replaces footprint {published.deprecated}, now Deprecated.")


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
    from openpcf.db.engine import session_scope

    engine = _engine()
    try:
        with session_scope(engine) as session:
            organisation = repo.get_organisation(session, name=org)
            issued = repo.create_client(
                session, organisation=organisation, scopes=scope or repo.KNOWN_SCOPES, name=name
            )
            scopes = list(issued.client.scopes)
    finally:
        engine.dispose()
    if json_output:
        out = {"client_id": issued.client_id, "client_secret": issued.secret, "scopes": scopes}
        echo_json(out)
        return
    typer.echo(f"client_id:     {issued.client_id}")
    typer.echo(f"client_secret: {issued.secret}")
    typer.echo(f"scopes:        {' '.join(scopes)}")
    typer.echo("Store the secret now: only its hash is kept, it cannot be shown again.", err=True)


@storage_app.command("grant")
def grant(
    client: Annotated[str, typer.Argument(help="client_id of the recipient.")],
    product: Annotated[str, typer.Argument(help="A product id (URN) of the product to share.")],
) -> None:
    """Let a client see every footprint of a product."""
    from openpcf.db import repositories as repo
    from openpcf.db.engine import session_scope

    engine = _engine()
    try:
        with session_scope(engine) as session:
            api_client = repo.get_client(session, client_id=client)
            found = repo.get_product(
                session, organisation=api_client.organisation, product_id=product
            )
            repo.grant_access(session, client=api_client, product=found)
            label = found.product_ids[0]
    finally:
        engine.dispose()
    typer.echo(f"{client} may now read the footprints of {label}.")


@storage_app.command("revoke")
def revoke(
    client: Annotated[str, typer.Argument(help="client_id of the recipient.")],
    product: Annotated[str, typer.Argument(help="A product id (URN) of the shared product.")],
) -> None:
    """Withdraw a grant: the client no longer sees the product's footprints."""
    from openpcf.db import repositories as repo
    from openpcf.db.engine import session_scope

    engine = _engine()
    try:
        with session_scope(engine) as session:
            api_client = repo.get_client(session, client_id=client)
            found = repo.get_product(
                session, organisation=api_client.organisation, product_id=product
            )
            withdrawn = repo.revoke_access(session, client=api_client, product=found)
            label = found.product_ids[0]
    finally:
        engine.dispose()
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
    from openpcf.db.engine import session_scope

    engine = _engine()
    try:
        with session_scope(engine) as session:
            repo.disable_client(session, client=repo.get_client(session, client_id=client))
    finally:
        engine.dispose()
    typer.echo(f"{client} is disabled; its access tokens are refused from now on.")


@storage_app.command("rotate-client")
def rotate_client(
    client: Annotated[str, typer.Argument(help="client_id whose credentials leaked.")],
    json_output: JsonOpt = False,
) -> None:
    """Issue new credentials with the same scopes and grants; the old ones stop at once."""
    from openpcf.db import repositories as repo
    from openpcf.db.engine import session_scope

    engine = _engine()
    try:
        with session_scope(engine) as session:
            old = repo.get_client(session, client_id=client)
            issued = repo.rotate_client(session, client=old)
            scopes = list(issued.client.scopes)
    finally:
        engine.dispose()
    if json_output:
        echo_json({"client_id": issued.client_id, "client_secret": issued.secret, "scopes": scopes})
        return
    typer.echo(f"{client} is disabled. New credentials for the same recipient:")
    typer.echo(f"client_id:     {issued.client_id}")
    typer.echo(f"client_secret: {issued.secret}")
    typer.echo("Store the secret now: only its hash is kept, it cannot be shown again.", err=True)
