"""The factor rows of a package: ``factors/rows.csv``, each row's digest, and their checks."""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from typing import Any

import rfc8785

from openpcf.errors import OpenPCFError
from openpcf.factors import Factor
from openpcf.factors.loading import (
    OPTIONAL,
    REQUIRED,
    UNCERTAINTY,
    parse_factor_text,
    uncertainty_cells,
)
from openpcf.methods.gases import GAS_IDS
from openpcf.package.background import BackgroundRow
from openpcf.package.format import BACKGROUND, ROWS, PackageError, sha256
from openpcf.package.results import Findings


def row_digest(factor: Factor) -> str:
    """SHA-256 of a factor row's RFC 8785 canonical JSON (``Factor.canonical()``)."""
    return sha256(rfc8785.dumps(factor.canonical()))


def rows_csv(factors: Sequence[Factor]) -> str:
    """The rows as a factor-set CSV (floats written with ``repr`` so they reload exactly)."""
    gases = [g for g in GAS_IDS if any(g in f.emissions for f in factors)]
    # the distributions' columns only where a row has one: other packages stay byte-identical
    spread = any(f.uncertainty is not None for f in factors)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([*REQUIRED, *OPTIONAL, *(UNCERTAINTY if spread else ()), *gases])
    for f in sorted(factors, key=lambda f: f.id):
        fields = {
            "illustrative": "true" if f.illustrative else "false",
            "ncv_mj_per_kg": "" if f.ncv_mj_per_kg is None else repr(f.ncv_mj_per_kg),
            "year": str(f.year),
        }
        row = [fields.get(k, getattr(f, k)) for k in (*REQUIRED, *OPTIONAL)]
        row += uncertainty_cells(f) if spread else []
        row += [repr(float(f.emissions[g])) if g in f.emissions else "" for g in gases]
        writer.writerow(row)
    return out.getvalue()


def checked_rows_csv(factors: Sequence[Factor]) -> str:
    """:func:`rows_csv`, after checking that every row reloads from it exactly.

    Raises
    ------
    PackageError
        For a factor row that would not reload exactly (a bug).
    """
    rows_text = rows_csv(factors)
    reloaded = parse_factor_text(rows_text, label=ROWS, set_name="rows", fmt="csv")
    for f in factors:
        if f.id not in reloaded or reloaded.get(f.id).canonical() != f.canonical():
            raise PackageError(
                f"factor row {f.id} would not reload exactly from {ROWS}; report this as a bug"
            )
    return rows_text


def packaged_rows(
    contents: Mapping[str, bytes],
    manifest: Mapping[str, Any],
    f: Findings,
    background: Sequence[BackgroundRow] = (),
) -> dict[str, Factor] | None:
    """Every factor row of the package by id, checked against the manifest's digests.

    The rows of ``factors/rows.csv`` and the ``background`` rows (read from
    ``background/rows.json`` by the caller). None when ``factors/rows.csv`` is missing or does
    not load (the problem is in ``f``).
    """
    try:
        text = contents[ROWS].decode("utf-8-sig")
        rows = parse_factor_text(text, label=ROWS, set_name="rows", fmt="csv")
    except KeyError:
        f.problems.append(f"{ROWS} is missing: the factor rows used cannot be rebuilt")
        return None
    except (OpenPCFError, UnicodeDecodeError) as e:
        f.problems.append(f"{ROWS} cannot be loaded: {e}")
        f.causes.append(f"the packaged factor rows were changed so that they no longer load ({e})")
        return None
    found: dict[str, tuple[Factor, str]] = {fid: (rows.get(fid), ROWS) for fid in rows.factors}
    for b in background:
        if b.factor.id in found:
            f.problems.append(f"factor row {b.factor.id} is in both {ROWS} and {BACKGROUND}")
        found[b.factor.id] = (b.factor, BACKGROUND)
    expected: Mapping[str, Any] = manifest.get("factor_rows") or {}
    for fid, entry in expected.items():
        file = BACKGROUND if entry.get("origin") == "background" else ROWS
        if fid not in found:
            f.problems.append(f"factor row {fid} listed in the manifest is missing from {file}")
            continue
        row, held = found[fid]
        if row_digest(row) != entry.get("sha256"):
            f.problems.append(
                f"factor row {fid} in the package differs from the manifest digest"
                f"{row_change(entry, row)}, in {held}"
            )
            f.causes.append(f"factor {fid} changed in the package{row_change(entry, row)}")
    for fid, (_, held) in found.items():
        if fid not in expected:
            f.problems.append(f"factor row {fid} is in {held} but not in the manifest")
    return {fid: row for fid, (row, _) in found.items()}


#: Origins of rows recomputed from files of the package (and compared with the packed row).
RECOMPUTED = ("side-file", "received")


def origin(manifest: Mapping[str, Any], fid: str) -> str:
    """Where the row ``fid`` came from: ``factor-set``, ``side-file``, ``received`` (a supplier
    footprint named by id or URN) or ``background`` (an imported LCI database)."""
    rows = manifest.get("factor_rows") or {}
    entry = rows.get(fid) if isinstance(rows, dict) else None
    value = entry.get("origin") if isinstance(entry, dict) else None
    return value if isinstance(value, str) else "factor-set"


def from_side_file(manifest: Mapping[str, Any], fid: str) -> bool:
    """Whether the row ``fid`` is recomputed from a file of the package (a side file or a
    packed supplier footprint) rather than taken from a factor set or a database."""
    return origin(manifest, fid) in RECOMPUTED


def set_rows(rows: Mapping[str, Factor], manifest: Mapping[str, Any]) -> list[Factor]:
    """The rows that came from a factor set; the others are resolved by their inputs."""
    return [r for fid, r in rows.items() if origin(manifest, fid) == "factor-set"]


def row_change(entry: Mapping[str, Any], row: Factor) -> str:
    """How ``row`` differs from the manifest ``entry`` (emissions, unit), for a message."""
    before = entry.get("emissions") or {}
    after = dict(row.emissions)
    changed = [
        f"{gas} {before.get(gas)!r} -> {after.get(gas)!r}"
        for gas in sorted(set(before) | set(after))
        if before.get(gas) != after.get(gas)
    ]
    if entry.get("unit") != row.unit:
        changed.append(f"unit {entry.get('unit')!r} -> {row.unit!r}")
    return f" ({', '.join(changed)})" if changed else " (provenance text changed)"
