"""Where the model and its side files go in a package, and back out of it."""

from __future__ import annotations

import os.path
from collections.abc import Mapping, Sequence
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import TYPE_CHECKING, Any

from openpcf.exchange.supplier import names_received
from openpcf.package.archive import is_safe
from openpcf.package.format import PackageError

if TYPE_CHECKING:
    from openpcf.model.loading import LoadedModel


def side_files(loaded: LoadedModel) -> list[str]:
    """Paths (as written in the model) of every file the model reads besides itself.

    The claims file ``background_electricity:`` re-points linked databases to is one.
    Supplier footprints named by footprint id or product URN are not files: they come from the
    supplier store (:func:`received_references`).
    """
    refs = list(loaded.model.factor_sets)
    for p in loaded.model.processes:
        for inp in p.inputs:
            if inp.supplier_footprint is not None and not names_received(
                inp.supplier_footprint.strip()
            ):
                refs.append(inp.supplier_footprint.partition("#")[0].strip())
            refs += [r for r in (inp.shipment, inp.electricity_claim) if r is not None]
    repointed = loaded.model.background_electricity
    if repointed is not None and repointed.electricity_claim is not None:
        refs.append(repointed.electricity_claim)
    return list(dict.fromkeys(refs))


def received_references(loaded: LoadedModel) -> list[str]:
    """Supplier footprints the model names by footprint id or product URN (stripped, as the
    resolver looks them up)."""
    refs = [
        inp.supplier_footprint.strip()
        for p in loaded.model.processes
        for inp in p.inputs
        if inp.supplier_footprint is not None and names_received(inp.supplier_footprint.strip())
    ]
    return list(dict.fromkeys(refs))


def background_references(loaded: LoadedModel) -> list[str]:
    """The model's ``background:`` references, as written."""
    refs = [
        inp.background
        for p in loaded.model.processes
        for inp in p.inputs
        if inp.background is not None
    ]
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
    """Where the packaged model file is once the package is extracted to ``tmp``.

    Raises
    ------
    PackageError
        If the manifest's ``model`` is not a safe name under ``model/`` (an absolute path,
        ``..``, a drive letter): reproducing reads nothing outside the package. (The manifest's
        ``model_dir`` is the packager's folder, used only to map paths in texts back for the
        comparison; it is never opened.)
    """
    name = manifest.get("model")
    if not isinstance(name, str) or not name.startswith("model/") or not is_safe(name):
        raise PackageError(
            f"the manifest names the model {name!r}, which is not a file under model/ in the "
            "package: refused, a reproduction reads nothing outside the package"
        )
    return tmp.joinpath(*PurePosixPath(name).parts)


def extract_model(tmp: Path, contents: Mapping[str, bytes]) -> None:
    """Write the model and its side files (the safe names under ``model/``) into ``tmp``.

    Raises
    ------
    PackageError
        If two members collide (``model/a`` as a file and as a folder).
    """
    for name, data in contents.items():
        if name.startswith("model/") and is_safe(name):
            target = tmp.joinpath(*PurePosixPath(name).parts)
            try:
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(data)
            except OSError as e:
                raise PackageError(f"the member {name!r} cannot be extracted ({e})") from None


def check_side_files(loaded: LoadedModel, tmp: Path, contents: Mapping[str, bytes]) -> None:
    """Check that every file the packaged model reads is a file of the package in ``tmp``.

    The model, extracted into ``tmp``, names its side files (supplier footprints, shipments,
    electricity claims, factor sets) by paths relative to itself; each must stay inside
    ``tmp`` without a symbolic link, and be one of the package's members, so that a crafted
    model cannot make a reproduction read the verifier's own files.

    Raises
    ------
    PackageError
        Naming the first reference that is absolute, has a drive letter, leaves the package
        or is not one of its files.
    """
    base = loaded.path.parent
    for ref in side_files(loaded):
        why = _outside(ref, base, tmp, contents)
        if why:
            raise PackageError(
                f"the packaged model reads {ref!r}, {why}: refused, a reproduction reads "
                "nothing outside the package"
            )


def _outside(ref: str, base: Path, tmp: Path, contents: Mapping[str, bytes]) -> str | None:
    """Why ``ref`` (relative to ``base``) is not a file of the package, or None."""
    if Path(ref).is_absolute() or PureWindowsPath(ref).drive or PureWindowsPath(ref).root:
        return "an absolute path"
    target = Path(os.path.normpath(base / ref))
    try:
        name = target.relative_to(tmp).as_posix()
    except ValueError:
        return "a path that leaves the package"
    if name not in contents:
        return "which is not a file in the package"
    if Path(os.path.realpath(target)) != Path(os.path.realpath(tmp)).joinpath(name):
        return "a path through a symbolic link"
    return None
