"""OpenPCF's Monte Carlo of a database's stored distributions against Brightway's (bw2calc 3.1).

The system: a seeded random technosphere of 40 activities (about three inputs per column,
column diagonally dominant, so the Leontief inverse exists for every draw), 8 elementary flows
and a characterisation vector ``c``. Every input of ``A`` and every entry of ``B`` carries a
stats_arrays distribution, a mix of lognormal, normal, uniform and triangular. OpenPCF samples
it as ``openpcf uncertainty --monte-carlo`` samples an imported database
(:class:`openpcf.model.montecarlo.DatabaseSampler`: every entry drawn by its inverse CDF, then
``Aᵀ λ = Bᵀ c`` solved per draw); bw2calc samples the same distributions (stats_arrays'
random generators through matrix_utils) in ``LCA(..., use_distributions=True)`` with ``next``,
the bw2calc 3 form of ``MonteCarloLCA``. Brightway stores technosphere inputs as positive
amounts with ``flip=True``, so its distributions describe ``|a|`` where OpenPCF's describe the
negative ``a`` (``negative=True`` for a lognormal, a negated mean or range otherwise).

The score of one unit of activity 0, drawn ``N = 2000`` times by each, must agree within
sampling error. The two samples are independent (different generators), so each check is a
two-sample z-test at 4 standard errors: if the two distributions are the same, a check fails by
chance with probability 2·Φ(−4) = 6.3e-5 (and the seeds are fixed, so the test is
deterministic); the standard errors come from the samples themselves:

* mean: ``SE = √(s₁²/n₁ + s₂²/n₂)``;
* variance: ``Var(s²) ≈ (m₄ − s⁴)/n`` (m₄ the fourth central moment; no normality assumed);
* 2.5 and 97.5 percentiles, distribution-free: the share of OpenPCF's draws below Brightway's
  q-quantile is ``q`` within ``√(q(1 − q)(1/n₁ + 1/n₂))`` (binomial error of both samples).

How small a difference this catches (the last test): with a coefficient of variation of
about 0.25 (here), the mean's 4 SE are about 3 % of the mean; σ of the ``B`` lognormals scaled by
1.2 is caught by the variance check (z about 5.6).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import scipy.sparse as sp
import scipy.sparse.linalg as spla

bc = pytest.importorskip("bw2calc")
bwp = pytest.importorskip("bw_processing")

from bench.synthetic import ACTIVITY_ID0, FLOW_ID0  # noqa: E402

from openpcf.core.system import MatrixSystem  # noqa: E402
from openpcf.core.uncertainty import LOGNORMAL, NORMAL, TRIANGULAR, UNIFORM  # noqa: E402
from openpcf.io.uncertainty import PARAMS_DTYPE, MatrixUncertainty  # noqa: E402
from openpcf.model.montecarlo import DatabaseSampler  # noqa: E402

N_ACT, N_FLOW = 40, 8
DRAWS = 2000
Z = 4.0
SEED = 20241204


def _system(seed: int) -> tuple[sp.csc_array, sp.csc_array, np.ndarray]:
    rng = np.random.default_rng(seed)
    cols = np.repeat(np.arange(N_ACT), 3)
    rows = rng.integers(0, N_ACT, size=cols.size)
    keep = rows != cols
    rows, cols = rows[keep], cols[keep]
    A = sp.csc_array(
        (
            np.r_[rng.uniform(1.0, 2.0, N_ACT), -rng.uniform(0.02, 0.2, rows.size)],
            (np.r_[np.arange(N_ACT), rows], np.r_[np.arange(N_ACT), cols]),
        ),
        shape=(N_ACT, N_ACT),
    )
    A.sum_duplicates()
    B = sp.csc_array(sp.random(N_FLOW, N_ACT, density=0.4, random_state=rng, format="csc"))
    B.data += 0.1
    c = rng.uniform(1.0, 30.0, N_FLOW)
    return A, B, c


def _params(matrix: sp.csc_array, kinds: np.ndarray, *, wider: float = 1.0) -> np.ndarray:
    """One stats_arrays row per stored entry (CSC order); diagonal entries have none.

    ``kinds`` per entry: 2 lognormal (σ 0.2 in A, 0.3 in B, times ``wider``; loc = ln |a|, so
    the amount is the median), 3 normal (sd 15 % of |a|), 4 uniform (a ± 25 %),
    5 triangular (mode a, a ± 30 %)."""
    p = np.zeros(matrix.nnz, dtype=PARAMS_DTYPE)
    p["col"] = np.repeat(np.arange(matrix.shape[1]), np.diff(matrix.indptr))
    p["row"] = matrix.indices
    p["loc"] = matrix.data
    for name in ("scale", "shape", "minimum", "maximum"):
        p[name] = np.nan
    p["uncertainty_type"] = 1  # no uncertainty
    sigma = 0.2 if matrix.shape[0] == matrix.shape[1] else 0.3
    for k, (a, kind) in enumerate(zip(matrix.data, kinds, strict=True)):
        if p["row"][k] == p["col"][k] and matrix.shape[0] == matrix.shape[1]:
            continue
        p["uncertainty_type"][k] = kind
        if kind == LOGNORMAL:
            p["loc"][k], p["scale"][k], p["negative"][k] = np.log(abs(a)), sigma * wider, a < 0
        elif kind == NORMAL:
            p["scale"][k] = 0.15 * abs(a)
        elif kind == UNIFORM:
            p["minimum"][k], p["maximum"][k] = sorted((0.75 * a, 1.25 * a))
        else:
            p["minimum"][k], p["maximum"][k] = sorted((0.7 * a, 1.3 * a))
    return p


def _brightway(params: np.ndarray) -> np.ndarray:
    """The same rows in Brightway's sign convention: inputs of ``A`` positive (``flip``)."""
    flip = params["loc"] < 0
    flip |= params["negative"] & (params["uncertainty_type"] == LOGNORMAL)
    out = np.zeros(len(params), dtype=bwp.UNCERTAINTY_DTYPE)
    for name in ("uncertainty_type", "loc", "scale", "shape", "minimum", "maximum"):
        out[name] = params[name]
    lognormal = params["uncertainty_type"] == LOGNORMAL
    linear = ~lognormal & flip
    out["loc"][linear] = -params["loc"][linear]
    lo, hi = params["minimum"][linear], params["maximum"][linear]
    out["minimum"][linear], out["maximum"][linear] = -hi, -lo
    out["negative"] = False
    return out


def _datapackage(
    A: sp.csc_array, B: sp.csc_array, c: np.ndarray, pa: np.ndarray, pb: np.ndarray
) -> Any:
    dp = bwp.create_datapackage(sum_intra_duplicates=True)
    for name, matrix, params, ids in (
        ("technosphere", A, pa, ACTIVITY_ID0),
        ("biosphere", B, pb, FLOW_ID0),
    ):
        coo = sp.coo_array(matrix)
        order = np.lexsort((coo.row, coo.col))  # CSC order, as the parameter rows
        idx = np.empty(coo.nnz, dtype=bwp.INDICES_DTYPE)
        idx["row"] = ids + coo.row[order]
        idx["col"] = ACTIVITY_ID0 + coo.col[order]
        assert np.array_equal(coo.row[order], params["row"])
        bw = _brightway(params)
        dp.add_persistent_vector(
            matrix=f"{name}_matrix",
            name=name,
            indices_array=idx,
            data_array=np.abs(coo.data[order]),
            flip_array=coo.data[order] < 0,
            distributions_array=bw,
        )
    nz = np.flatnonzero(c)
    idx = np.empty(nz.size, dtype=bwp.INDICES_DTYPE)
    idx["row"], idx["col"] = FLOW_ID0 + nz, 0
    dp.add_persistent_vector(
        matrix="characterization_matrix",
        name="characterization",
        indices_array=idx,
        data_array=c[nz],
    )
    return dp


def _kinds(rng: np.random.Generator, n: int) -> np.ndarray:
    return rng.choice([LOGNORMAL, NORMAL, UNIFORM, TRIANGULAR], size=n, p=[0.55, 0.15, 0.15, 0.15])


def _inputs(wider: float = 1.0) -> tuple[sp.csc_array, sp.csc_array, np.ndarray, MatrixUncertainty]:
    A, B, c = _system(SEED)
    rng = np.random.default_rng(SEED + 1)
    pa = _params(A, _kinds(rng, A.nnz))
    pb = _params(B, _kinds(rng, B.nnz), wider=wider)
    return A, B, c, MatrixUncertainty(A=pa, B=pb)


def _openpcf(wider: float = 1.0) -> np.ndarray:
    A, B, c, params = _inputs(wider)
    system = MatrixSystem(
        A=A,
        B=B,
        activities=tuple(f"a{j}" for j in range(N_ACT)),
        flows=tuple(f"f{i}" for i in range(N_FLOW)),
    )
    db = DatabaseSampler("synthetic@1", system, params, c, ["a0"], backend="superlu")
    rng = np.random.default_rng(SEED + 2)
    uniforms = {key: rng.random(DRAWS) for key in db.keys}
    scores: np.ndarray = db.draw(uniforms, DRAWS)[:, 0]
    return scores


def _bw2calc() -> tuple[np.ndarray, float]:
    """``DRAWS`` stochastic scores, and the static score."""
    A, B, c, params = _inputs()
    dp = _datapackage(A, B, c, params.A, params.B)
    static = bc.LCA({ACTIVITY_ID0: 1.0}, data_objs=[dp])
    static.lci()
    static.lcia()
    lca = bc.LCA({ACTIVITY_ID0: 1.0}, data_objs=[dp], use_distributions=True, seed_override=SEED)
    lca.lci()
    lca.lcia()
    scores = [lca.score]
    for _ in range(DRAWS - 1):
        next(lca)
        scores.append(lca.score)
    return np.array(scores), float(static.score)


def _agree(a: np.ndarray, b: np.ndarray) -> dict[str, float]:
    """The z of each check (module docstring): mean, variance, 2.5 and 97.5 percentiles."""
    na, nb = len(a), len(b)
    z = {"mean": (a.mean() - b.mean()) / np.sqrt(a.var(ddof=1) / na + b.var(ddof=1) / nb)}
    var_se = [np.sqrt((np.mean((x - x.mean()) ** 4) - x.var() ** 2) / len(x)) for x in (a, b)]
    z["variance"] = (a.var(ddof=1) - b.var(ddof=1)) / np.hypot(*var_se)
    for q in (0.025, 0.975):
        below = float((a < np.quantile(b, q)).mean())
        z[f"p{100 * q:g}"] = (below - q) / np.sqrt(q * (1 - q) * (1 / na + 1 / nb))
    return {k: float(v) for k, v in z.items()}


@pytest.fixture(scope="module")
def samples() -> tuple[np.ndarray, np.ndarray, float]:
    """Both samples. bw2calc solves with SciPy here, not pypardiso: on 40 activities PARDISO's
    set-up per draw (about 5 ms, MKL threads) is most of the time, and the solver is not what
    this test compares (both solve each draw exactly)."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(bc.lca_base, "PYPARDISO", False)
        mp.setattr(bc.lca_base, "spsolve", spla.spsolve)
        mp.setattr(bc.lca, "PYPARDISO", False)
        bw, static = _bw2calc()
    return _openpcf(), bw, static


def test_same_static_score(samples: tuple[np.ndarray, np.ndarray, float]) -> None:
    """Both read the same matrices: the deterministic score λ_0 = (A⁻ᵀ Bᵀ c)_0 is the same."""
    A, B, c, _ = _inputs()
    lam = spla.spsolve(sp.csc_array(A.T), B.T @ c)
    np.testing.assert_allclose(lam[0], samples[2], rtol=1e-9)


def test_monte_carlo_agrees_with_bw2calc(samples: tuple[np.ndarray, np.ndarray, float]) -> None:
    ours, theirs, static = samples
    assert np.all(np.isfinite(ours))
    assert np.all(np.isfinite(theirs))
    assert theirs.std() > 0.05 * static  # Brightway did sample (not the static score 2000 times)
    z = _agree(ours, theirs)
    assert all(abs(v) < Z for v in z.values()), z
    # the spread is well inside the check's reach: CV about 0.1-0.3
    assert 0.05 < ours.std() / ours.mean() < 0.5


def test_the_check_catches_a_wider_distribution(
    samples: tuple[np.ndarray, np.ndarray, float],
) -> None:
    """Power: σ of the lognormal ``B`` entries x 1.2 in OpenPCF only is caught."""
    z = _agree(_openpcf(wider=1.2), samples[1])
    assert abs(z["variance"]) > Z, z
