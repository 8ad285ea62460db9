"""Where PARDISO starts to beat SuperLU: factorise + solve on synthetic backgrounds of size n.

Run with ``python -m bench.solver_crossover [n ...]`` (needs ``pypardiso``). For each size it
builds a background like :func:`bench.synthetic.make_background` and times what
:func:`openpcf.core.engine.intensities` does on a cache miss: a :class:`Factorisation` with
each backend and one transposed solve for every gas (``Aᵀ Λ = Bᵀ Q``, 7 columns): the only
solve whose backend ``"auto"`` chooses (foreground systems are always solved with SuperLU; a
scaling solve ``A s = f`` would cost PARDISO a second factorisation). Each figure is the
median of several runs in a process where PARDISO (MKL) has already been initialised once, so
its one-off start-up is not counted. The figures are in the design note of
:mod:`openpcf.core.solver`, which sets ``PARDISO_MIN_SIZE`` from them.
"""

from __future__ import annotations

import statistics
import sys
import time

import numpy as np

from bench.synthetic import make_background
from openpcf.core.solver import Factorisation

SIZES = (100, 300, 1_000, 3_000, 10_000, 20_000, 30_000, 50_000, 70_000, 100_000)
GASES = 7


def time_backend(A: object, rhs: np.ndarray, backend: str, repeat: int) -> float:
    runs = []
    for _ in range(repeat):
        began = time.perf_counter()
        fact = Factorisation(A, backend=backend)  # type: ignore[arg-type]
        fact.solve_transposed(rhs)
        runs.append(time.perf_counter() - began)
        del fact
    return statistics.median(runs)


def main(sizes: tuple[int, ...]) -> None:
    warm = make_background(200, n_flows=50)
    rhs0 = np.asarray(warm.system.B.T @ np.ones((50, GASES)))
    time_backend(warm.system.A, rhs0, "pardiso", 1)  # MKL start-up
    print(f"{'n':>7} {'nnz':>8} {'SuperLU ms':>11} {'PARDISO ms':>11} {'ratio':>6}")
    for n in sizes:
        bg = make_background(n, n_flows=min(2_000, max(50, n // 10)))
        A = bg.system.A
        Q = np.random.default_rng(n).random((bg.system.B.shape[0], GASES))
        rhs = np.asarray(bg.system.B.T @ Q)
        repeat = 15 if n <= 3_000 else 5 if n <= 20_000 else 3
        slu = time_backend(A, rhs, "superlu", repeat)
        par = time_backend(A, rhs, "pardiso", repeat)
        print(
            f"{n:>7} {A.nnz:>8} {1e3 * slu:>11.2f} {1e3 * par:>11.2f} {slu / par:>6.2f}",
            flush=True,
        )


if __name__ == "__main__":
    main(tuple(int(a) for a in sys.argv[1:]) or SIZES)
