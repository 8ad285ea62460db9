"""The share of each activity's footprint that its cut-off inputs would carry (``lost_share``).

Method (stated in ``docs/databases.md``). For every input cut off at linking (an unlinked
product or waste input, a waste output without treatment, an avoided product) the footprint
it would have brought is estimated as

    amount x median footprint of the database's columns that make the cut flow

(the candidates of an "ambiguous" cut, or any column with that flow as its product). The
direct estimate of column ``j`` is its process's sum times the column's allocation share;
carried through the supply chain like a burden, ``l = A⁻ᵀ d``, and

    lost_share_j = l_j / (|h_j| + |l_j|)

with ``h_j`` the linked footprint. It is ``None`` (unknown) when column ``j``'s own process
cuts an input that no column of the database makes ("no provider", "provider not in
database", "flow not in database"); cuts further up the supply chain that cannot be estimated
are not in it, so there it is a lower bound. An activity with no cut anywhere upstream has
``0.0``. Co-products without allocation factors are outputs, not inputs: not counted.
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from openpcf.io.linking import CO_PRODUCT, WASTE_INPUT, LinkedDatabase


def flow_intensities(linked: LinkedDatabase, footprints: np.ndarray) -> dict[str, float]:
    """Flow id -> median footprint per unit of the columns that have it as their product
    (the median: one outlier among the producers, common in TianGong, does not set it)."""
    by_flow: dict[str, list[float]] = defaultdict(list)
    for col, value in zip(linked.columns, footprints, strict=True):
        by_flow[col.product_id].append(float(value))
    return {flow: float(np.median(values)) for flow, values in by_flow.items()}


def lost_shares(linked: LinkedDatabase, footprints: np.ndarray) -> list[float | None]:
    """``lost_share`` of every column (see the module docstring), given its footprints."""
    median = flow_intensities(linked, footprints)
    direct: dict[str, float] = defaultdict(float)  # process id -> estimated kg CO2e lost
    unknown: set[str] = set()
    for u in linked.unlinked:
        if u.reason in (CO_PRODUCT, WASTE_INPUT):
            continue
        if u.flow_id not in median:
            unknown.add(u.process_id)
            continue
        sign = -1.0 if u.is_avoided else 1.0
        direct[u.process_id] += sign * u.amount * median[u.flow_id]
    shares = linked.shares or (1.0,) * len(linked.columns)
    d = np.array(
        [direct.get(c.process_id, 0.0) * s for c, s in zip(linked.columns, shares, strict=True)]
    )
    lost = _carry(linked.system.A, d)
    out: list[float | None] = []
    for col, h, lj in zip(linked.columns, footprints, lost, strict=True):
        if col.process_id in unknown:
            out.append(None)
            continue
        total = abs(float(h)) + abs(float(lj))
        out.append(abs(float(lj)) / total if total > 0.0 else 0.0)
    return out


def _carry(A: sp.sparray | sp.spmatrix, d: np.ndarray) -> np.ndarray:
    """``A⁻ᵀ d``: direct amounts carried through the supply chain (zeros need no solve)."""
    if not np.any(d):
        return np.zeros_like(d)
    result: np.ndarray = spla.spsolve(sp.csc_matrix(A).T.tocsc(), d)
    return np.atleast_1d(result)


__all__ = ["flow_intensities", "lost_shares"]
