"""Properties of the numeric core (solver and layered engine), checked with Hypothesis.

Random systems are small and column diagonally dominant (each column's inputs sum to at most
0.9 of its output), so they are always solvable and reasonably conditioned; the properties
are about the linear algebra, not about numerical breakdown.
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from openpcf.core.engine import (
    IntensityCache,
    LayeredSystem,
    background_intensities,
    intensities,
    solve_background,
    solve_layered,
)
from openpcf.core.solver import FactorisationCache, factorise
from openpcf.core.system import MatrixSystem
from openpcf.errors import OpenPCFError, SingularSystemError

SETTINGS = settings(max_examples=50, deadline=None)
RTOL = 1e-9


@st.composite
def technosphere(draw: st.DrawFn, n: int | None = None) -> sp.csc_array:
    """A column diagonally dominant ``n x n`` technosphere matrix (inputs negative)."""
    if n is None:
        n = draw(st.integers(1, 7))
    off = draw(hnp.arrays(np.float64, (n, n), elements=st.floats(1e-3, 1.0)))
    mask = draw(hnp.arrays(np.bool_, (n, n)))
    off = np.where(mask, off, 0.0)
    np.fill_diagonal(off, 0.0)
    diag = draw(hnp.arrays(np.float64, n, elements=st.floats(0.5, 3.0)))
    share = draw(hnp.arrays(np.float64, n, elements=st.floats(0.0, 0.9)))
    col_sum = off.sum(axis=0)
    scale = np.where(col_sum > 0, share * diag / np.where(col_sum > 0, col_sum, 1.0), 0.0)
    return sp.csc_array(np.diag(diag) - off * scale)


@st.composite
def systems(draw: st.DrawFn) -> MatrixSystem:
    A = draw(technosphere())
    n = A.shape[0]
    m = draw(st.integers(1, 4))
    B = draw(hnp.arrays(np.float64, (m, n), elements=st.floats(0.0, 10.0)))
    return MatrixSystem(
        A=A,
        B=sp.csc_array(B),
        activities=tuple(f"a{j}" for j in range(n)),
        flows=tuple(f"f{i}" for i in range(m)),
    )


def vectors(n: int, lo: float = -10.0, hi: float = 10.0) -> st.SearchStrategy[np.ndarray]:
    return hnp.arrays(np.float64, n, elements=st.floats(lo, hi))


@SETTINGS
@given(data=st.data(), system=systems())
def test_solution_is_linear_in_demand(data: st.DataObject, system: MatrixSystem) -> None:
    n = system.size
    f1, f2 = data.draw(vectors(n)), data.draw(vectors(n))
    a, b = data.draw(st.floats(-5.0, 5.0)), data.draw(st.floats(-5.0, 5.0))
    fact = factorise(system.A, cache=None)
    lhs = fact.solve(a * f1 + b * f2)
    rhs = a * fact.solve(f1) + b * fact.solve(f2)
    scale = float(np.abs(lhs).max(initial=0.0)) + float(np.abs(rhs).max(initial=0.0))
    np.testing.assert_allclose(lhs, rhs, rtol=RTOL, atol=1e-12 * (1.0 + scale))


@SETTINGS
@given(data=st.data(), system=systems())
def test_residual_is_small(data: st.DataObject, system: MatrixSystem) -> None:
    f = data.draw(vectors(system.size))
    s = factorise(system.A, cache=None).solve(f)
    residual = float(np.linalg.norm(system.A @ s - f))
    assert residual <= 1e-12 * max(1.0, float(np.linalg.norm(f)))


@SETTINGS
@given(data=st.data(), system=systems())
def test_transposed_solve_agrees_with_direct(data: st.DataObject, system: MatrixSystem) -> None:
    """``cᵀ B A⁻¹ f == f · λ`` with ``λ = A⁻ᵀ Bᵀ c`` (the intensities)."""
    f = data.draw(vectors(system.size))
    c = data.draw(vectors(len(system.flows), 0.0, 30.0))
    s = factorise(system.A, cache=None).solve(f)
    lam = intensities(system, c, cache=None)
    assert lam.shape == (system.size, 1)
    direct = float(c @ (system.B @ s))
    adjoint = float(f @ lam[:, 0])
    scale = float(np.abs(c).sum() * np.abs(system.B).sum() * np.abs(s).sum())
    np.testing.assert_allclose(direct, adjoint, rtol=RTOL, atol=1e-12 * (1.0 + scale))


@st.composite
def layered_systems(draw: st.DrawFn) -> LayeredSystem:
    p, n = draw(st.integers(1, 5)), draw(st.integers(1, 6))
    m = draw(st.integers(1, 3))
    flows = tuple(f"f{i}" for i in range(m))
    A_ff, A_bb = draw(technosphere(p)), draw(technosphere(n))
    B_f = draw(hnp.arrays(np.float64, (m, p), elements=st.floats(0.0, 10.0)))
    B_b = draw(hnp.arrays(np.float64, (m, n), elements=st.floats(0.0, 10.0)))
    A_bf = -draw(hnp.arrays(np.float64, (n, p), elements=st.floats(0.0, 5.0)))
    return LayeredSystem(
        foreground=MatrixSystem(
            A=A_ff, B=sp.csc_array(B_f), activities=tuple(f"fg{j}" for j in range(p)), flows=flows
        ),
        background=MatrixSystem(
            A=A_bb, B=sp.csc_array(B_b), activities=tuple(f"bg{j}" for j in range(n)), flows=flows
        ),
        A_bf=sp.csc_array(A_bf),
    )


@SETTINGS
@given(data=st.data(), system=layered_systems())
def test_layered_equals_full_block_system(data: st.DataObject, system: LayeredSystem) -> None:
    fg, bg = system.foreground, system.background
    p, n, m = fg.size, bg.size, len(fg.flows)
    f = data.draw(vectors(p, 0.0, 10.0))
    Q = data.draw(hnp.arrays(np.float64, (m, 2), elements=st.floats(0.0, 30.0)))
    A = sp.block_array([[fg.A, sp.csc_array((p, n))], [system.A_bf, bg.A]], format="csc")
    B = sp.hstack([fg.B, bg.B], format="csc")
    s = factorise(sp.csc_array(A), cache=None).solve(np.r_[f, np.zeros(n)])
    expected = Q.T @ (B @ s)

    facts, cache = FactorisationCache(), IntensityCache()
    sol = solve_layered(system, f, Q, factorisations=facts, cache=cache)
    scale = 1.0 + float(np.abs(Q).sum() * np.abs(B).sum() * np.abs(s).sum())
    np.testing.assert_allclose(sol.total, expected, rtol=RTOL, atol=1e-12 * scale)
    np.testing.assert_allclose(sol.s_f, s[:p], rtol=RTOL, atol=1e-12 * (1 + np.abs(s).sum()))
    s_b = solve_background(system, sol.s_f, factorisations=facts)
    np.testing.assert_allclose(s_b, s[p:], rtol=RTOL, atol=1e-12 * (1 + np.abs(s).sum()))
    assert sol.per_process.shape == (p, 2)


@SETTINGS
@given(A=technosphere())
def test_factorisation_cache_hits_same_object_and_misses_on_change(A: sp.csc_array) -> None:
    cache = FactorisationCache()
    first = factorise(A, cache=cache)
    again = factorise(sp.csc_array(A.copy()), cache=cache)  # equal content, new object
    assert again is first
    assert (cache.hits, cache.misses) == (1, 1)
    changed = A.toarray()
    changed[0, 0] *= 1.5
    other = factorise(sp.csc_array(changed), cache=cache)
    assert other is not first
    assert (cache.hits, cache.misses) == (1, 2)


def test_background_intensities_are_cached_by_content() -> None:
    A = sp.csc_array(np.array([[1.0, -0.2], [-0.5, 1.0]]))
    bg = MatrixSystem(A=A, B=sp.csc_array([[2.0, 1.0]]), activities=("p1", "p2"), flows=("co2",))
    facts, cache = FactorisationCache(), IntensityCache()
    q = np.array([1.0])
    first = background_intensities(bg, q, factorisations=facts, cache=cache)
    same = MatrixSystem(A=A.copy(), B=bg.B.copy(), activities=("p1", "p2"), flows=("co2",))
    assert background_intensities(same, q, factorisations=facts, cache=cache) is first
    assert background_intensities(bg, 2 * q, factorisations=facts, cache=cache) is not first


def test_two_process_loop_by_hand() -> None:
    """Process 1 makes 1 kg P1 from 0.5 kWh P2 and emits 2 kg CO2; process 2 makes 1 kWh P2
    from 0.2 kg P1 and emits 1 kg CO2. For 1 kg of P1, ``f = (1, 0)``::

        s1 - 0.2 s2 = 1
        -0.5 s1 + s2 = 0   =>  s2 = 0.5 s1,  s1 - 0.1 s1 = 1
                           =>  s1 = 1/0.9 = 10/9,  s2 = 5/9

    CO2 = 2 · 10/9 + 1 · 5/9 = 25/9 ≈ 2.778 kg. Per kWh of P2, ``f = (0, 1)``: s1 = 0.2 s2,
    s2 - 0.1 s2 = 1, so s2 = 10/9, s1 = 2/9 and CO2 = 4/9 + 10/9 = 14/9.
    """
    system = MatrixSystem(
        A=sp.csc_array(np.array([[1.0, -0.2], [-0.5, 1.0]])),
        B=sp.csc_array(np.array([[2.0, 1.0]])),
        activities=("P1 production", "P2 production"),
        flows=("CO2",),
    )
    s = factorise(system.A, cache=None).solve(system.demand({"P1 production": 1.0}))
    np.testing.assert_allclose(s, [10 / 9, 5 / 9], rtol=1e-12)
    np.testing.assert_allclose(system.B @ s, [25 / 9], rtol=1e-12)
    lam = intensities(system, np.array([1.0]), cache=None)
    np.testing.assert_allclose(lam[:, 0], [25 / 9, 14 / 9], rtol=1e-12)


def test_singular_loop_names_both_activities() -> None:
    """Each process makes 1 unit and consumes 1 unit of the other: no net output is possible."""
    A = sp.csc_array(np.array([[1.0, -1.0], [-1.0, 1.0]]))
    with pytest.raises(SingularSystemError) as err:
        factorise(A, labels=("steel mill", "coke oven"), cache=None)
    assert "'steel mill'" in str(err.value)
    assert "'coke oven'" in str(err.value)
    assert isinstance(err.value, OpenPCFError)
    assert isinstance(err.value, ArithmeticError)


def test_all_zero_column_is_named() -> None:
    A = sp.csc_array(np.array([[1.0, 0.0, 0.0], [-0.5, 0.0, 0.0], [0.0, 0.0, 2.0]]))
    with pytest.raises(SingularSystemError, match="'transport'"):
        factorise(A, labels=("truck", "transport", "diesel"), cache=None)
    with pytest.raises(SingularSystemError) as err:
        factorise(A, labels=("truck", "transport", "diesel"), cache=None)
    assert "'truck'" not in str(err.value)
    assert "'diesel'" not in str(err.value)
