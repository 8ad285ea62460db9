"""``openpcf verifier``: a third-party verifier's identity and attestations, and the buyer's
trust list of verifiers and issuers.

A verifier works in its own ``OPENPCF_HOME``: ``verifier init`` makes its keys and profile
there (``$OPENPCF_HOME/verifier``), ``verifier attest`` reproduces a manufacturer's package and
signs an attestation. A buyer keeps, in its own home, the parties it trusts
(``verifier trust add``: ``$OPENPCF_HOME/trust-list.json``), which ``certificate verify``
uses as trust anchors.
"""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, cast

import typer

from openpcf.cli.keys import Alg
from openpcf.cli.options import JsonOpt, echo_json

if TYPE_CHECKING:
    from openpcf.certify import TrustList, VerifierHome
    from openpcf.certify.trust import Role as RoleName

app = typer.Typer(help="Third-party verifier: identity, attestations, and the buyer's trust list.")
trust_app = typer.Typer(help="The parties this buyer trusts (verifiers and certificate issuers).")
app.add_typer(trust_app, name="trust")


class Assurance(StrEnum):
    """ISO 14064-3:2019, 5.1.3: the level of assurance of a verification."""

    limited = "limited"
    reasonable = "reasonable"


class Role(StrEnum):
    verifier = "verifier"
    issuer = "issuer"


def verifier_home() -> VerifierHome:
    """The verifier's folder, ``$OPENPCF_HOME/verifier``."""
    from openpcf.certify import VerifierHome
    from openpcf.settings import get_settings

    return VerifierHome(get_settings().home / "verifier")


def trust_list_path() -> Path:
    """The buyer's trust list, ``$OPENPCF_HOME/trust-list.json``."""
    from openpcf.certify.trust import TRUST_LIST_FILE
    from openpcf.settings import get_settings

    return get_settings().home / TRUST_LIST_FILE


def home_trust_list() -> TrustList:
    from openpcf.certify import TrustList

    return TrustList.load(trust_list_path(), missing_ok=True)


@app.command("init")
def verifier_init(
    name: Annotated[str, typer.Option("--name", help="The verifier's (body's) name.")],
    accreditation_id: Annotated[
        str, typer.Option("--accreditation-id", help="Accreditation number (ISO 14065).")
    ],
    accreditation_body: Annotated[
        str, typer.Option("--accreditation-body", help="Accreditation body, e.g. CNAS, UKAS.")
    ],
    verifier_id: Annotated[
        str | None,
        typer.Option("--id", help="The verifier's id (a URL it controls); a URN by default."),
    ] = None,
    alg: Annotated[Alg, typer.Option("--alg", help="Signature algorithm.")] = Alg.ed25519,
) -> None:
    """Create the verifier's signing key and profile in $OPENPCF_HOME/verifier."""
    home = verifier_home()
    profile, info = home.init(
        name=name.strip(),
        accreditation_id=accreditation_id.strip(),
        accreditation_body=accreditation_body.strip(),
        verifier_id=verifier_id,
        alg=alg.value,
    )
    typer.echo(
        f"verifier {profile.name!r} (accreditation {profile.accreditation_id}, "
        f"{profile.accreditation_body}) as {profile.id}: {info.alg} key {info.kid} in "
        f"{home.folder}"
    )
    typer.echo("  give buyers your public keys: `openpcf verifier export-jwks -o FILE`")


@app.command("show")
def verifier_show(as_json: JsonOpt = False) -> None:
    """Show the verifier's profile and keys."""
    home = verifier_home()
    profile = home.profile()
    keys = [k.to_dict() for k in home.keys.list_keys()]
    if as_json:
        echo_json({"profile": profile.to_dict(), "keys": keys})
        return
    typer.echo(f"{profile.name} ({profile.id})")
    typer.echo(f"  accreditation {profile.accreditation_id}, {profile.accreditation_body}")
    for k in keys:
        typer.echo(f"  key {k['kid']}  {k['alg']:7}  {k['created']}  {k['status']}")


@app.command("export-jwks")
def verifier_export(
    output: Annotated[Path, typer.Option("--output", "-o", help="JWKS file to write.")],
) -> None:
    """Write the verifier's public keys as a JWKS, for buyers' trust lists."""
    from openpcf.files.durable import atomic_write

    data = verifier_home().keys.jwks(public_only=True)
    atomic_write(output, (json.dumps(data, indent=2) + "\n").encode())
    typer.echo(f"wrote {len(data['keys'])} public key(s) of the verifier to {output}")


@app.command("rotate")
def verifier_rotate(
    alg: Annotated[Alg | None, typer.Option("--alg", help="Algorithm of the new key.")] = None,
) -> None:
    """Retire the verifier's active key (it still verifies old attestations); make a new one."""
    old, new = verifier_home().keys.rotate(alg=alg.value if alg else None)
    typer.echo(f"retired {old.kid}; new active {new.alg} key {new.kid}; export the new JWKS")


@app.command("attest")
def verifier_attest(
    package_file: Annotated[Path, typer.Argument(help="The manufacturer's package (.zip).")],
    output: Annotated[Path, typer.Option("--output", "-o", help="Attestation file (.jwt).")],
    assurance: Annotated[
        Assurance,
        typer.Option("--assurance", help="Level of assurance (ISO 14064-3:2019)."),
    ],
    scope: Annotated[
        str, typer.Option("--scope", help="What was verified (default: from the footprint).")
    ] = "",
    criteria: Annotated[
        list[str] | None,
        typer.Option("--criteria", help="Rules verified against (repeatable; ISO 14067:2018)."),
    ] = None,
    issuer_jwks: Annotated[
        Path | None,
        typer.Option(
            "--issuer-jwks",
            help="The manufacturer's public keys, obtained apart from the package: the package "
            "must be signed by one of them.",
        ),
    ] = None,
    valid_days: Annotated[
        int, typer.Option("--valid-days", min=1, max=3650, help="Days the attestation is valid.")
    ] = 365,
    as_json: JsonOpt = False,
) -> None:
    """Reproduce a verification package and, when every number is identical, sign an
    attestation of its footprint with the verifier's key.

    Nothing is signed when the package does not reproduce (exit 30) or, with --issuer-jwks,
    is not signed by the manufacturer (exit 31).
    """
    import datetime as dt

    from openpcf.certify import PRODUCT_STANDARD
    from openpcf.files.durable import atomic_write
    from openpcf.services.attestation import attest_package
    from openpcf.settings import get_settings

    attested = attest_package(
        package_file,
        home=verifier_home(),
        assurance=assurance.value,
        scope=scope,
        criteria=tuple(criteria or (PRODUCT_STANDARD,)),
        issuer_jwks=issuer_jwks,
        databases=get_settings().databases_dir,
        valid_for=dt.timedelta(days=valid_days),
    )
    cred = attested.credential
    atomic_write(output, (cred.token + "\n").encode())
    verification = cred.subject["verification"]
    if as_json:
        echo_json(
            {
                "attestation": cred.id,
                "file": str(output),
                "issuer": cred.issuer,
                "kid": cred.kid,
                "valid_until": cred.valid_until,
                "subject": dict(cred.subject),
                "reproduction": attested.report.to_dict(),
            }
        )
        return
    typer.echo(
        f"attested {package_file}: {verification['assuranceLevel']} assurance "
        f"({verification['standard']}), written to {output}"
    )
    typer.echo(f"  attestation {cred.id} (key {cred.kid}, valid until {cred.valid_until})")
    typer.echo(f"  package sha-256 {attested.package_sha256}")
    typer.echo(f"  footprint sha-256 {cred.subject['footprintDigest']['value']}")
    typer.echo(f"  reproduced: {attested.report.signature or 'identical'}")
    typer.echo(f"  footprint numbers: {verification['reproduction']['footprintNumbers']}")


# --------------------------------------------------------------------------------------------
# the buyer's trust list


@trust_app.command("add")
def trust_add(
    name: Annotated[str, typer.Argument(help="The party's name.")],
    role: Annotated[
        Role, typer.Option("--role", help="verifier (signs attestations) or issuer (certificates).")
    ],
    jwks_file: Annotated[
        Path | None, typer.Option("--jwks", help="Its public keys (JWKS), obtained from it.")
    ] = None,
    kid: Annotated[
        list[str] | None,
        typer.Option("--kid", help="A key id (RFC 7638 thumbprint) to trust (repeatable)."),
    ] = None,
    accreditation_id: Annotated[
        str, typer.Option("--accreditation-id", help="A verifier's accreditation number.")
    ] = "",
    accreditation_body: Annotated[
        str, typer.Option("--accreditation-body", help="A verifier's accreditation body.")
    ] = "",
    issuer_id: Annotated[
        str, typer.Option("--issuer-id", help="The issuer id its credentials must name.")
    ] = "",
) -> None:
    """Trust a verifier or a certificate issuer: its keys, its role, its accreditation."""
    from openpcf.certify import TrustEntry
    from openpcf.certify.trust import read_jwks_file

    if jwks_file is None and not kid:
        raise typer.BadParameter("give the party's keys: --jwks FILE or --kid KID")
    jwks = read_jwks_file(jwks_file) if jwks_file is not None else None
    if jwks is not None:  # public parts only, whatever the file held
        jwks = {"keys": [{k: v for k, v in key.items() if k != "d"} for key in jwks["keys"]]}
    entry = TrustEntry(
        name=name.strip(),
        role=role.value,
        accreditation_id=accreditation_id.strip(),
        accreditation_body=accreditation_body.strip(),
        issuer=issuer_id.strip(),
        jwks=jwks,
        kids=tuple(kid or ()),
    )
    path = trust_list_path()
    trusted = home_trust_list().add(entry)
    trusted.save(path)
    typer.echo(f"trusted {entry.describe()}: key(s) {', '.join(entry.key_ids())} in {path}")


@trust_app.command("list")
def trust_list(as_json: JsonOpt = False) -> None:
    """List the parties this buyer trusts."""
    trusted = home_trust_list()
    if as_json:
        echo_json(trusted.to_dict())
        return
    if not trusted.entries:
        typer.echo(f"no trusted parties in {trust_list_path()}; add one with `verifier trust add`")
    for e in trusted.entries:
        typer.echo(f"{e.role:8}  {e.name}  keys {', '.join(e.key_ids())}")
        if e.accreditation_id:
            typer.echo(f"          accreditation {e.accreditation_id} ({e.accreditation_body})")


@trust_app.command("remove")
def trust_remove(
    name: Annotated[str, typer.Argument(help="The party's name.")],
    role: Annotated[Role | None, typer.Option("--role", help="Only this role.")] = None,
) -> None:
    """Stop trusting a party."""
    from openpcf.errors import InputError

    path = trust_list_path()
    kept, gone = home_trust_list().remove(name, cast("RoleName | None", role and role.value))
    if not gone:
        raise InputError(f"{path}: no trusted party named {name!r}; `verifier trust list`")
    kept.save(path)
    typer.echo(f"removed {', '.join(e.describe() for e in gone)} from {path}")
