"""The ground layer's file helpers: durable writes and CSV rows with their line numbers."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from openpcf.errors import InputError
from openpcf.files.csvfile import read_csv_rows
from openpcf.files.durable import atomic_replace_dir, atomic_write


class RowsError(InputError):
    pass


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_atomic_write_replaces_the_file_with_the_mode_asked_for(tmp_path: Path) -> None:
    target = tmp_path / "sub" / "secret.json"
    atomic_write(target, b"one")
    assert target.read_bytes() == b"one"
    assert _mode(target) == 0o644
    atomic_write(target, b"two", mode=0o600)
    assert target.read_bytes() == b"two"
    assert _mode(target) == 0o600
    assert [p.name for p in target.parent.iterdir()] == ["secret.json"]  # no temp file left


def test_atomic_replace_dir_moves_a_finished_folder(tmp_path: Path) -> None:
    tmp = tmp_path / ".v1-partial"
    (tmp / "inner").mkdir(parents=True)
    (tmp / "meta.json").write_text("{}", encoding="utf-8")
    (tmp / "inner" / "A.npz").write_bytes(b"\0")
    atomic_replace_dir(tmp, tmp_path / "v1")
    assert not tmp.exists()
    assert (tmp_path / "v1" / "meta.json").read_text(encoding="utf-8") == "{}"
    assert (tmp_path / "v1" / "inner" / "A.npz").read_bytes() == b"\0"


def test_read_csv_rows_gives_line_numbers_and_accepts_a_bom(tmp_path: Path) -> None:
    path = tmp_path / "rows.csv"
    path.write_bytes('\ufeffa,b\n1,2\n\n3,"x\ny"\n5\n'.encode())
    rows = list(read_csv_rows(path, required=("a", "b")))
    assert rows == [
        (2, {"a": "1", "b": "2"}),
        (5, {"a": "3", "b": "x\ny"}),
        (6, {"a": "5", "b": None}),
    ]


def test_read_csv_rows_names_a_missing_column_as_the_callers_error(tmp_path: Path) -> None:
    path = tmp_path / "rows.csv"
    path.write_text("a,c\n1,2\n", encoding="utf-8")
    with pytest.raises(RowsError, match=r"rows\.csv:1: missing column\(s\) b; the header is a,b"):
        read_csv_rows(path, required=("a", "b"), header="the header is a,b", error=RowsError)


def test_read_csv_rows_names_the_line_of_a_byte_that_is_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "latin1.csv"
    path.write_bytes("a,b\n1,2\nMünchen,3\n".encode("latin-1"))
    with pytest.raises(
        RowsError, match=r"latin1\.csv:3: cannot read: not UTF-8 text \(byte 0xfc\)"
    ):
        read_csv_rows(path, error=RowsError)


def test_read_csv_rows_names_a_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"absent\.csv: cannot read"):
        read_csv_rows(tmp_path / "absent.csv")
