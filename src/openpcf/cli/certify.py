"""``openpcf keys``, ``openpcf certificate``, ``openpcf audit``, ``openpcf package``, ``reproduce``.

Heavy imports stay inside the command bodies so ``openpcf --help`` is instant. Failed checks
raise :class:`~openpcf.errors.OpenPCFError` subclasses whose ``exit_code`` names the check
(see :mod:`openpcf.certify.errors`); :func:`openpcf.cli.main.run` prints them.
"""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

if TYPE_CHECKING:
    from openpcf.certify import Attestation
    from openpcf.model.calculation import Calculation

keys_app = typer.Typer(help="Issuer signing keys: create, rotate, list, export as JWKS.")
certificate_app = typer.Typer(help="Green certificates (W3C Verifiable Credentials, vc+jwt).")
audit_app = typer.Typer(help="The append-only, hash-chained audit trail of calculations.")


class Alg(StrEnum):
    ed25519 = "Ed25519"
    es256 = "ES256"


class Assurance(StrEnum):
    limited = "limited"
    reasonable = "reasonable"


JsonOpt = Annotated[bool, typer.Option("--json", help="Machine-readable JSON output.")]
ParamOpt = Annotated[
    list[str] | None,
    typer.Option("--param", "-p", help="Override a parameter: name=value (repeatable)."),
]
GwpOpt = Annotated[
    str | None, typer.Option("--gwp", help="GWP set: AR6 (default), AR5, AR5-CCF or AR4.")
]
FactorsOpt = Annotated[
    list[Path] | None,
    typer.Option("--factors", help="Extra factor set (CSV or YAML), used with the bundled one."),
]
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
TrailOpt = Annotated[
    Path | None,
    typer.Option("--trail", help="Trail file (default $OPENPCF_HOME/audit/trail.jsonl)."),
]


def _echo_json(data: Any) -> None:
    typer.echo(json.dumps(data, indent=2, ensure_ascii=False))


def _attestation(
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


def _calculate(
    model: Path, gwp: str | None, params: list[str] | None, extra: list[Path] | None
) -> Calculation:
    from openpcf.model.parameters import parse_overrides
    from openpcf.services.calculate import calculate
    from openpcf.services.factor_sets import active_factor_set

    return calculate(
        model,
        overrides=parse_overrides(params or []),
        gwp=gwp,
        factors=active_factor_set(extra or []),
    )


# --------------------------------------------------------------------------------------------
# keys


@keys_app.command("create")
def keys_create(
    alg: Annotated[Alg, typer.Option("--alg", help="Signature algorithm.")] = Alg.ed25519,
    issuer: Annotated[
        str | None,
        typer.Option("--issuer", help="Issuer URL that serves /.well-known/jwks.json."),
    ] = None,
) -> None:
    """Create the issuer's first signing key in $OPENPCF_HOME/keys."""
    from openpcf.certify import KeyStore

    store = KeyStore()
    info = store.create(alg=alg.value, issuer=issuer)
    typer.echo(f"created {info.alg} key {info.kid} for issuer {store.issuer} in {store.folder}")


@keys_app.command("rotate")
def keys_rotate(
    alg: Annotated[Alg | None, typer.Option("--alg", help="Algorithm of the new key.")] = None,
) -> None:
    """Retire the active key (it still verifies old certificates) and create a new one."""
    from openpcf.certify import KeyStore

    old, new = KeyStore().rotate(alg=alg.value if alg else None)
    typer.echo(f"retired {old.kid}; new active {new.alg} key {new.kid}")


@keys_app.command("list")
def keys_list(as_json: JsonOpt = False) -> None:
    """List keys: id, algorithm, created, status (active or retired)."""
    from openpcf.certify import KeyStore

    infos = KeyStore().list_keys()
    if as_json:
        _echo_json([k.to_dict() for k in infos])
        return
    if not infos:
        typer.echo("no keys; run `openpcf keys create`")
    for k in infos:
        retired = f" (retired {k.retired})" if k.retired else ""
        typer.echo(f"{k.kid}  {k.alg:7}  {k.created}  {k.status}{retired}")


@keys_app.command("export-jwks")
def keys_export(
    output: Annotated[Path, typer.Option("--output", "-o", help="JWKS file to write.")],
) -> None:
    """Write the public keys (active and retired) as a JWKS file for verifiers."""
    from openpcf.audit.fileio import atomic_write
    from openpcf.certify import jwks

    data = jwks(public_only=True)
    atomic_write(output, (json.dumps(data, indent=2) + "\n").encode())
    typer.echo(f"wrote {len(data['keys'])} public key(s) to {output}")


# --------------------------------------------------------------------------------------------
# certificates


@certificate_app.command("issue")
def certificate_issue(
    source: Annotated[Path, typer.Argument(help="Product model (YAML) or PACT footprint (JSON).")],
    output: Annotated[Path, typer.Option("--output", "-o", help="Certificate file (.jwt).")],
    verifier_name: VerifierOpt = None,
    verifier_id: VerifierIdOpt = "",
    assurance: AssuranceOpt = Assurance.limited,
    standard: StandardOpt = "ISO14064-3",
    valid_days: Annotated[int, typer.Option("--valid-days", min=1)] = 365,
    footprint_out: Annotated[
        Path | None,
        typer.Option("--footprint-out", help="For a model: also write the certified PACT JSON."),
    ] = None,
    param: ParamOpt = None,
    gwp: GwpOpt = None,
    factors: FactorsOpt = None,
) -> None:
    """Issue a signed green certificate for a model's footprint or a PACT footprint JSON."""
    import datetime as dt

    from openpcf.audit.fileio import atomic_write
    from openpcf.certify import issue_certificate
    from openpcf.certify.errors import UncertifiableFootprintError

    if source.suffix.lower() == ".json":
        try:
            footprint = json.loads(source.read_text(encoding="utf-8"))
        except (OSError, ValueError) as e:
            raise UncertifiableFootprintError(
                f"{source}: cannot read the footprint JSON: {e}"
            ) from None
    else:
        from openpcf.audit import record_calculation
        from openpcf.exchange.pact import product_footprint

        calculation = _calculate(source, gwp, param, factors)
        record_calculation(calculation, kind="certificate", context={"model": str(source)})
        footprint = product_footprint(calculation)
        out = footprint_out or output.with_suffix(".pact.json")
        atomic_write(out, (json.dumps(footprint, indent=2, ensure_ascii=False) + "\n").encode())
        typer.echo(f"wrote the certified footprint to {out}")
    cert = issue_certificate(
        footprint,
        attestation=_attestation(verifier_name, verifier_id, assurance, standard),
        valid_for=dt.timedelta(days=valid_days),
    )
    atomic_write(output, (cert.token + "\n").encode())
    typer.echo(f"issued certificate {cert.id} (key {cert.kid}, valid until {cert.valid_until})")


@certificate_app.command("verify")
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

    if jwks_file and issuer_url:
        raise typer.BadParameter("give --jwks or --issuer-url, not both")
    try:
        token = certificate.read_text(encoding="utf-8")
        doc = json.loads(footprint.read_text(encoding="utf-8")) if footprint else None
        listed = status_list.read_text(encoding="utf-8") if status_list else None
    except (OSError, ValueError) as e:
        from openpcf.errors import InputError

        raise InputError(f"cannot read an input file: {e}") from None
    try:
        result = verify_certificate(
            token, jwks=jwks_file, issuer_url=issuer_url, footprint=doc, status_list=listed
        )
    except CertificateError as e:
        if as_json:
            _echo_json({"valid": False, "check": e.check, "message": str(e)})
        raise type(e)(f"{certificate}: NOT valid, {e.check} check failed: {e}") from None
    if as_json:
        _echo_json(result.to_dict())
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


@certificate_app.command("revoke")
def certificate_revoke(
    credential_id: Annotated[str, typer.Argument(help="Certificate id (urn:uuid:...).")],
) -> None:
    """Revoke a certificate; then publish the new status list (certificate status-list)."""
    from openpcf.certify import revoke_certificate

    index = revoke_certificate(credential_id)
    typer.echo(
        f"revoked {credential_id} (status-list index {index}); publish the new list with "
        "`openpcf certificate status-list -o FILE` or `openpcf serve`"
    )


@certificate_app.command("status-list")
def certificate_status_list(
    output: Annotated[Path, typer.Option("--output", "-o", help="File to write (.jwt).")],
) -> None:
    """Write the signed revocation list (Bitstring Status List credential, vc+jwt)."""
    from openpcf.audit.fileio import atomic_write
    from openpcf.certify import status_list

    atomic_write(output, (status_list() + "\n").encode())
    typer.echo(f"wrote the signed status list to {output}")


# --------------------------------------------------------------------------------------------
# audit


@audit_app.command("verify")
def audit_verify(trail: TrailOpt = None) -> None:
    """Check every record: detects edited, deleted, reordered or inserted records."""
    from openpcf.audit import verify_trail

    report = verify_trail(trail)
    typer.echo(f"{report.path}: {report.records} record(s), chain intact, head {report.head[:16]}")


@audit_app.command("list")
def audit_list(
    trail: TrailOpt = None,
    limit: Annotated[int, typer.Option("--limit", "-n", help="Last N records (0: all).")] = 20,
    as_json: JsonOpt = False,
) -> None:
    """List recorded calculations (unchecked; run `openpcf audit verify`)."""
    from openpcf.audit import list_records

    records = list_records(trail)
    shown = records[-limit:] if limit else records
    if as_json:
        _echo_json([r.to_dict() for r in shown])
        return
    for r in shown:
        d = r.data
        typer.echo(
            f"{r.seq:5}  {r.time}  {r.kind:12}  {d.get('product', '')}: "
            f"{d.get('kg_co2e', '')} kg CO2e  model {str(d.get('model_sha256', ''))[:12]}  "
            f"{r.hash[:12]}"
        )


# --------------------------------------------------------------------------------------------
# package and reproduce


def package(
    model: Annotated[Path, typer.Argument(help="Product model file (YAML).")],
    output: Annotated[Path, typer.Option("--output", "-o", help="Package file (.zip).")],
    param: ParamOpt = None,
    gwp: GwpOpt = None,
    factors: FactorsOpt = None,
    certificate: Annotated[
        bool | None,
        typer.Option(
            "--certificate/--no-certificate",
            help="Include a green certificate (default: when a signing key exists).",
        ),
    ] = None,
    verifier_name: VerifierOpt = None,
    verifier_id: VerifierIdOpt = "",
    assurance: AssuranceOpt = Assurance.limited,
    standard: StandardOpt = "ISO14064-3",
) -> None:
    """Write a verification package: model, side files, factor rows, results, signatures."""
    from openpcf.audit import record_calculation
    from openpcf.model.parameters import parse_overrides
    from openpcf.services.factor_sets import active_factor_set
    from openpcf.services.packaging import build_package

    summary = build_package(
        model,
        output=output,
        overrides=parse_overrides(param or []),
        gwp=gwp,
        factors=active_factor_set(factors or []),
        certificate=certificate,
        attestation=_attestation(verifier_name, verifier_id, assurance, standard),
    )
    record_calculation(summary.calculation, kind="package", context={"package": str(output)})
    typer.echo(f"wrote {output}: {len(summary.files)} files, {summary.kg_co2e!r} kg CO2e")
    if summary.signed:
        typer.echo("  manifest signed")
    if summary.certificate_id:
        typer.echo(f"  certificate {summary.certificate_id}")
    for note in summary.omitted:
        typer.echo(f"  omitted {note}")


def reproduce(
    package_file: Annotated[Path, typer.Argument(help="Verification package (.zip).")],
    jwks_file: Annotated[
        Path | None, typer.Option("--jwks", help="Issuer's JWKS to trust (default: packaged).")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Recompute a package from its contents alone and compare every number."""
    from openpcf.services.packaging import ReproductionError, reproduce_package

    report = reproduce_package(package_file, jwks=jwks_file)
    if as_json:
        _echo_json(report.to_dict())
    else:
        typer.echo(report.summary())
        for note in report.notes:
            typer.echo(f"  checked: {note}")
    if not report.identical:
        first = (report.problems or tuple(map(str, report.differences)) or ("?",))[0]
        raise ReproductionError(f"{package_file}: not reproduced: {first}")
