"""The database browser of the web pages: the imported LCI databases, searched and explained.

The same store and the same functions as ``openpcf db list``/``search``/``show``
(:mod:`openpcf.services.databases`): the databases imported into ``$OPENPCF_HOME/databases``
(:class:`~openpcf.io.store.DatabaseStore`). This module only bounds what arrives from a page
(names, queries, process keys) and shapes the answers as plain data for the templates.

Design note: a database name from a URL is accepted only if it is already the store's own
spelling of a name (:func:`~openpcf.io.store.database_name`: lower case ``[a-z0-9_.-]``, no
leading dot, no slash, no ``@version``), so a name can never reach outside the store's folder;
anything else reads as an unknown database.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from openpcf.errors import InputError, UnknownFactorError
from openpcf.io.store import DatabaseNotFoundError, DatabaseStore, database_name
from openpcf.services.databases import (
    FootprintRow,
    list_databases,
    search_footprints,
    show_database,
    show_process,
)
from openpcf.settings import Settings

#: The most rows one search shows.
MAX_ROWS = 200
#: The longest query the page accepts.
MAX_QUERY = 200
#: The longest process key (an activity id is a UUID, or two joined by ``#``).
MAX_KEY = 300


@dataclass(frozen=True, slots=True, kw_only=True)
class DatabaseRow:
    """One imported database as the list shows it (its current version)."""

    name: str
    version: str
    versions: int
    format: str
    processes: int
    activities: int
    imported_utc: str
    source_file: str
    licence: str
    content_sha256: str
    #: [first, last] of the data sets' own reference years; empty when none gives one
    reference_years: tuple[int, ...]
    years_unknown: int


@dataclass(frozen=True, slots=True, kw_only=True)
class DatabaseSearch:
    """The rows found (at most :data:`MAX_ROWS`) and how many matched in all."""

    database: DatabaseRow
    query: str
    rows: tuple[FootprintRow, ...]
    matched: int


def database_store(home: Path) -> DatabaseStore:
    """The store of ``home`` (``home/databases``, as ``Settings.databases_dir`` says)."""
    return DatabaseStore(Settings(home=home, database_url="").databases_dir)


def _checked_name(name: str) -> str:
    try:
        safe = database_name(name)
    except InputError:
        safe = ""
    if safe != name:
        raise DatabaseNotFoundError(f"No background database {name[:80]!r}.")
    return name


def _row(info: dict[str, Any]) -> DatabaseRow:
    years = info["report"].get("reference_years", {})
    return DatabaseRow(
        name=str(info["name"]),
        version=str(info["version"]),
        versions=len(info["versions"]),
        format=str(info["format"]),
        processes=int(info["counts"]["processes"]),
        activities=int(info["counts"]["activities"]),
        imported_utc=str(info["imported_utc"]),
        source_file=str(info["source_file"]),
        licence=str(info.get("licence") or ""),
        content_sha256=str(info["content_sha256"]),
        reference_years=tuple(int(y) for y in years.get("range", [])),
        years_unknown=int(years.get("unknown", 0)),
    )


def list_web_databases(*, home: Path) -> tuple[DatabaseRow, ...]:
    """Every imported database with its current version, as ``openpcf db list`` lists them.

    Raises
    ------
    DatabaseDamagedError
        If a stored database cannot be read (the message names the file and the repair).
    """
    store = database_store(home)
    return tuple(
        _row(show_database(str(d["name"]), store=store)) for d in list_databases(store=store)
    )


def search_database(name: str, query: str, *, home: Path) -> DatabaseSearch:
    """Processes of database ``name`` whose English or Chinese name or product contain every
    word of ``query`` (an empty query lists the database), with their AR6 footprints and
    outlier flags, as ``openpcf db search`` finds them.

    Raises
    ------
    DatabaseNotFoundError
        If no database of that name is stored (or the name is not a possible one).
    """
    store = database_store(home)
    info = show_database(_checked_name(name), store=store)
    query = query.strip()[:MAX_QUERY]
    found = search_footprints(name, query, store=store)
    return DatabaseSearch(
        database=_row(info), query=query, rows=tuple(found[:MAX_ROWS]), matched=len(found)
    )


def process_detail(name: str, key: str, *, home: Path) -> dict[str, Any]:
    """One process as ``openpcf db show NAME KEY --json`` shows it, with the database's
    provenance under ``"source"`` (a :class:`DatabaseRow`).

    Raises
    ------
    DatabaseNotFoundError
        If no database of that name is stored.
    UnknownFactorError
        If no activity (or several) has the id, process id or exact name ``key``.
    """
    store = database_store(home)
    info = show_database(_checked_name(name), store=store)
    if not key.strip() or len(key) > MAX_KEY:
        raise UnknownFactorError(f"{name}: no process {key[:80]!r}.")
    return {**show_process(name, key, store=store), "source": _row(info)}
