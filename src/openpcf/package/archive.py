"""The zip itself: written deterministically, read back with its file names checked."""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from collections.abc import Mapping
from pathlib import Path, PurePosixPath

from openpcf.package.format import MANIFEST, PackageError


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


def read_zip(path: Path) -> dict[str, bytes]:
    """``name -> bytes`` of every file in the zip at ``path``.

    Raises
    ------
    PackageError
        If ``path`` is not a readable zip file.
    """
    try:
        with zipfile.ZipFile(path) as z:
            return {info.filename: z.read(info) for info in z.infolist() if not info.is_dir()}
    except (OSError, zipfile.BadZipFile) as e:
        raise PackageError(f"{path}: not a readable zip file ({e})") from None


def is_safe(name: str) -> bool:
    """Whether the file name ``name`` stays inside the folder it is extracted to."""
    p = PurePosixPath(name)
    return not p.is_absolute() and ".." not in p.parts and "\\" not in name
