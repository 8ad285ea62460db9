"""Parsed shipment files are reused while their bytes are the same, and never when they change.

:data:`openpcf.logistics.loading.PARSED` keys a parsed shipment by resolved path, size,
``st_mtime_ns`` and the SHA-256 of the bytes read; it holds 64 files at most.
"""

from __future__ import annotations

import os
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from openpcf.errors import ModelFileError
from openpcf.logistics import ShipmentFileError, calculate_file, load_shipment
from openpcf.logistics.loading import PARSED

BODY = textwrap.dedent(
    """\
    shipment: C-1
    year: 2025
    cargo: {mass: 20, unit: t}
    chain:
      - type: leg
        mode: road
        distance_km: 100
        intensity: {method: default, toc: glec3.road.artic-34-40t.diesel.eu-sa}
    """
)


@pytest.fixture(autouse=True)
def empty_cache() -> Iterator[None]:
    PARSED.clear()
    yield
    PARSED.clear()


def write(path: Path, body: str = BODY) -> Path:
    path.write_text(body, encoding="utf-8")
    return path


def test_same_file_is_parsed_once_and_gives_the_same_result(tmp_path: Path) -> None:
    """20 t × 100 km × 0.095 kg CO2e/tkm (GLEC v3.0 Table 8, p. 92) = 190.0 kg, both times."""
    path = write(tmp_path / "s.yaml")
    first = load_shipment(path)
    again = load_shipment(path)
    assert again is first  # the parse is reused
    assert len(PARSED) == 1
    assert calculate_file(path).to_dict() == calculate_file(path).to_dict()
    assert calculate_file(path).wtw_kg == pytest.approx(190.0, rel=1e-12)


def test_changed_bytes_are_read_again_even_with_the_same_size_and_mtime(tmp_path: Path) -> None:
    """100 km → 300 km (same length) with the old mtime put back: 20 × 300 × 0.095 = 570.0 kg.
    A cache keyed on mtime alone would answer 190.0 kg."""
    path = write(tmp_path / "s.yaml")
    assert calculate_file(path).wtw_kg == pytest.approx(190.0, rel=1e-12)
    before = path.stat()
    write(path, BODY.replace("distance_km: 100", "distance_km: 300"))
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert path.stat().st_size == before.st_size
    assert path.stat().st_mtime_ns == before.st_mtime_ns
    assert calculate_file(path).wtw_kg == pytest.approx(570.0, rel=1e-12)
    assert len(PARSED) == 2  # both contents, each under its own key


def test_a_broken_file_is_refused_every_time_and_not_kept(tmp_path: Path) -> None:
    path = write(tmp_path / "s.yaml", BODY.replace("mass: 20", "mass: -1"))
    for _ in range(2):
        with pytest.raises(ShipmentFileError, match=r"s\.yaml:3"):
            load_shipment(path)
    assert len(PARSED) == 0
    write(path)
    assert calculate_file(path).wtw_kg == pytest.approx(190.0, rel=1e-12)


def test_the_cache_is_bounded_least_recently_used_first(tmp_path: Path) -> None:
    """70 distinct files leave the 64 most recently used; the first is parsed again."""
    paths = [write(tmp_path / f"s{i}.yaml") for i in range(70)]
    first = load_shipment(paths[0])
    kept = load_shipment(paths[1])
    for path in paths[2:]:
        load_shipment(path)
    assert len(PARSED) == PARSED.size == 64
    assert load_shipment(paths[-1]) is load_shipment(paths[-1])
    assert load_shipment(paths[0]) is not first  # evicted, parsed again
    assert load_shipment(paths[1]) is not kept


def test_each_spelling_of_a_path_keeps_its_own_in_messages(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One cache entry for one file, but errors and results name the path as it was given."""
    write(tmp_path / "s.yaml")
    monkeypatch.chdir(tmp_path)
    absolute = load_shipment(tmp_path / "s.yaml")
    relative = load_shipment("s.yaml")
    assert len(PARSED) == 1
    assert relative.spec is absolute.spec
    assert (absolute.doc.path, relative.doc.path) == (tmp_path / "s.yaml", Path("s.yaml"))
    assert calculate_file("s.yaml").origin == "s.yaml"


def test_a_missing_file_names_it(tmp_path: Path) -> None:
    """As before the cache: the file error of every YAML input (ShipmentFileError's base)."""
    with pytest.raises(ModelFileError, match=r"nope\.yaml: no such file"):
        load_shipment(tmp_path / "nope.yaml")
