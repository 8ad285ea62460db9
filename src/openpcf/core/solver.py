"""Factorise ``A`` once, solve many times.

A :class:`Factorisation` answers ``A s = f`` for any demand ``f`` and the transposed system
``Aᵀ λ = r`` for any right-hand side: with ``r = Bᵀ q`` (``q`` a characterisation vector or a
gas-selection matrix), ``λ`` is the cradle-to-gate intensity of *every* activity in one solve.

Factorisations are cached by the content hash of ``A`` (:func:`factorise`), so a product model
recalculated on the same large background reuses the background's factors.

Backends: scipy's SuperLU by default; Intel MKL PARDISO through ``pypardiso`` when it is
installed and ``backend="pardiso"`` is asked for, or ``"auto"`` on a system of at least
:data:`PARDISO_MIN_SIZE` activities (:func:`resolve_backend` takes the size); and
``"iterative"``: no factorisation, a Jacobi-preconditioned BiCGSTAB per right-hand side
(warm-started from ``x0`` when given), accepted only when its relative residual
``‖M x − b‖₂ / ‖b‖₂`` is at most :data:`ITERATIVE_TOL`, otherwise the SuperLU path, which the
factorisation then keeps for that matrix and says so (:attr:`Factorisation.last_solve`).

Design note, the iterative backend: on the 20,000-activity synthetic background
(``bench/synthetic.py``) one transposed solve for all activities' footprints takes SuperLU
0.5 s (factorising ``Aᵀ``) and BiCGSTAB with a Jacobi preconditioner 13 iterations, about
12 ms, to a relative residual of 1e-14 (largest element-wise difference from LU 7e-11; GMRES
takes 1.5 times as long; scipy's ILU costs as much as the LU itself there and is not offered).
That matrix is column diagonally dominant by construction, which is what makes Jacobi enough.
The real databases are not: 318 of USLCI's 766 columns and 475 of TianGong's 3,847 are not
diagonally dominant: BiCGSTAB stops just short of the tolerance on USLCI (1.7e-12 after 18
iterations) and breaks down on TianGong (3.9e-9 after 43), and both fall back to LU (which
factorises them in 2 ms). So ``"auto"`` never picks it: it is
asked for explicitly (``--solver iterative``) for all-activity footprints and Monte Carlo on
large, well-behaved systems, where the answer is LU-accurate either way and only the time
differs (a failed attempt costs at most :data:`ITERATIVE_MAXITER` iterations per gas before
the LU).

Design note: SuperLU factorises ``Aᵀ`` (far less fill-in on LCA matrices than ``A``) and
solves both directions from the same factors (``trans``); PARDISO keeps one factorisation per
matrix, so ``A`` and ``Aᵀ`` are each factorised on first use of their direction.

Design note, where ``"auto"`` switches to PARDISO: PARDISO has a fixed cost per factorisation
(about 0.15 s to construct a ``pypardiso`` solver, which searches the file system for MKL, plus
MKL's own set-up) that SuperLU on ``Aᵀ`` does not pay, and on LCA-shaped matrices SuperLU's
fill-in stays small up to tens of thousands of activities. ``python -m bench.solver_crossover``
times a :class:`Factorisation` plus one transposed solve for 7 gases (what
:func:`openpcf.core.engine.intensities` does on a cache miss) on backgrounds built like
``bench/synthetic.py``; median wall times on the 2-core development machine (MKL already
loaded, load average 1 to 5, so ±30 % above n = 10,000):

==========  ========  ==========  ==========
n           nnz(A)    SuperLU     PARDISO
==========  ========  ==========  ==========
100         629       0.4 ms      263 ms
1,000       8,749     6 ms        306 ms
10,000      95,562    209 ms      305 ms
20,000      192,915   571–634 ms  555–1,489 ms
30,000      290,733   0.97–1.9 s  1.0–2.6 s
40,000      388,255   3.8 s       3.1 s
50,000      486,399   5.0–5.6 s   3.2–3.3 s
70,000      682,152   6.1 s       4.9 s
100,000     975,886   15.2 s      10.1 s
==========  ========  ==========  ==========

PARDISO loses by orders of magnitude on small systems, breaks even between 20,000 and 40,000
activities and wins by 1.2 to 1.7 times from 50,000 on, so ``"auto"`` uses it from
:data:`PARDISO_MIN_SIZE` = 50,000 (ecoinvent-sized databases are 20,000 to 25,000 activities:
SuperLU). An explicit ``backend="pardiso"`` still uses it at any size.
"""

from __future__ import annotations

import importlib.util
import math
import weakref
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla
from scipy.sparse.csgraph import maximum_bipartite_matching, structural_rank

from openpcf.core.system import matrix_hash
from openpcf.errors import SingularSystemError

Backend = Literal["auto", "superlu", "pardiso", "iterative", "gpu"]
#: A backend once ``"auto"`` is resolved.
Resolved = Literal["superlu", "pardiso", "iterative", "gpu"]

#: Smallest system (activities) for which ``"auto"`` picks PARDISO: see the design note above.
PARDISO_MIN_SIZE = 50_000
#: Largest system for which a singular matrix is diagnosed with a dense SVD.
_DENSE_DIAGNOSIS_LIMIT = 2500
_TINY = 1e-200
#: Relative residual above which a solution is treated as coming from a singular system.
_RESIDUAL_TOLERANCE = 1e-8
#: Largest relative residual ``‖M x − b‖₂ / ‖b‖₂`` an iterative solution is accepted with
#: (BiCGSTAB itself is asked for a tenth of it, so that its recurrence's drift does not matter).
ITERATIVE_TOL = 1e-12
#: BiCGSTAB iterations per right-hand side before falling back to LU.
ITERATIVE_MAXITER = 100
#: The iterative method, as recorded in :class:`SolveInfo`.
ITERATIVE_METHOD = "bicgstab+jacobi"
#: Draws in a row that BiCGSTAB may fail before :class:`SampledSystems` uses LU for the rest.
SAMPLED_MAX_FAILURES = 3
#: :class:`SampledSystems` accepts a true relative residual up to this times the one asked for
#: (as Factorisation does: ITERATIVE_TOL / 10 asked, ITERATIVE_TOL accepted).
SAMPLED_RESIDUAL_FACTOR = 10.0


@dataclass(frozen=True, slots=True)
class SolveInfo:
    """How the last solve of a :class:`Factorisation` was made."""

    #: the backend the factorisation was made with
    backend: str
    #: what solved it: ``"superlu"``, ``"pardiso"`` or :data:`ITERATIVE_METHOD`
    method: str
    #: iterations per right-hand side column (iterative method only)
    iterations: tuple[int, ...] = ()
    #: largest relative residual ``‖M x − b‖₂ / ‖b‖₂`` over the columns (iterative only)
    residual: float = 0.0
    #: why the iterative backend fell back to LU; empty when it did not
    fallback: str = ""

    def describe(self) -> str:
        """One line for provenance: ``"iterative (bicgstab+jacobi, 12 iterations)"``, or
        ``"gpu (bicgstab+jacobi on cuda:0 (NVIDIA H200), 13 iterations)"``."""
        if self.fallback:
            return f"{self.backend}, fell back to superlu: {self.fallback}"
        if self.method.startswith(ITERATIVE_METHOD):
            return f"{self.backend} ({self.method}, {max(self.iterations, default=0)} iterations)"
        return self.method


def pardiso_available() -> bool:
    return importlib.util.find_spec("pypardiso") is not None


class Factorisation:
    """LU factors of a square sparse matrix ``A`` with labelled columns."""

    def __init__(
        self, A: sp.csc_array, *, labels: Sequence[str] = (), backend: Backend = "superlu"
    ) -> None:
        self.A = sp.csc_array(A, dtype=np.float64)
        self.labels = tuple(labels) or tuple(f"activity {j}" for j in range(self.A.shape[1]))
        self.backend = resolve_backend(backend, self.A.shape[0])
        self._lu: Any = None
        self._pardiso: dict[bool, Any] = {}
        self._operators: dict[bool, sp.csr_array] = {}
        #: ``backend="gpu"``: A on the device (openpcf.core.gpu.DeviceSystem), never pickled
        self._device: Any = None
        #: why the iterative backend uses LU for this matrix (sticky); empty when it does not
        self.fallback = ""
        #: how the last solve was made; None before the first
        self.last_solve: SolveInfo | None = None
        if self.A.shape[0] and structural_rank(self.A) < self.A.shape[0]:
            raise singular_error(self.A, self.labels)
        if self.backend == "superlu" and self.A.shape[0]:
            self._lu = self._superlu()

    def __getstate__(self) -> dict[str, Any]:
        """``A``, its labels and the backend, not the factors: SuperLU and PARDISO objects do
        not pickle. An unpickled factorisation factorises again on its first solve."""
        return {"A": self.A, "labels": self.labels, "backend": self.backend}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.A = state["A"]
        self.labels = state["labels"]
        self.backend = state["backend"]
        self._lu = None
        self._pardiso = {}
        self._operators = {}
        self._device = None
        self.fallback = ""
        self.last_solve = None

    def _superlu(self) -> Any:
        try:
            # Factorise Aᵀ, not A: LCA matrices are close to lower triangular after COLAMD on
            # Aᵀ, while A itself fills in badly (on an ecoinvent-shaped 20,000-activity
            # matrix: 1.8 M non-zeros in the factors of Aᵀ, 82 M in those of A, 1 s against
            # 120 s; see bench/engine.py).
            return spla.splu(sp.csc_array(self.A.T), permc_spec="COLAMD")
        except RuntimeError:
            raise singular_error(self.A, self.labels) from None

    def solve(self, f: np.ndarray, *, x0: np.ndarray | None = None) -> np.ndarray:
        """Scaling vector ``s`` with ``A s = f`` (``f`` may have several columns).

        ``x0`` (the shape of ``f``): a starting guess for the iterative backend, e.g. the
        solution of a nearby system; the other backends ignore it.
        """
        return self._checked(self.A, self._raw_solve(f, transposed=False, x0=x0), f)

    def solve_transposed(self, r: np.ndarray, *, x0: np.ndarray | None = None) -> np.ndarray:
        """``λ`` with ``Aᵀ λ = r`` (``r`` may have several columns; ``x0`` as in :meth:`solve`)."""
        return self._checked(self.A.T, self._raw_solve(r, transposed=True, x0=x0), r)

    def _raw_solve(
        self, rhs: np.ndarray, *, transposed: bool, x0: np.ndarray | None = None
    ) -> np.ndarray:
        rhs = np.asarray(rhs, dtype=np.float64)
        if self.A.shape[0] == 0:
            return np.zeros_like(rhs)
        if self.backend == "iterative" and not self.fallback:
            x = self._krylov(rhs, transposed, x0)
            if x is not None:
                return x
        if self.backend == "gpu" and not self.fallback:
            from openpcf.core.gpu import DeviceSolve, DeviceSystem

            if self._device is None:  # A moves to the device once per factorisation
                self._device = DeviceSystem(
                    self.A, tolerance=ITERATIVE_TOL, maxiter=ITERATIVE_MAXITER
                )
            done: DeviceSolve = self._device.solve(rhs, transposed=transposed, x0=x0)
            if done.x is not None:
                method = f"{ITERATIVE_METHOD} on {done.device}"
                self.last_solve = SolveInfo(self.backend, method, done.iterations, done.residual)
                return done.x
            self.fallback = done.fallback
        if self.backend == "pardiso":
            matrix, solver = self._pardiso_solver(transposed)
            self.last_solve = SolveInfo(self.backend, "pardiso")
            return np.asarray(solver.solve(matrix, rhs))
        if self._lu is None:  # iterative fell back, or unpickled: factorise
            self._lu = self._superlu()
        self.last_solve = SolveInfo(self.backend, "superlu", fallback=self.fallback)
        # the factors are of Aᵀ: solving with them directly gives λ, with trans="T" gives s
        return np.asarray(self._lu.solve(rhs, trans="N" if transposed else "T"))

    def _krylov(
        self, rhs: np.ndarray, transposed: bool, x0: np.ndarray | None
    ) -> np.ndarray | None:
        """BiCGSTAB (:func:`_bicgstab`) with a Jacobi preconditioner on each column of
        ``rhs``; None (and :attr:`fallback` set) when a column does not reach
        :data:`ITERATIVE_TOL`. Written out rather than scipy's, for the reason given under
        :class:`SampledSystems`: the same time whatever the BLAS thread count."""
        n = self.A.shape[0]
        M = self._operator(transposed)
        diagonal = self.A.diagonal()
        inverse = 1.0 / np.where(diagonal != 0.0, diagonal, 1.0)
        columns = rhs.reshape(n, -1)
        guesses = None if x0 is None else np.asarray(x0, dtype=np.float64).reshape(n, -1)
        out = np.zeros_like(columns)
        iterations: list[int] = []
        worst = 0.0
        for j in range(columns.shape[1]):
            b = np.ascontiguousarray(columns[:, j])
            norm = _norm(b)
            if norm == 0.0:
                iterations.append(0)
                continue
            start = None if guesses is None else guesses[:, j]
            x, count, breakdown = _bicgstab(
                M, b, start, inverse, ITERATIVE_TOL / 10, ITERATIVE_MAXITER
            )
            residual = _norm(M @ x - b) / norm if np.all(np.isfinite(x)) else np.inf
            if residual > ITERATIVE_TOL:
                self.fallback = (
                    f"BiCGSTAB reached a relative residual of {residual:.1e} > "
                    f"{ITERATIVE_TOL:.0e} after {count} iterations"
                    + (" (breakdown)" if breakdown else "")
                )
                return None
            out[:, j] = x
            iterations.append(count)
            worst = max(worst, residual)
        self.last_solve = SolveInfo(self.backend, ITERATIVE_METHOD, tuple(iterations), worst)
        return out.reshape(rhs.shape)

    def _operator(self, transposed: bool) -> sp.csr_array:
        """``Aᵀ`` or ``A`` in CSR for the iterative backend's products, made once per direction
        (``Aᵀ`` in CSR is ``A``'s CSC arrays read as CSR: no transpose)."""
        if transposed not in self._operators:
            A = self.A
            self._operators[transposed] = (
                sp.csr_array((A.data, A.indices, A.indptr), shape=A.shape[::-1])
                if transposed
                else sp.csr_array(A)
            )
        return self._operators[transposed]

    def _pardiso_solver(self, transposed: bool) -> tuple[sp.csr_matrix, Any]:
        """PARDISO keeps one factorisation per matrix: factorise A or Aᵀ on first use."""
        matrix = sp.csr_matrix(self.A.T if transposed else self.A)
        if transposed not in self._pardiso:
            import pypardiso

            solver = pypardiso.PyPardisoSolver()
            solver.factorize(matrix)
            # MKL's memory is not managed by Python: free it when this object goes
            weakref.finalize(self, solver.free_memory, everything=True)
            self._pardiso[transposed] = solver
        return matrix, self._pardiso[transposed]

    def condition_estimate(self) -> float:
        """Estimated 1-norm condition number of ``A`` after equilibrating rows and columns.

        ``κ₁(S) = ‖S‖₁ ‖S⁻¹‖₁`` with ``S = D_r A D_c``, the rows of ``A`` scaled to a largest
        entry of 1, then the columns; ``‖S⁻¹‖₁`` is Hager and Higham's estimate
        (:func:`scipy.sparse.linalg.onenormest`) from a few solves with the factors already
        made, so it costs a handful of solves, not a factorisation.

        Design note: equilibration first, because a model mixing units (1e-6 t of steel and
        1e3 kWh per unit) has a huge unscaled condition number while being perfectly
        accurate; what loses digits is a loop that nearly cancels, which no scaling removes.
        Roughly ``log10(κ)`` significant digits of the 16 of a double are lost.
        """
        n = self.A.shape[0]
        if n == 0:
            return 1.0
        absolute = abs(self.A)
        row = 1.0 / np.asarray(absolute.max(axis=1).todense()).ravel()
        col = 1.0 / np.asarray((absolute.T @ sp.diags_array(row)).max(axis=1).todense()).ravel()
        S = sp.diags_array(row) @ self.A @ sp.diags_array(col)

        def inverse(x: np.ndarray) -> np.ndarray:
            return self._raw_solve(x.ravel() * (1.0 / row), transposed=False) / col

        def inverse_t(y: np.ndarray) -> np.ndarray:
            return self._raw_solve(y.ravel() * (1.0 / col), transposed=True) / row

        operator = spla.LinearOperator((n, n), matvec=inverse, rmatvec=inverse_t, dtype=np.float64)
        return float(spla.norm(S, 1) * spla.onenormest(operator))

    def _checked(self, M: Any, x: np.ndarray, rhs: np.ndarray) -> np.ndarray:
        """Reject non-finite or inaccurate solutions: the signature of a singular ``A``."""
        scale = float(np.abs(rhs).max(initial=0.0))
        if scale < _TINY:  # a (sub)normal right-hand side: the residual test is meaningless
            scale = 0.0
        if not np.all(np.isfinite(x)):
            raise singular_error(self.A, self.labels)
        if scale > 0.0:
            residual = float(np.abs(M @ x - rhs).max()) / scale
            if residual > _RESIDUAL_TOLERANCE * max(1.0, float(np.abs(x).max())):
                raise singular_error(self.A, self.labels)
        return x


def resolve_backend(backend: Backend, size: int) -> Resolved:
    """The solver that factorises a system of ``size`` activities when ``backend`` is asked for.

    ``"auto"`` is PARDISO from :data:`PARDISO_MIN_SIZE` activities on when ``pypardiso`` is
    installed, SuperLU otherwise (never ``"iterative"``: see the design note, nor ``"gpu"``:
    see :mod:`openpcf.core.gpu`); ``"pardiso"`` without ``pypardiso`` raises ``ImportError``,
    ``"gpu"`` without CuPy or a CUDA device :class:`openpcf.core.gpu.GPUUnavailableError`.
    """
    if backend == "auto":
        return "pardiso" if size >= PARDISO_MIN_SIZE and pardiso_available() else "superlu"
    if backend == "pardiso" and not pardiso_available():
        raise ImportError("backend 'pardiso' needs pypardiso: pip install 'openpcf[pardiso]'")
    if backend == "gpu":
        from openpcf.core.gpu import device_namespaces

        device_namespaces()  # GPUUnavailableError: no CuPy, or no CUDA device
    return backend


def singular_error(A: sp.csc_array, labels: Sequence[str]) -> SingularSystemError:
    """Build an error that names the activities that make ``A`` singular."""
    involved = _singular_activities(sp.csc_array(A), labels)
    names = ", ".join(repr(x) for x in involved[:10])
    more = f" and {len(involved) - 10} more" if len(involved) > 10 else ""
    return SingularSystemError(
        "the system cannot be solved (singular technosphere matrix); activities involved: "
        f"{names}{more}. Check that each of them produces its reference product (non-zero "
        "output) and that loops between them do not consume as much as they produce."
    )


def involved_activities(A: sp.csc_array, labels: Sequence[str]) -> list[str]:
    """The activities that make ``A`` singular or nearly so (those of a near-null vector).

    Found by a dense SVD up to 2,500 activities; larger systems get one line saying so.
    """
    return _singular_activities(sp.csc_array(A), labels)


def _singular_activities(A: sp.csc_array, labels: Sequence[str]) -> list[str]:
    n = A.shape[1]
    empty = np.flatnonzero(np.diff(A.indptr) == 0)
    if empty.size:
        return [labels[int(j)] for j in empty]
    matching = maximum_bipartite_matching(sp.csr_array(A), perm_type="row")
    unmatched = np.flatnonzero(matching < 0)
    if unmatched.size:
        return [labels[int(j)] for j in unmatched]
    if n <= _DENSE_DIAGNOSIS_LIMIT:
        _, _, vt = np.linalg.svd(A.toarray())
        v = np.abs(vt[-1])
        return [labels[int(j)] for j in np.flatnonzero(v > 1e-8 * v.max())]
    return ["(too large to isolate: check recent edits to loops and co-products)"]


class SampledSystems:
    """``Aᵀ λ = r`` for a sequence of matrices that share the sparsity of a reference ``A``:
    the draws of a Monte Carlo run, each ``A`` given by its values in the reference's
    canonical CSC order.

    Each draw is solved by BiCGSTAB with the Jacobi preconditioner of the reference (its
    diagonal; the draws' diagonals are their production amounts, usually fixed), started from
    ``start`` when given (the solution at the distributions' means, say: every draw then
    depends on its own values only), else from the previous draw's solution, asked for a
    relative residual of ``tolerance`` (bw2calc's ``rtol``) and accepted when its true
    relative residual ``‖Aᵀ λ − r‖₂ / ‖r‖₂`` is at most :data:`SAMPLED_RESIDUAL_FACTOR` times
    that (the recurrence's own residual drifts from the true one); otherwise that draw is
    solved by a SuperLU factorisation of its own matrix. After :data:`SAMPLED_MAX_FAILURES`
    failures in a row the iterative attempt is given up for the rest of the run (each costs
    up to ``maxiter`` iterations before the LU). ``iterative=False`` solves every draw by LU.

    Design note: ``Aᵀ`` in CSR is ``A``'s CSC arrays read as CSR, so a draw costs no transpose
    and no sparsity work, and the structural check of :class:`Factorisation` is made once for
    the whole sequence (the structure does not change). BiCGSTAB is written out here
    (:func:`_bicgstab`, the iteration of scipy's) so that its dot products and norms are
    numpy's own sums, not BLAS calls: OpenBLAS threads on vectors of 20,000 doubles spin
    against each other on a busy machine, and scipy's ``bicgstab`` took 120 ms a draw with
    OpenBLAS's 2 threads against 11–17 ms with one (load average 6.6 on the 2-core
    development machine; bw2calc's ``IterativeLCA`` limits OpenBLAS to one thread for the
    same reason), while the core cannot limit threads (it imports numpy and scipy only);
    written out, a draw takes 10 ms with either thread count. On that background, with
    lognormal σ = 0.1 on every input and emission (``bench/engine.py``, row ``f``), a draw
    takes 7 to 8 iterations from the previous draw's solution to a relative residual of 1e-8
    (11 to 12 to 1e-13), 7 from the solution at the means. The products read 32-bit indices
    where they fit (12 bytes an entry instead of 16: 0.29 against 0.33 ms a product there),
    and the iteration updates its vectors in place (from the means: 4.9 against 5.7 ms a
    draw, with both).
    """

    def __init__(
        self,
        A: sp.csc_array,
        *,
        labels: Sequence[str] = (),
        tolerance: float = ITERATIVE_TOL / SAMPLED_RESIDUAL_FACTOR,
        maxiter: int = ITERATIVE_MAXITER,
        iterative: bool = True,
        start: np.ndarray | None = None,
    ) -> None:
        if not tolerance > 0:
            raise ValueError(f"tolerance must be > 0, got {tolerance!r}")
        self.A = sp.csc_array(A, dtype=np.float64, copy=True)
        self.A.sum_duplicates()
        self.labels = tuple(labels) or tuple(f"activity {j}" for j in range(self.A.shape[1]))
        n = self.A.shape[0]
        if n and structural_rank(self.A) < n:
            raise singular_error(self.A, self.labels)
        if start is not None and np.shape(start) != (n,):
            raise ValueError(f"start must have {n} values, got shape {np.shape(start)}")
        diagonal = self.A.diagonal()
        self._inverse = 1.0 / np.where(diagonal != 0.0, diagonal, 1.0)
        # 32-bit indices where they fit: a product streams 12 bytes per entry, not 16
        small = self.A.nnz < np.iinfo(np.int32).max
        index = np.int32 if small else np.int64
        self._indices = self.A.indices.astype(index)
        self._indptr = self.A.indptr.astype(index)
        self.tolerance = tolerance
        self.maxiter = maxiter
        self.iterative = iterative
        self._start = None if start is None else np.array(start, dtype=np.float64)
        self._previous: np.ndarray | None = None
        self._failures = 0
        #: draws solved, of which by BiCGSTAB, and its iterations over those
        self.solves = 0
        self.iterative_solves = 0
        self.iterations = 0
        #: why the last draw that BiCGSTAB did not solve went to LU; empty when none did
        self.fallback = ""

    def solve_transposed(
        self, data: np.ndarray, r: np.ndarray, *, x0: np.ndarray | None = None
    ) -> np.ndarray:
        """``λ`` with ``Aᵀ λ = r`` for the draw whose values (the reference's CSC order) are
        ``data``, BiCGSTAB started from ``x0`` when given (:meth:`presolve`)."""
        n = self.A.shape[0]
        r = np.asarray(r, dtype=np.float64)
        lam = self._krylov(data, r, x0) if self.iterative else None
        if lam is None:
            A = sp.csc_array((data, self.A.indices, self.A.indptr), shape=(n, n))
            lam = Factorisation(A, labels=self.labels).solve_transposed(r)
        self.solves += 1
        self._previous = lam
        return lam

    def presolve(self, data: np.ndarray, r: np.ndarray, rtol: float) -> tuple[np.ndarray, int]:
        """A start for :meth:`solve_transposed` of a draw, and the iterations it took:
        BiCGSTAB from ``start`` (zeros when none was given) to a relative residual of
        ``rtol`` (the recurrence's, not checked); ``start`` itself when that is not finite
        or the draws are solved by LU. It changes nothing here, so a worker thread can make
        it for the next draw while this one is solved
        (:meth:`openpcf.model.database_uncertainty.DatabaseSampler.draw_from`)."""
        n = self.A.shape[0]
        start = np.zeros(n) if self._start is None else self._start
        r = np.asarray(r, dtype=np.float64)
        if not self.iterative or not n or _norm(r) == 0.0:
            return start, 0
        AT = sp.csr_array((data, self._indices, self._indptr), shape=(n, n))
        x, count, _ = _bicgstab(AT, r, start, self._inverse, rtol, self.maxiter)
        return (x, count) if np.all(np.isfinite(x)) else (start, 0)

    def _krylov(
        self, data: np.ndarray, r: np.ndarray, x0: np.ndarray | None = None
    ) -> np.ndarray | None:
        n = self.A.shape[0]
        AT = sp.csr_array((data, self._indices, self._indptr), shape=(n, n))
        norm = _norm(r)
        if norm == 0.0:
            return np.zeros_like(r)
        start = x0 if x0 is not None else self._previous if self._start is None else self._start
        x, count, breakdown = _bicgstab(AT, r, start, self._inverse, self.tolerance, self.maxiter)
        residual = _norm(AT @ x - r) / norm if np.all(np.isfinite(x)) else np.inf
        accepted = SAMPLED_RESIDUAL_FACTOR * self.tolerance
        if residual <= accepted:
            self._failures = 0
            self.iterative_solves += 1
            self.iterations += count
            return x
        self.fallback = (
            f"BiCGSTAB reached a relative residual of {residual:.1e} > {accepted:.0e} "
            f"after {count} iterations" + (" (breakdown)" if breakdown else "")
        )
        self._failures += 1
        self._previous = None  # a diverged iterate is no start for the next draw
        if self._failures >= SAMPLED_MAX_FAILURES:
            self.iterative = False
        return None


def _dot(a: np.ndarray, b: np.ndarray) -> float:
    """``aᵀ b`` by numpy's own single-threaded sum of products, not BLAS (see
    :class:`SampledSystems`): on 20,000 doubles 8–16 µs, where BLAS ``ddot`` took 7–139 µs
    with OpenBLAS's 2 threads on the busy development machine."""
    return float(np.einsum("i,i->", a, b))


def _norm(a: np.ndarray) -> float:
    return math.sqrt(_dot(a, a))


def _bicgstab(
    M: sp.csr_array,
    b: np.ndarray,
    x0: np.ndarray | None,
    inverse: np.ndarray,
    rtol: float,
    maxiter: int,
) -> tuple[np.ndarray, int, bool]:
    """BiCGSTAB (van der Vorst 1992, right-preconditioned by ``diag(inverse)``, the form of
    :func:`scipy.sparse.linalg.bicgstab`) for ``M x = b`` from ``x0`` until the recurrence's
    residual is at most ``rtol ‖b‖``: the iterate, the iterations made and whether it broke
    down (a zero ``ρ`` or ``ω``).

    The vectors are updated in place in a few buffers made once (``work`` holds each
    scaled vector before it is added): a draw of :class:`SampledSystems` makes about 15
    vector updates per iteration, and fresh arrays for them cost as much again."""
    x = np.zeros_like(b) if x0 is None else np.array(x0, dtype=np.float64)
    r = b - M @ x
    goal = rtol * _norm(b)
    if _norm(r) <= goal:
        return x, 0, False
    rhat = r.copy()
    p, v = np.zeros_like(b), np.zeros_like(b)
    phat, s, shat, work = (np.empty_like(b) for _ in range(4))
    rho_old = alpha = omega = 1.0
    for k in range(1, maxiter + 1):
        rho = _dot(rhat, r)
        if rho == 0.0 or omega == 0.0:
            return x, k - 1, True
        beta = (rho / rho_old) * (alpha / omega)
        p -= np.multiply(v, omega, out=work)  # p = r + β (p − ω v)
        p *= beta
        p += r
        v = M @ np.multiply(inverse, p, out=phat)
        denominator = _dot(rhat, v)
        if denominator == 0.0:
            return x, k, True
        alpha = rho / denominator
        np.subtract(r, np.multiply(v, alpha, out=work), out=s)  # s = r − α v
        x += np.multiply(phat, alpha, out=work)
        if _norm(s) <= goal:
            return x, k, False
        t = M @ np.multiply(inverse, s, out=shat)
        tt = _dot(t, t)
        omega = _dot(t, s) / tt if tt else 0.0
        x += np.multiply(shat, omega, out=work)
        np.subtract(s, np.multiply(t, omega, out=work), out=r)  # r = s − ω t
        if _norm(r) <= goal:
            return x, k, False
        rho_old = rho
    return x, maxiter, False


class FactorisationCache:
    """A small LRU cache of factorisations keyed by the content hash of ``A``."""

    def __init__(self, maxsize: int = 8) -> None:
        self.maxsize = maxsize
        self._items: OrderedDict[tuple[str, str], Factorisation] = OrderedDict()
        self.hits = 0
        self.misses = 0

    def get(
        self, A: sp.csc_array, *, labels: Sequence[str] = (), backend: Backend = "superlu"
    ) -> Factorisation:
        key = (matrix_hash(sp.csc_array(A)), resolve_backend(backend, A.shape[0]))
        if key in self._items:
            self.hits += 1
            self._items.move_to_end(key)
            return self._items[key]
        self.misses += 1
        fact = Factorisation(A, labels=labels, backend=backend)
        self._items[key] = fact
        while len(self._items) > self.maxsize:
            self._items.popitem(last=False)
        return fact

    def peek(self, A: sp.csc_array, *, backend: Backend = "superlu") -> Factorisation | None:
        """The cached factorisation of ``A``, if any (not counted as a hit or a miss)."""
        return self._items.get((matrix_hash(sp.csc_array(A)), resolve_backend(backend, A.shape[0])))

    def clear(self) -> None:
        self._items.clear()


#: The process-wide cache used when no other is given.
DEFAULT_CACHE = FactorisationCache()


def factorise(
    A: sp.csc_array,
    *,
    labels: Sequence[str] = (),
    backend: Backend = "superlu",
    cache: FactorisationCache | None = DEFAULT_CACHE,
) -> Factorisation:
    """Factorise ``A``, reusing a cached factorisation of an identical matrix."""
    if cache is None:
        return Factorisation(A, labels=labels, backend=backend)
    return cache.get(A, labels=labels, backend=backend)
