"""Sobol indices with the distributions stored with an imported database among the inputs,
against values worked out by hand.

The model (``tests/fixtures/uncertain_grid.py``): a boxed widget taking ``w`` = 16.0625 MJ of a
grid activity that makes ``a`` MJ per unit (lognormal, median 3.6, σ = 0.05) and emits ``X`` kg
CO2 (normal, 0.36, sd 0.03), plus an emission ``e`` of its own (normal, 1 kg CO2, sd 0.1), so
``T = 5.503 + e − 1 + w (X / a − 0.1)`` kg CO2e (GWP of CO2 = 1). With ``m = 1 / 3.6`` and
``q = e^(σ²) = 1.0025031``: ``E[1/a] = m √q``, ``Var[1/a] = m² q (q − 1)``; ``w² m² =
19.907709``.

Analytic first-order shares (the screening; the adjoint at the means, ``ā = 3.6 √q``):
``V_e = 0.1² = 0.01``, ``V_a = (w X / ā²)² Var[a] = 0.0064420``, ``V_X = (w / ā)² 0.03² =
0.0178722``; total 0.0343142, shares ``e`` 0.291424, ``a`` 0.187737, ``X`` 0.520839.

Exact Sobol indices (``e`` enters additively; ``X / a`` is a product of independent inputs):
``V_a = w² X² Var[1/a] = 19.907709 x 0.1296 x q (q − 1) = 0.0064743``, ``V_X = w² 0.03² E[1/a]²
= 0.0179618``, the interaction ``V_aX = w² 0.03² Var[1/a] = 0.0000450``; ``Var T = 0.01 +
0.0064743 + 0.0179618 + 0.0000450 = 0.0344811``. ``S1 = ST`` of ``e`` = 0.29001; ``S1_a =
0.18776``, ``ST_a = 0.18907``; ``S1_X = 0.52092``, ``ST_X = 0.52222``: within 0.0014 of the
analytic shares (to first order the model is linear in ``a`` and ``X``), so both are checked
against the indices within their bootstrap confidence.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from typer.testing import CliRunner

from fixtures.boxed_widget import boxed_widget
from fixtures.uncertain_grid import SD_X, SIGMA, W, X
from openpcf.cli.main import app
from openpcf.model.database_inputs import input_label
from openpcf.model.sobol import sobol
from openpcf.reports.sensitivity import propagation
from openpcf.services.calculate import calculate
from openpcf.services.uncertainty import uncertainty
from openpcf.settings import Settings

pytest.importorskip("SALib")

SD_E = 0.1
Q = math.exp(SIGMA**2)
A_MEAN = 3.6 * math.sqrt(Q)
VAR_A = 3.6**2 * Q * (Q - 1)
LINEAR = {  # analytic first-order variance of each input
    "e": SD_E**2,
    "a": (W * X / A_MEAN**2) ** 2 * VAR_A,
    "X": (W / A_MEAN * SD_X) ** 2,
}
W2M2 = W**2 / 3.6**2
V_A = W2M2 * X**2 * Q * (Q - 1)
V_X = W2M2 * SD_X**2 * Q
V_AX = W2M2 * SD_X**2 * Q * (Q - 1)
VAR_T = SD_E**2 + V_A + V_X + V_AX
S1 = {"e": SD_E**2 / VAR_T, "a": V_A / VAR_T, "X": V_X / VAR_T}
ST = {"e": SD_E**2 / VAR_T, "a": (V_A + V_AX) / VAR_T, "X": (V_X + V_AX) / VAR_T}
OWN = (
    "    emissions:\n      - {gas: CO2-fossil, amount: 1, unit: kg,"
    " uncertainty: {distribution: normal, sd: 0.1}}\n"
)
LINKED = "background_linking: linked"


def model(folder: Path, extra: str = "", own: bool = True) -> Path:
    path = boxed_widget(
        folder, "grid:widget assembly", extra=extra, name=f"m{len(extra)}{own}.yaml"
    )
    if own:
        path.write_text(path.read_text("utf-8") + OWN, encoding="utf-8")
    return path


def names(ref: str) -> dict[str, str]:
    """Input key by the docstring's name."""
    return {"e": "boxing/gas:CO2-fossil", "a": f"db:{ref}:A:0:0", "X": f"db:{ref}:B:0:0"}


def test_hand_worked_numbers() -> None:
    """The docstring's figures, from the constants."""
    total = sum(LINEAR.values())
    assert [round(LINEAR[k] / total, 6) for k in ("e", "a", "X")] == [0.291424, 0.187737, 0.520839]
    assert round(VAR_T, 7) == 0.0344811
    assert [round(S1[k], 5) for k in ("e", "a", "X")] == [0.29001, 0.18776, 0.52092]
    assert [round(ST[k], 5) for k in ("a", "X")] == [0.18907, 0.52222]


@pytest.mark.parametrize("extra", ["", LINKED])
def test_sobol_ranks_database_entries_with_the_models_own(
    tmp_path: Path, uncertain_grid: tuple[Settings, str], extra: str
) -> None:
    """Precomputed (the database read from the store) and linked alike: the three inputs kept,
    their analytic shares as in the docstring, S1 and ST within their 95 % bootstrap half-width
    of the analytic shares and of the exact indices; the database entries named readably."""
    home, ref = uncertain_grid
    calc = calculate(model(tmp_path, extra), settings=home)
    found = propagation(calc.compiled)
    assert found.analytic is not None
    assert found.sampler is not None
    (use,) = found.databases
    assert (use.ref, use.distributions, use.included) == (ref, 2, True)
    result = sobol(found.sampler, seed=2026, n=1024, top=10, first=found.analytic)
    key = names(ref)
    by_key = {i.key: i for i in result.indices}
    assert set(by_key) == set(key.values())
    assert result.evaluations == 1024 * (3 + 2)
    assert result.screened_out == {}
    assert result.variance == pytest.approx(VAR_T, rel=0.05)
    total = sum(LINEAR.values())
    for name, k in key.items():
        i = by_key[k]
        assert i.share == pytest.approx(LINEAR[name] / total, rel=1e-6)
        assert abs(i.s1 - i.share) <= i.s1_conf
        assert abs(i.s1 - S1[name]) <= i.s1_conf
        assert abs(i.st - ST[name]) <= i.st_conf
        assert 0 < i.s1_conf < 0.1
    assert input_label(calc.compiled, key["X"]) == (
        f"{ref} › electricity production, US grid › CO2-fossil"
    )
    assert input_label(calc.compiled, key["a"]) == (
        f"{ref} › electricity production, US grid › electricity, medium voltage"
    )
    assert input_label(calc.compiled, key["e"]) == key["e"]


def test_screening_holds_a_database_entry_at_its_median(
    tmp_path: Path, uncertain_grid: tuple[Settings, str]
) -> None:
    """``--top 2`` keeps ``X`` (0.52) and ``e`` (0.29); ``a`` (0.19) is screened out with its
    analytic share and held at its median 3.6: the total's variance is then ``V_e + w² 0.03² /
    3.6² = 0.01 + 0.0179169 = 0.0279169`` (within 10 %: N = 256), split 0.358 / 0.642."""
    home, ref = uncertain_grid
    found = propagation(calculate(model(tmp_path, LINKED), settings=home).compiled)
    assert found.analytic is not None
    assert found.sampler is not None
    result = sobol(found.sampler, seed=7, n=256, top=2, first=found.analytic)
    key = names(ref)
    assert [i.key for i in result.indices] == [key["X"], key["e"]]
    assert result.evaluations == 256 * (2 + 2)
    assert result.screened_out == {key["a"]: pytest.approx(0.187737, abs=1e-6)}
    held = SD_E**2 + (W / 3.6 * SD_X) ** 2
    assert held == pytest.approx(0.0279169, abs=1e-7)
    assert result.variance == pytest.approx(held, rel=0.1)
    x, e = result.indices
    assert abs(x.s1 - (W / 3.6 * SD_X) ** 2 / held) <= x.s1_conf
    assert abs(e.s1 - SD_E**2 / held) <= e.s1_conf


def test_no_background_leaves_the_database_out(
    tmp_path: Path, uncertain_grid: tuple[Settings, str]
) -> None:
    """``background=False`` (``--no-background``): the own emission is the only input, S1 = 1;
    with the databases (the default) the service's Sobol indices include both entries."""
    home, ref = uncertain_grid
    path = model(tmp_path)
    alone = uncertainty(
        path, sobol_indices=True, sobol_n=64, seed=3, background=False, settings=home
    )
    assert alone.sobol is not None
    (only,) = alone.sobol.indices
    assert only.key == names(ref)["e"]
    assert only.s1 == pytest.approx(1.0, abs=only.s1_conf + 1e-9)
    both = uncertainty(path, sobol_indices=True, sobol_n=64, seed=3, settings=home)
    assert both.sobol is not None
    assert {i.key for i in both.sobol.indices} == set(names(ref).values())


def test_cli_names_database_inputs(tmp_path: Path, uncertain_grid: tuple[Settings, str]) -> None:
    """``openpcf uncertainty --sobol --json`` gives each input its key and its label; the table
    prints the labels; ``--no-background`` keeps the own emission only."""
    _, ref = uncertain_grid
    path = str(model(tmp_path, LINKED))
    runner = CliRunner()
    args = ["uncertainty", path, "--sobol", "--sobol-n", "64", "--seed", "5"]
    done = runner.invoke(app, [*args, "--json"])
    assert done.exit_code == 0, done.output
    labels = {i["input"]: i["label"] for i in json.loads(done.output)["sobol"]["indices"]}
    assert labels[f"db:{ref}:B:0:0"] == f"{ref} › electricity production, US grid › CO2-fossil"
    text = runner.invoke(app, args)
    assert text.exit_code == 0, text.output
    assert f"{ref} › electricity production, US grid › CO2-fossil" in text.output
    off = runner.invoke(app, [*args, "--no-background", "--json"])
    assert off.exit_code == 0, off.output
    keys = [i["input"] for i in json.loads(off.output)["sobol"]["indices"]]
    assert keys == ["boxing/gas:CO2-fossil"]
