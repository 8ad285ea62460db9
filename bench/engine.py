"""Engine benchmark: OpenPCF's matrix core against bw2calc on the same synthetic matrices.

Measurements: each is repeated until its ``repeat`` fastest runs are within ``SPREAD`` of each
other (at most ``MAX_RUNS`` runs) and reported as the median of those ``repeat`` runs, with
the spread reached (a run slower than ``SLOW_S`` is not repeated and its single time is
reported, marked ``runs=1``). The machine is shared, so a noisy run is repeated rather than
averaged in; the ratios are between the two tools measured in the same run.

a. factorise the background ``A`` and solve once. OpenPCF: ``Factorisation(A)`` (structural
   check + LU of ``Aᵀ`` for SuperLU; PARDISO factorises lazily) and the first ``solve``.
   bw2calc: with PARDISO installed ``decompose_technosphere`` is a no-op, so the first solve is
   timed on matrices already built (``build_demand_array`` + ``lci_calculation``: PARDISO
   analysis, factorisation and one solve). The time bw2calc spends building its matrices from
   the datapackage (``load_lci_data``) and the time of its SuperLU path (``utils.lu_solver``,
   SuperLU on ``Aᵀ``, what ``decompose_technosphere`` does without PARDISO) are reported on
   extra rows.
b. a 50-process product model on the background. OpenPCF: ``solve_layered`` with empty caches
   (cold: background factorisation + one transposed solve) and again with the caches filled
   (warm). bw2calc: the same model as one combined ``(n + 50)``-activity matrix; cold is a
   new ``LCA`` + ``lci()`` + ``lcia()``, warm is ``lci(demand)`` + ``lcia()`` on that object
   (PARDISO reuses its factorisation of the unchanged matrix).
c. recalculate after one foreground amount changes (one ``A_bf`` entry). OpenPCF:
   ``ForegroundSolver.set`` + ``solve`` on the model's solver, made once before the timed runs
   (background intensities and the foreground's factors kept; the edit recomputes one row of
   the per-process burdens), checked against a fresh ``solve_layered`` of the edited system
   to 1e-12. bw2calc: the entry is changed in place in ``lca.technosphere_matrix`` and
   ``lci_calculation()`` + ``lcia_calculation()`` are redone, so PARDISO refactorises the
   combined matrix (its fastest honest path; building a new ``LCA`` costs as much as (b) cold).
d. the footprint of every background activity. OpenPCF: ``intensities(background, c)``, cold
   (includes factorising, or for ``iterative`` the structural check and the BiCGSTAB solve)
   and warm (cached factorisation: one transposed solve). bw2calc:
   ``FastScoresOnlyMultiLCA(direction="adjoint")`` with one demand per activity (its own
   one-solve all-products path: builds matrices, factorises ``Aᵀ`` and solves once).
   The iterative backend is timed twice: with OpenBLAS limited to one thread and with the
   BLAS threads the process started with (the BLAS limit only applies to the OpenPCF side of
   that row). Its BiCGSTAB makes no BLAS calls (numpy's own sums), so the two should agree:
   the second shows that the ratio does not depend on a thread variable.

e. Monte Carlo of the 50-process model with its own amounts uncertain (every input of
   ``A_ff``, every ``A_bf`` and ``B_f`` entry: lognormal, σ = :data:`MC_SIGMA`, median the
   amount), the background fixed. OpenPCF: the background intensities once (cached
   factorisation), then :class:`ForegroundDraws` (batched dense solves of ``A_ff``, as
   :class:`openpcf.model.montecarlo.Sampler` does). bw2calc: ``next()`` + ``score`` on
   ``PartitionedMonteCarloLCA`` (the background pre-solved for the products the model takes;
   needs ``bw_graph_tools``) and on ``IterativeLCA`` (``use_distributions=True``); the faster
   is the reference.
f. Monte Carlo with every background entry uncertain (inputs of ``A`` and all of ``B``; the
   production amounts on the diagonal fixed, as in ecoinvent), the model's amounts fixed.
   OpenPCF: :meth:`DatabaseSampler.draw_from` (vectorised draws; BiCGSTAB with the Jacobi
   preconditioner of ``A`` at the means, started from ``λ`` at the means; a worker thread
   draws the next draw and takes it to a relative residual of 1e-3 while the main thread
   finishes this one, true-residual check, LU fall-back) and the model's total from the drawn
   ``λ``. bw2calc: ``IterativeLCA`` (BiCGSTAB + Jacobi, warm
   start, forward-error check with its reference PARDISO factorisation), ``next()`` +
   ``score``. Both ask BiCGSTAB for a relative residual of :data:`MC_TOLERANCE`. The peak
   memory of a few OpenPCF draws (tracemalloc, which sees numpy's buffers) is compared with
   the size of one SuperLU factorisation of ``Aᵀ`` (factors' values and indices).

   For both, each timed run is :data:`MC_DRAWS` draws after the set-up (building the
   objects, the first solve), and the draws of all runs are compared: mean and variance of
   the two samples by two-sample z (``agreement_z``; as ``tests/test_mc_brightway.py``).

Each row records the solver, the ordering and the thread counts each side used
(``openpcf_solver``, ``bw2calc_solver``; :func:`threads` for the BLAS/MKL thread pools).

Every result is checked against the other tool (``rtol=1e-6``) before it is reported.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import gc
import importlib.metadata
import importlib.util
import os
import platform
import statistics
import time
import tracemalloc
import warnings
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla
from threadpoolctl import threadpool_info, threadpool_limits

from bench.synthetic import (
    ACTIVITY_ID0,
    FLOW_ID0,
    combined,
    make_background,
    make_foreground,
    to_datapackage,
)
from openpcf.core.engine import (
    ForegroundSolver,
    IntensityCache,
    LayeredSystem,
    intensities,
    solve_layered,
    solver_used,
)
from openpcf.core.solver import Backend, Factorisation, FactorisationCache, pardiso_available
from openpcf.core.uncertainty import LOGNORMAL, NO_UNCERTAINTY
from openpcf.io.uncertainty import MatrixUncertainty
from openpcf.model.database_uncertainty import DatabaseSampler, Drawer

NAME = "engine"
DEFAULT_SIZE = 20_000
#: A run slower than this (seconds) is not repeated.
SLOW_S = 20.0
#: Repeat until the ``repeat`` fastest runs are within this share of each other ...
SPREAD = 0.10
#: ... or this many runs were made.
MAX_RUNS = 15
RTOL = 1e-6
#: Monte Carlo (e), (f): σ of ln of every uncertain entry (a lognormal with the entry as median)
MC_SIGMA = 0.1
#: ... draws per timed run, and the relative residual both sides solve each draw to
MC_DRAWS = 20
MC_TOLERANCE = 1e-8
#: The iterative backend must equal LU this closely (element-wise, relative).
ITERATIVE_RTOL = 1e-9
#: What each OpenPCF backend does; SuperLU and scipy's sparse products are single-threaded.
OPENPCF_SOLVERS = {
    "superlu": "SuperLU on A^T, COLAMD ordering, single-threaded",
    "pardiso": "MKL PARDISO (pypardiso), METIS ordering",
    "iterative": "BiCGSTAB + Jacobi (written out, numpy sums, no BLAS calls), no ordering; "
    "sparse products single-threaded",
}


def threads() -> dict[str, int]:
    """Threads of each BLAS/OpenMP pool loaded in this process (threadpoolctl)."""
    return {f"{i['internal_api']} ({i['prefix']})": i["num_threads"] for i in threadpool_info()}


def _version(dist: str) -> str | None:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return None


def machine_info() -> dict[str, Any]:
    return {
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "cpu_count": os.cpu_count(),
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "python": platform.python_version(),
        "threads": threads(),
        "load_average": list(os.getloadavg()),
        "versions": {
            d: _version(d)
            for d in ("numpy", "scipy", "bw2calc", "bw_processing", "matrix_utils", "pypardiso")
        },
    }


class Timing:
    """Times of repeated runs of one measurement; the figure is the median of the ``keep``
    fastest."""

    def __init__(self, keep: int = 3) -> None:
        self.runs: list[float] = []
        self.keep = keep

    @property
    def fastest(self) -> list[float]:
        return sorted(self.runs)[: self.keep]

    @property
    def median(self) -> float:
        return statistics.median(self.fastest)

    @property
    def spread(self) -> float:
        """(slowest - fastest) / fastest of the runs the median is taken over."""
        best = self.fastest
        return (best[-1] - best[0]) / best[0] if best[0] > 0 else 0.0


def measure(fn: Callable[[int], Any], repeat: int, *, stable: bool = True) -> tuple[Timing, Any]:
    """Run ``fn(k)`` at least ``repeat`` times and, with ``stable``, until the ``repeat``
    fastest runs are within :data:`SPREAD` (at most :data:`MAX_RUNS`); return the timings and
    the last result. ``stable=False``: exactly ``repeat`` runs (``fn`` uses ``k`` to index
    prepared inputs)."""
    timing, result = Timing(keep=repeat), None
    k = 0
    while k < repeat or (stable and k < MAX_RUNS and timing.spread > SPREAD):
        gc.collect()
        t0 = time.perf_counter()
        result = fn(k)
        timing.runs.append(time.perf_counter() - t0)
        k += 1
        if timing.runs[-1] > SLOW_S:
            break
    return timing, result


@contextlib.contextmanager
def _quiet_bw2calc() -> Iterator[None]:
    # bw2calc/bw_processing emit deprecation chatter that is not about these measurements
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.simplefilter("ignore", FutureWarning)
        yield


def _assert_close(name: str, actual: Any, expected: Any, rtol: float = RTOL) -> float:
    actual, expected = np.asarray(actual, dtype=float), np.asarray(expected, dtype=float)
    np.testing.assert_allclose(actual, expected, rtol=rtol, err_msg=name)
    denom = np.maximum(np.abs(expected), 1e-300)
    return float(np.max(np.abs(actual - expected) / denom))


def run(size: int = DEFAULT_SIZE, repeat: int = 3, seed: int = 20_240_601) -> dict[str, Any]:
    import bw2calc as bc
    from bw2calc.utils import lu_solver

    t0 = time.perf_counter()
    bg = make_background(size, n_flows=max(20, size // 10), seed=seed)
    layered = make_foreground(bg.system, seed=seed + 1)
    system, c = bg.system, bg.c
    p = layered.foreground.size
    A_full, B_full = combined(layered)
    dp_bg = to_datapackage(system.A, system.B, c)
    dp_full = to_datapackage(A_full, B_full, c)
    f = np.zeros(p)
    f[0] = 1.0
    demand_bw = {ACTIVITY_ID0: 1.0}  # fg0 is column 0 of the combined matrix
    setup_s = time.perf_counter() - t0

    backends: list[Backend] = ["superlu"]
    if pardiso_available():
        backends.append("pardiso")
    rows: list[dict[str, Any]] = []
    agreement: dict[str, float] = {}

    bw_solver = (
        "bw2calc: MKL PARDISO (pypardiso), METIS ordering"
        if pardiso_available()
        else "bw2calc: SuperLU (scipy spsolve), COLAMD ordering"
    ) + f"; threads: {threads()}"

    def row(
        key: str,
        label: str,
        backend: str | None,
        ours: Timing | None,
        theirs: Timing | None,
        note: str = "",
        solver: str | None = None,
    ) -> None:
        o = ours.median if ours else None
        b = theirs.median if theirs else None
        rows.append(
            {
                "id": key,
                "label": label,
                "openpcf_backend": backend,
                "openpcf_solver": solver or (OPENPCF_SOLVERS.get(backend) if backend else None),
                "bw2calc_solver": bw_solver if theirs else None,
                "openpcf_s": o,
                "bw2calc_s": b,
                "ratio_bw2calc_over_openpcf": (b / o) if (o and b) else None,
                "openpcf_runs": ours.runs if ours else [],
                "bw2calc_runs": theirs.runs if theirs else [],
                "openpcf_spread": ours.spread if ours else None,
                "bw2calc_spread": theirs.spread if theirs else None,
                "note": note,
            }
        )

    with _quiet_bw2calc():
        # ---- (a) factorise -------------------------------------------------------------
        probe = np.zeros(size)
        probe[size // 2] = 1.0
        lcas: list[Any] = []

        def bw_build(_: int) -> Any:
            lca = bc.LCA({ACTIVITY_ID0 + size // 2: 1.0}, data_objs=[dp_bg])
            lca.load_lci_data()
            lcas.append(lca)
            return lca

        bw_build_t, _ = measure(bw_build, repeat)

        def bw_factorise(k: int) -> Any:
            lca = lcas[k]
            lca.build_demand_array()
            lca.lci_calculation()
            return lca

        bw_fact_t, lca_a = measure(bw_factorise, len(lcas), stable=False)
        order = [lca_a.dicts.activity[ACTIVITY_ID0 + j] for j in range(size)]
        bw_supply = np.asarray(lca_a.supply_array)[order]
        tm_a = lca_a.technosphere_matrix
        lu_t, _ = measure(lambda _: lu_solver(tm_a), repeat)
        lca_a = tm_a = None
        lcas.clear()
        gc.collect()
        bw_note = "PARDISO analysis + factorisation + first solve, matrices already built"
        ours_by_backend: dict[str, Timing] = {}
        for backend in backends:

            def factorise_a(_: int, b: Backend = backend) -> tuple[Factorisation, np.ndarray]:
                fact = Factorisation(system.A, backend=b)
                return fact, fact.solve(probe)

            ours, (fact, supply) = measure(factorise_a, repeat)
            agreement[f"a supply ({backend})"] = _assert_close("supply", supply, bw_supply)
            ours_by_backend[backend] = ours
            row(
                "a_factorise",
                "(a) factorise background A + first solve",
                backend,
                ours,
                bw_fact_t,
                bw_note,
            )
            del fact
        row(
            "a_bw2calc_build",
            "(a) bw2calc: build matrices from datapackage",
            None,
            None,
            bw_build_t,
            "load_lci_data(): not part of the factorisation row",
        )
        row(
            "a_bw2calc_superlu",
            "(a) SuperLU: OpenPCF vs bw2calc lu_solver, both on A^T",
            "superlu",
            ours_by_backend["superlu"],
            lu_t,
            "bw2calc.utils.lu_solver: bw2calc's factorisation when PARDISO is not installed",
        )

        # ---- (b) 50-process product model --------------------------------------------
        def bw_cold(_: int) -> Any:
            lca = bc.LCA(dict(demand_bw), data_objs=[dp_full])
            lca.lci()
            lca.lcia()
            return lca

        bw_cold_t, lca = measure(bw_cold, repeat)

        def bw_warm(_: int) -> Any:
            lca.lci(demand=dict(demand_bw))
            lca.lcia()
            return lca.score

        bw_warm_t, bw_score = measure(bw_warm, repeat)
        caches: dict[str, tuple[FactorisationCache, IntensityCache]] = {}
        for backend in backends:

            def cold(_: int, b: Backend = backend) -> Any:
                caches[b] = (FactorisationCache(), IntensityCache())
                fc, ic = caches[b]
                return solve_layered(layered, f, c, backend=b, factorisations=fc, cache=ic)

            def warm(_: int, b: Backend = backend) -> Any:
                fc, ic = caches[b]
                return solve_layered(layered, f, c, backend=b, factorisations=fc, cache=ic)

            cold_t, sol = measure(cold, repeat)
            agreement[f"b cold ({backend})"] = _assert_close("b cold", sol.total[0], bw_score)
            warm_t, sol = measure(warm, repeat)
            agreement[f"b warm ({backend})"] = _assert_close("b warm", sol.total[0], bw_score)
            row(
                "b_model_cold",
                f"(b) {p}-process model, cold",
                backend,
                cold_t,
                bw_cold_t,
                "bw2calc: new LCA + lci() + lcia() on the combined matrix",
            )
            row(
                "b_model_warm",
                f"(b) {p}-process model, warm",
                backend,
                warm_t,
                bw_warm_t,
                "bw2calc: lci(demand) + lcia() reusing its factorisation",
            )

        # ---- (c) one foreground amount changes ---------------------------------------
        A_bf = layered.A_bf
        i0 = int(A_bf.indices[A_bf.indptr[0]])  # first background product used by fg0
        base = float(A_bf.data[A_bf.indptr[0]])
        tm = lca.technosphere_matrix
        r_bw = lca.dicts.product[ACTIVITY_ID0 + p + i0]
        c_bw = lca.dicts.activity[ACTIVITY_ID0]
        pos = [k for k in range(tm.indptr[r_bw], tm.indptr[r_bw + 1]) if tm.indices[k] == c_bw]
        assert tm.format == "csr", "bw2calc keeps a CSR matrix with PARDISO"
        assert len(pos) == 1, "the edited entry exists once"

        def new_amount(k: int) -> float:
            return base * (1.0 + 0.1 * (k + 1))

        def bw_change(k: int) -> float:
            tm.data[pos[0]] = new_amount(k)
            lca.lci_calculation()
            lca.lcia_calculation()
            return float(lca.score)

        bw_change_t, bw_changed = measure(bw_change, repeat)
        last = len(bw_change_t.runs) - 1
        for backend in backends:
            fc, ic = caches[backend]
            model = ForegroundSolver(layered, c, backend=backend, factorisations=fc, cache=ic)

            def change(k: int, model: ForegroundSolver = model) -> Any:
                model.set("A_bf", i0, 0, new_amount(k))
                return model.solve(f)

            # repeated until steady like every row; then the amount of bw2calc's last run
            change_t, _ = measure(change, repeat)
            sol = change(last)
            agreement[f"c changed ({backend})"] = _assert_close(
                "c changed", sol.total[0], bw_changed
            )
            fresh = solve_layered(
                model.system, f, c, factorisations=FactorisationCache(), cache=IntensityCache()
            )
            agreement[f"c changed vs fresh solve ({backend})"] = _assert_close(
                "c vs fresh", sol.per_process, fresh.per_process, rtol=1e-12
            )
            row(
                "c_recalculate",
                "(c) one foreground amount changed",
                backend,
                change_t,
                bw_change_t,
                "OpenPCF: ForegroundSolver.set('A_bf', ...) + solve(f); bw2calc: entry edited "
                "in place, lci_calculation + lcia_calculation (PARDISO refactorises the "
                "combined matrix)",
            )
        caches.clear()
        gc.collect()

        # ---- (d) every activity's footprint ------------------------------------------
        def bw_all(_: int) -> Any:
            mlca = bc.FastScoresOnlyMultiLCA(
                demands={f"a{j}": {ACTIVITY_ID0 + j: 1.0} for j in range(size)},
                method_config={"impact_categories": [("gwp",)]},
                data_objs=[dp_bg],
                direction="adjoint",
            )
            mlca.calculate()
            ids = [int(x) for x in mlca.product_scores.coords["products"].values]
            scores = dict(zip(ids, np.asarray(mlca.product_scores.values)[0], strict=True))
            return np.array([scores[ACTIVITY_ID0 + j] for j in range(size)])

        bw_all_t, bw_lam = measure(bw_all, repeat)
        lu_lam: np.ndarray | None = None
        note = "bw2calc: FastScoresOnlyMultiLCA(direction='adjoint'), all demands, one solve"
        variants: list[tuple[Backend, int | None]] = [(b, None) for b in backends]
        variants += [("iterative", 1), ("iterative", None)]
        for backend, blas in variants:
            limit = threadpool_limits(limits=blas, user_api="blas")
            solver = OPENPCF_SOLVERS[backend]
            if backend == "iterative":
                solver += f"; BLAS threads {blas or 'as started'}: {threads()}"

            def all_cold(_: int, b: Backend = backend) -> Any:
                caches[b] = (FactorisationCache(), IntensityCache())
                return intensities(system, c, backend=b, cache=caches[b][0])

            def all_warm(_: int, b: Backend = backend) -> Any:
                return intensities(system, c, backend=b, cache=caches[b][0])

            with limit:
                cold_t, lam = measure(all_cold, repeat)
                used = solver_used(system, backend=backend, factorisations=caches[backend][0])
                warm_t, lam = measure(all_warm, repeat)
            tag = backend if blas is None else f"{backend}, BLAS 1 thread"
            agreement[f"d cold ({tag})"] = _assert_close("d cold", lam[:, 0], bw_lam)
            if backend == "superlu":
                lu_lam = lam[:, 0]
            elif backend == "iterative" and lu_lam is not None:
                difference = _assert_close("d vs LU", lam[:, 0], lu_lam, rtol=ITERATIVE_RTOL)
                agreement[f"d iterative vs SuperLU ({tag})"] = difference
            solver = f"{solver}; solved by: {used}"
            label = f"(d) all {size} footprints"
            row("d_all_cold", f"{label}, cold", tag, cold_t, bw_all_t, note, solver)
            row(
                "d_all_warm",
                f"{label}, warm",
                tag,
                warm_t,
                bw_all_t,
                "OpenPCF factorisation cached; bw2calc has no cached path here",
                solver,
            )
            caches.clear()
            gc.collect()

    monte = monte_carlo(layered, c, f, repeat, seed)
    return {
        "benchmark": NAME,
        "machine": machine_info(),
        "problem": {
            "activities": size,
            "flows": len(system.flows),
            "nnz_A": int(system.A.nnz),
            "nnz_B": int(system.B.nnz),
            "foreground_processes": p,
            "nnz_A_bf": int(layered.A_bf.nnz),
            "seed": seed,
            "setup_s": setup_s,
        },
        "repeat": repeat,
        "spread_target": SPREAD,
        "max_runs": MAX_RUNS,
        "slow_threshold_s": SLOW_S,
        "rtol_checked": RTOL,
        "max_relative_difference": agreement,
        "measurements": rows,
        "monte_carlo": monte,
    }


# ---- Monte Carlo (e), (f) -------------------------------------------------------------------
def lognormal_params(matrix: sp.csc_array, sigma: float, *, square: bool) -> np.ndarray:
    """OpenPCF's stats_arrays rows (``PARAMS_DTYPE``, canonical CSC order): a lognormal of σ
    ``sigma`` with median the entry (``loc = ln |x|``, ``negative`` for inputs) on every entry,
    except the diagonal of a square (technosphere) matrix, whose production amounts stay fixed,
    as ecoinvent's do."""
    from openpcf.io.uncertainty import PARAMS_DTYPE

    coo = sp.coo_array(matrix)
    order = np.lexsort((coo.row, coo.col))
    p = np.zeros(coo.nnz, dtype=PARAMS_DTYPE)
    p["row"], p["col"] = coo.row[order], coo.col[order]
    x = coo.data[order]
    for name in ("scale", "shape", "minimum", "maximum"):
        p[name] = np.nan
    p["loc"] = x
    p["uncertainty_type"] = NO_UNCERTAINTY
    drawn = (p["row"] != p["col"]) if square else np.ones(coo.nnz, dtype=bool)
    p["uncertainty_type"][drawn] = LOGNORMAL
    p["loc"][drawn] = np.log(np.abs(x[drawn]))
    p["scale"][drawn] = sigma
    p["negative"][drawn] = x[drawn] < 0
    return p


def _bw_vector(
    dp: Any,
    matrix: str,
    name: str,
    m: sp.csc_array,
    rows0: int,
    cols0: int,
    params: np.ndarray | None,
) -> None:
    """Add ``m`` to the datapackage ``dp`` in Brightway's sign convention (inputs positive,
    ``flip``), with the same lognormals as ``params`` (``loc = ln |x|``, not negative: the
    flip makes the input negative) or none."""
    import bw_processing as bwp

    coo = sp.coo_array(m)
    order = np.lexsort((coo.row, coo.col))
    idx = np.empty(coo.nnz, dtype=bwp.INDICES_DTYPE)
    idx["row"], idx["col"] = rows0 + coo.row[order], cols0 + coo.col[order]
    x = coo.data[order]
    dist = np.zeros(coo.nnz, dtype=bwp.UNCERTAINTY_DTYPE)
    for field in ("scale", "shape", "minimum", "maximum"):
        dist[field] = np.nan
    dist["loc"] = np.abs(x)
    dist["uncertainty_type"] = NO_UNCERTAINTY
    if params is not None:
        drawn = params["uncertainty_type"] == LOGNORMAL
        dist["uncertainty_type"][drawn] = LOGNORMAL
        dist["loc"][drawn] = params["loc"][drawn]
        dist["scale"][drawn] = params["scale"][drawn]
    dist["negative"] = False
    dp.add_persistent_vector(
        matrix=matrix,
        name=name,
        indices_array=idx,
        data_array=np.abs(x),
        flip_array=x < 0,
        distributions_array=dist,
    )


def mc_datapackages(
    layered: LayeredSystem, c: np.ndarray, params: dict[str, np.ndarray | None]
) -> tuple[Any, Any, Any]:
    """bw2calc's datapackages of the model on the background: ``background`` and
    ``foreground`` (each one database, so that ``PartitionedMonteCarloLCA`` can keep the
    background static) and the method. Foreground activity ``j`` has id ``ACTIVITY_ID0 + j``,
    background activity ``j`` ``ACTIVITY_ID0 + p + j``, as in :func:`combined`. ``params``:
    the OpenPCF rows of ``A_ff``, ``A_bf``, ``B_f``, ``A_bb``, ``B_b`` (None: fixed)."""
    import bw_processing as bwp

    p = layered.foreground.size
    fg0, bg0 = ACTIVITY_ID0, ACTIVITY_ID0 + p
    bg = bwp.create_datapackage(
        name="background", metadata={"database_dependencies": []}, sum_intra_duplicates=True
    )
    _bw_vector(
        bg,
        "technosphere_matrix",
        "background_technosphere",
        layered.background.A,
        bg0,
        bg0,
        params["A_bb"],
    )
    _bw_vector(
        bg,
        "biosphere_matrix",
        "background_biosphere",
        layered.background.B,
        FLOW_ID0,
        bg0,
        params["B_b"],
    )
    fg = bwp.create_datapackage(
        name="foreground",
        metadata={"database_dependencies": ["background"]},
        sum_intra_duplicates=True,
    )
    _bw_vector(
        fg,
        "technosphere_matrix",
        "foreground_technosphere",
        layered.foreground.A,
        fg0,
        fg0,
        params["A_ff"],
    )
    _bw_vector(
        fg, "technosphere_matrix", "foreground_links", layered.A_bf, bg0, fg0, params["A_bf"]
    )
    _bw_vector(
        fg,
        "biosphere_matrix",
        "foreground_biosphere",
        layered.foreground.B,
        FLOW_ID0,
        fg0,
        params["B_f"],
    )
    method = to_datapackage(sp.csc_array((0, 0)), sp.csc_array((0, 0)), c)
    method = method.filter_by_attribute("matrix", "characterization_matrix")
    return bg, fg, method


class ForegroundDraws:
    """OpenPCF's Monte Carlo of the model's own amounts on a fixed background, vectorised over
    the draws as :class:`openpcf.model.montecarlo.Sampler` is (one dense ``A_ff`` per draw,
    one batched solve): ``T = hᵀ s`` with ``A_ff s = f`` and ``h = B_fᵀ c − A_bfᵀ λ_b``, the
    background intensities ``λ_b`` computed once (the cached background factorisation). The
    uniforms of a draw are one per uncertain entry of ``A_ff``, ``A_bf``, ``B_f`` in that
    order (:class:`Drawer` of each)."""

    def __init__(
        self,
        layered: LayeredSystem,
        c: np.ndarray,
        f: np.ndarray,
        lam_b: np.ndarray,
        params: dict[str, np.ndarray],
    ) -> None:
        fg = layered.foreground
        self.p = p = fg.size
        self.f = f
        self.A0 = np.asarray(fg.A.todense(), dtype=np.float64)
        self.h0 = np.asarray(fg.B.T @ c) - np.asarray(layered.A_bf.T @ lam_b)
        #: per matrix: its drawn rows, their flat positions in A_ff (or None), the change
        #: of h per unit change of each (or None), and their nominal values
        self.parts: list[tuple[Drawer, np.ndarray | None, np.ndarray | None, np.ndarray]] = []
        for key, weight_of_row in (("A_ff", None), ("A_bf", -lam_b), ("B_f", c)):
            rows = params[key]
            drawn = rows[rows["uncertainty_type"] == LOGNORMAL]
            r, j = drawn["row"], drawn["col"]
            nominal = np.where(drawn["negative"], -1.0, 1.0) * np.exp(drawn["loc"])
            if weight_of_row is None:
                self.parts.append((Drawer(drawn), r * p + j, None, nominal))
            else:
                onto = np.zeros((len(drawn), p))
                onto[np.arange(len(drawn)), j] = weight_of_row[r]
                self.parts.append((Drawer(drawn), None, onto, nominal))
        self.entries = sum(d.size for d, *_ in self.parts)

    def draw_from(self, rng: np.random.Generator, n: int) -> np.ndarray:
        A = np.tile(self.A0.ravel(), (n, 1))
        h = np.tile(self.h0, (n, 1))
        for drawer, flat, onto, nominal in self.parts:
            x = drawer.sample(rng, n)
            if flat is not None:
                A[:, flat] = x
            elif onto is not None:
                h += (x - nominal) @ onto
        rhs = np.broadcast_to(self.f, (n, self.p))[..., None]
        s = np.linalg.solve(A.reshape(n, self.p, self.p), rhs)[..., 0]
        totals: np.ndarray = np.einsum("ij,ij->i", h, s)
        return totals


def _z(a: np.ndarray, b: np.ndarray) -> dict[str, float]:
    """Two-sample z of the mean and of the variance (as tests/test_mc_brightway.py)."""
    z_mean = (a.mean() - b.mean()) / np.sqrt(a.var(ddof=1) / a.size + b.var(ddof=1) / b.size)
    se = [np.sqrt((np.mean((x - x.mean()) ** 4) - x.var() ** 2) / x.size) for x in (a, b)]
    z_var = (a.var(ddof=1) - b.var(ddof=1)) / np.hypot(*se)
    return {"mean": float(z_mean), "variance": float(z_var)}


def _factor_bytes(A: sp.csc_array) -> int:
    """Memory of one SuperLU factorisation of ``Aᵀ`` (values 8 bytes, indices 4, and the
    permutations): what Monte Carlo's peak is compared with."""
    lu = spla.splu(sp.csc_array(A.T), permc_spec="COLAMD")  # as Factorisation does
    return int((lu.L.nnz + lu.U.nnz) * 12 + 4 * (lu.L.shape[0] + lu.U.shape[0]) * 2)


def monte_carlo(
    layered: LayeredSystem, c: np.ndarray, f: np.ndarray, repeat: int, seed: int
) -> dict[str, Any]:
    """Rows (e) and (f): iterations per second of each side, same distributions, same number
    of draws per timed run (:data:`MC_DRAWS`), the samples checked against each other."""
    import bw2calc as bc

    bg, fg = layered.background, layered.foreground
    fixed = {"A_ff": None, "A_bf": None, "B_f": None, "A_bb": None, "B_b": None}
    own = {
        "A_ff": lognormal_params(fg.A, MC_SIGMA, square=True),
        "A_bf": lognormal_params(layered.A_bf, MC_SIGMA, square=False),
        "B_f": lognormal_params(fg.B, MC_SIGMA, square=False),
    }
    background = {
        "A_bb": lognormal_params(bg.A, MC_SIGMA, square=True),
        "B_b": lognormal_params(bg.B, MC_SIGMA, square=False),
    }
    demand = {ACTIVITY_ID0: 1.0}
    rows: list[dict[str, Any]] = []

    def timed(next_draws: Callable[[], np.ndarray]) -> tuple[Timing, np.ndarray]:
        samples: list[np.ndarray] = []

        def one(_: int) -> None:
            samples.append(next_draws())

        timing, _ = measure(one, repeat)
        return timing, np.concatenate(samples)

    def bw_draws(lca: Any) -> Callable[[], np.ndarray]:
        def draws() -> np.ndarray:
            out = np.empty(MC_DRAWS)
            for i in range(MC_DRAWS):
                next(lca)
                out[i] = lca.score
            return out

        return draws

    def add(
        key: str,
        label: str,
        ours: Timing,
        xs: np.ndarray,
        peers: dict[str, Any],
        note: str,
        extra: dict[str, Any],
    ) -> None:
        rate = MC_DRAWS / ours.median
        peer_rates = {name: MC_DRAWS / t.median for name, (t, _) in peers.items()}
        fastest = max(peer_rates, key=peer_rates.__getitem__)
        rows.append(
            {
                "id": key,
                "label": label,
                "draws_per_run": MC_DRAWS,
                "openpcf_iterations_per_s": rate,
                "bw2calc_iterations_per_s": peer_rates,
                "bw2calc_fastest": fastest,
                "ratio_openpcf_over_fastest_bw2calc": rate / peer_rates[fastest],
                "openpcf_runs": ours.runs,
                "bw2calc_runs": {name: t.runs for name, (t, _) in peers.items()},
                "openpcf_spread": ours.spread,
                "agreement_z": {name: _z(xs, ys) for name, (_, ys) in peers.items()},
                "openpcf_mean_sd": [float(xs.mean()), float(xs.std(ddof=1))],
                "bw2calc_mean_sd": {
                    name: [float(ys.mean()), float(ys.std(ddof=1))]
                    for name, (_, ys) in peers.items()
                },
                "note": note,
                **extra,
            }
        )

    with _quiet_bw2calc(), warnings.catch_warnings():
        # IterativeLCA asks for reference flags: without them it uses the diagonal, which is
        # the production pivots here (an activity and its product share the id)
        warnings.simplefilter("ignore", UserWarning)
        # ---- (e) the model's own amounts uncertain, background fixed ----------------------
        dp_bg, dp_fg, dp_c = mc_datapackages(layered, c, {**fixed, **own})
        peers: dict[str, Any] = {}
        lca = bc.IterativeLCA(
            dict(demand),
            data_objs=[dp_bg, dp_fg, dp_c],
            use_distributions=True,
            seed_override=seed,
            rtol=MC_TOLERANCE,
        )
        lca.lci()
        lca.lcia()
        peers["IterativeLCA"] = timed(bw_draws(lca))
        del lca
        if importlib.util.find_spec("bw_graph_tools") is not None:
            pmc = bc.PartitionedMonteCarloLCA(
                dict(demand),
                static_databases=["background"],
                data_objs=[dp_bg, dp_fg, dp_c],
                seed_override=seed,
            )
            pmc.lci()
            pmc.lcia()
            peers["PartitionedMonteCarloLCA"] = timed(bw_draws(pmc))
            del pmc
        lam_b = intensities(bg, c, backend="superlu", cache=FactorisationCache())[:, 0]
        rng = np.random.default_rng(seed)
        model = ForegroundDraws(layered, c, f, lam_b, own)
        ours, xs = timed(lambda: model.draw_from(rng, MC_DRAWS))
        add(
            "e_mc_foreground",
            f"(e) Monte Carlo, {model.entries} foreground entries uncertain",
            ours,
            xs,
            peers,
            "OpenPCF: background intensities once (cached factorisation), then batched "
            "dense solves of A_ff per draw; bw2calc: next() + score",
            {
                "tolerance": "direct solves on both sides (PartitionedMonteCarloLCA: LU of the "
                "small system; IterativeLCA: rtol as row f)",
                "bw2calc_partitioned": "PartitionedMonteCarloLCA" in peers
                or "not run: bw_graph_tools is not installed",
            },
        )
        peers.clear()
        gc.collect()

        # ---- (f) every background entry uncertain --------------------------------------
        dp_bg, dp_fg, dp_c = mc_datapackages(layered, c, {**fixed, **background})
        lca = bc.IterativeLCA(
            dict(demand),
            data_objs=[dp_bg, dp_fg, dp_c],
            use_distributions=True,
            seed_override=seed,
            rtol=MC_TOLERANCE,
        )
        lca.lci()
        lca.lcia()
        peers["IterativeLCA"] = timed(bw_draws(lca))
        stats = dict(lca.solver_stats)
        del lca
        gc.collect()
        s_f = spla.spsolve(sp.csc_array(fg.A), f)
        w = -np.asarray(layered.A_bf @ s_f)
        used = np.flatnonzero(w)
        t0 = float(s_f @ np.asarray(fg.B.T @ c))
        params = MatrixUncertainty(A=background["A_bb"], B=background["B_b"])
        sampler = DatabaseSampler(
            "synthetic@1",
            bg,
            params,
            c,
            [bg.activities[j] for j in used],
            tolerance=MC_TOLERANCE,
        )
        rng = np.random.default_rng(seed)
        sampler.draw_from(rng, 1)  # set-up: A at the means, the structural check
        ours, xs = timed(lambda: t0 + sampler.draw_from(rng, MC_DRAWS) @ w[used])
        solver = sampler.describe()
        # peak memory of a few draws against one factorisation (tracemalloc sees numpy)
        tracemalloc.start()
        sampler.draw_from(rng, 3)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        factor = _factor_bytes(bg.A)
        add(
            "f_mc_background",
            f"(f) Monte Carlo, {sampler.entries} background entries uncertain",
            ours,
            xs,
            peers,
            "OpenPCF: DatabaseSampler.draw_from (vectorised draws, BiCGSTAB + Jacobi of A at "
            "the means started from lambda at the means; the next draw drawn and taken to "
            "1e-3 by a worker thread while this one is finished; residual check, LU "
            "fall-back); bw2calc: "
            "IterativeLCA next() + score (BiCGSTAB + Jacobi, warm start, forward error check "
            "with its reference factorisation)",
            {
                "tolerance": f"relative residual {MC_TOLERANCE:g} on both sides (bw2calc rtol; "
                "its forward-error check 1e-6 as by default)",
                "openpcf_solver": solver,
                "bw2calc_solver_stats": stats,
                "openpcf_peak_memory_bytes": peak,
                "one_factorisation_bytes": factor,
                "peak_over_factorisation": peak / factor,
            },
        )
    return {"sigma": MC_SIGMA, "draws_per_run": MC_DRAWS, "rows": rows}


def _fmt(x: float | None) -> str:
    if x is None:
        return "-"
    return f"{x:.4f}" if x < 10 else f"{x:.1f}"


def format_table(result: dict[str, Any]) -> str:
    prob, mach = result["problem"], result["machine"]
    head = (
        f"Engine benchmark: {prob['activities']} activities, {prob['flows']} flows, "
        f"nnz(A)={prob['nnz_A']}, {prob['foreground_processes']}-process foreground; "
        f"{mach['cpu_count']} CPUs, bw2calc {mach['versions']['bw2calc']}, "
        f"median of the {result['repeat']} fastest runs (seconds)"
    )
    cols = (
        "measurement",
        "OpenPCF backend",
        "OpenPCF",
        "bw2calc",
        "bw2calc/OpenPCF",
        "runs",
        "spread",
    )
    body = []
    for r in result["measurements"]:
        ratio = r["ratio_bw2calc_over_openpcf"]
        runs = f"{len(r['openpcf_runs']) or '-'}/{len(r['bw2calc_runs']) or '-'}"
        spread = "/".join(
            "-" if x is None else f"{100 * x:.0f}%"
            for x in (r.get("openpcf_spread"), r.get("bw2calc_spread"))
        )
        body.append(
            (
                r["label"],
                r["openpcf_backend"] or "-",
                _fmt(r["openpcf_s"]),
                _fmt(r["bw2calc_s"]),
                "-" if ratio is None else f"{ratio:.2f}x",
                runs,
                spread,
            )
        )
    widths = [max(len(x[i]) for x in (cols, *body)) for i in range(len(cols))]
    line = "  ".join("-" * w for w in widths)
    out = [head, line, "  ".join(c.ljust(w) for c, w in zip(cols, widths, strict=True)), line]
    out += ["  ".join(c.ljust(w) for c, w in zip(b, widths, strict=True)) for b in body]
    out.append(line)
    worst = max(result["max_relative_difference"].values(), default=0.0)
    out.append(f"results agree with bw2calc: max relative difference {worst:.1e}")
    out += format_monte_carlo(result.get("monte_carlo"))
    return "\n".join(out)


def format_monte_carlo(monte: dict[str, Any] | None) -> list[str]:
    """One line per Monte Carlo row: iterations per second of each side and the ratio."""
    if not monte:
        return []
    out = [f"Monte Carlo (lognormal sigma {monte['sigma']}, {monte['draws_per_run']} draws a run)"]
    for r in monte["rows"]:
        theirs = ", ".join(f"{k} {v:.1f}/s" for k, v in r["bw2calc_iterations_per_s"].items())
        z = max(abs(v) for zs in r["agreement_z"].values() for v in zs.values())
        memory = (
            f"; peak memory {r['peak_over_factorisation']:.2f}x one factorisation"
            if "peak_over_factorisation" in r
            else ""
        )
        out.append(
            f"{r['label']}: OpenPCF {r['openpcf_iterations_per_s']:.1f}/s, bw2calc {theirs}: "
            f"{r['ratio_openpcf_over_fastest_bw2calc']:.1f}x the fastest; samples agree "
            f"(largest |z| {z:.1f}){memory}"
        )
    return out
