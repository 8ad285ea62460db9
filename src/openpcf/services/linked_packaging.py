"""Packages of models with linked backgrounds: the database subsets they carry.

A linked model (``background_linking: linked`` or ``background_electricity:``) is solved on its
databases' own systems. :func:`calculate_linked` calculates it once on the whole databases, cuts
each database to the part the model reaches (:mod:`openpcf.package.background_subset`), reads
that part back from the very bytes the package will hold and calculates again on it: the
package's result is the subset's, so a verifier who solves the same files gets the same
numbers, and the two totals must agree within
:data:`~openpcf.package.background_subset.SUBSET_TOLERANCE` (else the package is refused).

:func:`packed_databases` reads the subsets back when reproducing, and
:func:`compare_with_local_subsets` checks them against the verifier's own copy of the same
database version when there is one.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Unpack

from openpcf.errors import OpenPCFError
from openpcf.io.store import DatabaseStore
from openpcf.model.background import (
    BackgroundDatabase,
    LinkedBackground,
    electricity_producers,
)
from openpcf.model.loading import LoadedModel, load_model
from openpcf.model.schema import BackgroundElectricity
from openpcf.package.background_subset import (
    DATABASES,
    MAX_SUBSET_ENTRIES,
    SUBSET_TOLERANCE,
    DatabaseIdentity,
    DatabaseSubset,
    PackedDatabases,
    SubsetFileError,
    check_size,
    closure,
    matrix_files,
    packed_refs,
    read_subset,
    repointing_roots,
    subset_database,
    subset_files,
)
from openpcf.package.format import PackageError
from openpcf.package.results import Findings
from openpcf.services.calculate import (
    CalculationOptions,
    background_database,
    calculate,
    user_resolvers,
)

if TYPE_CHECKING:
    from openpcf.model.calculation import Calculation
    from openpcf.model.compiler import CompiledModel
    from openpcf.settings import Settings

__all__ = [
    "calculate_linked",
    "compare_with_local_subsets",
    "option_from_manifest",
    "packed_databases",
]


def calculate_linked(
    model: Path | str | LoadedModel,
    *,
    audit: Mapping[str, str],
    organisation: str | None,
    max_background_entries: int = MAX_SUBSET_ENTRIES,
    **options: Unpack[CalculationOptions],
) -> tuple[Calculation, dict[str, bytes], dict[str, dict[str, Any]]]:
    """The package's calculation of ``model``, recorded in the audit trail with ``audit``.

    For a model with linked backgrounds, also the files of its database subsets and the
    manifest's ``background_databases`` (``name@version`` -> identity, counts, index file);
    for any other model, no files.

    Raises
    ------
    SubsetTooLargeError
        The databases the model reaches hold more than ``max_background_entries`` entries.
    PackageError
        A ``--background-electricity`` claims file (not in the model, so not packed), or a
        subset whose total differs from the whole database's (a bug).
    """
    loaded = model if isinstance(model, LoadedModel) else load_model(model)
    option = options.get("background_electricity")
    if not (loaded.model.links_background or option is not None):
        calc = calculate(
            model, audit=audit, audit_kind="package", organisation=organisation, **options
        )
        return calc, {}, {}
    if option is not None and option.electricity_claim is not None:
        raise PackageError(
            f"{loaded.path}: --background-electricity names the claims file "
            f"{option.electricity_claim!r}, which a package cannot carry: write "
            "background_electricity: {electricity_claim: FILE} in the model (FILE relative to "
            "the model file) and package that"
        )
    probe = calculate(model, organisation=organisation, **options)
    settings = options.get("settings")
    if probe.compiled.linked is None or settings is None:
        calc = calculate(
            model, audit=audit, audit_kind="package", organisation=organisation, **options
        )
        return calc, {}, {}
    subsets = database_subsets(probe.compiled, settings)
    check_size(subsets, max_background_entries)
    files: dict[str, bytes] = {}
    packed: dict[str, BackgroundDatabase] = {}
    for subset in subsets:
        written = subset_files(subset)
        files.update(written)
        ref = subset.identity.ref
        packed[ref] = read_subset(written, ref, limit=max_background_entries).database
    owner = organisation or loaded.model.product.company_name
    resolvers = dataclasses.replace(
        user_resolvers(settings, organisation=owner), background_database=PackedDatabases(packed)
    )
    calc = calculate(
        model,
        audit=audit,
        audit_kind="package",
        organisation=organisation,
        resolvers=resolvers,
        **options,
    )
    whole, part = probe.result.total, calc.result.total
    if not math.isclose(whole, part, rel_tol=SUBSET_TOLERANCE, abs_tol=1e-12):
        raise PackageError(
            f"{loaded.path}: the packed database subsets give {part!r} kg CO2e, the whole "
            f"databases {whole!r}: report this as a bug"
        )
    return calc, files, {s.identity.ref: _manifest_entry(s) for s in subsets}


def database_subsets(compiled: CompiledModel, settings: Settings) -> list[DatabaseSubset]:
    """The part of each linked database that ``compiled`` reaches (module docstring of
    :mod:`openpcf.package.background_subset`)."""
    linked = compiled.linked
    assert linked is not None  # the caller checks
    spec = compiled.background_electricity or compiled.model.background_electricity
    store = DatabaseStore(settings.databases_dir)
    subsets = []
    for d, used in enumerate(linked.databases):
        stored = store.get(used.ref)
        whole = background_database(used.ref, store=store)
        roots = sorted({k.activity for k in linked.links if k.database == d})
        keep = closure(whole.system.A, roots)
        repointing = None
        if spec is not None and spec.database in (None, whole.name):
            producers = electricity_producers(whole, spec.products)
            named = [_matching(whole, producers, product) for product in spec.products]
            extra = repointing_roots(whole.system.A, producers, keep, named)
            keep = closure(whole.system.A, [*keep, *extra])
            moved = {r.activity for r in linked.repointed if r.database == d}
            repointing = _repointing(linked, whole, keep, producers, moved)
        columns = stored.columns()
        processes = {columns[i].process_id for i in keep}
        subsets.append(
            DatabaseSubset(
                identity=DatabaseIdentity(
                    name=stored.name,
                    version=stored.version,
                    content_sha256=str(stored.meta.get("content_sha256", "")),
                    format=str(stored.meta.get("format", "")),
                    source_file=str(stored.meta.get("source_file", "")),
                    licence=str(stored.meta.get("licence") or "not stated in the source"),
                ),
                database=subset_database(whole, keep),
                columns=tuple(columns[i] for i in keep),
                roots=tuple(whole.system.activities[i] for i in roots),
                database_activities=whole.system.size,
                exchanges=tuple(x for x in stored.links() if x.process_id in processes),
                repointing=repointing,
            )
        )
    return subsets


def _matching(db: BackgroundDatabase, producers: tuple[int, ...], product: str) -> list[int]:
    """The producers a ``products:`` entry names (as :func:`electricity_producers` matches)."""
    return [
        i
        for i in producers
        if product in {db.products[i], db.product_ids[i], db.system.activities[i]}
    ]


def _repointing(
    linked: LinkedBackground,
    whole: BackgroundDatabase,
    keep: tuple[int, ...],
    producers: tuple[int, ...],
    moved: set[int],
) -> dict[str, Any]:
    """What re-pointing did to the packed activities (for a reader of ``index.json``)."""
    kept = set(keep)
    ids = whole.system.activities
    return {
        "supply": linked.supply.id if linked.supply is not None else "",
        "producers": [ids[i] for i in producers if i in kept],
        "repointed": [ids[j] for j in sorted(moved) if j in kept],
    }


def _manifest_entry(subset: DatabaseSubset) -> dict[str, Any]:
    system = subset.database.system
    return {
        "index": f"{subset.folder}index.json",
        "version": subset.identity.version,
        "content_sha256": subset.identity.content_sha256,
        "activities": system.size,
        "database_activities": subset.database_activities,
        "entries": subset.entries,
    }


# -- reproducing ------------------------------------------------------------------------------
def packed_databases(
    contents: Mapping[str, bytes],
    manifest: Mapping[str, Any],
    f: Findings,
    *,
    limit: int = MAX_SUBSET_ENTRIES,
) -> dict[str, DatabaseSubset] | None:
    """The database subsets of the package by ``name@version`` ({} when it has none); None when
    one cannot be read or holds more than ``limit`` entries (the problem, naming the file, is in
    ``f``)."""
    listed = manifest.get("background_databases") or {}
    present = packed_refs(contents)
    if not isinstance(listed, dict):
        f.problems.append("the manifest's background_databases is not an object")
        return None
    missing = sorted(set(listed) - set(present))
    if missing:
        f.problems.append(
            f"{DATABASES}{missing[0]}/ is missing: the manifest lists it, so the model's linked "
            "background cannot be solved from the package"
        )
        return None
    subsets: dict[str, DatabaseSubset] = {}
    for ref in present:
        try:
            subset = read_subset(contents, ref, limit=limit)
        except SubsetFileError as e:
            f.problems.append(str(e))
            f.causes.append("a packed database subset was changed so that it no longer loads")
            return None
        subsets[ref] = subset
        identity, system = subset.identity, subset.database.system
        f.notes.append(
            f"background: linked database {ref} ({identity.format} export "
            f"{identity.source_file}, SHA-256 {identity.content_sha256}): {system.size} of its "
            f"{subset.database_activities} activities, {system.A.nnz} technosphere and "
            f"{system.B.nnz} biosphere entries, read from {subset.folder}"
        )
    return subsets


def option_from_manifest(manifest: Mapping[str, Any], f: Findings) -> BackgroundElectricity | None:
    """The ``--background-electricity`` the package was calculated with (None when none)."""
    value = manifest.get("background_electricity")
    if value is None:
        return None
    try:
        return BackgroundElectricity.model_validate(value)
    except ValueError as e:
        f.problems.append(f"the manifest's background_electricity cannot be read ({e})")
        return None


def compare_with_local_subsets(
    subsets: Mapping[str, DatabaseSubset], databases: Path | None, f: Findings
) -> None:
    """Cut each packed subset again from the verifier's copy of its database, if it has it, and
    compare the matrices byte for byte (as CSV)."""
    store = DatabaseStore(databases) if databases is not None else None
    for ref, subset in subsets.items():
        identity = subset.identity
        if store is None or not store.has(identity.name, identity.version):
            f.notes.append(
                f"background: database {ref} is not installed here, so its packed subset was "
                "not compared with it; the packed subset was used"
            )
            continue
        try:
            why = _local_difference(subset, background_database(ref, store=store))
        except OpenPCFError as e:
            f.notes.append(f"background: database {ref} here cannot be read ({e})")
            continue
        if why:
            f.problems.append(
                f"the packed subset {subset.folder} differs from this machine's copy of "
                f"database {ref}: {why}"
            )
        else:
            f.notes.append(
                f"background: the packed subset {subset.folder} equals the same activities of "
                f"this machine's copy of database {ref}"
            )


def _local_difference(subset: DatabaseSubset, whole: BackgroundDatabase) -> str:
    """How the packed subset differs from the same activities of ``whole`` ("" if not)."""
    ids = subset.database.system.activities
    index = {a: i for i, a in enumerate(whole.system.activities)}
    absent = [a for a in ids if a not in index]
    if absent:
        return f"activity {absent[0]!r} is not in it"
    keep = sorted(index[a] for a in ids)
    if [whole.system.activities[i] for i in keep] != list(ids):
        return "the activities are in another order"
    if closure(whole.system.A, keep) != tuple(keep):
        return "the packed activities take in products of activities left out of the package"
    local = matrix_files(subset_database(whole, keep))
    packed = matrix_files(subset.database)
    changed = [name for name in sorted(local) if local[name] != packed[name]]
    return f"{', '.join(changed)} differ" if changed else ""
