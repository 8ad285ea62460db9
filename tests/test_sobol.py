"""Sobol indices (SALib) after screening, against values worked out by hand."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from openpcf.cli.main import app
from openpcf.errors import InputError
from openpcf.model.montecarlo import Sampler, recompiler
from openpcf.model.sobol import sobol
from openpcf.services.calculate import calculate
from openpcf.services.uncertainty import uncertainty

HEAD = """openpcf: 1
product:
  name: Widget
  ids: [urn:openpcf:product:widget]
  declared_unit: kilogram
  mass_per_declared_unit: 1
  reference_period: {start: 2024-01-01, end: 2024-12-31}
boundary: cradle-to-gate
reference_process: make
processes:
  - id: make
    name: Make
    stage: production
    output: {product: widget, amount: 1, unit: kg}
    emissions:
"""
E = "      - {gas: CO2-fossil, "
X1 = E + "amount: 2, unit: kg, uncertainty: {distribution: uniform, min: 1, max: 4}}\n"
X2 = (
    "      - {gas: CO2-fossil, amount: 2, unit: kg, uncertainty: {distribution: normal, sd: 0.5}}\n"
)
X3 = (
    "      - {gas: CO2-fossil, amount: 1000, unit: g,"
    " uncertainty: {distribution: uniform, min: 500, max: 1500}}\n"
)
TINY = E + "amount: 1, unit: kg, uncertainty: {distribution: normal, sd: 0.001}}\n"
ADDITIVE = HEAD + X1 + X2 + X3
KEYS = ("make/gas:CO2-fossil", "make/gas:CO2-fossil#1", "make/gas:CO2-fossil#2")


def write(tmp_path: Path, text: str, name: str = "m.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def sampler(path: Path) -> Sampler:
    calc = calculate(path)
    return Sampler(calc.compiled, recompiler(calc.compiled))


def test_sobol_of_an_additive_model_equals_the_analytic_values(tmp_path: Path) -> None:
    """T = 1 kg CO2e/kg CO2 x (X1 + X2 + a3 X3), independent inputs, GWP of CO2 = 1:
    X1 uniform [1, 4] kg: Var = (4 - 1)² / 12 = 0.75;
    X2 normal, mean 2 kg, sd 0.5: Var = 0.25;
    X3 uniform [500, 1500] g with a3 = 0.001 kg/g: Var(a3 X3) = (1.5 - 0.5)² / 12 = 1/12.
    Var T = 0.75 + 0.25 + 1/12 = 13/12. An additive model has no interactions, so
    S1_i = ST_i = Var(a_i X_i) / Var T: 0.75 / (13/12) = 9/13 = 0.6923077,
    0.25 / (13/12) = 3/13 = 0.2307692, (1/12) / (13/12) = 1/13 = 0.0769231.
    E[T] = 2.5 + 2 + 1 = 5.5."""
    exact = dict(zip(KEYS, (9 / 13, 3 / 13, 1 / 13), strict=True))
    result = sobol(sampler(write(tmp_path, ADDITIVE)), seed=2024, n=1024, top=10)
    assert result.evaluations == 1024 * (3 + 2)
    assert result.screened_out == {}
    assert [i.key for i in result.indices] == list(KEYS)  # by decreasing ST
    assert result.variance == pytest.approx(13 / 12, rel=0.05)
    assert result.mean == pytest.approx(5.5, rel=0.01)
    for i in result.indices:
        assert i.share == pytest.approx(exact[i.key], rel=1e-6)  # the screening: analytic
        assert abs(i.s1 - exact[i.key]) <= min(i.s1_conf, 0.05)
        assert abs(i.st - exact[i.key]) <= min(i.st_conf, 0.05)
        assert 0 < i.s1_conf < 0.1
        assert 0 < i.st_conf < 0.1


def test_same_seed_same_indices(tmp_path: Path) -> None:
    s = sampler(write(tmp_path, ADDITIVE))
    a, b = (sobol(s, seed=7, n=64) for _ in range(2))
    c = sobol(s, seed=8, n=64)
    assert a == b
    assert [i.s1 for i in a.indices] != [i.s1 for i in c.indices]


def test_screening_drops_a_negligible_input(tmp_path: Path) -> None:
    """A fourth input, normal sd 0.001 kg: Var 1e-6, analytic share 1e-6 / (13/12 + 1e-6) =
    9.230761e-7; with --top 3 it is held at its median and reported with that share."""
    path = write(tmp_path, ADDITIVE + TINY)
    result = sobol(sampler(path), seed=1, n=64, top=3)
    assert [i.key for i in result.indices] == list(KEYS)
    assert list(result.screened_out) == ["make/gas:CO2-fossil#3"]
    assert result.screened_out["make/gas:CO2-fossil#3"] == pytest.approx(9.230761e-7, rel=1e-5)
    out = CliRunner().invoke(
        app, ["uncertainty", str(path), "--sobol", "--sobol-n", "64", "--seed", "1", "--top", "3"]
    )
    assert out.exit_code == 0, out.output
    assert "screened out" in out.output
    assert "make/gas:CO2-fossil#3 (9.2e-07)" in out.output
    assert "Monte Carlo" not in out.output  # --seed with --sobol seeds the Sobol run only


def test_sobol_of_a_parameter(tmp_path: Path) -> None:
    """T = k + X1 with k a parameter uniform [0, 3]: Var k = 9/12 = 0.75 = Var X1, so both
    indices are 1/2 (the parameter path recompiles per point)."""
    text = (
        HEAD.replace("processes:", "parameters: {k: 1.5}\nprocesses:")
        + X1
        + "      - {gas: CO2-fossil, amount: k, unit: kg}\n"
        + "parameter_uncertainty: {k: {distribution: uniform, min: 0, max: 3}}\n"
    )
    result = sobol(sampler(write(tmp_path, text)), seed=3, n=32)
    assert {i.key for i in result.indices} == {"make/gas:CO2-fossil", "parameter:k"}
    for i in result.indices:
        assert i.share == pytest.approx(0.5, rel=1e-6)
        assert abs(i.st - 0.5) <= 0.1


def test_cli_json_and_clear_errors(tmp_path: Path) -> None:
    runner = CliRunner()
    path = str(write(tmp_path, ADDITIVE))
    out = runner.invoke(app, ["uncertainty", path, "--sobol", "--sobol-n", "32", "--json"])
    assert out.exit_code == 0, out.output
    doc = json.loads(out.output)["sobol"]
    assert doc["n"] == 32
    assert doc["evaluations"] == 32 * 5
    assert isinstance(doc["seed"], int)
    assert [i["input"] for i in doc["indices"]] == list(KEYS)
    assert set(doc["indices"][0]) == {
        "input",
        "label",
        "analytic_share",
        "S1",
        "S1_conf",
        "ST",
        "ST_conf",
    }
    assert doc["indices"][0]["label"] == KEYS[0]  # the model's own inputs: their key
    bad = runner.invoke(app, ["uncertainty", path, "--sobol", "--sobol-n", "100"])
    assert bad.exit_code != 0
    assert isinstance(bad.exception, InputError)
    assert "power of 2" in str(bad.exception)  # `openpcf` prints it as one line (cli.main.run)
    plain = str(
        write(tmp_path, HEAD + "      - {gas: CO2-fossil, amount: 1, unit: kg}\n", "p.yaml")
    )
    none = runner.invoke(app, ["uncertainty", plain, "--sobol"])
    assert none.exit_code != 0
    assert isinstance(none.exception, InputError)
    assert "no uncertain inputs" in str(none.exception)
    with pytest.raises(InputError, match="no uncertain inputs"):
        uncertainty(plain, sobol_indices=True)


def test_missing_salib_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("SALib", "SALib.analyze", "SALib.sample"):
        monkeypatch.setitem(sys.modules, name, None)  # `import` raises ImportError
    with pytest.raises(InputError, match=r"openpcf\[sensitivity\]"):
        sobol(sampler(write(tmp_path, ADDITIVE)), seed=1, n=8)
