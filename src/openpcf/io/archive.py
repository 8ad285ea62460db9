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

What one zip may cost is bounded before anything is read, by OpenPCF's one zip policy
(:mod:`openpcf.files.zips`, issue 11, item 6) under the database bounds :data:`ZIP_LIMITS`:
the number of members and the size of the directory (judged before the directory is parsed),
each member's and the total uncompressed size (as the zip's directory declares them, and
enforced while inflating) and the compression ratio of large members, so a 0.6 MB zip that
inflates to 600 MB is refused instead of read; symbolic links and duplicate names are refused
too. A damaged member (bad CRC, truncated, encrypted, an unknown compression) is an
:class:`ArchiveError` naming it, not a traceback.
"""

from __future__ import annotations

import zipfile
from pathlib import Path, PurePosixPath
from types import TracebackType

from openpcf.errors import InputError
from openpcf.files.zips import MIB, READ_ERRORS, ZipLimits, open_zip, read_member

__all__ = ["ZIP_LIMITS", "Archive", "ArchiveError", "ZipLimits"]

_LICENCE_NAMES = ("license", "license.txt", "license.md", "licence", "licence.txt", "copying")
_WHAT = "a database zip"


class ArchiveError(InputError):
    """A database path is neither a folder nor a readable zip file, or the zip is refused."""


#: The limits of :class:`Archive` unless it is given others (the defaults of
#: :class:`~openpcf.files.zips.ZipLimits`, which are sized for real database exports).
ZIP_LIMITS = ZipLimits()


class Archive:
    """The files under a folder or in a zip, by POSIX path relative to it."""

    def __init__(self, path: Path, *, limits: ZipLimits = ZIP_LIMITS) -> None:
        self.path = Path(path)
        self.limits = limits
        self._zip: zipfile.ZipFile | None = None
        self._infos: dict[str, zipfile.ZipInfo] = {}
        if self.path.is_dir():
            names = [p.relative_to(self.path).as_posix() for p in self.path.rglob("*")]
            self._names = sorted(n for n in names if (self.path / n).is_file())
        elif self.path.is_file() and zipfile.is_zipfile(self.path):
            try:
                self._zip = open_zip(self.path, limits=limits, what=_WHAT, error=ArchiveError)
            except ArchiveError:
                raise
            except READ_ERRORS as exc:
                raise ArchiveError(f"{self.path}: cannot open the zip file ({exc}).") from None
            self._infos = {i.filename: i for i in self._zip.infolist() if not i.is_dir()}
            self._names = sorted(self._infos)
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
        """The bytes of member ``name`` (a name from :meth:`members`).

        Raises
        ------
        ArchiveError
            If the member is damaged (bad CRC, truncated), encrypted or compressed with a
            method :mod:`zipfile` cannot read, or a file of the folder is larger than
            :attr:`ZipLimits.member_bytes`.
        """
        if self._zip is not None:
            try:
                return read_member(
                    self.path, self._zip, self._infos[name], self.limits, ArchiveError
                )
            except ArchiveError:
                raise
            except READ_ERRORS as exc:
                raise ArchiveError(
                    f"{self.path}: member {name} cannot be read ({exc}); the zip file is "
                    "damaged or unsupported: download or export it again"
                ) from None
        file = self.path / name
        if file.stat().st_size > self.limits.member_bytes:
            raise ArchiveError(
                f"{file}: larger than {self.limits.member_bytes / MIB:,.0f} MiB; not a "
                "database file"
            )
        return file.read_bytes()

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
