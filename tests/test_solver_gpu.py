"""Issue 17: the optional GPU backend (``backend="gpu"``, ``--solver gpu``).

No machine of this project has a GPU, so the GPU code path (:class:`DeviceSystem`,
:func:`openpcf.core.gpu.bicgstab`) runs here on :data:`CPU_STANDIN`, numpy and scipy in place
of CuPy and ``cupyx.scipy.sparse``; only the CuPy import and the device transfers are not
exercised. CuPy itself is not installed here, so the missing-CuPy error is the real one.
"""

from __future__ import annotations

import importlib.util
import json
import pickle
import sys
import types
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp
from bench.synthetic import make_background

from fixtures.in_process import openpcf
from openpcf.cli import options
from openpcf.core import gpu
from openpcf.core.engine import intensities, solver_used
from openpcf.core.gpu import CPU_STANDIN, DeviceSystem, GPUUnavailableError
from openpcf.core.solver import Factorisation, FactorisationCache, resolve_backend
from openpcf.core.system import MatrixSystem
from openpcf.errors import InputError

MODEL = Path(__file__).parent / "fixtures" / "two_process.yaml"
RTOL = 1e-9
CUPY_INSTALLED = importlib.util.find_spec("cupy") is not None
STANDIN = "gpu (bicgstab+jacobi on cpu (numpy stand-in)"


def _relative_difference(actual: np.ndarray, expected: np.ndarray) -> float:
    """Largest element-wise relative difference (absolute where the LU answer is exactly 0)."""
    denom = np.where(expected != 0.0, np.abs(expected), 1.0)
    return float(np.max(np.abs(actual - expected) / denom, initial=0.0))


@pytest.fixture
def standin(monkeypatch: pytest.MonkeyPatch) -> None:
    """The GPU backend on numpy and scipy instead of CuPy."""
    monkeypatch.setattr(gpu, "device_namespaces", lambda: CPU_STANDIN)


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    from openpcf.settings import get_settings

    monkeypatch.setenv("OPENPCF_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("OPENPCF_DATABASE_URL", raising=False)
    monkeypatch.delenv("OPENPCF_GPU", raising=False)
    get_settings.cache_clear()
    yield tmp_path / "home"
    get_settings.cache_clear()


# -- answers ---------------------------------------------------------------------------------


def test_hand_worked_loop_of_three(standin: None) -> None:
    """Three activities in a loop, each using 0.5 of the next one's product:

    ``A = I − N`` with ``N[0,1] = N[1,2] = N[2,0] = 0.5``. ``N³ = 0.125 I``, so
    ``(I − N)(I + N + N²) = I − N³ = 0.875 I`` and::

        A⁻¹ = (8/7) (I + N + N²) = (8/7) ⎡1    0.5  0.25⎤
                                        ⎢0.25 1    0.5 ⎥
                                        ⎣0.5  0.25 1   ⎦

    (check row 0 of A times column 0: 1·1 − 0.5·0.25 = 0.875, times 8/7 = 1).

    Demand ``f = (2, 1, 0)``: ``s = A⁻¹ f = (8/7)(2 + 0.5, 0.5 + 1, 1 + 0.25)
    = (20/7, 12/7, 10/7)``. Emissions ``r = (2, 1, 0)`` kg per unit: ``λ = A⁻ᵀ r``,
    ``λ_i = Σ_k A⁻¹[k, i] r_k = (8/7)(2 + 0.25, 1 + 1, 0.5 + 0.5) = (18/7, 16/7, 8/7)``;
    check ``Aᵀ λ = r``: ``18/7 − 0.5·8/7 = 2``, ``−0.5·18/7 + 16/7 = 1``,
    ``−0.5·16/7 + 8/7 = 0``.

    Demand ``f = e₀ = (1, 0, 0)`` (``s = (8/7)(1, 0.25, 0.5)``) makes BiCGSTAB break down,
    on the CPU backend as here: ``r = r̂ = p = e₀``, ``v = A e₀ = (1, 0, −0.5)``,
    ``α = 1/1``, ``s = e₀ − v = (0, 0, 0.5)``, ``t = A s = (0, −0.25, 0.5)``,
    ``ω = tᵀs / tᵀt = 0.25 / 0.3125 = 0.8``, ``r = s − ω t = (0, 0.2, 0.1)`` (‖r‖ = 0.22),
    and the next ``ρ = r̂ᵀ r = 0``: the solve falls back to LU, which gives the answer.
    """
    A = sp.csc_array(np.array([[1.0, -0.5, 0.0], [0.0, 1.0, -0.5], [-0.5, 0.0, 1.0]]))
    fact = Factorisation(A, backend="gpu")
    np.testing.assert_allclose(fact.solve(np.array([2.0, 1.0, 0.0])), [20 / 7, 12 / 7, 10 / 7])
    lam = fact.solve_transposed(np.array([2.0, 1.0, 0.0]))
    np.testing.assert_allclose(lam, [18 / 7, 16 / 7, 8 / 7], rtol=RTOL)
    assert fact.last_solve is not None
    assert fact.last_solve.method == "bicgstab+jacobi on cpu (numpy stand-in)"
    assert fact.last_solve.residual <= 1e-12
    lu = Factorisation(A).solve_transposed(np.array([2.0, 1.0, 0.0]))
    assert _relative_difference(lam, lu) <= RTOL
    broken = Factorisation(A, backend="gpu")
    s = broken.solve(np.array([1.0, 0.0, 0.0]))
    np.testing.assert_allclose(s, [8 / 7, 2 / 7, 4 / 7], rtol=RTOL)
    assert broken.last_solve is not None
    assert broken.last_solve.method == "superlu"
    assert "relative residual of 2.2e-01" in broken.last_solve.fallback
    assert broken.last_solve.fallback.endswith("after 1 iterations (breakdown)")


def test_synthetic_background_equals_superlu(standin: None) -> None:
    """All activities' footprints per gas (``Aᵀ Λ = Bᵀ``) and a forward solve, on the
    2,000-activity synthetic background of ``bench/synthetic.py``."""
    bg = make_background(2_000, n_flows=200)
    system = bg.system
    Q = np.eye(system.B.shape[0])[:, :5]
    cache = FactorisationCache()
    lam = intensities(system, Q, backend="gpu", cache=cache)
    lu = intensities(system, Q, backend="superlu", cache=FactorisationCache())
    assert _relative_difference(lam, lu) <= RTOL
    described = solver_used(system, backend="gpu", factorisations=cache)
    assert described.startswith(STANDIN)
    assert described.endswith(" iterations)")
    f = np.random.default_rng(3).random(system.size)
    fact = Factorisation(system.A, backend="gpu")
    s = fact.solve(f)
    assert _relative_difference(s, Factorisation(system.A).solve(f)) <= RTOL
    assert fact.last_solve is not None
    assert fact.last_solve.fallback == ""


def test_matrices_move_to_the_device_once(standin: None) -> None:
    bg = make_background(500, n_flows=20)
    fact = Factorisation(bg.system.A, backend="gpu")
    r = np.asarray(bg.system.B.T @ bg.c)
    first = fact.solve_transposed(r)
    device = fact._device
    operator = device._operators[True]
    second = fact.solve_transposed(2 * r)
    assert fact._device is device
    assert device._operators[True] is operator
    np.testing.assert_allclose(second, 2 * first, rtol=1e-10)


def test_warm_start_takes_fewer_iterations(standin: None) -> None:
    bg = make_background(2_000, n_flows=200)
    system = bg.system
    rhs = np.asarray(system.B.T @ bg.c)
    lam = Factorisation(system.A, backend="gpu").solve_transposed(rhs)
    # a Monte Carlo-like draw: every amount of A off by up to 1 %
    noise = np.random.default_rng(11).uniform(0.99, 1.01, system.A.nnz)
    A2 = sp.csc_array((system.A.data * noise, system.A.indices, system.A.indptr), system.A.shape)
    cold, warm = Factorisation(A2, backend="gpu"), Factorisation(A2, backend="gpu")
    lam_cold = cold.solve_transposed(rhs)
    lam_warm = warm.solve_transposed(rhs, x0=lam)
    assert cold.last_solve is not None
    assert warm.last_solve is not None
    assert warm.last_solve.iterations[0] < cold.last_solve.iterations[0]
    lu = Factorisation(A2).solve_transposed(rhs)
    assert _relative_difference(lam_warm, lu) <= RTOL
    assert _relative_difference(lam_cold, lu) <= RTOL


def test_non_converging_system_falls_back_to_lu_and_says_so(standin: None) -> None:
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
    lam = intensities(system, np.ones(1), backend="gpu", cache=cache)
    dense = np.linalg.solve(ring.toarray().T, B.toarray()[0])
    assert _relative_difference(lam[:, 0], dense) <= RTOL
    described = solver_used(system, backend="gpu", factorisations=cache)
    assert described.startswith(
        "gpu, fell back to superlu: BiCGSTAB on cpu (numpy stand-in) reached"
    )
    fact = cache.peek(ring, backend="gpu")
    assert fact is not None
    assert fact.last_solve is not None
    assert fact.last_solve.method == "superlu"
    # the fallback sticks to this matrix: the next solve goes straight to LU
    again = fact.solve_transposed(B.toarray()[0])
    assert fact.last_solve.method == "superlu"
    np.testing.assert_allclose(again, lam[:, 0], rtol=1e-12)


def test_monte_carlo_draws_equal_lu(standin: None) -> None:
    """:meth:`DeviceSystem.solve_draw`, the building block for Monte Carlo on a GPU: five
    draws of the 1,000-activity synthetic background (every amount of ``A`` off by up to
    5 %), each started from the previous draw's ``λ``, equal to a SuperLU solve of that draw;
    the last draw from zero takes more iterations than from the previous one."""
    bg = make_background(1_000, n_flows=100)
    A = sp.csc_array(bg.system.A, copy=True)
    A.sum_duplicates()
    r = np.asarray(bg.system.B.T @ bg.c)
    device = DeviceSystem(A, tolerance=1e-12, maxiter=100)
    rng = np.random.default_rng(17)
    previous = None
    for _ in range(5):
        data = A.data * rng.uniform(0.95, 1.05, A.nnz)
        done = device.solve_draw(data, r, x0=previous)
        assert done.x is not None, done.fallback
        lu = Factorisation(sp.csc_array((data, A.indices, A.indptr), A.shape)).solve_transposed(r)
        assert _relative_difference(done.x, lu) <= RTOL
        warm, previous = done.iterations[0], done.x
    cold = device.solve_draw(data, r)
    assert warm < cold.iterations[0]


def test_pickling_drops_the_device_arrays(standin: None) -> None:
    A = sp.csc_array(np.array([[1.0, -0.5, 0.0], [0.0, 1.0, -0.5], [-0.5, 0.0, 1.0]]))
    fact = Factorisation(A, backend="gpu")
    fact.solve_transposed(np.array([2.0, 1.0, 0.0]))
    assert fact._device is not None
    assert set(fact.__getstate__()) == {"A", "labels", "backend"}
    copy = pickle.loads(pickle.dumps(fact))
    assert copy._device is None
    assert copy.backend == "gpu"
    # moved again on the copy's first solve
    np.testing.assert_allclose(
        copy.solve_transposed(np.array([2.0, 1.0, 0.0])), [18 / 7, 16 / 7, 8 / 7], rtol=RTOL
    )
    assert copy._device is not None


# -- selection -------------------------------------------------------------------------------


def test_auto_never_picks_gpu(standin: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENPCF_GPU", "1")  # the core never reads it: only the CLI does
    assert resolve_backend("auto", 10**6) != "gpu"
    assert resolve_backend("gpu", 3) == "gpu"
    assert options._backend("auto") == "gpu"
    monkeypatch.delenv("OPENPCF_GPU")
    assert options._backend("auto") == "auto"
    assert options._backend("gpu") == "gpu"


@pytest.mark.skipif(CUPY_INSTALLED, reason="CuPy is installed: no missing-CuPy error")
def test_missing_cupy_is_a_clear_error() -> None:
    A = sp.csc_array(np.eye(2))
    with pytest.raises(GPUUnavailableError, match=r"pip install 'openpcf\[gpu\]'") as info:
        Factorisation(A, backend="gpu")
    assert isinstance(info.value, ImportError)
    assert isinstance(info.value, InputError)


def _fake_cupy(monkeypatch: pytest.MonkeyPatch, devices: int) -> None:
    """A ``cupy`` that is numpy with ``devices`` CUDA devices, and a ``cupyx.scipy.sparse``
    that is scipy's: enough for :func:`openpcf.core.gpu._cuda` to find or miss a device."""
    runtime = types.SimpleNamespace(
        getDeviceCount=lambda: devices,
        getDeviceProperties=lambda index: {"name": b"Fake GPU"},
    )
    cuda = types.SimpleNamespace(runtime=runtime, Device=lambda: types.SimpleNamespace(id=0))
    cupy = types.ModuleType("cupy")
    cupy.__dict__.update({k: v for k, v in vars(np).items() if not k.startswith("__")})
    cupy.__dict__.update(cuda=cuda, asnumpy=np.asarray)
    scipy_ = types.ModuleType("cupyx.scipy")
    cupyx = types.ModuleType("cupyx")
    cupyx.scipy = scipy_  # type: ignore[attr-defined]
    scipy_.sparse = sp  # type: ignore[attr-defined]
    for name, module in (
        ("cupy", cupy),
        ("cupyx", cupyx),
        ("cupyx.scipy", scipy_),
        ("cupyx.scipy.sparse", sp),
    ):
        monkeypatch.setitem(sys.modules, name, module)


@pytest.fixture
def clear_cuda() -> Iterator[None]:
    gpu._cuda.cache_clear()
    yield
    gpu._cuda.cache_clear()


def test_cupy_without_a_cuda_device_is_a_clear_error(
    monkeypatch: pytest.MonkeyPatch, clear_cuda: None
) -> None:
    _fake_cupy(monkeypatch, devices=0)
    with pytest.raises(GPUUnavailableError, match="no CUDA device"):
        resolve_backend("gpu", 3)


def test_cupy_with_a_device_names_it(monkeypatch: pytest.MonkeyPatch, clear_cuda: None) -> None:
    """The CuPy glue of :func:`openpcf.core.gpu._cuda`, on a numpy pretending to be CuPy."""
    _fake_cupy(monkeypatch, devices=1)
    A = sp.csc_array(np.array([[1.0, -0.5, 0.0], [0.0, 1.0, -0.5], [-0.5, 0.0, 1.0]]))
    fact = Factorisation(A, backend="gpu")
    lam = fact.solve_transposed(np.array([2.0, 1.0, 0.0]))
    np.testing.assert_allclose(lam, [18 / 7, 16 / 7, 8 / 7], rtol=RTOL)
    assert fact.last_solve is not None
    assert fact.last_solve.describe().startswith("gpu (bicgstab+jacobi on cuda:0 (Fake GPU), ")


# -- the CLI ---------------------------------------------------------------------------------


@pytest.mark.skipif(CUPY_INSTALLED, reason="CuPy is installed: no missing-CuPy error")
def test_cli_without_cupy_exits_2_without_traceback(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = openpcf("calc", str(MODEL), "--solver", "gpu")
    assert out.returncode == 2, out.stderr
    assert "Traceback" not in out.stdout + out.stderr
    assert "openpcf[gpu]" in out.stderr
    assert "--solver gpu" in out.stderr
    monkeypatch.setenv("OPENPCF_GPU", "1")
    out = openpcf("calc", str(MODEL))
    assert out.returncode == 2, out.stderr
    assert "Traceback" not in out.stdout + out.stderr
    assert "OPENPCF_GPU=1" in out.stderr
    assert "openpcf[gpu]" in out.stderr


def test_cli_calculates_on_the_standin(home: Path, standin: None) -> None:
    gpu_run = openpcf("calc", str(MODEL), "--solver", "gpu", "--format", "json")
    lu_run = openpcf("calc", str(MODEL), "--solver", "superlu", "--format", "json")
    assert gpu_run.returncode == 0, gpu_run.stderr
    on_gpu, on_lu = json.loads(gpu_run.stdout), json.loads(lu_run.stdout)
    assert on_gpu["provenance"]["solver"].startswith(STANDIN)
    np.testing.assert_allclose(on_gpu["kg_co2e"], on_lu["kg_co2e"], rtol=RTOL)
