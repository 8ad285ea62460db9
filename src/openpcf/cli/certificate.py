"""``openpcf certificate``: issue, verify and revoke green certificates (vc+jwt).

Failed checks raise :class:`~openpcf.errors.OpenPCFError` subclasses whose ``exit_code`` names
the check (see :mod:`openpcf.certify.errors`); :func:`openpcf.cli.main.run` prints them.
``verify`` tells integrity from origin: without a trust anchor it exits 40 ("signature valid,
signer not authenticated"), with anchors a signer outside them exits 41.
"""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from openpcf.cli.options import (
    AllowIllustrativeOpt,
    FactorsOpt,
    GwpOpt,
    JsonOpt,
    PactBoundary,
    PactBoundaryOpt,
    ParamOpt,
    SolverOpt,
    calculation_options,
    echo_json,
    key_store,
    open_database,
)

if TYPE_CHECKING:
    from openpcf.certify import SelfDeclaredAssurance, TrustAnchors

app = typer.Typer(help="Green certificates (W3C Verifiable Credentials, vc+jwt).")

#: Longest validity ``--valid-days`` accepts (100 years).
MAX_VALID_DAYS = 36_500


class Assurance(StrEnum):
    limited = "limited"
    reasonable = "reasonable"


# Self-declared assurance: what the issuer types in is written as ``selfDeclaredAssurance`` and
# reported by ``verify`` as "self-declared", never as an attestation (that is ``--attestation``,
# signed by the verifier). The old option names still work.
VerifierOpt = Annotated[
    str | None,
    typer.Option(
        "--self-declared-verifier",
        "--verifier-name",
        help="Self-declared: a verifier's name you state yourself (labelled self-declared; "
        "not an attestation: use --attestation for the verifier's signed one).",
    ),
]
VerifierIdOpt = Annotated[
    str,
    typer.Option(
        "--self-declared-verifier-id", "--verifier-id", help="Self-declared: the verifier's id."
    ),
]
AssuranceOpt = Annotated[
    Assurance,
    typer.Option(
        "--self-declared-assurance", "--assurance", help="Self-declared: the assurance level."
    ),
]
StandardOpt = Annotated[
    str,
    typer.Option(
        "--self-declared-standard", "--standard", help="Self-declared: verification standard."
    ),
]


def attestation(
    name: str | None, verifier_id: str, assurance: Assurance, standard: str
) -> SelfDeclaredAssurance | None:
    """The issuer's self-declared assurance from the options above (None without a name)."""
    from openpcf.certify import SelfDeclaredAssurance

    if not name:
        return None
    return SelfDeclaredAssurance(
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
    attestation_file: Annotated[
        Path | None,
        typer.Option(
            "--attestation",
            help="The verifier's signed attestation (openpcf verifier attest): embedded in the "
            "certificate and bound by its digest.",
        ),
    ] = None,
    verifier_jwks: Annotated[
        Path | None,
        typer.Option("--verifier-jwks", help="The verifier's JWKS: check the attestation first."),
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
    pact_boundary: PactBoundaryOpt = PactBoundary.cradle_to_gate,
    allow_illustrative: AllowIllustrativeOpt = False,
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
    if attestation_file is not None and verifier_name:
        raise typer.BadParameter(
            "give --attestation (signed by the verifier) or a self-declared verifier, not both"
        )
    attested, verifier_keys = _attestation_input(attestation_file, verifier_jwks)
    if footprint_id is not None:
        footprint = _published(footprint_id)
    elif source is not None and source.suffix.lower() == ".json":
        footprint = _read_footprint(source)
    else:
        assert source is not None
        footprint = _model_footprint(
            source, gwp, param, factors, solver, pact_boundary.value, allow_illustrative
        )
        footprint_out = footprint_out or output.with_suffix(".pact.json")
    if footprint_out is not None:
        text = json.dumps(footprint, indent=2, ensure_ascii=False) + "\n"
        atomic_write(footprint_out, text.encode())
        typer.echo(f"wrote the certified footprint to {footprint_out}")
    cert = issue_certificate(
        footprint,
        attestation=attested,
        self_declared=attestation(verifier_name, verifier_id, assurance, standard),
        verifier_keys=verifier_keys,
        valid_for=dt.timedelta(days=valid_days),
        keys=key_store(),
    )
    atomic_write(output, (cert.token + "\n").encode())
    typer.echo(f"issued certificate {cert.id} (key {cert.kid}, valid until {cert.valid_until})")
    if cert.attestation_id:
        typer.echo(f"  embeds the verifier's attestation {cert.attestation_id}")
    elif verifier_name:
        typer.echo(f"  self-declared assurance (verifier {verifier_name!r} named by you, unsigned)")


def _attestation_input(file: Path | None, jwks_file: Path | None) -> tuple[str | None, Any]:
    """The attestation token and the verifier's key set, read from their files."""
    from openpcf.certify.errors import AttestationError
    from openpcf.certify.jose import import_key_set
    from openpcf.certify.trust import read_jwks_file
    from openpcf.files.bounded import read_bounded

    if file is None:
        if jwks_file is not None:
            raise typer.BadParameter("--verifier-jwks checks an --attestation: give one")
        return None, None
    raw = read_bounded(file, limit=1024 * 1024, error=AttestationError)
    try:
        token = raw.decode("ascii").strip()
    except UnicodeDecodeError:
        raise AttestationError(f"{file}: not an attestation (a vc+jwt is ASCII)") from None
    keys = None
    if jwks_file is not None:
        keys = import_key_set(read_jwks_file(jwks_file), source=str(jwks_file))
    return token, keys


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
    model: Path,
    gwp: str | None,
    param: list[str] | None,
    factors: list[Path] | None,
    solver: str,
    pact_boundary: str,
    allow_illustrative: bool,
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
        return deliverable_footprint(
            calculation,
            engine=engine,
            pact_boundary=pact_boundary,
            allow_illustrative=allow_illustrative,
        )
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
        list[Path] | None,
        typer.Option(
            "--jwks",
            help="Public keys that came with the certificate (repeatable): they check "
            "signatures but authenticate nobody.",
        ),
    ] = None,
    trust_list: Annotated[
        Path | None,
        typer.Option(
            "--trust-list",
            help="Trust list of verifiers and issuers (JSON); $OPENPCF_HOME/trust-list.json "
            "is used too.",
        ),
    ] = None,
    trust_jwks: Annotated[
        list[Path] | None,
        typer.Option("--trust-jwks", help="Pin these public keys (JWKS file; repeatable)."),
    ] = None,
    trust_kid: Annotated[
        list[str] | None,
        typer.Option("--trust-kid", help="Pin a key id, an RFC 7638 thumbprint (repeatable)."),
    ] = None,
    issuer_url: Annotated[
        str | None,
        typer.Option(
            "--issuer-url",
            help="Issuer's https:// URL: fetch and trust <URL>/.well-known/jwks.json over TLS.",
        ),
    ] = None,
    ca_file: Annotated[
        Path | None,
        typer.Option("--ca-file", help="CA certificates (PEM) for an issuer on a private CA."),
    ] = None,
    footprint: Annotated[
        Path | None, typer.Option("--footprint", help="PACT JSON the certificate must bind.")
    ] = None,
    package_file: Annotated[
        Path | None,
        typer.Option("--package", help="Verification package the attestation must bind."),
    ] = None,
    status_list: Annotated[
        Path | None, typer.Option("--status-list", help="Issuer's signed status list file.")
    ] = None,
    require_attestation: Annotated[
        bool,
        typer.Option(
            "--require-attestation", help="Fail unless a third-party attestation is embedded."
        ),
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """Check signatures, issuer, validity, footprint digest, the verifier's attestation and
    revocation, then who signed: exit 0 only when every signer is trusted.

    Keys given with --jwks only prove integrity: without a trust anchor (--trust-list,
    --trust-jwks, --trust-kid, --issuer-url, your own key store) the verdict is "signature
    valid, signer not authenticated" (exit 40); with anchors, a signer outside them exits 41.
    """
    from openpcf.certify import (
        CertificateError,
        SignerNotAuthenticatedError,
        UntrustedSignerError,
        verify_certificate,
    )
    from openpcf.errors import InputError, located
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
        anchors = _trust_anchors(trust_list, trust_jwks, trust_kid)
        result = verify_certificate(
            token,
            jwks=list(jwks_file or []),
            trust=anchors,
            issuer_url=issuer_url,
            ca_file=ca_file,
            footprint=doc,
            package=package_file,
            status_list=listed,
            keys=key_store(),
            require_attestation=require_attestation,
        )
    except CertificateError as e:
        if as_json:
            failed: dict[str, Any] = {"valid": False, "check": e.check, "message": str(e)}
            if isinstance(e, UntrustedSignerError):
                failed["signatures"] = [s.to_dict() for s in e.signatures]
            echo_json(failed)
        raise located(e, f"{certificate}: NOT valid, {e.check} check failed") from None
    if as_json:
        echo_json(result.to_dict())
    else:
        _print_verification(certificate, result)
    try:
        result.require_authenticated()
    except SignerNotAuthenticatedError as e:
        raise located(e, str(certificate)) from None


def _trust_anchors(
    trust_list: Path | None, trust_jwks: list[Path] | None, trust_kid: list[str] | None
) -> TrustAnchors:
    """The anchors the buyer gave, and its home's trust list."""
    from openpcf.certify import (
        TrustList,
        pinned_jwks,
        pinned_kids,
        trust_list_anchors,
    )
    from openpcf.certify.trust import read_jwks_file
    from openpcf.cli.verifier import home_trust_list

    anchors = trust_list_anchors(home_trust_list())
    if trust_list is not None:
        anchors = anchors + trust_list_anchors(TrustList.load(trust_list))
    for path in trust_jwks or []:
        anchors = anchors + pinned_jwks(read_jwks_file(path), f"--trust-jwks {path}")
    return anchors + pinned_kids(trust_kid or [])


def _print_verification(certificate: Path, result: Any) -> None:
    s = result.subject
    typer.echo(f"{certificate}: valid certificate {result.id}")
    typer.echo(
        f"  {s.get('productName') or ', '.join(s.get('productIds', []))}: "
        f"{s.get('pcfExcludingBiogenicUptake')} kg CO2e per {s.get('declaredUnitAmount')} "
        f"{s.get('declaredUnit')}, {s.get('referencePeriod', {}).get('start')} to "
        f"{s.get('referencePeriod', {}).get('end')}"
    )
    for check, outcome in result.checks:
        typer.echo(f"  {check:11} {outcome}")
    typer.echo("  signatures:")
    for signature in result.signatures:
        typer.echo(f"    {signature.line()}")
    if result.anchors:
        typer.echo("  trust anchors:")
        for anchor in result.anchors:
            typer.echo(f"    {anchor}")
    else:
        typer.echo("  trust anchors: none given")
    typer.echo(f"  verdict: {result.verdict}")


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
