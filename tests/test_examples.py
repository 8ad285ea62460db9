"""The four example models in ``examples/`` (``docs/examples.md``): they validate, calculate,
land in published ranges or equal their hand-worked sums, add up, use only the illustrative
factors their headers name, respond to parameters in the expected direction, and the demo
runs them. Also the first model of ``docs/models.md``."""

from __future__ import annotations

import itertools
import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from fixtures.in_process import openpcf
from openpcf.demo import EXAMPLES, examples_dir
from openpcf.services.calculate import calculate

REPO = Path(__file__).resolve().parents[1]
EXAMPLES_DIR = REPO / "examples"
STEEL = EXAMPLES_DIR / "hot_rolled_coil_hebei.yaml"
HYDROGEN = EXAMPLES_DIR / "hydrogen_alkaline_inner_mongolia.yaml"
BATTERY = EXAMPLES_DIR / "lfp_battery_pack.yaml"
STACK = EXAMPLES_DIR / "alkaline_electrolyser_stack.yaml"

#: DESNZ 2025 well-to-wheel defaults bundled in ``src/openpcf/logistics/data``, kg CO2e/tkm
#: (WTT + TTW): HGV articulated > 33 t average laden, container ship 8000+ TEU.
HGV = 0.01799 + 0.07703  # = 0.09502
CONTAINER = 0.00287 + 0.01266  # = 0.01553
#: examples/shipments/cn_eu_export_container.yaml per t: 300 + 500 km by road, 19,500 km by sea
EXPORT_PER_T = 800 * HGV + 19500 * CONTAINER  # = 76.016 + 302.835 = 378.851

#: Plausible totals, kg CO2e per declared unit (AR6).
#:
#: - Hot-rolled coil, BF-BOF, per t: 1,800-2,600. worldsteel puts the BF-BOF route at about
#:   2.2-2.3 t CO2 per t of crude steel (all-route 2022 average 1.91, Sustainability
#:   Indicators 2023); hot rolling adds ~0.1-0.2 t, upstream methane and freight a little more.
#: - Hydrogen, alkaline electrolysis on the Inner Mongolia grid, per kg: 25-55. The IEA
#:   (Future of Hydrogen 2019) and IRENA (2020) give 48-78 kWh/kg for alkaline systems; at
#:   0.6849 kg CO2/kWh that is 33-53 kg CO2 before allocation, less with an energy share < 1.
#:   J. Gerhardt-Mörsdorf, "Life Cycle Assessment of a 5 MW Polymer Exchange Membrane Water
#:   Electrolysis Plant" (abstract): 34 kg CO2-eq per kg H2 on the German grid mix.
#: - LFP pack, per kWh of capacity, cradle-to-grave: 60-200. Aichberger and Jungmeier, Energies
#:   13 (2020) 6345 (abstract, 50 LCAs): pack production median 120 kg CO2-eq/kWh, quartiles
#:   70-175; Ankathi et al., World Electr. Veh. J. 15 (2024) 245 (abstract): LFP 34-246;
#:   use-stage losses and end of life add some tens of kg.
#: The electrolyser stack has no published total here: it is checked against its hand sum
#: (:func:`test_stack_equals_hand_computation`).
RANGES = {
    "hot_rolled_coil_hebei.yaml": (1800.0, 2600.0),
    "hydrogen_alkaline_inner_mongolia.yaml": (25.0, 55.0),
    "lfp_battery_pack.yaml": (60.0, 200.0),
}

#: The illustrative factors each example uses (issue 12: at most one where open data allow;
#: the header says why each remains). Before the rework: steel 6, hydrogen 3, battery 9;
#: hydrogen and the stack reached 0 when class 1 nickel was derived from TianGong.
ILLUSTRATIVE = {
    "hot_rolled_coil_hebei.yaml": {"material.iron-ore.sinter-feed", "material.refractory"},
    "hydrogen_alkaline_inner_mongolia.yaml": set(),
    "lfp_battery_pack.yaml": {
        "material.battery.lfp-cathode",
        "material.battery.graphite-anode",
        "material.battery.electrolyte",
        "material.battery.copper-foil",
        "waste.battery.recycling.hydromet",
        "waste.battery.landfill",
    },
    "alkaline_electrolyser_stack.yaml": set(),
}


def total(path: Path, **overrides: str) -> float:
    return calculate(path, overrides=overrides).result.total


def header(path: Path) -> str:
    """The comment block a model file starts with."""
    text = path.read_text(encoding="utf-8")
    return "\n".join(itertools.takewhile(lambda line: line.startswith("#"), text.splitlines()))


@pytest.mark.parametrize("name", EXAMPLES)
def test_example_calculates_in_range_and_adds_up(name: str) -> None:
    """Every example validates and calculates; the total is in its published range (where
    there is one); stage totals sum to the total; it uses exactly the illustrative factors of
    :data:`ILLUSTRATIVE`, and the header comment names each of them and says how to run the
    file."""
    path = EXAMPLES_DIR / name
    calculation = calculate(path)
    result = calculation.result
    if name in RANGES:
        low, high = RANGES[name]
        assert low <= result.total <= high, f"{name}: {result.total:.4g} outside {low}-{high}"
    np.testing.assert_allclose(sum(result.by_stage.values()), result.total, rtol=1e-9)
    np.testing.assert_allclose(sum(p.total for p in result.processes), result.total, rtol=1e-9)
    text = header(path)
    assert f"openpcf calc examples/{name}" in text
    illustrative = [f.id for f in calculation.compiled.factors if f.illustrative]
    assert set(illustrative) == ILLUSTRATIVE[name]
    missing = [fid for fid in illustrative if fid not in text]
    assert not missing, f"{name}: header does not list illustrative factors {missing}"


def test_steel_stages_and_levers() -> None:
    """Cradle-to-gate: only raw material acquisition and production. More scrap in the BOF
    (cut-off: burden-free) lowers the footprint; more coke raises it; less surplus BF gas
    (a smaller natural-gas credit) raises it."""
    result = calculate(STEEL).result
    assert set(result.by_stage) == {"raw_material_acquisition", "production"}
    assert result.by_stage["production"] > result.by_stage["raw_material_acquisition"] > 0
    base = result.total
    assert total(STEEL, scrap_share="0.25") < base
    assert total(STEEL, coke_rate="400") > base
    assert total(STEEL, bfg_export_gj="1.0") > base


def test_hydrogen_equals_hand_computation() -> None:
    """Per kg H2, before allocation (AR6):

    - electricity 53 kWh x 0.6849 (MEE/NBS 2022, Inner Mongolia)         = 36.2997
    - nickel 0.0005 kg x 7.4838267 (cn.tiangong.nickel.class1.electrolytic:
      5.66622 kg CO2 + 0.0066579 kg N2O x 273 = 5.66622 + 1.8176067)       =  0.00374191
      sum                                                                  = 36.30344191
    (KOH and demineralised water are exclusions: no open factor.)
    Energy allocation: hydrogen 1 kg x 120 MJ, oxygen 0 MJ, heat 10 MJ x 1 -> share 120/130.
    Footprint = 36.30344191 x 120 / 130 = 33.51086946 kg CO2e/kg H2 (33.51341538 with the
    former illustrative nickel, 13 kg CO2e/kg; 33.52172692 before the first rework, with
    0.00500417 for water and 0.004 for KOH from placeholder factors).
    With the published electrode nickel of the stack inventory (Gerloff 2021 via premise),
    2,884.9 / 3,085,961.12 = 0.000934847 kg: 36.2997 + 0.000934847 x 7.4838267 = 36.2997 +
    0.00699623 = 36.30669623, x 120 / 130 = 33.51387344.
    """
    nickel = 5.66622 + 0.0066579 * 273
    np.testing.assert_allclose(nickel, 7.4838267, rtol=1e-9)
    before = 53 * 0.6849 + 0.0005 * nickel
    expected = before * 120 / 130
    np.testing.assert_allclose(expected, 33.51086946, rtol=1e-9)
    result = calculate(HYDROGEN).result
    np.testing.assert_allclose(result.total, expected, rtol=1e-9)
    np.testing.assert_allclose(result.by_stage["production"], expected, rtol=1e-9)
    sourced = (53 * 0.6849 + 2884.9 / 3085961.12 * nickel) * 120 / 130
    np.testing.assert_allclose(sourced, 33.51387344, rtol=1e-9)
    np.testing.assert_allclose(total(HYDROGEN, nickel_kg="2884.9 / 3085961.12"), sourced, rtol=1e-9)


def test_hydrogen_levers() -> None:
    """More electricity per kg raises the footprint; recovering 20 MJ of heat instead of 10
    moves the hydrogen share from 120/130 to 120/140."""
    base = total(HYDROGEN)
    assert total(HYDROGEN, kwh_per_kg="55") > base
    np.testing.assert_allclose(total(HYDROGEN, heat_recovered_mj="20"), base * 130 / 140, rtol=1e-9)


def test_hydrogen_switch_to_substitution(tmp_path: Path) -> None:
    """The header's recipe: replace 'method: energy' with 'method: substitution'.

    Burden 36.30344191 (above), minus credits: oxygen 15.999 / 2.016 = 7.93601 kg x 0.0975899 kg
    CO2e/kg (USLCI liquid oxygen, AR6: 0.0903864 CO2 + 0.000223065 CH4 x 29.8 + 2.03707e-06
    N2O x 273 + 0.000586768 biogenic - 0.000586768 uptake) = 0.774470; heat 10 MJ = 0.01 GJ of
    natural-gas heat x (56.1 + 0.001 x 29.8 + 0.0001 x 273) = 0.01 x 56.1571 = 0.561571.
    Footprint = 36.30344191 - 0.774470 - 0.561571 = 34.96740 (34.97016 with the former
    illustrative nickel).
    """
    text = HYDROGEN.read_text(encoding="utf-8")
    line = "      method: energy\n"
    assert text.count(line) == 1
    path = tmp_path / HYDROGEN.name
    path.write_text(text.replace(line, "      method: substitution\n"), encoding="utf-8")
    burden = 53 * 0.6849 + 0.0005 * (5.66622 + 0.0066579 * 273)
    oxygen = 0.0903864 + 0.000223065 * 29.8 + 2.03707e-06 * 273
    credit = 15.999 / 2.016 * oxygen + 0.01 * (56.1 + 0.001 * 29.8 + 0.0001 * 273)
    np.testing.assert_allclose(burden - credit, 34.96740, rtol=1e-6)
    np.testing.assert_allclose(total(path), burden - credit, rtol=1e-6)


def test_battery_stages_by_hand() -> None:
    """Per kWh of capacity (pack of 100 kWh, 676 kg):

    distribution = 0.676 t x 378.851 kg CO2e/t (:data:`EXPORT_PER_T`, the shipment file with
    DESNZ 2025 defaults) / 100 = 2.56103 (2.01448 before, with placeholder truck and ship);
    use = 100 kWh x 500 cycles x (1/0.95 - 1) x 0.6205 / 100 = 16.32895;
    end of life = 6.76 kg x (0.95 x 1 + 0.05 x 0.05 + 0.3 t km x 0.09502 per kg)
                = 6.76 x (0.9525 + 0.028506) = 6.63160.
    """
    result = calculate(BATTERY).result
    stages = result.by_stage
    assert set(stages) == {
        "raw_material_acquisition",
        "production",
        "distribution",
        "use",
        "end_of_life",
    }
    np.testing.assert_allclose(EXPORT_PER_T, 378.851, rtol=1e-9)
    np.testing.assert_allclose(stages["distribution"], 0.676 * EXPORT_PER_T / 100, rtol=1e-9)
    np.testing.assert_allclose(stages["use"], 100 * 500 * (1 / 0.95 - 1) * 0.6205 / 100, rtol=1e-9)
    np.testing.assert_allclose(stages["end_of_life"], 6.76 * (0.9525 + 0.3 * HGV), rtol=1e-9)
    np.testing.assert_allclose(stages["end_of_life"], 6.63160, rtol=1e-6)


def test_battery_levers() -> None:
    """More cell-production electricity or a worse round-trip efficiency raise the footprint;
    a bigger pack with the same per-kWh inputs but the same housing lowers it per kWh."""
    base = total(BATTERY)
    assert total(BATTERY, cell_kwh_per_kwh="50") > base
    assert total(BATTERY, round_trip_efficiency="0.90") > base
    assert total(BATTERY, pack_kwh="120") < base


def test_cli_param_override_direction() -> None:
    """``openpcf calc --param`` reaches the model: a higher scrap share lowers the steel
    footprint, through the real command line and its JSON output."""

    def cli_total(*extra: str) -> float:
        out = openpcf("calc", str(STEEL), "--format", "json", *extra)  # in this process
        out.check_returncode()
        return float(json.loads(out.stdout)["kg_co2e"])

    base = cli_total()
    np.testing.assert_allclose(base, total(STEEL), rtol=1e-9)
    assert cli_total("--param", "scrap_share=0.3") < base


def test_demo_runs() -> None:
    """``python -m openpcf.demo`` (what ``make demo`` runs) exits 0 and names all products."""
    out = subprocess.run(
        [sys.executable, "-m", "openpcf.demo"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    assert out.returncode == 0, out.stderr
    for product in (
        "Hot-rolled steel coil",
        "Hydrogen",
        "LFP battery pack",
        "Alkaline electrolyser",
    ):
        assert out.stdout.count(product) >= 2, product  # its table and its summary line


def test_demo_finds_examples_from_elsewhere(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """From a folder without ``examples/`` the demo falls back to the repository's."""
    monkeypatch.chdir(tmp_path)
    assert examples_dir().resolve() == EXAMPLES_DIR
    monkeypatch.chdir(REPO)
    assert examples_dir() == Path("examples")


def test_stack_equals_hand_computation() -> None:
    """One 5 MW stack, cradle-to-gate (AR6). Bill of materials: Gerloff (2021), 1 MW alkaline
    stack as transcribed in premise (lci-hydrogen-electrolysis.xlsx, "electrolyzer production,
    1MWe, AEC, Stack"; its cells hold 3 stacks, so one stack is a third), scaled by 5:

    - nickel 2,884.9 / 3 x 5 = 4,808.1667 kg x 7.4838267 (TianGong class 1
      nickel: 5.66622 CO2 + 0.0066579 N2O x 273)                         =  35,983.486
    - stainless (chromium steel 18/8) 20,194.4 / 3 x 5 = 33,657.333 kg
      x 7.786149 (USLCI 304 coil: 7.40526 CO2 + 0.0141341 CH4 x 29.8
      + 0.000143423 N2O x 273 - 0.0794614 uptake)                        = 262,061.021
    - assembly electricity 95,553.31568 / 3 x 5 = 159,255.526 kWh
      x 0.5978 (MEE/NBS 2022, Jiangsu)                                   =  95,202.954
      per stack                                                          = 393,247.461
      per MW = 393,247.461 / 5                                           =  78,649.492
    Not counted (no open factor): PTFE 144.2, polysulfone 48.8 and ZrO2 73 kg per 3 stacks.
    Mass = (2,884.9 + 20,194.4 + 144.2 + 48.8 + 73) / 3 x 5 = 38,908.833 kg; export freight
    (outside the model): 38.908833 t x 378.851 = 14,740.650 per stack. (The earlier example
    bill of materials gave 156,965.57 per stack, and the illustrative nickel of 13 kg CO2e/kg
    419,770.141.)
    """
    stainless = 7.40526 + 0.0141341 * 29.8 + 0.000143423 * 273 - 0.0794614
    nickel = 5.66622 + 0.0066579 * 273
    per_mw = 2884.9 / 3 * nickel + 20194.4 / 3 * stainless + 95553.31568 / 3 * 0.5978
    per_stack = 5 * per_mw
    np.testing.assert_allclose(per_stack, 393247.461, rtol=1e-8)
    np.testing.assert_allclose(per_mw, 78649.492, rtol=1e-8)
    calculation = calculate(STACK)
    result = calculation.result
    np.testing.assert_allclose(result.total, per_stack, rtol=1e-9)
    np.testing.assert_allclose(result.by_stage["production"], 95202.954, rtol=1e-8)
    np.testing.assert_allclose(total(STACK, stack_mw="1"), per_mw, rtol=1e-9)
    mass_t = (2884.9 + 20194.4 + 144.2 + 48.8 + 73) / 3 * 5 / 1000
    np.testing.assert_allclose(mass_t, 38.908833, rtol=1e-7)
    np.testing.assert_allclose(calculation.compiled.parameters["stack_kg"], mass_t * 1000)
    # the export freight the header quotes, from the shipment file it names
    out = openpcf(
        "transport",
        "calc",
        str(EXAMPLES_DIR / "shipments/cn_eu_export_container.yaml"),
        "--format",
        "json",
    )
    out.check_returncode()
    per_t = json.loads(out.stdout)["total"]["wtw_kg"]
    np.testing.assert_allclose(per_t, EXPORT_PER_T, rtol=1e-9)
    np.testing.assert_allclose(mass_t * per_t, 14740.650, rtol=1e-7)


def test_docs_first_model_equals_its_text(tmp_path: Path) -> None:
    """``docs/models.md`` "A first model": 1.2 kg x 2.552117 (TianGong hot-rolled coil) +
    1.08 kWh x 0.5978 (Jiangsu 2022) + 0.05 kg x 1.045080 (TianGong corrugated board: 1.04099
    CO2 + 9.00002e-06 CH4 x 29.8 + 1.4e-05 N2O x 273) = 3.062540 + 0.645624 + 0.052254 = 3.760418,
    which the page rounds to 3.760; no illustrative factor."""
    page = (REPO / "docs" / "models.md").read_text(encoding="utf-8")
    section = page.split("## A first model", 1)[1]
    block = re.search(r"```yaml\n(.*?)```", section, re.DOTALL)
    assert block
    path = tmp_path / "bracket.yaml"
    path.write_text(block.group(1), encoding="utf-8")
    calculation = calculate(path)
    board = 1.04099 + 9.00002e-06 * 29.8 + 1.4e-05 * 273
    expected = 1.2 * (1.889 + 0.002429 * 273) + 1.08 * 0.5978 + 0.05 * board
    np.testing.assert_allclose(expected, 3.760418, rtol=1e-6)
    np.testing.assert_allclose(calculation.result.total, expected, rtol=1e-6)
    assert "**3.760 kg CO2e per\npiece**" in section
    assert not [f.id for f in calculation.compiled.factors if f.illustrative]
