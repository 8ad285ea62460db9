"""The openLCA JSON-LD reader on small hand-written exports (tests/fixtures/jsonld_*).

``jsonld_small`` (olca-schema 2.x) has six processes; ``steel production`` carries the broken
cases: an exchange in an unknown unit ("furlong"), one whose flow UUID is not in ``flows/``
(dangling reference) and one whose flow reference is not a UUID. It is also a multi-output
process (steel and scrap) with physical (default) and economic allocation factors.
``jsonld_v1`` is the olca-schema 1.x layout (``input``, category references), nested one
folder down as in the USLCI zip.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from openpcf.errors import InputError
from openpcf.io.jsonld import JsonLdError, is_uuid, read_jsonld

FIXTURES = Path(__file__).parent / "fixtures"
SMALL = FIXTURES / "jsonld_small"
V1 = FIXTURES / "jsonld_v1"
STEEL = "ee000000-0000-4000-8000-000000000003"
WOOD = "ee000000-0000-4000-8000-000000000005"
ELEC_US = "ee000000-0000-4000-8000-000000000001"


def _zip(folder: Path, target: Path, prefix: str = "") -> Path:
    with zipfile.ZipFile(target, "w") as zf:
        for file in sorted(folder.rglob("*")):
            if file.is_file():
                zf.write(file, prefix + file.relative_to(folder).as_posix())
    return target


def test_counts_and_flows():
    inv = read_jsonld(SMALL)
    assert inv.format == "jsonld"
    assert len(inv.processes) == 6
    assert len(inv.flows) == 11
    kinds = sorted(f.kind for f in inv.flows.values())
    assert kinds.count("elementary") == 4
    assert kinds.count("waste") == 1
    gases = {f.name: f.gas for f in inv.flows.values() if f.kind == "elementary"}
    assert gases == {
        "Carbon dioxide, fossil": "CO2-fossil",
        "Methane, fossil": "CH4-fossil",
        "Carbon dioxide, in air": "CO2-uptake",
        "Sulfur dioxide": None,
    }
    assert inv.licence.startswith("CC0")


def test_units_are_converted_and_recorded():
    """1 kWh -> 3.6 MJ; 0.001 t -> 1 kg; 200 g -> 0.2 kg; one problem per conversion kind."""
    inv = read_jsonld(SMALL)
    by_id = {p.id: p for p in inv.processes}
    ref = by_id[ELEC_US].reference
    assert ref is not None
    assert ref.amount == pytest.approx(3.6)
    steel_ref = by_id[STEEL].reference
    assert steel_ref is not None
    assert steel_ref.amount == pytest.approx(1.0)
    conversions = sorted(p.detail for p in inv.problems if p.kind == "unit-conversion")
    assert conversions == [
        "g -> kg x 0.001 (1 exchanges)",
        "kWh -> MJ x 3.6 (1 exchanges)",
        "t -> kg x 1000 (1 exchanges)",
    ]


def test_broken_exchanges_are_problems_not_errors():
    inv = read_jsonld(SMALL)
    problems = {p.kind: p for p in inv.problems if p.kind != "unit-conversion"}
    assert set(problems) == {"unknown-unit", "missing-flow", "bad-reference"}
    assert "furlong" in problems["unknown-unit"].detail
    assert "11111111-1111-4111-8111-111111111111" in problems["missing-flow"].detail
    assert "'steel-input-17'" in problems["bad-reference"].detail
    assert all(STEEL in p.where and "exchange" in p.where for p in problems.values())
    steel = next(p for p in inv.processes if p.id == STEEL)
    assert len(steel.exchanges) == 6  # 9 written, 3 dropped


def test_default_allocation_factors():
    steel = next(p for p in read_jsonld(SMALL).processes if p.id == STEEL)
    assert steel.allocation_method == "PHYSICAL_ALLOCATION"
    assert sorted(steel.allocation.values()) == [0.25, 0.75]


def test_avoided_product_and_provider():
    widget = next(p for p in read_jsonld(SMALL).processes if p.name == "widget assembly")
    avoided = [e for e in widget.exchanges if e.is_avoided]
    assert len(avoided) == 1
    assert avoided[0].is_input
    assert avoided[0].provider == ELEC_US


def test_resource_input_and_location():
    wood = next(p for p in read_jsonld(SMALL).processes if p.id == WOOD)
    assert wood.location == "US"
    uptake = [e for e in wood.exchanges if e.is_input]
    assert len(uptake) == 1
    assert uptake[0].amount == pytest.approx(1.5)


def test_zip_nested_equals_folder(tmp_path: Path):
    folder = read_jsonld(SMALL)
    zipped = read_jsonld(_zip(SMALL, tmp_path / "small.zip", prefix="downloads/export/"))
    assert zipped.processes == folder.processes
    assert zipped.flows == folder.flows
    assert zipped.licence == folder.licence
    assert zipped.source == "small.zip"


def test_schema_1x_layout():
    inv = read_jsonld(V1)
    assert len(inv.processes) == 2
    methane = next(f for f in inv.flows.values() if f.kind == "elementary")
    assert methane.compartment == "Elementary flows/Emission to air"
    assert methane.gas == "CH4-fossil"
    widget = next(p for p in inv.processes if p.name == "widget, v1")
    assert [e.is_input for e in widget.exchanges] == [False, True]
    steel = next(p for p in inv.processes if p.name == "steel, v1")
    assert steel.location == "RNA"
    assert steel.reference is not None
    assert steel.reference.amount == pytest.approx(1000.0)
    assert inv.licence.startswith("CC0")


def test_not_an_export(tmp_path: Path):
    text = tmp_path / "notes.txt"
    text.write_text("hello", encoding="utf-8")
    with pytest.raises(JsonLdError, match="not a folder or a zip"):
        read_jsonld(text)
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(InputError, match="no 'processes/' folder"):
        read_jsonld(empty)


def test_malformed_process_file_is_a_problem(tmp_path: Path):
    import shutil

    copy = tmp_path / "copy"
    shutil.copytree(SMALL, copy)
    (copy / "processes" / "broken.json").write_text("{ not json", encoding="utf-8")
    inv = read_jsonld(copy)
    assert len(inv.processes) == 6
    assert any(p.kind == "malformed" and "broken.json" in p.where for p in inv.problems)


def test_progress_callback():
    calls: list[tuple[int, int]] = []
    read_jsonld(SMALL, progress=lambda done, total: calls.append((done, total)))
    assert calls[-1] == (6, 6)
    assert len(calls) == 6


def test_is_uuid():
    assert is_uuid("ee000000-0000-4000-8000-000000000003")
    assert not is_uuid("steel-input-17")
    assert not is_uuid(None)
