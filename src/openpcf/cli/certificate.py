"""``openpcf certificate``: issue, verify and revoke green certificates (vc+jwt).

Failed checks raise :class:`~openpcf.errors.OpenPCFError` subclasses whose ``exit_code`` names
the check (see :mod:`openpcf.certify.errors`); :func:`openpcf.cli.main.run` prints them.
"""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from openpcf.cli.options import (
    FactorsOpt,
    GwpOpt,
    JsonOpt,
    ParamOpt,
    SolverOpt,
    calculation_options,
    echo_json,
    key_store,
    open_database,
)

if TYPE_CHECKING:
    from openpcf.certify import Attestation

app = typer.Typer(help="Green certificates (W3C Verifiable Credentials, vc+jwt).")

#: Longest validity ``--valid-days`` accepts (100 years).
MAX_VALID_DAYS = 36_500


class Assurance(StrEnum):
    limited = "limited"
    reasonable = "reasonable"


VerifierOpt = Annotated[
    str | None, typer.Option("--verifier-name", help="Verifier (assurance provider) name.")
]
VerifierIdOpt = Annotated[
    str, typer.Option("--verifier-id", help="Verifier id (URL, DID or accreditation number).")
]
AssuranceOpt = Annotated[
    Assurance, typer.Option("--assurance", help="Assurance level of the verification.")
]
StandardOpt = Annotated[
    str, typer.Option("--standard", help="Verification standard, e.g. ISO14064-3.")
]


def attestation(
    name: str | None, verifier_id: str, assurance: Assurance, standard: str
) -> Attestation | None:
    from openpcf.certify import Attestation

    if not name:
        return None
    return Attestation(
        verifier_name=name,
        verifier_id=verifier_id,
        assurance=assurance.value,
        standard=standard,
    )


@app.command("issue")
def certificate_issue(
    output: Annotated[Path, typer.Option("--output", "-o", help="Certificate file (.jwt).")],
    source: Annotated[
        Path | None,
        typer.Argument(help="Product model (YAML) or PACT footprint (JSON).", show_default=False),
    ] = None,
    footprint_id: Annotated[
        str | None,
        typer.Option("--footprint-id", help="Certify this published footprint (its stored JSON)."),
    ] = None,
    verifier_name: VerifierOpt = None,
    verifier_id: VerifierIdOpt = "",
    assurance: AssuranceOpt = Assurance.limited,
    standard: StandardOpt = "ISO14064-3",
    valid_days: Annotated[
        int,
        # at most 100 years: 100000000 days overflowed the date (a traceback, issue 11)
        typer.Option(
            "--valid-days", min=1, max=MAX_VALID_DAYS, help="Days the certificate is valid."
        ),
    ] = 365,
    footprint_out: Annotated[
        Path | None,
        typer.Option("--footprint-out", help="Also write the certified PACT JSON."),
    ] = None,
    param: ParamOpt = None,
    gwp: GwpOpt = None,
    factors: FactorsOpt = None,
    solver: SolverOpt = "auto",
) -> None:
    """Issue a signed green certificate for a model's footprint, a published footprint or a
    PACT footprint JSON.

    For a model that was published, the certificate binds the stored footprint, exactly as
    ``GET /3/footprints/{id}`` serves it; otherwise the calculation's own PACT document.
    """
    import datetime as dt

    from openpcf.certify import issue_certificate
    from openpcf.files.durable import atomic_write

    if (source is None) == (footprint_id is None):
        raise typer.BadParameter("give a model or footprint JSON, or --footprint-id, not both")
    if footprint_id is not None:
        footprint = _published(footprint_id)
    elif source is not None and source.suffix.lower() == ".json":
        footprint = _read_footprint(source)
    else:
        assert source is not None
        footprint = _model_footprint(source, gwp, param, factors, solver)
        footprint_out = footprint_out or output.with_suffix(".pact.json")
    if footprint_out is not None:
        text = json.dumps(footprint, indent=2, ensure_ascii=False) + "\n"
        atomic_write(footprint_out, text.encode())
        typer.echo(f"wrote the certified footprint to {footprint_out}")
    cert = issue_certificate(
        footprint,
        attestation=attestation(verifier_name, verifier_id, assurance, standard),
        valid_for=dt.timedelta(days=valid_days),
        keys=key_store(),
    )
    atomic_write(output, (cert.token + "\n").encode())
    typer.echo(f"issued certificate {cert.id} (key {cert.kid}, valid until {cert.valid_until})")


def _read_footprint(source: Path) -> dict[str, Any]:
    from openpcf.certify.errors import UncertifiableFootprintError
    from openpcf.files import jsonfile
    from openpcf.files.bounded import read_bounded

    # bounded read and parse: /dev/zero or a 100,000-deep array is an error, not a hang or crash
    raw = read_bounded(source, error=UncertifiableFootprintError)
    try:
        data = jsonfile.loads(raw)
    except ValueError as e:
        raise UncertifiableFootprintError(
            f"{source}: cannot read the footprint JSON: {e}"
        ) from None
    if not isinstance(data, dict):
        raise UncertifiableFootprintError(f"{source}: the footprint JSON is not an object")
    return data


def _model_footprint(
    model: Path, gwp: str | None, param: list[str] | None, factors: list[Path] | None, solver: str
) -> dict[str, Any]:
    from openpcf.services.calculate import calculate
    from openpcf.services.publishing import deliverable_footprint

    calculation = calculate(
        model,
        audit={"command": "certificate issue", "model": str(model)},
        audit_kind="certificate",
        **calculation_options(gwp, param, factors, solver),
    )
    engine = open_database(create=False)
    try:
        return deliverable_footprint(calculation, engine=engine)
    finally:
        if engine is not None:
            engine.dispose()


def _published(footprint_id: str) -> dict[str, Any]:
    from openpcf.errors import InputError
    from openpcf.services.publishing import stored_footprint

    engine = open_database(create=False)
    if engine is None:
        raise InputError(f"footprint {footprint_id}: no footprint has been published here yet")
    try:
        return stored_footprint(engine, footprint_id)
    finally:
        engine.dispose()


@app.command("verify")
def certificate_verify(
    certificate: Annotated[Path, typer.Argument(help="Certificate file (.jwt).")],
    jwks_file: Annotated[
        Path | None, typer.Option("--jwks", help="Issuer's JWKS file (offline check).")
    ] = None,
    issuer_url: Annotated[
        str | None,
        typer.Option("--issuer-url", help="Issuer URL: fetch <URL>/.well-known/jwks.json."),
    ] = None,
    footprint: Annotated[
        Path | None, typer.Option("--footprint", help="PACT JSON the certificate must bind.")
    ] = None,
    status_list: Annotated[
        Path | None, typer.Option("--status-list", help="Issuer's signed status list file.")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Check signature, issuer, validity period, footprint digest and revocation."""
    from openpcf.certify import CertificateError, verify_certificate
    from openpcf.errors import located

    if jwks_file and issuer_url:
        raise typer.BadParameter("give --jwks or --issuer-url, not both")
    from openpcf.errors import InputError
    from openpcf.files import jsonfile
    from openpcf.files.bounded import read_bounded

    def text(path: Path) -> str:
        return read_bounded(path).decode("utf-8")

    try:
        token = text(certificate)
        doc = jsonfile.loads(text(footprint)) if footprint else None
        listed = text(status_list) if status_list else None
    except ValueError as e:
        raise InputError(f"cannot read an input file: {e}") from None
    try:
        result = verify_certificate(
            token, jwks=jwks_file, issuer_url=issuer_url, footprint=doc, status_list=listed
        )
    except CertificateError as e:
        if as_json:
            echo_json({"valid": False, "check": e.check, "message": str(e)})
        raise located(e, f"{certificate}: NOT valid, {e.check} check failed") from None
    if as_json:
        echo_json(result.to_dict())
        return
    s = result.subject
    typer.echo(f"{certificate}: valid certificate {result.id}")
    typer.echo(
        f"  {s.get('productName') or ', '.join(s.get('productIds', []))}: "
        f"{s.get('pcfExcludingBiogenicUptake')} kg CO2e per {s.get('declaredUnitAmount')} "
        f"{s.get('declaredUnit')}, {s.get('referencePeriod', {}).get('start')} to "
        f"{s.get('referencePeriod', {}).get('end')}"
    )
    for check, outcome in result.checks:
        typer.echo(f"  {check:10} {outcome}")


@app.command("revoke")
def certificate_revoke(
    credential_id: Annotated[str, typer.Argument(help="Certificate id (urn:uuid:...).")],
) -> None:
    """Revoke a certificate; then publish the new status list (certificate status-list)."""
    from openpcf.certify import revoke_certificate

    index = revoke_certificate(credential_id, keys=key_store())
    typer.echo(
        f"revoked {credential_id} (status-list index {index}); publish the new list with "
        "`openpcf certificate status-list -o FILE` or `openpcf serve`"
    )


@app.command("status-list")
def certificate_status_list(
    output: Annotated[Path, typer.Option("--output", "-o", help="File to write (.jwt).")],
) -> None:
    """Write the signed revocation list (Bitstring Status List credential, vc+jwt)."""
    from openpcf.certify import status_list
    from openpcf.files.durable import atomic_write

    atomic_write(output, (status_list(keys=key_store()) + "\n").encode())
    typer.echo(f"wrote the signed status list to {output}")
