"""``openpcf keys``: the issuer's signing keys for certificates (create, rotate, list, JWKS)."""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from openpcf.cli.options import JsonOpt, echo_json, key_store

app = typer.Typer(help="Issuer signing keys: create, rotate, list, export as JWKS.")


class Alg(StrEnum):
    ed25519 = "Ed25519"
    es256 = "ES256"


@app.command("create")
def keys_create(
    alg: Annotated[Alg, typer.Option("--alg", help="Signature algorithm.")] = Alg.ed25519,
    issuer: Annotated[
        str | None,
        typer.Option("--issuer", help="Issuer URL that serves /.well-known/jwks.json."),
    ] = None,
) -> None:
    """Create the issuer's first signing key in $OPENPCF_HOME/keys."""
    store = key_store()
    info = store.create(alg=alg.value, issuer=issuer)
    typer.echo(f"created {info.alg} key {info.kid} for issuer {store.issuer} in {store.folder}")


@app.command("rotate")
def keys_rotate(
    alg: Annotated[Alg | None, typer.Option("--alg", help="Algorithm of the new key.")] = None,
) -> None:
    """Retire the active key (it still verifies old certificates) and create a new one."""
    old, new = key_store().rotate(alg=alg.value if alg else None)
    typer.echo(f"retired {old.kid}; new active {new.alg} key {new.kid}")


@app.command("list")
def keys_list(as_json: JsonOpt = False) -> None:
    """List keys: id, algorithm, created, status (active or retired)."""
    infos = key_store().list_keys()
    if as_json:
        echo_json([k.to_dict() for k in infos])
        return
    if not infos:
        typer.echo("no keys; run `openpcf keys create`")
    for k in infos:
        retired = f" (retired {k.retired})" if k.retired else ""
        typer.echo(f"{k.kid}  {k.alg:7}  {k.created}  {k.status}{retired}")


@app.command("export-jwks")
def keys_export(
    output: Annotated[Path, typer.Option("--output", "-o", help="JWKS file to write.")],
) -> None:
    """Write the public keys (active and retired) as a JWKS file for verifiers."""
    from openpcf.certify import jwks
    from openpcf.files.durable import atomic_write

    data = jwks(public_only=True, keys=key_store())
    atomic_write(output, (json.dumps(data, indent=2) + "\n").encode())
    typer.echo(f"wrote {len(data['keys'])} public key(s) to {output}")
