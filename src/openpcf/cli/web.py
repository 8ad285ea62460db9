"""``openpcf web``: serve the web pages, and manage the people who may sign in.

``openpcf web`` listens on ``127.0.0.1:8000`` over plain HTTP (a laptop: the browser and the
server are the same machine). Any other address needs TLS (``--cert``/``--key`` or
``--dev-cert``, as ``openpcf serve``), and the session cookie is marked ``Secure`` only then.
A SQLite database is migrated on start; a PostgreSQL one must be at the current revision.

``openpcf web user add EMAIL --org NAME --role ROLE`` adds a person (the password is asked
twice, or read from stdin with ``--password-stdin``); ``openpcf web user list --org NAME``.
``openpcf web grant EMAIL --org NAME --product ID`` lets a verifier (of any organisation) see
one product read-only; ``openpcf web revoke EMAIL --org NAME --product ID`` takes it back.
``openpcf web invite EMAIL --org NAME --role ROLE`` prints a single-use invitation link (valid
72 hours) for the person to choose their own password (``--base-url`` puts the address the
people use in front of the path; there is no such setting, the web pages build the link from
the address the owner's browser used).
"""

from __future__ import annotations

import ipaddress
import sys
from typing import TYPE_CHECKING, Annotated

import typer

from openpcf.cli.options import CertOpt, DevCertOpt, HostnameOpt, KeyOpt, tls_files
from openpcf.errors import InputError

if TYPE_CHECKING:
    from sqlalchemy import Engine

app = typer.Typer(
    help="The web application: serve it (`openpcf web`) and manage its users.",
    invoke_without_command=True,
    no_args_is_help=False,
)
user_app = typer.Typer(help="People who sign in to the web pages.", no_args_is_help=True)
app.add_typer(user_app, name="user")


def is_loopback(host: str) -> bool:
    """Whether ``host`` is this machine only (``127.0.0.1``, ``::1``, ``localhost``)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


@app.callback()
def web(
    ctx: typer.Context,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
    cert: CertOpt = None,
    key: KeyOpt = None,
    dev_cert: DevCertOpt = False,
    hostname: HostnameOpt = None,
) -> None:
    """Serve the web pages (HTTP on loopback; TLS for any other address)."""
    if ctx.invoked_subcommand is not None:
        return
    import os

    import uvicorn

    from openpcf.cli.serve import _prepare_database
    from openpcf.settings import get_settings

    settings = get_settings()
    pair = tls_files(cert, key, dev_cert=dev_cert, hostname=hostname, home=settings.home)
    tls = pair is not None
    if not tls and not is_loopback(host):
        raise InputError(
            f"--host {host} is reachable from other machines: serve it over TLS (--cert and "
            "--key, or --dev-cert), or listen on 127.0.0.1"
        )
    _prepare_database(settings.database_url)
    os.environ["OPENPCF_WEB_SECURE"] = "1" if tls else "0"  # read by app_factory
    scheme = "https" if tls else "http"
    typer.echo(f"OpenPCF web on {scheme}://{host}:{port}/ (Ctrl-C stops it)")
    uvicorn.run(
        "openpcf.cli.web:app_factory",
        factory=True,
        host=host,
        port=port,
        ssl_certfile=str(pair[0]) if pair else None,
        ssl_keyfile=str(pair[1]) if pair else None,
        proxy_headers=False,
        server_header=False,
        log_level="info",
        env_file=None,
        timeout_graceful_shutdown=5,
    )


def app_factory() -> object:
    """The app uvicorn runs (its engine from the settings)."""
    import os

    from openpcf.db.engine import make_engine
    from openpcf.settings import get_settings
    from openpcf.web.app import create_web_app

    secure = os.environ.get("OPENPCF_WEB_SECURE", "1") != "0"
    return create_web_app(engine=make_engine(), home=get_settings().home, secure_cookies=secure)


def _engine() -> Engine:
    """An engine on the configured database, migrated (SQLite) or checked (PostgreSQL)."""
    from openpcf.cli.serve import _prepare_database
    from openpcf.db.engine import make_engine
    from openpcf.settings import get_settings

    url = get_settings().database_url
    _prepare_database(url)
    return make_engine(url)


def _read_password(from_stdin: bool) -> str:
    from openpcf.db.repositories import MIN_PASSWORD_LENGTH

    if from_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = typer.prompt("Password", hide_input=True)
        again = typer.prompt("Password (again)", hide_input=True)
        if password != again:
            raise InputError("the two passwords differ; nothing was stored")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InputError(
            f"a password needs at least {MIN_PASSWORD_LENGTH} characters; nothing was stored"
        )
    return password


@user_app.command("add")
def user_add(
    email: Annotated[str, typer.Argument(help="The person's email (their sign-in name).")],
    org: Annotated[str, typer.Option("--org", help="Organisation (created if new).")],
    role: Annotated[str, typer.Option(help="owner, engineer, supplier or verifier.")],
    name: Annotated[str, typer.Option(help="Name shown on the pages.")] = "",
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from stdin.")
    ] = False,
) -> None:
    """Add a person with a role in an organisation (or a role in another organisation)."""
    from openpcf.db import repositories as repo
    from openpcf.db.engine import session_scope
    from openpcf.db.web_models import WEB_ROLES

    if role not in WEB_ROLES:
        raise InputError(f"--role {role!r}: choose one of {', '.join(WEB_ROLES)}")
    engine = _engine()
    try:
        with session_scope(engine) as session:
            account = repo.find_web_user(session, email=repo.normalise_email(email))
        password = _read_password(password_stdin) if account is None else ""
        with session_scope(engine, write=True) as session:
            organisation = repo.ensure_organisation(session, name=org)
            account = repo.find_web_user(session, email=email)
            if account is None:
                account = repo.create_web_user(session, email=email, name=name, password=password)
                created = "added"
            else:
                created = "exists already (password unchanged); added a role"
            repo.add_membership(session, user=account, organisation=organisation, role=role)
            typer.echo(f"{account.email} {created}: {role} in {organisation.name}")
    finally:
        engine.dispose()


@user_app.command("list")
def user_list(
    org: Annotated[str, typer.Option("--org", help="Organisation.")],
) -> None:
    """The people of an organisation and their roles."""
    from openpcf.db import repositories as repo
    from openpcf.db.engine import session_scope

    engine = _engine()
    try:
        with session_scope(engine) as session:
            organisation = repo.get_organisation(session, name=org)
            people = repo.list_web_users(session, organisation=organisation)
            for account, role in people:
                state = "  (disabled)" if account.disabled else ""
                typer.echo(f"{account.email}\t{role}\t{account.name}{state}")
            if not people:
                typer.echo(f"no web users in {organisation.name}")
    finally:
        engine.dispose()


GrantEmail = Annotated[str, typer.Argument(help="The verifier's email.")]
GrantOrg = Annotated[str, typer.Option("--org", help="The organisation owning the product.")]
GrantProduct = Annotated[
    str, typer.Option("--product", help="One of the product's ids (URN) or a footprint id.")
]


@app.command("grant")
def web_grant(
    email: GrantEmail,
    org: GrantOrg,
    product: GrantProduct,
    verifier_org: Annotated[
        str,
        typer.Option(
            "--verifier-org",
            help="The verification body, when the person is a verifier in several.",
        ),
    ] = "",
) -> None:
    """Let a verifier (of any organisation) see one product of ORG read-only."""
    from openpcf.db import repositories as repo
    from openpcf.db.engine import session_scope
    from openpcf.services.web_verifier import grant

    engine = _engine()
    try:
        with session_scope(engine) as session:
            organisation = repo.get_organisation(session, name=org)
        said, _ = grant(
            engine,
            organisation_id=organisation.id,
            email=email,
            product=product,
            verifier_organisation=verifier_org,
        )
        typer.echo(said)
    finally:
        engine.dispose()


@app.command("revoke")
def web_revoke(email: GrantEmail, org: GrantOrg, product: GrantProduct) -> None:
    """Take back every grant of a person on one product of ORG (effective at once)."""
    from openpcf.db import repositories as repo
    from openpcf.db.engine import session_scope
    from openpcf.services.web_verifier import revoke_person

    engine = _engine()
    try:
        with session_scope(engine) as session:
            organisation = repo.get_organisation(session, name=org)
        count = revoke_person(engine, organisation_id=organisation.id, email=email, product=product)
        typer.echo(
            f"revoked {count} grant(s) of {email.strip().lower()} on {product.strip()}"
            if count
            else f"{email.strip().lower()} had no grant on {product.strip()} of {organisation.name}"
        )
    finally:
        engine.dispose()


@app.command("invite")
def web_invite(
    email: Annotated[str, typer.Argument(help="The person's email (their sign-in name).")],
    org: Annotated[str, typer.Option("--org", help="Organisation (must exist).")],
    role: Annotated[str, typer.Option(help="owner, engineer, supplier or verifier.")],
    name: Annotated[str, typer.Option(help="Name proposed on the invitation page.")] = "",
    base_url: Annotated[
        str,
        typer.Option(help="Address of the web pages (https://pcf.example.com); else the path."),
    ] = "",
) -> None:
    """Print a single-use invitation link for EMAIL to join ORG as ROLE (valid 72 hours)."""
    from openpcf.db import repositories as repo
    from openpcf.db.base import utcnow
    from openpcf.db.engine import session_scope
    from openpcf.db.web_models import WEB_ROLES
    from openpcf.services.web_invitations import invite

    base = base_url.strip().rstrip("/")
    if base and not base.startswith(("http://", "https://")):
        raise InputError(f"--base-url {base_url!r}: give an address like https://pcf.example.com")
    engine = _engine()
    try:
        with session_scope(engine) as session:
            organisation = repo.get_organisation(session, name=org)
        invited = invite(
            engine, organisation_id=organisation.id, email=email, name=name, role=role, now=utcnow()
        )
        if invited.errors or invited.expires_at is None:
            from openpcf.web.render import catalogues

            said = catalogues()["en"]  # the web form's messages, in English
            fields = {
                "email": f"EMAIL {email!r}",
                "role": f"--role {role!r} ({', '.join(WEB_ROLES)})",
                "name": "--name",
            }
            problems = "; ".join(
                f"{fields[field]}: {said[key].rstrip('.')}"
                for field, keys in invited.errors.items()
                for key in keys
            )
            raise InputError(f"{problems}; nothing was stored")
        typer.echo(base + invited.path)
        known = " (has an account: joins with their own password)" if invited.existing else ""
        typer.echo(
            f"invitation of {invited.email}{known} as {invited.role} in {organisation.name}, "
            f"single use, until {invited.expires_at:%Y-%m-%d %H:%M} UTC; send it to them "
            "yourself (no mail server is configured)",
            err=True,
        )
    finally:
        engine.dispose()
