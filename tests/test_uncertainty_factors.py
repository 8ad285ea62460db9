"""Factor rows with a distribution (the optional stats_arrays columns of a factor set), worked
out by hand.

A model makes 1 kg of widget from 3 kg of ``my.steel`` (2.0 kg CO2 fossil per kg, normal sd
0.2) and 10 kWh of ``my.power`` (0.5 kg CO2 fossil per kWh, lognormal σ 0.1, ``loc`` left
empty: the median is the amount). AR6 weighs CO2 fossil 1, so ``T = 3 x + 10 y``, exact to
first order: ``E[T] = 3 x 2 + 10 x 0.5 e^0.005 = 11.0250626``; ``Var[T] = 3² x 0.2² + 10² x
0.25 e^0.01 (e^0.01 − 1) = 0.36 + 0.2537813 = 0.6137813``, sd 0.7834426; deterministic 11.
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from openpcf.errors import FactorSetError
from openpcf.factors import bundled_factor_set
from openpcf.factors.loading import load_factor_set, parse_factor_text
from openpcf.package.rows import checked_rows_csv
from openpcf.services.uncertainty import uncertainty

HEADER = (
    "id,name,unit,category,geography,year,source,licence,"
    "uncertainty_type,loc,scale,minimum,maximum,uncertainty_gas,CO2-fossil,CH4-fossil\n"
)
ROWS = (
    "my.steel,Steel,kg,material,GLO,2024,Test source table 1,CC0,3,,0.2,,,,2.0,\n"
    "my.power,Power,kWh,electricity,GLO,2024,Test source table 2,CC0,2,,0.1,,,,0.5,\n"
    "my.plain,Plain,kg,material,GLO,2024,Test source table 3,CC0,,,,,,,1.0,\n"
)
MODEL = """\
openpcf: 1
product:
  name: Widget
  ids: [urn:openpcf:product:widget]
  declared_unit: kilogram
  mass_per_declared_unit: 1
  reference_period: {start: 2024-01-01, end: 2024-12-31}
boundary: cradle-to-gate
reference_process: make
factor_sets: [factors.csv]
processes:
  - id: make
    name: Make
    stage: production
    output: {product: widget, amount: 1, unit: kg}
    inputs:
      - {factor: my.steel, amount: 3, unit: kg}
      - {factor: my.power, amount: 10, unit: kWh}
"""
MEAN = 6 + 10 * 0.5 * math.exp(0.005)  # 11.0250626
SD = math.sqrt(0.36 + 100 * 0.25 * math.exp(0.01) * math.expm1(0.01))  # 0.7834426


def model(tmp_path: Path) -> Path:
    (tmp_path / "factors.csv").write_text(HEADER + ROWS, encoding="utf-8")
    path = tmp_path / "model.yaml"
    path.write_text(MODEL, encoding="utf-8")
    return path


def test_rows_read_their_distribution(tmp_path: Path) -> None:
    """The columns give the row's distribution (loc empty: the amount); a row without them
    has none and hashes as before (no ``uncertainty`` key in its canonical form)."""
    path = tmp_path / "f.csv"
    path.write_text(HEADER + ROWS, encoding="utf-8")
    rows = load_factor_set(path)
    steel, power, plain = (rows.get(i) for i in ("my.steel", "my.power", "my.plain"))
    assert steel.uncertainty is not None
    assert power.uncertainty is not None
    assert (steel.uncertainty.name, steel.uncertainty.loc, steel.uncertainty.scale) == (
        "normal",
        2.0,
        0.2,
    )
    assert power.uncertainty.loc == pytest.approx(math.log(0.5), rel=1e-15)
    assert (steel.uncertainty_gas, power.uncertainty_gas) == ("CO2-fossil", "CO2-fossil")
    assert plain.uncertainty is None
    assert "uncertainty" not in plain.canonical()
    assert steel.canonical()["uncertainty"]["scale"] == 0.2


def test_bundled_rows_carry_no_invented_distribution() -> None:
    """No bundled row has a distribution: none of their sources is read for one yet."""
    assert all(f.uncertainty is None for f in bundled_factor_set().factors.values())


def test_analytic_and_monte_carlo_by_hand(tmp_path: Path) -> None:
    """Analytic mean 11.0250626 and sd 0.7834426 (module docstring), exact; Monte Carlo's
    mean within 4 standard errors, its sd within 4 standard errors of an sd."""
    result = uncertainty(model(tmp_path), monte_carlo=True, seed=5)
    a, mc = result.analytic, result.monte_carlo
    assert mc is not None
    assert result.calculation.result.total == pytest.approx(11.0, rel=1e-12)
    assert a.mean == pytest.approx(MEAN, rel=1e-12)
    assert a.sd == pytest.approx(SD, rel=1e-12)
    assert set(a.contributions) == {"factor:my.steel", "factor:my.power"}
    assert a.contributions["factor:my.steel"] == pytest.approx(0.36 / SD**2, rel=1e-9)
    assert abs(mc.mean - MEAN) < 4 * mc.standard_error
    assert abs(mc.sd - SD) < 4 * SD / math.sqrt(2 * mc.iterations)


def test_a_package_keeps_the_distributions(tmp_path: Path) -> None:
    """The package's ``rows.csv`` writes the columns and every row reloads exactly."""
    path = tmp_path / "f.csv"
    path.write_text(HEADER + ROWS, encoding="utf-8")
    rows = load_factor_set(path)
    text = checked_rows_csv(list(rows.factors.values()))
    assert "uncertainty_type" in text.splitlines()[0]
    reloaded = parse_factor_text(text, label="rows.csv", set_name="rows", fmt="csv")
    assert reloaded.get("my.power").canonical() == rows.get("my.power").canonical()
    plain = checked_rows_csv([rows.get("my.plain")])
    assert "uncertainty_type" not in plain.splitlines()[0]


@pytest.mark.parametrize(
    ("cells", "message"),
    [
        ("7,,0.2,,,", r"line 2: uncertainty_type is '7'.*2 \(lognormal\)"),
        (",,0.2,,,", r"line 2: \['scale'\] given without uncertainty_type"),
        ("3,,-0.2,,,", r"line 2: normal sd -0.2 must be a finite number >= 0"),
        ("4,,,3,1,", r"line 2: uniform needs min < max"),
        ("3,,0.2,,,N2O", r"line 2: uncertainty_gas 'N2O' is not one of the row's gases"),
        ("3,x,0.2,,,", r"line 2: loc is 'x', not a number"),
    ],
)
def test_impossible_distributions_are_refused(cells: str, message: str) -> None:
    """Each impossible distribution: an error naming the file, the line and what to fix."""
    row = f"my.bad,Bad,kg,material,GLO,2024,Src,CC0,{cells},2.0,\n"
    with pytest.raises(FactorSetError, match=message):
        parse_factor_text(HEADER + row, label="f.csv", set_name="f", fmt="csv")


def test_several_gases_need_the_gas_named() -> None:
    """A row with two gas amounts must name the one its distribution describes."""
    row = "my.two,Two,kg,material,GLO,2024,Src,CC0,3,,0.1,,,,2.0,0.01\n"
    with pytest.raises(FactorSetError, match=r"uncertainty_gas '' is not one of"):
        parse_factor_text(HEADER + row, label="f.csv", set_name="f", fmt="csv")
    named = row.replace(",,,,2.0", ",,,CH4-fossil,2.0")
    found = parse_factor_text(HEADER + named, label="f.csv", set_name="f", fmt="csv")
    assert found.get("my.two").uncertainty_gas == "CH4-fossil"
