"""Verification packages: build one from a model, and reproduce one from its contents alone.

What a package holds, and its pure parts, are in :mod:`openpcf.package`.

:func:`build_package` packs what the calculation read from outside the model file: its side
files (shipments, electricity claims, supplier footprint files, factor sets), the rows of the
imported LCI databases its ``background:`` inputs use (``background/rows.json``) and the
supplier footprints it names by footprint id or product URN, exactly as the supplier store held
them (``suppliers/``). For a model with linked backgrounds it also packs the part of each linked
database the model reaches (``background/databases/``, :mod:`openpcf.services.linked_packaging`),
and its result is the one solved on that part.

:func:`reproduce_package` recomputes from the zip alone: it checks every digest, rebuilds the
factor set from ``factors/rows.csv`` only (never the bundled database), resolves ``background:``
and received supplier references from the packed rows and documents only, and linked databases
from their packed subsets (never a database or supplier store of the verifier's), recompiles
the packaged model and compares every number of the new result with ``result.json``, naming
each number that differs and the factor rows or files that explain it. When the verifier has
the same version of a background database, its rows are also recomputed from it and compared,
and a packed subset is cut again from it and compared (a note or a problem says which).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import importlib
import json
import math
import re
import tempfile
from collections.abc import Mapping
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, Unpack

from openpcf.certify import KeyStoreError, issue_certificate
from openpcf.certify import jwks as issuer_jwks
from openpcf.electricity import electricity_factor
from openpcf.errors import InputError, OpenPCFError
from openpcf.exchange.pact import product_footprint
from openpcf.exchange.supplier import ReceivedFootprint, supplier_factor
from openpcf.factors import FactorSet
from openpcf.files.durable import atomic_write
from openpcf.io.store import DatabaseStore, database_name
from openpcf.logistics import shipment_factor
from openpcf.model.compiler import Resolvers
from openpcf.model.loading import LoadedModel, load_model
from openpcf.model.result_json import result_to_dict
from openpcf.package.archive import is_safe, read_zip, write_zip
from openpcf.package.background import (
    BackgroundFileError,
    BackgroundRow,
    PackedBackground,
    background_json,
    read_background,
)
from openpcf.package.background_subset import (
    MAX_SUBSET_ENTRIES,
    DatabaseSubset,
    PackedDatabases,
)
from openpcf.package.compare import compare_rows, diff, explain, relocate, solver_backend
from openpcf.package.format import (
    BACKGROUND,
    CERTIFICATE,
    JWKS,
    MANIFEST,
    PACT,
    REPORT,
    RESULT,
    ROWS,
    RULES,
    SIGNATURE,
    PackageError,
    dumps,
    read_json,
)
from openpcf.package.layout import (
    background_references,
    check_side_files,
    extract_model,
    layout,
    packaged_model,
    received_references,
    side_files,
)
from openpcf.package.manifest import build_manifest, check_files, read_manifest
from openpcf.package.results import Difference, Findings, PackageSummary, ReproductionReport
from openpcf.package.rows import checked_rows_csv, origin, packaged_rows, set_rows
from openpcf.package.signature import (
    check_certificate,
    check_signature,
    sign_manifest,
    trusted_keys,
)
from openpcf.package.suppliers import PackedFootprints, read_received, received_entry
from openpcf.services.calculate import (
    CalculationOptions,
    calculate,
    rule_set_for,
    supplier_store,
)
from openpcf.services.databases import background_factor
from openpcf.services.linked_packaging import (
    calculate_linked,
    compare_with_local_subsets,
    option_from_manifest,
    packed_databases,
)
from openpcf.services.publishing import deliverable_footprint

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from openpcf.certify import Attestation, KeyStore
    from openpcf.factors import Factor
    from openpcf.model.calculation import Calculation
    from openpcf.model.compiler import CompiledModel
    from openpcf.model.schema import BackgroundElectricity
    from openpcf.settings import Settings

__all__ = ["build_package", "reproduce_package"]


def build_package(
    model: Path | str | LoadedModel,
    *,
    output: Path | str,
    certificate: bool | None = None,
    keys: KeyStore | None = None,
    attestation: Attestation | None = None,
    lang: str = "en",
    now: dt.datetime | None = None,
    engine: Engine | None = None,
    allow_illustrative: bool = False,
    audit: Mapping[str, str] | None = None,
    organisation: str | None = None,
    max_background_entries: int = MAX_SUBSET_ENTRIES,
    **options: Unpack[CalculationOptions],
) -> PackageSummary:
    """Calculate ``model`` and write its verification package to ``output`` (atomically).

    Parameters
    ----------
    model
        The product model file, or a model already loaded. A loaded model is packed from its
        text under its file's name; one without a folder (a relative path, such as the web
        editor's ``model.yaml``) may name no side files, and its manifest's ``model_dir`` is
        ``.``, so the package records no folder of the server's.
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
    allow_illustrative
        Pack the PACT footprint (and certify it) although it uses illustrative factors; its
        ``comment`` then says so (:func:`openpcf.services.publishing.pact_document`). Without
        it such a model's package omits ``footprint.pact.json`` and says why.
    audit
        The context of the package's audit record; default ``{"package": output}``.
    organisation
        The data owner whose accepted supplier data and received supplier footprints the
        calculation reads and the package carries (see
        :func:`~openpcf.services.calculate.calculate`); default: the model's
        ``product.company_name``.
    max_background_entries
        For a model with linked backgrounds: the most matrix entries and stored exchanges the
        packed database subsets may hold together
        (:data:`~openpcf.package.background_subset.MAX_SUBSET_ENTRIES` by default); a model
        that reaches more is refused (see :mod:`openpcf.services.linked_packaging`).
    options
        As for :func:`openpcf.services.calculate.calculate`.

    Raises
    ------
    PackageError
        An absolute or missing side-file path, factor rows that would not reload exactly, a
        database or supplier footprint that changed while the package was built, or linked
        databases that reach more than ``max_background_entries`` entries
        (:class:`~openpcf.package.background_subset.SubsetTooLargeError`).
    KeyStoreError
        ``certificate=True`` without an active key.
    InputError
        (from the calculation) e.g. a background database that is not imported or a supplier
        footprint id or URN that is not in the supplier store, each naming the input.
    """
    created = (now or dt.datetime.now(dt.UTC)).astimezone(dt.UTC).replace(microsecond=0)
    if isinstance(model, LoadedModel) and not model.path.is_absolute() and side_files(model):
        raise PackageError(
            f"{model.path}: a model without a folder cannot read side files "
            f"({', '.join(side_files(model))})"
        )
    context = audit if audit is not None else {"package": str(output)}
    calculation, database_files, databases = calculate_linked(
        model,
        audit=context,
        organisation=organisation,
        max_background_entries=max_background_entries,
        **options,
    )
    compiled, result = calculation.compiled, calculation.result
    _, sources = layout(compiled.loaded)
    model_path = compiled.loaded.path.resolve()
    model_name = next(n for n, p in sources.items() if p == model_path)
    files: dict[str, bytes] = {
        name: path.read_bytes() for name, path in sources.items() if name != model_name
    }
    files[model_name] = (
        model.doc.text.encode("utf-8")
        if isinstance(model, LoadedModel)
        else model_path.read_bytes()
    )

    settings = options.get("settings")
    background = _background_rows(compiled, settings)
    owner = organisation or compiled.model.product.company_name
    received, supplier_files, origins = _received_footprints(compiled, settings, owner)
    origins.update({row.factor.id: "background" for row in background})
    files.update(supplier_files)
    in_background = {row.factor.id for row in background}
    supply = _supply_rows(compiled)
    set_and_side_rows = [f for f in compiled.factors if f.id not in in_background]
    set_and_side_rows += [f for f in supply if f not in set_and_side_rows]
    files[ROWS] = checked_rows_csv(set_and_side_rows).encode("utf-8")
    files.update(database_files)
    ruleset = rule_set_for(
        compiled.loaded,
        options.get("rules"),
        rule_files=options.get("rule_files", ()),
        settings=settings,
    )
    if ruleset is not None:
        files[f"{RULES}{ruleset.rules.id}.yaml"] = ruleset.doc.text.encode("utf-8")
    if background:
        files[BACKGROUND] = background_json(background)
    files[RESULT] = dumps(result_to_dict(result))

    omitted: list[str] = []
    footprint: dict[str, Any] | None = None
    try:
        footprint = deliverable_footprint(
            calculation, engine=engine, allow_illustrative=allow_illustrative
        )
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
        origins=origins,
        received=received,
        rules=options.get("rules"),
        databases=databases,
        background_electricity=_option_json(options.get("background_electricity")),
        extra_rows=supply,
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
        background_rows=tuple(sorted(in_background)),
        supplier_footprints=tuple(sorted(supplier_files)),
        background_databases=tuple(sorted(databases)),
    )


def _supply_rows(compiled: CompiledModel) -> list[Factor]:
    """The factor-set row re-pointed background electricity takes (a grid row), if any."""
    supply = compiled.linked.supply if compiled.linked is not None else None
    if supply is None or supply.id not in compiled.factor_set:
        return []  # none, or a claims file's row (recomputed from the packed file)
    return [supply]


def _option_json(option: BackgroundElectricity | None) -> dict[str, Any] | None:
    """``--background-electricity`` as the manifest records it."""
    return None if option is None else option.model_dump(mode="json", exclude_none=True)


def _background_rows(compiled: CompiledModel, settings: Settings | None) -> list[BackgroundRow]:
    """The rows the model's ``background:`` inputs used, with their database's identity."""
    refs = background_references(compiled.loaded)
    if not refs:
        return []
    if settings is None:  # the calculation needed the databases: not reached in practice
        raise PackageError("background inputs need the imported databases (the user's settings)")
    store = DatabaseStore(settings.databases_dir)
    used = {f.id: f for f in compiled.factors}
    rows: dict[str, BackgroundRow] = {}
    for ref in refs:
        factor = background_factor(ref, store=store)
        if factor.id not in used or used[factor.id].canonical() != factor.canonical():
            raise PackageError(
                f"background {ref!r}: the database changed while the package was built; "
                "build the package again"
            )
        if factor.id in rows:
            row = rows[factor.id]
            rows[factor.id] = dataclasses.replace(row, references=(*row.references, ref))
            continue
        stored = store.get(ref.partition(":")[0].strip())
        activity = factor.id.removeprefix(f"{stored.ref}:")
        column = next((c for c in stored.columns() if c.id == activity), None)
        rows[factor.id] = BackgroundRow(
            references=(ref,),
            database=stored.name,
            version=stored.version,
            content_sha256=str(stored.meta.get("content_sha256", "")),
            format=str(stored.meta.get("format", "")),
            source_file=str(stored.meta.get("source_file", "")),
            process_uuid=column.process_id if column is not None else activity,
            activity=activity,
            licence=factor.licence,
            factor=used[factor.id],
        )
    return list(rows.values())


def _received_footprints(
    compiled: CompiledModel, settings: Settings | None, organisation: str
) -> tuple[dict[str, dict[str, str]], dict[str, bytes], dict[str, str]]:
    """For the supplier footprints the model names by id or URN: the manifest's
    ``received_footprints``, the files of ``suppliers/`` (as ``organisation``'s store holds
    them) and the origin of their rows."""
    refs = received_references(compiled.loaded)
    if not refs:
        return {}, {}, {}
    if settings is None:  # the calculation needed the supplier store: not reached in practice
        raise PackageError("supplier footprints by id or URN need the supplier store (settings)")
    store = supplier_store(settings, organisation=organisation)
    used = {f.id: f for f in compiled.factors}
    entries: dict[str, dict[str, str]] = {}
    files: dict[str, bytes] = {}
    origins: dict[str, str] = {}
    for ref in refs:
        found = store.find(ref)
        entry, data = received_entry(ref, found)
        # the row this document gives from the package is the row the calculation used
        factor = supplier_factor(
            ref, base=compiled.loaded.path.parent, store=PackedFootprints({ref: found})
        )
        if factor.id not in used or used[factor.id].canonical() != factor.canonical():
            raise PackageError(
                f"supplier_footprint {ref!r}: the supplier store changed while the package was "
                "built; build the package again"
            )
        entries[ref], files[entry["file"]], origins[factor.id] = entry, data, "received"
    return entries, files, origins


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
    package: Path | str,
    *,
    jwks: Mapping[str, Any] | Path | None = None,
    databases: Path | None = None,
    max_background_entries: int = MAX_SUBSET_ENTRIES,
) -> ReproductionReport:
    """Recompute a package from its own contents and compare with its result.

    Only the package is read: the model and side files are extracted to a fresh temporary
    folder, the factor set is built from ``factors/rows.csv`` alone, ``background:`` inputs
    are resolved from ``background/rows.json`` and supplier footprints named by id or URN from
    ``suppliers/``, linked databases from their subsets under ``background/databases/``, and
    nothing is fetched.
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
    databases
        The verifier's imported databases (``$OPENPCF_HOME/databases``). Where it holds the
        very version of a database a background row comes from, the row is recomputed from it
        too and compared (a difference is a problem); the result is recomputed from the packed
        rows in any case. A note says, for each database, which was done. A packed subset of
        a linked database is likewise cut again from that version and compared.
    max_background_entries
        The most entries a package's linked database subsets may declare
        (:data:`~openpcf.package.background_subset.MAX_SUBSET_ENTRIES` by default); a package
        beyond it is not reproduced (the problem names the bound).

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
    background = _packed_background(contents, manifest, found)
    rows = packaged_rows(contents, manifest, found, background or ())
    received = read_received(contents, manifest, found)
    subsets = packed_databases(contents, manifest, found, limit=max_background_entries)
    if background:
        _compare_with_local_databases(background, databases, found)
    if subsets:
        compare_with_local_subsets(subsets, databases, found)
    resolvers = (
        None
        if background is None or subsets is None
        else _packed_resolvers(background, received, subsets)
    )
    packaged = read_json(contents, RESULT)
    total_packaged = packaged.get("kg_co2e") if isinstance(packaged, dict) else None
    with tempfile.TemporaryDirectory(prefix="openpcf-reproduce-") as tmp:
        recomputed = _recompute(Path(tmp), contents, manifest, rows, resolvers, found)
        differences: list[Difference] = []
        if recomputed is not None and rows is not None and isinstance(packaged, dict):
            calculation, mapped = recomputed
            differences = list(diff(packaged, mapped))
            compare_rows(calculation, rows, manifest, found, Path(tmp))
            if differences:
                explain(differences, packaged, mapped, manifest, found)
            _compare_pact(contents, calculation, found)
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


#: ``pcf`` members that name where the rows came from (the user's factor sets when packed, the
#: package's rows when reproduced), compared row by row by :func:`compare_rows` instead.
_PACT_PROVENANCE = frozenset({"secondaryEmissionFactorSources"})


def _compare_pact(contents: Mapping[str, bytes], calculation: Calculation, found: Findings) -> None:
    """The package's PACT footprint must state what the recomputation gives.

    ``result.json`` holds the whole model; the PACT document may be its cradle-to-gate part
    (:func:`openpcf.services.publishing.pact_document`), so its ``pcf`` block is made again from
    the recomputed calculation and compared field by field: a signed package whose result is
    honest but whose PACT document states other numbers does not reproduce.
    """
    if PACT not in contents:
        return
    stated = read_json(contents, PACT)
    pcf = stated.get("pcf") if isinstance(stated, dict) else None
    if not isinstance(pcf, dict):
        found.problems.append(f"{PACT} has no pcf block")
        return
    again = product_footprint(calculation, version="3")["pcf"]
    for name in sorted((set(pcf) | set(again)) - _PACT_PROVENANCE):
        if pcf.get(name) != again.get(name):
            found.problems.append(
                f"{PACT} states pcf.{name} {json.dumps(pcf.get(name))}, the recomputed "
                f"footprint {json.dumps(again.get(name))}"
            )


def _recompute(
    tmp: Path,
    contents: Mapping[str, bytes],
    manifest: Mapping[str, Any],
    rows: Mapping[str, Factor] | None,
    resolvers: Resolvers | None,
    f: Findings,
) -> tuple[Calculation, dict[str, Any]] | None:
    """Recalculate the packaged model, extracted into ``tmp``, with the packaged rows only."""
    if rows is None or resolvers is None:
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
            resolvers=resolvers,
            rules=manifest.get("rules"),
            rule_files=_packed_rules(tmp, contents),
            background_electricity=option_from_manifest(manifest, f),
        )
    except OpenPCFError as e:
        f.problems.append(f"the packaged model cannot be recomputed from the package alone: {e}")
        return None
    result = calculation.result
    plain = json.loads(json.dumps(result_to_dict(result)))  # numpy floats -> float, as packaged
    mapped = relocate(plain, model_path.parent, manifest)
    return calculation, mapped


def _packed_rules(tmp: Path, contents: Mapping[str, bytes]) -> list[Path]:
    """The package's rule-set files (``rules/<id>.yaml``), written into ``tmp/rules``; the
    calculation reads them instead of (and before) the bundled rule sets of the same id."""
    out = []
    for name, data in sorted(contents.items()):
        if not name.startswith(RULES) or not is_safe(name) or name.count("/") != 1:
            continue
        if not name.endswith(".yaml"):
            continue
        target = tmp / "rules" / name.removeprefix(RULES)
        target.parent.mkdir(exist_ok=True)
        target.write_bytes(data)
        out.append(target)
    return out


def _packed_background(
    contents: Mapping[str, bytes], manifest: Mapping[str, Any], f: Findings
) -> list[BackgroundRow] | None:
    """The rows of ``background/rows.json`` ([] when the package has none); None when they
    cannot be read (the problem, naming the file, is in ``f``)."""
    listed = manifest.get("factor_rows") or {}
    needed = isinstance(listed, dict) and any(
        origin(manifest, fid) == "background" for fid in listed
    )
    if BACKGROUND not in contents:
        if needed:
            f.problems.append(
                f"{BACKGROUND} is missing: the manifest lists background rows, so the model's "
                "background inputs cannot be resolved from the package"
            )
            return None
        return []
    try:
        rows = read_background(contents[BACKGROUND])
    except BackgroundFileError as e:
        f.problems.append(str(e))
        f.causes.append("the packaged background rows were changed so that they no longer load")
        return None
    for ref, count in _by_database(rows).items():
        f.notes.append(f"background: {count} row(s) of database {ref} read from {BACKGROUND}")
    return rows


def _by_database(rows: list[BackgroundRow]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for row in rows:
        counts[row.database_ref] = counts.get(row.database_ref, 0) + 1
    return counts


def _packed_resolvers(
    background: list[BackgroundRow],
    received: Mapping[str, ReceivedFootprint],
    subsets: Mapping[str, DatabaseSubset],
) -> Resolvers:
    """Inputs outside the model file, resolved from the package's files only."""
    return Resolvers(
        background=PackedBackground(background),
        background_database=PackedDatabases({r: s.database for r, s in subsets.items()}),
        shipment=shipment_factor,
        electricity_claim=electricity_factor,
        supplier_footprint=partial(supplier_factor, store=PackedFootprints(received)),
    )


#: Relative difference between a packed background amount and the same row recomputed from a
#: local copy of its database above which they differ (the sparse solve of a database may
#: differ in its last digits between machines; a changed number does not). Amounts near zero
#: are compared against the row's largest amount.
LOCAL_TOLERANCE = 1e-9


def _compare_with_local_databases(
    background: list[BackgroundRow], databases: Path | None, f: Findings
) -> None:
    """Recompute each background row from the verifier's copy of its database, if it has it."""
    store = DatabaseStore(databases) if databases is not None else None
    for ref in _by_database(background):
        rows = [r for r in background if r.database_ref == ref]
        name, version = rows[0].database, rows[0].version
        if store is None or not _safe_ref(name, version) or not store.has(name, version):
            f.notes.append(
                f"background: database {ref} is not installed here, so its rows were not "
                "recomputed from it; the packed rows were used"
            )
            continue
        same = 0
        for row in rows:
            try:
                local = background_factor(f"{ref}:{row.activity}", store=store)
            except OpenPCFError as e:
                f.notes.append(
                    f"background row {row.factor.id} cannot be recomputed from the local "
                    f"database {ref} ({e}); the packed row was used"
                )
                continue
            change = _local_change(row.factor, local)
            if change:
                f.problems.append(
                    f"background row {row.factor.id} in {BACKGROUND} differs from the same "
                    f"process recomputed from this machine's copy of database {ref}: {change}"
                )
            else:
                same += 1
        if same:
            f.notes.append(
                f"background: {same} row(s) recomputed from this machine's copy of database "
                f"{ref}: the same as the packed rows (within {LOCAL_TOLERANCE:g})"
            )


def _safe_ref(name: str, version: str) -> bool:
    """Whether ``name@version`` can only name a folder of the database store."""
    try:
        return database_name(name) == name and re.fullmatch(r"[0-9a-f]{6,64}", version) is not None
    except InputError:
        return False


def _local_change(packed: Factor, local: Factor) -> str:
    """How the packed row differs from the locally recomputed one ("" when it does not)."""
    changes = []
    if packed.unit != local.unit:
        changes.append(f"unit {packed.unit!r} in the package vs {local.unit!r} here")
    # amounts that cancel to nearly nothing are compared against the row's largest amount
    scale = max(
        (abs(v) for v in (*packed.emissions.values(), *local.emissions.values())), default=0
    )
    for gas in sorted(set(packed.emissions) | set(local.emissions)):
        a, b = packed.emissions.get(gas, 0.0), local.emissions.get(gas, 0.0)
        if not math.isclose(a, b, rel_tol=LOCAL_TOLERANCE, abs_tol=LOCAL_TOLERANCE * scale):
            changes.append(f"{gas} {a!r} in the package vs {b!r} here")
    return "; ".join(changes)
