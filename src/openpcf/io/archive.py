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

What one zip may cost is bounded before anything is read (:class:`ZipLimits`, issue 11,
item 6): the number of members, each member's and the total uncompressed size (as the zip's
directory declares them; :mod:`zipfile` never returns more than the declared size) and the
compression ratio of large members, so a 0.6 MB zip that inflates to 600 MB is refused
instead of read. A damaged member (bad CRC, truncated, encrypted, an unknown compression) is
an :class:`ArchiveError` naming it, not a traceback.
"""

from __future__ import annotations

import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from types import TracebackType

from openpcf.errors import InputError

_LICENCE_NAMES = ("license", "license.txt", "license.md", "licence", "licence.txt", "copying")
_MiB = 1024 * 1024


class ArchiveError(InputError):
    """A database path is neither a folder nor a readable zip file, or the zip is refused."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ZipLimits:
    """What one database zip may hold.

    Design note, the defaults: the real exports in ``shared/data`` have 6,500 to 7,500
    members, 24 to 120 MB uncompressed, at most 3.3 MB per member and compression ratios up
    to 54; ecoinvent (about 20,000 datasets, a few GB) fits easily. A deflate bomb has ratios
    near 1,000.
    """

    members: int = 500_000
    member_bytes: int = 256 * _MiB
    total_bytes: int = 32 * 1024 * _MiB
    ratio: float = 200.0
    """Largest uncompressed / compressed size of a member of :attr:`ratio_from` bytes or more."""
    ratio_from: int = _MiB


#: The limits of :class:`Archive` unless it is given others.
ZIP_LIMITS = ZipLimits()


class Archive:
    """The files under a folder or in a zip, by POSIX path relative to it."""

    def __init__(self, path: Path, *, limits: ZipLimits = ZIP_LIMITS) -> None:
        self.path = Path(path)
        self.limits = limits
        self._zip: zipfile.ZipFile | None = None
        if self.path.is_dir():
            names = [p.relative_to(self.path).as_posix() for p in self.path.rglob("*")]
            self._names = sorted(n for n in names if (self.path / n).is_file())
        elif self.path.is_file() and zipfile.is_zipfile(self.path):
            try:
                self._zip = zipfile.ZipFile(self.path)
            except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
                raise ArchiveError(f"{self.path}: cannot open the zip file ({exc}).") from None
            self._check(self._zip.infolist())
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

    def _check(self, infos: list[zipfile.ZipInfo]) -> None:
        """Refuse a zip beyond :attr:`limits`, from its directory alone."""
        limits = self.limits
        refuse = f"{self.path}: refused as a database zip"
        if len(infos) > limits.members:
            raise ArchiveError(f"{refuse}: {len(infos):,} members, more than {limits.members:,}")
        total = 0
        for info in infos:
            size = info.file_size
            if size > limits.member_bytes:
                raise ArchiveError(
                    f"{refuse}: member {info.filename} is {size / _MiB:,.0f} MiB uncompressed, "
                    f"more than {limits.member_bytes / _MiB:,.0f} MiB"
                )
            ratio = size / max(info.compress_size, 1)
            if size >= limits.ratio_from and ratio > limits.ratio:
                raise ArchiveError(
                    f"{refuse}: member {info.filename} inflates {ratio:,.0f} times (to "
                    f"{size / _MiB:,.0f} MiB), more than {limits.ratio:g}: it looks like a zip "
                    "bomb, not data"
                )
            total += size
        if total > limits.total_bytes:
            raise ArchiveError(
                f"{refuse}: {total / _MiB:,.0f} MiB uncompressed in all, more than "
                f"{limits.total_bytes / _MiB:,.0f} MiB"
            )

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
                return self._zip.read(name)
            except (
                zipfile.BadZipFile,
                zlib.error,
                EOFError,
                OSError,
                RuntimeError,  # encrypted
                NotImplementedError,  # e.g. deflate64
            ) as exc:
                raise ArchiveError(
                    f"{self.path}: member {name} cannot be read ({exc}); the zip file is "
                    "damaged or unsupported: download or export it again"
                ) from None
        file = self.path / name
        if file.stat().st_size > self.limits.member_bytes:
            raise ArchiveError(
                f"{file}: larger than {self.limits.member_bytes / _MiB:,.0f} MiB; not a "
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
