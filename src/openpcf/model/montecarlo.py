"""Uncertainty of a compiled model's total: analytic first order, and Monte Carlo.

The total is ``T = hᵀ s`` with ``A s = d`` (literature names): ``A`` the foreground
(outputs on the diagonal, minus the process inputs), ``d`` the demand and ``h_j = Σ_e
i_e a_e`` the kg CO2e that one unit of column ``j`` emits directly and draws from factor rows,
over its exchanges ``e`` with amounts ``a_e`` and intensities ``i_e`` (the GWP of a gas; the
kg CO2e per unit of a factor row, ``Λ_b c`` of :func:`openpcf.core.engine.layer_intensities`).
The model's own amounts (``uncertainty:``) and parameters (``parameter_uncertainty:``) are
sampled, the factor rows whose factor set gives a distribution (``factor:<id>``, a drawn
amount ``x`` of its gas moving ``i_e`` by ``c_gas (x − x₀)``), and the stored distributions
of the imported databases its ``background:`` inputs come from, precomputed or linked
(re-pointed electricity included): drawn, or for the analytic method differentiated by the
adjoint (:mod:`openpcf.model.database_uncertainty`).

**Analytic (the instant default).** First-order Taylor expansion of ``T`` around the inputs'
means ``μ``: ``E[T] ≈ T(μ)``, ``Var[T] ≈ Σ_k (∂T/∂x_k)² Var[x_k]`` with each input's exact
mean and variance (for a lognormal ``exp(μ+σ²/2)`` and ``exp(2μ+σ²)(exp(σ²)−1)``, not the
delta method on logs). ``∂T/∂a_e = i_e s_j`` for an exchange of column ``j`` (``λ_t s_j`` for
an input from process ``t``, ``λ = A⁻ᵀ h``); a parameter's by central differences, recompiling;
a database entry's ``−λ_i s_j`` (``A``) or ``c_k s_j`` (``B``) in that database's own terms.
It is exact in the mean and variance when the uncertain amounts enter ``h`` only (emissions and
factor inputs) and only approximate for inputs between processes and parameters. The 2.5/97.5
percentiles it gives are the normal approximation ``E ± 1.96 sd``.

**Monte Carlo.** Each input ``k`` (an exchange's :attr:`~openpcf.model.compiler.Entry.key`, or
``parameter:<name>``) has its own stream of uniforms from ``SeedSequence(seed,
spawn_key=sha256(key))``, turned into values by the inverse CDF; so two models (or scenarios)
that share an input draw the same values for it (common random numbers), and one seed
reproduces every sample. An imported database's entries (hundreds of thousands) share one
stream per database, ``key = "database:<ref>"``, drawn by numpy's generators all at once per
distribution type (:meth:`DatabaseSampler.draw_from`). Batches run until the relative
standard error of the mean, and of the 2.5 and 97.5 percentiles (spread of the per-batch
percentiles over √batches, relative to the mean), are below ``tolerance``, or
``max_iterations`` is reached.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
from scipy.special import ndtr

from openpcf.core.engine import layer_intensities
from openpcf.core.uncertainty import Distribution
from openpcf.errors import InputError
from openpcf.methods.gases import GAS_IDS
from openpcf.methods.gwp import characterisation_vector
from openpcf.model.compiler import CompiledModel, compile_model
from openpcf.model.database_uncertainty import DatabaseSampler as DatabaseSampler
from openpcf.model.database_uncertainty import database_rows
from openpcf.model.parameters import Value

#: Quantiles reported (percent).
PERCENTILES = (2.5, 5.0, 25.0, 50.0, 75.0, 95.0, 97.5)
HISTOGRAM_BINS = 30
BATCH = 500
MIN_BATCHES = 4
#: z of the two-sided 95 % normal interval
Z95 = 1.959963984540054

Recompile = Callable[[Mapping[str, float]], CompiledModel]


@dataclass(frozen=True, slots=True, kw_only=True)
class Analytic:
    """First-order propagation (module docstring): mean, sd, normal 95 % interval and the
    variance each input contributes."""

    deterministic: float
    mean: float
    sd: float
    p2_5: float
    p97_5: float
    contributions: Mapping[str, float]  # input key -> share of Var[T]
    #: database ref -> entries with a distribution that this method leaves out
    ignored: Mapping[str, int] = field(default_factory=dict)


@dataclass(frozen=True, slots=True, kw_only=True)
class MonteCarlo:
    """A Monte Carlo run: the seed that reproduces it, and its statistics."""

    seed: int
    iterations: int
    converged: bool
    tolerance: float
    mean: float
    sd: float
    standard_error: float
    percentiles: Mapping[str, float]
    histogram_edges: tuple[float, ...]
    histogram_counts: tuple[int, ...]
    samples: np.ndarray


@dataclass(frozen=True, slots=True, kw_only=True)
class Comparison:
    """A against B with the same draws for shared inputs: P(T_A < T_B) and the difference."""

    p_a_lower: float
    standard_error: float
    difference: MonteCarlo | None  # T_A − T_B, per iteration
    analytic_p_a_lower: float


# -- the model as h, A, d ------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class _Linear:
    """``A``, ``h``, ``d`` of one compiled model and the intensity of each entry."""

    compiled: CompiledModel
    A: np.ndarray
    h: np.ndarray
    d: np.ndarray
    intensity: np.ndarray  # kg CO2e per unit of each entry's row (0 for process inputs)
    in_a: np.ndarray  # entries that are inputs between processes (they sit in A)
    amounts: np.ndarray  # the entries' amounts that A and h hold

    @classmethod
    def of(cls, compiled: CompiledModel) -> _Linear:
        c = characterisation_vector(compiled.gwp, GAS_IDS)
        lam_b = layer_intensities(compiled.system, c)[0].ravel()
        A = np.asarray(compiled.system.foreground.A.todense(), dtype=np.float64)
        p = A.shape[0]
        intensity = np.zeros(len(compiled.entries))
        in_a = np.zeros(len(compiled.entries), dtype=bool)
        h = np.zeros(p)
        for k, e in enumerate(compiled.entries):
            if e.kind in ("process", "process-credit"):
                in_a[k] = True
                continue
            intensity[k] = c[e.row] if e.kind == "emission" else lam_b[e.row]
            h[e.column] += intensity[k] * e.amount
        amounts = np.array([e.amount for e in compiled.entries], dtype=np.float64)
        demand = compiled.demand.astype(np.float64)
        return cls(compiled, A, h, demand, intensity, in_a, amounts)

    def _shifted(
        self, amounts: np.ndarray, intensity: Mapping[int, np.ndarray] | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """``A`` and ``h`` (stacked per row of ``amounts``, iterations × entries), with the
        intensities of the entries in ``intensity`` (entry -> one value per iteration)."""
        n, p = amounts.shape[0], self.A.shape[0]
        delta = amounts - self.amounts
        A = np.broadcast_to(self.A, (n, p, p)).copy()
        h = np.broadcast_to(self.h, (n, p)).copy()
        drawn = intensity or {}
        for k, e in enumerate(self.compiled.entries):
            if k in drawn:
                h[:, e.column] += drawn[k] * amounts[:, k] - self.intensity[k] * self.amounts[k]
                continue
            if not np.any(delta[:, k]):
                continue
            if self.in_a[k]:
                A[:, e.row, e.column] -= delta[:, k]
            else:
                h[:, e.column] += self.intensity[k] * delta[:, k]
        return A, h

    def at(self, amounts: np.ndarray, intensity: Mapping[int, float] | None = None) -> _Linear:
        """The same model with the entries' amounts set to ``amounts`` (one row), and the
        intensities of the entries in ``intensity`` (entry -> value)."""
        given = intensity or {}
        A, h = self._shifted(amounts[None, :], {k: np.array([v]) for k, v in given.items()})
        lam = self.intensity.copy()
        lam[list(given)] = list(given.values())
        return _Linear(self.compiled, A[0], h[0], self.d, lam, self.in_a, amounts)

    def totals(
        self, amounts: np.ndarray, intensity: Mapping[int, np.ndarray] | None = None
    ) -> np.ndarray:
        """``T`` for ``amounts`` (iterations × entries), each row the entries' amounts, and
        the drawn intensities of database rows (see :meth:`_shifted`)."""
        n, p = amounts.shape[0], self.A.shape[0]
        A, h = self._shifted(amounts, intensity)
        try:
            s = np.linalg.solve(A, np.broadcast_to(self.d, (n, p))[..., None])[..., 0]
        except np.linalg.LinAlgError:
            raise InputError(
                "a sampled system of processes is singular; the uncertainty of an input "
                "between processes is too wide (it reaches the output)"
            ) from None
        totals: np.ndarray = np.einsum("ij,ij->i", h, s)
        return totals

    def gradient(self) -> np.ndarray:
        """``∂T/∂a_e`` per entry at the current amounts."""
        s = np.linalg.solve(self.A, self.d)
        lam = np.linalg.solve(self.A.T, self.h)
        cols = np.array([e.column for e in self.compiled.entries], dtype=int)
        rows = np.array([e.row for e in self.compiled.entries], dtype=int)
        # rows of entries outside A index the background, not lam: read lam only for A's
        upstream = lam[np.where(self.in_a, rows, 0)]
        grad: np.ndarray = np.where(self.in_a, upstream, self.intensity) * s[cols]
        return grad


# -- inputs ---------------------------------------------------------------------------------
def inputs(compiled: CompiledModel) -> dict[str, Distribution]:
    """Every uncertain input of the model by key (exchanges, ``parameter:<name>``, then
    ``factor:<id>`` for factor rows with a distribution)."""
    out = {e.key: e.uncertainty for e in compiled.entries if e.uncertainty is not None}
    out.update({f"parameter:{n}": d for n, d in compiled.parameter_uncertainty.items()})
    out.update({r.key: r.distribution for r in _factor_rows(compiled)})
    return out


@dataclass(frozen=True, slots=True)
class _FactorRow:
    """Entry ``entry`` takes a factor row whose amount ``x0`` of a gas (``c`` kg CO2e per kg)
    has ``distribution``; ``key`` is ``factor:<id>``."""

    entry: int
    key: str
    distribution: Distribution
    c: float
    x0: float


def _factor_rows(compiled: CompiledModel) -> list[_FactorRow]:
    """Entries that take a factor row with a distribution. The background is the identity
    with the rows' amounts in ``B`` (:mod:`openpcf.model.compiler`), so a drawn amount ``x``
    moves the row's intensity by ``c (x − x0)``, and ``∂T/∂x = c Σ_e a_e s[j_e]``."""
    c = characterisation_vector(compiled.gwp, GAS_IDS)
    out = []
    for k, e in enumerate(compiled.entries):
        f = compiled.factors[e.row] if e.kind not in _NOT_FACTORS else None
        if f is not None and f.uncertainty is not None:
            gas = f.uncertainty_gas
            cg = float(c[GAS_IDS.index(gas)])
            out.append(_FactorRow(k, f"factor:{f.id}", f.uncertainty, cg, f.emissions[gas]))
    return out


_NOT_FACTORS = ("process", "process-credit", "emission")


def _stream(seed: int, key: str) -> np.random.Generator:
    words = np.frombuffer(hashlib.sha256(key.encode()).digest()[:16], dtype=np.uint32)
    return np.random.default_rng(
        np.random.SeedSequence(seed, spawn_key=tuple(int(w) for w in words))
    )


class _Draws:
    """Uniforms per input key, in order, from each key's own stream."""

    def __init__(self, seed: int) -> None:
        self.seed = seed
        self.streams: dict[str, np.random.Generator] = {}

    def next(self, keys: list[str], n: int) -> dict[str, np.ndarray]:
        out = {}
        for key in keys:
            if key not in self.streams:
                self.streams[key] = _stream(self.seed, key)
            out[key] = self.streams[key].random(n)
        # the CDF's ends are 0 and 1; an exact 0.0 (probability 2⁻⁵³) would give -inf
        return {k: np.clip(u, 1e-300, 1 - 2**-53) for k, u in out.items()}


def _amounts(model: _Linear, uniforms: Mapping[str, np.ndarray], n: int) -> np.ndarray:
    """Entries' amounts (n × entries): nominal, or drawn for the uncertain ones."""
    entries = model.compiled.entries
    amounts = np.tile([e.amount for e in entries], (n, 1))
    for k, e in enumerate(entries):
        if e.uncertainty is not None:
            amounts[:, k] = e.uncertainty.ppf(uniforms[e.key]) * e.per_written
    return amounts


# -- a model with its databases ------------------------------------------------------------
class Sampler:
    """Totals of one model for given uniforms (recompiling when parameters are uncertain),
    with the intensities of the rows from ``databases`` drawn (module docstring)."""

    def __init__(
        self,
        compiled: CompiledModel,
        recompile: Recompile,
        databases: Sequence[DatabaseSampler] = (),
    ) -> None:
        self.base = _Linear.of(compiled)
        self.recompile = recompile
        by_ref = {d.ref: d for d in databases}
        #: (entry, database, column of its draws)
        self.uses = [
            (k, by_ref[ref], by_ref[ref].column(activity))
            for k, (ref, activity) in database_rows(compiled).items()
            if ref in by_ref
        ]
        self.databases = tuple(dict.fromkeys(d for _, d, _ in self.uses))
        self.factor_rows = _factor_rows(compiled)
        #: every uncertain input by key: the model's own, then its databases' entries
        self.distributions = inputs(compiled)
        for d in self.databases:
            self.distributions.update(d.distributions())
        self.keys = list(self.distributions)

    def totals(
        self,
        uniforms: Mapping[str, np.ndarray],
        n: int,
        drawn: Mapping[DatabaseSampler, np.ndarray] | None = None,
    ) -> np.ndarray:
        """``T`` per draw; ``drawn``: each database's :meth:`DatabaseSampler.draw`."""
        intensity = {k: drawn[d][:, col] for k, d, col in self.uses} if drawn else {}
        for r in self.factor_rows:
            x = r.distribution.ppf(uniforms[r.key])
            intensity[r.entry] = self.base.intensity[r.entry] + r.c * (x - r.x0)
        params = self.base.compiled.parameter_uncertainty
        if not params:
            return self.base.totals(_amounts(self.base, uniforms, n), intensity)
        values = {name: d.ppf(uniforms[f"parameter:{name}"]) for name, d in params.items()}
        out = np.empty(n)
        for i in range(n):
            model = self.variant({name: float(v[i]) for name, v in values.items()})
            row = {k: u[i : i + 1] for k, u in uniforms.items()}
            one = {k: v[i : i + 1] for k, v in (intensity or {}).items()}
            out[i] = model.totals(_amounts(model, row, 1), one)[0]
        return out

    def variant(self, values: Mapping[str, float]) -> _Linear:
        compiled = self.recompile(values)
        base = self.base.compiled.entries
        if [(e.key, e.column, e.row) for e in compiled.entries] != [
            (e.key, e.column, e.row) for e in base
        ]:
            raise InputError(
                f"parameters {dict(values)} change which exchanges the model has (a co-product "
                "switched off?); narrow their parameter_uncertainty"
            )
        return _Linear.of(compiled)


def recompiler(compiled: CompiledModel, overrides: Mapping[str, Value] | None = None) -> Recompile:
    """Compile ``compiled``'s model again with parameters set (and the caller's overrides)."""

    def run(values: Mapping[str, float]) -> CompiledModel:
        return compile_model(
            compiled.loaded,
            factors=compiled.factor_set,
            overrides={**(overrides or {}), **values},
            gwp=compiled.gwp.id,
            resolvers=compiled.resolvers,
            background_electricity=compiled.background_electricity,
        )

    return run


# -- analytic ---------------------------------------------------------------------------------
def _at_means(model: _Linear, intensity: Mapping[int, float]) -> _Linear:
    """``model`` with every uncertain exchange at its mean, and the database rows' entries at
    ``intensity`` (their databases at their means)."""
    means = np.array(
        [
            e.uncertainty.moments()[0] * e.per_written if e.uncertainty else e.amount
            for e in model.compiled.entries
        ]
    )
    return model.at(means, intensity)


def _gradients(sampler: Sampler) -> tuple[float, dict[str, float]]:
    """``E[T]`` to first order (``T`` at the inputs' means) and ``∂T/∂x_k`` per input key;
    a parameter's by central differences, recompiling; a database entry's by the adjoint
    (:meth:`DatabaseSampler.gradient`) with the weights ``w_a = Σ_e a_e s[j_e]``."""
    params = {n: d.moments() for n, d in sampler.base.compiled.parameter_uncertainty.items()}
    means = {n: m for n, (m, _) in params.items()}
    lam = {d: d.mean_intensities() for d in sampler.databases}
    drawn = {k: float(lam[d][col]) for k, d, col in sampler.uses}
    for r in sampler.factor_rows:
        mean = r.distribution.moments()[0]
        drawn[r.entry] = sampler.base.intensity[r.entry] + r.c * (mean - r.x0)
    model = _at_means(sampler.variant(means) if params else sampler.base, drawn)
    s = np.linalg.solve(model.A, model.d)
    mean = float(s @ model.h)
    grad = model.gradient()
    out: dict[str, float] = {}
    for k, e in enumerate(model.compiled.entries):
        if e.uncertainty is not None:
            out[e.key] = out.get(e.key, 0.0) + float(grad[k]) * e.per_written
    for db in sampler.databases:
        w = np.zeros(len(db.activities))
        for k, d, col in sampler.uses:
            if d is db:
                w[col] += model.amounts[k] * s[model.compiled.entries[k].column]
        for key, g in db.gradient(w).items():
            out[key] = out.get(key, 0.0) + g
    for r in sampler.factor_rows:
        weight = model.amounts[r.entry] * s[model.compiled.entries[r.entry].column]
        out[r.key] = out.get(r.key, 0.0) + r.c * weight
    for name, (mu, var) in params.items():
        step = 1e-4 * (math.sqrt(var) or abs(mu) or 1.0)
        up, down = (
            _at_means(sampler.variant({**means, name: mu + sign * step}), drawn) for sign in (1, -1)
        )
        total = [float(np.linalg.solve(m.A, m.d) @ m.h) for m in (up, down)]
        out[f"parameter:{name}"] = (total[0] - total[1]) / (2 * step)
    return mean, out


def analytic(sampler: Sampler) -> Analytic:
    """First-order propagation (module docstring)."""
    base = sampler.base
    deterministic = float(np.linalg.solve(base.A, base.d) @ base.h)
    mean, grads = _gradients(sampler)
    every, own = sampler.distributions, inputs(base.compiled)
    # a database entry outside the supply chain the model uses (s_j = 0) is not listed
    per_key = {k: v for k, g in grads.items() if (v := g**2 * every[k].moments()[1]) or k in own}
    total = sum(per_key.values())
    sd = math.sqrt(total)
    return Analytic(
        deterministic=deterministic,
        mean=mean,
        sd=sd,
        p2_5=mean - Z95 * sd,
        p97_5=mean + Z95 * sd,
        contributions={k: (v / total if total else 0.0) for k, v in per_key.items()},
    )


def analytic_comparison(a: Sampler, b: Sampler) -> float:
    """P(T_A < T_B) to first order: a normal difference, shared inputs counted once."""
    mean_a, ga = _gradients(a)
    mean_b, gb = _gradients(b)
    every = {**a.distributions, **b.distributions}
    var = sum((ga.get(k, 0.0) - gb.get(k, 0.0)) ** 2 * d.moments()[1] for k, d in every.items())
    gap = mean_b - mean_a
    if var == 0.0:
        return 1.0 if gap > 0 else 0.0
    return float(ndtr(gap / math.sqrt(var)))


# -- Monte Carlo ------------------------------------------------------------------------------
def new_seed() -> int:
    """A fresh 128-bit seed from the operating system (stored with the result)."""
    return int(np.random.SeedSequence().entropy)  # type: ignore[arg-type]


def run(
    samplers: list[Sampler],
    *,
    seed: int,
    tolerance: float = 0.01,
    max_iterations: int = 100_000,
    batch: int = BATCH,
) -> tuple[list[np.ndarray], bool]:
    """Totals of each model, same uniforms for shared keys, until converged (module
    docstring): one array per model, all of the same length, and whether they converged."""
    if not tolerance > 0 or max_iterations < 1:
        raise InputError("tolerance must be > 0 and the maximum of iterations >= 1")
    databases = list(dict.fromkeys(d for s in samplers for d in s.databases))
    # a database's entries are drawn from its own stream (one per ref, so two samplers of the
    # same database draw the same values), not one stream per entry
    sampled = {k for d in databases for k in d.keys}
    keys = list(dict.fromkeys(k for s in samplers for k in s.keys if k not in sampled))
    streams = {d: _stream(seed, f"database:{d.ref}") for d in databases}
    draws = _Draws(seed)
    chunks: list[list[np.ndarray]] = [[] for _ in samplers]
    done, ok = 0, False
    while done < max_iterations and not ok:
        n = min(batch, max_iterations - done)
        uniforms = draws.next(keys, n)
        drawn = {d: d.draw_from(streams[d], n) for d in databases}
        for sampler, out in zip(samplers, chunks, strict=True):
            out.append(sampler.totals(uniforms, n, drawn))
        done += n
        ok = len(chunks[0]) >= MIN_BATCHES and all(converged(c, tolerance) for c in chunks)
    return [np.concatenate(c) for c in chunks], ok


def converged(batches: list[np.ndarray], tolerance: float) -> bool:
    """Whether the mean and the 2.5/97.5 percentiles are known to ``tolerance`` (relative)."""
    x = np.concatenate(batches)
    scale = abs(float(x.mean()))
    if scale == 0.0:
        return bool(np.all(x == 0.0))
    rse = float(x.std(ddof=1)) / math.sqrt(len(x)) / scale
    ends = np.array([np.percentile(b, [2.5, 97.5]) for b in batches])
    rse_ends = float(ends.std(axis=0, ddof=1).max()) / math.sqrt(len(batches)) / scale
    return rse <= tolerance and rse_ends <= tolerance


def summary(samples: np.ndarray, *, seed: int, tolerance: float, converged_: bool) -> MonteCarlo:
    """Statistics of one model's totals."""
    counts, edges = np.histogram(samples, bins=HISTOGRAM_BINS)
    sd = float(samples.std(ddof=1)) if len(samples) > 1 else 0.0
    return MonteCarlo(
        seed=seed,
        iterations=len(samples),
        converged=converged_,
        tolerance=tolerance,
        mean=float(samples.mean()),
        sd=sd,
        standard_error=sd / math.sqrt(len(samples)),
        percentiles={f"{q:g}": float(np.percentile(samples, q)) for q in PERCENTILES},
        histogram_edges=tuple(float(x) for x in edges),
        histogram_counts=tuple(int(c) for c in counts),
        samples=samples,
    )
