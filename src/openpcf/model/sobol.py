"""Global sensitivity of a compiled model's total: Sobol indices by SALib, screening first.

**Inputs.** The model's own distributions (exchanges' ``uncertainty:``, ``parameter:<name>``,
``factor:<id>``) and those stored with the imported databases its sampler carries (linked, or
read from the store for precomputed rows: each entry ``db:<name>@<version>:<A|B>:<row>:<col>``,
:mod:`openpcf.model.database_uncertainty`). A sampler built without databases (``openpcf
uncertainty --no-background``) leaves the databases' entries out of both steps.

**Screening.** The analytic first-order variance shares (:func:`openpcf.model.montecarlo.
analytic`; a database entry's from the adjoint, :meth:`DatabaseSampler.gradient`) rank all of
them together; the ``top`` largest are kept, the others are held at their median (quantile 0.5)
and reported with their share, so the cost stays ``N (D + 2)`` evaluations for ``D ≤ top``
kept inputs.

**Sobol indices.** Saltelli's scheme (SALib ``sample.sobol.sample``, scrambled Sobol'
sequence, ``calc_second_order=False``, seeded) draws ``N (D + 2)`` points of the unit
hypercube ``[0, 1)^D``; each coordinate is turned into its input's value by that input's
inverse CDF (:meth:`Distribution.ppf`, so any stats_arrays distribution works; a database
entry's by the same formulas, :meth:`DatabaseSampler.draw`) through the same evaluation path as
the Monte Carlo run (:meth:`Sampler.totals`). A database with a kept entry is solved once per
point (``Aᵀ λ = Bᵀ c`` with its kept entries drawn and the others at their medians); one
without is solved once, at its medians. SALib ``analyze.sobol.analyze`` gives the first-order
index ``S1_i = Var(E[T | X_i]) / Var T`` and the total index ``ST_i = E[Var(T | X_~i)] / Var
T`` with bootstrap 95 % confidence half-widths. For an additive model ``T = Σ a_i X_i`` of
independent inputs both equal ``a_i² Var X_i / Σ_j a_j² Var X_j``; ``ST_i − S1_i`` is the
share of interactions.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from openpcf.errors import InputError
from openpcf.model.montecarlo import BATCH, Analytic, DatabaseSampler, Sampler, analytic, inputs

#: Default base sample size N (a power of 2) and number of inputs kept by the screening.
DEFAULT_N = 1024
DEFAULT_TOP = 10
#: bootstrap resamples of SALib's confidence intervals
RESAMPLES = 100


@dataclass(frozen=True, slots=True, kw_only=True)
class SobolIndex:
    """The indices of one kept input, and its analytic variance share (the screening)."""

    key: str
    share: float
    s1: float
    s1_conf: float  # half-width of the 95 % bootstrap interval
    st: float
    st_conf: float


@dataclass(frozen=True, slots=True, kw_only=True)
class Sobol:
    """A Sobol analysis: the seed and N that reproduce it, indices by decreasing ``ST``."""

    seed: int
    n: int
    evaluations: int
    mean: float
    variance: float
    indices: tuple[SobolIndex, ...]
    #: inputs left out by the screening (held at their median) -> analytic variance share
    screened_out: Mapping[str, float]


def _salib() -> tuple[Any, Any]:
    try:
        from SALib.analyze import sobol as analyze  # type: ignore[import-untyped]
        from SALib.sample import sobol as sample  # type: ignore[import-untyped]
    except ImportError:
        raise InputError(
            "--sobol needs SALib: install OpenPCF with the sensitivity extra "
            "(pip install 'openpcf[sensitivity]')"
        ) from None
    return sample, analyze


def screen(
    first: Analytic, top: int, among: Collection[str] | None = None
) -> tuple[list[str], dict[str, float]]:
    """The ``top`` inputs (of ``among``, default all) with the largest analytic variance share
    (largest first, ties by key), and the others with their share."""
    if top < 1:
        raise InputError(f"--top must be at least 1 (got {top})")
    shares = first.contributions.items()
    chosen = [(k, v) for k, v in shares if among is None or k in among]
    ranked = sorted(chosen, key=lambda kv: (-kv[1], kv[0]))
    return [k for k, _ in ranked[:top]], dict(ranked[top:])


def sobol(
    sampler: Sampler,
    *,
    seed: int,
    n: int = DEFAULT_N,
    top: int = DEFAULT_TOP,
    first: Analytic | None = None,
) -> Sobol:
    """Sobol indices of the model's total over its ``top`` most contributing uncertain inputs
    (module docstring); ``first`` the analytic result to screen with (computed if None)."""
    if n < 2 or n & (n - 1):
        raise InputError(f"--sobol-n must be a power of 2, at least 2 (got {n})")
    every = set(sampler.keys)
    if not every:
        raise InputError(
            "the model has no uncertain inputs (uncertainty: on an exchange, "
            "parameter_uncertainty:, or distributions stored with the databases its "
            "background: inputs come from), so there are no Sobol indices to compute"
        )
    first = analytic(sampler) if first is None else first
    kept, dropped = screen(first, top, among=every)
    sample, analyze = _salib()
    problem = {"num_vars": len(kept), "names": kept, "bounds": [[0.0, 1.0]] * len(kept)}
    streams = np.random.SeedSequence(seed).spawn(2)
    points = sample.sample(
        problem,
        n,
        calc_second_order=False,
        seed=np.random.default_rng(streams[0]),
    )
    # the CDF's ends are 0 and 1 (as the Monte Carlo draws): an exact 0.0 would give -inf
    points = np.clip(points, 1e-300, 1 - 2**-53)
    totals = _evaluate(sampler, kept, points)
    variance = float(totals.var())
    if not math.isfinite(variance) or variance <= 0.0:
        raise InputError(
            "the total does not vary over the sampled inputs; there are no Sobol indices"
        )
    # SALib 1.5.1 passes the names to pandas.unique, which pandas 3 refuses for a list
    names = np.array(kept, dtype=object)
    si = analyze.analyze(
        {**problem, "names": names},
        totals,
        calc_second_order=False,
        num_resamples=RESAMPLES,
        conf_level=0.95,
        print_to_console=False,
        seed=np.random.default_rng(streams[1]),
    )
    indices = [
        SobolIndex(
            key=key,
            share=float(first.contributions.get(key, 0.0)),
            s1=float(si["S1"][i]),
            s1_conf=float(si["S1_conf"][i]),
            st=float(si["ST"][i]),
            st_conf=float(si["ST_conf"][i]),
        )
        for i, key in enumerate(kept)
    ]
    indices.sort(key=lambda x: (-x.st, x.key))
    return Sobol(
        seed=seed,
        n=n,
        evaluations=len(totals),
        mean=float(totals.mean()),
        variance=variance,
        indices=tuple(indices),
        screened_out=dropped,
    )


def _evaluate(sampler: Sampler, kept: list[str], points: np.ndarray) -> np.ndarray:
    """The total at each point (rows of uniforms for ``kept``; other inputs at quantile 0.5),
    in batches (each batch stacks one matrix per point); each database solved per point when
    one of its entries is kept, else once at its medians."""
    rows = points.shape[0]
    out = np.empty(rows)
    column = {key: j for j, key in enumerate(kept)}
    own = list(inputs(sampler.base.compiled))
    varied: dict[DatabaseSampler, dict[str, int]] = {}
    fixed: dict[DatabaseSampler, np.ndarray] = {}
    for d in sampler.databases:
        mine = {key: column[key] for key in d.keys if key in column}
        if mine:
            varied[d] = mine
        else:
            fixed[d] = d.draw(_AtMedian({}, 1), 1)
    for start in range(0, rows, BATCH):
        chunk = points[start : start + BATCH]
        m = chunk.shape[0]
        uniforms = {key: np.full(m, 0.5) for key in own}
        uniforms.update({key: chunk[:, column[key]] for key in own if key in column})
        drawn = {d: np.broadcast_to(x, (m, x.shape[1])) for d, x in fixed.items()}
        for d, mine in varied.items():
            drawn[d] = d.draw(_AtMedian({k: chunk[:, j] for k, j in mine.items()}, m), m)
        out[start : start + m] = sampler.totals(uniforms, m, drawn)
    return out


class _AtMedian(Mapping[str, np.ndarray]):
    """Uniforms per key for a database's draw: the given ones, 0.5 (the median) for every
    other key, without an array per entry (a database may have hundreds of thousands)."""

    def __init__(self, given: dict[str, np.ndarray], n: int) -> None:
        self.given = given
        self.half = np.full(n, 0.5)

    def __getitem__(self, key: str) -> np.ndarray:
        return self.given.get(key, self.half)

    def __iter__(self) -> Iterator[str]:
        return iter(self.given)

    def __len__(self) -> int:
        return len(self.given)
