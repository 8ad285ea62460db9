"""``openpcf suppliers invite REQUEST_ID --email EMAIL``: let a supplier answer on the web.

The person gets an account (if new: a one-time password printed once, or one line read with
``--password-stdin``) with the role ``supplier`` in the requesting organisation, and may see
and answer this request in the web inbox (``/inbox``). See
:func:`openpcf.services.web_supplier.invite_supplier`.
"""

from __future__ import annotations

import secrets
import sys
from typing import Annotated

import typer

from openpcf.cli.options import JsonOpt, echo_json, open_database
from openpcf.errors import InputError


def register(app: typer.Typer) -> None:
    """Add this module's commands to ``openpcf suppliers``."""
    app.command("invite")(invite)


def invite(
    request_id: Annotated[str, typer.Argument(help="The request's id.", show_default=False)],
    email: Annotated[str, typer.Option("--email", help="The supplier's email (sign-in name).")],
    name: Annotated[str, typer.Option("--name", help="Name shown on the pages.")] = "",
    password_stdin: Annotated[
        bool,
        typer.Option("--password-stdin", help="Read a new user's password from stdin."),
    ] = False,
    json_output: JsonOpt = False,
) -> None:
    """Give a supplier's web account access to one request (creating the account if new)."""
    from openpcf.db import repositories as repo
    from openpcf.db.engine import session_scope
    from openpcf.services.web_supplier import invite_supplier

    engine = open_database()
    if engine is None:  # pragma: no cover - create=True always gives one
        raise InputError("the database cannot be opened")
    try:
        with session_scope(engine) as session:
            exists = repo.find_web_user(session, email=email) is not None
        password: str | None = None
        if not exists:
            password = _password(password_stdin, repo.MIN_PASSWORD_LENGTH)
        done = invite_supplier(
            engine, request_id=request_id, email=email, name=name, password=password
        )
    finally:
        engine.dispose()
    shown = password if done.created_user and not password_stdin else None
    if json_output:
        echo_json(
            {
                "email": done.email,
                "organisation": done.organisation,
                "requestId": done.request_id,
                "supplier": done.supplier,
                "createdUser": done.created_user,
                "granted": done.granted,
                "oneTimePassword": shown,
            }
        )
        return
    state = "added" if done.created_user else "exists already (password unchanged)"
    typer.echo(f"{done.email} {state}: supplier in {done.organisation}")
    typer.echo(
        f"request {done.request_id} ({done.supplier}): "
        + ("granted" if done.granted else "was granted already")
    )
    if shown:
        typer.echo(f"one-time password (shown once, give it to them privately): {shown}")


def _password(from_stdin: bool, minimum: int) -> str:
    if not from_stdin:
        return secrets.token_urlsafe(18)  # 24 characters, 144 bits
    password = sys.stdin.readline().rstrip("\r\n")
    if len(password) < minimum:
        raise InputError(f"a password needs at least {minimum} characters; nothing was stored")
    return password
