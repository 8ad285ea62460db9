"""``manifest.json``: what a package holds, written when building and checked when reading."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from openpcf import __version__
from openpcf.package.archive import is_safe
from openpcf.package.format import (
    BACKGROUND,
    FORMAT,
    FORMAT_LINKED,
    MANIFEST,
    READABLE_FORMATS,
    ROWS,
    SIGNATURE,
    PackageError,
    sha256,
)
from openpcf.package.results import Findings
from openpcf.package.rows import row_digest

if TYPE_CHECKING:
    from openpcf.factors import Factor
    from openpcf.model.calculation import Calculation


def build_manifest(
    calculation: Calculation,
    *,
    model: str,
    created: dt.datetime,
    overrides: Mapping[str, Any] | None,
    gwp: str | None,
    certificate: str | None,
    omitted: list[str],
    files: Mapping[str, bytes],
    origins: Mapping[str, str] | None = None,
    received: Mapping[str, Mapping[str, str]] | None = None,
    rules: str | None = None,
    databases: Mapping[str, Mapping[str, Any]] | None = None,
    background_electricity: Mapping[str, Any] | None = None,
    extra_rows: Sequence[Factor] = (),
) -> dict[str, Any]:
    """The manifest of a package of ``calculation`` whose other files are ``files``.

    ``model`` is the model file's name in the zip; ``overrides`` and ``gwp`` are the inputs
    the calculation was given; ``certificate`` is the certificate id, if one was issued.
    ``origins`` gives the origin of the rows that are neither in the factor set nor derived
    from a side file (``background``: in ``background/rows.json``; ``received``: from a
    supplier footprint of the package's ``suppliers/``); ``received`` maps each supplier
    reference by id or URN to its file (:mod:`openpcf.package.suppliers`).

    For linked backgrounds, ``databases`` maps each linked database (``name@version``) to its
    packed subset's index file, version hash and counts
    (:mod:`openpcf.package.background_subset`), ``background_electricity`` is the
    ``--background-electricity`` the calculation was given (as JSON), and ``extra_rows`` are
    factor-set rows the calculation read besides its exchanges' rows (the grid row that
    re-pointed electricity takes).
    """
    compiled, result = calculation.compiled, calculation.result
    known = {f.id for f in compiled.factors}
    factors = [*compiled.factors, *(f for f in extra_rows if f.id not in known)]
    in_set = compiled.factor_set.factors
    origin = dict(origins or {})

    def origin_of(fid: str) -> str:
        return origin.get(fid) or ("factor-set" if fid in in_set else "side-file")

    return {
        "format": FORMAT_LINKED if databases else FORMAT,
        "created": created.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "openpcf_version": __version__,
        "model": model,
        "model_dir": str(compiled.loaded.path.parent),
        "overrides": dict((overrides or {}).items()),
        "gwp": gwp,
        # the rule set given to the calculation (``--rules``); the model's own ``rules:``
        # is read from the packaged model
        **({"rules": rules} if rules else {}),
        **(
            {"background_electricity": dict(background_electricity)}
            if background_electricity
            else {}
        ),
        "factor_rows_file": ROWS,
        "background_rows_file": BACKGROUND if "background" in origin.values() else None,
        "factor_rows": {
            f.id: {
                "sha256": row_digest(f),
                "origin": origin_of(f.id),
                "set": f.set_name,
                "unit": f.unit,
                "emissions": dict(sorted(f.emissions.items())),
            }
            for f in sorted(factors, key=lambda f: f.id)
        },
        **(
            {"background_databases": {k: dict(v) for k, v in databases.items()}}
            if databases
            else {}
        ),
        "result": {"kg_co2e": result.total, "declared_unit": result.declared_unit},
        "provenance": dict(result.provenance),
        "received_footprints": {ref: dict(entry) for ref, entry in (received or {}).items()},
        "certificate": certificate,
        "omitted": omitted,
        "files": {name: sha256(data) for name, data in sorted(files.items())},
    }


def read_manifest(contents: Mapping[str, bytes], path: Path) -> dict[str, Any]:
    """The manifest of the package ``path`` whose files are ``contents``.

    Raises
    ------
    PackageError
        If there is no manifest, or it is not JSON, or not of this format.
    """
    try:
        manifest = json.loads(contents[MANIFEST])
    except KeyError:
        raise PackageError(f"{path}: no {MANIFEST}: not an OpenPCF verification package") from None
    except ValueError as e:
        raise PackageError(f"{path}: {MANIFEST} is not JSON ({e})") from None
    if not isinstance(manifest, dict) or manifest.get("format") not in READABLE_FORMATS:
        found = manifest.get("format") if isinstance(manifest, dict) else None
        raise PackageError(
            f"{path}: {MANIFEST} is not an {FORMAT} manifest (format {found!r}; this version "
            f"of OpenPCF reads {', '.join(READABLE_FORMATS)})"
        )
    return manifest


def check_files(contents: Mapping[str, bytes], manifest: Mapping[str, Any], f: Findings) -> None:
    """Every file against its manifest digest; no file missing, unlisted or outside the zip."""
    listed: Mapping[str, str] = manifest.get("files") or {}
    for name, digest in listed.items():
        if name not in contents:
            f.problems.append(f"file {name} listed in the manifest is missing from the package")
        elif sha256(contents[name]) != digest:
            f.problems.append(f"file {name} in the package differs from the manifest digest")
    for name in contents:
        if name not in listed and name not in (MANIFEST, SIGNATURE):
            f.problems.append(f"file {name} is in the package but not in the manifest")
        if not is_safe(name):
            f.problems.append(f"file name {name!r} points outside the package; not extracted")
    if not f.problems:
        f.notes.append(f"all {len(listed)} file digests match the manifest")
