"""The ecoSpold 2 reader on hand-written .spold files, with and without master data."""

from __future__ import annotations

import shutil
import zipfile
from pathlib import Path

import pytest

from openpcf.io.ecospold2 import EcoSpold2Error, read_ecospold2
from openpcf.io.inventory import Exchange, Flow, Problem, Process

FIXTURE = Path(__file__).parent / "fixtures" / "ecospold2_small"

A1 = "a1000000-0000-4000-8000-000000000001"
A2 = "a2000000-0000-4000-8000-000000000002"
A3 = "a3000000-0000-4000-8000-000000000003"
STEEL = "5e000000-0000-4000-8000-000000000001"
SLAG = "5e000000-0000-4000-8000-000000000002"
ELEC = "5e000000-0000-4000-8000-000000000003"
WIDGET = "5e000000-0000-4000-8000-000000000004"
SCRAP = "5e000000-0000-4000-8000-000000000005"
SERVICE = "5e000000-0000-4000-8000-000000000006"
CO2F = "e1000000-0000-4000-8000-000000000001"
CH4NF = "e1000000-0000-4000-8000-000000000002"
CO2AIR = "e1000000-0000-4000-8000-000000000003"
CH4W = "e1000000-0000-4000-8000-000000000004"
N2O = "e1000000-0000-4000-8000-000000000099"  # not in the master data
# activity A1 appears in two files (ecoinvent system-model naming): ids get the product
A1_STEEL, A1_SLAG = f"{A1}_{STEEL}", f"{A1}_{SLAG}"
URBAN = "air/urban air close to ground"


def x(n: int) -> str:
    return f"00000000-0000-4000-8000-{n:012d}"


def where(activity: str, n: int) -> str:
    return f"datasets/{activity}.spold exchange {x(n)}"


FLOWS = {
    STEEL: Flow(id=STEEL, name="steel", kind="product", unit="kg"),
    SLAG: Flow(id=SLAG, name="slag", kind="product", unit="kg"),
    ELEC: Flow(id=ELEC, name="electricity", kind="product", unit="kWh"),
    WIDGET: Flow(id=WIDGET, name="widget", kind="product", unit="piece"),
    SCRAP: Flow(id=SCRAP, name="scrap steel", kind="waste", unit="kg"),
    SERVICE: Flow(id=SERVICE, name="maintenance service", kind="product", unit="EUR2005"),
    CO2F: Flow(
        id=CO2F,
        name="Carbon dioxide, fossil",
        kind="elementary",
        unit="kg",
        cas="124-38-9",
        compartment=URBAN,
        gas="CO2-fossil",
    ),
    CH4NF: Flow(
        id=CH4NF,
        name="Methane, non-fossil",
        kind="elementary",
        unit="kg",
        cas="74-82-8",
        compartment="air/unspecified",
        gas="CH4-biogenic",
    ),
    CO2AIR: Flow(
        id=CO2AIR,
        name="Carbon dioxide, in air",
        kind="elementary",
        unit="kg",
        cas="124-38-9",
        compartment="natural resource/in air",
        gas="CO2-uptake",
    ),
    CH4W: Flow(
        id=CH4W,
        name="Methane",
        kind="elementary",
        unit="kg",
        cas="74-82-8",
        compartment="water/surface water",
    ),
}

STEEL_MILL = Process(
    id=A1_STEEL,
    name="steel production, converter",
    name_zh="转炉炼钢",
    location="CN",
    category="2410:Manufacture of basic iron and steel",
    exchanges=(
        Exchange(flow=STEEL, amount=1.0, is_input=False, is_reference=True),
        Exchange(flow=SLAG, amount=0.25, is_input=False),
        Exchange(flow=ELEC, amount=2.5, is_input=True, provider=A2),  # 9 MJ
        Exchange(flow=CO2F, amount=1.8, is_input=False),
        Exchange(flow=CH4NF, amount=0.01, is_input=False),
    ),
    # price 0.9 x 1 kg and 0.4 x 0.25 kg: revenue 0.9 and 0.1
    allocation={STEEL: 0.9, SLAG: 0.1},
    allocation_method="economic",
)
SLAG_FILE = Process(
    id=A1_SLAG,
    name="steel production, converter",
    location="CN",
    category="2410:Manufacture of basic iron and steel",
    exchanges=(
        Exchange(flow=SLAG, amount=1.0, is_input=False, is_reference=True),
        Exchange(flow=CO2F, amount=0.72, is_input=False),
    ),
)
WIND = Process(
    id=A2,
    name="electricity production, wind",
    location="CN-NM",
    category="3510:Electric power generation",
    exchanges=(
        Exchange(flow=ELEC, amount=1.0, is_input=False, is_reference=True),
        Exchange(flow=SERVICE, amount=0.02, is_input=True),
        Exchange(flow=CO2AIR, amount=0.5, is_input=True),
        Exchange(flow=CH4W, amount=0.001, is_input=False),
    ),
)
WIDGETS = Process(
    id=A3,
    name="widget assembly",
    location="CN",
    category="2599:Manufacture of other fabricated metal products",
    exchanges=(
        Exchange(flow=WIDGET, amount=1.0, is_input=False, is_reference=True),
        Exchange(flow=STEEL, amount=0.2, is_input=True, provider=A1_STEEL),
        Exchange(flow=ELEC, amount=3.0, is_input=True, provider=A2),
        Exchange(flow=SCRAP, amount=0.05, is_input=False),
    ),
)

BAD_ID = Problem(
    kind="bad-reference",
    where=where(A1, 4),
    detail="intermediateExchangeId 'iron-ore' is not a UUID (iron ore)",
)
NO_CONVERSION = Problem(
    kind="unknown-unit",
    where=where(A2, 12),
    detail=f"exchange in 'kWh', flow {STEEL} (steel): cannot convert 'kWh' into 'kg': "
    "[mass] * [length] ** 2 / [time] ** 2 is not [mass]",
)
BAD_LINK = Problem(
    kind="bad-reference",
    where=where(A2, 13),
    detail="activityLinkId 'not-a-uuid' is not a UUID; no provider (maintenance service)",
)
UNMAPPED = (
    "'Methane' (water/surface water) is a greenhouse gas substance but not an emission to or "
    "uptake from air; not counted"
)


def test_reads_spold_files_with_master_data() -> None:
    inv = read_ecospold2(FIXTURE)
    assert inv.format == "ecospold2"
    assert inv.name == inv.source == "ecospold2_small"
    assert inv.licence.startswith("CC0 1.0 Universal")
    assert inv.flows == FLOWS
    assert inv.processes == (STEEL_MILL, SLAG_FILE, WIND, WIDGETS)
    assert inv.problems == (
        Problem(
            kind="unknown-unit",
            where=f"MasterData/IntermediateExchanges.xml {SERVICE}",
            detail=f"unit 'EUR2005' of flow {SERVICE} (maintenance service) kept as written",
        ),
        Problem(
            kind="unmapped-elementary",
            where=f"MasterData/ElementaryExchanges.xml {CH4W}",
            detail=UNMAPPED,
        ),
        BAD_ID,
        Problem(
            kind="missing-flow",
            where=where(A1, 7),
            detail=f"flow {N2O} (Dinitrogen monoxide) is not in the master data",
        ),
        NO_CONVERSION,
        BAD_LINK,
        Problem(
            kind="unit-conversion", where="exchanges", detail="MJ -> kWh x 0.277778 (1 exchanges)"
        ),
    )


def test_without_master_data_flows_come_from_the_exchanges(tmp_path: Path) -> None:
    root = tmp_path / "spold"
    shutil.copytree(FIXTURE, root)
    shutil.rmtree(root / "MasterData")
    inv = read_ecospold2(root)
    # electricity is first met in MJ (steel mill), so MJ is its reference unit
    assert inv.flows[ELEC] == Flow(id=ELEC, name="electricity", kind="product", unit="MJ")
    assert inv.flows[N2O] == Flow(
        id=N2O,
        name="Dinitrogen monoxide",
        kind="elementary",
        unit="kg",
        cas="10024-97-2",
        compartment="air/unspecified",
        gas="N2O",
    )
    assert set(inv.flows) == {*FLOWS, N2O}
    steel, _, wind, widgets = inv.processes
    assert steel.exchanges[2] == Exchange(flow=ELEC, amount=9.0, is_input=True, provider=A2)
    assert steel.exchanges[5] == Exchange(flow=N2O, amount=0.002, is_input=False)
    assert wind.exchanges[0].amount == pytest.approx(3.6)
    assert widgets.exchanges[2].amount == pytest.approx(10.8)
    assert inv.problems == (
        BAD_ID,
        NO_CONVERSION,
        Problem(
            kind="unknown-unit",
            where=where(A2, 13),
            detail=f"unit 'EUR2005' of flow {SERVICE} (maintenance service) kept as written",
        ),
        BAD_LINK,
        Problem(kind="unmapped-elementary", where=where(A2, 15), detail=UNMAPPED),
        Problem(kind="unit-conversion", where="exchanges", detail="kWh -> MJ x 3.6 (2 exchanges)"),
    )


def test_zip_and_progress(tmp_path: Path) -> None:
    archive = tmp_path / "ei.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for file in sorted(FIXTURE.rglob("*")):
            zf.write(file, file.relative_to(FIXTURE))
    calls: list[tuple[int, int]] = []
    inv = read_ecospold2(archive, progress=lambda done, total: calls.append((done, total)))
    assert inv.processes == (STEEL_MILL, SLAG_FILE, WIND, WIDGETS)
    assert calls == [(1, 4), (2, 4), (3, 4), (4, 4)]


def test_allocation_factor_property_wins_over_price(tmp_path: Path) -> None:
    root = tmp_path / "spold"
    shutil.copytree(FIXTURE, root)
    spold = root / "datasets" / f"{A1}.spold"
    text = spold.read_text(encoding="utf-8")
    price = '<property propertyId="pp000000-0000-4000-8000-000000000000" amount="{}">'
    factor = '<property amount="{}"><name xml:lang="en">allocation factor</name></property>'
    for amount, share in (("0.9", "0.7"), ("0.4", "0.3")):
        opening = price.format(amount)
        assert opening in text
        text = text.replace(opening, factor.format(share) + opening)
    spold.write_text(text, encoding="utf-8")
    steel = read_ecospold2(root).processes[0]
    assert steel.allocation == {STEEL: 0.7, SLAG: 0.3}
    assert steel.allocation_method == "factors"


def test_bad_files_become_problems_and_empty_input_raises(tmp_path: Path) -> None:
    root = tmp_path / "spold"
    shutil.copytree(FIXTURE, root)
    (root / "datasets" / "broken.spold").write_text("<ecoSpold", encoding="utf-8")
    (root / "datasets" / "other.spold").write_text(
        '<ecoSpold xmlns="http://www.EcoInvent.org/EcoSpold02"/>', encoding="utf-8"
    )
    inv = read_ecospold2(root)
    assert len(inv.processes) == 4
    malformed = [p for p in inv.problems if p.kind == "malformed"]
    assert [p.where for p in malformed] == ["datasets/broken.spold", "datasets/other.spold"]
    assert malformed[1].detail == "no activityDataset/activityDescription"

    (tmp_path / "empty").mkdir()
    with pytest.raises(EcoSpold2Error, match=r"no \.spold file found"):
        read_ecospold2(tmp_path / "empty")
    only_bad = tmp_path / "bad"
    only_bad.mkdir()
    (only_bad / "x.spold").write_text("<x/>", encoding="utf-8")
    with pytest.raises(EcoSpold2Error, match=r"none of the 1 \.spold files"):
        read_ecospold2(only_bad)
    with pytest.raises(EcoSpold2Error, match="no such file or folder"):
        read_ecospold2(tmp_path / "missing.zip")
