"""The zip itself: written deterministically, read back with its names and its cost bounded.

A package comes from someone else, so reading one must neither reach outside it nor cost more
than a package can need. :func:`read_zip` opens it with OpenPCF's one zip policy
(:mod:`openpcf.files.zips`: member count and directory size judged before the directory is
parsed, member and total sizes, compression ratio, symbolic links, duplicate names, sizes
enforced while inflating) under the package bounds :data:`LIMITS`, and turns damage (an
encrypted member, a bad CRC) into a :class:`PackageError` too.

Design note: the limits are generous for real packages (a model with its side files, a few
thousand factor rows, background rows and supplier footprints: kilobytes to a few megabytes)
and small against a machine's memory.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile
from collections.abc import Mapping
from pathlib import Path, PurePosixPath

from openpcf.files.zips import MIB, READ_ERRORS, ZipLimits, open_zip, read_member
from openpcf.package.format import MANIFEST, PackageError

__all__ = ["LIMITS", "ZipLimits", "is_safe", "read_zip", "write_zip"]

#: What reading one package may cost.
LIMITS = ZipLimits(
    members=1_000,
    member_bytes=256 * MIB,
    total_bytes=512 * MIB,
    ratio=200.0,
    ratio_from=1 * MIB,
    directory_bytes=16 * MIB,
)
_WHAT = "a package"


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
        with open_zip(path, limits=limits, what=_WHAT, error=PackageError) as z:
            infos = [info for info in z.infolist() if not info.is_dir()]
            return {i.filename: read_member(path, z, i, limits, PackageError) for i in infos}
    except PackageError:
        raise
    except READ_ERRORS as e:
        raise PackageError(f"{path}: not a readable zip file ({e})") from None


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
