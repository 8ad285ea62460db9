"""The draws of a database's Monte Carlo solved one by one: each from the solution at the
distributions' means (:class:`openpcf.core.solver.SampledSystems` with ``start``), with the
next draw's values drawn by a worker thread meanwhile
(:meth:`openpcf.model.database_uncertainty.DatabaseSampler.draw_from`).

No wall-clock asserts: the speed is measured by ``bench/engine.py`` (row f).
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from fixtures.uncertain_database import uncertain_database
from openpcf.core.solver import SampledSystems
from openpcf.core.system import MatrixSystem
from openpcf.core.uncertainty import LOGNORMAL
from openpcf.io.uncertainty import MatrixUncertainty
from openpcf.model import database_uncertainty
from openpcf.model.database_uncertainty import DatabaseSampler

#: ``A = [[1, −0.1], [−0.2, 1]]``: activity 0 uses 0.2 of activity 1's product, 1 uses 0.1
#: of 0's. With ``r = (2, 1)``, ``Aᵀ λ = r`` reads ``λ₀ − 0.2 λ₁ = 2`` and
#: ``−0.1 λ₀ + λ₁ = 1``, so ``λ₁ = 1 + 0.1 λ₀`` and ``0.98 λ₀ = 2.2``:
#: ``λ = (2.2 / 0.98, 1 + 0.22 / 0.98) = (2.244898, 1.224490)``.
A2 = sp.csc_array(np.array([[1.0, -0.1], [-0.2, 1.0]]))
R2 = np.array([2.0, 1.0])
LAM2 = np.array([2.2 / 0.98, 1 + 0.22 / 0.98])


def test_a_draw_started_from_its_own_solution_takes_no_iteration() -> None:
    """Started from λ worked out above (module constants), the draw of A itself is solved
    before the first iteration; a draw with every input 10 % larger (``Aᵀ`` rows
    ``λ₀ − 0.22 λ₁ = 2``, ``−0.11 λ₀ + λ₁ = 1``: ``0.9758 λ₀ = 2.22``, ``λ₀ = 2.275056``,
    ``λ₁ = 1.250256``) starts from the same λ, not from the previous draw's."""
    systems = SampledSystems(A2, tolerance=1e-12, start=LAM2)
    np.testing.assert_allclose(systems.solve_transposed(A2.data, R2), LAM2, rtol=1e-12)
    assert systems.iterations == 0
    wider = np.where(A2.data < 0, 1.1 * A2.data, A2.data)
    lam = systems.solve_transposed(wider, R2)
    np.testing.assert_allclose(lam, [2.22 / 0.9758, 1 + 0.11 * 2.22 / 0.9758], rtol=1e-11)
    assert systems.iterative_solves == 2
    again = SampledSystems(A2, tolerance=1e-12, start=LAM2)
    again.solve_transposed(wider, R2)  # no draw before it: the same start, the same answer
    np.testing.assert_array_equal(again.solve_transposed(wider, R2), lam)


def test_a_presolved_start_is_finished_to_the_same_answer() -> None:
    """The draw with inputs 10 % larger (λ = (2.275056, 1.250256), worked out above) taken
    to a relative residual of 1e-3 by ``presolve``, then finished from there; by LU
    (``iterative=False``) ``presolve`` hands back ``start`` untouched."""
    systems = SampledSystems(A2, tolerance=1e-12, start=LAM2)
    wider = np.where(A2.data < 0, 1.1 * A2.data, A2.data)
    AT = sp.csr_array((wider, A2.indices, A2.indptr), shape=(2, 2))
    x0, count = systems.presolve(wider, R2, 1e-3)
    assert count >= 1
    assert np.linalg.norm(AT @ x0 - R2) <= 1e-3 * np.linalg.norm(R2)
    assert systems.solves == systems.iterations == 0  # nothing counted or changed
    lam = systems.solve_transposed(wider, R2, x0=x0)
    np.testing.assert_allclose(lam, [2.22 / 0.9758, 1 + 0.11 * 2.22 / 0.9758], rtol=1e-11)
    by_lu = SampledSystems(A2, start=LAM2, iterative=False)
    start, none = by_lu.presolve(wider, R2, 1e-3)
    assert none == 0
    np.testing.assert_array_equal(start, LAM2)


def test_a_start_of_the_wrong_size_is_refused() -> None:
    with pytest.raises(ValueError, match="start must have 2 values"):
        SampledSystems(A2, start=np.ones(3))


def _database(n: int = 40) -> tuple[MatrixSystem, MatrixUncertainty]:
    """``tests/fixtures/uncertain_database.py``: 40 activities, 3 flows, σ 0.2."""
    return uncertain_database(n, flows=3, seed=21)


C = np.array([1.0, 0.0, 25.0])


def _sampler() -> DatabaseSampler:
    system, params = _database()
    return DatabaseSampler("db@1", system, params, C, ["a0", "a7"], tolerance=1e-11)


def _drawn(
    monkeypatch: pytest.MonkeyPatch, worker: bool, counts: list[int]
) -> tuple[np.ndarray, DatabaseSampler]:
    """Draws from seed 3, ``counts[k]`` of them by the ``k``-th of fresh samplers, with the
    worker thread (its threshold lowered to 0) or without; and the last sampler."""
    monkeypatch.setattr(database_uncertainty, "_PIPELINE_MIN_ENTRIES", 0 if worker else 10**9)
    rng = np.random.default_rng(3)
    samplers = [_sampler() for _ in counts]
    drawn = [s.draw_from(rng, k) for s, k in zip(samplers, counts, strict=True)]
    return np.concatenate(drawn), samplers[-1]


@pytest.mark.parametrize("worker", [False, True])
def test_draws_do_not_depend_on_how_a_run_is_split(
    worker: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each draw starts from λ at the means (or from the worker's start made from it), not
    from the draw before it, and only one thread draws from the generator, in the draws'
    order: 9 draws at once, 2 + 0 + 7 and 1 + 8 by fresh samplers from one generator are the
    same numbers, bit for bit, with the worker thread and without."""
    whole, _ = _drawn(monkeypatch, worker, [9])
    assert whole.shape == (9, 2)
    for counts in ([2, 0, 7], [1, 8]):
        np.testing.assert_array_equal(_drawn(monkeypatch, worker, counts)[0], whole)


def test_the_worker_changes_where_a_draw_starts_not_its_answer(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """With the worker, its BiCGSTAB takes each draw to a relative residual of 1e-3 and this
    thread finishes it to the sampler's 1e-11 (accepted at 1e-10): the same draws as without
    it (rtol 1e-9, far below the draws' spread), with the worker's iterations counted."""
    alone, plain = _drawn(monkeypatch, False, [9])
    paired, staged = _drawn(monkeypatch, True, [9])
    np.testing.assert_allclose(paired, alone, rtol=1e-9)
    assert plain.presolve_iterations == 0
    assert staged.presolve_iterations > 0
    assert staged.iterative_solves == 9
    assert "of them by the worker thread" in staged.describe()


def test_each_draw_is_its_own_sampled_system_solved() -> None:
    """The draws of ``draw_from`` are those of drawing one after the other: the A entries of
    a draw, then its characterised B entries, from one generator; rebuilt here entry by entry
    (``sign · exp(loc + σ z)``) and solved densely, they give the same λ (rtol 1e-9, the
    BiCGSTAB tolerance 1e-11 accepted at 1e-10)."""
    system, params = _database()
    sampler = _sampler()
    drawn = sampler.draw_from(np.random.default_rng(5), 4)
    rng = np.random.default_rng(5)
    a = params.A[params.A["uncertainty_type"] == LOGNORMAL]
    b = params.B[C[params.B["row"]] != 0.0]
    for i in range(4):
        A, B = system.A.toarray(), system.B.toarray()
        for p, entries in ((a, A), (b, B)):
            z = rng.standard_normal(len(p))
            sign = np.where(p["negative"], -1.0, 1.0)
            entries[p["row"], p["col"]] = sign * np.exp(p["loc"] + p["scale"] * z)
        lam = np.linalg.solve(A.T, B.T @ C)
        np.testing.assert_allclose(drawn[i], lam[[0, 7]], rtol=1e-9)
    assert sampler.iterative_solves == 4
