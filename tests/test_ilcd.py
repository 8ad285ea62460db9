"""The ILCD reader on a hand-written collection, and on TianGong LCA Data (realdata)."""

from __future__ import annotations

import shutil
import time
import zipfile
from collections import Counter
from pathlib import Path

import pytest

from openpcf.errors import InputError
from openpcf.io.archive import Archive, ArchiveError
from openpcf.io.elementary import gas_for
from openpcf.io.ilcd import (
    EF_GHG_FLOWS,
    EF_ZERO_CO2_FROM_AIR,
    IlcdError,
    ghg_name,
    normalise_unit,
    read_ilcd,
)
from openpcf.io.inventory import Exchange, Flow, Problem, Process
from openpcf.io.linking import gas_intensity_matrix, link
from openpcf.methods.gases import GAS_IDS

FIXTURE = Path(__file__).parent / "fixtures" / "ilcd_small"
TIANGONG = Path(__file__).parents[2] / "shared" / "data" / "tiangong-lca-data-a55b302.zip"

STEEL = "cccccccc-0000-4000-8000-000000000001"
ELEC = "cccccccc-0000-4000-8000-000000000002"
SLAG = "cccccccc-0000-4000-8000-000000000003"
WIDGET = "cccccccc-0000-4000-8000-000000000004"
SERVICE = "cccccccc-0000-4000-8000-000000000005"
SCRAP = "cccccccc-0000-4000-8000-000000000006"
CO2F = "08a91e70-3ddc-11dd-923d-0050c2490048"
CH4B = "fe0acd60-3ddc-11dd-a8e8-0050c2490048"
HFC116 = "08a91e70-3ddc-11dd-933e-0050c2490048"
CO2AIR = "dddddddd-0000-4000-8000-000000000001"
CH4W = "dddddddd-0000-4000-8000-000000000002"
FC14 = "dddddddd-0000-4000-8000-000000000003"
LIMESTONE = "cccccccc-0000-4000-8000-000000000007"
CEMENT = "cccccccc-0000-4000-8000-000000000008"
CO2_FOSSIL_FROM_AIR = "726a7406-294b-4da6-b772-5612b0be0014"  # EF 3.1, factor 0
P1, P2, P3, P4, P5, P6 = (f"11111111-0000-4000-8000-00000000000{i}" for i in range(1, 7))
AIR = "Emissions/Emissions to air/Emissions to air, unspecified"
FROM_AIR = "Resources/Resources from air/Renewable material resources from air"

EXPECTED_FLOWS = {
    STEEL: Flow(id=STEEL, name="Steel, hot rolled", name_zh="钢, 热轧", kind="product", unit="kg"),
    ELEC: Flow(
        id=ELEC, name="Electricity, production mix", name_zh="电力", kind="product", unit="MJ"
    ),
    SLAG: Flow(id=SLAG, name="Slag", kind="product", unit="kg"),
    WIDGET: Flow(id=WIDGET, name="Widget", kind="product", unit="piece"),
    SERVICE: Flow(id=SERVICE, name="Consulting service", kind="product", unit="EUR"),
    SCRAP: Flow(id=SCRAP, name="Scrap metal", kind="waste", unit="kg"),
    CO2F: Flow(
        id=CO2F,
        name="carbon dioxide (fossil)",
        kind="elementary",
        unit="kg",
        cas="124-38-9",
        compartment=AIR,
        gas="CO2-fossil",
    ),
    CH4B: Flow(
        id=CH4B,
        name="methane (biogenic)",
        kind="elementary",
        unit="kg",
        cas="74-82-8",
        compartment=AIR,
        gas="CH4-biogenic",
    ),
    HFC116: Flow(
        id=HFC116, name="HFC-116", kind="elementary", unit="kg", compartment=AIR, gas="C2F6"
    ),
    CO2AIR: Flow(
        id=CO2AIR,
        name="carbon dioxide (biogenic)",
        kind="elementary",
        unit="kg",
        cas="124-38-9",
        compartment="Resources/Resources from air/Renewable material resources from air",
        gas="CO2-uptake",
    ),
    CH4W: Flow(
        id=CH4W,
        name="methane",
        kind="elementary",
        unit="kg",
        cas="74-82-8",
        compartment="Emissions/Emissions to water/Emissions to fresh water",
        gas=None,
    ),
    # EF's technical flow for fossil CO2 captured from air (CCS/DAC): factor 0, not uptake
    CO2_FOSSIL_FROM_AIR: Flow(
        id=CO2_FOSSIL_FROM_AIR,
        name="carbon dioxide (fossil)",
        kind="elementary",
        unit="kg",
        cas="124-38-9",
        compartment=FROM_AIR,
        gas=None,
    ),
    # EF short name, no CAS, stratosphere compartment without the word "air"
    FC14: Flow(
        id=FC14,
        name="FC-14",
        kind="elementary",
        unit="kg",
        compartment="Emissions/Emissions to lower stratosphere and upper troposphere",
        gas="CF4",
    ),
    LIMESTONE: Flow(id=LIMESTONE, name="Limestone", kind="product", unit="kg"),
    CEMENT: Flow(id=CEMENT, name="Cement", kind="product", unit="kg"),
}

EXPECTED_PROCESSES = (
    Process(
        id=P1,
        name="Steel, hot rolled, at plant",
        name_zh="钢, 热轧",
        location="CN",
        category="Materials production/Metals and semimetals",
        exchanges=(
            Exchange(flow=STEEL, amount=1.0, is_input=False, is_reference=True),
            Exchange(flow=SLAG, amount=0.25, is_input=False),
            Exchange(flow=ELEC, amount=2.5, is_input=True),  # resultingAmount, not meanAmount
            Exchange(flow=CO2F, amount=1.8, is_input=False),  # meanAmount only
            Exchange(flow=CH4B, amount=0.01, is_input=False),
        ),
        allocation={STEEL: 0.9, SLAG: 0.1},
        allocation_method="Allocation - market value",
    ),
    Process(
        id=P2,
        name="Electricity, production mix",
        name_zh="电力",
        location="CN-NM",
        category="Energy carriers and technologies/Electricity",
        exchanges=(
            Exchange(flow=ELEC, amount=1.0, is_input=False, is_reference=True),
            Exchange(flow=CO2AIR, amount=0.5, is_input=True),
            Exchange(flow=HFC116, amount=1e-6, is_input=False),
            Exchange(flow=CH4W, amount=0.001, is_input=False),
        ),
    ),
    Process(
        id=P3,
        name="小部件装配",  # no English name: the Chinese one
        name_zh="小部件装配",
        location="CN",
        category="Systems/Other systems",
        exchanges=(
            Exchange(flow=WIDGET, amount=1.0, is_input=False, is_reference=True),
            Exchange(flow=STEEL, amount=0.2, is_input=True),
            Exchange(flow=SERVICE, amount=3.0, is_input=True),
            Exchange(flow=SCRAP, amount=0.05, is_input=False),
        ),
    ),
    Process(
        id=P4,
        name="Packaging",
        location="GLO",
        exchanges=(Exchange(flow=STEEL, amount=0.01, is_input=True),),
    ),
    Process(  # quantitative reference: an *input* of a product (TianGong 4081f390)
        id=P5,
        name="Copper slag recycling",
        location="CN",
        exchanges=(
            Exchange(flow=LIMESTONE, amount=311.4, is_input=True, is_reference=True),
            Exchange(flow=CO2F, amount=318.9, is_input=False),
            Exchange(flow=CO2_FOSSIL_FROM_AIR, amount=11.0, is_input=True),
        ),
    ),
    Process(
        id=P6,
        name="Cement production",
        location="CN",
        exchanges=(
            Exchange(flow=CEMENT, amount=1000.0, is_input=False, is_reference=True),
            Exchange(flow=LIMESTONE, amount=1246.0, is_input=True),
            Exchange(flow=CO2F, amount=800.0, is_input=False),
            Exchange(flow=FC14, amount=1e-5, is_input=False),
        ),
    ),
)

EXPECTED_PROBLEMS = (
    Problem(
        kind="unmapped-elementary",
        where=f"flows/{CO2_FOSSIL_FROM_AIR}.xml",
        detail=f"'carbon dioxide (fossil)' ({FROM_AIR}) is fossil CO2 taken from the air (EF's "
        "technical flow for CCS / direct air capture, characterisation factor 0 in EF 3.1), not "
        "biogenic uptake; not counted",
    ),
    Problem(
        kind="unknown-unit",
        where=f"flows/{SERVICE}.xml",
        detail="unit 'EUR' kept as written",
    ),
    Problem(
        kind="unmapped-elementary",
        where=f"flows/{CH4W}.xml",
        detail="'methane' (Emissions/Emissions to water/Emissions to fresh water) is a greenhouse "
        "gas substance but not an emission to or uptake from air; not counted",
    ),
    Problem(
        kind="missing-flow",
        where=f"processes/{P1}.xml exchange 5",
        detail="flow eeeeeeee-0000-4000-8000-000000000099 (Iron ore) is not in flows/",
    ),
    Problem(
        kind="bad-reference",
        where=f"processes/{P1}.xml exchange 6",
        detail="refObjectId 'slag' is not a UUID (slag)",
    ),
    Problem(
        kind="malformed",
        where=f"processes/{P1}.xml",
        detail="1 exchanges carry allocation fractions that differ from the co-products' own; "
        "exchange-specific allocation is not kept, the co-products' fractions are used",
    ),
    Problem(
        kind="malformed",
        where=f"processes/{P3}.xml exchange 4",
        detail="no resultingAmount or meanAmount (Electricity)",
    ),
    Problem(
        kind="bad-reference",
        where=f"processes/{P4}.xml exchange 1",
        detail="no refObjectId (NMP,Asphalt mixture)",
    ),
    Problem(
        kind="no-reference",
        where=f"processes/{P4}.xml",
        detail="no exchange with dataSetInternalID 5 (referenceToReferenceFlow)",
    ),
)


def test_reads_the_fixture_folder_exactly() -> None:
    inv = read_ilcd(FIXTURE)
    assert inv.format == "ilcd"
    assert inv.name == "ilcd_small"
    assert inv.source == "ilcd_small"
    assert inv.licence.startswith("CC0 1.0 Universal")
    assert inv.flows == EXPECTED_FLOWS
    assert inv.processes == EXPECTED_PROCESSES
    assert inv.problems == EXPECTED_PROBLEMS


def test_zip_reads_the_same_as_the_folder(tmp_path: Path) -> None:
    archive = tmp_path / "small.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for file in sorted(FIXTURE.rglob("*")):
            zf.write(file, Path("export") / file.relative_to(FIXTURE))
    calls: list[tuple[int, int]] = []
    inv = read_ilcd(archive, progress=lambda done, total: calls.append((done, total)))
    folder = read_ilcd(FIXTURE)
    assert inv.processes == folder.processes
    assert inv.flows == folder.flows
    assert inv.problems == folder.problems
    assert inv.source == "small.zip"
    assert calls == [(i, 6) for i in range(1, 7)]


def test_ghg_flows_and_reference_of_the_multi_output_process() -> None:
    inv = read_ilcd(FIXTURE)
    gases = {f.name: f.gas for f in inv.flows.values() if f.gas}
    assert gases == {
        "carbon dioxide (fossil)": "CO2-fossil",
        "methane (biogenic)": "CH4-biogenic",
        "HFC-116": "C2F6",  # no CAS, name unknown to gas_for: mapped by EF UUID
        "carbon dioxide (biogenic)": "CO2-uptake",  # resource from air
        "FC-14": "CF4",  # EF short name, emitted to the stratosphere
    }
    # same name, resource from air: EF's fossil CO2 for CCS/DAC, not counted
    assert inv.flows[CO2_FOSSIL_FROM_AIR].gas is None
    steel = inv.processes[0]
    assert steel.reference == Exchange(flow=STEEL, amount=1.0, is_input=False, is_reference=True)
    assert sum(steel.allocation.values()) == pytest.approx(1.0)


def test_unreadable_files_become_problems_not_errors(tmp_path: Path) -> None:
    root = tmp_path / "ilcd"
    shutil.copytree(FIXTURE, root)
    (root / "ILCD" / "flows" / f"{SLAG}.xml").write_text("<flowDataSet", encoding="utf-8")
    (root / "ILCD" / "processes" / "broken.xml").write_text("not xml", encoding="utf-8")
    inv = read_ilcd(root)
    assert len(inv.processes) == 6
    kinds = Counter(p.kind for p in inv.problems)
    # 2 unreadable files, the exchange without amount, the allocation that cannot be used
    assert kinds["malformed"] == 4
    missing = [p for p in inv.problems if p.kind == "missing-flow"]
    assert missing[0] == Problem(
        kind="missing-flow",
        where=f"processes/{P1}.xml exchange 1",
        detail=f"flow {SLAG} (Slag): flows/{SLAG}.xml could not be read",
    )
    # the slag exchange is gone, so its allocation (co-product exchange 1) cannot be used
    assert inv.processes[0].allocation == {}


def test_whole_input_errors_say_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(IlcdError, match="no such file or folder"):
        read_ilcd(tmp_path / "nope.zip")
    (tmp_path / "empty").mkdir()
    with pytest.raises(IlcdError, match="no 'processes/' folder"):
        read_ilcd(tmp_path / "empty")
    text = tmp_path / "notes.txt"
    text.write_text("hello", encoding="utf-8")
    with pytest.raises(InputError, match="not a folder or a zip"):
        read_ilcd(text)
    only_bad = tmp_path / "bad" / "processes"
    only_bad.mkdir(parents=True)
    (only_bad / "x.xml").write_text("<a/>", encoding="utf-8")
    with pytest.raises(IlcdError, match="no readable ILCD process"):
        read_ilcd(tmp_path / "bad")


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Item(s)", ("piece", True)),
        ("t*km", ("tkm", True)),
        ("sqm", ("m2", True)),
        ("m2*a", ("m2*a", True)),
        ("m3", ("m3", True)),
        ("kWh", ("kWh", True)),
        ("unit", ("piece", True)),
        ("EUR", ("EUR", False)),
        ("kg CO2-Equiv.", ("kg CO2-Equiv.", False)),
        ("", ("", False)),
    ],
)
def test_unit_names(name: str, expected: tuple[str, bool]) -> None:
    assert normalise_unit(name) == expected


def test_ghg_name_turns_parentheses_into_a_qualifier() -> None:
    assert ghg_name("methane (biogenic)") == "methane, biogenic"
    assert ghg_name("carbon dioxide (land use change)") == "carbon dioxide, land use change"
    assert ghg_name("nitrous oxide") == "nitrous oxide"


def test_archive_members_and_root(tmp_path: Path) -> None:
    with Archive(FIXTURE) as archive:
        assert archive.root_of("processes") == "ILCD/"
        assert archive.root_of("nothing") is None
        assert len(archive.members("ILCD/processes/", suffix=".XML")) == 6
        assert archive.read("LICENSE").startswith(b"CC0")
    with pytest.raises(ArchiveError):
        Archive(tmp_path / "missing")


# --- TianGong findings: one fixture case per fix -------------------------------------------


@pytest.mark.parametrize(
    ("name", "cas", "compartment", "gas"),
    [
        # EF 3.x fossil CO2 *from* air (CCS / direct air capture): factor 0, not uptake
        ("carbon dioxide, fossil", "124-38-9", FROM_AIR, None),
        ("carbon dioxide, biogenic", "124-38-9", FROM_AIR, "CO2-uptake"),
        ("carbon dioxide, non-fossil", "124-38-9", FROM_AIR, "CO2-uptake"),
        ("Carbon dioxide, in air", "124-38-9", "natural resource/in air", "CO2-uptake"),
        # stratosphere compartments do not say "air"; EF short names have no CAS
        ("nitrous oxide", "", "Emissions to lower stratosphere and upper troposphere", "N2O"),
        ("FC-14", "", "Emissions to lower stratosphere and upper troposphere", "CF4"),
        ("HFC-116", "", AIR, "C2F6"),
        ("PFC-14", "", AIR, "CF4"),
        ("methane, fossil", "", "Emissions to water", None),
    ],
)
def test_gas_for_ef_flows(name: str, cas: str, compartment: str, gas: str | None) -> None:
    assert gas_for(name, cas, compartment) == gas


def test_ef_table_follows_the_ef_climate_change_factors() -> None:
    # factor 0 in EF 3.1: fossil CO2 from air is not a GHG flow of the footprint
    assert not EF_ZERO_CO2_FROM_AIR & EF_GHG_FLOWS.keys()
    # the "lower stratosphere and upper troposphere" flows (non-zero factors) are mapped
    assert EF_GHG_FLOWS["29061478-6556-11dd-ad8b-0800200c9a66"] == "N2O"
    assert EF_GHG_FLOWS["08a91e70-3ddc-11dd-9c14-0050c2490048"] == "CO2-fossil"
    assert EF_GHG_FLOWS["1f314b82-6556-11dd-ad8b-0800200c9a66"] == "SF6"
    assert len(EF_GHG_FLOWS) == 103


def test_input_reference_is_not_a_provider() -> None:
    """A process whose reference is a product *input* (per 311.4 kg of limestone processed)
    is computed for that input but does not supply limestone: cement's limestone is cut off
    instead of carrying the recycling process's CO2 (TianGong cement 1.6 -> 0.8 kg/kg)."""
    linked = link(read_ilcd(FIXTURE))
    cols = {c.id: j for j, c in enumerate(linked.columns)}
    assert P5 in cols
    assert P6 in cols
    cut = [(u.process_id, u.flow, u.reason) for u in linked.unlinked]
    assert (P6, "Limestone", "no provider") in cut
    lam = gas_intensity_matrix(linked.system)
    co2 = GAS_IDS.index("CO2-fossil")
    cf4 = GAS_IDS.index("CF4")
    assert lam[cols[P6], co2] == pytest.approx(0.8, rel=1e-12)  # not 0.8 + 1.246 x 1.024
    assert lam[cols[P6], cf4] == pytest.approx(1e-8, rel=1e-12)
    # per kg of limestone processed; the fossil CO2 from air (factor 0) is not counted
    assert lam[cols[P5], co2] == pytest.approx(318.9 / 311.4, rel=1e-12)
    assert lam[cols[P5], GAS_IDS.index("CO2-uptake")] == 0.0


# --- real data ------------------------------------------------------------------------------


@pytest.mark.realdata
@pytest.mark.slow
def test_tiangong_lca_data() -> None:
    if not TIANGONG.exists():
        pytest.skip(f"{TIANGONG} is not there")
    start = time.perf_counter()
    inv = read_ilcd(TIANGONG)
    seconds = time.perf_counter() - start
    assert seconds < 60, f"read_ilcd took {seconds:.1f} s"
    assert inv.licence.startswith("MIT License")
    assert len(inv.processes) == 4133
    assert len(inv.flows) == 3021
    assert Counter(f.kind for f in inv.flows.values()) == {
        "product": 2432,
        "elementary": 524,
        "waste": 65,
    }
    assert sum(len(p.exchanges) for p in inv.processes) == 68085
    assert Counter(p.kind for p in inv.problems) == {
        "missing-flow": 4392,
        "unknown-unit": 155,  # flows measured in EUR
        "bad-reference": 153,  # 150 refObjectIds that are names, 3 without refObjectId
        "no-reference": 137,  # 17 without referenceToReferenceFlow, 120 reference dropped
        "malformed": 89,  # exchanges without any amount
        # CO2 to soil x2, methane to water, and the 2 "carbon dioxide (fossil)" resources from
        # air (EF's CCS/DAC flow, factor 0; mapped to CO2-uptake before this was fixed)
        "unmapped-elementary": 5,
    }
    gases = Counter(f.gas for f in inv.flows.values() if f.gas)
    assert gases == {
        "CO2-fossil": 6,
        "CH4-fossil": 5,
        "CH4-biogenic": 5,
        "CO2-biogenic": 4,
        "N2O": 4,
        "C2F6": 1,
        "CF4": 1,
        "NF3": 1,
    }
    assert sum(1 for p in inv.processes if p.name_zh) == 4132
    assert all(p.name for p in inv.processes)
    # the UUID table agrees with name/CAS/category mapping wherever TianGong has the flow
    for fid, gas in EF_GHG_FLOWS.items():
        if fid in inv.flows:
            assert inv.flows[fid].gas == gas
