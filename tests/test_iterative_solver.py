"""``backend="iterative"``: Jacobi-preconditioned BiCGSTAB, checked against LU (SuperLU).

Every answer is compared with the LU answer of the same system (an independent direct solve)
element by element to 1e-9 relative; a system the Krylov method cannot solve falls back to LU
and says so; a warm start from a nearby solution takes fewer iterations (counted, not timed).
The ``realdata`` test does the same on USLCI and TianGong LCA Data (``../shared/data``).
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp
from bench.synthetic import make_background

from openpcf.core.engine import intensities, solver_used
from openpcf.core.solver import (
    ITERATIVE_MAXITER,
    ITERATIVE_METHOD,
    Factorisation,
    FactorisationCache,
    resolve_backend,
)
from openpcf.core.system import MatrixSystem
from openpcf.io.store import DatabaseStore
from openpcf.services import databases as svc
from openpcf.settings import get_settings

FIXTURES = Path(__file__).parent / "fixtures"
DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
USLCI = DATA / "uslci-olca1.5-json-ld-9182448.zip"
TIANGONG = DATA / "tiangong-lca-data-a55b302.zip"
RTOL = 1e-9


def _relative_difference(actual: np.ndarray, expected: np.ndarray) -> float:
    """Largest element-wise relative difference (absolute where the LU answer is exactly 0)."""
    denom = np.where(expected != 0.0, np.abs(expected), 1.0)
    return float(np.max(np.abs(actual - expected) / denom, initial=0.0))


def _against_lu(system: MatrixSystem, Q: np.ndarray) -> tuple[np.ndarray, FactorisationCache]:
    """Intensities by the iterative backend, asserted equal to SuperLU's within ``RTOL``."""
    cache = FactorisationCache()
    lam = intensities(system, Q, backend="iterative", cache=cache)
    lu = intensities(system, Q, backend="superlu", cache=FactorisationCache())
    assert _relative_difference(lam, lu) <= RTOL
    return lam, cache


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv("OPENPCF_HOME", str(tmp_path / "home"))
    get_settings.cache_clear()
    yield tmp_path / "home"
    get_settings.cache_clear()


def _imported(fmt: str, path: Path, name: str) -> MatrixSystem:
    store = DatabaseStore(get_settings().databases_dir)
    svc.import_database(fmt, path, name=name, store=store)
    return store.get(name).system()


def _gases(system: MatrixSystem) -> np.ndarray:
    return np.eye(system.B.shape[0])


def test_synthetic_background_equals_lu() -> None:
    bg = make_background(2_000, n_flows=200)
    rng = np.random.default_rng(7)
    Q = np.column_stack([bg.c, rng.random((bg.system.B.shape[0], 3))])
    _, cache = _against_lu(bg.system, Q)
    fact = cache.peek(bg.system.A, backend="iterative")
    assert fact is not None
    assert fact.last_solve is not None
    info = fact.last_solve
    assert info.method == ITERATIVE_METHOD
    assert not info.fallback
    assert len(info.iterations) == 4
    assert 0 < max(info.iterations) < ITERATIVE_MAXITER
    assert info.residual <= 1e-12
    assert solver_used(bg.system, backend="iterative", factorisations=cache).startswith(
        "iterative (bicgstab+jacobi, "
    )


def test_benchmark_background_equals_lu_whatever_the_blas_threads() -> None:
    """The 20,000-activity background of ``bench/engine.py`` row ``d``: equal to LU within
    1e-9, and bit for bit the same with OpenBLAS at one thread as with the threads it started
    with (the written-out BiCGSTAB makes no BLAS call, so no thread count can change it)."""
    from threadpoolctl import threadpool_limits  # type: ignore[import-untyped]

    bg = make_background(20_000, n_flows=2_000, seed=20_240_601)
    lam, cache = _against_lu(bg.system, bg.c)
    with threadpool_limits(limits=1, user_api="blas"):
        one = intensities(bg.system, bg.c, backend="iterative", cache=FactorisationCache())
    np.testing.assert_array_equal(one, lam)
    described = solver_used(bg.system, backend="iterative", factorisations=cache)
    assert described.startswith("iterative (bicgstab+jacobi, ")


def test_forward_solve_equals_lu() -> None:
    bg = make_background(500, n_flows=50)
    f = np.random.default_rng(3).random(500)
    s = Factorisation(bg.system.A, backend="iterative").solve(f)
    lu = Factorisation(bg.system.A).solve(f)
    assert _relative_difference(s, lu) <= RTOL


@pytest.mark.parametrize(("fmt", "fixture"), [("jsonld", "jsonld_small"), ("ilcd", "ilcd_small")])
def test_fixture_databases_equal_lu(home: Path, tmp_path: Path, fmt: str, fixture: str) -> None:
    copy = tmp_path / fixture
    shutil.copytree(FIXTURES / fixture, copy)
    system = _imported(fmt, copy, fixture.replace("_", "-"))
    _against_lu(system, _gases(system))


def test_non_converging_system_falls_back_to_lu_and_says_so() -> None:
    # a ring of 2,000 activities, each using 0.999999 of the next one's product: Jacobi does
    # nothing (unit diagonal) and the spectrum circles 1 at radius 0.999999, so BiCGSTAB
    # cannot converge within ITERATIVE_MAXITER iterations; LU on the ring is exact and cheap
    n = 2_000
    ring = sp.csc_array(
        sp.eye_array(n) - 0.999999 * sp.eye_array(n, k=1) - 0.999999 * sp.eye_array(n, k=1 - n)
    )
    B = sp.csc_array(np.random.default_rng(5).random((1, n)))
    system = MatrixSystem(A=ring, B=B, activities=tuple(map(str, range(n))), flows=("CO2",))
    cache = FactorisationCache()
    lam = intensities(system, np.ones(1), backend="iterative", cache=cache)
    dense = np.linalg.solve(ring.toarray().T, B.toarray()[0])
    assert _relative_difference(lam[:, 0], dense) <= RTOL
    described = solver_used(system, backend="iterative", factorisations=cache)
    assert described.startswith("iterative, fell back to superlu: BiCGSTAB reached")
    fact = cache.peek(ring, backend="iterative")
    assert fact is not None
    assert fact.last_solve is not None
    assert fact.last_solve.method == "superlu"
    assert fact.fallback
    # the fallback sticks to this matrix: the next solve goes straight to LU
    again = fact.solve_transposed(B.toarray()[0])
    assert fact.last_solve.method == "superlu"
    np.testing.assert_allclose(again, lam[:, 0], rtol=1e-12)


def test_warm_start_takes_fewer_iterations() -> None:
    bg = make_background(2_000, n_flows=200)
    system = bg.system
    cold = Factorisation(system.A, backend="iterative")
    lam = cold.solve_transposed(np.asarray(system.B.T @ bg.c))
    assert cold.last_solve is not None
    # a Monte Carlo-like draw: every amount of A off by up to 1 %
    noise = np.random.default_rng(11).uniform(0.99, 1.01, system.A.nnz)
    A2 = sp.csc_array((system.A.data * noise, system.A.indices, system.A.indptr), system.A.shape)
    rhs = np.asarray(system.B.T @ bg.c)
    fresh, warm = Factorisation(A2, backend="iterative"), Factorisation(A2, backend="iterative")
    lam_cold = fresh.solve_transposed(rhs)
    lam_warm = warm.solve_transposed(rhs, x0=lam)
    assert fresh.last_solve is not None
    assert warm.last_solve is not None
    assert warm.last_solve.iterations[0] < fresh.last_solve.iterations[0]
    lu = Factorisation(A2).solve_transposed(rhs)
    assert _relative_difference(lam_warm, lu) <= RTOL
    assert _relative_difference(lam_cold, lu) <= RTOL
    # the exact answer as the guess: no iteration at all
    exact = Factorisation(A2, backend="iterative")
    exact.solve_transposed(rhs, x0=lu)
    assert exact.last_solve is not None
    assert exact.last_solve.iterations == (0,)


def test_iterative_is_never_picked_by_auto() -> None:
    assert resolve_backend("iterative", 3) == "iterative"
    assert resolve_backend("auto", 10**6) != "iterative"


@pytest.mark.realdata
@pytest.mark.slow
@pytest.mark.parametrize(
    ("fmt", "archive"), [("jsonld", USLCI), ("ilcd", TIANGONG)], ids=["uslci", "tiangong"]
)
def test_real_databases_equal_lu(home: Path, fmt: str, archive: Path) -> None:
    if not archive.is_file():
        pytest.skip(f"{archive} not present")
    system = _imported(fmt, archive, archive.name.split("-")[0])
    _, cache = _against_lu(system, _gases(system))
    # Jacobi is not enough on these (not diagonally dominant): at the time of writing
    # BiCGSTAB breaks down on USLCI and diverges on TianGong, and LU takes over, saying so
    described = solver_used(system, backend="iterative", factorisations=cache)
    assert described.startswith(("iterative (bicgstab+jacobi", "iterative, fell back to superlu"))
