"""The three example models in ``examples/``: they validate, calculate, land in published
ranges, add up, respond to parameters in the expected direction, and the demo runs them."""

from __future__ import annotations

import itertools
import json
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

#: Plausible totals, kg CO2e per declared unit (AR6).
#:
#: - Hot-rolled coil, BF-BOF, per t: 1,800-2,600. worldsteel puts the BF-BOF route at about
#:   2.2-2.3 t CO2 per t of crude steel (all-route 2022 average 1.91, Sustainability
#:   Indicators 2023); hot rolling adds ~0.1-0.2 t, upstream methane and freight a little more.
#: - Hydrogen, alkaline electrolysis on the Inner Mongolia grid, per kg: 25-55. The IEA
#:   (Future of Hydrogen 2019) and IRENA (2020) give 48-78 kWh/kg for alkaline systems; at
#:   0.6849 kg CO2/kWh that is 33-53 kg CO2 before allocation, less with an energy share < 1.
#: - LFP pack, per kWh of capacity, cradle-to-grave: 60-200. Peters et al. (2017), Renewable and
#:   Sustainable Energy Reviews 67: 491-506, review Li-ion production studies with an average
#:   near 110 kg CO2e/kWh; use-stage losses and end of life add some tens of kg.
RANGES = {
    "hot_rolled_coil_hebei.yaml": (1800.0, 2600.0),
    "hydrogen_alkaline_inner_mongolia.yaml": (25.0, 55.0),
    "lfp_battery_pack.yaml": (60.0, 200.0),
}


def total(path: Path, **overrides: str) -> float:
    return calculate(path, overrides=overrides).result.total


def header(path: Path) -> str:
    """The comment block a model file starts with."""
    text = path.read_text(encoding="utf-8")
    return "\n".join(itertools.takewhile(lambda line: line.startswith("#"), text.splitlines()))


@pytest.mark.parametrize("name", EXAMPLES)
def test_example_calculates_in_range_and_adds_up(name):
    """Every example validates and calculates; the total is in its published range; stage
    totals sum to the total; the header comment names every illustrative factor used and
    says how to run the file."""
    path = EXAMPLES_DIR / name
    calculation = calculate(path)
    result = calculation.result
    low, high = RANGES[name]
    assert low <= result.total <= high, f"{name}: {result.total:.4g} outside {low}-{high}"
    np.testing.assert_allclose(sum(result.by_stage.values()), result.total, rtol=1e-9)
    np.testing.assert_allclose(sum(p.total for p in result.processes), result.total, rtol=1e-9)
    text = header(path)
    assert f"openpcf calc examples/{name}" in text
    illustrative = [f.id for f in calculation.compiled.factors if f.illustrative]
    assert illustrative, "each example uses some placeholder factors"
    missing = [fid for fid in illustrative if fid not in text]
    assert not missing, f"{name}: header does not list illustrative factors {missing}"


def test_steel_stages_and_levers():
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


def test_hydrogen_equals_hand_computation():
    """Per kg H2, before allocation (AR6; every factor here is CO2 or CO2e):

    - electricity 53 kWh x 0.6849 (MEE/NBS 2022, Inner Mongolia)         = 36.2997
    - demineralised water (18.015 / 2.016) x 1.12 = 10.00833 kg
      = 0.01000833 t x 0.5 kg CO2e/t                                      =  0.00500417
    - KOH 0.002 kg x 2 kg CO2e/kg                                         =  0.004
    - nickel 0.0005 kg x 13 kg CO2e/kg                                    =  0.0065
      sum                                                                  = 36.31520417
    Energy allocation: hydrogen 1 kg x 120 MJ, oxygen 0 MJ, heat 10 MJ x 1 -> share 120/130.
    Footprint = 36.31520417 x 120 / 130 = 33.52172692 kg CO2e/kg H2.
    """
    water_t = 18.015 / 2.016 * 1.12 / 1000
    before = 53 * 0.6849 + water_t * 0.5 + 0.002 * 2 + 0.0005 * 13
    expected = before * 120 / 130
    np.testing.assert_allclose(expected, 33.52172692, rtol=1e-9)
    result = calculate(HYDROGEN).result
    np.testing.assert_allclose(result.total, expected, rtol=1e-9)
    np.testing.assert_allclose(result.by_stage["production"], expected, rtol=1e-9)


def test_hydrogen_levers():
    """More electricity per kg raises the footprint; recovering 20 MJ of heat instead of 10
    moves the hydrogen share from 120/130 to 120/140."""
    base = total(HYDROGEN)
    assert total(HYDROGEN, kwh_per_kg="55") > base
    np.testing.assert_allclose(total(HYDROGEN, heat_recovered_mj="20"), base * 130 / 140, rtol=1e-9)


def test_hydrogen_switch_to_substitution(tmp_path):
    """The header's recipe: replace 'method: energy' with 'method: substitution'.

    Burden 36.31520417 (above), minus credits: oxygen (15.999 / 2.016) / 1.429 = 5.5535 Nm3 x
    0.27 kg CO2e/Nm3 = 1.49944; heat 10 MJ = 0.01 GJ of natural-gas heat x (56.1 + 0.001 x 29.8
    + 0.0001 x 273) = 0.01 x 56.1571 = 0.561571. Footprint = 34.2538.
    """
    text = HYDROGEN.read_text(encoding="utf-8")
    line = "      method: energy\n"
    assert text.count(line) == 1
    path = tmp_path / HYDROGEN.name
    path.write_text(text.replace(line, "      method: substitution\n"), encoding="utf-8")
    burden = 53 * 0.6849 + 18.015 / 2.016 * 1.12 / 1000 * 0.5 + 0.002 * 2 + 0.0005 * 13
    credit = 15.999 / 2.016 / 1.429 * 0.27 + 0.01 * (56.1 + 0.001 * 29.8 + 0.0001 * 273)
    np.testing.assert_allclose(total(path), burden - credit, rtol=1e-9)


def test_battery_stages_by_hand():
    """Per kWh of capacity (pack of 100 kWh, 676 kg):

    distribution = 0.676 t x (800 km x 0.08 + 19,500 km x 0.012) / 100 = 2.01448;
    use = 100 kWh x 500 cycles x (1/0.95 - 1) x 0.6205 / 100 = 16.32895;
    end of life = 6.76 kg x (0.95 x 1 + 0.05 x 0.05 + 0.3 tkm/t x 0.08 / 1000 x 1000)
                = 6.76 x (0.9525 + 0.024) = 6.60114.
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
    np.testing.assert_allclose(
        stages["distribution"], 0.676 * (800 * 0.08 + 19500 * 0.012) / 100, rtol=1e-9
    )
    np.testing.assert_allclose(stages["use"], 100 * 500 * (1 / 0.95 - 1) * 0.6205 / 100, rtol=1e-9)
    np.testing.assert_allclose(stages["end_of_life"], 6.76 * (0.9525 + 0.024), rtol=1e-9)


def test_battery_levers():
    """More cell-production electricity or a worse round-trip efficiency raise the footprint;
    a bigger pack with the same per-kWh inputs but the same housing lowers it per kWh."""
    base = total(BATTERY)
    assert total(BATTERY, cell_kwh_per_kwh="50") > base
    assert total(BATTERY, round_trip_efficiency="0.90") > base
    assert total(BATTERY, pack_kwh="120") < base


def test_cli_param_override_direction():
    """``openpcf calc --param`` reaches the model: a higher scrap share lowers the steel
    footprint, through the real command line and its JSON output."""

    def cli_total(*extra: str) -> float:
        out = openpcf("calc", str(STEEL), "--format", "json", *extra)  # in this process
        out.check_returncode()
        return float(json.loads(out.stdout)["kg_co2e"])

    base = cli_total()
    np.testing.assert_allclose(base, total(STEEL), rtol=1e-9)
    assert cli_total("--param", "scrap_share=0.3") < base


def test_demo_runs():
    """``python -m openpcf.demo`` (what ``make demo`` runs) exits 0 and names all products."""
    out = subprocess.run(
        [sys.executable, "-m", "openpcf.demo"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    assert out.returncode == 0, out.stderr
    for product in ("Hot-rolled steel coil", "Hydrogen", "LFP battery pack"):
        assert out.stdout.count(product) >= 2, product  # its table and its summary line


def test_demo_finds_examples_from_elsewhere(tmp_path, monkeypatch):
    """From a folder without ``examples/`` the demo falls back to the repository's."""
    monkeypatch.chdir(tmp_path)
    assert examples_dir().resolve() == EXAMPLES_DIR
    monkeypatch.chdir(REPO)
    assert examples_dir() == Path("examples")
