"""Loops of processes that consume more than they produce: a system that cannot exist.

Names follow the literature: ``A`` is the technosphere matrix (outputs on the diagonal,
consumption below zero off it), ``s`` the scaling vector of ``A s = f``.

A process system can deliver every demand ``f ≥ 0`` with ``s ≥ 0`` exactly when the
consumption part of ``A`` is *productive*: written ``A = D − N`` with ``D`` the outputs and
``N ≥ 0`` what each process takes of the others' products, every loop must need less than one
unit of its own product per unit made (Hawkins–Simon; ``D − N`` a nonsingular M-matrix). Two
processes that each need more than one unit of the other per unit of output ("a needs 1 kg of
b, b needs 2 kg of a") break it: ``A`` is not singular, the solve succeeds, and ``s`` comes
out negative, so the footprint is negative. OpenPCF used to publish that number (issue 11,
item 11); :func:`check_productive` refuses it and names the loop.

Positive entries off the diagonal (credits: a co-product that displaces a process's product
by substitution) are left out of the test: avoided production legitimately scales a process
below zero.

The test, per strongly connected component ``C`` of the consumption graph (the loops):
``M = A[C, C]`` restricted to consumption is a nonsingular M-matrix exactly when
``x = M⁻¹ 1`` exists and is positive (``M x = 1 > 0`` with ``x > 0`` proves it; conversely
``M⁻¹ ≥ 0``). The message gives the loop gain ``ρ(D⁻¹N)``, which is ≥ 1 for such a loop.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla
from scipy.sparse.csgraph import connected_components

from openpcf.errors import UnproductiveSystemError

#: Largest loop whose gain is computed with a dense eigenvalue solver for the message.
_DENSE_GAIN_LIMIT = 500
#: Processes named in a message.
_NAMED = 10


def check_productive(A: sp.csc_array, labels: Sequence[str]) -> None:
    """Refuse ``A`` if some loop of processes consumes at least as much as it produces.

    Parameters
    ----------
    A
        Square technosphere matrix (p x p): outputs on the diagonal, inputs below zero.
    labels
        Name of each column (process), for the message.

    Raises
    ------
    UnproductiveSystemError
        Naming the processes of the first such loop, what each takes of the next, and the
        loop gain.
    """
    A = sp.csc_array(A, dtype=np.float64)
    n = A.shape[0]
    if n == 0:
        return
    outputs = A.diagonal()
    selfish = np.flatnonzero(outputs <= 0)
    if selfish.size:  # a process using at least as much of its own product as it makes
        j = int(selfish[0])
        raise UnproductiveSystemError(
            f"process {labels[j]!r} consumes at least as much of its own product as it "
            f"produces (net output {outputs[j]:g}); a process must make more than it uses"
        )
    coo = A.tocoo()
    inputs = (coo.row != coo.col) & (coo.data < 0)
    N = sp.csr_array(
        (-coo.data[inputs], (coo.row[inputs], coo.col[inputs])), shape=(n, n), dtype=np.float64
    )
    count, component = connected_components(N, directed=True, connection="strong")
    if count == n:  # no loops at all
        return
    sizes = np.bincount(component, minlength=count)
    for c in np.flatnonzero(sizes > 1):
        members = np.flatnonzero(component == c)
        block = sp.csc_array(N[members][:, members])
        M = sp.diags_array(outputs[members]) - block
        if not _productive(sp.csc_array(M)):
            raise _loop_error(block, outputs[members], [labels[int(j)] for j in members])


def _productive(M: sp.csc_array) -> bool:
    """Whether the irreducible Z-matrix ``M`` is a nonsingular M-matrix (``M⁻¹ 1 > 0``)."""
    try:
        x = spla.splu(M).solve(np.ones(M.shape[0]))
    except RuntimeError:  # exactly singular: the loop gain is 1
        return False
    return bool(np.all(np.isfinite(x)) and np.all(x > 0))


def _loop_error(
    block: sp.csc_array, outputs: np.ndarray, names: list[str]
) -> UnproductiveSystemError:
    """The error for an unproductive loop: processes, what they take, the loop gain."""
    per_unit = sp.csc_array(block @ sp.diags_array(1.0 / outputs))  # N D⁻¹: per unit made
    coo = per_unit.tocoo()
    takes = [
        f"{names[int(j)]!r} uses {v:.4g} of {names[int(i)]!r}"
        for i, j, v in sorted(zip(coo.row, coo.col, coo.data, strict=True), key=lambda t: -t[2])
    ]
    gain = ""
    if len(names) <= _DENSE_GAIN_LIMIT:
        rho = float(np.max(np.abs(np.linalg.eigvals(per_unit.toarray()))))
        gain = f" (loop gain {rho:.4g}, which must be below 1)"
    listed = ", ".join(repr(x) for x in names[:_NAMED])
    more = f" and {len(names) - _NAMED} more" if len(names) > _NAMED else ""
    uses = "; ".join(takes[:_NAMED]) + ("; ..." if len(takes) > _NAMED else "")
    return UnproductiveSystemError(
        f"processes {listed}{more} form a loop that consumes at least as much as it produces"
        f"{gain}: per unit of output, {uses}. Solving it would give negative amounts of these "
        "processes and a negative footprint; check the amounts and units of these inputs"
    )
