"""``openpcf compare``: two methodologies, and the difference decomposed by choice.

The small model throughout (hand-made factor set, so every number can be checked by hand):
process ``main`` makes 1 kg of ``widget`` (mass 1 kg, energy 30 MJ) and 1 unit of ``by``
(mass 3 kg, energy 10 MJ) from 10 kWh of ``t.power``, which emits 0.5 kg CO2-fossil and
0.1 kg CH4-fossil per kWh.

- allocation shares of the widget: energy 30 / (30 + 10) = 0.75; mass 1 / (1 + 3) = 0.25;
- CO2e per kWh: AR6 (CH4-fossil 29.8) 0.5 + 0.1 x 29.8 = 3.48; AR5 (30) 0.5 + 3.0 = 3.5.

A = energy allocation, AR6; B = mass allocation, AR5:

- f(A) = 10 x 0.75 x 3.48 = 26.1;  f(B) = 10 x 0.25 x 3.5 = 8.75;  difference -17.35
- gwp alone (energy, AR5): 10 x 0.75 x 3.5 = 26.25, effect +0.15
- allocation alone (mass, AR6): 10 x 0.25 x 3.48 = 8.7, effect -17.4
- interaction = -17.35 - (0.15 - 17.4) = -0.1
  (= 10 x (0.25 - 0.75) x (3.5 - 3.48) = 10 x -0.5 x 0.02: the product of both changes)
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from openpcf.errors import InputError
from openpcf.rules.apply import Methodology
from openpcf.rules.compare import DIMENSIONS, decompose, parse_side
from openpcf.services.compare import compare_methodologies

ROOT = Path(__file__).resolve().parents[1]
HYDROGEN = ROOT / "examples" / "hydrogen_alkaline_inner_mongolia.yaml"
CLAIMS = ROOT / "examples" / "electricity" / "inner_mongolia_wind_gec.yaml"
OPENPCF = Path(sys.executable).parent / "openpcf"

FACTORS = """
factors:
  - {id: t.power, name: test power, unit: kWh, category: electricity, geography: GLO,
     year: 2024, source: hand-made test factor, licence: CC0,
     emissions: {CO2-fossil: 0.5, CH4-fossil: 0.1}}
"""

MODEL = """\
openpcf: 1
product:
  name: Widget
  ids: [urn:openpcf:product:widget]
  declared_unit: kilogram
  mass_per_declared_unit: 1
  reference_period: {start: 2024-01-01, end: 2024-12-31}
boundary: cradle-to-gate
reference_process: main
gwp: AR6
factor_sets: [factors.yaml]
processes:
  - id: main
    name: Making widgets
    stage: production
    output: {product: widget, amount: 1, unit: kg, mass: 1, energy: 30}
    co_products:
      - {product: by, amount: 1, unit: kg, mass: 3, energy: 10}
    allocation: {method: energy, justification: test}
    inputs:
      - {factor: t.power, amount: 10, unit: kWh}
"""


@pytest.fixture
def model(tmp_path: Path) -> Path:
    (tmp_path / "factors.yaml").write_text(FACTORS, encoding="utf-8")
    path = tmp_path / "model.yaml"
    path.write_text(MODEL, encoding="utf-8")
    return path


def test_two_dimensions_with_interaction(model: Path) -> None:
    """The numbers of the module docstring; effects + interaction = difference exactly."""
    c = compare_methodologies(model, {}, {"allocation": "mass", "gwp": "AR5"})
    assert c.a_total == pytest.approx(26.1, rel=1e-12)
    assert c.b_total == pytest.approx(8.75, rel=1e-12)
    assert c.difference == pytest.approx(-17.35, rel=1e-12)
    assert [e.dimension for e in c.effects] == ["gwp", "allocation"]  # the fixed order
    gwp, allocation = c.effects
    assert gwp.switched_total == pytest.approx(26.25, rel=1e-12)
    assert gwp.effect == pytest.approx(0.15, rel=1e-9)
    assert allocation.switched_total == pytest.approx(8.7, rel=1e-12)
    assert allocation.effect == pytest.approx(-17.4, rel=1e-12)
    assert c.interaction == pytest.approx(-0.1, rel=1e-9)
    assert c.interaction == pytest.approx(10 * (0.25 - 0.75) * (3.5 - 3.48), rel=1e-9)
    # exact: the parts sum to the difference to the rounding of a float
    assert abs(gwp.effect + allocation.effect + c.interaction - c.difference) <= 1e-12 * 26.1
    assert c.explained == pytest.approx(c.difference, rel=1e-15, abs=1e-15)
    assert gwp.share == pytest.approx(0.15 / -17.35)
    assert allocation.a_value == "as written (main: energy)"
    assert allocation.b_value == "every process: mass"
    assert gwp.a_value == "as written (AR6)"
    assert gwp.b_value == "AR5"


def test_order_does_not_change_numbers(model: Path) -> None:
    """Swapping the sides negates the difference; each effect is then measured from the other
    side, and the parts still sum exactly."""
    c = compare_methodologies(model, {"allocation": "mass", "gwp": "AR5"}, {})
    assert c.difference == pytest.approx(17.35, rel=1e-12)
    # from B: gwp back to AR6 at mass: 8.7 - 8.75 = -0.05; energy at AR5: 26.25 - 8.75 = 17.5
    assert [e.effect for e in c.effects] == pytest.approx([-0.05, 17.5], rel=1e-9)
    assert c.interaction == pytest.approx(17.35 - 17.45, rel=1e-9)
    assert c.explained == pytest.approx(c.difference, rel=1e-15)


def test_one_dimension_has_no_interaction(model: Path) -> None:
    c = compare_methodologies(model, ["allocation=energy"], ["allocation=mass"])
    assert [e.dimension for e in c.effects] == ["allocation"]
    assert c.effects[0].effect == pytest.approx(8.7 - 26.1, rel=1e-12)
    assert c.interaction == 0.0
    assert c.effects[0].share == pytest.approx(1.0)


def test_identical_methodologies(model: Path) -> None:
    c = compare_methodologies(model, {"gwp": "AR5"}, {"gwp": "ar5"})
    assert c.effects == ()
    assert c.difference == 0.0
    assert c.interaction == 0.0
    assert c.interaction_share is None
    same = compare_methodologies(model, {}, {})
    assert same.a_total == same.b_total == pytest.approx(26.1)
    assert same.a_description == ("the model as written",)


def test_decompose_pure_and_boundary_dimension() -> None:
    """The domain function with a hand-written f: three dimensions, interaction by hand.

    f = allocation share x CO2e per kWh x 10, plus 5 kg of use stage when the boundary is
    cradle-to-grave. A: energy (0.75), AR6 (3.48), cradle-to-grave; B: mass (0.25), AR5 (3.5),
    cradle-to-gate. f(A) = 26.1 + 5 = 31.1; f(B) = 8.75; effects: gwp +0.15, allocation
    -17.4, boundary -5; interaction = -22.35 - (-22.25) = -0.1.
    """
    share = {"energy": 0.75, "mass": 0.25}
    co2e = {"AR6": 3.48, "AR5": 3.5}
    calls: list[Methodology] = []

    def f(m: Methodology) -> float:
        calls.append(m)
        use = 5.0 if m.boundary == "cradle-to-grave" else 0.0
        return 10 * share[m.allocation["*"]] * co2e[m.gwp or "AR6"] + use

    a = Methodology(allocation={"*": "energy"}, gwp="AR6", boundary="cradle-to-grave")
    b = Methodology(allocation={"*": "mass"}, gwp="AR5", boundary="cradle-to-gate")
    c = decompose(a, b, f)
    assert [e.dimension for e in c.effects] == ["gwp", "allocation", "boundary"]
    assert [e.effect for e in c.effects] == pytest.approx([0.15, -17.4, -5.0], rel=1e-9)
    assert c.interaction == pytest.approx(-0.1, rel=1e-9)
    assert c.difference == pytest.approx(8.75 - 31.1, rel=1e-12)
    assert c.explained == pytest.approx(c.difference, rel=1e-15)
    assert len(calls) == 5  # A, B and one per differing dimension
    assert [d.name for d in DIMENSIONS] == [
        "factors",
        "gwp",
        "allocation",
        "electricity",
        "recycled content",
        "cut-off",
        "boundary",
    ]


def test_parse_side_errors() -> None:
    side = parse_side(["rules=x@1", "allocation.main=mass", "cutoff=1/5", "recycled=cff"])
    assert side.rules == "x@1"
    assert dict(side.methodology.allocation) == {"main": "mass"}
    assert side.methodology.cutoff_percent == 1.0
    assert side.methodology.cutoff_total_percent == 5.0
    for bad, word in [
        ("colour=red", "unknown key 'colour'"),
        ("allocation=volume", "allocation method 'volume'"),
        ("gwp=AR9", "Unknown GWP set"),
        ("electricity=green", "location, market or market:CLAIMS.yaml"),
        ("electricity=market:nowhere.yaml", "no such electricity claims file"),
        ("cutoff=lots", "PERCENT"),
        ("boundary=moon", "boundary 'moon'"),
        ("factors=missing.csv", "no such factor set file"),
        ("gwp", "KEY=VALUE"),
    ]:
        with pytest.raises(InputError, match=word):
            parse_side([bad], option="--b")


def test_cli_json_and_report(model: Path, tmp_path: Path) -> None:
    from openpcf.cli.main import app

    report = tmp_path / "compare.html"
    args = ["compare", str(model), "--b", "allocation=mass", "--b", "gwp=AR5"]
    result = CliRunner().invoke(app, [*args, "--json", "--report", str(report)])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["a"]["total"] == pytest.approx(26.1)
    assert data["b"]["total"] == pytest.approx(8.75)
    assert [e["dimension"] for e in data["effects"]] == ["gwp", "allocation"]
    assert [e["effect"] for e in data["effects"]] == pytest.approx([0.15, -17.4], rel=1e-9)
    assert data["interaction"] == pytest.approx(-0.1, rel=1e-9)
    assert data["sum_of_effects"] == pytest.approx(data["difference"], rel=1e-15)
    page = report.read_text(encoding="utf-8")
    assert "<svg" in page
    assert "waterfall" in page
    assert "interaction" in page
    assert "http://" not in page.replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert "<script" not in page
    table = CliRunner().invoke(app, args)
    assert table.exit_code == 0, table.output
    assert "sum of effects = difference: -17.3500 = -17.3500" in table.output
    assert "interaction" in table.output
    svg = tmp_path / "w.svg"
    assert CliRunner().invoke(app, [*args, "--report", str(svg)]).exit_code == 0
    assert svg.read_text(encoding="utf-8").startswith("<?xml")


def test_cli_bad_key_exits_2(model: Path) -> None:
    from openpcf.cli.main import app

    helped = CliRunner().invoke(app, ["compare", "--help"])
    assert helped.exit_code == 0, helped.output
    assert "allocation.PROCESS=METHOD" in helped.output

    result = CliRunner().invoke(app, ["compare", str(model), "--b", "colour=red"])
    assert result.exit_code == 2
    assert "unknown key 'colour'" in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_cli_bad_process_exits_2_without_traceback(model: Path) -> None:
    """An unknown process is found only when the model is read: the console script's error
    translation gives exit 2 and one line."""
    run = subprocess.run(
        [str(OPENPCF), "compare", str(model), "--b", "allocation.nope=mass"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 2, run.stderr
    assert "process 'nope'" in run.stderr
    assert "Traceback" not in run.stderr + run.stdout


# -- the worked example of docs/compare.md ----------------------------------------------------

#: hand check (docs/compare.md): per kg H2 before allocation, location-based
#: 53 kWh x 0.6849 + 0.0005 kg Ni x 7.4838267 (TianGong class 1 nickel, AR6: 5.66622 CO2
#: + 0.0066579 N2O x 273) = 36.2997 + 0.00374191 = 36.30344191 kg CO2e;
#: market-based 53 x 0.4 x 0.5856 + 0.00374191 = 12.41472 + 0.00374191 = 12.41846191
NICKEL = 0.0005 * (5.66622 + 0.0066579 * 273)
LOCATION = 53 * 0.6849 + NICKEL
MARKET = 53 * (1 - 31_800 / 53_000) * 0.5856 + NICKEL
ENERGY = 120 / 130
MASS = 1 / (1 + 15.999 / 2.016)


def test_hydrogen_worked_example() -> None:
    c = compare_methodologies(
        HYDROGEN,
        {},
        ["allocation=mass", f"electricity=market:{CLAIMS}"],
    )
    assert c.a_total == pytest.approx(ENERGY * LOCATION, rel=1e-9)
    assert c.b_total == pytest.approx(MASS * MARKET, rel=1e-9)
    allocation, electricity = c.effects
    assert allocation.dimension == "allocation"
    assert electricity.dimension == "electricity"
    assert allocation.effect == pytest.approx((MASS - ENERGY) * LOCATION, rel=1e-9)
    assert electricity.effect == pytest.approx(ENERGY * (MARKET - LOCATION), rel=1e-9)
    assert c.interaction == pytest.approx((MASS - ENERGY) * (MARKET - LOCATION), rel=1e-9)
    # the rounded figures printed in docs/compare.md
    assert round(c.a_total, 4) == 33.5109
    assert round(c.b_total, 4) == 1.3897
    assert round(c.difference, 4) == -32.1212
    assert round(allocation.effect, 4) == -29.4483
    assert round(electricity.effect, 4) == -22.0477
    assert round(c.interaction, 4) == 19.3748
    assert c.explained == pytest.approx(c.difference, rel=1e-15)
    doc = (ROOT / "docs" / "compare.md").read_text(encoding="utf-8")
    for figure in ("33.5109", "1.3897", "-32.1212", "-29.4483", "-22.0477", "+19.3748"):
        assert figure in doc


def test_hydrogen_rule_set_needs_prices() -> None:
    """The hydrogen rule set prescribes economic allocation of oxygen; the example gives no
    prices, so that side is refused with the model line (docs/compare.md says why)."""
    with pytest.raises(InputError, match="needs price"):
        compare_methodologies(HYDROGEN, {}, {"rules": "hydrogen.electrolysis"})
