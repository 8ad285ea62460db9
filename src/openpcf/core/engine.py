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
without ever forming ``s_b``; recalculating after a foreground edit costs one small solve.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from openpcf.core.loops import check_productive
from openpcf.core.solver import DEFAULT_CACHE, Backend, FactorisationCache, factorise
from openpcf.core.system import MatrixSystem, same_sparse
from openpcf.errors import NonSquareSystemError


@dataclass(frozen=True, slots=True, kw_only=True)
class LayeredSystem:
    """A foreground :class:`MatrixSystem` on a background one, linked by ``A_bf``."""

    foreground: MatrixSystem
    background: MatrixSystem
    A_bf: sp.csc_array

    def __post_init__(self) -> None:
        if self.foreground.flows != self.background.flows:
            raise NonSquareSystemError("foreground and background must share the same flows")
        expected = (self.background.size, self.foreground.size)
        if self.A_bf.shape != expected:
            raise NonSquareSystemError(f"A_bf has shape {self.A_bf.shape}, expected {expected}")
        object.__setattr__(self, "A_bf", sp.csc_array(self.A_bf, dtype=np.float64))

    def __eq__(self, other: object) -> bool:
        """Equal systems and links (compared by value): a pickled copy equals its original."""
        if not isinstance(other, LayeredSystem):
            return NotImplemented
        return (
            self.foreground == other.foreground
            and self.background == other.background
            and same_sparse(self.A_bf, other.A_bf)
        )


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
    """

    s_f: np.ndarray
    direct: np.ndarray
    upstream: np.ndarray
    lambda_b: np.ndarray
    condition: float = 1.0

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
) -> np.ndarray:
    """Cradle-to-gate intensities of every activity: ``Λ = A⁻ᵀ Bᵀ Q`` (n x k).

    Row ``j`` is the burden of one unit of activity ``j``'s reference product, per column of
    ``Q``: with ``Q`` a characterisation vector this is every product's footprint in one
    transposed solve.
    """
    Q2 = np.asarray(Q, dtype=np.float64).reshape(system.B.shape[0], -1)
    rhs = np.asarray(system.B.T @ Q2)
    fact = factorise(system.A, labels=system.activities, backend=backend, cache=cache)
    return fact.solve_transposed(rhs).reshape(system.size, Q2.shape[1])


def background_intensities(
    background: MatrixSystem,
    Q: np.ndarray,
    *,
    backend: Backend = "superlu",
    factorisations: FactorisationCache | None = DEFAULT_CACHE,
    cache: IntensityCache | None = DEFAULT_INTENSITIES,
) -> np.ndarray:
    """:func:`intensities` of a background, cached by its content hash and ``Q``."""
    key = (background.content_hash(), _array_hash(Q), backend)
    if cache is not None and (hit := cache.get(key)) is not None:
        return hit
    lam = intensities(background, Q, backend=backend, cache=factorisations)
    if cache is not None:
        cache.put(key, lam)
    return lam


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
    processes consumes as much as it produces (see :mod:`openpcf.core.loops`).

    Parameters
    ----------
    f
        Foreground demand (p,), in each product's reference unit.
    Q
        Flows x indicators (m x k): the identity over gases keeps gases apart, a GWP vector
        gives kg CO2e.
    """
    Q2 = np.asarray(Q, dtype=np.float64).reshape(system.foreground.B.shape[0], -1)
    lam_b = background_intensities(
        system.background, Q2, backend=backend, factorisations=factorisations, cache=cache
    )
    fg = system.foreground
    fact = factorise(fg.A, labels=fg.activities, cache=None)  # a singular A is named here
    check_productive(fg.A, fg.activities)
    s_f = fact.solve(np.asarray(f, dtype=np.float64))
    direct = np.asarray(fg.B.T @ Q2) * s_f[:, None]
    upstream = np.asarray(-(system.A_bf.T @ lam_b)) * s_f[:, None]
    return LayeredSolution(
        s_f=s_f,
        direct=direct,
        upstream=upstream,
        lambda_b=lam_b,
        condition=fact.condition_estimate(),
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
