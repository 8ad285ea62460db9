"""``ForegroundSolver``: a layered system solved again after each foreground edit.

Each edit's answer is compared with a fresh :func:`solve_layered` of the edited system (new
caches, nothing reused) to 1e-12 relative, and the hand-worked system below gives the numbers.
That the background is not solved again is counted (factorisation-cache lookups), not timed.
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from bench.synthetic import make_background, make_foreground

from openpcf.core.engine import (
    ForegroundSolver,
    IntensityCache,
    LayeredSolution,
    LayeredSystem,
    solve_layered,
)
from openpcf.core.solver import FactorisationCache
from openpcf.core.system import MatrixSystem
from openpcf.errors import UnproductiveSystemError

RTOL = 1e-12


def _hand_system() -> LayeredSystem:
    """Two foreground processes on a two-activity background, one gas (kg CO2).

    Foreground: fg0 uses 0.5 of fg1's product, ``A_ff = [[1, 0], [-0.5, 1]]``; direct
    emissions ``B_f = [[2, 1]]``. fg0 uses 2 of bg0's product, fg1 1 of bg1's:
    ``A_bf = [[-2, 0], [0, -1]]``. Background: bg0 uses 0.2 of bg1, ``A_bb = [[1, 0],
    [-0.2, 1]]``, ``B_b = [[1, 10]]``, so ``Λ_b``: ``λ1 = 10``, ``λ0 = 1 + 0.2 · 10 = 3``.
    """
    fg = MatrixSystem(
        A=sp.csc_array(np.array([[1.0, 0.0], [-0.5, 1.0]])),
        B=sp.csc_array(np.array([[2.0, 1.0]])),
        activities=("fg0", "fg1"),
        flows=("CO2",),
    )
    bg = MatrixSystem(
        A=sp.csc_array(np.array([[1.0, 0.0], [-0.2, 1.0]])),
        B=sp.csc_array(np.array([[1.0, 10.0]])),
        activities=("bg0", "bg1"),
        flows=("CO2",),
    )
    A_bf = sp.csc_array(np.array([[-2.0, 0.0], [0.0, -1.0]]))
    return LayeredSystem(foreground=fg, background=bg, A_bf=A_bf)


def _relative(actual: np.ndarray, expected: np.ndarray) -> float:
    denom = np.where(expected != 0.0, np.abs(expected), 1.0)
    return float(np.max(np.abs(actual - expected) / denom, initial=0.0))


def _assert_fresh(solver: ForegroundSolver, f: np.ndarray, Q: np.ndarray) -> LayeredSolution:
    """The solver's answer, asserted equal to a fresh solve of its edited system."""
    sol = solver.solve(f)
    fresh = solve_layered(
        solver.system, f, Q, factorisations=FactorisationCache(), cache=IntensityCache()
    )
    for name in ("s_f", "direct", "upstream", "total"):
        assert _relative(getattr(sol, name), getattr(fresh, name)) <= RTOL, name
    assert sol.condition == pytest.approx(fresh.condition, rel=RTOL)
    return sol


def test_hand_worked_edits_of_each_matrix() -> None:
    """Demand ``f = [1, 0]``: ``s_f = [1, 0.5]``, direct ``2 · 1 + 1 · 0.5 = 2.5``, upstream
    ``1 · 2 · 3 + 0.5 · 1 · 10 = 11``, total 13.5.

    - ``A_bf[0, 0] = -3`` (fg0 takes 3 of bg0): fg0's upstream ``3 · 3 = 9``, total 16.5;
    - ``B_f[0, 1] = 3``: fg1's direct ``0.5 · 3 = 1.5``, total 17.5;
    - ``A_ff[1, 0] = -1`` (fg0 takes 1 of fg1): ``s_f = [1, 1]``, direct ``2 + 3 = 5``,
      upstream ``9 + 10 = 19``, total 24;
    - ``A_bf[1, 0] = -0.1`` (not stored before: fg0 also takes 0.1 of bg1): upstream
      ``+0.1 · 10``, total 25.
    """
    system, Q, f = _hand_system(), np.array([1.0]), np.array([1.0, 0.0])
    solver = ForegroundSolver(
        system, Q, factorisations=FactorisationCache(), cache=IntensityCache()
    )
    np.testing.assert_allclose(solver.lambda_b[:, 0], [3.0, 10.0], rtol=RTOL)
    first = _assert_fresh(solver, f, Q)
    np.testing.assert_allclose(first.s_f, [1.0, 0.5], rtol=RTOL)
    np.testing.assert_allclose(first.total, [13.5], rtol=RTOL)
    for (matrix, row, col, value), total in [
        (("A_bf", 0, 0, -3.0), 16.5),
        (("B_f", 0, 1, 3.0), 17.5),
        (("A_ff", 1, 0, -1.0), 24.0),
        (("A_bf", 1, 0, -0.1), 25.0),
    ]:
        solver.set(matrix, row, col, value)  # type: ignore[arg-type]
        np.testing.assert_allclose(_assert_fresh(solver, f, Q).total, [total], rtol=RTOL)
    np.testing.assert_allclose(solver.system.A_bf.toarray(), [[-3.0, 0.0], [-0.1, -1.0]])
    # the first solution is a value: later edits did not change it
    np.testing.assert_allclose(first.total, [13.5], rtol=RTOL)


def test_solve_layered_is_a_fresh_foreground_solver() -> None:
    system, Q, f = _hand_system(), np.array([1.0]), np.array([2.0, 1.0])
    facts, cache = FactorisationCache(), IntensityCache()
    sol = solve_layered(system, f, Q, factorisations=facts, cache=cache)
    again = ForegroundSolver(system, Q, factorisations=facts, cache=cache).solve(f)
    np.testing.assert_array_equal(sol.per_process, again.per_process)
    assert sol.condition == again.condition


def test_edits_on_the_synthetic_background_equal_a_fresh_solve() -> None:
    """Random edits of all three foreground matrices on a 2,000-activity background with 4
    indicators; after each, the answer equals a fresh solve, and the background is never
    looked up or solved again (the factorisation cache is not consulted after the start)."""
    bg = make_background(2_000, n_flows=200, seed=3)
    layered = make_foreground(bg.system, seed=4)
    rng = np.random.default_rng(5)
    Q = np.column_stack([bg.c, rng.random((bg.system.B.shape[0], 3))])
    p = layered.foreground.size
    f = np.zeros(p)
    f[0] = 1.0
    facts = FactorisationCache()
    solver = ForegroundSolver(layered, Q, factorisations=facts, cache=IntensityCache())
    lookups = facts.hits + facts.misses
    _assert_fresh(solver, f, Q)
    for _ in range(4):
        for name in ("A_bf", "B_f"):
            M = solver.system.A_bf if name == "A_bf" else solver.system.foreground.B
            k = int(rng.integers(M.nnz))
            col = int(np.searchsorted(M.indptr, k, side="right") - 1)
            scale = rng.uniform(0.5, 1.5)
            solver.set(name, int(M.indices[k]), col, float(M.data[k]) * scale)
            _assert_fresh(solver, f, Q)
        A_ff = solver.system.foreground.A.tocoo()
        inputs = np.flatnonzero(A_ff.row != A_ff.col)
        k = int(rng.choice(inputs))
        solver.set("A_ff", int(A_ff.row[k]), int(A_ff.col[k]), float(A_ff.data[k]) * 0.9)
        _assert_fresh(solver, f, Q)
    assert facts.hits + facts.misses == lookups


def test_bad_edits_say_what_and_leave_the_solver_as_it_was() -> None:
    system, Q, f = _hand_system(), np.array([1.0]), np.array([1.0, 0.0])
    solver = ForegroundSolver(
        system, Q, factorisations=FactorisationCache(), cache=IntensityCache()
    )
    with pytest.raises(ValueError, match="cannot edit 'A_bb'"):
        solver.set("A_bb", 0, 0, 1.0)  # type: ignore[arg-type]
    with pytest.raises(IndexError, match=r"entry \(2, 0\) is outside A_bf, of shape \(2, 2\)"):
        solver.set("A_bf", 2, 0, -1.0)
    with pytest.raises(ValueError, match=r"B_f\[0, 1\] must be a finite number"):
        solver.set("B_f", 0, 1, float("nan"))
    # fg1 takes 4 of fg0 while fg0 takes 0.5 of fg1: the loop needs 0.5 · 4 = 2 units of its
    # own product per unit made (A_ff is not singular, s_f would be negative): refused
    solver.set("A_ff", 0, 1, -1.0)
    with pytest.raises(UnproductiveSystemError, match="fg0"):
        solver.set("A_ff", 0, 1, -4.0)
    # fg0 takes 0.5 of fg1 and fg1 1 of fg0: s_f = A_ff⁻¹ [1, 0] = [1, 0.5] / (1 - 0.5) = [2, 1]
    np.testing.assert_allclose(_assert_fresh(solver, f, Q).s_f, [2.0, 1.0], rtol=RTOL)
