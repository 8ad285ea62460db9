"""``openpcf package`` and ``openpcf reproduce``: verification packages."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from openpcf.cli.certificate import (
    Assurance,
    AssuranceOpt,
    StandardOpt,
    VerifierIdOpt,
    VerifierOpt,
    attestation,
)
from openpcf.cli.options import (
    AllowIllustrativeOpt,
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

MaxEntriesOpt = Annotated[
    int | None,
    typer.Option(
        "--max-background-entries",
        min=1,
        help="The most matrix entries and stored exchanges the packed subsets of linked "
        "databases may hold together (default: $OPENPCF_MAX_BACKGROUND_ENTRIES, else "
        "2000000).",
    ),
]


def background_limit(option: int | None) -> int:
    """The bound on packed database subsets: the option, else the setting, else the package's
    default (:data:`~openpcf.package.background_subset.MAX_SUBSET_ENTRIES`)."""
    from openpcf.package.background_subset import MAX_SUBSET_ENTRIES
    from openpcf.settings import get_settings

    return option or get_settings().max_background_entries or MAX_SUBSET_ENTRIES


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
    solver: SolverOpt = "auto",
    allow_illustrative: AllowIllustrativeOpt = False,
    max_background_entries: MaxEntriesOpt = None,
) -> None:
    """Write a verification package: model, side files, factor rows, results, signatures.

    The package's PACT footprint and certificate carry the calculation's footprint id; when
    the model was published, they are the stored footprint the host serves.
    """
    from openpcf.services.packaging import build_package

    engine = open_database(create=False)
    try:
        summary = build_package(
            model,
            output=output,
            certificate=certificate,
            keys=key_store(),
            attestation=attestation(verifier_name, verifier_id, assurance, standard),
            engine=engine,
            allow_illustrative=allow_illustrative,
            max_background_entries=background_limit(max_background_entries),
            **calculation_options(gwp, param, factors, solver),
        )
    finally:
        if engine is not None:
            engine.dispose()
    typer.echo(f"wrote {output}: {len(summary.files)} files, {summary.kg_co2e!r} kg CO2e")
    if summary.background_rows:
        typer.echo(f"  {len(summary.background_rows)} background row(s) in background/rows.json")
    for line in packed_lines(output, summary.background_databases):
        typer.echo(f"  {line}")
    for name in summary.supplier_footprints:
        typer.echo(f"  supplier footprint {name}, as the supplier store holds it")
    if summary.signed:
        typer.echo("  manifest signed")
    if summary.certificate_id:
        typer.echo(f"  certificate {summary.certificate_id}")
    for note in summary.omitted:
        typer.echo(f"  omitted {note}")


def reproduce(
    package_file: Annotated[Path, typer.Argument(help="Verification package (.zip).")],
    jwks_file: Annotated[
        Path | None,
        typer.Option(
            "--jwks",
            help="Issuer's public keys (JWKS) to trust: the manifest must be signed by one of "
            "them (exit 31 otherwise). Without it the signer is not authenticated.",
        ),
    ] = None,
    as_json: JsonOpt = False,
    max_background_entries: MaxEntriesOpt = None,
) -> None:
    """Recompute a package from its contents alone and compare every number.

    Background rows and supplier footprints named by id or URN come from the package, never
    from this machine's databases or supplier store; where this machine has imported the same
    version of a background database, the packed rows are also recomputed from it and
    compared. Exit 0 when identical, 30 when not, 31 when --jwks was given and the manifest is
    not signed by one of those keys, 2 when the file is not a package or would cost too much
    to read.
    """
    from openpcf.package import ReproductionError, UntrustedPackageError
    from openpcf.services.packaging import reproduce_package
    from openpcf.settings import get_settings

    report = reproduce_package(
        package_file,
        jwks=jwks_file,
        databases=get_settings().databases_dir,
        max_background_entries=background_limit(max_background_entries),
    )
    if as_json:
        echo_json(report.to_dict())
    else:
        typer.echo(report.summary())
        for note in report.notes:
            typer.echo(f"  checked: {note}")
    if report.trusted is False:
        raise UntrustedPackageError(f"{package_file}: not trusted: {report.signature}")
    if not report.identical:
        first = (report.problems or tuple(map(str, report.differences)) or ("?",))[0]
        raise ReproductionError(f"{package_file}: not reproduced: {first}")


def packed_lines(package_file: Path, names: tuple[str, ...]) -> list[str]:
    """One line per linked database subset the package just written carries: name, version,
    activities packed of the database's, entries (from its manifest)."""
    if not names:
        return []
    from openpcf.package.archive import read_zip
    from openpcf.package.manifest import read_manifest

    listed = read_manifest(read_zip(package_file), package_file).get("background_databases")
    entries: dict[str, Any] = listed if isinstance(listed, dict) else {}
    lines = []
    for ref in names:
        info = entries.get(ref) or {}
        name, _, version = ref.rpartition("@")
        lines.append(
            f"linked database {name} version {version}: {info.get('activities', '?')} of "
            f"{info.get('database_activities', '?')} activities packed "
            f"({info.get('entries', '?')} entries)"
        )
    return lines
