"""Seeded synthetic LCI systems for the benchmarks.

A uniformly random sparse matrix is a poor stand-in for an LCI database: its LU factors fill in
almost completely, while real databases factorise in about a second. ecoinvent-like
technosphere matrices are hub-and-spoke: producers buy mostly from a few hundred markets
(electricity, heat, transport, fuels, basic chemicals) and from producers of their own sector,
and each market buys from the producers of the product it sells. :func:`make_background`
reproduces that shape:

- the first ``hub_share`` of the activities are hubs (markets); hub popularity is skewed
  (weight ``1/rank^0.8``), so a few hubs are used by almost everything;
- activities ``>= n_hubs`` sit in clusters (sectors) of ``cluster_size`` consecutive
  activities; each consumes about ``nnz_per_col - 1`` products, half hubs and half peers of
  its own cluster (loops inside a cluster are allowed);
- a hub consumes 70 % from the cluster it serves and 30 % from other hubs, so the whole
  database is one strongly connected system, coupled only through the hubs;
- reference products are on the diagonal (1..2 units); inputs are negative and each column's
  inputs sum to 0.2..0.8 of its output, so ``A`` is column diagonally dominant: the Leontief
  inverse exists, is non-negative and is well conditioned;
- ``B`` has 1..8 emissions per activity over ``n_flows`` elementary flows, log-normal;
- ``c`` characterises a tenth of the flows (a GWP-like method: most flows are not
  greenhouse gases).

Like ecoinvent (bw2calc issue #176: SuperLU took 52 s on ``A`` and 1.7 s on ``Aᵀ`` for
ecoinvent 3.9), SuperLU's COLAMD ordering of ``A`` itself fills in badly on this shape while
``Aᵀ`` and PARDISO factorise in about a second at 20,000 activities.

:func:`make_foreground` puts a product model on top: ``n_processes`` processes in a tree
(process 0 is the product; each process uses a few of the later ones), each also buying about
``links`` background products.

:func:`to_datapackage` hands the same numbers to ``bw_processing`` in Brightway's sign
convention (inputs stored positive with ``flip=True``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp

from openpcf.core.engine import LayeredSystem
from openpcf.core.system import MatrixSystem

#: Brightway ids: activities (= their reference products) from here ...
ACTIVITY_ID0 = 1
#: ... and elementary flows from here, so the two ranges never meet.
FLOW_ID0 = 10_000_000


@dataclass(frozen=True)
class Background:
    system: MatrixSystem
    c: np.ndarray


def _column_normalised_inputs(
    rng: np.random.Generator, rows: np.ndarray, cols: np.ndarray, diag: np.ndarray
) -> np.ndarray:
    """Negative input amounts with each column's sum at most 0.8 of its diagonal."""
    raw = rng.lognormal(mean=0.0, sigma=1.0, size=rows.size)
    col_sum = np.bincount(cols, weights=raw, minlength=diag.size)
    budget = diag * rng.uniform(0.2, 0.8, size=diag.size)
    scale = budget / np.where(col_sum > 0, col_sum, 1.0)
    return np.asarray(-raw * scale[cols])


def make_background(
    n: int = 20_000,
    *,
    n_flows: int = 2_000,
    nnz_per_col: int = 10,
    hub_share: float = 0.01,
    cluster_size: int = 100,
    seed: int = 20_240_601,
) -> Background:
    """A seeded ecoinvent-scale background :class:`MatrixSystem` and characterisation ``c``."""
    rng = np.random.default_rng(seed)
    n_hubs = max(1, round(hub_share * n))
    k = nnz_per_col - 1
    n_clusters = max(1, -(-n // cluster_size))
    counts = rng.poisson(k, size=n).clip(1, 3 * k)
    cols = np.repeat(np.arange(n, dtype=np.int64), counts)
    # hub popularity is skewed: a few markets (electricity, transport) are used by almost all
    weights = 1.0 / np.arange(1, n_hubs + 1) ** 0.8
    hub = rng.choice(n_hubs, size=cols.size, p=weights / weights.sum())
    # an activity's own cluster (sector); a hub (market) buys from the cluster it serves
    cluster = np.where(cols < n_hubs, (cols * 7919) % n_clusters, cols // cluster_size)
    start = cluster * cluster_size
    size = np.minimum(start + cluster_size, n) - start
    peer = start + np.floor(rng.random(cols.size) * size).astype(np.int64)
    hub_share_of_inputs = np.where(cols < n_hubs, 0.3, 0.5)
    rows = np.where(rng.random(cols.size) < hub_share_of_inputs, hub, peer)
    keep = rows != cols
    # one entry per (product, activity): drop repeated draws
    key = np.unique(cols[keep] * n + rows[keep])
    cols, rows = key // n, key % n
    diag = rng.uniform(1.0, 2.0, size=n)
    vals = _column_normalised_inputs(rng, rows, cols, diag)
    A = sp.csc_array(
        (
            np.concatenate([diag, vals]),
            (np.concatenate([np.arange(n), rows]), np.concatenate([np.arange(n), cols])),
        ),
        shape=(n, n),
    )
    B = _random_interventions(rng, n_flows, n)
    c = np.zeros(n_flows)
    ghg = rng.choice(n_flows, size=max(1, n_flows // 10), replace=False)
    c[ghg] = rng.lognormal(0.0, 2.0, size=ghg.size)
    system = MatrixSystem(
        A=A,
        B=B,
        activities=tuple(f"bg{j}" for j in range(n)),
        flows=tuple(f"flow{i}" for i in range(n_flows)),
    )
    return Background(system=system, c=c)


def _random_interventions(rng: np.random.Generator, n_flows: int, n: int) -> sp.csc_array:
    counts = rng.integers(1, 9, size=n)
    cols = np.repeat(np.arange(n), counts)
    rows = np.concatenate([rng.choice(n_flows, size=int(k), replace=False) for k in counts])
    vals = rng.lognormal(-2.0, 2.0, size=rows.size)
    return sp.csc_array((vals, (rows, cols)), shape=(n_flows, n))


def make_foreground(
    background: MatrixSystem,
    *,
    n_processes: int = 50,
    links: int = 5,
    seed: int = 7,
) -> LayeredSystem:
    """A product model of ``n_processes`` processes on ``background`` (process 0 is the product)."""
    rng = np.random.default_rng(seed)
    p, n = n_processes, background.size
    A_ff = sp.lil_array((p, p))
    for j in range(p):
        A_ff[j, j] = 1.0
        later = np.arange(j + 1, p)
        if later.size:
            for i in rng.choice(later, size=min(3, later.size), replace=False):
                A_ff[i, j] = -rng.uniform(0.05, 2.0)
    bf_rows, bf_cols = [], []
    for j in range(p):
        r = rng.choice(n, size=max(1, int(rng.poisson(links))), replace=False)
        bf_rows.append(r)
        bf_cols.append(np.full(r.size, j))
    rows, cols = np.concatenate(bf_rows), np.concatenate(bf_cols)
    A_bf = sp.csc_array((-rng.lognormal(0.0, 1.0, rows.size), (rows, cols)), shape=(n, p))
    m = len(background.flows)
    B_f = _random_interventions(rng, m, p)
    foreground = MatrixSystem(
        A=sp.csc_array(A_ff.tocsc()),
        B=B_f,
        activities=tuple(f"fg{j}" for j in range(p)),
        flows=background.flows,
    )
    return LayeredSystem(foreground=foreground, background=background, A_bf=A_bf)


def combined(system: LayeredSystem) -> tuple[sp.csc_array, sp.csc_array]:
    """The full block matrices ``[[A_ff, 0], [A_bf, A_bb]]`` and ``[B_f, B_b]``."""
    fg, bg = system.foreground, system.background
    zero = sp.csc_array((fg.size, bg.size))
    A = sp.block_array([[fg.A, zero], [system.A_bf, bg.A]], format="csc")
    B = sp.hstack([fg.B, bg.B], format="csc")
    return sp.csc_array(A), sp.csc_array(B)


def to_datapackage(A: sp.csc_array, B: sp.csc_array, c: np.ndarray, *, method: str = "gwp") -> Any:
    """An in-memory ``bw_processing`` datapackage of ``A``, ``B`` and ``c``.

    Column/row ``j`` of ``A`` gets id ``ACTIVITY_ID0 + j`` (activity and its reference product
    share the id) and flow ``i`` gets ``FLOW_ID0 + i``. Brightway stores technosphere inputs as
    positive amounts with ``flip=True``; production stays positive. The characterisation
    resource carries ``identifier=[method]`` so that ``MultiLCA`` can find it under the impact
    category ``(method,)``.
    """
    import bw_processing as bwp

    dp = bwp.create_datapackage(sum_intra_duplicates=True)
    Ac = sp.coo_array(A)
    idx = np.empty(Ac.nnz, dtype=bwp.INDICES_DTYPE)
    idx["row"] = ACTIVITY_ID0 + Ac.row
    idx["col"] = ACTIVITY_ID0 + Ac.col
    dp.add_persistent_vector(
        matrix="technosphere_matrix",
        name="technosphere",
        indices_array=idx,
        data_array=np.abs(Ac.data),
        flip_array=Ac.data < 0,
    )
    Bc = sp.coo_array(B)
    idx = np.empty(Bc.nnz, dtype=bwp.INDICES_DTYPE)
    idx["row"] = FLOW_ID0 + Bc.row
    idx["col"] = ACTIVITY_ID0 + Bc.col
    dp.add_persistent_vector(
        matrix="biosphere_matrix", name="biosphere", indices_array=idx, data_array=Bc.data
    )
    nz = np.flatnonzero(c)
    idx = np.empty(nz.size, dtype=bwp.INDICES_DTYPE)
    idx["row"] = FLOW_ID0 + nz
    idx["col"] = 0
    dp.add_persistent_vector(
        matrix="characterization_matrix",
        name="characterization",
        indices_array=idx,
        data_array=np.asarray(c[nz], dtype=np.float64),
        identifier=[method],
    )
    return dp
