"""The optional GPU backend: Jacobi-preconditioned BiCGSTAB on a CUDA device through CuPy.

``Factorisation(A, backend="gpu")`` (``--solver gpu``) solves ``A s = f`` and ``Aᵀ λ = r``
like ``backend="iterative"`` (see :mod:`openpcf.core.solver`), with the iteration on the GPU:

- ``A`` (or ``Aᵀ``, read from ``A``'s CSC arrays as CSR) and the Jacobi preconditioner
  ``diag(A)⁻¹`` move to the device once per factorisation, on its first solve in each
  direction (:class:`DeviceSystem`, kept on the :class:`~openpcf.core.solver.Factorisation`
  and never pickled: an unpickled factorisation moves them again);
- each right-hand side column moves there, with its warm start ``x0`` when given, and is
  solved by BiCGSTAB (:func:`bicgstab`) asked for a relative residual of
  ``ITERATIVE_TOL / 10``;
- its solution comes back and is accepted only when the relative residual
  ``‖M x − b‖₂ / ‖b‖₂``, computed **on the host against ``A`` in float64**, is at most
  :data:`~openpcf.core.solver.ITERATIVE_TOL` (the device's own recurrence is not trusted);
  otherwise the factorisation falls back to SuperLU for good, as the iterative backend does,
  and :class:`~openpcf.core.solver.SolveInfo` says so and why.

Monte Carlo draws of a database (``DatabaseSampler(..., backend="gpu")``) are solved the
same way by :class:`DeviceSampledSystems`, the device variant of
:class:`~openpcf.core.solver.SampledSystems`: per draw only its values and ``r`` move to the
device, each solution is checked on the host, and a draw the device does not solve goes to
SuperLU on the host and is counted.

Design note, one code path: the iteration is written against an *array namespace* ``xp``
and a sparse namespace (:class:`Namespaces`): ``cupy`` and ``cupyx.scipy.sparse`` on a GPU,
``numpy`` and ``scipy.sparse`` as the CPU stand-in (:data:`CPU_STANDIN`). The tests run the
very same :class:`DeviceSystem` and :func:`bicgstab` on the stand-in, so everything but the
CuPy import and the device transfers is exercised on machines without a GPU (the project's
development machines and CI have none). It is BiCGSTAB rather than GMRES for the reason the
iterative backend gives (GMRES took 1.5 times as long on the synthetic background, on the
CPU), and it is written out because ``cupyx.scipy.sparse.linalg`` has none (its reference
lists ``cg``, ``gmres``, ``cgs`` and ``minres`` as its iterative solvers). Every scalar of the
recurrence (``ρ``, ``α``, ``ω``, the norms) is brought to the host as it is computed: the
breakdown tests and the stopping rule need them there, at the cost of a device
synchronisation each, a few per iteration.

Design note, why ``"auto"`` never picks it: (1) the iterative method pays off only on
diagonally dominant systems; the real databases tried (USLCI, TianGong) are not, and fall
back to LU after up to 100 iterations per gas, where the GPU then only adds its start-up
(initialising CUDA) and the transfers; (2) a GPU's reductions add in another
order than numpy's, so the same command would give answers differing in the last digits on
machines with and without a GPU, while a verifier recomputes results bit for bit from the
provenance; (3) this path has not yet been run on a GPU in this project. The CLI's ``auto``
becomes ``gpu`` only when ``OPENPCF_GPU=1`` is set (an explicit choice, read at the edge).

Install: ``pip install 'openpcf[gpu]'`` (CuPy for CUDA 12); no other part of OpenPCF needs it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cache
from typing import Any, Protocol

import numpy as np
import scipy.sparse as sp

from openpcf.errors import InputError

#: What the CLI and the errors tell a user to install.
INSTALL_HINT = "pip install 'openpcf[gpu]'"


class GPUUnavailableError(InputError, ImportError):
    """``backend="gpu"`` was asked for where it cannot run: CuPy is not installed, or it
    finds no CUDA device."""


@dataclass(frozen=True, slots=True)
class Namespaces:
    """The array namespace ``xp`` (``cupy`` or ``numpy``), its sparse namespace
    (``cupyx.scipy.sparse`` or ``scipy.sparse``), the device's name for provenance, and the
    function that copies an ``xp`` array to a numpy array on the host."""

    xp: Any
    sparse: Any
    device: str
    to_host: Any


#: numpy and scipy standing in for CuPy: the GPU code path, run on the CPU (the tests).
CPU_STANDIN = Namespaces(xp=np, sparse=sp, device="cpu (numpy stand-in)", to_host=np.asarray)


@cache
def _cuda() -> Namespaces:
    try:
        import cupy  # type: ignore[import-not-found]
        import cupyx.scipy.sparse  # type: ignore[import-not-found]
    except ImportError as e:
        raise GPUUnavailableError(
            f"backend 'gpu' needs CuPy, which is not installed ({e}): {INSTALL_HINT} "
            "(CUDA 12), or use the iterative backend (--solver iterative) on the CPU"
        ) from None
    try:
        count = int(cupy.cuda.runtime.getDeviceCount())
        reason = "" if count else "CUDA reports 0 devices"
    except Exception as e:  # a driver or CUDA library missing: CuPy raises its own errors
        count, reason = 0, f"{type(e).__name__}: {e}"
    if count == 0:
        raise GPUUnavailableError(
            f"backend 'gpu': CuPy is installed but there is no CUDA device ({reason}); run "
            "where a GPU is present, or use the iterative backend (--solver iterative)"
        )
    index = int(cupy.cuda.Device().id)
    name = cupy.cuda.runtime.getDeviceProperties(index)["name"]
    name = name.decode() if isinstance(name, bytes) else str(name)
    return Namespaces(
        xp=cupy, sparse=cupyx.scipy.sparse, device=f"cuda:{index} ({name})", to_host=cupy.asnumpy
    )


def device_namespaces() -> Namespaces:
    """CuPy's namespaces on the current CUDA device (looked up once per process).

    Raises
    ------
    GPUUnavailableError
        CuPy is not installed (install ``openpcf[gpu]``), or there is no CUDA device.
    """
    return _cuda()


@dataclass(frozen=True, slots=True)
class DeviceSolve:
    """The outcome of :meth:`DeviceSystem.solve`: the solution, the iterations per column and
    the largest relative residual; or ``x`` None and why the solve must go to LU."""

    x: np.ndarray | None
    #: e.g. ``"cuda:0 (NVIDIA H200)"``, or ``"cpu (numpy stand-in)"`` in the tests
    device: str
    iterations: tuple[int, ...] = ()
    residual: float = 0.0
    fallback: str = ""


class DeviceSystem:
    """``A`` on the device for the GPU backend: its operators and Jacobi preconditioner,
    moved once, and the solve of either direction.

    Parameters
    ----------
    A
        The square technosphere matrix (float64, CSC), kept on the host for the residual check.
    tolerance
        The largest relative residual accepted (the factorisation's ``ITERATIVE_TOL``).
    maxiter
        BiCGSTAB iterations per column before giving up.
    rtol
        The relative residual BiCGSTAB's recurrence is asked for; default a tenth of
        ``tolerance`` (the recurrence drifts from the true residual).
    namespaces
        Where to run; default :func:`device_namespaces` (CuPy), :data:`CPU_STANDIN` in tests.

    Design note: the tolerances come from :mod:`openpcf.core.solver` as arguments, not as an
    import, because the solver imports this module (the core's modules form no cycle).
    """

    def __init__(
        self,
        A: sp.csc_array,
        *,
        tolerance: float,
        maxiter: int,
        rtol: float | None = None,
        namespaces: Namespaces | None = None,
    ) -> None:
        self.A = A
        self.tolerance = tolerance
        self.rtol = tolerance / 10 if rtol is None else rtol
        self.maxiter = maxiter
        self.ns = namespaces or device_namespaces()
        diagonal = A.diagonal()
        self.inverse = self.ns.xp.asarray(1.0 / np.where(diagonal != 0.0, diagonal, 1.0))
        self._operators: dict[bool, Any] = {}

    def operator(self, transposed: bool) -> Any:
        """``Aᵀ`` or ``A`` as a CSR matrix on the device, moved on first use (``Aᵀ`` in CSR is
        ``A``'s CSC arrays read as CSR: no transpose)."""
        if transposed not in self._operators:
            # A's CSC arrays read as CSR are Aᵀ; those of Aᵀ in CSC, read as CSR, are A
            A = self.A if transposed else sp.csc_array(self.A.T)
            xp = self.ns.xp
            self._operators[transposed] = self.ns.sparse.csr_matrix(
                (
                    xp.asarray(A.data, dtype=xp.float64),
                    xp.asarray(A.indices, dtype=xp.int32),
                    xp.asarray(A.indptr, dtype=xp.int32),
                ),
                shape=A.shape[::-1],
            )
        return self._operators[transposed]

    def solve(
        self, rhs: np.ndarray, *, transposed: bool, x0: np.ndarray | None = None
    ) -> DeviceSolve:
        """``x`` with ``A x = rhs`` (``Aᵀ x = rhs`` when ``transposed``), each column by
        BiCGSTAB on the device from ``x0`` (or zero), accepted when its relative residual on
        the host is at most ``tolerance``."""
        host = self.A.T if transposed else self.A
        return self._columns(self.operator(transposed), host, rhs, x0)

    def solve_draw(
        self, data: np.ndarray, r: np.ndarray, *, x0: np.ndarray | None = None
    ) -> DeviceSolve:
        """``λ`` with ``A_dᵀ λ = r`` for a Monte Carlo draw ``A_d`` of ``A``: the same
        sparsity, its values ``data`` in the order of ``A``'s CSC arrays (what
        :class:`~openpcf.core.solver.SampledSystems` is given), with ``A``'s Jacobi
        preconditioner and ``x0`` (the previous draw's ``λ``) as the start. Only ``data``
        moves to the device: the structure is that of ``A``'s operator, moved once. ``A``
        must be in canonical form (sorted, no duplicates), as ``SampledSystems`` makes it."""
        n = self.A.shape[0]
        xp = self.ns.xp
        reference = self.operator(True)
        M = self.ns.sparse.csr_matrix(
            (xp.asarray(data, dtype=xp.float64), reference.indices, reference.indptr),
            shape=(n, n),
        )
        host = sp.csr_array((data, self.A.indices, self.A.indptr), shape=(n, n))
        return self._columns(M, host, r, x0)

    def _columns(self, M: Any, host: Any, rhs: np.ndarray, x0: np.ndarray | None) -> DeviceSolve:
        """Each column of ``M x = rhs`` by :func:`bicgstab` on the device, checked against
        ``host`` (the same matrix in float64 on the host); the first column that misses the
        tolerance ends the solve with the reason."""
        n = self.A.shape[0]
        xp = self.ns.xp
        columns = np.asarray(rhs, dtype=np.float64).reshape(n, -1)
        guesses = None if x0 is None else np.asarray(x0, dtype=np.float64).reshape(n, -1)
        out = np.zeros_like(columns)
        iterations: list[int] = []
        worst = 0.0
        for j in range(columns.shape[1]):
            b = np.ascontiguousarray(columns[:, j])
            norm = _host_norm(b)
            if norm == 0.0:
                iterations.append(0)
                continue
            start = None if guesses is None else xp.asarray(np.ascontiguousarray(guesses[:, j]))
            x_device, count, breakdown = bicgstab(
                xp, M, xp.asarray(b), start, self.inverse, self.rtol, self.maxiter
            )
            x = np.asarray(self.ns.to_host(x_device), dtype=np.float64)
            residual = _host_norm(host @ x - b) / norm if np.all(np.isfinite(x)) else math.inf
            if residual > self.tolerance:
                reason = (
                    f"BiCGSTAB on {self.ns.device} reached a relative residual of "
                    f"{residual:.1e} > {self.tolerance:.0e} after {count} iterations"
                    + (" (breakdown)" if breakdown else "")
                )
                return DeviceSolve(None, self.ns.device, fallback=reason)
            out[:, j] = x
            iterations.append(count)
            worst = max(worst, residual)
        return DeviceSolve(out.reshape(np.shape(rhs)), self.ns.device, tuple(iterations), worst)


class HostDraws(Protocol):
    """What :class:`DeviceSampledSystems` needs of the CPU's
    :class:`~openpcf.core.solver.SampledSystems` (typed here, not imported: the solver
    imports this module)."""

    A: sp.csc_array
    labels: tuple[str, ...]
    tolerance: float
    maxiter: int

    def solve_transposed(
        self, data: np.ndarray, r: np.ndarray, *, x0: np.ndarray | None = None
    ) -> np.ndarray: ...


class DeviceSampledSystems:
    """:class:`~openpcf.core.solver.SampledSystems` with BiCGSTAB on the device
    (``backend="gpu"``): ``Aᵀ λ = r`` for the draws of a Monte Carlo run, each ``A`` given by
    its values in the reference's canonical CSC order; the same interface
    (:meth:`solve_transposed`, :meth:`presolve`, the counters), so that
    :class:`~openpcf.model.database_uncertainty.DatabaseSampler` uses either.

    Per draw, as on the CPU: BiCGSTAB with the reference's Jacobi preconditioner from
    ``x0`` when given, else ``start`` (λ at the means), else the previous draw's λ, asked for
    a relative residual of ``host.tolerance``; the solution comes back and is accepted only
    when its true relative residual ``‖Aᵀ λ − r‖₂ / ‖r‖₂``, computed on the host in float64,
    is at most ``accepted``; otherwise the draw is solved by ``host`` (LU) and counted, and
    after ``max_failures`` failures in a row the device is not tried again in this run.
    Only a draw's values and ``r`` move to the device: the sparsity (``A``'s CSC arrays read
    as ``Aᵀ`` in CSR) and the preconditioner move once (:meth:`DeviceSystem.solve_draw`).

    Parameters
    ----------
    host
        The CPU's ``SampledSystems`` of the same reference, made with ``iterative=False``:
        ``A`` in canonical form (its structure checked once), the labels, the tolerance asked
        and ``maxiter``; it solves the draws the device does not, by LU.
    accepted
        The largest true relative residual accepted (``SAMPLED_RESIDUAL_FACTOR`` times
        ``host.tolerance``).
    max_failures
        Failures in a row after which every draw goes to LU (``SAMPLED_MAX_FAILURES``).
    start
        λ to start every draw from (the solution at the means); None: the previous draw's.
    namespaces
        Where to run; default :func:`device_namespaces` (CuPy), :data:`CPU_STANDIN` in tests.

    Design note, :meth:`presolve` does nothing here: on the CPU a worker thread takes the
    next draw to a relative residual of 1e-3 on the second core while this one is finished;
    here the iteration runs on the device, which one thread already keeps busy (a second
    thread's iterations would queue behind this one's on the same device), so the worker
    only draws and places the next draw's values. Not measured on a GPU yet.
    """

    def __init__(
        self,
        host: HostDraws,
        *,
        accepted: float,
        max_failures: int,
        start: np.ndarray | None = None,
        namespaces: Namespaces | None = None,
    ) -> None:
        n = host.A.shape[0]
        if start is not None and np.shape(start) != (n,):
            raise ValueError(f"start must have {n} values, got shape {np.shape(start)}")
        self.host = host
        self.system = DeviceSystem(
            host.A,
            tolerance=accepted,
            rtol=host.tolerance,
            maxiter=host.maxiter,
            namespaces=namespaces,
        )
        #: e.g. ``"cuda:0 (NVIDIA H200)"``, or ``"cpu (numpy stand-in)"`` in the tests
        self.device = self.system.ns.device
        self.max_failures = max_failures
        #: False once the device has failed ``max_failures`` draws in a row
        self.iterative = True
        self._start = None if start is None else np.array(start, dtype=np.float64)
        self._previous: np.ndarray | None = None
        self._failures = 0
        #: draws solved, of which on the device, and its iterations over those
        self.solves = 0
        self.iterative_solves = 0
        self.iterations = 0
        #: why the last draw that the device did not solve went to LU; empty when none did
        self.fallback = ""

    @property
    def tolerance(self) -> float:
        """The relative residual BiCGSTAB is asked for (``host.tolerance``)."""
        return self.host.tolerance

    @property
    def fallbacks(self) -> int:
        """Draws solved by LU because the device did not solve them (or was given up)."""
        return self.solves - self.iterative_solves

    def solve_transposed(
        self, data: np.ndarray, r: np.ndarray, *, x0: np.ndarray | None = None
    ) -> np.ndarray:
        """``λ`` with ``Aᵀ λ = r`` for the draw whose values (the reference's CSC order) are
        ``data``: on the device, else by LU on the host (class docstring)."""
        r = np.asarray(r, dtype=np.float64)
        lam = self._on_device(data, r, x0) if self.iterative else None
        if lam is None:
            lam = self.host.solve_transposed(data, r)
        self.solves += 1
        self._previous = lam
        return lam

    def presolve(self, data: np.ndarray, r: np.ndarray, rtol: float) -> tuple[np.ndarray, int]:
        """``start`` (zeros when none was given) and 0 iterations, as
        :meth:`openpcf.core.solver.SampledSystems.presolve` answers when it makes no
        iteration: the device finishes each draw from there (class docstring)."""
        n = self.host.A.shape[0]
        return (np.zeros(n) if self._start is None else self._start), 0

    def _on_device(
        self, data: np.ndarray, r: np.ndarray, x0: np.ndarray | None
    ) -> np.ndarray | None:
        """The draw's ``λ`` from the device, checked on the host; None (counted, and the
        reason kept) when it must go to LU."""
        if _host_norm(r) == 0.0:  # as on the CPU: λ = 0, not counted as an iterative solve
            return np.zeros_like(r)
        start = x0 if x0 is not None else self._previous if self._start is None else self._start
        done = self.system.solve_draw(data, r, x0=start)
        if done.x is not None:
            self._failures = 0
            self.iterative_solves += 1
            self.iterations += sum(done.iterations)
            return done.x
        self.fallback = done.fallback
        self._failures += 1
        self._previous = None  # a diverged iterate is no start for the next draw
        if self._failures >= self.max_failures:
            self.iterative = False
        return None


def _host_norm(a: np.ndarray) -> float:
    # numpy's own sum of squares, not a BLAS call (see SampledSystems in core.solver)
    return math.sqrt(float(np.einsum("i,i->", a, a)))


def _dot(xp: Any, a: Any, b: Any) -> float:
    """``aᵀ b`` as a host float: a reduction on the device, no BLAS call on the CPU."""
    return float(xp.sum(a * b))


def bicgstab(
    xp: Any, M: Any, b: Any, x0: Any | None, inverse: Any, rtol: float, maxiter: int
) -> tuple[Any, int, bool]:
    """BiCGSTAB (van der Vorst 1992, right-preconditioned by ``diag(inverse)``, the iteration
    of :func:`openpcf.core.solver._bicgstab` and scipy's) for ``M x = b`` on arrays of the
    namespace ``xp``, from ``x0`` until the recurrence's residual is at most ``rtol ‖b‖``:
    the iterate, the iterations made and whether it broke down (a zero ``ρ``, ``ω`` or
    ``r̂ᵀv``)."""
    x = xp.zeros_like(b) if x0 is None else xp.array(x0, dtype=xp.float64)
    r = b - M @ x
    goal = rtol * math.sqrt(_dot(xp, b, b))
    if math.sqrt(_dot(xp, r, r)) <= goal:
        return x, 0, False
    rhat = r.copy()
    p = xp.zeros_like(b)
    v = xp.zeros_like(b)
    rho_old = alpha = omega = 1.0
    for k in range(1, maxiter + 1):
        rho = _dot(xp, rhat, r)
        if rho == 0.0 or omega == 0.0:
            return x, k - 1, True
        beta = (rho / rho_old) * (alpha / omega)
        p = r + beta * (p - omega * v)
        phat = inverse * p
        v = M @ phat
        denominator = _dot(xp, rhat, v)
        if denominator == 0.0:
            return x, k, True
        alpha = rho / denominator
        s = r - alpha * v
        if math.sqrt(_dot(xp, s, s)) <= goal:
            x += alpha * phat
            return x, k, False
        shat = inverse * s
        t = M @ shat
        tt = _dot(xp, t, t)
        omega = _dot(xp, t, s) / tt if tt else 0.0
        x += alpha * phat + omega * shat
        r = s - omega * t
        if math.sqrt(_dot(xp, r, r)) <= goal:
            return x, k, False
        rho_old = rho
    return x, maxiter, False
