"""Comparing a recomputed result with the packaged one: what differs, and why."""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from openpcf import __version__
from openpcf.core.solver import pardiso_available
from openpcf.package.format import LOCATION_KEYS
from openpcf.package.layout import packaged_model
from openpcf.package.results import Difference, Findings
from openpcf.package.rows import from_side_file, origin, row_change

if TYPE_CHECKING:
    from openpcf.factors import Factor
    from openpcf.model.calculation import Calculation


def solver_backend(manifest: Mapping[str, Any], f: Findings) -> Any:
    """The solver to recompute with: the packager's, or SuperLU where that one is missing."""
    solver = str((manifest.get("provenance") or {}).get("solver", "superlu"))
    if solver == "pardiso" and not pardiso_available():
        f.notes.append("packaged with the PARDISO solver, recomputed with SuperLU")
        return "superlu"
    return solver if solver in ("superlu", "pardiso") else "superlu"


def relocate(data: Any, tmp_model_dir: Path, manifest: Mapping[str, Any]) -> Any:
    """Rewrite paths of the temporary folder into the packager's paths (for comparison)."""
    original = str(manifest.get("model_dir", ""))
    here = str(tmp_model_dir)
    prefix = "" if original in ("", ".") else original + "/"

    def fix(value: Any) -> Any:
        if isinstance(value, str):
            return value.replace(here + "/", prefix).replace(here, original)
        if isinstance(value, dict):
            return {k: fix(v) for k, v in value.items()}
        if isinstance(value, list):
            return [fix(v) for v in value]
        return value

    return fix(data)


def diff(packaged: Any, recomputed: Any, where: str = "") -> Iterator[Difference]:
    """Every leaf that differs (exactly: floats must be bit-identical)."""
    if where.startswith("provenance."):
        key = where.removeprefix("provenance.")
        if key in LOCATION_KEYS or key == "factor_rows_sha256":
            return  # locations, and the row hash which embeds side-file paths: rows compared
    if isinstance(packaged, dict) and isinstance(recomputed, dict):
        for key in list(dict.fromkeys([*packaged, *recomputed])):
            sub = f"{where}.{key}" if where else str(key)
            yield from diff(packaged.get(key), recomputed.get(key), sub)
    elif isinstance(packaged, list) and isinstance(recomputed, list):
        if len(packaged) != len(recomputed):
            yield Difference(
                where=f"{where} (length)", packaged=len(packaged), recomputed=len(recomputed)
            )
        for n, (a, b) in enumerate(zip(packaged, recomputed, strict=False)):
            yield from diff(a, b, f"{where}[{n}]")
    elif not same(packaged, recomputed):
        yield Difference(where=where, packaged=packaged, recomputed=recomputed)


def same(a: Any, b: Any) -> bool:
    """Equal values of the same type, or equal numbers; NaN is the same as NaN."""
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    return bool(a == b and type(a) is type(b)) or (
        isinstance(a, int | float) and isinstance(b, int | float) and float(a) == float(b)
    )


def compare_rows(
    calculation: Calculation,
    rows: Mapping[str, Factor],
    manifest: Mapping[str, Any],
    f: Findings,
    tmp: Path,
) -> None:
    """Rows recomputed now from files of the package (side files, packed supplier footprints)
    vs the packaged rows."""
    model_dir = packaged_model(tmp, manifest).parent
    for factor in calculation.compiled.factors:
        packaged = rows.get(factor.id)
        if not from_side_file(manifest, factor.id):
            continue
        now = relocate(factor.canonical(), model_dir, manifest)
        source = _source(manifest, factor.id)
        if packaged is None:
            f.problems.append(f"factor row {factor.id} derived from {source} is not packaged")
        elif now != packaged.canonical():
            was = {"emissions": dict(packaged.emissions), "unit": packaged.unit}
            why = (
                "the packed supplier footprint changed"
                if origin(manifest, factor.id) == "received"
                else "the side file or OpenPCF's bundled data for it changed"
            )
            f.causes.append(
                f"factor {factor.id} recomputed from {source} differs from the packaged row"
                f"{row_change(was, factor)}: {why}"
            )


def _source(manifest: Mapping[str, Any], fid: str) -> str:
    """The file a recomputed row comes from, in words."""
    if origin(manifest, fid) == "received":
        for entry in (manifest.get("received_footprints") or {}).values():
            if (
                isinstance(entry, dict)
                and fid == f"supplier.{str(entry.get('footprint_id')).lower()}"
            ):
                return f"the supplier footprint {entry.get('file')}"
    return "its side file"


def explain(
    differences: Sequence[Difference],
    packaged: Mapping[str, Any],
    recomputed: Mapping[str, Any],
    manifest: Mapping[str, Any],
    f: Findings,
) -> None:
    """Name the exchanges whose contributions moved, and a version change."""
    before = {(e.get("process"), e.get("label")): e for e in packaged.get("exchanges", [])}
    for e in recomputed.get("exchanges", []):
        old = before.get((e.get("process"), e.get("label")))
        if old is not None and not same(old.get("kg_co2e"), e.get("kg_co2e")):
            kind = "factor" if e.get("kind") != "emission" else "emission"
            f.causes.append(
                f"{kind} {e.get('label')} in process {e.get('process')}: "
                f"{old.get('kg_co2e')!r} vs {e.get('kg_co2e')!r} kg CO2e"
            )
    version = (manifest.get("provenance") or {}).get("openpcf_version")
    if version and version != __version__:
        f.causes.append(f"packaged with OpenPCF {version}, recomputed with {__version__}")
    if not f.causes:
        f.causes.append(
            f"{len(differences)} number(s) differ with identical inputs: the calculation itself "
            "changed (solver or software)"
        )
