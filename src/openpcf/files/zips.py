"""Zips from someone else, opened and read at a bounded cost: one policy for every zip OpenPCF
reads (LCI database exports, :mod:`openpcf.io.archive`; verification packages,
:mod:`openpcf.package.archive`).

:func:`open_zip` refuses, before inflating anything:

- more members than :attr:`ZipLimits.members`, or a central directory larger than
  :attr:`ZipLimits.directory_bytes`, judged first from the end-of-central-directory record
  (or its ZIP64 form) so that a zip listing millions of entries is not even parsed;
- a member whose uncompressed size is above :attr:`ZipLimits.member_bytes`, or members that
  add up to more than :attr:`ZipLimits.total_bytes`;
- a member of at least :attr:`ZipLimits.ratio_from` bytes that inflates more than
  :attr:`ZipLimits.ratio` times its compressed size (a zip bomb: 0.6 MB that inflate to
  600 MB; small files of repeated bytes are harmless);
- symbolic links, and two members of the same name (different tools would read different
  ones).

Sizes are read from the zip's directory and then enforced while inflating
(:func:`read_member`), so a member whose directory entry understates its size cannot inflate
further than the limit either.

Every refusal is raised as the caller's error class (``error=``, as
:func:`openpcf.files.bounded.read_bounded` does), with a message that names the file, the
member and the limit, and says what the zip was taken for (``what=``: "a database zip", "a
package"). Damage (a bad CRC, a truncated or encrypted member, an unknown compression) surfaces
as one of :data:`READ_ERRORS`, which the caller words for its users.
"""

from __future__ import annotations

import io
import stat
import struct
import zipfile
import zlib
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from openpcf.errors import InputError, OpenPCFError

MIB = 1024 * 1024
_EOCD = b"PK\x05\x06"
_ZIP64_EOCD = b"PK\x06\x06"
_ZIP64_LOCATOR = b"PK\x06\x07"

#: What reading a damaged, encrypted or unsupported zip raises (besides the limits' errors).
READ_ERRORS: tuple[type[BaseException], ...] = (
    OSError,
    EOFError,
    RuntimeError,  # an encrypted member
    NotImplementedError,  # an unsupported compression, e.g. deflate64
    ValueError,
    zipfile.BadZipFile,
    zlib.error,
)


@dataclass(frozen=True, slots=True, kw_only=True)
class ZipLimits:
    """What opening and reading one zip may cost (see the module docstring).

    The defaults are those of LCI database exports, the largest zips OpenPCF reads: the real
    exports in ``shared/data`` have 6,500 to 7,500 members, 24 to 120 MB uncompressed, at most
    3.3 MB per member and compression ratios up to 54; ecoinvent (about 20,000 datasets, a few
    GB) fits easily. A deflate bomb has ratios near 1,000. Verification packages use much
    smaller bounds (:data:`openpcf.package.archive.LIMITS`).
    """

    members: int = 500_000
    member_bytes: int = 256 * MIB
    total_bytes: int = 32 * 1024 * MIB
    ratio: float = 200.0
    """Largest uncompressed / compressed size of a member of :attr:`ratio_from` bytes or more."""
    ratio_from: int = MIB
    directory_bytes: int = 64 * MIB


def open_zip(
    path: Path, *, limits: ZipLimits, what: str, error: type[OpenPCFError] = InputError
) -> zipfile.ZipFile:
    """The zip at ``path``, opened once its directory and listing are within ``limits``.

    Raises
    ------
    error
        If the zip costs more than ``limits`` allow, holds symbolic links or duplicate names
        (the message says it was refused as ``what``).
    READ_ERRORS
        If it is not a readable zip file.
    """
    with open(path, "rb") as handle:
        _check_directory(path, handle, limits, what, error)
    z = zipfile.ZipFile(path)
    try:
        check_listing(path, [i for i in z.infolist() if not i.is_dir()], limits, what, error)
    except BaseException:
        z.close()
        raise
    return z


def _check_directory(
    path: Path, handle: BinaryIO, limits: ZipLimits, what: str, error: type[OpenPCFError]
) -> None:
    """Refuse a zip whose directory is too large before :mod:`zipfile` parses it."""
    size = handle.seek(0, io.SEEK_END)
    handle.seek(max(0, size - 22 - 0xFFFF))
    tail = handle.read(22 + 0xFFFF)
    at = tail.rfind(_EOCD)
    if at < 0 or len(tail) - at < 22:
        return  # not a zip: zipfile says so
    entries, directory = struct.unpack("<HI", tail[at + 10 : at + 16])
    if entries == 0xFFFF or directory == 0xFFFFFFFF:
        sizes = _zip64_sizes(handle, tail[max(0, at - 20) : at])
        if sizes is None:
            raise error(
                f"{path}: a ZIP64 archive whose ZIP64 directory record cannot be found; "
                "refused without reading it"
            )
        entries, directory = sizes
    if entries > limits.members:
        raise error(_too_many(path, entries, limits, what))
    if directory > limits.directory_bytes:
        raise error(
            f"{path}: a {directory:,}-byte directory, more than {what} may have "
            f"({limits.directory_bytes:,} bytes); refused without reading it"
        )


def _zip64_sizes(handle: BinaryIO, locator: bytes) -> tuple[int, int] | None:
    """(members, directory bytes) from the ZIP64 end-of-central-directory record that the
    ``locator`` (the 20 bytes before the classic record) points to; None when there is none."""
    if len(locator) != 20 or locator[:4] != _ZIP64_LOCATOR:
        return None
    (offset,) = struct.unpack("<Q", locator[8:16])
    handle.seek(offset)
    record = handle.read(56)
    if len(record) < 56 or record[:4] != _ZIP64_EOCD:
        return None
    entries, directory = struct.unpack("<QQ", record[32:48])
    return int(entries), int(directory)


def _too_many(path: Path, count: int, limits: ZipLimits, what: str) -> str:
    return (
        f"{path}: {count:,} members, more than {limits.members:,}, the most {what} may hold; "
        "refused without reading them"
    )


def check_listing(
    path: Path,
    infos: Sequence[zipfile.ZipInfo],
    limits: ZipLimits,
    what: str,
    error: type[OpenPCFError] = InputError,
) -> None:
    """Refuse, from the zip's directory alone, members beyond ``limits``, symbolic links and
    names that appear twice."""
    if len(infos) > limits.members:
        raise error(_too_many(path, len(infos), limits, what))
    twice = [name for name, n in Counter(i.filename for i in infos).items() if n > 1]
    if twice:
        raise error(
            f"{path}: the member {twice[0]!r} appears more than once; tools would disagree on "
            f"which one {what} holds"
        )
    total = 0
    for info in infos:
        if stat.S_ISLNK(info.external_attr >> 16):
            raise error(
                f"{path}: the member {info.filename!r} is a symbolic link; {what} holds "
                "regular files only"
            )
        size = info.file_size
        if size > limits.member_bytes:
            raise error(
                f"{path}: member {info.filename} is {size / MIB:,.0f} MiB uncompressed "
                f"({size:,} bytes), more than the {limits.member_bytes / MIB:,.0f} MiB a "
                f"member of {what} may have; refused without inflating it"
            )
        ratio = size / max(info.compress_size, 1)
        if size >= limits.ratio_from and ratio > limits.ratio:
            raise error(
                f"{path}: member {info.filename} inflates {ratio:,.0f} times (to "
                f"{size / MIB:,.0f} MiB), more than {limits.ratio:g}: it looks like a zip "
                "bomb, not data; refused without inflating it"
            )
        total += size
        if total > limits.total_bytes:
            raise error(
                f"{path}: the members are more than {limits.total_bytes / MIB:,.0f} MiB "
                f"uncompressed in all, more than {what} may hold; refused without inflating them"
            )


def read_member(
    path: Path,
    z: zipfile.ZipFile,
    info: zipfile.ZipInfo,
    limits: ZipLimits,
    error: type[OpenPCFError] = InputError,
) -> bytes:
    """The member's bytes, never more than its directory entry and ``limits`` allow.

    Raises
    ------
    error
        If the member inflates beyond the size its directory entry states.
    READ_ERRORS
        If the member is damaged, encrypted or compressed with a method :mod:`zipfile` cannot
        read.
    """
    with z.open(info) as member:
        data = member.read(min(info.file_size, limits.member_bytes) + 1)
    if len(data) > info.file_size:
        raise error(
            f"{path}: member {info.filename} inflates beyond the size its directory entry "
            "states; refused"
        )
    return data
