"""Issue 17: Monte Carlo draws of a database's uncertainty on the GPU backend
(:class:`openpcf.core.gpu.DeviceSampledSystems`, chosen by
:class:`~openpcf.model.database_uncertainty.DatabaseSampler` with ``backend="gpu"``).

No machine of this project has a GPU: the device path runs on :data:`CPU_STANDIN` (numpy and
scipy in place of CuPy), given to :class:`DeviceSampledSystems` as ``namespaces=``, and to a
sampler through :func:`openpcf.core.gpu.device_namespaces` (the one place CuPy is looked up).
Only the CuPy import and the device transfers are not exercised here.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import scipy.sparse as sp

from fixtures.in_process import openpcf
from fixtures.uncertain_database import uncertain_database
from openpcf.core import gpu
from openpcf.core.gpu import CPU_STANDIN, DeviceSampledSystems
from openpcf.core.solver import SAMPLED_MAX_FAILURES, Backend, SampledSystems
from openpcf.core.system import MatrixSystem
from openpcf.core.uncertainty import LOGNORMAL
from openpcf.io.uncertainty import PARAMS_DTYPE, MatrixUncertainty
from openpcf.model import database_uncertainty
from openpcf.model.database_uncertainty import DatabaseSampler

MODEL = Path(__file__).parent / "fixtures" / "two_process.yaml"
CUPY_INSTALLED = importlib.util.find_spec("cupy") is not None
STANDIN = "cpu (numpy stand-in)"

#: ``A = [[1, −0.1], [−0.2, 1]]`` and ``r = (2, 1)``: ``Aᵀ λ = r`` reads
#: ``λ₀ − 0.2 λ₁ = 2`` and ``−0.1 λ₀ + λ₁ = 1``, so ``λ₁ = 1 + 0.1 λ₀``, ``0.98 λ₀ = 2.2``:
#: ``λ = (2.2 / 0.98, 1 + 0.22 / 0.98) = (2.244898, 1.224490)``.
A2 = sp.csc_array(np.array([[1.0, -0.1], [-0.2, 1.0]]))
R2 = np.array([2.0, 1.0])
LAM2 = np.array([2.2 / 0.98, 1 + 0.22 / 0.98])


@pytest.fixture
def standin(monkeypatch: pytest.MonkeyPatch) -> None:
    """``backend="gpu"`` on numpy and scipy instead of CuPy, wherever it looks CuPy up."""
    monkeypatch.setattr(gpu, "device_namespaces", lambda: CPU_STANDIN)


def _on_device(
    A: sp.csc_array, *, tolerance: float = 1e-12, start: np.ndarray | None = None
) -> DeviceSampledSystems:
    """The device path on the CPU stand-in, as ``DatabaseSampler`` makes it: the CPU's
    ``SampledSystems`` (LU only) for the fall-back, a true residual of 10 × ``tolerance``
    accepted."""
    host = SampledSystems(A, tolerance=tolerance, iterative=False, start=start)
    return DeviceSampledSystems(
        host,
        accepted=10 * tolerance,
        max_failures=SAMPLED_MAX_FAILURES,
        start=start,
        namespaces=CPU_STANDIN,
    )


# -- DeviceSampledSystems ----------------------------------------------------------------------


def test_hand_worked_draws_on_the_device() -> None:
    """From λ at the means (module constants), the draw of A itself is solved before the
    first iteration; the draw with every input 10 % larger (``Aᵀ`` rows
    ``λ₀ − 0.22 λ₁ = 2``, ``−0.11 λ₀ + λ₁ = 1``: ``0.9758 λ₀ = 2.22``, ``λ₀ = 2.275056``,
    ``λ₁ = 1 + 0.11 λ₀ = 1.250256``) is solved on the device from the same start, equal to
    the CPU's ``SampledSystems`` within its tolerance."""
    device = _on_device(A2, start=LAM2)
    np.testing.assert_allclose(device.solve_transposed(A2.data, R2), LAM2, rtol=1e-12)
    assert device.iterations == 0
    wider = np.where(A2.data < 0, 1.1 * A2.data, A2.data)
    lam = device.solve_transposed(wider, R2)
    np.testing.assert_allclose(lam, [2.22 / 0.9758, 1 + 0.11 * 2.22 / 0.9758], rtol=1e-11)
    cpu = SampledSystems(A2, tolerance=1e-12, start=LAM2).solve_transposed(wider, R2)
    np.testing.assert_allclose(lam, cpu, rtol=1e-11)
    assert (device.solves, device.iterative_solves, device.fallbacks) == (2, 2, 0)
    assert device.device == STANDIN
    # the start of a draw, as the worker thread asks for it: λ at the means, no iteration
    start, count = device.presolve(wider, R2, 1e-3)
    np.testing.assert_array_equal(start, LAM2)
    assert count == 0


def test_only_the_drawn_values_move_to_the_device() -> None:
    """The sparsity of ``Aᵀ`` goes to the device once: every draw's matrix there shares the
    reference operator's index arrays (no copy) and carries the draw's values."""
    device = _on_device(A2, start=LAM2)
    seen = []
    solve_draw = device.system.solve_draw

    def spy(data: np.ndarray, r: np.ndarray, *, x0: np.ndarray | None = None) -> gpu.DeviceSolve:
        seen.append(data)
        return solve_draw(data, r, x0=x0)

    device.system.solve_draw = spy  # type: ignore[method-assign]
    built: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    csr = CPU_STANDIN.sparse.csr_matrix

    class Recording:
        @staticmethod
        def csr_matrix(*args: Any, **kwargs: Any) -> Any:
            built.append(args[0])
            return csr(*args, **kwargs)

    device.system.ns = gpu.Namespaces(xp=np, sparse=Recording, device=STANDIN, to_host=np.asarray)
    for scale in (1.0, 1.1, 0.9):
        device.solve_transposed(np.where(A2.data < 0, scale * A2.data, A2.data), R2)
    reference = device.system.operator(True)
    assert len(built) == 1 + 3  # the reference once, then one matrix per draw
    for (values, indices, indptr), data in zip(built[1:], seen, strict=True):
        assert indices is reference.indices
        assert indptr is reference.indptr
        np.testing.assert_array_equal(values, data)


def _ring(n: int = 2000, loop: float = 0.999999) -> sp.csc_array:
    """Unit diagonal, each activity using ``loop`` of the next one's product: Jacobi does
    nothing and the spectrum circles 1 at radius 0.999999, so BiCGSTAB cannot converge in
    ITERATIVE_MAXITER iterations (tests/test_montecarlo_speed_paths.py); LU solves it."""
    return sp.csc_array(
        sp.eye_array(n) - loop * sp.eye_array(n, k=1) - loop * sp.eye_array(n, k=1 - n)
    )


def test_a_draw_that_does_not_converge_falls_back_to_lu_and_is_counted() -> None:
    """Each failed draw is solved by LU on the host (its residual checked here), counted,
    and after SAMPLED_MAX_FAILURES failures in a row the device is not tried again."""
    A = _ring()
    device = _on_device(A)
    r = np.random.default_rng(5).random(A.shape[0])
    for k in range(SAMPLED_MAX_FAILURES + 2):
        data = A.data * (1 + 1e-9 * k)
        lam = device.solve_transposed(data, r)
        Ak = sp.csc_array((data, A.indices, A.indptr), shape=A.shape)
        assert np.linalg.norm(Ak.T @ lam - r) / np.linalg.norm(r) < 1e-9
    assert device.iterative_solves == 0
    assert device.fallbacks == device.solves == SAMPLED_MAX_FAILURES + 2
    assert device.host.solves == SAMPLED_MAX_FAILURES + 2  # type: ignore[attr-defined]
    assert device.fallback.startswith(f"BiCGSTAB on {STANDIN} reached a relative residual")
    assert not device.iterative


# -- DatabaseSampler(backend="gpu") ------------------------------------------------------------


def _database(n: int = 40) -> tuple[MatrixSystem, MatrixUncertainty]:
    """``tests/fixtures/uncertain_database.py``: 40 activities, 3 flows, σ 0.2."""
    return uncertain_database(n, flows=3, seed=21)


C = np.array([1.0, 0.0, 25.0])


def _recorded(backend: Backend) -> tuple[DatabaseSampler, list[tuple[np.ndarray, np.ndarray]]]:
    """A sampler of :func:`_database` solving by ``backend``, and a list that receives a copy
    of each drawn system (``A``'s values, ``r``) as it goes to the solver."""
    system, params = _database()
    sampler = DatabaseSampler(
        "db@1", system, params, C, ["a0", "a7"], backend=backend, tolerance=1e-11
    )
    systems = sampler._sampled()
    seen: list[tuple[np.ndarray, np.ndarray]] = []
    solve = systems.solve_transposed

    def recording(data: np.ndarray, r: np.ndarray, *, x0: np.ndarray | None = None) -> np.ndarray:
        seen.append((data.copy(), np.array(r)))
        return solve(data, r, x0=x0)

    systems.solve_transposed = recording  # type: ignore[method-assign]
    return sampler, seen


@pytest.mark.parametrize("worker", [False, True])
def test_device_draws_equal_the_cpu_draws_for_the_same_seed(
    worker: bool, standin: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Seed 3, 12 draws, with the worker thread (its threshold lowered to 0) and without:
    the drawn systems given to the device are those given to the CPU's BiCGSTAB, bit for bit
    (the generator is used alike), and their λ agree within rtol 1e-9 (both accept a true
    relative residual of 1e-10; the draws spread by σ = 0.2)."""
    monkeypatch.setattr(database_uncertainty, "_PIPELINE_MIN_ENTRIES", 0 if worker else 10**9)
    cpu, cpu_seen = _recorded("iterative")
    dev, dev_seen = _recorded("gpu")
    on_cpu = cpu.draw_from(np.random.default_rng(3), 12)
    on_device = dev.draw_from(np.random.default_rng(3), 12)
    assert len(cpu_seen) == len(dev_seen) == 12
    for (a_cpu, r_cpu), (a_dev, r_dev) in zip(cpu_seen, dev_seen, strict=True):
        np.testing.assert_array_equal(a_dev, a_cpu)
        np.testing.assert_array_equal(r_dev, r_cpu)
    np.testing.assert_allclose(on_device, on_cpu, rtol=1e-9)
    assert np.ptp(on_cpu[:, 0]) > 0.01 * abs(on_cpu[:, 0].mean())  # the draws do differ
    assert dev.iterative_solves == 12
    assert dev.presolve_iterations == 0  # the device finishes each draw from λ at the means
    described = dev.describe()
    assert described.startswith(f"12 by warm-started BiCGSTAB on {STANDIN} (from λ at the means")
    assert "SuperLU" not in described


def _ring_database(n: int = 2000) -> tuple[MatrixSystem, MatrixUncertainty]:
    """:func:`_ring` with one gas emitted by every activity, its amounts lognormal (σ 0.5):
    the drawn ``r`` is far from the one at the means and BiCGSTAB cannot finish any draw."""
    A = _ring(n)
    B = sp.csc_array(np.random.default_rng(7).uniform(0.5, 1.5, (1, n)))
    p = np.zeros(n, dtype=PARAMS_DTYPE)
    p["col"], p["row"] = np.arange(n), 0
    p["uncertainty_type"], p["loc"], p["scale"] = LOGNORMAL, np.log(B.data), 0.5
    system = MatrixSystem(A=A, B=B, activities=tuple(map(str, range(n))), flows=("CO2",))
    return system, MatrixUncertainty(A=np.zeros(0, dtype=PARAMS_DTYPE), B=p)


def test_draws_the_device_cannot_solve_go_to_lu_and_the_provenance_says_so(
    standin: None,
) -> None:
    """Every draw of the ring falls back to LU (each λ checked against a dense solve), the
    provenance counts them and names the device that failed."""
    system, params = _ring_database()
    sampler = DatabaseSampler("ring@1", system, params, np.ones(1), ["0", "1999"], backend="gpu")
    rng = np.random.default_rng(9)
    drawn = sampler.draw_from(np.random.default_rng(9), 4)
    z = rng.standard_normal((4, len(params.B)))
    dense = system.A.toarray().T
    for i in range(4):
        r = np.exp(params.B["loc"] + 0.5 * z[i])
        np.testing.assert_allclose(drawn[i], np.linalg.solve(dense, r)[[0, 1999]], rtol=1e-9)
    assert sampler.solves == 4
    assert sampler.iterative_solves == 0
    described = sampler.describe()
    assert described.startswith(
        f"4 by a SuperLU factorisation per draw (BiCGSTAB did not converge: BiCGSTAB on "
        f"{STANDIN} reached"
    )


# -- the CLI ---------------------------------------------------------------------------------


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    from openpcf.settings import get_settings

    monkeypatch.setenv("OPENPCF_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("OPENPCF_DATABASE_URL", raising=False)
    monkeypatch.delenv("OPENPCF_GPU", raising=False)
    get_settings.cache_clear()
    yield tmp_path / "home"
    get_settings.cache_clear()


@pytest.mark.skipif(CUPY_INSTALLED, reason="CuPy is installed: no missing-CuPy error")
def test_uncertainty_with_solver_gpu_without_cupy_exits_2(home: Path) -> None:
    out = openpcf(
        "uncertainty", str(MODEL), "--background", "--monte-carlo", "--seed", "1",
        "--solver", "gpu",
    )  # fmt: skip
    assert out.returncode == 2, out.stdout + out.stderr
    assert "Traceback" not in out.stdout + out.stderr
    assert "--solver gpu" in out.stderr
    assert "CuPy" in out.stderr
    assert "openpcf[gpu]" in out.stderr


def test_uncertainty_runs_with_solver_gpu_on_the_standin(home: Path, standin: None) -> None:
    out = openpcf(
        "uncertainty", str(MODEL), "--monte-carlo", "--seed", "1", "--iterations-max", "200",
        "--solver", "gpu", "--json",
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert '"monte_carlo"' in out.stdout


# -- the uncertainty service -------------------------------------------------------------------


@pytest.mark.parametrize("extra", ["", "background_linking: linked"])
def test_the_service_solves_the_databases_draws_on_the_device(
    tmp_path: Path, uncertain_grid: tuple[Any, str], standin: None, extra: str
) -> None:
    """``uncertainty(..., backend="gpu")`` hands the backend to the databases' samplers
    (precomputed and linked alike): the same seed gives the totals of the CPU's BiCGSTAB
    within 1e-9 relative (the same draws, each solved to a relative residual of 1e-8 on both
    sides), and the database's line names the device."""
    from fixtures.boxed_widget import boxed_widget
    from openpcf.services.uncertainty import uncertainty

    settings, ref = uncertain_grid
    path = boxed_widget(tmp_path, "grid:widget assembly", extra=extra)
    runs = {
        backend: uncertainty(
            path,
            settings=settings,
            backend=backend,
            monte_carlo=True,
            seed=3,
            max_iterations=300,
            tolerance=0.5,
        )
        for backend in ("gpu", "superlu")
    }
    on_device, on_cpu = runs["gpu"], runs["superlu"]
    assert on_device.monte_carlo is not None
    assert on_cpu.monte_carlo is not None
    assert on_device.monte_carlo.mean == pytest.approx(on_cpu.monte_carlo.mean, rel=1e-9)
    assert on_device.monte_carlo.sd == pytest.approx(on_cpu.monte_carlo.sd, rel=1e-9)
    (line,) = [d for d in on_device.databases if d.ref == ref]
    assert f"on {STANDIN}" in line.note
    (cpu_line,) = [d for d in on_cpu.databases if d.ref == ref]
    assert STANDIN not in cpu_line.note
