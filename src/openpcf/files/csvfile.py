"""Read a user's CSV file row by row, each row with its line number for ``file:line`` errors.

:func:`read_csv_rows` reads the whole file (UTF-8, a byte-order mark allowed, as spreadsheet
programs write it), checks the header for the columns a caller needs and then yields
``(line, row)`` pairs. Every problem with the file itself (missing, unreadable, not UTF-8, a
missing column) is raised at once, as the caller's error class, naming the file and line.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Sequence
from pathlib import Path

from openpcf.errors import InputError, OpenPCFError
from openpcf.files.bounded import read_bounded

Row = dict[str, str | None]


def read_csv_rows(
    path: Path,
    *,
    required: Sequence[str] = (),
    header: str = "",
    error: type[OpenPCFError] = InputError,
) -> Iterator[tuple[int, Row]]:
    """The data rows of ``path`` as ``(line, row)``, ``row`` mapping column name to cell.

    ``line`` is the 1-based line the row ends on (the header is line 1). A row with more cells
    than the header keeps the extra cells as a list under the key ``None``, as
    :class:`csv.DictReader` does; a shorter row has ``None`` for the missing cells.

    Raises
    ------
    error
        (:class:`~openpcf.errors.InputError` by default) at once if the file cannot be read, is
        larger than :data:`~openpcf.files.bounded.MAX_FILE_BYTES`, is not UTF-8 text, or its
        header lacks a column of ``required`` (``header`` is appended to that message to say
        what the header should be); while iterating, if a row is not valid CSV.
    """
    # bounded: a factor set is at most a few MB; /dev/zero must not be read until memory ends
    data = read_bounded(path, error=error, missing="cannot read: no such file")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = data[: e.start].count(b"\n") + 1
        raise error(
            f"{path}:{line}: cannot read: not UTF-8 text (byte {data[e.start]:#04x}); "
            "save the file as CSV UTF-8"
        ) from None
    reader = csv.DictReader(io.StringIO(text, newline=""))
    missing = [c for c in required if c not in (reader.fieldnames or [])]
    if missing:
        hint = f"; {header}" if header else ""
        raise error(f"{path}:1: missing column(s) {', '.join(missing)}{hint}")
    return _rows(reader, path, error)


def _rows(
    reader: csv.DictReader[str], path: Path, error: type[OpenPCFError]
) -> Iterator[tuple[int, Row]]:
    try:
        for row in reader:
            yield reader.line_num, row
    except csv.Error as e:
        raise error(f"{path}:{reader.line_num}: not valid CSV: {e}") from None
