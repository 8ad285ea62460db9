"""``background/databases/<name>@<version>/``: the part of an imported LCI database a linked
model reaches, so that a verifier without the database can solve it again.

A model with linked backgrounds (``background_linking: linked`` or ``background_electricity:``)
is solved on its databases' own systems (:mod:`openpcf.model.background`). A package carries,
per linked database, the *closure* of the activities the model links to: those activities, every
activity whose product one of them takes in, and so on (with ``background_electricity:``, also
what re-pointing looks for, so that it finds in the subset what it found in the whole database:
a producer for each ``products:`` entry and, when no packed activity draws on an electricity
producer, one producer and an activity that draws on it; :func:`repointing_roots`). Its files::

    background/databases/<name>@<version>/
      index.json         format, the database's identity (name, version, SHA-256 of the
                         imported export, format, source file, licence), the linked activities
                         (roots), counts (packed and whole-database activities, matrix
                         entries), the gas of each row of B, how the calculation re-pointed the
                         electricity, and the SHA-256 of each file below
      activities.csv     index,id,process_id,name,name_zh,product_id,product,unit,location,
                         reference_year: one row per packed activity, in the database's order
      technosphere.csv   row,column,amount: the entries of A (indices into activities.csv,
                         sorted by column then row; amount per unit of the column's product)
      biosphere.csv      gas,column,amount: the entries of B (kg of the gas per unit of the
                         column's product), sorted by column then gas
      exchanges.csv      the stored exchanges of the packed processes as the import linked
                         them (provider and rule, cut reasons, distributions): for reading;
                         present when the stored version keeps them

Floats are written with ``repr``, so the matrices reload bit for bit; the files are sorted, so
the same model and database give the same bytes. Every file is listed with its SHA-256 both in
``index.json`` and in the package manifest.

Why a closure is exact: no activity outside it supplies one inside it, so ``A`` is block
triangular with the closure as a diagonal block, and for a demand on the closure the activities
outside it have zero scaling. The package's result is computed from the packed subset itself
(read back from its files), so reproducing gives the very same numbers; the builder also checks
it against the whole database (:data:`SUBSET_TOLERANCE`).

Design note: CSV rather than ``.npz``: a verifier can read and diff the entries with any tool,
the files are deterministic text, and a subset is small (the whole of ``jsonld_small``'s widget
chain is 5 activities). :data:`MAX_SUBSET_ENTRIES` bounds what a package may carry.

The files come from someone else: :func:`read_subset` accepts exactly this shape (digests,
headers, indices in range, finite numbers, known gases, no repeated entry, within the bound)
and names the file and line in every refusal.
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, fields
from typing import Any

import numpy as np
import scipy.sparse as sp

from openpcf.core.system import MatrixSystem
from openpcf.errors import UnknownFactorError
from openpcf.io.linking import Column, Link
from openpcf.methods.gases import GAS_IDS
from openpcf.model.background import BackgroundDatabase
from openpcf.package.format import BACKGROUND, PackageError, dumps, sha256

#: Folder of the packed databases in the zip.
DATABASES = "background/databases/"
#: Format of ``index.json``.
SUBSET_FORMAT = "openpcf-background-subset/1"
#: The most entries (A and B entries plus stored exchanges) one package may carry over all its
#: databases. About 40 bytes a CSV line: 2 million entries are some 80 MB before compression,
#: well inside the package reader's limits (:data:`openpcf.package.archive.LIMITS`).
MAX_SUBSET_ENTRIES = 2_000_000
#: Relative difference allowed between the total solved on the whole database and on the
#: packed subset when a package is built (the two sparse solves may differ in the last digits).
SUBSET_TOLERANCE = 1e-9

_ACTIVITY_FIELDS = (
    "index",
    "id",
    "process_id",
    "name",
    "name_zh",
    "product_id",
    "product",
    "unit",
    "location",
    "reference_year",
)
_LINK_FIELDS = tuple(f.name for f in fields(Link))
_FILES = ("activities.csv", "technosphere.csv", "biosphere.csv")
_REF = re.compile(r"^[a-z0-9][a-z0-9_.-]*@[0-9a-f]{6,64}$")


class SubsetFileError(PackageError):
    """A packed database subset is not in the documented shape (the message says where)."""


class SubsetTooLargeError(PackageError):
    """The databases a model reaches are larger than a package may carry."""


@dataclass(frozen=True, slots=True, kw_only=True)
class DatabaseIdentity:
    """Which imported database a subset comes from."""

    name: str
    version: str  # first 12 hex digits of content_sha256
    content_sha256: str  # SHA-256 of the imported export
    format: str  # jsonld, ilcd or ecospold2
    source_file: str
    licence: str

    @property
    def ref(self) -> str:
        return f"{self.name}@{self.version}"


@dataclass(frozen=True, slots=True, kw_only=True)
class DatabaseSubset:
    """The activities of one database a linked model reaches, as the package carries them."""

    identity: DatabaseIdentity
    database: BackgroundDatabase  # the subset, as the compiler links it
    columns: tuple[Column, ...]
    roots: tuple[str, ...]  # ids of the activities the model links to
    database_activities: int  # activities of the whole database
    exchanges: tuple[Link, ...] = ()
    #: how the calculation re-pointed its electricity (for reading; recomputed on reproduce)
    repointing: Mapping[str, Any] | None = None

    @property
    def entries(self) -> int:
        """A and B entries plus stored exchanges: what :data:`MAX_SUBSET_ENTRIES` bounds."""
        system = self.database.system
        return int(system.A.nnz + system.B.nnz) + len(self.exchanges)

    @property
    def folder(self) -> str:
        return f"{DATABASES}{self.identity.ref}/"


def closure(A: sp.csc_array, start: Sequence[int]) -> tuple[int, ...]:
    """``start`` and every activity whose product one of them takes in, recursively (sorted).

    Column ``j`` of ``A`` takes in the product of row ``i`` when ``A[i, j]`` is not zero.
    """
    A = sp.csc_array(A)
    seen = np.zeros(A.shape[0], dtype=bool)
    todo = [int(j) for j in start]
    seen[todo] = True
    while todo:
        j = todo.pop()
        rows = A.indices[A.indptr[j] : A.indptr[j + 1]]
        values = A.data[A.indptr[j] : A.indptr[j + 1]]
        for i in rows[(values != 0) & ~seen[rows]]:
            seen[i] = True
            todo.append(int(i))
    return tuple(int(i) for i in np.flatnonzero(seen))


def repointing_roots(
    A: sp.csc_array,
    producers: Sequence[int],
    reached: Sequence[int],
    named: Sequence[Sequence[int]] = (),
) -> tuple[int, ...]:
    """What a subset must hold besides ``reached`` for re-pointing
    (:func:`openpcf.model.background.repoint`) to find in it what it found in the whole
    database: for each ``products:`` entry (``named``: the
    producers each matches) that ``reached`` holds none of, its first producer; and, when no
    reached activity that is not a producer draws on one of the electricity ``producers``, the
    first producer that is drawn on and the first activity that draws on it (whose scaling
    stays zero). Producers nothing reached draws on change no number, so no more are packed.
    """
    kept = set(reached)
    extra = [matches[0] for matches in named if matches and not kept & set(matches)]
    if not producers:
        return tuple(extra)
    coo = sp.csc_array(A).tocoo()
    is_producer = np.zeros(coo.shape[0], dtype=bool)
    is_producer[list(producers)] = True
    drawing = (coo.data != 0) & is_producer[coo.row] & ~is_producer[coo.col]
    if any(int(j) in kept for j in coo.col[drawing]):
        return tuple(extra)
    pairs = sorted(zip(coo.col[drawing].tolist(), coo.row[drawing].tolist(), strict=True))
    if pairs:
        consumer, producer = pairs[0]
        extra += [producer, consumer]
    return tuple(extra)


def subset_database(db: BackgroundDatabase, keep: Sequence[int]) -> BackgroundDatabase:
    """``db`` restricted to the activities ``keep`` (sorted, closed under inputs)."""
    idx = np.asarray(keep, dtype=np.int64)
    A = sp.csc_array(db.system.A)[idx, :][:, idx]
    B = sp.csc_array(db.system.B)[:, idx]
    return BackgroundDatabase(
        ref=db.ref,
        system=MatrixSystem(
            A=sp.csc_array(A),
            B=sp.csc_array(B),
            activities=tuple(db.system.activities[i] for i in keep),
            flows=db.system.flows,
        ),
        names=tuple(db.names[i] for i in keep),
        products=tuple(db.products[i] for i in keep),
        product_ids=tuple(db.product_ids[i] for i in keep),
        units=tuple(db.units[i] for i in keep),
        locations=tuple(db.locations[i] for i in keep),
    )


def check_size(subsets: Sequence[DatabaseSubset], limit: int = MAX_SUBSET_ENTRIES) -> None:
    """Raise :class:`SubsetTooLargeError` when ``subsets`` carry more than ``limit`` entries."""
    total = sum(s.entries for s in subsets)
    if total > limit:
        parts = ", ".join(
            f"{s.identity.ref}: {s.database.system.size} of {s.database_activities} activities, "
            f"{s.entries} entries"
            for s in subsets
        )
        raise SubsetTooLargeError(
            f"the linked background databases this model reaches hold {total} entries ({parts}), "
            f"more than a package may carry (max_background_entries = {limit}, "
            "openpcf.package.background_subset.MAX_SUBSET_ENTRIES by default): package a "
            "smaller model, raise the bound, or use background_linking: precomputed"
        )


# -- writing ----------------------------------------------------------------------------------
def subset_files(subset: DatabaseSubset) -> dict[str, bytes]:
    """The files of ``subset`` under its folder (:data:`DATABASES`), ``index.json`` last."""
    files = {"activities.csv": _activities_csv(subset.columns), **matrix_files(subset.database)}
    if subset.exchanges:
        files["exchanges.csv"] = _csv(
            _LINK_FIELDS, ([*asdict(x).values()] for x in subset.exchanges)
        )
    system = subset.database.system
    index = {
        "format": SUBSET_FORMAT,
        "database": asdict(subset.identity),
        "roots": list(subset.roots),
        "activities": system.size,
        "database_activities": subset.database_activities,
        "technosphere_entries": int(system.A.nnz),
        "biosphere_entries": int(system.B.nnz),
        "exchanges": len(subset.exchanges),
        "repointing": dict(subset.repointing) if subset.repointing else None,
        "files": {name: sha256(data) for name, data in sorted(files.items())},
    }
    files["index.json"] = dumps(index)
    return {subset.folder + name: data for name, data in files.items()}


def matrix_files(database: BackgroundDatabase) -> dict[str, bytes]:
    """``technosphere.csv`` and ``biosphere.csv`` of ``database`` (deterministic bytes, so two
    copies of the same matrices compare byte for byte)."""
    system = database.system
    return {
        "technosphere.csv": _technosphere_csv(system.A),
        "biosphere.csv": _biosphere_csv(system.B, system.flows),
    }


def _csv(header: Sequence[str], rows: Any) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([repr(v) if isinstance(v, float) else v for v in row])
    return out.getvalue().encode("utf-8")


def _activities_csv(columns: Sequence[Column]) -> bytes:
    rows = (
        [
            n,
            c.id,
            c.process_id,
            c.name,
            c.name_zh,
            c.product_id,
            c.product,
            c.unit,
            c.location,
            "" if c.reference_year is None else c.reference_year,
        ]
        for n, c in enumerate(columns)
    )
    return _csv(_ACTIVITY_FIELDS, rows)


def _technosphere_csv(A: sp.csc_array) -> bytes:
    coo = sp.csc_array(A).tocoo()
    order = np.lexsort((coo.row, coo.col))
    rows = ((int(coo.row[k]), int(coo.col[k]), float(coo.data[k])) for k in order)
    return _csv(("row", "column", "amount"), rows)


def _biosphere_csv(B: sp.csc_array, flows: Sequence[str]) -> bytes:
    coo = sp.csc_array(B).tocoo()
    rank = np.array([GAS_IDS.index(g) if g in GAS_IDS else len(GAS_IDS) for g in flows])
    order = np.lexsort((rank[coo.row], coo.col))
    rows = ((flows[int(coo.row[k])], int(coo.col[k]), float(coo.data[k])) for k in order)
    return _csv(("gas", "column", "amount"), rows)


# -- reading ----------------------------------------------------------------------------------
def packed_refs(contents: Mapping[str, bytes]) -> list[str]:
    """``name@version`` of every database subset in the package (by its ``index.json``)."""
    refs = set()
    for name in contents:
        if name.startswith(DATABASES) and name.endswith("/index.json"):
            refs.add(name.removeprefix(DATABASES).removesuffix("/index.json"))
    return sorted(refs)


def read_subset(
    contents: Mapping[str, bytes], ref: str, *, limit: int = MAX_SUBSET_ENTRIES
) -> DatabaseSubset:
    """The subset of database ``ref`` (``name@version``) packed in ``contents``.

    Raises
    ------
    SubsetFileError
        Naming the file (and line): a missing file, a digest that differs from the index, a
        wrong header, an index out of range, a repeated entry, a non-finite amount, an unknown
        gas, counts that differ from the index, or more entries than ``limit``.
    """
    if not _REF.match(ref):
        raise SubsetFileError(f"{DATABASES}{ref}/: not a database name@version")
    folder = f"{DATABASES}{ref}/"
    index = _index(contents, folder + "index.json", ref)
    listed: Mapping[str, str] = index["files"]
    for name, digest in listed.items():
        if folder + name not in contents:
            raise SubsetFileError(f"{folder}index.json lists {name}, which the package lacks")
        if sha256(contents[folder + name]) != digest:
            raise SubsetFileError(f"{folder}{name} differs from its digest in index.json")
    total = index["technosphere_entries"] + index["biosphere_entries"] + index["exchanges"]
    if total > limit:
        raise SubsetFileError(
            f"{folder}index.json: {total} entries, more than a package may carry "
            f"(max_background_entries = {limit})"
        )
    columns = _read_activities(contents[folder + "activities.csv"], folder + "activities.csv")
    n = len(columns)
    if n != index["activities"]:
        raise SubsetFileError(
            f"{folder}activities.csv has {n} activities, index.json says {index['activities']}"
        )
    A = _read_matrix(contents, folder + "technosphere.csv", ("row", "column"), n, None)
    B = _read_matrix(contents, folder + "biosphere.csv", ("gas", "column"), n, GAS_IDS)
    for what, matrix in (("technosphere", A), ("biosphere", B)):
        if matrix.nnz != index[f"{what}_entries"]:
            raise SubsetFileError(
                f"{folder}{what}.csv has {matrix.nnz} entries, index.json says "
                f"{index[f'{what}_entries']}"
            )
    ids = tuple(c.id for c in columns)
    missing = [r for r in index["roots"] if r not in ids]
    if missing:
        raise SubsetFileError(f"{folder}index.json: root {missing[0]!r} is not an activity")
    database = BackgroundDatabase(
        ref=ref,
        system=MatrixSystem(A=A, B=B, activities=ids, flows=GAS_IDS),
        names=tuple(c.name for c in columns),
        products=tuple(c.product for c in columns),
        product_ids=tuple(c.product_id for c in columns),
        units=tuple(c.unit for c in columns),
        locations=tuple(c.location for c in columns),
    )
    identity = DatabaseIdentity(**index["database"])
    if identity.ref != ref:
        raise SubsetFileError(f"{folder}index.json names database {identity.ref!r}")
    return DatabaseSubset(
        identity=identity,
        database=database,
        columns=columns,
        roots=tuple(index["roots"]),
        database_activities=index["database_activities"],
        repointing=index["repointing"],
    )


def _index(contents: Mapping[str, bytes], name: str, ref: str) -> dict[str, Any]:
    try:
        index = json.loads(contents[name])
    except KeyError:
        raise SubsetFileError(f"{name} is missing") from None
    except ValueError as e:
        raise SubsetFileError(f"{name} is not JSON ({e})") from None
    if not isinstance(index, dict) or index.get("format") != SUBSET_FORMAT:
        raise SubsetFileError(f"{name} is not an {SUBSET_FORMAT} index")
    counts = (
        "activities",
        "database_activities",
        "technosphere_entries",
        "biosphere_entries",
        "exchanges",
    )
    for key in counts:
        value = index.get(key)
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise SubsetFileError(f"{name}: {key} must be a whole number")
    files, roots, database = index.get("files"), index.get("roots"), index.get("database")
    if not isinstance(files, dict) or not set(_FILES) <= set(files):
        raise SubsetFileError(f"{name}: files must list {', '.join(_FILES)} with their SHA-256")
    if not set(files) <= {*_FILES, "exchanges.csv"}:
        raise SubsetFileError(f"{name}: files lists unknown files {sorted(set(files))}")
    if not all(isinstance(v, str) for v in files.values()):
        raise SubsetFileError(f"{name}: each file's SHA-256 must be a text")
    if not isinstance(roots, list) or not roots or not all(isinstance(r, str) for r in roots):
        raise SubsetFileError(f"{name}: roots must be a non-empty list of activity ids")
    keys = {f.name for f in fields(DatabaseIdentity)}
    if (
        not isinstance(database, dict)
        or set(database) != keys
        or not all(isinstance(v, str) for v in database.values())
    ):
        raise SubsetFileError(f"{name}: database must be an object of texts {sorted(keys)}")
    if not isinstance(index.get("repointing"), dict | None):
        raise SubsetFileError(f"{name}: repointing must be an object or null")
    return index


def _rows(data: bytes, name: str, header: Sequence[str]) -> list[list[str]]:
    try:
        rows = list(csv.reader(io.StringIO(data.decode("utf-8"), newline="")))
    except (UnicodeDecodeError, csv.Error) as e:
        raise SubsetFileError(f"{name} is not a UTF-8 CSV file ({e})") from None
    if not rows or tuple(rows[0]) != tuple(header):
        raise SubsetFileError(f"{name}: the header must be {','.join(header)}")
    for n, row in enumerate(rows[1:], start=2):
        if len(row) != len(header):
            raise SubsetFileError(f"{name}:{n}: {len(row)} cells, {len(header)} expected")
    return rows[1:]


def _read_activities(data: bytes, name: str) -> tuple[Column, ...]:
    columns = []
    seen: set[str] = set()
    for n, row in enumerate(_rows(data, name, _ACTIVITY_FIELDS), start=2):
        cells = dict(zip(_ACTIVITY_FIELDS, row, strict=True))
        if cells["index"] != str(n - 2):
            raise SubsetFileError(f"{name}:{n}: index {cells['index']!r}, expected {n - 2}")
        if not cells["id"] or cells["id"] in seen:
            raise SubsetFileError(f"{name}:{n}: activity id {cells['id']!r} empty or repeated")
        seen.add(cells["id"])
        year = cells["reference_year"]
        if year and not year.isdigit():
            raise SubsetFileError(f"{name}:{n}: reference_year {year!r} is not a year")
        columns.append(
            Column(
                id=cells["id"],
                process_id=cells["process_id"],
                name=cells["name"],
                name_zh=cells["name_zh"],
                product_id=cells["product_id"],
                product=cells["product"],
                unit=cells["unit"],
                location=cells["location"],
                reference_year=int(year) if year else None,
            )
        )
    return tuple(columns)


def _read_matrix(
    contents: Mapping[str, bytes],
    name: str,
    header: tuple[str, str],
    n: int,
    gases: Sequence[str] | None,
) -> sp.csc_array:
    """The entries of ``name`` as a CSC matrix (n x n, or gases x n for B)."""
    rows, cols, data = [], [], []
    seen: set[tuple[int, int]] = set()
    for line, (first, column, amount) in enumerate(
        _rows(contents[name], name, (*header, "amount")), start=2
    ):
        if gases is None:
            i = _index_in(first, n, name, line, "row")
        elif first in gases:
            i = list(gases).index(first)
        else:
            raise SubsetFileError(f"{name}:{line}: unknown gas {first!r}")
        j = _index_in(column, n, name, line, "column")
        try:
            value = float(amount)
        except ValueError:
            raise SubsetFileError(f"{name}:{line}: amount {amount!r} is not a number") from None
        if not math.isfinite(value):
            raise SubsetFileError(f"{name}:{line}: amount {amount!r} is not finite")
        if (i, j) in seen:
            raise SubsetFileError(f"{name}:{line}: entry ({first}, {column}) appears twice")
        seen.add((i, j))
        rows.append(i)
        cols.append(j)
        data.append(value)
    shape = (n if gases is None else len(gases), n)
    return sp.csc_array((np.array(data, dtype=np.float64), (rows, cols)), shape=shape)


def _index_in(text: str, n: int, name: str, line: int, what: str) -> int:
    if not text.isdigit() or int(text) >= n:
        raise SubsetFileError(f"{name}:{line}: {what} {text!r} is not an activity index 0-{n - 1}")
    return int(text)


class PackedDatabases:
    """Resolves linked databases (``name@version``) from the packed subsets only (the
    compiler's :data:`~openpcf.model.background.BackgroundDatabaseResolver`; it pickles)."""

    __slots__ = ("databases",)

    def __init__(self, databases: Mapping[str, BackgroundDatabase]) -> None:
        self.databases = dict(databases)

    def __call__(self, ref: str) -> BackgroundDatabase:
        try:
            return self.databases[ref]
        except KeyError:
            raise UnknownFactorError(
                f"linked database {ref!r} is not among the databases of the package "
                f"({DATABASES}; rows in {BACKGROUND}); a package is reproduced from its own "
                "files, never from a database on this machine"
            ) from None
