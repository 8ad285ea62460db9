"""Read a user's input file with a size bound, whatever kind of file the path names.

``Path.read_bytes()`` on ``/dev/zero`` never returns (it reads until memory runs out), and a
multi-gigabyte file given by mistake as a product model costs as much. Every user file
OpenPCF reads whole (model, shipment and claims YAML, factor CSV, supplier footprint JSON,
certificates) goes through :func:`read_bounded`, which reads at most ``limit + 1`` bytes and
refuses the file when it is larger, so the cost of a bad path is bounded by the limit.

Design note: the size is not taken from ``stat()``: devices and ``/proc`` files report 0
bytes, and a file can grow between ``stat()`` and the read. Reading ``limit + 1`` bytes is the
only check that holds for every kind of file.
"""

from __future__ import annotations

from pathlib import Path

from openpcf.errors import InputError, OpenPCFError

#: Largest user file read whole (model, shipment, claims, factor set, footprint JSON): 32 MiB.
#: The largest bundled factor set is 0.2 MiB and real product models are a few kB.
MAX_FILE_BYTES = 32 * 1024 * 1024


def read_bounded(
    path: Path,
    *,
    limit: int = MAX_FILE_BYTES,
    error: type[OpenPCFError] = InputError,
    missing: str = "no such file",
) -> bytes:
    """The bytes of ``path``, refused with ``error`` (naming the file) past ``limit`` bytes.

    Raises
    ------
    error
        If the file does not exist (the message is ``"<path>: <missing>"``), is a folder,
        cannot be read, or holds more than ``limit`` bytes.
    """
    try:
        with open(path, "rb") as handle:
            data = handle.read(limit + 1)
    except FileNotFoundError:
        raise error(f"{path}: {missing}") from None
    except IsADirectoryError:
        raise error(f"{path}: is a folder, not a file") from None
    except OSError as e:
        raise error(f"{path}: cannot read: {e.strerror or e}") from None
    if len(data) > limit:
        raise error(
            f"{path}: larger than {size_text(limit)}; OpenPCF reads input files of at most "
            "that size (is this the right file?)"
        )
    return data


def size_text(n: int) -> str:
    """``n`` bytes for a message: ``"32 MiB"``, ``"64 KiB"`` or ``"100 bytes"``."""
    for unit, size in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if n >= size:
            return f"{n / size:g} {unit}"
    return f"{n} bytes"
