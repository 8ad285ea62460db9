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
c. recalculate after one foreground amount changes (one ``A_bf`` entry). OpenPCF: a new
   ``LayeredSystem`` and a warm ``solve_layered`` (background intensities are cached).
   bw2calc: the entry is changed in place in ``lca.technosphere_matrix`` and
   ``lci_calculation()`` + ``lcia_calculation()`` are redone, so PARDISO refactorises the
   combined matrix (its fastest honest path; building a new ``LCA`` costs as much as (b) cold).
d. the footprint of every background activity. OpenPCF: ``intensities(background, c)``, cold
   (includes factorising, or for ``iterative`` the structural check and the BiCGSTAB solve)
   and warm (cached factorisation: one transposed solve). bw2calc:
   ``FastScoresOnlyMultiLCA(direction="adjoint")`` with one demand per activity (its own
   one-solve all-products path: builds matrices, factorises ``Aᵀ`` and solves once).
   The iterative backend is timed twice: with OpenBLAS limited to one thread (its vector
   operations are on 20,000 doubles, where BLAS threads cost more than they bring on a busy
   machine) and with the BLAS threads the process started with; the BLAS limit only applies
   to the OpenPCF side of that row.

Each row records the solver, the ordering and the thread counts each side used
(``openpcf_solver``, ``bw2calc_solver``; :func:`threads` for the BLAS/MKL thread pools).

Every result is checked against the other tool (``rtol=1e-6``) before it is reported.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import gc
import importlib.metadata
import os
import platform
import statistics
import time
import warnings
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import scipy.sparse as sp
from threadpoolctl import threadpool_info, threadpool_limits

from bench.synthetic import (
    ACTIVITY_ID0,
    combined,
    make_background,
    make_foreground,
    to_datapackage,
)
from openpcf.core.engine import (
    IntensityCache,
    LayeredSystem,
    intensities,
    solve_layered,
    solver_used,
)
from openpcf.core.solver import Backend, Factorisation, FactorisationCache, pardiso_available

NAME = "engine"
DEFAULT_SIZE = 20_000
#: A run slower than this (seconds) is not repeated.
SLOW_S = 20.0
#: Repeat until the ``repeat`` fastest runs are within this share of each other ...
SPREAD = 0.10
#: ... or this many runs were made.
MAX_RUNS = 15
RTOL = 1e-6
#: The iterative backend must equal LU this closely (element-wise, relative).
ITERATIVE_RTOL = 1e-9
#: What each OpenPCF backend does; SuperLU and scipy's sparse products are single-threaded.
OPENPCF_SOLVERS = {
    "superlu": "SuperLU on A^T, COLAMD ordering, single-threaded",
    "pardiso": "MKL PARDISO (pypardiso), METIS ordering",
    "iterative": "BiCGSTAB + Jacobi, no ordering; sparse products single-threaded",
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

            def change(k: int, b: Backend = backend) -> Any:
                fc, ic = caches[b]
                data = A_bf.data.copy()
                data[A_bf.indptr[0]] = new_amount(k)
                edited = LayeredSystem(
                    foreground=layered.foreground,
                    background=layered.background,
                    A_bf=sp.csc_array((data, A_bf.indices, A_bf.indptr), shape=A_bf.shape),
                )
                return solve_layered(edited, f, c, backend=b, factorisations=fc, cache=ic)

            change_t, sol = measure(change, last + 1, stable=False)
            agreement[f"c changed ({backend})"] = _assert_close(
                "c changed", sol.total[0], bw_changed
            )
            row(
                "c_recalculate",
                "(c) one foreground amount changed",
                backend,
                change_t,
                bw_change_t,
                "bw2calc: entry edited in place, lci_calculation + lcia_calculation "
                "(PARDISO refactorises the combined matrix)",
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
    }


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
    return "\n".join(out)
