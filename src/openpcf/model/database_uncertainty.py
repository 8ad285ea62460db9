"""The stored distributions of imported databases: drawn for Monte Carlo, differentiated for
the analytic first-order propagation (:mod:`openpcf.model.montecarlo`).

A database (literature names ``A``, ``B``, ``c``; stored, or linked into a model and perhaps
re-pointed, :mod:`openpcf.model.background`) gives the model the cradle-to-gate intensities
``λ = A⁻ᵀ Bᵀ c`` of the activities it uses. The model's total depends on them through
``T = Σ_a w_a λ_a`` with ``w_a = Σ_e a_e s_f[j_e]``: the amounts of the model's exchanges ``e``
that take activity ``a``, times the scaling of their foreground process. So the database's part
is ``wᵀ A⁻ᵀ Bᵀ c = cᵀ B A⁻¹ w``: with its supply ``s = A⁻¹ w`` and ``λ`` (one solve each, both
with the database's matrices at the distributions' means),

- ``∂T/∂a_ij = −λ_i s_j`` for an entry of ``A`` (``∂A⁻¹ = −A⁻¹ ∂A A⁻¹``),
- ``∂T/∂b_kj = c_k s_j`` for an entry of ``B``,

and each entry adds ``(∂T/∂x)² Var[x]`` to the variance, as the model's own amounts do (for a
lognormal the exact ``Var[x] = exp(2μ+σ²)(exp(σ²)−1)``, from :meth:`Distribution.moments`).

A case worked by hand (``tests/test_uncertainty_linked.py``): a product takes ``w`` MJ of a grid
process that makes ``a`` MJ per unit (``A_gg = a``) and emits ``X`` kg CO2 (``B_CO2,g = X``).
Then ``λ_g = X / a``, ``s_g = w / a`` and ``T = T₀ + w X / a``, so ``∂T/∂a = −w X / a² = −λ_g
s_g`` and ``∂T/∂X = w / a = c_CO2 s_g``: the formulas above, exactly. With ``w = 16.0625``,
``a = 3.6``, ``X = 0.36``: ``∂T/∂a = −0.446181`` and ``∂T/∂X = 4.461806``.

Placement (a linked database). A stored distribution names its entry by the stored matrices'
``(row, col)``. A linked database's ``B`` has its rows in OpenPCF gas order, and a re-pointed
one (``background_electricity:``) has each electricity input ``A[e, j]`` moved, times the unit
conversion ``f`` of the producer ``e`` into the supply's unit, onto the supply's row ``r``
(``A'[r, j] = Σ_e f_e A[e, j]``). Every stored entry therefore lands on one position of the
system as solved, with a factor (1, or ``f_e``); a draw replaces the entry's nominal value
``x₀`` there by ``f (x − x₀)`` added, so the re-pointed system is what is sampled, with the
same draws (the same keys) as the stored one, and the gradient of a stored entry is ``f`` times
that of its position.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from scipy.special import ndtri

from openpcf.core.gpu import DeviceSampledSystems
from openpcf.core.solver import (
    ITERATIVE_TOL,
    SAMPLED_MAX_FAILURES,
    SAMPLED_RESIDUAL_FACTOR,
    Backend,
    Factorisation,
    SampledSystems,
)
from openpcf.core.system import MatrixSystem
from openpcf.core.uncertainty import (
    LOGNORMAL,
    NO_UNCERTAINTY,
    NORMAL,
    TRIANGULAR,
    UNIFORM,
    Distribution,
)
from openpcf.core.units import conversion_factor
from openpcf.errors import InputError, OpenPCFError
from openpcf.io.store import StoredVersion
from openpcf.io.uncertainty import MatrixUncertainty
from openpcf.methods.gwp import characterisation_vector
from openpcf.model.background import LinkedBackground, StoredUncertainty
from openpcf.model.compiler import CompiledModel

#: Draws whose uniforms :meth:`DatabaseSampler.draw` gathers from the keys' arrays at once.
_CHUNK = 64

#: Entries drawn per draw from which :meth:`DatabaseSampler.draw_from` draws the next draw in a
#: worker thread while this one is solved. Handing a draw between threads costs 0.1–0.5 ms
#: on the 2-core development machine: on USLCI-sized draws (a few hundred entries, 0.5 ms a
#: draw) that halved the rate; drawing 100,000 lognormals takes about 1 ms.
_PIPELINE_MIN_ENTRIES = 100_000
#: ... and the relative residual to which the worker solves the next draw from ``λ`` at the
#: means (:meth:`SampledSystems.presolve`) before this thread finishes it.
_PRESOLVE_RTOL = 1e-3

#: A stored entry ``(row, col)`` moved to ``(row', factor)`` of the system as solved.
Moves = Mapping[tuple[int, int], tuple[int, float]]


def stored_uncertainty(stored: StoredVersion) -> StoredUncertainty | None:
    """The distributions of a stored version with the gases its ``B`` rows name; None when
    it stores none (:meth:`StoredVersion.uncertainty`)."""
    params = stored.uncertainty()
    if params is None or not params.any():
        return None
    return StoredUncertainty(params=params, flows=tuple(stored.meta["gases"]))


def database_rows(compiled: CompiledModel) -> dict[int, tuple[str, str]]:
    """Entries that draw on an imported database's activity: entry index -> (``name@version``,
    activity id), from the factor ids ``"<name>@<version>:<activity id>"`` that
    ``background:`` inputs resolve to (linked or precomputed)."""
    out: dict[int, tuple[str, str]] = {}
    for k, e in enumerate(compiled.entries):
        if e.kind in ("process", "process-credit", "emission"):
            continue
        factor = compiled.factors[e.row]
        ref = factor.set_name or ""
        if "@" in ref and factor.id.startswith(ref + ":"):
            out[k] = (ref, factor.id[len(ref) + 1 :])
    return out


def _canonical(matrix: sp.sparray) -> sp.csc_array:
    out = sp.csc_array(matrix, dtype=np.float64, copy=True)
    out.sum_duplicates()  # sorted indices: positions follow (col, row)
    return out


def _positions(matrix: sp.csc_array, rows: np.ndarray, cols: np.ndarray) -> np.ndarray | None:
    """Positions in ``matrix.data`` (canonical CSC) of the entries ``(rows, cols)``; None when
    one of them is not stored."""
    n = matrix.shape[0]
    have = np.repeat(np.arange(matrix.shape[1]), np.diff(matrix.indptr)) * n + matrix.indices
    want = cols.astype(np.int64) * n + rows.astype(np.int64)
    pos: np.ndarray = np.minimum(np.searchsorted(have, want), max(len(have) - 1, 0))
    if len(want) and (not len(have) or np.any(have[pos] != want)):
        return None
    return pos


@dataclass(frozen=True, slots=True)
class _Placed:
    """The uncertain entries of one matrix as placed in the system as solved."""

    positions: np.ndarray  # in the solved matrix's data
    factors: np.ndarray  # f of each entry (1 unless moved)
    nominal: np.ndarray  # the entries' own values x₀
    params: np.ndarray  # their stats_arrays rows (PARAMS_DTYPE)
    keys: list[str]
    direct: bool  # one entry per position, f = 1: a draw is written in place

    @property
    def dists(self) -> list[Distribution]:
        return [
            Distribution(
                uncertainty_type=int(p["uncertainty_type"]),
                loc=float(p["loc"]),
                scale=float(p["scale"]),
                shape=float(p["shape"]),
                minimum=float(p["minimum"]),
                maximum=float(p["maximum"]),
                negative=bool(p["negative"]),
            )
            for p in self.params
        ]

    def apply(self, data: np.ndarray, x: np.ndarray, chosen: np.ndarray | None = None) -> None:
        """Write the drawn values ``x`` of the entries ``chosen`` (all by default) into
        ``data`` (a copy of the solved matrix's data; see the module docstring)."""
        positions = self.positions if chosen is None else self.positions[chosen]
        if self.direct:
            data[positions] = x
            return
        factors = self.factors if chosen is None else self.factors[chosen]
        nominal = self.nominal if chosen is None else self.nominal[chosen]
        np.add.at(data, positions, factors * (x - nominal))

    def values(self, data: np.ndarray, x: np.ndarray) -> np.ndarray:
        """The solved matrix's data per row of ``x`` (draws × entries)."""
        out = np.tile(data, (x.shape[0], 1))
        for row, drawn in zip(out, x, strict=True):
            self.apply(row, drawn)
        return out


class Drawer:
    """The rows of a stats_arrays parameter array grouped by distribution type once, to draw
    all of them at once: :meth:`ppf` at given uniforms (the formulas of
    :meth:`Distribution.ppf`, so the same uniforms give the same values) or :meth:`sample`
    from a generator.

    Design note: :meth:`sample` uses numpy's direct generators (``standard_normal`` for the
    lognormal and normal, ``random`` for the uniform and, through the inverse CDF, the
    triangular) rather than the inverse CDF of uniforms: on the 20,000-activity synthetic
    background (263,195 lognormals, ``bench/engine.py`` row f) ``ndtri`` of 173,000 uniforms
    took 5.5 ms against 3.7 ms for as many standard normals and 1.8 ms for the uniforms
    themselves, the largest cost of a draw after the solve. The values are the same
    distributions, not the same numbers as :meth:`ppf` of ``random`` uniforms.
    """

    def __init__(self, params: np.ndarray) -> None:
        kind = params["uncertainty_type"]
        self.size = len(params)
        self.fixed = np.asarray(params["loc"], dtype=np.float64).copy()
        self.groups: list[tuple[int, slice | np.ndarray, dict[str, np.ndarray]]] = []
        for t in np.unique(kind).tolist():
            if t not in (LOGNORMAL, NORMAL, UNIFORM, TRIANGULAR):
                continue  # as Distribution.ppf: the amount (loc)
            pick = np.flatnonzero(kind == t)
            where: slice | np.ndarray = slice(None) if pick.size == self.size else pick
            fields = {
                name: np.ascontiguousarray(params[name][where], dtype=np.float64)
                for name in ("loc", "scale", "minimum", "maximum")
            }
            fields["sign"] = np.where(params["negative"][where], -1.0, 1.0)
            self.groups.append((t, where, fields))

    def ppf(self, u: np.ndarray) -> np.ndarray:
        """Values at the quantiles ``u`` (the last axis runs over the rows)."""
        out = np.broadcast_to(self.fixed, u.shape).copy()
        for t, where, p in self.groups:
            q = u[..., where]
            if t in (LOGNORMAL, NORMAL):
                out[..., where] = self._normal(t, p, ndtri(q))
            else:
                out[..., where] = self._linear(t, p, q)
        return out

    def sample(
        self, rng: np.random.Generator, n: int | None = None, *, out: np.ndarray | None = None
    ) -> np.ndarray:
        """One value per row (``n`` of them: ``n`` × rows) from ``rng``'s direct generators
        (class docstring), written into ``out`` when given (a draw of hundreds of thousands
        of entries then allocates nothing: fresh large arrays cost page faults each time)."""
        shape: tuple[int, ...] = () if n is None else (n,)
        if out is None:
            out = np.empty((*shape, self.size))
        if len(self.groups) == 1 and isinstance(self.groups[0][1], slice):
            t, _, p = self.groups[0]  # one type for every row: no gathering
            if t in (LOGNORMAL, NORMAL):
                return self._normal(t, p, rng.standard_normal(out.shape, out=out))
            out[...] = self._linear(t, p, rng.random(out.shape))
            return out
        out[...] = self.fixed
        for t, where, p in self.groups:
            k = (*shape, p["loc"].size)
            if t in (LOGNORMAL, NORMAL):
                out[..., where] = self._normal(t, p, rng.standard_normal(k))
            else:
                out[..., where] = self._linear(t, p, rng.random(k))
        return out

    @staticmethod
    def _normal(t: int, p: dict[str, np.ndarray], z: np.ndarray) -> np.ndarray:
        z *= p["scale"]
        z += p["loc"]
        if t == LOGNORMAL:
            np.exp(z, out=z)
            z *= p["sign"]
        return z

    @staticmethod
    def _linear(t: int, p: dict[str, np.ndarray], q: np.ndarray) -> np.ndarray:
        a, b = p["minimum"], p["maximum"]
        if t == UNIFORM:
            return np.asarray(a + (b - a) * q)
        c = p["loc"]
        below = a + np.sqrt(q * (b - a) * (c - a))
        above = b - np.sqrt((1 - q) * (b - a) * (b - c))
        out: np.ndarray = np.where(q < (c - a) / (b - a), below, above)
        return out


def quantiles(params: np.ndarray, u: np.ndarray) -> np.ndarray:
    """The inverse CDF of each stats_arrays row of ``params`` at the quantiles ``u`` (the last
    axis runs over the rows): :meth:`Drawer.ppf`."""
    return Drawer(params).ppf(u)


def means(params: np.ndarray) -> np.ndarray:
    """The mean of each stats_arrays row of ``params`` (:meth:`Distribution.moments`,
    vectorised)."""
    kind = params["uncertainty_type"]
    loc, scale = params["loc"], params["scale"]
    low, high = params["minimum"], params["maximum"]
    lognormal = np.exp(loc + scale**2 / 2) * np.where(params["negative"], -1.0, 1.0)
    out = np.select(
        [kind == LOGNORMAL, kind == UNIFORM, kind == TRIANGULAR],
        [lognormal, (low + high) / 2, (low + high + loc) / 3],
        default=loc,
    )
    return np.asarray(out, dtype=np.float64)


def _place(
    params: np.ndarray,
    source: sp.csc_array,
    target: sp.csc_array,
    *,
    name: str,
    ref: str,
    rows: np.ndarray | None = None,
    moves: Moves | None = None,
) -> _Placed:
    """Place the stored distributions ``params`` of matrix ``name``: ``rows`` maps a stored row
    to the ``source``'s (the system before re-pointing), ``moves`` the entries moved into
    ``target`` (the system as solved); see the module docstring."""
    chosen = params[params["uncertainty_type"] > NO_UNCERTAINTY]
    r = np.asarray(chosen["row"], dtype=np.int64)
    r = r if rows is None else rows[r]
    c = np.asarray(chosen["col"], dtype=np.int64)
    at_source = _positions(source, r, c)
    new_rows, factors = r.copy(), np.ones(len(r))
    if moves:
        for k, (i, j) in enumerate(zip(r.tolist(), c.tolist(), strict=True)):
            new_rows[k], factors[k] = moves.get((i, j), (i, 1.0))
    at_target = _positions(target, new_rows, c)
    if at_source is None or at_target is None:
        raise InputError(
            f"the stored uncertainty of {ref} does not line up with its {name} matrix "
            f"(uncertainty.npz against {name}.npz); import the database again"
        )
    keys = [
        f"db:{ref}:{name}:{i}:{j}"
        for i, j in zip(chosen["row"].tolist(), chosen["col"].tolist(), strict=True)
    ]
    direct = bool(np.all(factors == 1.0)) and np.unique(at_target).size == at_target.size
    return _Placed(at_target, factors, source.data[at_source], chosen.copy(), keys, direct)


@dataclass(frozen=True, slots=True)
class _AtMeans:
    """A database at its distributions' means: the factors of ``A``, ``B`` and ``λ``."""

    fact: Factorisation
    A: sp.csc_array
    B: sp.csc_array
    lam: np.ndarray


class DatabaseSampler:
    """Drawn intensities ``λ = A⁻ᵀ Bᵀ c`` of one database (module docstring), for the activities
    the models use; shared by the models of one run (common random numbers).

    ``params`` describe the stored matrices; ``system`` is the system as solved: the stored one
    (the default), or a linked one, with ``stored_flows`` the gases the stored ``B`` rows name,
    and ``original`` and ``moves`` what re-pointing did (:func:`linked_samplers`).

    A draw turns one uniform per entry into its value by the inverse CDF, vectorised per
    distribution type (:func:`quantiles`), or draws the values from a generator
    (:meth:`draw_from`), and solves ``Aᵀ λ = Bᵀ c`` for it by BiCGSTAB with the Jacobi
    preconditioner of ``A`` at the means, started from ``λ`` at the means, checked by its
    residual (``tolerance``) and falling back to LU
    (:class:`~openpcf.core.solver.SampledSystems`; ``backend="gpu"``: the same on a CUDA
    device, :class:`~openpcf.core.gpu.DeviceSampledSystems`; ``backend="superlu"``: LU for
    every draw).
    Only the entries of ``B`` in a row that ``c`` characterises move ``λ``; the others are not
    drawn. Draws are made one at a time, so memory stays at a few copies of the matrices'
    values whatever the batch size.

    Design note, the start: ``λ`` at the means rather than the previous draw's. A draw is
    about as far from the means as σ puts it, and twice as far (in variance) from another
    draw: on ``bench/engine.py`` row f the relative residual of the start is 0.10 from the
    means against 0.16 from the previous draw, and a draw takes 7 iterations instead of 8.
    Each draw then depends only on its own values, not on the order of the draws.
    """

    def __init__(
        self,
        ref: str,
        system: MatrixSystem,
        params: MatrixUncertainty,
        c: np.ndarray,
        activities: Sequence[str],
        *,
        backend: Backend = "iterative",
        tolerance: float = ITERATIVE_TOL / 10,
        stored_flows: Sequence[str] | None = None,
        original: MatrixSystem | None = None,
        moves: Moves | None = None,
    ) -> None:
        self.ref = ref
        self.system = system
        self.A = _canonical(system.A)
        self.B = _canonical(system.B)
        source_a = self.A if original is None else _canonical(original.A)
        source_b = self.B if original is None else _canonical(original.B)
        rows = None
        if stored_flows is not None:
            flows = {f: i for i, f in enumerate(system.flows)}
            rows = np.array([flows[f] for f in stored_flows], dtype=np.int64)
        self._a = _place(params.A, source_a, self.A, name="A", ref=ref, moves=moves)
        self._b = _place(params.B, source_b, self.B, name="B", ref=ref, rows=rows)
        self.keys = self._a.keys + self._b.keys
        self.c = np.asarray(c, dtype=np.float64)
        # the B entries that move λ (their row is characterised), with c of their row and
        # the column their change adds to Bᵀ c
        flows_of_b = self.B.indices[self._b.positions]
        self._b_active = np.flatnonzero(self.c[flows_of_b] != 0.0)
        self._b_c = self.c[flows_of_b[self._b_active]]
        b_cols = np.repeat(np.arange(self.B.shape[1]), np.diff(self.B.indptr))
        self._b_cols = b_cols[self._b.positions[self._b_active]]
        self._draw_a = Drawer(self._a.params)
        self._draw_b = Drawer(self._b.params[self._b_active])
        self._b_nominal = self.B.data[self._b.positions[self._b_active]]
        self._r0 = np.asarray(self.B.T @ self.c)
        index = {a: i for i, a in enumerate(system.activities)}
        missing = [a for a in activities if a not in index]
        if missing:
            raise InputError(f"{ref} has no activity {missing[0]!r}; import it again")
        self.activities = tuple(activities)
        self.columns = np.array([index[a] for a in activities], dtype=int)
        self.backend: Backend = backend
        self.tolerance = tolerance
        self.repointed = bool(moves)
        self.seconds = 0.0
        #: BiCGSTAB iterations of the draws' starts made by :meth:`draw_from`'s worker
        self.presolve_iterations = 0
        self._systems: SampledSystems | DeviceSampledSystems | None = None
        self._means: _AtMeans | None = None

    @property
    def entries(self) -> int:
        """Entries of ``A`` and ``B`` that have a distribution (each draw samples them)."""
        return len(self.keys)

    def distributions(self) -> dict[str, Distribution]:
        """Every sampled entry's distribution by its key."""
        return dict(zip(self.keys, self._a.dists + self._b.dists, strict=True))

    def column(self, activity: str) -> int:
        return self.activities.index(activity)

    # -- drawing ------------------------------------------------------------------------
    def draw(self, uniforms: Mapping[str, np.ndarray], n: int) -> np.ndarray:
        """Intensities of :attr:`activities` per draw (n × activities), from one array of
        ``n`` uniforms per entry's key."""
        a_keys = self._a.keys
        b_keys = [self._b.keys[k] for k in self._b_active.tolist()]
        out = np.empty((n, len(self.columns)))
        data = self.A.data.copy()
        for start in range(0, n, _CHUNK):
            stop = min(start + _CHUNK, n)
            u_a = np.array([uniforms[k][start:stop] for k in a_keys]).reshape(-1, stop - start)
            u_b = np.array([uniforms[k][start:stop] for k in b_keys]).reshape(-1, stop - start)
            x_a, x_b = self._draw_a.ppf(u_a.T), self._draw_b.ppf(u_b.T)
            for i in range(stop - start):
                out[start + i] = self._solve(*self._system(x_a[i], x_b[i], data))
        return out

    def draw_from(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """As :meth:`draw`, with the values drawn from ``rng`` by :meth:`Drawer.sample` (per
        draw the ``A`` entries, then the ``B`` entries that move ``λ``): the same seed gives
        the same draws.

        Design note: from :data:`_PIPELINE_MIN_ENTRIES` entries drawn per draw, one worker
        thread draws and places draw ``i + 1`` (into the other of two buffers) and solves it
        from ``λ`` at the means to a relative residual of :data:`_PRESOLVE_RTOL`
        (:meth:`SampledSystems.presolve`) while this thread finishes draw ``i`` to
        ``tolerance`` and checks it: numpy's generators, its ufuncs and scipy's sparse
        products release the GIL, so the two share two cores. On ``bench/engine.py`` row f
        (2-core development machine, load average below 1) that made 98 draws/s one after the
        other, 130 with the drawing in the worker and 140–150 with the first 2 of the 7
        iterations there too; the threads' Python steps, which hold the GIL, keep it from
        the 200 that the split of the work would allow. Only the worker touches ``rng``, in
        the order of the draws, so the values are those of drawing one after the other, and a
        draw's answer does not depend on the draws before it (``tests/test_sampled_draws.py``).
        """
        out = np.empty((n, len(self.columns)))
        slots = [(np.empty(self._draw_a.size), self.A.data.copy()) for _ in range(2)]
        staged = self._draw_a.size + self._draw_b.size >= _PIPELINE_MIN_ENTRIES
        systems = self._sampled()

        def prepare(i: int) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
            x_a, buffer = slots[i % 2]
            data, r = self._system(
                self._draw_a.sample(rng, out=x_a), self._draw_b.sample(rng), buffer
            )
            if not staged:
                return data, r, None
            x0, count = systems.presolve(data, r, _PRESOLVE_RTOL)
            self.presolve_iterations += count
            return data, r, x0

        if not staged or n < 2:
            for i in range(n):
                out[i] = self._solve(*prepare(i))
            return out
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="openpcf-draws") as worker:
            ahead = worker.submit(prepare, 0)
            for i in range(n):
                data, r, x0 = ahead.result()
                if i + 1 < n:  # into the slot of draw i - 1, solved by now
                    ahead = worker.submit(prepare, i + 1)
                out[i] = self._solve(data, r, x0)
        return out

    def _system(
        self, x_a: np.ndarray, x_b: np.ndarray, data: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """The drawn system: ``A``'s values (the solved matrix's canonical order, written
        into ``data``) with the drawn values ``x_a`` of its entries, and ``r = Bᵀ c`` with
        the drawn values ``x_b`` of the ``B`` entries that move ``λ``."""
        # direct: every draw overwrites the same positions of a buffer made from A's values;
        # else the moved entries add their change to A's values
        if not self._a.direct:
            np.copyto(data, self.A.data)
        self._a.apply(data, x_a)
        change = (x_b - self._b_nominal) * self._b_c
        r = self._r0 + np.bincount(self._b_cols, weights=change, minlength=self._r0.size)
        return data, r

    def _solve(self, data: np.ndarray, r: np.ndarray, x0: np.ndarray | None = None) -> np.ndarray:
        """``λ`` of :attr:`activities` for a drawn system (:meth:`_system`), from ``x0`` when
        given (:meth:`SampledSystems.presolve`)."""
        start = time.perf_counter()
        try:
            lam = self._sampled().solve_transposed(data, r, x0=x0)
        except OpenPCFError as e:
            raise self._too_wide(e) from None
        self.seconds += time.perf_counter() - start
        out: np.ndarray = lam[self.columns]
        return out

    def _sampled(self) -> SampledSystems | DeviceSampledSystems:
        """The draws' solver, with ``A`` at the means as its reference: BiCGSTAB on the
        CPU (``backend="iterative"``), on the device (``"gpu"``:
        :class:`~openpcf.core.gpu.DeviceSampledSystems`, LU on the host when it fails), or
        LU for every draw."""
        if self._systems is None:
            try:
                point = self._at_means()
                systems = SampledSystems(
                    point.A,
                    labels=self.system.activities,
                    tolerance=self.tolerance,
                    iterative=self.backend == "iterative",
                    start=point.lam,
                )
                self._systems = (
                    DeviceSampledSystems(
                        systems,
                        accepted=SAMPLED_RESIDUAL_FACTOR * self.tolerance,
                        max_failures=SAMPLED_MAX_FAILURES,
                        start=point.lam,
                    )
                    if self.backend == "gpu"
                    else systems
                )
            except OpenPCFError as e:
                raise self._too_wide(e) from None
        return self._systems

    # -- analytic -----------------------------------------------------------------------
    def _at_means(self) -> _AtMeans:
        """``A``, ``B`` with every entry at its mean, factorised once, and their ``λ``."""
        if self._means is None:
            matrices = []
            for placed, matrix in ((self._a, self.A), (self._b, self.B)):
                data = matrix.data.copy()
                placed.apply(data, means(placed.params))
                matrices.append(sp.csc_array((data, matrix.indices, matrix.indptr), matrix.shape))
            A, B = matrices
            fact = self._factorise(A)
            lam = fact.solve_transposed(np.asarray(B.T @ self.c))
            self._means = _AtMeans(fact, A, B, lam)
        return self._means

    def mean_intensities(self) -> np.ndarray:
        """``λ`` of :attr:`activities` with every entry at its mean."""
        lam: np.ndarray = self._at_means().lam[self.columns]
        return lam

    def gradient(self, weights: np.ndarray) -> dict[str, float]:
        """``∂T/∂x`` of each entry's key at the means for ``T = Σ_a w_a λ_a`` (``weights`` per
        :attr:`activities`): ``−λ_i s_j`` in ``A``, ``c_k s_j`` in ``B``, ``s = A⁻¹ w``
        (module docstring)."""
        point = self._at_means()
        w = np.zeros(self.A.shape[0])
        np.add.at(w, self.columns, weights)
        s = point.fact.solve(w)
        out: dict[str, float] = {}
        for placed, matrix, row_value in (
            (self._a, self.A, -point.lam),
            (self._b, self.B, self.c),
        ):
            cols = np.repeat(np.arange(matrix.shape[1]), np.diff(matrix.indptr))
            p = placed.positions
            grad = placed.factors * row_value[matrix.indices[p]] * s[cols[p]]
            out.update(zip(placed.keys, (float(g) for g in grad), strict=True))
        return out

    # -- solving ------------------------------------------------------------------------
    def _factorise(self, A: sp.csc_array) -> Factorisation:
        try:
            return Factorisation(A, labels=self.system.activities, backend=self.backend)
        except OpenPCFError as e:
            raise self._too_wide(e) from None

    def _too_wide(self, e: OpenPCFError) -> InputError:
        return InputError(
            f"a sampled system of {self.ref} cannot be solved ({e}); its stored "
            "distributions are too wide (openpcf uncertainty --no-background leaves it out)"
        )

    @property
    def solves(self) -> int:
        return self._systems.solves if self._systems else 0

    @property
    def iterative_solves(self) -> int:
        return self._systems.iterative_solves if self._systems else 0

    @property
    def fallback(self) -> str:
        """Why a draw went from BiCGSTAB to LU (the last such reason); empty when none did."""
        return self._systems.fallback if self._systems else ""

    def describe(self) -> str:
        """How the draws were solved, and how fast."""
        rate = f"{self.solves / self.seconds:.0f} draws/s" if self.seconds else "no draws"
        parts = []
        systems = self._systems
        if systems is not None and systems.iterative_solves:
            mean = (systems.iterations + self.presolve_iterations) / systems.iterative_solves
            ahead = self.presolve_iterations / systems.iterative_solves
            by_worker = f", {ahead:.1f} of them by the worker thread" if ahead else ""
            on = f" on {systems.device}" if isinstance(systems, DeviceSampledSystems) else ""
            parts.append(
                f"{systems.iterative_solves} by warm-started BiCGSTAB{on} (from λ at the means, "
                f"{mean:.1f} iterations each{by_worker}, asked for a relative residual of "
                f"{systems.tolerance:.0e})"
            )
        lu = self.solves - self.iterative_solves
        if lu:
            why = f" (BiCGSTAB did not converge: {self.fallback})" if self.fallback else ""
            parts.append(f"{lu} by a SuperLU factorisation per draw{why}")
        if self.repointed:
            parts.append("its electricity re-pointed as the model asks")
        return f"{'; '.join(parts) or 'none solved'}; {rate}"


def linked_samplers(
    compiled: CompiledModel, *, backend: Backend = "iterative"
) -> list[DatabaseSampler]:
    """A :class:`DatabaseSampler` for each database the model is linked into that stores
    distributions, on the system as linked (re-pointed electricity included), its draws
    solved by ``backend``."""
    linked = compiled.linked
    if linked is None:
        return []
    used: dict[str, dict[str, None]] = {}
    for ref, activity in database_rows(compiled).values():
        used.setdefault(ref, {})[activity] = None
    out = []
    for d, db in enumerate(linked.databases):
        if db.uncertainty is None or db.ref not in used:
            continue
        c = characterisation_vector(compiled.gwp, db.system.flows)
        sampler = DatabaseSampler(
            db.ref,
            db.system,
            db.uncertainty.params,
            c,
            list(used[db.ref]),
            stored_flows=db.uncertainty.flows,
            original=linked.original[d],
            moves=_moves(linked, d),
            backend=backend,
        )
        out.append(sampler)
    return out


def _moves(linked: LinkedBackground, d: int) -> dict[tuple[int, int], tuple[int, float]]:
    """The electricity inputs of database ``d`` that re-pointing moved onto the supply's row,
    with the conversion from each producer's unit into the supply's."""
    supply = linked.supply_index(d)
    if supply is None or linked.supply is None:
        return {}
    units = linked.databases[d].units
    unit = linked.supply.unit
    return {
        (e, r.activity): (supply, conversion_factor(units[e], unit))
        for r in linked.repointed
        if r.database == d
        for e in r.replaced
    }
