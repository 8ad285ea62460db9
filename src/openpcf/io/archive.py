"""Read the files of an LCI database given as a folder or a zip, the same way.

A database export is a tree of many small files (ILCD: ``processes/<uuid>.xml``; ecospold2:
``*.spold``; JSON-LD: ``processes/<uuid>.json``), shipped either unpacked or zipped, often one
folder deeper than the zip's root. :class:`Archive` hides the difference: member names are
POSIX paths relative to the folder (or zip) given, and the members are read one at a time, so
a 4,000-file zip is never unpacked to disk.

The API is deliberately tiny::

    with Archive(path) as archive:
        root = archive.root_of("processes")      # "" or "some/folder/" or None
        for name in archive.members(f"{root}processes/", suffix=".xml"):
            data = archive.read(name)
"""

from __future__ import annotations

import zipfile
from pathlib import Path, PurePosixPath
from types import TracebackType

from openpcf.errors import InputError

_LICENCE_NAMES = ("license", "license.txt", "license.md", "licence", "licence.txt", "copying")


class ArchiveError(InputError):
    """A database path is neither a folder nor a readable zip file."""


class Archive:
    """The files under a folder or in a zip, by POSIX path relative to it."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._zip: zipfile.ZipFile | None = None
        if self.path.is_dir():
            names = [p.relative_to(self.path).as_posix() for p in self.path.rglob("*")]
            self._names = sorted(n for n in names if (self.path / n).is_file())
        elif self.path.is_file() and zipfile.is_zipfile(self.path):
            try:
                self._zip = zipfile.ZipFile(self.path)
            except (zipfile.BadZipFile, OSError) as exc:
                raise ArchiveError(f"{self.path}: cannot open the zip file ({exc}).") from None
            self._names = sorted(n for n in self._zip.namelist() if not n.endswith("/"))
        elif not self.path.exists():
            raise ArchiveError(f"{self.path}: no such file or folder. Check the path.")
        else:
            raise ArchiveError(
                f"{self.path}: not a folder or a zip file. Give the database's folder or its zip."
            )

    def members(self, prefix: str = "", *, suffix: str = "") -> list[str]:
        """Names of the files under ``prefix`` (recursively) ending in ``suffix``, sorted.

        The suffix is compared case-insensitively (``.XML`` matches ``.xml``).
        """
        low = suffix.lower()
        return [n for n in self._names if n.startswith(prefix) and n.lower().endswith(low)]

    def read(self, name: str) -> bytes:
        """The bytes of member ``name`` (a name from :meth:`members`)."""
        if self._zip is not None:
            return self._zip.read(name)
        return (self.path / name).read_bytes()

    def root_of(self, folder: str) -> str | None:
        """Prefix of the shallowest folder named ``folder`` holding files, or None.

        ``""`` when ``folder/`` is at the top, ``"a/b/"`` when it is ``a/b/folder/``.
        """
        roots: set[str] = set()
        for name in self._names:
            parts = name.split("/")[:-1]
            if folder in parts:
                depth = parts.index(folder)
                roots.add("".join(f"{p}/" for p in parts[:depth]))
        return min(roots, key=lambda r: (r.count("/"), r)) if roots else None

    def licence(self) -> str:
        """Text of the shallowest LICENSE / LICENCE / COPYING file, or ``""``."""
        for name in sorted(self._names, key=lambda n: (n.count("/"), n)):
            if PurePosixPath(name).name.lower() in _LICENCE_NAMES:
                return self.read(name).decode("utf-8", errors="replace").strip()
        return ""

    def close(self) -> None:
        if self._zip is not None:
            self._zip.close()
            self._zip = None

    def __enter__(self) -> Archive:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
