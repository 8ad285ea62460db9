"""Derived factor sets: the curation (``--select``) file and the byte-stable CSV they become.

``openpcf factors derive`` (:mod:`openpcf.services.derive`) turns processes of an imported LCI
database into ordinary factor rows. This module holds the two pure halves of that: reading
the curation file, which says which process stands for which material and why, and writing
the rows as a CSV that :func:`openpcf.factors.loading.load_factor_set` reads back, in a fixed
order with fixed number formatting, so that deriving twice from the same inputs gives the
same bytes.

Curation file (CSV, UTF-8), one row per material, columns :data:`SELECTION_COLUMNS`:

- ``id``: the factor id, ``<country>.<database>.<family>.<product>`` (docs/factors.md);
- ``family``: the material family of the coverage list (``steel``, ``aluminium``, ...);
- ``category``: a factor category (:data:`~openpcf.factors.schema.CATEGORIES`);
- ``name``, ``name_zh``: readable English and Chinese names;
- ``aliases_en``, ``aliases_zh``: further names, separated by ``;``;
- ``database``, ``process``: the database name and the process UUID (or activity id);
  both empty for a material with no open source, whose ``why`` then says what was searched;
- ``expected_min``, ``expected_max`` (optional): the plausible range in kg CO2e (AR6) per
  unit, and ``range_source`` the publication it comes from; a derived value outside it is an
  error, not a row;
- ``why``: why this process (or why none).
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from openpcf.errors import FactorSetError
from openpcf.factors.loading import parse_factor_text
from openpcf.factors.schema import CATEGORIES
from openpcf.files.csvfile import read_csv_rows
from openpcf.methods.gases import GAS_IDS

SELECTION_COLUMNS: tuple[str, ...] = (
    "id",
    "family",
    "category",
    "name",
    "name_zh",
    "aliases_en",
    "aliases_zh",
    "database",
    "process",
    "expected_min",
    "expected_max",
    "range_source",
    "why",
)
_REQUIRED = ("id", "family", "category", "name", "database", "process", "why")

#: Columns of a derived CSV before the gas columns. The first twelve are the ordinary factor
#: fields; the rest are the provenance columns :mod:`openpcf.factors.loading` accepts.
DERIVED_COLUMNS: tuple[str, ...] = (
    "id",
    "name",
    "name_zh",
    "unit",
    "category",
    "geography",
    "year",
    "source",
    "licence",
    "gwp_basis",
    "illustrative",
    "notes",
    "database",
    "database_version",
    "process_uuid",
    "lost_share",
    "linking_rules",
)


@dataclass(frozen=True, slots=True, kw_only=True)
class Selection:
    """One row of a curation file (``process`` empty: no open source was found)."""

    line: int
    id: str
    family: str
    category: str
    name: str
    name_zh: str
    aliases_en: tuple[str, ...]
    aliases_zh: tuple[str, ...]
    database: str
    process: str
    expected: tuple[float, float] | None
    range_source: str
    why: str

    @property
    def covered(self) -> bool:
        return bool(self.process)


@dataclass(frozen=True, slots=True, kw_only=True)
class DerivedRow:
    """One derived factor with its provenance, ready to be written."""

    id: str
    name: str
    name_zh: str
    unit: str
    category: str
    geography: str
    year: int
    source: str
    licence: str
    notes: str
    database: str
    database_version: str
    process_uuid: str
    lost_share: float | None
    linking_rules: str
    emissions: Mapping[str, float]


def _aliases(cell: str) -> tuple[str, ...]:
    return tuple(a.strip() for a in cell.split(";") if a.strip())


def _bound(cell: str, where: str, column: str) -> float | None:
    if not cell:
        return None
    try:
        value = float(cell)
    except ValueError:
        raise FactorSetError(f"{where}: {column} {cell!r} is not a number.") from None
    if not math.isfinite(value):
        raise FactorSetError(f"{where}: {column} {cell!r} is not a finite number.")
    return value


def read_selection(path: Path) -> list[Selection]:
    """The rows of curation file ``path``, in file order.

    Raises
    ------
    FactorSetError
        Naming the file and line: a missing column or cell, an unknown category, an id used
        twice, only one of database/process given, or a range that is not ``min <= max``.
    """
    path = Path(path)
    out: list[Selection] = []
    seen: dict[str, int] = {}
    rows = read_csv_rows(
        path,
        required=_REQUIRED,
        header=f"columns: {','.join(SELECTION_COLUMNS)}",
        error=FactorSetError,
    )
    for line, row in rows:
        where = f"{path}:{line}"
        if None in row:
            raise FactorSetError(f"{where}: more cells than the header; check commas and quotes.")
        cell = {key: (row.get(key) or "").strip() for key in SELECTION_COLUMNS}
        for key in ("id", "family", "category", "name", "why"):
            if not cell[key]:
                raise FactorSetError(f"{where}: column {key!r} is empty; fill it in.")
        if bool(cell["database"]) != bool(cell["process"]):
            raise FactorSetError(
                f"{where}: give both 'database' and 'process', or neither (a material "
                "without an open source, explained in 'why')."
            )
        if cell["category"] not in CATEGORIES:
            raise FactorSetError(
                f"{where}: category {cell['category']!r} is unknown; use one of {CATEGORIES}."
            )
        if cell["id"] in seen:
            raise FactorSetError(
                f"{where}: id {cell['id']!r} is already used on line "
                f"{seen[cell['id']]}; give every material its own id."
            )
        seen[cell["id"]] = line
        low = _bound(cell["expected_min"], where, "expected_min")
        high = _bound(cell["expected_max"], where, "expected_max")
        if (low is None) != (high is None) or (low is not None and high is not None and low > high):
            raise FactorSetError(
                f"{where}: give expected_min <= expected_max together, or neither."
            )
        if low is not None and not cell["range_source"]:
            raise FactorSetError(f"{where}: a plausible range needs its range_source.")
        out.append(
            Selection(
                line=line,
                id=cell["id"],
                family=cell["family"],
                category=cell["category"],
                name=cell["name"],
                name_zh=cell["name_zh"],
                aliases_en=_aliases(cell["aliases_en"]),
                aliases_zh=_aliases(cell["aliases_zh"]),
                database=cell["database"],
                process=cell["process"],
                expected=(low, high) if low is not None and high is not None else None,
                range_source=cell["range_source"],
                why=cell["why"],
            )
        )
    return out


def _number(value: float) -> str:
    """Fixed formatting: 6 significant digits, no negative zero."""
    text = format(value, ".6g")
    return "0" if text in ("0", "-0") else text


def render_derived_csv(rows: Iterable[DerivedRow], *, label: str = "derived set") -> str:
    """The CSV text of ``rows``: sorted by id, gas columns in :data:`GAS_IDS` order (only
    the gases some row has), ``\\n`` line ends, numbers via :func:`_number`.

    The text is parsed back with the ordinary factor loader before it is returned, so a
    derived set that the engine could not load is never written.
    """
    ordered = sorted(rows, key=lambda r: r.id)
    gases = [g for g in GAS_IDS if any(r.emissions.get(g) for r in ordered)] or ["CO2-fossil"]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([*DERIVED_COLUMNS, *gases])
    for r in ordered:
        amounts = [_number(r.emissions[g]) if r.emissions.get(g) else "" for g in gases]
        if not any(amounts):  # a zero footprint is a value: the loader needs one gas cell
            amounts[0] = "0"
        writer.writerow(
            [
                r.id,
                r.name,
                r.name_zh,
                r.unit,
                r.category,
                r.geography,
                str(r.year),
                r.source,
                r.licence,
                "",
                "false",
                r.notes,
                r.database,
                r.database_version,
                r.process_uuid,
                "" if r.lost_share is None else f"{r.lost_share:.3f}",
                r.linking_rules,
                *amounts,
            ]
        )
    text = buffer.getvalue()
    parse_factor_text(text, label=label, set_name="derived", fmt="csv")
    return text


def coverage(selections: Sequence[Selection]) -> dict[str, list[str]]:
    """Family -> ids of the covered rows (empty list: no open source for the family)."""
    out: dict[str, list[str]] = {}
    for s in selections:
        out.setdefault(s.family, [])
        if s.covered:
            out[s.family].append(s.id)
    return out
