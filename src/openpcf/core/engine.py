"""Solve a foreground product system on a fixed background.

The full technosphere matrix of a product model is block lower-triangular::

    ⎡ A_ff    0  ⎤ ⎡ s_f ⎤   ⎡ f ⎤
    ⎣ A_bf  A_bb ⎦ ⎣ s_b ⎦ = ⎣ 0 ⎦

``A_ff`` (p x p) is the model's own processes, ``A_bb`` (n x n) the background (a factor set
or an imported LCI database) and ``A_bf`` (n x p) the background products the foreground
consumes (negative entries). The background never consumes foreground products, so:

- ``s_f = A_ff⁻¹ f`` and ``s_b = A_bb⁻¹ (−A_bf s_f)``;
- with a gas-selection or characterisation matrix ``Q`` (m x k), background intensities
  ``Λ_b = A_bb⁻ᵀ B_bᵀ Q`` (n x k) come from one transposed solve, are cached by the
  background's content hash and ``Q``, and do not change when the foreground is edited;
- foreground intensities follow from ``A_ffᵀ Λ_f = B_fᵀ Q − A_bfᵀ Λ_b``.

Before ``s_f`` is trusted, ``A_ff`` must be productive (no loop of processes consumes as much
as it produces, :func:`openpcf.core.loops.check_productive`; otherwise ``s_f`` has negative
entries and the footprint is negative), and the solution records the equilibrated condition
number of ``A_ff`` (:meth:`~openpcf.core.solver.Factorisation.condition_estimate`), so a
nearly cancelling loop can be reported with the result.

The footprint of the model is then ``Σ_j s_f[j] (B_f[:, j]ᵀ Q − A_bf[:, j]ᵀ Λ_b)``: each
foreground process carries its direct emissions plus the cradle-to-gate burden of the
background products it uses (the "upstream" part). Summing over the foreground gives the total
without ever forming ``s_b``; recalculating after a foreground edit costs one small solve
(:class:`ForegroundSolver` keeps everything else).

Linked databases (a third layer). A background row may itself draw on the activities of
imported LCI databases (``linked``, each a :class:`MatrixSystem` ``A_ll``, ``B_l``) through
``A_lb`` (linked products x background rows, negative entries): the model's ``background:``
inputs linked into the database's supply chain instead of a precomputed number. Each linked
system's intensities ``Λ_l = A_ll⁻ᵀ B_lᵀ Q`` come from :func:`background_intensities`, so they
and the factorisation of ``A_ll`` are cached by that system's own content hash (a new factor
row in the model does not refactorise the database), and then
``A_bbᵀ Λ_b = B_bᵀ Q − A_lbᵀ Λ_l``. Without linked systems ``Λ_b`` is as above.

Every function takes the solver ``backend`` (:mod:`openpcf.core.solver`); with
``"iterative"`` the background and linked systems are solved by BiCGSTAB, LU-accurate or
falling back to LU, and :func:`solver_used` says which of the two it was. Foreground systems
are always factorised with SuperLU (they are small, and their condition number is estimated
from the factors).
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import numpy as np
import scipy.sparse as sp

from openpcf.core.loops import check_productive
from openpcf.core.solver import (
    DEFAULT_CACHE,
    Backend,
    FactorisationCache,
    factorise,
    resolve_backend,
)
from openpcf.core.system import MatrixSystem, matrix_hash, same_sparse
from openpcf.errors import NonSquareSystemError


@dataclass(frozen=True, slots=True, kw_only=True)
class LayeredSystem:
    """A foreground :class:`MatrixSystem` on a background one, linked by ``A_bf``."""

    foreground: MatrixSystem
    background: MatrixSystem
    A_bf: sp.csc_array
    #: LCI database systems the background rows draw on (see the module docstring)
    linked: tuple[MatrixSystem, ...] = ()
    #: what each background row takes from the linked systems, stacked in ``linked`` order
    #: (Σ linked sizes x background size); None when nothing is linked
    A_lb: sp.csc_array | None = None

    def __post_init__(self) -> None:
        if self.foreground.flows != self.background.flows:
            raise NonSquareSystemError("foreground and background must share the same flows")
        expected = (self.background.size, self.foreground.size)
        if self.A_bf.shape != expected:
            raise NonSquareSystemError(f"A_bf has shape {self.A_bf.shape}, expected {expected}")
        object.__setattr__(self, "A_bf", sp.csc_array(self.A_bf, dtype=np.float64))
        if any(s.flows != self.background.flows for s in self.linked):
            raise NonSquareSystemError("linked systems must share the background's flows")
        linked = (sum(s.size for s in self.linked), self.background.size)
        A_lb = sp.csc_array(linked) if self.A_lb is None else self.A_lb
        if A_lb.shape != linked:
            raise NonSquareSystemError(f"A_lb has shape {A_lb.shape}, expected {linked}")
        object.__setattr__(self, "A_lb", sp.csc_array(A_lb, dtype=np.float64))

    @property
    def linked_offsets(self) -> tuple[int, ...]:
        """First row of each linked system in ``A_lb`` (and in ``Λ_l``, ``s_l``)."""
        offsets = np.cumsum([0, *(s.size for s in self.linked)])
        return tuple(int(x) for x in offsets[:-1])

    def __eq__(self, other: object) -> bool:
        """Equal systems and links (compared by value): a pickled copy equals its original."""
        if not isinstance(other, LayeredSystem):
            return NotImplemented
        return (
            self.foreground == other.foreground
            and self.background == other.background
            and same_sparse(self.A_bf, other.A_bf)
            and self.linked == other.linked
            and same_sparse(self.link_matrix, other.link_matrix)
        )

    @property
    def link_matrix(self) -> sp.csc_array:
        """``A_lb`` (never None once constructed)."""
        assert self.A_lb is not None
        return self.A_lb


@dataclass(frozen=True, slots=True, kw_only=True)
class LayeredSolution:
    """Scaling and per-process burdens of a solved :class:`LayeredSystem`.

    Attributes
    ----------
    s_f
        Foreground scaling vector (p,).
    direct
        ``s_f[j] · B_f[:, j]ᵀ Q`` per foreground process, shape (p, k).
    upstream
        ``s_f[j] · (−A_bf[:, j])ᵀ Λ_b`` per foreground process, shape (p, k).
    lambda_b
        Background intensities ``Λ_b`` (n, k), per unit of each background product.
    condition
        Estimated condition number of the equilibrated ``A_ff``: about ``log10(condition)``
        of a double's 16 significant digits are lost in ``s_f``.
    lambda_l
        Intensities of the linked systems' activities (Σ linked sizes, k), stacked.
    """

    s_f: np.ndarray
    direct: np.ndarray
    upstream: np.ndarray
    lambda_b: np.ndarray
    condition: float = 1.0
    lambda_l: np.ndarray | None = None

    @property
    def per_process(self) -> np.ndarray:
        both: np.ndarray = self.direct + self.upstream
        return both

    @property
    def total(self) -> np.ndarray:
        """Footprint per column of ``Q`` (k,)."""
        total: np.ndarray = self.per_process.sum(axis=0)
        return total


def _array_hash(Q: np.ndarray) -> str:
    Q = np.ascontiguousarray(Q, dtype=np.float64)
    return hashlib.sha256(np.asarray(Q.shape).tobytes() + Q.tobytes()).hexdigest()


class IntensityCache:
    """LRU cache of background intensities ``Λ_b`` keyed by (background hash, ``Q`` hash)."""

    def __init__(self, maxsize: int = 16) -> None:
        self.maxsize = maxsize
        self._items: OrderedDict[tuple[str, str, str], np.ndarray] = OrderedDict()

    def get(self, key: tuple[str, str, str]) -> np.ndarray | None:
        if key in self._items:
            self._items.move_to_end(key)
            return self._items[key]
        return None

    def put(self, key: tuple[str, str, str], value: np.ndarray) -> None:
        value.setflags(write=False)
        self._items[key] = value
        while len(self._items) > self.maxsize:
            self._items.popitem(last=False)

    def clear(self) -> None:
        self._items.clear()


DEFAULT_INTENSITIES = IntensityCache()


def intensities(
    system: MatrixSystem,
    Q: np.ndarray,
    *,
    backend: Backend = "superlu",
    cache: FactorisationCache | None = DEFAULT_CACHE,
    x0: np.ndarray | None = None,
) -> np.ndarray:
    """Cradle-to-gate intensities of every activity: ``Λ = A⁻ᵀ Bᵀ Q`` (n x k).

    Row ``j`` is the burden of one unit of activity ``j``'s reference product, per column of
    ``Q``: with ``Q`` a characterisation vector this is every product's footprint in one
    transposed solve. ``x0`` (n x k, or (n,) for one column): a starting guess for
    ``backend="iterative"``, typically the intensities of a nearby system (the previous Monte
    Carlo draw); ignored by the LU backends.
    """
    Q2 = np.asarray(Q, dtype=np.float64).reshape(system.B.shape[0], -1)
    rhs = np.asarray(system.B.T @ Q2)
    fact = factorise(system.A, labels=system.activities, backend=backend, cache=cache)
    guess = None if x0 is None else np.asarray(x0, dtype=np.float64).reshape(rhs.shape)
    return fact.solve_transposed(rhs, x0=guess).reshape(system.size, Q2.shape[1])


def solver_used(
    system: MatrixSystem,
    *,
    backend: Backend = "superlu",
    factorisations: FactorisationCache | None = DEFAULT_CACHE,
) -> str:
    """How ``system`` was last solved with ``backend``, for provenance.

    ``"superlu"``, ``"pardiso"``, ``"iterative (bicgstab+jacobi, 12 iterations)"`` or
    ``"iterative, fell back to superlu: <why>"``; the resolved backend's name when the
    factorisation is no longer cached (or was never made).
    """
    fact = None if factorisations is None else factorisations.peek(system.A, backend=backend)
    if fact is None or fact.last_solve is None:
        return resolve_backend(backend, system.size)
    return fact.last_solve.describe()


def background_intensities(
    background: MatrixSystem,
    Q: np.ndarray,
    *,
    backend: Backend = "superlu",
    factorisations: FactorisationCache | None = DEFAULT_CACHE,
    cache: IntensityCache | None = DEFAULT_INTENSITIES,
    content_hash: Callable[[MatrixSystem], str] = MatrixSystem.content_hash,
) -> np.ndarray:
    """:func:`intensities` of a background, cached by its content hash and ``Q``
    (``content_hash``: how the hash is found, :meth:`Recalculation.content_hash` to hash each
    object once)."""
    key = (content_hash(background), _array_hash(Q), backend)
    if cache is not None and (hit := cache.get(key)) is not None:
        return hit
    lam = intensities(background, Q, backend=backend, cache=factorisations)
    if cache is not None:
        cache.put(key, lam)
    return lam


def layer_intensities(
    system: LayeredSystem,
    Q: np.ndarray,
    *,
    backend: Backend = "superlu",
    factorisations: FactorisationCache | None = DEFAULT_CACHE,
    cache: IntensityCache | None = DEFAULT_INTENSITIES,
    content_hash: Callable[[MatrixSystem], str] = MatrixSystem.content_hash,
) -> tuple[np.ndarray, np.ndarray]:
    """``(Λ_b, Λ_l)``: background and linked intensities (``Λ_l`` stacked, ``(0, k)`` when
    nothing is linked), each linked system cached by its own content hash (found with
    ``content_hash``, see :func:`background_intensities`)."""
    Q2 = np.asarray(Q, dtype=np.float64).reshape(system.background.B.shape[0], -1)
    k = Q2.shape[1]
    if not system.linked:
        lam_b = background_intensities(
            system.background,
            Q2,
            backend=backend,
            factorisations=factorisations,
            cache=cache,
            content_hash=content_hash,
        )
        return lam_b, np.zeros((0, k))
    lam_l = np.vstack(
        [
            background_intensities(
                s,
                Q2,
                backend=backend,
                factorisations=factorisations,
                cache=cache,
                content_hash=content_hash,
            )
            for s in system.linked
        ]
    )
    bg = system.background
    rhs = np.asarray(bg.B.T @ Q2) - np.asarray(system.link_matrix.T @ lam_l)
    fact = factorise(bg.A, labels=bg.activities, cache=factorisations)
    return fact.solve_transposed(rhs).reshape(bg.size, k), lam_l


def solve_layered(
    system: LayeredSystem,
    f: np.ndarray,
    Q: np.ndarray,
    *,
    backend: Backend = "superlu",
    factorisations: FactorisationCache | None = DEFAULT_CACHE,
    cache: IntensityCache | None = DEFAULT_INTENSITIES,
) -> LayeredSolution:
    """Solve the foreground for demand ``f`` and attribute burdens per process.

    Raises :class:`~openpcf.errors.UnproductiveSystemError` when a loop of foreground
    processes consumes as much as it produces (see :mod:`openpcf.core.loops`). To solve the
    same system again after editing its foreground, keep a :class:`ForegroundSolver`
    (``solve_layered`` is ``ForegroundSolver(system, Q, ...).solve(f)``).

    Parameters
    ----------
    f
        Foreground demand (p,), in each product's reference unit.
    Q
        Flows x indicators (m x k): the identity over gases keeps gases apart, a GWP vector
        gives kg CO2e.
    """
    solver = ForegroundSolver(
        system, Q, backend=backend, factorisations=factorisations, cache=cache
    )
    return solver.solve(f)


#: The foreground matrices :meth:`ForegroundSolver.set` edits.
ForegroundMatrix = Literal["A_ff", "A_bf", "B_f"]


class ForegroundSolver:
    """A :class:`LayeredSystem` solved again and again while its foreground is edited.

    Made once per system and ``Q`` (m x k): the background intensities ``Λ_b`` (and ``Λ_l``,
    :func:`layer_intensities`, cached by the background's content hash), each foreground
    process's burden per unit ``h_direct = B_fᵀ Q`` and ``h_up = −A_bfᵀ Λ_b`` (p x k, dense),
    and the SuperLU factors of ``A_ff`` with its productivity check and condition number. Then

    - :meth:`solve` ``(f)``: ``s_f = A_ff⁻¹ f`` from the kept factors, ``direct = h_direct ∘
      s_f``, ``upstream = h_up ∘ s_f`` (a p x p triangular solve pair, two p x k products);
    - :meth:`set` ``(matrix, row, col, value)``: one entry of ``A_ff``, ``A_bf`` or ``B_f``. An
      ``A_bf[i, j]`` edit changes row ``j`` of ``h_up`` only, recomputed from column ``j`` of
      ``A_bf`` (``nnz(A_bf[:, j]) · k`` multiply-adds); a ``B_f[g, j]`` edit row ``j`` of
      ``h_direct``; an ``A_ff`` edit factorises the p x p ``A_ff`` again, checks that it is
      still productive and estimates its condition number (the checks of a fresh solve);
    - :meth:`rebase` ``(system)``: the whole foreground of another system on the same
      background (a model recompiled with other parameter values, :class:`Recalculation`).

    Every result equals :func:`solve_layered` of the edited system (:attr:`system`), which
    does the same operations (``tests/test_engine_recalculate.py``: within 1e-12 relative).

    Design note: a foreground edit used to be a new :class:`LayeredSystem` and a warm
    :func:`solve_layered`, 9–10 ms on the 20,000-activity synthetic background
    (``bench/engine.py``, row ``c``), of which cProfile put 70 % in hashing the unchanged
    background to find its cached intensities, 15 % in the condition estimate of the
    unchanged ``A_ff``, and most of the rest in factorising it again and building sparse
    matrices. Kept here, none of that is repeated, and the edited system is built only when
    :attr:`system` is asked for.
    """

    def __init__(
        self,
        system: LayeredSystem,
        Q: np.ndarray,
        *,
        backend: Backend = "superlu",
        factorisations: FactorisationCache | None = DEFAULT_CACHE,
        cache: IntensityCache | None = DEFAULT_INTENSITIES,
        content_hash: Callable[[MatrixSystem], str] = MatrixSystem.content_hash,
    ) -> None:
        self.Q = np.asarray(Q, dtype=np.float64).reshape(system.foreground.B.shape[0], -1)
        self.lambda_b, self.lambda_l = layer_intensities(
            system,
            self.Q,
            backend=backend,
            factorisations=factorisations,
            cache=cache,
            content_hash=content_hash,
        )
        self._base = system
        self._system: LayeredSystem | None = system
        fg = system.foreground
        self._matrices: dict[str, sp.csc_array] = {
            "A_ff": fg.A,
            "A_bf": system.A_bf,
            "B_f": fg.B,
        }
        self._direct = np.asarray(fg.B.T @ self.Q)
        self._upstream = np.asarray(-(system.A_bf.T @ self.lambda_b))
        self._factorise_foreground(fg.A, fg.activities)

    def rebase(self, system: LayeredSystem) -> None:
        """Take the foreground (``A_ff``, ``A_bf``, ``B_f``) of ``system``, a system with this
        one's background, links and ``Q`` rows (the caller checks: :class:`Recalculation`
        keys solvers by them), as a fresh solver would: ``h_direct`` and ``h_up`` from the
        same products, and ``A_ff`` factorised, checked and its condition estimated again
        unless its values are those already factorised (the same matrix gives the same
        factors). Raises as :func:`solve_layered` does, and then nothing is changed.
        """
        fg = system.foreground
        if not same_sparse(fg.A, self._matrices["A_ff"]):
            self._factorise_foreground(fg.A, fg.activities)
        self._matrices = {"A_ff": fg.A, "A_bf": system.A_bf, "B_f": fg.B}
        self._direct = np.asarray(fg.B.T @ self.Q)
        self._upstream = np.asarray(-(system.A_bf.T @ self.lambda_b))
        self._base = system
        self._system = system

    @property
    def system(self) -> LayeredSystem:
        """The system with every edit so far (built on first use after an edit)."""
        if self._system is None:
            base = self._base
            A = self._matrices
            foreground = MatrixSystem(
                A=A["A_ff"],
                B=A["B_f"],
                activities=base.foreground.activities,
                flows=base.foreground.flows,
            )
            self._system = LayeredSystem(
                foreground=foreground,
                background=base.background,
                A_bf=A["A_bf"],
                linked=base.linked,
                A_lb=base.A_lb,
            )
        return self._system

    def set(self, matrix: ForegroundMatrix, row: int, col: int, value: float) -> None:
        """Set entry ``(row, col)`` of the foreground matrix ``matrix`` to ``value``.

        ``A_ff``: p x p, outputs positive, inputs negative; ``A_bf``: background products x
        foreground processes (inputs negative); ``B_f``: flows x foreground processes. Raises
        ``ValueError`` for another matrix name or a non-finite value, ``IndexError`` for an
        entry outside the matrix; an ``A_ff`` that becomes singular or unproductive raises as
        :func:`solve_layered` does, and the edit is not made.
        """
        if matrix not in self._matrices:
            raise ValueError(
                f"cannot edit {matrix!r}: a foreground edit sets an entry of "
                f"{', '.join(self._matrices)}"
            )
        M = self._matrices[matrix]
        if not (0 <= row < M.shape[0] and 0 <= col < M.shape[1]):
            raise IndexError(f"entry ({row}, {col}) is outside {matrix}, of shape {M.shape}")
        if not np.isfinite(value):
            raise ValueError(f"{matrix}[{row}, {col}] must be a finite number, got {value!r}")
        M = _with_entry(M, row, col, float(value))
        if matrix == "A_ff":  # raises before anything is changed
            self._factorise_foreground(M, self._base.foreground.activities)
        self._matrices[matrix] = M
        self._system = None
        lo, hi = M.indptr[col], M.indptr[col + 1]
        if matrix == "A_bf":  # row col of h_up = −A_bfᵀ Λ_b
            self._upstream[col] = -(M.data[lo:hi] @ self.lambda_b[M.indices[lo:hi]])
        elif matrix == "B_f":  # row col of h_direct = B_fᵀ Q
            self._direct[col] = M.data[lo:hi] @ self.Q[M.indices[lo:hi]]

    def solve(self, f: np.ndarray) -> LayeredSolution:
        """The solution for foreground demand ``f`` (p,) with every edit so far."""
        s_f = self._factors.solve(np.asarray(f, dtype=np.float64))
        return LayeredSolution(
            s_f=s_f,
            direct=self._direct * s_f[:, None],
            upstream=self._upstream * s_f[:, None],
            lambda_b=self.lambda_b,
            condition=self._condition,
            lambda_l=self.lambda_l,
        )

    def _factorise_foreground(self, A_ff: sp.csc_array, labels: tuple[str, ...]) -> None:
        """Factorise, check and estimate the condition of ``A_ff``, and keep it only if all
        three succeed."""
        factors = factorise(A_ff, labels=labels, cache=None)  # a singular A is named here
        check_productive(A_ff, labels)
        condition = factors.condition_estimate()
        self._factors, self._condition = factors, condition


def _with_entry(M: sp.csc_array, row: int, col: int, value: float) -> sp.csc_array:
    """``M`` with entry ``(row, col)`` set to ``value``: new values on the same structure when
    the entry is stored (duplicates of it zeroed), otherwise one entry added."""
    lo, hi = M.indptr[col], M.indptr[col + 1]
    stored = lo + np.flatnonzero(M.indices[lo:hi] == row)
    if stored.size:
        data = M.data.copy()
        data[stored] = 0.0
        data[stored[0]] = value
        return sp.csc_array((data, M.indices, M.indptr), shape=M.shape)
    coo = M.tocoo()
    return sp.csc_array(
        (np.append(coo.data, value), (np.append(coo.row, row), np.append(coo.col, col))),
        shape=M.shape,
    )


def foreground_intensities(system: LayeredSystem, lam_b: np.ndarray, Q: np.ndarray) -> np.ndarray:
    """``Λ_f`` from ``A_ffᵀ Λ_f = B_fᵀ Q − A_bfᵀ Λ_b``: every foreground product's footprint."""
    fg = system.foreground
    Q2 = np.asarray(Q, dtype=np.float64).reshape(fg.B.shape[0], -1)
    rhs = np.asarray(fg.B.T @ Q2) - np.asarray(system.A_bf.T @ lam_b)
    fact = factorise(fg.A, labels=fg.activities, cache=None)
    return fact.solve_transposed(rhs).reshape(fg.size, Q2.shape[1])


def solve_background(
    system: LayeredSystem,
    s_f: np.ndarray,
    *,
    backend: Backend = "superlu",
    factorisations: FactorisationCache | None = DEFAULT_CACHE,
) -> np.ndarray:
    """Background scaling ``s_b = A_bb⁻¹ (−A_bf s_f)``: how much of each background activity."""
    bg = system.background
    fact = factorise(bg.A, labels=bg.activities, backend=backend, cache=factorisations)
    return fact.solve(np.asarray(-(system.A_bf @ s_f)))


def solve_linked(
    system: LayeredSystem,
    s_b: np.ndarray,
    *,
    backend: Backend = "superlu",
    factorisations: FactorisationCache | None = DEFAULT_CACHE,
) -> np.ndarray:
    """Linked scaling ``s_l = A_ll⁻¹ (−A_lb s_b)``, stacked over the linked systems: how much of
    each database activity the background rows draw on."""
    demand = np.asarray(-(system.link_matrix @ np.asarray(s_b, dtype=np.float64)))
    parts = []
    for offset, linked in zip(system.linked_offsets, system.linked, strict=True):
        fact = factorise(linked.A, labels=linked.activities, backend=backend, cache=factorisations)
        parts.append(fact.solve(demand[offset : offset + linked.size]))
    return np.concatenate(parts) if parts else np.zeros(0)


class Recalculation:
    """Solve product systems on the same backgrounds again and again, as a loop over parameter
    values does, redoing only what a parameter can change.

    A model recompiled with other parameter values is a new :class:`LayeredSystem` whose
    background (the factor rows), linked databases and links ``A_lb`` usually equal the last
    one's. :meth:`solve` keys a :class:`ForegroundSolver` by their content (with ``Q`` and
    the backend) and :meth:`ForegroundSolver.rebase`\\ s it on the new foreground: ``Λ_b`` and
    ``Λ_l`` are kept, ``A_ff`` is factorised again only when its values changed. Every result
    is the :func:`solve_layered` of the same system (``tests/test_parameter_resolve.py``).

    Content, never identity, decides what is reused, but :meth:`content_hash` hashes each
    system *object* once (the linked databases are the same objects from one compilation to
    the next, :func:`openpcf.services.calculate.background_database`): keep one
    ``Recalculation`` for the length of a loop in which nobody edits a matrix in place (none
    of OpenPCF's code does; systems are frozen values).

    Design note (``bench/parameters.py``, a USLCI-linked model, 200 parameter sets): of a
    model-layer recalculation, hashing the 766-activity database three times took about 7 %
    and factorising the unchanged 2 x 2 ``A_ff`` with its condition estimate about 21 %; the
    largest share (56 %) was the contribution tree's sparse slicing, fixed in
    :mod:`openpcf.model.result` for every calculation.
    """

    def __init__(
        self,
        *,
        maxsize: int = 8,
        factorisations: FactorisationCache | None = DEFAULT_CACHE,
        cache: IntensityCache | None = DEFAULT_INTENSITIES,
    ) -> None:
        self.maxsize = maxsize
        self._factorisations, self._cache = factorisations, cache
        self._hashes: OrderedDict[int, tuple[MatrixSystem, str]] = OrderedDict()
        self._solvers: OrderedDict[tuple[str, ...], ForegroundSolver] = OrderedDict()
        #: solvers made (a background seen for the first time) and rebased (one reused)
        self.made = self.rebased = 0

    def content_hash(self, system: MatrixSystem) -> str:
        """:meth:`MatrixSystem.content_hash`, computed once per object (the object is kept
        with its hash, so its ``id`` cannot be reused while the entry lives)."""
        if (hit := self._hashes.get(id(system))) is not None and hit[0] is system:
            self._hashes.move_to_end(id(system))
            return hit[1]
        digest = system.content_hash()
        self._hashes[id(system)] = (system, digest)
        while len(self._hashes) > 4 * self.maxsize:
            self._hashes.popitem(last=False)
        return digest

    def solve(
        self, system: LayeredSystem, f: np.ndarray, Q: np.ndarray, *, backend: Backend = "superlu"
    ) -> LayeredSolution:
        """:func:`solve_layered` ``(system, f, Q, backend=backend)``, reusing the background."""
        key = (
            self.content_hash(system.background),
            *(self.content_hash(s) for s in system.linked),
            matrix_hash(system.link_matrix),
            _array_hash(Q),
            backend,
        )
        solver = self._solvers.get(key)
        if solver is None:
            solver = ForegroundSolver(
                system,
                Q,
                backend=backend,
                factorisations=self._factorisations,
                cache=self._cache,
                content_hash=self.content_hash,
            )
            self.made += 1
        else:
            solver.rebase(system)
            self.rebased += 1
        self._solvers[key] = solver
        self._solvers.move_to_end(key)
        while len(self._solvers) > self.maxsize:
            self._solvers.popitem(last=False)
        return solver.solve(f)
