"""Where the model and its side files go in a package, and back out of it."""

from __future__ import annotations

import os.path
from collections.abc import Mapping, Sequence
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

from openpcf.package.archive import is_safe
from openpcf.package.format import PackageError

if TYPE_CHECKING:
    from openpcf.model.loading import LoadedModel


def side_files(loaded: LoadedModel) -> list[str]:
    """Paths (as written in the model) of every file the model reads besides itself."""
    refs = list(loaded.model.factor_sets)
    for p in loaded.model.processes:
        for inp in p.inputs:
            if inp.supplier_footprint is not None:
                refs.append(inp.supplier_footprint.partition("#")[0].strip())
            refs += [r for r in (inp.shipment, inp.electricity_claim) if r is not None]
    return list(dict.fromkeys(refs))


def layout(loaded: LoadedModel) -> tuple[Path, dict[str, Path]]:
    """The common root folder and ``zip name -> file`` for the model and its side files.

    Raises
    ------
    PackageError
        For an absolute side-file path or a missing side file.
    """
    model = loaded.path.resolve()
    files = {"": model}
    for ref in side_files(loaded):
        if Path(ref).is_absolute():
            raise PackageError(
                f"{loaded.path}: the model reads {ref!r} by an absolute path, which a verifier "
                "cannot reproduce elsewhere; write it relative to the model file"
            )
        path = (model.parent / ref).resolve()
        if not path.is_file():
            raise PackageError(f"{loaded.path}: side file {ref!r} ({path}) does not exist")
        files[ref] = path
    root = Path(_common([p.parent for p in files.values()]))
    return root, {f"model/{p.relative_to(root).as_posix()}": p for p in files.values()}


def _common(folders: Sequence[Path]) -> str:
    return os.path.commonpath([str(f) for f in folders])


def packaged_model(tmp: Path, manifest: Mapping[str, Any]) -> Path:
    """Where the packaged model file is once the package is extracted to ``tmp``."""
    return tmp.joinpath(*PurePosixPath(str(manifest.get("model", ""))).parts)


def extract_model(tmp: Path, contents: Mapping[str, bytes]) -> None:
    """Write the model and its side files (the safe names under ``model/``) into ``tmp``."""
    for name, data in contents.items():
        if name.startswith("model/") and is_safe(name):
            target = tmp.joinpath(*PurePosixPath(name).parts)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
