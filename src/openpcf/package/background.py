"""``background/rows.json``: the background rows a package carries, and the resolver that reads
them back.

A ``background:`` input names a process of an imported LCI database
(``<database>[@version]:<process uuid or exact name>``); its factor row is that process's
cradle-to-gate kg of each gas per unit of its reference product (a row of the database's
intensity matrix). A verifier usually does not have the database (it may be licensed, or
simply large), so the package carries each row with what identifies it::

    {"rows": [{"references": ["small:widget assembly"],   # as written in the model
               "database": "small", "version": "394ec10c9c9e",
               "content_sha256": "394ec10c…",             # SHA-256 of the imported export
               "format": "jsonld", "source_file": "jsonld_small",
               "process_uuid": "ee000000-…", "activity": "ee000000-…",
               "licence": "CC0 1.0 …",
               "factor": {"id": "small@394ec10c9c9e:ee000000-…", "unit": "kg",
                          "emissions": {"CO2-fossil": 1.4, …}, …}}]}

Reproducing resolves the model's references from these rows only (:class:`PackedBackground`),
never from a database on the verifier's machine. The rows are JSON rather than lines of
``factors/rows.csv``: their ids (``db@version:uuid``) are not factor-set ids, and a row of a
real database may hold a negative amount of a gas (a credit), which a factor set refuses.
Floats are written with ``repr``, so every row reloads bit for bit.

The file comes from someone else: :func:`read_background` accepts exactly this shape (known
keys, types, finite numbers, known gases, units pint reads) and names the file and row in
every refusal.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from typing import Any

from openpcf.core.units import parse as parse_unit
from openpcf.errors import OpenPCFError, UnknownFactorError
from openpcf.factors import Factor
from openpcf.files import jsonfile
from openpcf.methods.gases import GAS_IDS
from openpcf.package.format import BACKGROUND, PackageError, dumps

#: Text fields of a packed row besides its factor, in the order they are written.
_ROW_TEXT = (
    "database",
    "version",
    "content_sha256",
    "format",
    "source_file",
    "process_uuid",
    "activity",
    "licence",
)
_FACTOR_TEXT: tuple[str, ...] = (
    "id",
    "name",
    "name_zh",
    "unit",
    "category",
    "geography",
    "source",
    "licence",
    "gwp_basis",
    "notes",
    "set_name",
)
_FACTOR_KEYS = frozenset(f.name for f in fields(Factor))


@dataclass(frozen=True, slots=True, kw_only=True)
class BackgroundRow:
    """One process of an imported database, as a factor row with its provenance."""

    references: tuple[str, ...]  # the model's references that resolved to it, as written
    database: str
    version: str  # the database version (first 12 hex digits of content_sha256)
    content_sha256: str  # SHA-256 of the database export that was imported
    format: str  # jsonld, ilcd or ecospold2
    source_file: str
    process_uuid: str  # the source's UUID of the process
    activity: str  # the column (differs from process_uuid for an allocated co-product)
    licence: str
    factor: Factor

    @property
    def database_ref(self) -> str:
        """``name@version``, as ``openpcf db show`` takes it."""
        return f"{self.database}@{self.version}"

    def to_dict(self) -> dict[str, Any]:
        factor = {f.name: getattr(self.factor, f.name) for f in fields(Factor)}
        factor["emissions"] = {g: self.factor.emissions[g] for g in sorted(self.factor.emissions)}
        return {
            "references": list(self.references),
            **{key: getattr(self, key) for key in _ROW_TEXT},
            "factor": factor,
        }


def background_json(rows: Sequence[BackgroundRow]) -> bytes:
    """The bytes of ``background/rows.json`` (rows sorted by factor id)."""
    ordered = sorted(rows, key=lambda r: r.factor.id)
    return dumps({"rows": [r.to_dict() for r in ordered]})


class BackgroundFileError(PackageError):
    """``background/rows.json`` is not a file of packed background rows (the message says
    where)."""


def read_background(data: bytes) -> list[BackgroundRow]:
    """The rows of a ``background/rows.json`` file.

    Raises
    ------
    BackgroundFileError
        Naming the file and the row: not JSON, not ``{"rows": [...]}``, a missing or unknown
        key, a value of the wrong type, a non-finite amount, an unknown gas, a unit pint
        cannot read, or two rows with the same factor id or reference.
    """
    try:
        doc = jsonfile.loads(data)
    except ValueError as e:
        raise BackgroundFileError(f"{BACKGROUND} is not valid JSON ({e})") from None
    if not isinstance(doc, dict) or set(doc) != {"rows"} or not isinstance(doc["rows"], list):
        raise BackgroundFileError(f'{BACKGROUND} is not {{"rows": [...]}}')
    rows = [_row(item, f"{BACKGROUND} rows[{n}]") for n, item in enumerate(doc["rows"])]
    seen_ids: set[str] = set()
    seen_refs: set[str] = set()
    for n, row in enumerate(rows):
        where = f"{BACKGROUND} rows[{n}]"
        if row.factor.id in seen_ids:
            raise BackgroundFileError(f"{where}: factor id {row.factor.id!r} appears twice")
        seen_ids.add(row.factor.id)
        twice = seen_refs.intersection(row.references)
        if twice:
            raise BackgroundFileError(f"{where}: reference {sorted(twice)[0]!r} appears twice")
        seen_refs.update(row.references)
    return rows


def _row(item: Any, where: str) -> BackgroundRow:
    if not isinstance(item, dict):
        raise BackgroundFileError(f"{where}: not an object")
    expected = {"references", "factor", *_ROW_TEXT}
    _keys(item, expected, where)
    refs = item["references"]
    if not isinstance(refs, list) or not refs or not all(_text(r) for r in refs):
        raise BackgroundFileError(f"{where}: references must be a non-empty list of texts")
    for key in _ROW_TEXT:
        if not isinstance(item[key], str):
            raise BackgroundFileError(f"{where}: {key} must be a text")
    return BackgroundRow(
        references=tuple(refs),
        factor=_factor(item["factor"], f"{where}.factor"),
        **{key: item[key] for key in _ROW_TEXT},
    )


def _factor(item: Any, where: str) -> Factor:
    if not isinstance(item, dict):
        raise BackgroundFileError(f"{where}: not an object")
    _keys(item, _FACTOR_KEYS, where)
    for key in _FACTOR_TEXT:
        if not isinstance(item[key], str):
            raise BackgroundFileError(f"{where}: {key} must be a text")
    if not _text(item["id"]):
        raise BackgroundFileError(f"{where}: id is empty")
    year, ncv, flag = item["year"], item["ncv_mj_per_kg"], item["illustrative"]
    if not isinstance(year, int) or isinstance(year, bool):
        raise BackgroundFileError(f"{where}: year must be a whole number")
    if not isinstance(flag, bool):
        raise BackgroundFileError(f"{where}: illustrative must be true or false")
    if ncv is not None and not _number(ncv):
        raise BackgroundFileError(f"{where}: ncv_mj_per_kg must be a finite number or null")
    emissions = item["emissions"]
    if not isinstance(emissions, dict) or not emissions:
        raise BackgroundFileError(f"{where}: emissions must be an object of gas amounts")
    for gas, amount in emissions.items():
        if gas not in GAS_IDS:
            raise BackgroundFileError(f"{where}: unknown gas {gas!r}")
        if not _number(amount):
            raise BackgroundFileError(f"{where}: the amount of {gas} must be a finite number")
    try:
        parse_unit(item["unit"])
    except OpenPCFError as e:
        raise BackgroundFileError(f"{where}: unit {item['unit']!r} cannot be read ({e})") from None
    return Factor(
        **{key: item[key] for key in _FACTOR_TEXT},
        emissions={gas: float(amount) for gas, amount in emissions.items()},
        year=year,
        illustrative=flag,
        ncv_mj_per_kg=None if ncv is None else float(ncv),
    )


def _keys(item: Mapping[str, Any], expected: set[str] | frozenset[str], where: str) -> None:
    missing = sorted(expected - set(item))
    unknown = sorted(set(item) - expected)
    if missing or unknown:
        parts = [f"missing {missing}" if missing else "", f"unknown {unknown}" if unknown else ""]
        raise BackgroundFileError(f"{where}: keys {', '.join(p for p in parts if p)}")


def _text(value: Any) -> bool:
    return isinstance(value, str) and bool(value.strip())


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


class PackedBackground:
    """Resolves ``background:`` references from the packed rows only (the compiler's
    :data:`~openpcf.model.compiler.BackgroundResolver`; it pickles)."""

    __slots__ = ("rows",)

    def __init__(self, rows: Sequence[BackgroundRow]) -> None:
        self.rows = {ref: row.factor for row in rows for ref in row.references}

    def __call__(self, ref: str) -> Factor:
        try:
            return self.rows[ref]
        except KeyError:
            raise UnknownFactorError(
                f"background {ref!r} is not among the background rows of the package "
                f"({BACKGROUND}); a package is reproduced from its own rows, never from a "
                "database on this machine"
            ) from None
