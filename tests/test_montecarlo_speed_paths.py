"""The fast Monte Carlo paths: the vectorised inverse CDF of a database's stored distributions
(:func:`openpcf.model.database_uncertainty.quantiles`), its own stream of uniforms
(:meth:`DatabaseSampler.draw_from`) and the warm-started solves of the draws
(:class:`openpcf.core.solver.SampledSystems`, with its fall-back to LU).

No wall-clock asserts: the speed is measured by ``bench/engine.py`` (rows e and f).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.sparse as sp

from fixtures.uncertain_database import uncertain_database
from openpcf.core.solver import SAMPLED_MAX_FAILURES, SampledSystems
from openpcf.core.system import MatrixSystem
from openpcf.core.uncertainty import (
    LOGNORMAL,
    NO_UNCERTAINTY,
    NORMAL,
    TRIANGULAR,
    UNIFORM,
    Distribution,
)
from openpcf.errors import InputError
from openpcf.io.uncertainty import PARAMS_DTYPE, MatrixUncertainty
from openpcf.model.database_uncertainty import DatabaseSampler, Drawer, means, quantiles


def _rows(*dists: Distribution) -> np.ndarray:
    out = np.zeros(len(dists), dtype=PARAMS_DTYPE)
    for k, d in enumerate(dists):
        for name in ("uncertainty_type", "loc", "scale", "shape", "minimum", "maximum"):
            out[name][k] = getattr(d, name)
        out["negative"][k] = d.negative
    return out


MIXED = (
    Distribution(uncertainty_type=LOGNORMAL, loc=math.log(2.0), scale=0.3, negative=True),
    Distribution(uncertainty_type=NORMAL, loc=5.0, scale=0.5),
    Distribution(uncertainty_type=UNIFORM, minimum=1.0, maximum=3.0),
    Distribution(uncertainty_type=TRIANGULAR, loc=2.0, minimum=1.0, maximum=4.0),
    Distribution(uncertainty_type=NO_UNCERTAINTY, loc=7.0),
)


def test_vectorised_quantiles_equal_each_distributions_ppf() -> None:
    u = np.random.default_rng(1).random((50, len(MIXED)))
    got = quantiles(_rows(*MIXED), u)
    want = np.column_stack([d.ppf(u[:, k]) for k, d in enumerate(MIXED)])
    np.testing.assert_allclose(got, want, rtol=1e-15)


def test_vectorised_means_equal_moments() -> None:
    """lognormal −exp(ln 2 + 0.09/2) = −2.0921; normal 5; uniform (1+3)/2 = 2; triangular
    (1+2+4)/3 = 7/3; fixed 7."""
    np.testing.assert_allclose(
        means(_rows(*MIXED)), [-2 * math.exp(0.045), 5.0, 2.0, 7 / 3, 7.0], rtol=1e-14
    )
    np.testing.assert_allclose(means(_rows(*MIXED)), [d.moments()[0] for d in MIXED], rtol=1e-14)


@pytest.mark.parametrize("how", ["ppf", "sample"])
def test_sampled_moments(how: str) -> None:
    """200,000 draws of each, by the inverse CDF and by the direct generators: the sample mean
    within 5 standard errors of the exact mean and the variance within 2 % (lognormal σ² =
    (exp(0.09) − 1) 4 exp(0.09) = 0.4127; normal 0.25; uniform 4/12; triangular
    (1 + 4 + 16 − 2 − 4 − 8)/18 = 7/18)."""
    drawer = Drawer(_rows(*MIXED))
    rng = np.random.default_rng(2)
    n = 200_000
    x = drawer.ppf(rng.random((n, len(MIXED)))) if how == "ppf" else drawer.sample(rng, n)
    for k, d in enumerate(MIXED[:4]):
        mean, var = d.moments()
        assert abs(x[:, k].mean() - mean) < 5 * math.sqrt(var / n)
        assert abs(x[:, k].var() / var - 1) < 0.02
    assert np.all(x[:, 4] == 7.0)  # no uncertainty: the amount


def test_same_seed_same_samples() -> None:
    drawer = Drawer(_rows(*MIXED))
    a = drawer.sample(np.random.default_rng(4), 10)
    np.testing.assert_array_equal(a, drawer.sample(np.random.default_rng(4), 10))
    assert not np.array_equal(a, drawer.sample(np.random.default_rng(5), 10))


def _database(n: int = 30, sigma: float = 0.2) -> tuple[MatrixSystem, MatrixUncertainty]:
    """``tests/fixtures/uncertain_database.py``: 4 flows, every input and B entry lognormal."""
    return uncertain_database(n, flows=4, seed=3, sigma=sigma)


C = np.array([1.0, 0.0, 25.0, 0.0])  # two flows uncharacterised: their B entries do not move λ


def _sampler(**kw: object) -> DatabaseSampler:
    system, params = _database()
    return DatabaseSampler("db@1", system, params, C, ["a0", "a5"], **kw)  # type: ignore[arg-type]


def test_database_draws_same_seed_same_samples_and_same_distribution() -> None:
    """draw_from (direct generators, warm-started BiCGSTAB) repeats itself for one seed, and
    its 1,500 draws agree with 1,500 by inverse CDF of independent uniforms solved by LU
    (two-sample z of the mean below 4: a false alarm has probability 6e-5)."""
    a = _sampler().draw_from(np.random.default_rng(7), 1500)
    np.testing.assert_array_equal(a, _sampler().draw_from(np.random.default_rng(7), 1500))
    lu = _sampler(backend="superlu")
    u = np.random.default_rng(8).random((1500, lu.entries))
    b = lu.draw({k: u[:, j] for j, k in enumerate(lu.keys)}, 1500)
    assert lu.iterative_solves == 0
    assert lu.solves == 1500
    for k in range(2):
        x, y = a[:, k], b[:, k]
        z = (x.mean() - y.mean()) / math.sqrt(x.var() / x.size + y.var() / y.size)
        assert abs(z) < 4, (k, z)
        assert 0.8 < x.std() / y.std() < 1.25


def test_draws_equal_a_direct_solve_of_the_sampled_matrices() -> None:
    """Each draw is λ = A⁻ᵀ Bᵀ c of its own sampled A, B (built here entry by entry with
    Distribution.ppf and solved densely)."""
    system, params = _database()
    sampler = DatabaseSampler("db@1", system, params, C, ["a0", "a5"])
    u = np.random.default_rng(9).random((5, sampler.entries))
    drawn = sampler.draw({k: u[:, j] for j, k in enumerate(sampler.keys)}, 5)
    A, B = system.A.toarray(), system.B.toarray()
    for i in range(5):
        Ai, Bi = A.copy(), B.copy()
        for j, p in enumerate(params.A[params.A["uncertainty_type"] == LOGNORMAL]):
            Ai[p["row"], p["col"]] = _dist(p).ppf(u[i, j])
        offset = int((params.A["uncertainty_type"] == LOGNORMAL).sum())
        for j, p in enumerate(params.B):
            Bi[p["row"], p["col"]] = _dist(p).ppf(u[i, offset + j])
        lam = np.linalg.solve(Ai.T, Bi.T @ C)
        np.testing.assert_allclose(drawn[i], lam[[0, 5]], rtol=1e-9)
    assert sampler.iterative_solves == 5
    assert "warm-started BiCGSTAB" in sampler.describe()


def _dist(p: np.void) -> Distribution:
    return Distribution(
        uncertainty_type=int(p["uncertainty_type"]),
        loc=float(p["loc"]),
        scale=float(p["scale"]),
        negative=bool(p["negative"]),
    )


def test_mean_of_draws_converges_to_the_analytic_mean() -> None:
    """σ = 0.05: λ is nearly linear in the entries, so the Monte Carlo mean is within 5
    standard errors of λ at the entries' means (second-order bias ≪ the error of 2,000)."""
    system, params = _database()
    for p in (params.A, params.B):
        p["scale"] = np.where(p["uncertainty_type"] == LOGNORMAL, 0.05, p["scale"])
    sampler = DatabaseSampler("db@1", system, params, C, ["a0"])
    x = sampler.draw_from(np.random.default_rng(11), 2000)[:, 0]
    assert abs(x.mean() - sampler.mean_intensities()[0]) < 5 * x.std() / math.sqrt(len(x))


def _ring(n: int = 2000, loop: float = 0.999999) -> sp.csc_array:
    """Unit diagonal, each activity using ``loop`` of the next one's product: Jacobi does
    nothing and the spectrum circles 1 at radius 0.999999, so BiCGSTAB cannot converge in
    ITERATIVE_MAXITER iterations (tests/test_iterative_solver.py); LU solves it exactly."""
    return sp.csc_array(
        sp.eye_array(n) - loop * sp.eye_array(n, k=1) - loop * sp.eye_array(n, k=1 - n)
    )


def test_non_converging_draws_fall_back_to_lu_then_stop_trying() -> None:
    A = _ring()
    systems = SampledSystems(A)
    r = np.random.default_rng(5).random(A.shape[0])
    for k in range(SAMPLED_MAX_FAILURES + 2):
        data = A.data * (1 + 1e-9 * k)
        lam = systems.solve_transposed(data, r)
        Ak = sp.csc_array((data, A.indices, A.indptr), shape=A.shape)
        assert np.linalg.norm(Ak.T @ lam - r) / np.linalg.norm(r) < 1e-9
    assert systems.iterative_solves == 0
    assert systems.fallback.startswith("BiCGSTAB reached a relative residual")
    assert not systems.iterative  # given up after SAMPLED_MAX_FAILURES in a row
    assert systems.solves == SAMPLED_MAX_FAILURES + 2


def test_warm_start_takes_fewer_iterations_than_a_cold_start() -> None:
    system, _ = _database(n=400)
    A = sp.csc_array(system.A)
    r = np.ones(A.shape[0])
    warm = SampledSystems(A, tolerance=1e-12)
    warm.solve_transposed(A.data, r)
    first = warm.iterations
    warm.solve_transposed(A.data * (1 + 1e-6), r)
    assert warm.iterations - first < first


def test_singular_structure_and_bad_tolerance_are_refused() -> None:
    A = sp.csc_array(np.array([[1.0, 0.0], [2.0, 0.0]]))
    with pytest.raises(Exception, match="singular"):
        SampledSystems(A)
    with pytest.raises(ValueError, match="tolerance"):
        SampledSystems(sp.csc_array(np.eye(2)), tolerance=0.0)


def test_a_sampled_matrix_that_cannot_be_solved_names_the_database() -> None:
    """A draw whose matrix is singular (its values zeroed by a wide normal) is an InputError
    naming the database."""
    system, params = _database(n=4)
    A_params = params.A.copy()
    A_params["uncertainty_type"] = NORMAL
    A_params["loc"] = 0.0
    A_params["scale"] = 1e-300
    sampler = DatabaseSampler(
        "wide@1", system, MatrixUncertainty(A=A_params, B=params.B), C, ["a0"]
    )
    with pytest.raises(InputError, match="wide@1"):
        sampler.draw_from(np.random.default_rng(1), 1)
