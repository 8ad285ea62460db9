"""Background LCI databases: import, browse, all-process footprints, factors for models.

A background database is an openLCA JSON-LD, ILCD or ecospold2 export that was read into an
:class:`~openpcf.io.inventory.Inventory`, linked (:mod:`openpcf.io.linking`) and stored as a
version (:mod:`openpcf.io.store`) under ``$OPENPCF_HOME/databases``. At import the system is
solved once for the gas intensities of every activity,

    Λ = A⁻ᵀ Bᵀ      (n activities x 17 gases, kg of gas per unit of reference product),

so that footprints for any GWP set are ``Λ c`` and a product model's background input is a row
of ``Λ`` (:func:`background_factor`).
"""

from __future__ import annotations

import difflib
import importlib
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import numpy as np

from openpcf.errors import InputError, UnknownFactorError
from openpcf.factors.schema import Factor
from openpcf.io.biogenic import biogenic_flags
from openpcf.io.cut_share import lost_shares
from openpcf.io.inventory import Inventory
from openpcf.io.link_defaults import bundled_defaults
from openpcf.io.linking import (
    CO_PRODUCT,
    MISSING_FLOW,
    MISSING_PROVIDER,
    NO_PROVIDER,
    WASTE_INPUT,
    Column,
    LinkedDatabase,
    LinkRules,
    build_report,
    gas_intensity_matrix,
    link,
)
from openpcf.io.outliers import outlier_flags
from openpcf.io.store import (
    VERSION_LENGTH,
    DatabaseStore,
    StoredVersion,
    content_hash,
    database_name,
)
from openpcf.methods.gases import GASES
from openpcf.methods.gwp import characterisation_vector, gwp_set

Format = Literal["jsonld", "ilcd", "ecospold2"]
Progress = Callable[[int, int], None]

#: Format -> (module, reader function); imported on use so one missing reader breaks no other.
READERS: dict[str, tuple[str, str]] = {
    "jsonld": ("openpcf.io.jsonld", "read_jsonld"),
    "ilcd": ("openpcf.io.ilcd", "read_ilcd"),
    "ecospold2": ("openpcf.io.ecospold2", "read_ecospold2"),
}


@dataclass(frozen=True, slots=True, kw_only=True)
class ImportResult:
    name: str
    version: str
    was_new: bool  # False: the same bytes were imported before, nothing was done
    report: dict[str, Any]
    path: Path


@dataclass(frozen=True, slots=True, kw_only=True)
class FootprintRow:
    """Cradle-to-gate footprint of one unit of an activity's reference product."""

    process_id: str  # the source's UUID of the process
    name: str
    reference_product: str
    unit: str
    location: str
    kg_co2e: float
    activity: str = ""  # column label (differs from process_id for allocated co-products)
    name_zh: str = ""
    #: the parts of ``kg_co2e`` by the gases' origin (:data:`ORIGINS`); they sum to it
    fossil: float = 0.0
    biogenic: float = 0.0
    biogenic_uptake: float = 0.0  # negative: a removal
    land_use_change: float = 0.0
    reference_year: int | None = None  # the data set's own, not the import date
    lost_share: float | None = None  # see openpcf.io.cut_share; None: unknown
    flag: str = ""  # outlier flag (openpcf.io.outliers), "" when unremarkable


#: FootprintRow field -> gas origin (openpcf.methods.gases.Gas.origin): fossil covers every
#: gas that is not biogenic, uptake or land-use change (N2O and the F-gases included).
ORIGINS = {
    "fossil": "fossil",
    "biogenic": "biogenic",
    "biogenic_uptake": "uptake",
    "land_use_change": "luc",
}
#: The GWP set the import uses for ``lost_share`` and the import report's checks.
IMPORT_GWP = "AR6"


def read_inventory(fmt: str, path: Path, *, progress: Progress | None = None) -> Inventory:
    """Dispatch to the reader of ``fmt``."""
    if fmt not in READERS:
        raise InputError(f"Unknown database format {fmt!r}; use one of {', '.join(READERS)}.")
    module_name, func_name = READERS[fmt]
    try:
        reader = getattr(importlib.import_module(module_name), func_name)
    except (ImportError, AttributeError) as exc:
        raise InputError(f"The {fmt} reader is not available in this build ({exc}).") from exc
    inventory: Inventory = reader(path, progress=progress)
    return inventory


def import_database(
    fmt: str,
    path: Path,
    *,
    name: str | None = None,
    rules: LinkRules | None = None,
    progress: Progress | None = None,
    store: DatabaseStore,
) -> ImportResult:
    """Read, link, solve and store ``path`` as a version of database ``name``.

    Re-importing identical bytes returns the stored version with ``was_new=False``.

    Raises
    ------
    InputError
        If the path does not exist, the format is unknown or the input as a whole is unusable.
    SingularSystemError
        If the linked system cannot be solved (the message names the activities).
    """
    path = Path(path)
    if not path.exists():
        raise InputError(f"{path}: no such file or folder.")
    if not (path.is_dir() or path.is_file()):  # /dev/zero: hashed forever before (issue 11)
        raise InputError(
            f"{path}: not a folder or a regular file; give the database's folder or zip."
        )
    db_name = database_name(name or path.stem)
    digest = content_hash(path)
    version = digest[:VERSION_LENGTH]
    if store.has(db_name, version):
        stored = store.get(f"{db_name}@{version}")
        return ImportResult(
            name=db_name, version=version, was_new=False, report=stored.report(), path=stored.path
        )
    t0 = time.perf_counter()
    inventory = read_inventory(fmt, path, progress=progress)
    t1 = time.perf_counter()
    linked = link(inventory, rules)
    t2 = time.perf_counter()
    report = build_report(inventory, linked)
    lam = gas_intensity_matrix(linked.system)
    t3 = time.perf_counter()
    columns = _inspected_columns(linked, lam, report)

    meta = {
        "name": db_name,
        "version": version,
        "format": fmt,
        "source": str(path.resolve()),
        "source_file": path.name,
        "imported_utc": datetime.now(UTC).isoformat(timespec="seconds"),
        "licence": inventory.licence,
        "content_sha256": digest,
        "counts": report["counts"],
        "link_rules": {
            "providers": dict(rules.providers) if rules else {},
            "prefer_locations": list(rules.prefer_locations) if rules else [],
        },
    }
    stored = store.write(
        meta=meta,
        report=report,
        system=linked.system,
        columns=columns,
        intensities=lambda: lam,
        links=linked.links,
        uncertainty=linked.uncertainty,
    )
    report["timings_s"] = {"read": t1 - t0, "link": t2 - t1, "solve": t3 - t2}
    return ImportResult(
        name=db_name, version=version, was_new=True, report=report, path=stored.path
    )


def _inspected_columns(
    linked: LinkedDatabase, lam: np.ndarray, report: dict[str, Any]
) -> list[Column]:
    """The columns with their ``lost_share``; adds the checks of the data to ``report``:
    bundled defaults used, lost shares, biogenic balances, reference years."""
    h = lam @ characterisation_vector(gwp_set(IMPORT_GWP), linked.system.flows)
    shares = lost_shares(linked, h)
    columns = [
        replace(c, lost_share=share) for c, share in zip(linked.columns, shares, strict=True)
    ]
    defaults = bundled_defaults()
    used = Counter(x.flow_id for x in linked.links if x.how == "bundled default")
    report["bundled_defaults"] = {
        defaults[f].flow_name: {
            "count": n,
            "provider": defaults[f].provider_name,
            "reason": defaults[f].reason,
            "file": defaults[f].source,
        }
        for f, n in sorted(used.items())
    }
    known = [x for x in shares if x is not None]
    report["lost_share"] = {
        "method": "docs/databases.md#what-the-cuts-cost",
        "gwp": IMPORT_GWP,
        "activities_unknown": len(shares) - len(known),
        "activities_over_5_percent": sum(1 for x in known if x > 0.05),
        "activities_over_50_percent": sum(1 for x in known if x > 0.5),
    }
    flags = biogenic_flags(linked.system, linked.columns, lam)
    report["biogenic"] = {
        "suspicious": len(flags),
        "examples": [f"{c.name} ({c.id}): {flags[c.id]}" for c in linked.columns if c.id in flags][
            :5
        ],
    }
    years = Counter(c.reference_year for c in linked.columns)
    report["reference_years"] = {
        "known": sum(n for y, n in years.items() if y is not None),
        "unknown": years.get(None, 0),
        "range": [min(y for y in years if y), max(y for y in years if y)] if any(years) else [],
    }
    return columns


def list_databases(*, store: DatabaseStore) -> list[dict[str, Any]]:
    """One summary per database: current version, formats, counts, import date."""
    out = []
    for name in store.names():
        current = store.get(name)
        out.append(
            {
                "name": name,
                "version": current.version,
                "versions": [v.version for v in store.versions(name)],
                "format": current.meta["format"],
                "processes": current.meta["counts"]["processes"],
                "activities": current.meta["counts"]["activities"],
                "imported_utc": current.meta["imported_utc"],
                "source_file": current.meta["source_file"],
            }
        )
    return out


def show_database(ref: str, *, store: DatabaseStore) -> dict[str, Any]:
    """Metadata, every version and the import report of ``name[@version]``."""
    stored = store.get(ref)
    return {
        **stored.meta,
        "versions": [
            {"version": v.version, "imported_utc": v.meta["imported_utc"]}
            for v in store.versions(stored.name)
        ],
        "report": stored.report(),
    }


def search_processes(ref: str, query: str, *, store: DatabaseStore) -> list[Column]:
    """Activities whose English or Chinese name or product contains every word of ``query``
    (case-insensitive)."""
    stored = store.get(ref)
    words = query.casefold().split()
    return [
        c
        for c in stored.columns()
        if all(w in f"{c.name} {c.name_zh} {c.product}".casefold() for w in words)
    ]


def all_footprints(ref: str, gwp: str = "AR6", *, store: DatabaseStore) -> list[FootprintRow]:
    """kg CO2e per unit of every activity's reference product: ``h = Λ c``."""
    stored = store.get(ref)
    columns, lam = _loaded(stored)
    gases = list(stored.meta["gases"])
    c = characterisation_vector(gwp_set(gwp), gases)
    parts = {
        name: lam @ (c * np.array([_ORIGIN_OF.get(g) == origin for g in gases]))
        for name, origin in ORIGINS.items()
    }
    h = lam @ c
    flags = outlier_flags(columns, h)
    return [
        FootprintRow(
            process_id=col.process_id,
            name=col.name,
            reference_product=col.product,
            unit=col.unit,
            location=col.location,
            kg_co2e=float(h[j]),
            activity=col.id,
            name_zh=col.name_zh,
            reference_year=col.reference_year,
            lost_share=col.lost_share,
            flag=flags[j],
            **{name: float(values[j]) for name, values in parts.items()},
        )
        for j, col in enumerate(columns)
    ]


_ORIGIN_OF = {g.id: g.origin for g in GASES}


def search_footprints(
    ref: str, query: str, gwp: str = "AR6", *, store: DatabaseStore
) -> list[FootprintRow]:
    """:func:`search_processes`' matches with their footprints and outlier flags (the flags
    compare each with its peers in the whole database, :mod:`openpcf.io.outliers`)."""
    wanted = {c.id for c in search_processes(ref, query, store=store)}
    return [r for r in all_footprints(ref, gwp, store=store) if r.activity in wanted]


def show_process(ref: str, key: str, gwp: str = "AR6", *, store: DatabaseStore) -> dict[str, Any]:
    """One background activity: its footprint by gas and origin, its exchanges as linked
    (providers, cut-offs and why), lost share, reference year and checks.

    Raises
    ------
    UnknownFactorError
        If no activity or several match ``key`` (id, process id or exact name).
    """
    stored = store.get(ref)
    columns, lam = _loaded(stored)
    col = _find(columns, key.strip(), stored.ref)
    j = [c.id for c in columns].index(col.id)
    row = next(r for r in all_footprints(ref, gwp, store=store) if r.activity == col.id)
    gases = list(stored.meta["gases"])
    c = characterisation_vector(gwp_set(gwp), gases)
    names = {x.id: x.name for x in columns}
    exchanges = [
        {**asdict(x), "provider_name": names.get(x.provider, "")}
        for x in stored.links(col.process_id)
    ]
    cut = [x for x in exchanges if x["how"] in _CUT_REASONS or x["how"].startswith("ambiguous")]
    flags = biogenic_flags(stored.system(), columns, lam)
    return {
        "database": stored.ref,
        "gwp": gwp,
        **asdict(row),
        "by_gas": {
            g: {"kg": float(lam[j, i]), "kg_co2e": float(lam[j, i] * c[i])}
            for i, g in enumerate(gases)
            if lam[j, i] != 0.0
        },
        "exchanges": exchanges,
        "exchanges_recorded": bool(exchanges),
        "cut_off": cut,
        "biogenic_check": flags.get(col.id, ""),
    }


_CUT_REASONS = {NO_PROVIDER, MISSING_PROVIDER, CO_PRODUCT, WASTE_INPUT, MISSING_FLOW}


# --- background factors for product models -------------------------------------------------

_CACHE: dict[Path, tuple[list[Column], np.ndarray]] = {}


def _intensities(stored: StoredVersion) -> np.ndarray:
    return _loaded(stored)[1]


def _loaded(stored: StoredVersion) -> tuple[list[Column], np.ndarray]:
    if stored.path not in _CACHE:
        _CACHE[stored.path] = (stored.columns(), stored.intensities())
    return _CACHE[stored.path]


def _find(columns: list[Column], key: str, where: str) -> Column:
    by_id = [c for c in columns if key in (c.id, c.process_id)]
    exact = [c for c in by_id if c.id == key] or by_id
    if len(exact) == 1:
        return exact[0]
    by_name = exact or [c for c in columns if key in (c.name, c.name_zh)]
    if len(by_name) == 1:
        return by_name[0]
    if by_name:
        listed = "; ".join(f"{c.id} ({c.product}, {c.location or '-'})" for c in by_name[:10])
        raise UnknownFactorError(
            f"{where}: {len(by_name)} processes are called {key!r}: {listed}. "
            "Use the process id instead of the name."
        )
    names = sorted({c.name for c in columns} | {c.name_zh for c in columns if c.name_zh})
    close = difflib.get_close_matches(key, names, n=5, cutoff=0.5)
    hint = f" Close matches: {'; '.join(close)}." if close else ""
    raise UnknownFactorError(
        f"{where}: no process with id or exact name {key!r}.{hint} "
        f"Search with 'openpcf db search {where.split('@')[0]} WORDS'."
    )


def background_factor(ref: str, *, store: DatabaseStore) -> Factor:
    """A :class:`Factor` for ``"<db>[@version]:<process uuid or exact name>"``.

    Its ``emissions`` are the activity's cradle-to-gate kg of each gas per one unit of its
    reference product (a row of ``Λ``), its id ``"<db>@<version>:<activity id>"``.

    Raises
    ------
    InputError
        If ``ref`` has no ``":"``; :class:`DatabaseNotFoundError` if the database is not
        stored; :class:`UnknownFactorError` if no or several processes match (with close
        matches listed).
    """
    db_ref, sep, key = ref.partition(":")
    if not sep or not key.strip():
        raise InputError(
            f"Background reference {ref!r} must be '<database>[@version]:<process id or name>'."
        )
    stored = store.get(db_ref.strip())
    columns, lam = _loaded(stored)
    col = _find(columns, key.strip(), stored.ref)
    row = lam[[c.id for c in columns].index(col.id)]
    gases = stored.meta["gases"]
    meta = stored.meta
    return Factor(
        id=f"{stored.ref}:{col.id}",
        name=col.name,
        name_zh=col.name_zh,
        unit=col.unit,
        emissions={g: float(v) for g, v in zip(gases, row, strict=True) if v != 0.0},
        category="material",
        geography=col.location or "GLO",
        year=col.reference_year or int(str(meta["imported_utc"])[:4]),
        source=(
            f"{meta['name']}@{meta['version']} ({meta['format']}, {meta['source_file']}, "
            f"sha256 {meta['content_sha256'][:12]}), process {col.process_id}: {col.name}"
        ),
        licence=str(meta.get("licence") or "not stated in the source"),
        notes=(
            "cradle-to-gate per unit of the reference product "
            f"{col.product!r}; year is "
            + ("the data set's reference year" if col.reference_year else "the import year")
        ),
        set_name=stored.ref,
    )
