"""The zip itself: written deterministically, read back with its names and its cost bounded.

A package comes from someone else, so reading one must neither reach outside it nor cost more
than a package can need. :func:`read_zip` refuses, before inflating anything:

- more members than :attr:`ZipLimits.members`, judged first from the end-of-central-directory
  record so that a zip listing millions of entries is not even parsed (ZIP64, which only such
  zips need, is refused too);
- a member whose uncompressed size is above :attr:`ZipLimits.member_bytes`, or members that
  add up to more than :attr:`ZipLimits.total_bytes`;
- a member that inflates more than :attr:`ZipLimits.ratio` times its compressed size (a zip
  bomb: 0.6 MB that inflate to 600 MB), when it inflates to more than
  :attr:`ZipLimits.ratio_floor` (small files of repeated bytes are harmless);
- symbolic links, two members of the same name (different tools would read different ones)
  and encrypted or unreadable members (a bad CRC).

Sizes are read from the zip's directory and then enforced while inflating, so a member whose
directory entry understates its size cannot inflate further than the limit either.

Design note: the limits are generous for real packages (a model with its side files, a few
thousand factor rows: kilobytes to a few megabytes) and small against a machine's memory.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import stat
import struct
import zipfile
import zlib
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from openpcf.package.format import MANIFEST, PackageError

_MIB = 2**20
_EOCD = b"PK\x05\x06"


@dataclass(frozen=True, slots=True, kw_only=True)
class ZipLimits:
    """What reading one package may cost (see the module docstring)."""

    members: int = 1_000
    member_bytes: int = 256 * _MIB
    total_bytes: int = 512 * _MIB
    ratio: float = 200.0
    ratio_floor: int = 1 * _MIB
    directory_bytes: int = 16 * _MIB


LIMITS = ZipLimits()


def write_zip(files: Mapping[str, bytes], created: dt.datetime) -> bytes:
    """The zip of ``files``: manifest first, then by name, every entry stamped ``created``."""
    buffer = io.BytesIO()
    stamp = created.timetuple()[:6]
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as z:
        for name in sorted(files, key=lambda n: (n != MANIFEST, n)):
            info = zipfile.ZipInfo(name, date_time=stamp)
            info.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(info, files[name])
    return buffer.getvalue()


def read_zip(path: Path, *, limits: ZipLimits = LIMITS) -> dict[str, bytes]:
    """``name -> bytes`` of every file in the zip at ``path``, within ``limits``.

    Raises
    ------
    PackageError
        If ``path`` is not a readable zip file, or reading it would cost more than ``limits``
        allow, or it holds symbolic links, duplicate names or encrypted members.
    """
    if not Path(path).is_file():  # a device, FIFO or /proc file would be read without end
        raise PackageError(f"{path}: not a package file (a regular .zip file is needed)")
    try:
        with open(path, "rb") as handle:
            _check_directory(path, handle, limits)
            with zipfile.ZipFile(handle) as z:
                infos = [info for info in z.infolist() if not info.is_dir()]
                _check_listing(path, infos, limits)
                return {info.filename: _inflate(path, z, info, limits) for info in infos}
    except PackageError:
        raise
    except (
        OSError,
        EOFError,
        RuntimeError,  # encrypted member
        NotImplementedError,  # unsupported compression
        ValueError,
        zipfile.BadZipFile,
        zlib.error,
    ) as e:
        raise PackageError(f"{path}: not a readable zip file ({e})") from None


def _check_directory(path: Path, handle: io.BufferedReader, limits: ZipLimits) -> None:
    """Refuse a zip whose directory is too large before :mod:`zipfile` parses it."""
    size = handle.seek(0, io.SEEK_END)
    handle.seek(max(0, size - 22 - 0xFFFF))
    tail = handle.read(22 + 0xFFFF)
    at = tail.rfind(_EOCD)
    if at < 0 or len(tail) - at < 22:
        return  # not a zip: zipfile says so
    entries, directory = struct.unpack("<HI", tail[at + 10 : at + 16])
    if entries == 0xFFFF or directory == 0xFFFFFFFF:
        raise PackageError(
            f"{path}: a ZIP64 archive (more than 65,535 members or 4 GiB): far beyond what a "
            "package holds; refused without reading it"
        )
    if entries > limits.members or directory > limits.directory_bytes:
        raise PackageError(
            f"{path}: {entries} members in a {directory}-byte directory, more than a package "
            f"may hold ({limits.members} members); refused without reading them"
        )


def _check_listing(path: Path, infos: Sequence[zipfile.ZipInfo], limits: ZipLimits) -> None:
    if len(infos) > limits.members:
        raise PackageError(
            f"{path}: {len(infos)} members, more than a package may hold ({limits.members})"
        )
    twice = [name for name, n in Counter(i.filename for i in infos).items() if n > 1]
    if twice:
        raise PackageError(
            f"{path}: the member {twice[0]!r} appears more than once; tools would disagree on "
            "which one the package holds"
        )
    total = 0
    for info in infos:
        if stat.S_ISLNK(info.external_attr >> 16):
            raise PackageError(
                f"{path}: the member {info.filename!r} is a symbolic link; a package holds "
                "regular files only"
            )
        _check_size(path, info.filename, info.file_size, info.compress_size, limits)
        total += info.file_size
        if total > limits.total_bytes:
            raise PackageError(
                f"{path}: the members inflate to more than {limits.total_bytes // _MIB} MiB "
                "together, more than a package may hold; refused without inflating them"
            )


def _check_size(path: Path, name: str, size: int, packed: int, limits: ZipLimits) -> None:
    if size > limits.member_bytes:
        raise PackageError(
            f"{path}: the member {name!r} inflates to {size} bytes, more than a package file "
            f"may hold ({limits.member_bytes // _MIB} MiB); refused without inflating it"
        )
    if size > limits.ratio_floor and size > limits.ratio * max(packed, 1):
        raise PackageError(
            f"{path}: the member {name!r} inflates {size / max(packed, 1):.0f} times (compression "
            f"ratio above {limits.ratio:.0f}), as a zip bomb does; refused without inflating it"
        )


def _inflate(path: Path, z: zipfile.ZipFile, info: zipfile.ZipInfo, limits: ZipLimits) -> bytes:
    """The member's bytes, never more than its directory entry and the limits allow."""
    with z.open(info) as member:
        data = member.read(min(info.file_size, limits.member_bytes) + 1)
    if len(data) > info.file_size:
        raise PackageError(
            f"{path}: the member {info.filename!r} inflates beyond the size its directory entry "
            "states; refused"
        )
    return data


#: A Windows drive (``C:``) or a drive-relative path: leaves the folder on Windows.
_DRIVE = re.compile(r"^[A-Za-z]:")


def is_safe(name: str) -> bool:
    """Whether the file name ``name`` stays inside the folder it is extracted to.

    Refuses absolute paths, ``..``, backslashes (a separator on Windows), drive letters and
    NUL characters.
    """
    p = PurePosixPath(name)
    return bool(name) and not (
        p.is_absolute() or ".." in p.parts or "\\" in name or "\x00" in name or _DRIVE.match(name)
    )
