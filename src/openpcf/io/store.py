"""Versioned background databases on disk.

Layout (``root`` is ``$OPENPCF_HOME/databases``)::

    root/<name>/CURRENT                 the default version (text)
    root/<name>/<version>/meta.json     name, version, format, source, import date (UTC),
                                        licence, counts, content hash, gases
    root/<name>/<version>/report.json   the import report
    root/<name>/<version>/A.npz, B.npz  the linked system (scipy sparse)
    root/<name>/<version>/processes.csv one row per activity (column), with the data set's
                                        ``reference_year`` and ``lost_share`` (fraction 0-1
                                        of its footprint the cut inputs would carry, empty
                                        when unknown: :mod:`openpcf.io.cut_share`)
    root/<name>/<version>/intensities.npz  Λ = A⁻ᵀ Bᵀ (kg of each gas per unit, n x 17)
    root/<name>/<version>/exchanges.csv.gz  every exchange of every linked process, as linked
                                        (:class:`~openpcf.io.linking.Link`; ``db show``)
    root/<name>/<version>/uncertainty.npz   arrays ``A`` and ``B``: the stats_arrays parameters
                                        of every stored entry of ``A.npz`` / ``B.npz``, in
                                        their CSC order (:mod:`openpcf.io.uncertainty`);
                                        only written when an entry has a distribution

Versions imported before ``reference_year``, ``lost_share``, ``exchanges.csv.gz`` and
``uncertainty.npz`` existed read with those empty (``None``, no exchanges, no uncertainty).

``version`` is the first 12 hex digits of the SHA-256 of the input (a zip's bytes; for a
folder, the sorted (relative path, bytes) pairs), so re-importing the same data is a no-op
and a changed file is a new version. A version is written into a temporary folder next to its
place, fsynced and moved there with :func:`openpcf.files.durable.atomic_replace_dir`: neither
a failed import nor a crash leaves anything half-written.

Design note: the gas intensities are stored, not a footprint per GWP set, because one
``n x 17`` matrix answers every GWP set (``Λ c``) and every per-gas question (PACT fossil /
biogenic splits) without solving again.

Files damaged after the import (a ``meta.json`` that is not JSON, a missing ``CURRENT``, a
truncated ``.npz``: a full disk, a hand edit, an interrupted copy) are a
:class:`DatabaseDamagedError` naming the file and how to repair it, not a traceback
(issue 11, item 12).
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import json
import re
import shutil
import tempfile
import zipfile
from collections.abc import Callable
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

from openpcf.core.system import MatrixSystem
from openpcf.errors import InputError
from openpcf.files.durable import atomic_replace_dir, atomic_write
from openpcf.io.linking import Column, Link
from openpcf.io.uncertainty import PARAMS_DTYPE, MatrixUncertainty

VERSION_LENGTH = 12
_NAME = re.compile(r"^[a-z0-9][a-z0-9_.-]*$")


class DatabaseNotFoundError(InputError, LookupError):
    """No background database (or version) of that name is stored."""


class DatabaseDamagedError(InputError):
    """A stored database's files cannot be read; the message names the file and the repair."""


#: What goes wrong reading a damaged stored file (npz files are zips; pickles are refused).
_DAMAGE = (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile)


def _damaged(path: Path, error: BaseException, name: str) -> DatabaseDamagedError:
    return DatabaseDamagedError(
        f"{path}: the stored database is damaged ({type(error).__name__}: {error}); import "
        f"it again with 'openpcf import ... --name {name}', or delete {path.parent}"
    )


def content_hash(path: Path) -> str:
    """SHA-256 of a file's bytes, or of a folder's sorted (relative path, bytes) pairs."""
    h = hashlib.sha256()
    if path.is_dir():
        for file in sorted(p for p in path.rglob("*") if p.is_file()):
            h.update(file.relative_to(path).as_posix().encode())
            h.update(b"\x00")
            h.update(file.read_bytes())
            h.update(b"\x00")
        return h.hexdigest()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def database_name(text: str) -> str:
    """A safe folder name, lower case ``[a-z0-9_.-]``: ``"USLCI 2024"`` -> ``"uslci-2024"``."""
    name = re.sub(r"[^a-z0-9_.-]+", "-", text.strip().lower()).strip("-.")
    if not name or not _NAME.match(name):
        raise InputError(f"{text!r} cannot be a database name; use letters, digits, '-', '_'.")
    return name


@dataclass(frozen=True, slots=True)
class StoredVersion:
    """One stored version: its folder and metadata, with the arrays loaded on demand."""

    path: Path
    meta: dict[str, Any]

    @property
    def name(self) -> str:
        return str(self.meta["name"])

    @property
    def version(self) -> str:
        return str(self.meta["version"])

    @property
    def ref(self) -> str:
        return f"{self.name}@{self.version}"

    def report(self) -> dict[str, Any]:
        path = self.path / "report.json"
        try:
            data: dict[str, Any] = json.loads(path.read_text("utf-8"))
        except _DAMAGE as e:
            raise _damaged(path, e, self.name) from None
        return data

    def columns(self) -> list[Column]:
        path = self.path / "processes.csv"
        try:
            return _read_columns(path)
        except (*_DAMAGE, TypeError) as e:  # TypeError: a row with missing cells
            raise _damaged(path, e, self.name) from None

    def links(self, process_id: str | None = None) -> list[Link]:
        """The stored exchanges (all, or one process's); ``[]`` for an older version."""
        path = self.path / "exchanges.csv.gz"
        if not path.is_file():
            return []
        try:
            return _read_links(path, process_id)
        except (*_DAMAGE, TypeError, gzip.BadGzipFile) as e:
            raise _damaged(path, e, self.name) from None

    def system(self) -> MatrixSystem:
        cols = self.columns()
        A, B = (sp.csc_array(self._npz(name, sp.load_npz)) for name in ("A.npz", "B.npz"))
        return MatrixSystem(
            A=A, B=B, activities=tuple(c.id for c in cols), flows=tuple(self.meta["gases"])
        )

    def uncertainty(self) -> MatrixUncertainty | None:
        """The stats_arrays parameters of ``A`` and ``B`` (:data:`PARAMS_DTYPE` arrays, entry
        ``k`` describing ``A.data[k]`` of :meth:`system`'s CSC ``A``); ``None`` when no entry
        has a distribution, or for a version imported before they were stored."""
        if not (self.path / "uncertainty.npz").is_file():
            return None

        def read(handle: Any) -> MatrixUncertainty:
            with np.load(handle, allow_pickle=False) as data:
                arrays = {key: data[key] for key in ("A", "B")}
            for key, array in arrays.items():
                if array.dtype != PARAMS_DTYPE:
                    raise ValueError(f"array {key} has dtype {array.dtype}, not the parameters'")
            return MatrixUncertainty(A=arrays["A"], B=arrays["B"])

        result: MatrixUncertainty = self._npz("uncertainty.npz", read)
        return result

    def intensities(self) -> np.ndarray:
        """Kg of each gas (columns: ``meta["gases"]``) per unit of each activity's product."""

        def read(handle: Any) -> np.ndarray:
            with np.load(handle) as data:
                lam: np.ndarray = data["intensities"]
            return lam

        result: np.ndarray = self._npz("intensities.npz", read)
        return result

    def _npz(self, name: str, read: Callable[[Any], Any]) -> Any:
        """``read`` of the open file ``name``; a damaged file is a :class:`DatabaseDamagedError`.

        The file is opened here, not by numpy: ``np.load(path)`` leaves its file open when the
        zip inside is damaged (a ResourceWarning).
        """
        path = self.path / name
        try:
            with open(path, "rb") as handle:
                return read(handle)
        except _DAMAGE as e:
            raise _damaged(path, e, self.name) from None


class DatabaseStore:
    """The background databases under one root folder."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def names(self) -> list[str]:
        if not self.root.is_dir():
            return []
        return sorted(p.name for p in self.root.iterdir() if (p / "CURRENT").is_file())

    def versions(self, name: str) -> list[StoredVersion]:
        """Every stored version of ``name``, oldest import first."""
        folder = self.root / name
        if not folder.is_dir():
            return []
        found = [
            StoredVersion(p, _read_meta(p / "meta.json", name))
            for p in folder.iterdir()
            if (p / "meta.json").is_file()
        ]
        # the import time has one-second resolution: the file time breaks ties
        return sorted(
            found,
            key=lambda v: (
                str(v.meta.get("imported_utc", "")),
                (v.path / "meta.json").stat().st_mtime_ns,
            ),
        )

    def get(self, ref: str) -> StoredVersion:
        """``name`` (its current version) or ``name@version`` (a version prefix is enough).

        Raises
        ------
        DatabaseNotFoundError
            If the name or version is not stored; the message lists what is.
        """
        name, _, version = ref.partition("@")
        versions = self.versions(name)
        if not versions:
            known = ", ".join(self.names()) or "none yet"
            raise DatabaseNotFoundError(
                f"No background database {name!r} (stored: {known}). Import one with "
                "'openpcf import jsonld|ilcd|ecospold2 PATH --name NAME'."
            )
        if not version:
            current = self.root / name / "CURRENT"
            try:
                version = current.read_text("utf-8").strip()
            except (OSError, UnicodeDecodeError):
                listed = ", ".join(v.version for v in versions)
                raise DatabaseDamagedError(
                    f"{current}: missing or unreadable, so database {name!r} has no current "
                    f"version; name one ({name}@{versions[-1].version}; stored: {listed}) or "
                    f"import the database again"
                ) from None
        hits = [v for v in versions if v.version.startswith(version)]
        if len(hits) != 1:
            listed = ", ".join(v.version for v in versions)
            raise DatabaseNotFoundError(
                f"Database {name!r} has no single version {version!r}; stored versions: {listed}."
            )
        return hits[0]

    def has(self, name: str, version: str) -> bool:
        return (self.root / name / version / "meta.json").is_file()

    def write(
        self,
        *,
        meta: dict[str, Any],
        report: dict[str, Any],
        system: MatrixSystem,
        columns: list[Column] | tuple[Column, ...],
        intensities: Callable[[], np.ndarray],
        links: list[Link] | tuple[Link, ...] = (),
        uncertainty: MatrixUncertainty | None = None,
    ) -> StoredVersion:
        """Write one version atomically and make it the current one."""
        name, version = str(meta["name"]), str(meta["version"])
        folder = self.root / name
        folder.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{version}-", dir=folder))
        try:
            sp.save_npz(tmp / "A.npz", sp.csc_matrix(system.A))
            sp.save_npz(tmp / "B.npz", sp.csc_matrix(system.B))
            _write_columns(tmp / "processes.csv", columns)
            _write_links(tmp / "exchanges.csv.gz", links)
            np.savez_compressed(tmp / "intensities.npz", intensities=intensities())
            if uncertainty is not None and uncertainty.any():
                np.savez_compressed(tmp / "uncertainty.npz", A=uncertainty.A, B=uncertainty.B)
            _write_json(tmp / "report.json", report)
            _write_json(tmp / "meta.json", {**meta, "gases": list(system.flows)})
            tmp.chmod(0o755)  # mkdtemp makes it private; a database is ordinary user data
            atomic_replace_dir(tmp, folder / version)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        self.set_current(name, version)
        meta_text = (folder / version / "meta.json").read_text("utf-8")
        return StoredVersion(folder / version, json.loads(meta_text))

    def set_current(self, name: str, version: str) -> None:
        atomic_write(self.root / name / "CURRENT", (version + "\n").encode("utf-8"))


def _read_meta(path: Path, name: str) -> dict[str, Any]:
    """A version's ``meta.json``: a JSON object with at least name, version and gases."""
    try:
        meta = json.loads(path.read_text("utf-8"))
    except _DAMAGE as e:
        raise _damaged(path, e, name) from None
    if not isinstance(meta, dict) or not {"name", "version", "gases"} <= set(meta):
        raise _damaged(path, ValueError("not the metadata of a version"), name)
    return meta


def _write_json(path: Path, data: dict[str, Any]) -> None:
    path.write_text(json.dumps(data, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


_COLUMN_FIELDS = [f.name for f in fields(Column)]


def _write_columns(path: Path, columns: list[Column] | tuple[Column, ...]) -> None:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=_COLUMN_FIELDS, lineterminator="\n")
    writer.writeheader()
    for c in columns:
        writer.writerow(asdict(c))
    path.write_text(buf.getvalue(), encoding="utf-8")


#: Columns added after the first stored versions: read as None when absent or empty.
_OPTIONAL: dict[str, Callable[[str], Any]] = {"reference_year": int, "lost_share": float}


def _read_columns(path: Path) -> list[Column]:
    with path.open(encoding="utf-8", newline="") as fh:
        return [_column(row) for row in csv.DictReader(fh)]


def _column(row: dict[str, str]) -> Column:
    values: dict[str, Any] = {k: row[k] for k in _COLUMN_FIELDS if k not in _OPTIONAL}
    for key, parse in _OPTIONAL.items():
        text = row.get(key) or ""
        values[key] = parse(text) if text else None
    return Column(**values)


_LINK_FIELDS = [f.name for f in fields(Link)]


def _write_links(path: Path, links: list[Link] | tuple[Link, ...]) -> None:
    with gzip.open(path, "wt", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=_LINK_FIELDS, lineterminator="\n")
        writer.writeheader()
        for link in links:
            writer.writerow({**asdict(link), "amount": repr(link.amount)})


def _read_links(path: Path, process_id: str | None) -> list[Link]:
    with gzip.open(path, "rt", encoding="utf-8", newline="") as fh:
        return [
            _link(row)
            for row in csv.DictReader(fh)
            if process_id is None or row["process_id"] == process_id
        ]


def _link(row: dict[str, str]) -> Link:
    return Link(
        process_id=row["process_id"],
        flow_id=row["flow_id"],
        flow=row["flow"],
        kind=row["kind"],
        direction=row["direction"],
        amount=float(row["amount"]),
        unit=row["unit"],
        provider=row["provider"],
        how=row["how"],
        is_reference=row["is_reference"] == "True",
        distribution=row.get("distribution") or "",  # absent in older versions
    )


__all__ = [
    "VERSION_LENGTH",
    "DatabaseDamagedError",
    "DatabaseNotFoundError",
    "DatabaseStore",
    "StoredVersion",
    "content_hash",
    "database_name",
]
