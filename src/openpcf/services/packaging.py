"""Verification packages: build one from a model, and reproduce one from its contents alone.

What a package holds, and its pure parts, are in :mod:`openpcf.package`.

:func:`reproduce_package` recomputes from the zip alone: it checks every digest, rebuilds the
factor set from ``factors/rows.csv`` only (never the bundled database), recompiles the packaged
model and compares every number of the new result with ``result.json``, naming each number that
differs and the factor rows or side files that explain it.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import importlib
import json
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Unpack

from openpcf.certify import KeyStoreError, issue_certificate
from openpcf.certify import jwks as issuer_jwks
from openpcf.errors import InputError, OpenPCFError
from openpcf.factors import FactorSet
from openpcf.files.durable import atomic_write
from openpcf.model.loading import load_model
from openpcf.model.result_json import result_to_dict
from openpcf.package.archive import read_zip, write_zip
from openpcf.package.compare import compare_rows, diff, explain, relocate, solver_backend
from openpcf.package.format import (
    CERTIFICATE,
    JWKS,
    MANIFEST,
    PACT,
    REPORT,
    RESULT,
    ROWS,
    SIGNATURE,
    PackageError,
    dumps,
    read_json,
)
from openpcf.package.layout import check_side_files, extract_model, layout, packaged_model
from openpcf.package.manifest import build_manifest, check_files, read_manifest
from openpcf.package.results import Difference, Findings, PackageSummary, ReproductionReport
from openpcf.package.rows import checked_rows_csv, packaged_rows, set_rows
from openpcf.package.signature import (
    check_certificate,
    check_signature,
    sign_manifest,
    trusted_keys,
)
from openpcf.services.calculate import CalculationOptions, calculate
from openpcf.services.publishing import deliverable_footprint

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from openpcf.certify import Attestation, KeyStore
    from openpcf.factors import Factor
    from openpcf.model.calculation import Calculation

__all__ = ["build_package", "reproduce_package"]


def build_package(
    model: Path | str,
    *,
    output: Path | str,
    certificate: bool | None = None,
    keys: KeyStore | None = None,
    attestation: Attestation | None = None,
    lang: str = "en",
    now: dt.datetime | None = None,
    engine: Engine | None = None,
    **options: Unpack[CalculationOptions],
) -> PackageSummary:
    """Calculate ``model`` and write its verification package to ``output`` (atomically).

    Parameters
    ----------
    model
        The product model file.
    output
        The zip to write (replaced atomically: readers never see a half-written file).
    certificate
        Issue a green certificate over the PACT footprint: None (default) when the key store
        has an active key, True to require it, False never. The manifest is signed whenever
        the key store has an active key.
    keys
        The issuer's key store (the edge passes ``$OPENPCF_HOME/keys``); without one, or
        without an active key in it, the package is neither certified nor signed.
    attestation
        The verifier's attestation for the certificate.
    lang
        Language of the HTML report.
    now
        Creation time (UTC); now by default.
    engine
        The footprint database: when the model's calculation is published there, the package
        carries the stored footprint (the document the host serves) instead of a new one.
    options
        As for :func:`openpcf.services.calculate.calculate`.

    Raises
    ------
    PackageError
        An absolute or missing side-file path, or factor rows that would not reload exactly.
    KeyStoreError
        ``certificate=True`` without an active key.
    """
    created = (now or dt.datetime.now(dt.UTC)).astimezone(dt.UTC).replace(microsecond=0)
    calculation = calculate(model, audit={"package": str(output)}, audit_kind="package", **options)
    compiled, result = calculation.compiled, calculation.result
    _, sources = layout(compiled.loaded)
    files: dict[str, bytes] = {name: path.read_bytes() for name, path in sources.items()}
    model_name = next(n for n, p in sources.items() if p == compiled.loaded.path.resolve())

    files[ROWS] = checked_rows_csv(compiled.factors).encode("utf-8")
    files[RESULT] = dumps(result_to_dict(result))

    omitted: list[str] = []
    footprint: dict[str, Any] | None = None
    try:
        footprint = deliverable_footprint(calculation, engine=engine)
        files[PACT] = dumps(footprint)
    except InputError as e:
        omitted.append(f"{PACT}: {e}")
    report = _report_html(calculation, lang)
    if isinstance(report, str):
        files[REPORT] = report.encode("utf-8")
    else:
        omitted.append(f"{REPORT}: {report[0]}")

    store = keys if keys is not None and keys.exists() else None
    cert_id = None
    if certificate or (certificate is None and store is not None):
        if footprint is None:
            raise PackageError(f"no certificate without a PACT footprint: {omitted[0]}")
        if keys is None:
            raise KeyStoreError("no key store for the certificate: run `openpcf keys create`")
        cert = issue_certificate(footprint, keys=keys, attestation=attestation, now=created)
        files[CERTIFICATE], cert_id = (cert.token + "\n").encode(), cert.id
    elif certificate is None:
        omitted.append(f"{CERTIFICATE}: no signing key (run `openpcf keys create`)")
    if store is not None:
        files[JWKS] = dumps(issuer_jwks(keys=store))

    manifest = build_manifest(
        calculation,
        model=model_name,
        created=created,
        overrides=options.get("overrides"),
        gwp=options.get("gwp"),
        certificate=cert_id,
        omitted=omitted,
        files=files,
    )
    files[MANIFEST] = dumps(manifest)
    if store is not None:
        files[SIGNATURE] = (sign_manifest(files[MANIFEST], store) + "\n").encode()
    out = Path(output)
    atomic_write(out, write_zip(files, created))
    return PackageSummary(
        path=str(out),
        files=tuple(sorted(files)),
        kg_co2e=result.total,
        certificate_id=cert_id,
        signed=store is not None,
        omitted=tuple(omitted),
        calculation=calculation,
    )


def _report_html(calculation: Calculation, lang: str) -> str | tuple[str]:
    """The ISO 14067 HTML report, or (why it is missing,)."""
    # looked up when called, not imported: the report is optional in a package
    try:
        reports = importlib.import_module("openpcf.reports")
    except ModuleNotFoundError as e:
        if e.name not in ("openpcf.reports", "openpcf"):
            raise  # the reports package exists but one of its own imports is missing
        return ("openpcf.reports is not installed in this version",)
    if not all(hasattr(reports, name) for name in ("build_report_data", "render_html")):
        return ("openpcf.reports has no build_report_data/render_html in this version",)
    data = reports.build_report_data(calculation, lang=lang)
    return str(reports.render_html(data))


def reproduce_package(
    package: Path | str, *, jwks: Mapping[str, Any] | Path | None = None
) -> ReproductionReport:
    """Recompute a package from its own contents and compare with its result.

    Only the package is read: the model and side files are extracted to a fresh temporary
    folder, the factor set is built from ``factors/rows.csv`` alone and nothing is fetched.
    The zip's cost is bounded (:func:`openpcf.package.archive.read_zip`), and the model the
    manifest names and every file that model reads must be files of the package inside that
    folder (:func:`openpcf.package.layout.check_side_files`): a crafted package cannot make a
    verifier's machine read its own files.

    Parameters
    ----------
    package
        The zip written by :func:`build_package`.
    jwks
        The issuer's trusted public keys (a JWKS document or file). The manifest must then be
        signed by one of them, else the report has ``trusted=False`` and is not identical.
        Without them the signature is checked with the keys inside the package, which proves
        integrity only: the verdict says "signer not authenticated".

    Raises
    ------
    PackageError
        If the file is not a zip with a readable ``manifest.json``, or reading it would cost
        more than a package may (members, sizes, compression ratio).
    KeySourceError
        If ``jwks`` cannot be read or is not a JWKS.
    """
    path = Path(package)
    found = Findings()
    trusted = trusted_keys(jwks)
    contents = read_zip(path)
    manifest = read_manifest(contents, path)
    check_files(contents, manifest, found)
    check_signature(contents, trusted, found)
    rows = packaged_rows(contents, manifest, found)
    packaged = read_json(contents, RESULT)
    total_packaged = packaged.get("kg_co2e") if isinstance(packaged, dict) else None
    with tempfile.TemporaryDirectory(prefix="openpcf-reproduce-") as tmp:
        recomputed = _recompute(Path(tmp), contents, manifest, rows, found)
        differences: list[Difference] = []
        if recomputed is not None and rows is not None and isinstance(packaged, dict):
            calculation, mapped = recomputed
            differences = list(diff(packaged, mapped))
            compare_rows(calculation, rows, manifest, found, Path(tmp))
            if differences:
                explain(differences, packaged, mapped, manifest, found)
    check_certificate(contents, trusted, found)
    total_recomputed = None
    if recomputed is not None:
        total_recomputed = recomputed[0].result.total
    identical = not found.problems and not differences and recomputed is not None
    return ReproductionReport(
        package=str(path),
        identical=identical,
        kg_co2e_packaged=total_packaged,
        kg_co2e_recomputed=total_recomputed,
        problems=tuple(found.problems),
        differences=tuple(differences),
        causes=tuple(dict.fromkeys(found.causes)),
        notes=tuple(found.notes),
        signature=found.signature,
        trusted=found.trusted,
    )


def _recompute(
    tmp: Path,
    contents: Mapping[str, bytes],
    manifest: Mapping[str, Any],
    rows: Mapping[str, Factor] | None,
    f: Findings,
) -> tuple[Calculation, dict[str, Any]] | None:
    """Recalculate the packaged model, extracted into ``tmp``, with the packaged rows only."""
    if rows is None:
        return None
    backend = solver_backend(manifest, f)
    try:
        extract_model(tmp, contents)
        model_path = packaged_model(tmp, manifest)
        if manifest["model"] not in contents:
            raise PackageError(
                f"the manifest names the model {manifest['model']!r}, which the package does "
                "not hold"
            )
        loaded = load_model(model_path)
        # the model's own factor_sets are already among the packaged rows, and never read
        loaded = dataclasses.replace(
            loaded, model=loaded.model.model_copy(update={"factor_sets": []})
        )
        check_side_files(loaded, tmp, contents)
        calculation = calculate(
            loaded,
            factors=FactorSet("package", set_rows(rows, manifest)),
            overrides=manifest.get("overrides") or {},
            gwp=manifest.get("gwp"),
            backend=backend,
        )
    except OpenPCFError as e:
        f.problems.append(f"the packaged model cannot be recomputed from the package alone: {e}")
        return None
    result = calculation.result
    plain = json.loads(json.dumps(result_to_dict(result)))  # numpy floats -> float, as packaged
    mapped = relocate(plain, model_path.parent, manifest)
    return calculation, mapped
