"""Matrix systems: the numeric form of a product system.

A :class:`MatrixSystem` holds the technosphere matrix ``A`` (products x activities; each
activity's reference product on the diagonal, positive; inputs negative) and the intervention
matrix ``B`` (elementary flows x activities, emissions positive), with labels for rows and
columns. Every activity produces exactly one product, so ``A`` is square; multi-output
processes are made single-output (allocated or expanded) before they get here.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

from openpcf.errors import NonSquareSystemError


def _hash_sparse(h: hashlib._Hash, M: sp.csc_array) -> None:
    M = M.tocsc()
    M.sort_indices()
    h.update(np.asarray(M.shape, dtype=np.int64).tobytes())
    h.update(np.ascontiguousarray(M.indptr, dtype=np.int64).tobytes())
    h.update(np.ascontiguousarray(M.indices, dtype=np.int64).tobytes())
    h.update(np.ascontiguousarray(M.data, dtype=np.float64).tobytes())


def same_sparse(a: sp.sparray, b: sp.sparray) -> bool:
    """Whether two sparse arrays have the same shape and values (explicit zeros ignored)."""
    return bool(a.shape == b.shape and (a != b).nnz == 0)


def matrix_hash(*matrices: sp.csc_array) -> str:
    """SHA-256 over the canonical CSC form of ``matrices`` (shape, structure and values)."""
    h = hashlib.sha256()
    for M in matrices:
        _hash_sparse(h, M)
    return h.hexdigest()


@dataclass(frozen=True, slots=True, kw_only=True)
class MatrixSystem:
    """``A s = f`` and ``g = B s`` with labelled rows and columns.

    Parameters
    ----------
    A
        Square technosphere matrix, shape ``(n, n)``; column ``j`` is activity ``j``, row ``j``
        its reference product.
    B
        Intervention matrix, shape ``(m, n)``, in kg of each flow per unit of activity.
    activities
        ``n`` labels (stable ids) of activities.
    flows
        ``m`` labels of elementary flows (OpenPCF gas ids for product models).
    """

    A: sp.csc_array
    B: sp.csc_array
    activities: tuple[str, ...]
    flows: tuple[str, ...]
    _index: dict[str, int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        n_rows, n_cols = self.A.shape
        if n_rows != n_cols:
            raise NonSquareSystemError(
                f"technosphere matrix is {n_rows} x {n_cols}: every activity must produce exactly "
                "one product (allocate or expand multi-output processes first)"
            )
        if self.B.shape[1] != n_cols:
            raise NonSquareSystemError(
                f"intervention matrix has {self.B.shape[1]} columns for {n_cols} activities"
            )
        if len(self.activities) != n_cols or len(self.flows) != self.B.shape[0]:
            raise NonSquareSystemError("labels do not match the matrix shapes")
        object.__setattr__(self, "A", sp.csc_array(self.A, dtype=np.float64))
        object.__setattr__(self, "B", sp.csc_array(self.B, dtype=np.float64))
        object.__setattr__(self, "_index", {a: i for i, a in enumerate(self.activities)})

    def __eq__(self, other: object) -> bool:
        """Same labels and same matrix values: a pickled copy is equal to its original."""
        if not isinstance(other, MatrixSystem):
            return NotImplemented
        return (
            self.activities == other.activities
            and self.flows == other.flows
            and same_sparse(self.A, other.A)
            and same_sparse(self.B, other.B)
        )

    @property
    def size(self) -> int:
        return len(self.activities)

    def index(self, activity: str) -> int:
        """Column of ``activity`` (KeyError if absent)."""
        return self._index[activity]

    def demand(self, amounts: dict[str, float]) -> np.ndarray:
        """Final-demand vector ``f`` from ``{activity: amount}``."""
        f = np.zeros(self.size)
        for activity, amount in amounts.items():
            f[self.index(activity)] += amount
        return f

    def content_hash(self) -> str:
        """Hash of ``A``, ``B`` and the labels: equal hashes mean equal systems."""
        h = hashlib.sha256(matrix_hash(self.A, self.B).encode())
        for label in (*self.activities, "\x00", *self.flows):
            h.update(label.encode())
            h.update(b"\x1f")
        return h.hexdigest()
