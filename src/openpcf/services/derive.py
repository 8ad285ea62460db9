"""Derive a factor set from imported LCI databases (``openpcf factors derive``).

Each derived row is a row of the database's cradle-to-gate intensities ``Λ`` (kg of each gas
per unit of the process's reference product, computed at import), with its provenance, all
read from the stored version (:mod:`openpcf.io.store`), so a derivation needs no source file
and gives the same rows for the same stored version: the database and its version hash, the
process UUID, its location, the data set's own reference year (ILCD ``referenceYear``,
JSON-LD ``validFrom``, ecospold2 ``startDate``; not the import date), the licence text found
in the source, the linking rules, and the share of the footprint the cut inputs would have
carried (``lost_share``, estimated at import; empty where the import could not estimate it).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from openpcf.errors import FactorSetError, InputError, UnknownProcessError
from openpcf.factors.derive import DerivedRow, Selection
from openpcf.io.linking import Column
from openpcf.io.store import DatabaseStore, StoredVersion
from openpcf.methods.gwp import characterisation_vector, gwp_set

#: GWP set of the plausibility ranges and of the footprint quoted in the notes.
GWP = "AR6"
#: Amounts smaller than this share of a row's largest amount are solver round-off, not data.
ROUND_OFF = 1e-9


@dataclass(frozen=True, slots=True, kw_only=True)
class DerivedSet:
    rows: tuple[DerivedRow, ...]
    gaps: tuple[Selection, ...]  # curated materials without an open source
    licences: Mapping[str, str]  # database name -> licence text found in its source


@dataclass(frozen=True, slots=True, kw_only=True)
class _Database:
    stored: StoredVersion
    columns: list[Column]
    lam: np.ndarray  # n x gases, kg per unit of reference product
    footprint: np.ndarray  # kg CO2e (GWP) per unit

    @property
    def licence(self) -> str:
        return str(self.stored.meta.get("licence") or "")


def licence_label(text: str) -> str:
    """A short licence label: the first line of the source's licence text."""
    first = next((line.strip() for line in text.splitlines() if line.strip()), "")
    return first[:80] or "not stated in the source"


def _linking_rules(meta: Mapping[str, Any]) -> str:
    rules = meta.get("link_rules") or {}
    providers = rules.get("providers") or {}
    places = rules.get("prefer_locations") or []
    extra = f"{len(providers)} provider(s) fixed by --rules" if providers else "no --rules file"
    if places:
        extra += f"; preferred locations {'>'.join(places)}"
    return f"OpenPCF linker (docs/databases.md, Linking rules); {extra}"


def _year(value: object) -> int | None:
    text = str(value if value is not None else "").strip()
    return int(text) if text.isdigit() else None


def _share(value: object) -> float | None:
    text = str(value if value is not None else "").strip()
    return float(text) if text else None


def _open(ref: str, store: DatabaseStore) -> _Database:
    stored = store.get(ref)
    lam = stored.intensities()
    footprint = lam @ characterisation_vector(gwp_set(GWP), list(stored.meta["gases"]))
    return _Database(stored=stored, columns=stored.columns(), lam=lam, footprint=footprint)


def _find_column(db: _Database, key: str, where: str) -> int:
    hits = [j for j, c in enumerate(db.columns) if key in (c.id, c.process_id)]
    exact = [j for j in hits if db.columns[j].id == key] or hits
    if len(exact) == 1:
        return exact[0]
    if exact:
        ids = ", ".join(db.columns[j].id for j in exact)
        raise UnknownProcessError(
            f"{where}: process {key} has {len(exact)} activities ({ids}); give the activity id."
        )
    raise UnknownProcessError(
        f"{where}: {db.stored.ref} has no activity for process {key!r}: the UUID is unknown, "
        "or the process was skipped at import for want of a usable reference product (see "
        f"'openpcf db show {db.stored.name}'). Search with 'openpcf db search "
        f"{db.stored.name} WORDS'."
    )


def _notes(col: Column, pick: Selection | None, value: float, lost: float | None) -> str:
    notes = [f"cradle-to-gate per {col.unit} of reference product {col.product!r}"]
    if pick is not None and (aliases := "; ".join((*pick.aliases_en, *pick.aliases_zh))):
        notes.append(f"aliases: {aliases}")
    notes.append(f"{GWP} {value:.4g} kg CO2e per {col.unit}")
    if lost is None:
        notes.append(
            "share lost to cut inputs unknown: the process cuts an input no process of the "
            "database makes (docs/databases.md)"
        )
    if pick is not None:
        notes.append(f"selected because: {pick.why}")
    return "; ".join(notes)


def _row(db: _Database, j: int, pick: Selection | None, where: str) -> DerivedRow:
    col = db.columns[j]
    meta = db.stored.meta
    gases = list(meta["gases"])
    row = db.lam[j]
    # solver round-off (e.g. -1e-20 kg N2O beside kg of CO2) is not a value: drop amounts
    # below ROUND_OFF of the row's largest one
    floor = ROUND_OFF * float(np.max(np.abs(row), initial=0.0))
    emissions = {g: float(v) for g, v in zip(gases, row, strict=True) if abs(v) > floor}
    negative = {g: v for g, v in emissions.items() if v < 0}
    if negative:
        raise FactorSetError(
            f"{where}: {col.id} ({col.name}) has negative cradle-to-gate amounts {negative}; "
            "a factor row cannot carry them. Choose another process."
        )
    year = _year(col.reference_year)
    if year is None:
        raise FactorSetError(
            f"{where}: {col.id} ({col.name}) states no reference year in the source; choose "
            "another process."
        )
    value = float(db.footprint[j])
    if pick is not None and pick.expected is not None:
        low, high = pick.expected
        if not low <= value <= high:
            raise FactorSetError(
                f"{where}: {col.name} gives {value:.4g} kg CO2e ({GWP}) per {col.unit}, outside "
                f"the plausible {low:g}-{high:g} ({pick.range_source}). Choose another process."
            )
    lost = _share(col.lost_share)
    return DerivedRow(
        id=pick.id if pick else _auto_id(db.stored.name, col.id),
        name=pick.name if pick else col.name,
        name_zh=pick.name_zh if pick else col.name_zh,
        unit=col.unit,
        category=pick.category if pick else "material",
        geography=col.location or "GLO",
        year=year,
        source=(
            f"{meta['source_file']} (sha256 {meta['content_sha256'][:12]}), process "
            f"{col.process_id}: {col.name}"
        ),
        licence=f"{licence_label(db.licence)} ({meta['source_file']}; full text: licence file)",
        notes=_notes(col, pick, value, lost),
        database=db.stored.name,
        database_version=db.stored.version,
        process_uuid=col.process_id,
        lost_share=lost,
        linking_rules=_linking_rules(meta),
        emissions=emissions,
    )


def _negative(row: np.ndarray) -> bool:
    return bool(np.any(row < -ROUND_OFF * float(np.max(np.abs(row), initial=0.0))))


def _auto_id(database: str, column_id: str) -> str:
    """``<database>.<activity id>``, the ``#`` of a co-product's id written as ``.``."""
    return f"{database}.{column_id.lower().replace('#', '.')}"


def derive_factor_set(
    refs: Sequence[str], selection: Sequence[Selection] | None, *, store: DatabaseStore
) -> DerivedSet:
    """Derive factor rows from the databases ``refs`` (``name[@version]``).

    With ``selection``, one row per curated material that has a process, each from the
    database its row names (which must be one of ``refs``); without, one row per activity
    of every database that states a reference year and has no negative amount.

    Raises
    ------
    DatabaseNotFoundError
        If a database is not imported.
    FactorSetError
        If the selection names a database not given, or a chosen process has no reference
        year, negative amounts or a footprint outside its plausible range.
    UnknownProcessError
        If a selected process is not an activity of its database.
    """
    if not refs:
        raise InputError("Name at least one imported database to derive from.")
    opened: dict[str, _Database] = {}
    for ref in refs:
        db = _open(ref, store)
        opened[db.stored.name] = db
    rows: list[DerivedRow] = []
    if selection is None:
        for db in opened.values():
            rows.extend(
                _row(db, j, None, f"{db.stored.ref}:{c.id}")
                for j, c in enumerate(db.columns)
                if _year(c.reference_year) is not None and not _negative(db.lam[j])
            )
    for pick in selection or ():
        if not pick.covered:
            continue
        where = f"selection line {pick.line} ({pick.id})"
        if pick.database not in opened:
            raise FactorSetError(
                f"{where}: database {pick.database!r} is not among the databases given "
                f"({', '.join(sorted(opened))}); add it to the command."
            )
        db = opened[pick.database]
        rows.append(_row(db, _find_column(db, pick.process, where), pick, where))
    return DerivedSet(
        rows=tuple(rows),
        gaps=tuple(p for p in selection or () if not p.covered),
        licences={name: opened[name].licence for name in sorted(opened)},
    )


def licence_text(derived: DerivedSet) -> str:
    """The licence file written next to a derived CSV: each database's licence in full."""
    parts = [
        "Licences of the LCI databases this factor set was derived from, as found in each\n"
        "database's source (written by 'openpcf factors derive').\n"
    ]
    for name, text in derived.licences.items():
        parts.append(f"\n=== {name} ===\n\n{text.strip() or 'No licence text in the source.'}\n")
    return "".join(parts)
