"""Recalculating with other parameter values reuses the background's work (issue 17).

Every answer inside :func:`~openpcf.model.recalculation.recalculating` is compared with a fresh
solve (new caches, nothing reused) to 1e-12 relative, and with numbers worked out by hand.

Engine (:class:`~openpcf.core.engine.Recalculation`), the two-process system of
``tests/test_engine_recalculate.py``: fg0 uses 0.5 of fg1 (``A_ff = [[1, 0], [-0.5, 1]]``),
direct kg CO2 ``B_f = [[2, 1]]``, fg0 uses 2 of bg0 and fg1 1 of bg1 (``A_bf = [[-2, 0],
[0, -1]]``); the background bg0 uses 0.2 of bg1, ``B_b = [[1, 10]]``, so ``Λ_b = [3, 10]``.
For ``f = [1, 0]``: ``s_f = [1, 0.5]`` and

* as built:                 2 + 2 · 3 + 0.5 · (1 + 10)       = 13.5;
* ``A_ff[1, 0] = -0.8``:    2 + 6 + 0.8 · (1 + 10)           = 16.8;
* ``A_bf[0, 0] = -3``:      2 + 3 · 3 + 0.5 · 11             = 16.5;
* ``B_f[0, 1] = 4``:        2 + 6 + 0.5 · (4 + 10)           = 15.0;
* ``B_b = [[1, 20]]`` (another background, ``Λ_b = [5, 20]``):
  2 + 2 · 5 + 0.5 · (1 + 20) = 22.5.

Model (``tests/fixtures/two_process.yaml`` with its 1 g of CH4 made a parameter ``methane_g``;
numbers as in ``tests/test_batch.py``): ``total = 2 · sheet_mass + 0.7252 · power + 0.0298 ·
methane_g``; ``sheet_mass`` is a foreground amount (``A_ff``), ``power`` the amount of a
factor row (``A_bf``), ``methane_g`` a direct emission (``B_f``):

* defaults (2, 3, 1):            4 + 2.1756 + 0.0298 = 6.2054;
* sheet_mass 3:                  6 + 2.1756 + 0.0298 = 8.2054;
* power 10:                      4 + 7.252  + 0.0298 = 11.2818;
* methane_g 10:                  4 + 2.1756 + 0.298  = 6.4736.

Linked (``jsonld_small`` imported as ``small``, 1 kg of widget is 5.503 kg CO2e, derived in
``tests/test_linking.py``): the boxed widget drawing ``m`` kg of it is ``5.503 · m``.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp

from fixtures.boxed_widget import boxed_widget
from openpcf.core.engine import (
    IntensityCache,
    LayeredSolution,
    LayeredSystem,
    Recalculation,
    solve_layered,
)
from openpcf.core.solver import FactorisationCache
from openpcf.core.system import MatrixSystem
from openpcf.errors import UnproductiveSystemError
from openpcf.io.store import DatabaseStore
from openpcf.model.recalculation import current_recalculation, recalculating
from openpcf.model.result_json import result_to_dict
from openpcf.services.batch import BatchOptions, calculate_chunk, read_batch
from openpcf.services.calculate import calculate
from openpcf.services.databases import import_database
from openpcf.settings import Settings, get_settings

RTOL = 1e-12
FIXTURES = Path(__file__).parent / "fixtures"


def _system(
    A_ff: list[list[float]] | None = None,
    A_bf: list[list[float]] | None = None,
    B_f: list[list[float]] | None = None,
    B_b: list[list[float]] | None = None,
) -> LayeredSystem:
    """The system of the module docstring, every matrix a new object (as a recompiled model's
    are), with the given matrices instead."""
    fg = MatrixSystem(
        A=sp.csc_array(np.array(A_ff or [[1.0, 0.0], [-0.5, 1.0]])),
        B=sp.csc_array(np.array(B_f or [[2.0, 1.0]])),
        activities=("fg0", "fg1"),
        flows=("CO2",),
    )
    bg = MatrixSystem(
        A=sp.csc_array(np.array([[1.0, 0.0], [-0.2, 1.0]])),
        B=sp.csc_array(np.array(B_b or [[1.0, 10.0]])),
        activities=("bg0", "bg1"),
        flows=("CO2",),
    )
    A_bf_ = sp.csc_array(np.array(A_bf or [[-2.0, 0.0], [0.0, -1.0]]))
    return LayeredSystem(foreground=fg, background=bg, A_bf=A_bf_)


def _fresh(system: LayeredSystem, f: np.ndarray, Q: np.ndarray) -> LayeredSolution:
    return solve_layered(system, f, Q, factorisations=FactorisationCache(), cache=IntensityCache())


def _assert_same(a: LayeredSolution, b: LayeredSolution) -> None:
    for name in ("s_f", "direct", "upstream", "lambda_b", "total"):
        np.testing.assert_allclose(getattr(a, name), getattr(b, name), rtol=RTOL, atol=0.0)
    assert a.condition == pytest.approx(b.condition, rel=1e-9)


F = np.array([1.0, 0.0])
Q = np.array([[1.0]])


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        ({}, 13.5),
        ({"A_ff": [[1.0, 0.0], [-0.8, 1.0]]}, 16.8),
        ({"A_bf": [[-3.0, 0.0], [0.0, -1.0]]}, 16.5),
        ({"B_f": [[2.0, 4.0]]}, 15.0),
    ],
)
def test_each_foreground_edit_equals_a_fresh_solve(
    edit: dict[str, list[list[float]]], expected: float
) -> None:
    keeper = Recalculation(factorisations=FactorisationCache(), cache=IntensityCache())
    keeper.solve(_system(), F, Q)  # the solver every later system is rebased from
    edited = _system(**edit)
    sol = keeper.solve(edited, F, Q)
    _assert_same(sol, _fresh(edited, F, Q))
    assert sol.total[0] == pytest.approx(expected, rel=RTOL)
    assert (keeper.made, keeper.rebased) == (1, 1)


def test_a_loop_of_edits_and_back_equals_fresh_solves() -> None:
    """Edits one after another, then the system as built again: nothing of an edit lingers."""
    keeper = Recalculation(factorisations=FactorisationCache(), cache=IntensityCache())
    sequence = [
        ({}, 13.5),
        ({"A_ff": [[1.0, 0.0], [-0.8, 1.0]]}, 16.8),
        ({"B_f": [[2.0, 4.0]]}, 15.0),
        ({"A_bf": [[-3.0, 0.0], [0.0, -1.0]]}, 16.5),
        ({}, 13.5),
    ]
    for edit, expected in sequence:
        system = _system(**edit)
        sol = keeper.solve(system, F, Q)
        _assert_same(sol, _fresh(system, F, Q))
        assert sol.total[0] == pytest.approx(expected, rel=RTOL)
    assert (keeper.made, keeper.rebased) == (1, 4)


def test_another_background_is_never_served_from_the_last() -> None:
    """Equal content reuses, other content (``B_b``) gets a solver of its own: 22.5, not 13.5."""
    keeper = Recalculation(factorisations=FactorisationCache(), cache=IntensityCache())
    assert keeper.solve(_system(), F, Q).total[0] == pytest.approx(13.5, rel=RTOL)
    other = _system(B_b=[[1.0, 20.0]])
    sol = keeper.solve(other, F, Q)
    assert sol.total[0] == pytest.approx(22.5, rel=RTOL)
    np.testing.assert_allclose(sol.lambda_b, [[5.0], [20.0]], rtol=RTOL)
    _assert_same(sol, _fresh(other, F, Q))
    assert keeper.made == 2
    # and another Q (two indicators) is another solver too
    Q2 = np.array([[1.0, 2.0]])
    np.testing.assert_allclose(keeper.solve(_system(), F, Q2).total, [13.5, 27.0], rtol=RTOL)
    assert keeper.made == 3


def test_another_foreground_on_the_same_background_is_rebased_right() -> None:
    """A one-process model on the same background (as a batch of models sharing factor rows
    is): ``B_f = [[3]]``, 1 of bg0 (``Λ_b[0] = 3``), so 3 + 3 = 6."""
    keeper = Recalculation(factorisations=FactorisationCache(), cache=IntensityCache())
    keeper.solve(_system(), F, Q)
    base = _system()
    one = LayeredSystem(
        foreground=MatrixSystem(
            A=sp.csc_array(np.array([[1.0]])),
            B=sp.csc_array(np.array([[3.0]])),
            activities=("only",),
            flows=("CO2",),
        ),
        background=base.background,
        A_bf=sp.csc_array(np.array([[-1.0], [0.0]])),
    )
    sol = keeper.solve(one, np.array([1.0]), Q)
    assert sol.total[0] == pytest.approx(6.0, rel=RTOL)
    _assert_same(sol, _fresh(one, np.array([1.0]), Q))
    assert (keeper.made, keeper.rebased) == (1, 1)
    assert keeper.solve(_system(), F, Q).total[0] == pytest.approx(13.5, rel=RTOL)


def test_each_system_object_is_hashed_once(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []
    original = MatrixSystem.content_hash

    def counting(self: MatrixSystem) -> str:
        calls.append(id(self))
        return original(self)

    monkeypatch.setattr(MatrixSystem, "content_hash", counting)
    keeper = Recalculation(factorisations=FactorisationCache(), cache=IntensityCache())
    system = _system()
    for _ in range(3):
        keeper.solve(system, F, Q)
        assert keeper.content_hash(system.background) == original(system.background)
    assert calls.count(id(system.background)) == 1


def test_an_unproductive_edit_raises_and_the_next_solve_is_right() -> None:
    """fg0 needs 1.5 of fg1 per unit and fg1 0.8 of fg0: the loop consumes 1.2 times what it
    makes (not singular, det = 1 - 1.2)."""
    keeper = Recalculation(factorisations=FactorisationCache(), cache=IntensityCache())
    keeper.solve(_system(), F, Q)
    with pytest.raises(UnproductiveSystemError):
        keeper.solve(_system(A_ff=[[1.0, -0.8], [-1.5, 1.0]]), F, Q)
    edited = _system(A_bf=[[-3.0, 0.0], [0.0, -1.0]])
    assert keeper.solve(edited, F, Q).total[0] == pytest.approx(16.5, rel=RTOL)


def test_blocks_nest_and_end() -> None:
    assert current_recalculation() is None
    with recalculating() as outer:
        with recalculating() as inner:
            assert inner is outer
        assert current_recalculation() is outer
    assert current_recalculation() is None


# -- the model layer ---------------------------------------------------------------------


def _model(folder: Path) -> Path:
    text = (FIXTURES / "two_process.yaml").read_text(encoding="utf-8")
    text = text.replace("  sheet_mass: 2\n", "  sheet_mass: 2\n  methane_g: 1\n")
    text = text.replace("amount: 1, unit: g}", "amount: methane_g, unit: g}")
    path = folder / "widget.yaml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({}, 6.2054),
        ({"sheet_mass": 3.0}, 8.2054),
        ({"power": 10.0}, 11.2818),
        ({"methane_g": 10.0}, 6.4736),
    ],
)
def test_model_recalculated_equals_a_fresh_calculation(
    tmp_path: Path, overrides: dict[str, float], expected: float
) -> None:
    model = _model(tmp_path)
    fresh = calculate(model, overrides=overrides).result
    with recalculating() as keeper:
        calculate(model, overrides={"sheet_mass": 2.5, "power": 4.0, "methane_g": 2.0})
        again = calculate(model, overrides=overrides).result
    assert keeper.rebased >= 1
    assert fresh.total == pytest.approx(expected, rel=RTOL)
    assert again.total == pytest.approx(expected, rel=RTOL)
    assert result_to_dict(again) == result_to_dict(fresh)


@pytest.fixture(scope="module")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    """A home with ``jsonld_small`` imported as ``small``."""
    home = tmp_path_factory.mktemp("home")
    mp = pytest.MonkeyPatch()
    mp.setenv("OPENPCF_HOME", str(home))
    get_settings.cache_clear()
    settings = get_settings()
    store = DatabaseStore(settings.databases_dir)
    import_database("jsonld", FIXTURES / "jsonld_small", name="small", store=store)
    yield settings
    mp.undo()
    get_settings.cache_clear()


def test_batch_of_a_linked_model_equals_fresh_calculations(
    tmp_path: Path, settings: Settings
) -> None:
    """``openpcf batch`` with a CSV of parameter sets: one chunk, one background; each item is
    5.503 · m and the same as the model calculated alone with that ``m``."""
    model = boxed_widget(
        tmp_path,
        "small:widget assembly",
        amount="m",
        extra="background_linking: linked\nparameters:\n  m: 1",
    )
    values = [1.0, 2.5, 0.4, 1.0, 7.0]
    sheet = tmp_path / "sets.csv"
    with sheet.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(["id", "model", "m"])
        writer.writerows([f"set-{k}", model.name, m] for k, m in enumerate(values))
    items = read_batch(sheet)
    results = calculate_chunk(items, BatchOptions(settings=settings))
    for m, item in zip(values, results, strict=True):
        fresh = calculate(model, overrides={"m": m}, settings=settings).result
        assert item.error is None
        assert item.kg_co2e == pytest.approx(5.503 * m, rel=RTOL)
        assert item.kg_co2e == fresh.total
        assert item.by_stage == dict(fresh.by_stage)


def test_linked_results_equal_in_full(tmp_path: Path, settings: Settings) -> None:
    model = boxed_widget(
        tmp_path,
        "small:widget assembly",
        amount="m",
        extra="background_linking: linked\nparameters:\n  m: 1",
    )
    """The whole result (tree into the database's processes, provenance hashes) is the same."""
    with recalculating() as keeper:
        for m in (1.0, 3.0):
            again = calculate(model, overrides={"m": m}, settings=settings).result
            assert again.total == pytest.approx(5.503 * m, rel=RTOL)
    assert (keeper.made, keeper.rebased) == (1, 1)
    fresh = calculate(model, overrides={"m": 3.0}, settings=settings).result
    assert result_to_dict(again) == result_to_dict(fresh)
