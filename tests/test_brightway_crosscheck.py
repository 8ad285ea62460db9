"""OpenPCF and Brightway (bw2calc 3.1) give the same answers on the same random system.

The system is a seeded random sparse technosphere: 300 activities, about five inputs per column
(small negative amounts whose column sum stays below the diagonal, so ``A`` is column
diagonally dominant and the Leontief inverse exists), 40 elementary flows and a
characterisation vector ``c``. It is handed to bw2calc through a ``bw_processing`` datapackage
in Brightway's sign convention: technosphere inputs are stored as positive amounts with
``flip=True`` and production stays positive.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import scipy.sparse as sp

bc = pytest.importorskip("bw2calc")
bwp = pytest.importorskip("bw_processing")

from bench.synthetic import ACTIVITY_ID0, to_datapackage  # noqa: E402

from openpcf.core.engine import (  # noqa: E402
    IntensityCache,
    LayeredSystem,
    intensities,
    solve_background,
    solve_layered,
)
from openpcf.core.solver import FactorisationCache, factorise  # noqa: E402
from openpcf.core.system import MatrixSystem  # noqa: E402

N = 300
M = 40
P = 30  # foreground size for the layered split
RTOL = 1e-9
ACT0 = ACTIVITY_ID0  # Brightway id of activity (and reference product) 0
METHOD = "gwp"


def _random_system(seed: int, *, layered: bool = False) -> tuple[sp.csc_array, sp.csc_array, Any]:
    rng = np.random.default_rng(seed)
    per_col = 5
    cols = np.repeat(np.arange(N), per_col)
    rows = rng.integers(0, N, size=cols.size)
    keep = rows != cols
    if layered:
        # the background (columns >= P) never consumes foreground products (rows < P)
        keep &= ~((rows < P) & (cols >= P))
    rows, cols = rows[keep], cols[keep]
    vals = -rng.uniform(0.01, 0.15, size=rows.size)  # column sums <= 0.75 < diagonal
    diag = rng.uniform(1.0, 2.0, size=N)
    A = sp.csc_array(
        (np.concatenate([diag, vals]), (np.r_[np.arange(N), rows], np.r_[np.arange(N), cols])),
        shape=(N, N),
    )
    B = sp.csc_array(sp.random(M, N, density=0.1, random_state=rng, format="csc"))
    c = rng.uniform(0.0, 30.0, size=M)
    c[rng.random(M) < 0.3] = 0.0  # not every flow is characterised
    return A, B, c


def _system(A: sp.csc_array, B: sp.csc_array) -> MatrixSystem:
    return MatrixSystem(
        A=A,
        B=B,
        activities=tuple(f"a{j}" for j in range(A.shape[1])),
        flows=tuple(f"f{i}" for i in range(B.shape[0])),
    )


def _bw_lca(dp: Any, demand: dict[int, float]) -> Any:
    lca = bc.LCA(demand={ACT0 + j: amount for j, amount in demand.items()}, data_objs=[dp])
    lca.lci()
    lca.lcia()
    return lca


def _bw_supply(lca: Any) -> np.ndarray:
    """bw2calc's supply array reordered to OpenPCF's activity order."""
    order = [lca.dicts.activity[ACT0 + j] for j in range(N)]
    return np.asarray(lca.supply_array)[order]


@pytest.fixture(scope="module")
def full() -> tuple[sp.csc_array, sp.csc_array, np.ndarray, Any]:
    A, B, c = _random_system(2024)
    return A, B, c, to_datapackage(A, B, c, method=METHOD)


DEMANDS = [
    {0: 1.0},
    {17: 2.5},
    {299: 1.0, 3: 0.25},
    dict.fromkeys(range(0, N, 7), 1.0),
    {42: -1.0, 43: 3.0},  # a negative demand (avoided product) is plain linear algebra too
]


@pytest.mark.parametrize("demand", DEMANDS)
def test_scores_and_supply_match_bw2calc(
    full: tuple[sp.csc_array, sp.csc_array, np.ndarray, Any], demand: dict[int, float]
) -> None:
    A, B, c, dp = full
    f = np.zeros(N)
    for j, amount in demand.items():
        f[j] = amount
    fact = factorise(A, cache=FactorisationCache())
    s = fact.solve(f)
    lca = _bw_lca(dp, demand)
    np.testing.assert_allclose(s, _bw_supply(lca), rtol=RTOL, atol=1e-12)
    np.testing.assert_allclose(c @ (B @ s), lca.score, rtol=RTOL)


def test_redone_lci_on_one_bw2calc_object_matches(
    full: tuple[sp.csc_array, sp.csc_array, np.ndarray, Any],
) -> None:
    """bw2calc reusing its factorisation (lci with a new demand) agrees with OpenPCF too."""
    A, B, c, dp = full
    lam = intensities(_system(A, B), c, cache=FactorisationCache())
    lca = _bw_lca(dp, {0: 1.0})
    for j in (5, 150, 298):
        lca.lci(demand={ACT0 + j: 1.0})
        lca.lcia()
        np.testing.assert_allclose(lam[j, 0], lca.score, rtol=RTOL)


def test_all_activity_intensities_match_bw2calc_sample(
    full: tuple[sp.csc_array, sp.csc_array, np.ndarray, Any],
) -> None:
    A, B, c, dp = full
    lam = intensities(_system(A, B), c, cache=FactorisationCache())
    assert lam.shape == (N, 1)
    sample = np.random.default_rng(1).choice(N, size=20, replace=False)
    scores = [_bw_lca(dp, {int(j): 1.0}).score for j in sample]
    np.testing.assert_allclose(lam[sample, 0], scores, rtol=RTOL)


def test_all_activity_intensities_match_bw2calc_multi_demand(
    full: tuple[sp.csc_array, sp.csc_array, np.ndarray, Any],
) -> None:
    """bw2calc's own all-products calculation (adjoint ``FastScoresOnlyMultiLCA``)."""
    A, B, c, dp = full
    lam = intensities(_system(A, B), c, cache=FactorisationCache())
    mlca = bc.FastScoresOnlyMultiLCA(
        demands={f"a{j}": {ACT0 + j: 1.0} for j in range(N)},
        method_config={"impact_categories": [(METHOD,)]},
        data_objs=[dp],
        direction="adjoint",
    )
    mlca.calculate()
    products = [int(x) for x in mlca.product_scores.coords["products"].values]
    bw = dict(zip(products, np.asarray(mlca.product_scores.values)[0], strict=True))
    np.testing.assert_allclose(lam[:, 0], [bw[ACT0 + j] for j in range(N)], rtol=RTOL)


def test_layered_split_matches_bw2calc() -> None:
    A, B, c = _random_system(7, layered=True)
    dp = to_datapackage(A, B, c, method=METHOD)
    flows = tuple(f"f{i}" for i in range(M))
    fg = MatrixSystem(
        A=A[:P, :P], B=B[:, :P], activities=tuple(f"a{j}" for j in range(P)), flows=flows
    )
    bg = MatrixSystem(
        A=A[P:, P:], B=B[:, P:], activities=tuple(f"a{j}" for j in range(P, N)), flows=flows
    )
    assert sp.csc_array(A[:P, P:]).nnz == 0
    system = LayeredSystem(foreground=fg, background=bg, A_bf=A[P:, :P])
    facts, cache = FactorisationCache(), IntensityCache()
    for demand in ({0: 1.0}, {29: 2.0, 4: 0.5}, dict.fromkeys(range(P), 1.0)):
        f = np.zeros(P)
        for j, amount in demand.items():
            f[j] = amount
        sol = solve_layered(system, f, c, factorisations=facts, cache=cache)
        lca = _bw_lca(dp, demand)
        np.testing.assert_allclose(sol.total[0], lca.score, rtol=RTOL)
        supply = _bw_supply(lca)
        np.testing.assert_allclose(sol.s_f, supply[:P], rtol=RTOL, atol=1e-12)
        s_b = solve_background(system, sol.s_f, factorisations=facts)
        np.testing.assert_allclose(s_b, supply[P:], rtol=RTOL, atol=1e-12)
