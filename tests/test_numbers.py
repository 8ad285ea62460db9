"""Issue 11, item 11: numbers that cannot be right are refused, or carry a warning.

- a loop of processes that consumes more than it produces (a negative footprint, exit 0 and
  "valid" before) is refused with exit 3, naming the loop;
- a nearly singular system is calculated with a warning that gives the condition number;
- booleans are not amounts (YAML reads ``yes`` as true, pydantic turned it into 1);
- PACT decimals must match PACT's Decimal pattern (``Decimal("1_000")`` is 1000 in Python).
"""

from __future__ import annotations

import copy
import doctest
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import scipy.sparse as sp

from fixtures.in_process import openpcf
from openpcf.core.loops import check_productive
from openpcf.core.solver import Factorisation
from openpcf.errors import ModelFileError, UnproductiveSystemError
from openpcf.exchange import vocabulary
from openpcf.exchange.catenax import CatenaXMappingError, catenax_pcf
from openpcf.exchange.errors import SupplierFootprintError
from openpcf.exchange.supplier import supplier_factor

FIXTURES = Path(__file__).parent / "fixtures"

LOOP = """
processes:
  - id: main
    name: Main
    stage: production
    output: {{product: x, amount: 1, unit: kg}}
    inputs: [{{process: loop, amount: {a}, unit: kg}}]
    emissions: [{{gas: CO2-fossil, amount: 1, unit: kg}}]
  - id: loop
    name: Loop
    stage: production
    output: {{product: y, amount: 1, unit: kg}}
    inputs: [{{process: main, amount: {b}, unit: kg}}]
    emissions: [{{gas: CO2-fossil, amount: 1, unit: kg}}]
"""


# --- loops that consume more than they produce ----------------------------------------------


def test_item11_unproductive_loop_is_refused_by_calc_and_validate(
    write_model: Callable[..., Path],
) -> None:
    """main needs 1 kg of y per kg of x, loop needs 2 kg of x per kg of y.

    ``A = [[1, -2], [-1, 1]]`` is regular (det -1) and ``s = A⁻¹ [1, 0] = [-1, -1]``: the total
    was ``-1 - 1 = -2`` kg CO2e with exit code 0, and ``validate`` said "valid". The loop gain
    is ``ρ([[0, 1], [2, 0]]) = √2 ≥ 1``.
    """
    path = write_model(LOOP.format(a=1, b=2))
    for command in ("calc", "validate"):
        out = openpcf(command, str(path))
        assert out.returncode == 3, out.stdout
        assert "'main', 'loop' form a loop" in out.stderr
        assert "loop gain 1.414" in out.stderr
        assert "'loop' uses 2 of 'main'" in out.stderr
        assert "Traceback" not in out.stderr


def test_item11_productive_loop_is_calculated(write_model: Callable[..., Path]) -> None:
    """Gains 0.5 each way: ``s = [1, 0.5] / (1 - 0.25)``, total ``(1 + 0.5) / 0.75 = 2``."""
    path = write_model(LOOP.format(a=0.5, b=0.5))
    out = openpcf("calc", str(path), "--format", "json")
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["kg_co2e"] == pytest.approx(2.0, rel=1e-12)


def test_item11_check_productive_ignores_substitution_credits() -> None:
    """A positive off-diagonal entry is a credit (avoided production), not a loop."""
    A = sp.csc_array(np.array([[1.0, 0.5], [0.0, 1.0]]))
    check_productive(A, ["a", "b"])  # s = A⁻¹ [0, 1] = [-0.5, 1]: negative, and legitimate


def test_item11_self_consumption_beyond_output_is_refused() -> None:
    A = sp.csc_array(np.array([[-0.5]]))  # makes 1, uses 1.5 of its own product
    with pytest.raises(UnproductiveSystemError, match="'a' consumes at least as much"):
        check_productive(A, ["a"])


def test_item11_loop_within_a_larger_system_is_named() -> None:
    """c feeds a 3-cycle a -> b -> d -> a with gains 2, 1, 1 (product 2): only the cycle."""
    A = np.eye(4)
    A[1, 0] = -2.0  # a uses 2 of b
    A[3, 1] = -1.0  # b uses 1 of d
    A[0, 3] = -1.0  # d uses 1 of a
    A[0, 2] = -0.1  # c uses a (c is not in the loop)
    with pytest.raises(UnproductiveSystemError) as caught:
        check_productive(sp.csc_array(A), ["a", "b", "c", "d"])
    assert "processes 'a', 'b', 'd' form a loop" in str(caught.value)
    assert "'c'" not in str(caught.value).split(":")[0]


# --- near-singular systems ------------------------------------------------------------------


def test_item11_near_singular_system_warns_with_the_condition_number(
    write_model: Callable[..., Path],
) -> None:
    """Gains 1 and 1 - 1e-10: ``s_main = 1 / (1 - (1 - 1e-10)) = 1e10``, condition about 4e10.

    The footprint is computed (the loop is productive) but the note says how many digits
    may be lost and which processes are involved; ``validate`` prints it on stderr.
    """
    path = write_model(LOOP.format(a=1, b=0.9999999999))
    out = openpcf("calc", str(path), "--format", "json")
    assert out.returncode == 0, out.stderr
    notes = json.loads(out.stdout)["notes"]
    warning = next(n for n in notes if n.startswith("warning:"))
    assert "nearly singular (condition number about 4.0e+10)" in warning
    assert "'main', 'loop'" in warning
    checked = openpcf("validate", str(path))
    assert checked.returncode == 0
    assert "nearly singular" in checked.stderr


def test_item11_well_conditioned_models_carry_no_warning() -> None:
    out = openpcf("calc", str(FIXTURES / "two_process.yaml"), "--format", "json")
    assert not [n for n in json.loads(out.stdout)["notes"] if n.startswith("warning:")]


def test_item11_condition_estimate_ignores_units_but_not_cancellation() -> None:
    """``[[1e-6, 0], [-1e6, 1]]`` is only badly scaled (κ of the equilibrated matrix 4);
    ``[[1, -(1 - 1e-12)], [-1, 1]]`` nearly cancels: ``κ₁ = 4e12`` (numpy agrees)."""
    scaled = sp.csc_array(np.array([[1e-6, 0.0], [-1e6, 1.0]]))
    assert Factorisation(scaled).condition_estimate() == pytest.approx(4.0)
    dense = np.array([[1.0, -(1 - 1e-12)], [-1.0, 1.0]])
    estimate = Factorisation(sp.csc_array(dense)).condition_estimate()
    np.testing.assert_allclose(estimate, np.linalg.cond(dense, 1), rtol=1e-3)


# --- booleans as amounts --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("old", "new", "where"),
    [
        ("power: 3", "power: true", "parameters.power"),
        ("amount: 1, unit: g}", "amount: yes, unit: g}", "amount"),
        ("mass_per_declared_unit: 1", "mass_per_declared_unit: on", "mass_per_declared_unit"),
        ("year: 2022}", "year: true}", "year"),
    ],
)
def test_item11_booleans_are_not_amounts(tmp_path: Path, old: str, new: str, where: str) -> None:
    """``yes``/``on``/``true`` became 1 (or 1.0) without a word; now a schema error."""
    text = (FIXTURES / "two_process.yaml").read_text(encoding="utf-8")
    assert old in text
    path = tmp_path / "model.yaml"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    out = openpcf("calc", str(path))
    assert out.returncode == 2
    assert f"{where}: a boolean (true/false, yes/no, on/off) is not a number" in out.stderr


def test_item11_booleans_stay_allowed_where_the_schema_wants_them(tmp_path: Path) -> None:
    text = (FIXTURES / "two_process.yaml").read_text(encoding="utf-8")
    text = text.replace("amount: power, unit: kWh}", "amount: power, unit: kWh, primary: yes}")
    path = tmp_path / "model.yaml"
    path.write_text(text, encoding="utf-8")
    assert openpcf("calc", str(path)).returncode == 0


def test_item11_booleans_are_refused_by_the_loader_not_the_compiler(tmp_path: Path) -> None:
    from openpcf.model.loading import load_model

    text = (FIXTURES / "two_process.yaml").read_text(encoding="utf-8")
    path = tmp_path / "model.yaml"
    path.write_text(text.replace("sheet_mass: 2", "sheet_mass: false"), encoding="utf-8")
    with pytest.raises(ModelFileError, match=r"parameters\.sheet_mass: a boolean"):
        load_model(path)


# --- PACT decimals --------------------------------------------------------------------------


def test_item11_pact_decimal_doctest() -> None:
    result = doctest.testmod(vocabulary, raise_on_error=False)
    assert result.attempted >= 2
    assert result.failed == 0


@pytest.mark.parametrize(
    "text", ["1_000", "1e3", "1E-3", " 1.5", "1.5 ", "NaN", "-Infinity", ".5", "5.", "١٢", "0x10"]
)
def test_item11_non_pact_decimals_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match="is not a PACT decimal"):
        vocabulary.pact_decimal(text)


@pytest.mark.parametrize("text", ["0", "-0.25", "+3", "1250.5", "00012.3400"])
def test_item11_pact_decimals_are_read_exactly(text: str) -> None:
    from decimal import Decimal

    assert vocabulary.pact_decimal(text) == Decimal(text)


def _board() -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(
        (FIXTURES / "pact_supplier_board.json").read_text(encoding="utf-8")
    )
    return doc


@pytest.mark.parametrize("value", ["1_000", "1e3", " 2", 1.5, 70])
def test_item11_supplier_footprint_with_a_non_pact_decimal_is_refused(
    tmp_path: Path, value: object
) -> None:
    """``"1_000"`` was read as 1000 kg CO2e (``Decimal`` accepts underscores), JSON numbers
    were read as well; PACT decimals are strings matching ``^[+-]?\\d+(\\.\\d+)?$``."""
    doc = _board()
    doc["pcf"]["fossilGhgEmissions"] = value
    path = tmp_path / "fp.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    with pytest.raises(SupplierFootprintError, match=r"pcf\.fossilGhgEmissions = .* is not a PACT"):
        supplier_factor("fp.json", base=tmp_path)


def test_item11_catenax_refuses_a_non_pact_decimal() -> None:
    doc = _board()
    assert doc["specVersion"].startswith("3")
    bad = copy.deepcopy(doc)
    bad["pcf"]["fossilGhgEmissions"] = "1_000"
    with pytest.raises(CatenaXMappingError, match="not a PACT decimal"):
        catenax_pcf(bad, region="Europe")
