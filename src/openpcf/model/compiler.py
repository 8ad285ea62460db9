"""Compile a product model into a layered matrix system.

Each process becomes one foreground column per product it carries burdens for: one column
when it has a single output or uses substitution, one per output when it is allocated. Inputs
from other processes land in ``A_ff``, inputs from background factors (by id, by grid region
and year, or from a supplier's PACT footprint) in ``A_bf``, direct emissions in ``B_f``. Every
amount is converted into the reference unit of what it refers to; every matrix entry keeps a
record of the exchange it came from (:class:`Entry`), which is how results are traced back to
the model file's lines.

With ``background_linking: linked`` (or ``background_electricity:``) a ``background:`` input's
row draws on its database's activity through ``A_lb`` instead of carrying the stored figure,
and the databases go into the system as linked layers (:mod:`openpcf.model.background`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import scipy.sparse as sp

from openpcf.core.allocation import allocation_shares
from openpcf.core.engine import LayeredSystem
from openpcf.core.quality import Pedigree
from openpcf.core.system import MatrixSystem
from openpcf.core.uncertainty import Distribution
from openpcf.core.units import conversion_factor, normalise, same_dimension
from openpcf.errors import (
    AllocationError,
    InputError,
    ModelFileError,
    OpenPCFError,
    UnitError,
    UnknownProcessError,
    located,
)
from openpcf.factors import Factor, FactorSet, GridChoice, grid_electricity
from openpcf.methods.gases import GAS_IDS
from openpcf.methods.gwp import GWPSet, gwp_set
from openpcf.model import parameters
from openpcf.model.background import (
    BackgroundDatabase,
    BackgroundDatabaseResolver,
    Link,
    LinkedBackground,
    Repointed,
    electricity_producers,
    link_matrix,
    repoint,
)
from openpcf.model.loading import LoadedModel
from openpcf.model.schema import (
    BOUNDARY_STAGES,
    BackgroundElectricity,
    Emission,
    Input,
    Output,
    Process,
    ProductModel,
    Recycled,
    Uncertainty,
)

GAS_INDEX = {g: i for i, g in enumerate(GAS_IDS)}
#: label of the end-of-life recycling credit of a ``recycled:`` block
CREDIT = "end-of-life recycling credit"
#: what the 50-50 and cff methods leave out of the Circular Footprint Formula
NOT_MODELLED = "the CFF's energy-recovery and disposal terms are not modelled"
#: Turns ``"<database>[@version]:<process>"`` into the process's cradle-to-gate factor.
BackgroundResolver = Callable[[str], Factor]


@dataclass(frozen=True, slots=True, kw_only=True)
class StatedFactor(Factor):
    """A factor row plus what its provider states about the data behind it.

    A supplier's PACT footprint states the share of primary data in its PCF, its data quality
    ratings and how much of its CO2e is biogenic non-CO2 (the ``CO2e`` flow counts as fossil).
    The compiler gives the input these unless the model's input sets ``primary:`` or
    ``quality:`` itself; the result moves the biogenic part from fossil to biogenic. It is a
    :class:`Factor` (same row, same hash), so everything that reads factor rows reads it.
    """

    primary_share: float = 0.0
    """Share of the row's data that is primary, 0 to 1 (0 when the provider states none)."""
    pedigree: Pedigree | None = None
    """The provider's data quality as pedigree scores; None when it states none."""
    biogenic_non_co2: float = 0.0
    """kg CO2e per unit of the row's ``CO2e`` flow that are biogenic non-CO2 emissions."""
    provider: str = ""
    """Who states it: the supplier's company name as its footprint gives it."""

    def __post_init__(self) -> None:
        Factor.__post_init__(self)
        if not 0.0 <= self.primary_share <= 1.0:
            raise ValueError(f"primary_share {self.primary_share!r} must be from 0 to 1")

    def __reduce__(self) -> tuple[Any, tuple[dict[str, Any]]]:
        kwargs = {f.name: getattr(self, f.name) for f in fields(self)}
        kwargs["emissions"] = dict(self.emissions)
        return (_rebuild_stated, (kwargs,))

    def canonical(self) -> dict[str, Any]:
        """The row's :meth:`Factor.canonical` form: what is stated about it is not the row."""
        own = {"primary_share", "pedigree", "biogenic_non_co2", "provider"}
        return {k: v for k, v in Factor.canonical(self).items() if k not in own}


def _rebuild_stated(kwargs: dict[str, Any]) -> StatedFactor:
    """Unpickle a :class:`StatedFactor` (module-level so pickle can find it)."""
    return StatedFactor(**kwargs)


class FileResolver(Protocol):
    """Turns a reference in the model (a file name relative to ``base``, or an id) into a
    factor row per unit of the input it describes (a :class:`StatedFactor` when its provider
    states the row's primary data share and data quality)."""

    def __call__(self, ref: str, /, *, base: Path) -> Factor: ...


@dataclass(frozen=True, slots=True, kw_only=True)
class Resolvers:
    """How inputs that live outside the model file become factor rows.

    The compiler knows none of the domains behind them (imported LCI databases, ISO 14083
    shipments, electricity claims, supplier footprints): the caller, normally
    :func:`openpcf.services.calculate.calculate`, passes them in. Each must pickle (module-level
    functions or :func:`functools.partial` of them) so compiled models can go to workers.
    """

    background: BackgroundResolver | None = None
    shipment: FileResolver | None = None
    electricity_claim: FileResolver | None = None
    supplier_footprint: FileResolver | None = None
    #: the stored databases that linked ``background:`` inputs continue into
    background_database: BackgroundDatabaseResolver | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Column:
    """One foreground activity: a process, or one allocated output of a process."""

    id: str
    process: str
    name: str
    product: str
    unit: str
    stage: str
    share: float
    aircraft: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class Entry:
    """One exchange as it landed in the matrices (amount per unit of the column's output)."""

    column: int
    process: str
    kind: str  # an INPUT_SOURCES name, emission, substitution or process-credit
    label: str
    row: int  # row of A_ff (process), A_bf (factor-like) or B (emission)
    amount: float  # consumed (>0) or credited (<0), in the row's reference unit
    unit: str
    primary_share: float  # share of the exchange's data that is primary, 0 to 1
    pedigree: Pedigree | None
    where: str
    #: the amount's distribution in the model's own unit (``uncertainty:``), None when certain
    uncertainty: Distribution | None = None
    #: ``amount`` per unit of the amount as written (unit conversion times allocation share)
    per_written: float = 1.0
    #: the exchange's name for random streams: process, source and occurrence, the same in
    #: every model and scenario that has this exchange (one draw for all its entries)
    key: str = ""

    @property
    def primary(self) -> bool:
        """Whether any of the exchange's data is primary."""
        return self.primary_share > 0.0


@dataclass(frozen=True, slots=True, kw_only=True)
class CompiledModel:
    loaded: LoadedModel
    parameters: Mapping[str, float]
    gwp: GWPSet
    system: LayeredSystem
    columns: tuple[Column, ...]
    factors: tuple[Factor, ...]
    entries: tuple[Entry, ...]
    demand: np.ndarray
    reference_column: int
    grid_choices: tuple[GridChoice, ...]
    factor_set: FactorSet = field(repr=False)
    #: how inputs outside the model file were resolved, so variants recompile the same way
    resolvers: Resolvers = field(default_factory=Resolvers, repr=False)
    #: the databases linked into (None: background inputs are precomputed rows)
    linked: LinkedBackground | None = None
    #: ``--background-electricity``, replacing the model's; kept so variants recompile the same
    background_electricity: BackgroundElectricity | None = None
    #: ``parameter_uncertainty:`` around the resolved values
    parameter_uncertainty: Mapping[str, Distribution] = field(default_factory=dict)
    #: the model's ``recycled_content_method`` (cut-off, 50-50, cff)
    recycled_content_method: str = "cut-off"
    #: the CFF allocation factor A applied to each input with ``recycled:``, by exchange key
    #: (:attr:`Entry.key`)
    recycled_a: Mapping[str, float] = field(default_factory=dict)
    #: what the compiler did that a reader of the result should know (recycled content)
    notes: tuple[str, ...] = ()

    @property
    def model(self) -> ProductModel:
        return self.loaded.model

    def __eq__(self, other: object) -> bool:
        """Field by field, ``demand`` by value, so a pickled copy equals its original. The
        resolvers are left out: they are callables, and an unpickled ``functools.partial`` is
        a new object that is never ``==`` to the one it was pickled from."""
        if not isinstance(other, CompiledModel):
            return NotImplemented
        return bool(np.array_equal(self.demand, other.demand)) and all(
            getattr(self, f.name) == getattr(other, f.name)
            for f in fields(self)
            if f.name not in ("demand", "resolvers")
        )


def compile_model(
    loaded: LoadedModel,
    *,
    factors: FactorSet,
    overrides: Mapping[str, parameters.Value] | None = None,
    gwp: str | None = None,
    resolvers: Resolvers | None = None,
    background_electricity: BackgroundElectricity | None = None,
) -> CompiledModel:
    """Turn a validated model into a :class:`LayeredSystem` plus the records to explain it.

    ``background_electricity`` (``--background-electricity``) replaces the model's own and
    links its background inputs.

    Raises
    ------
    InputError
        (and subclasses) naming file, line, process and exchange for unknown factors or
        processes, unconvertible units, bad amounts, parameter errors and allocation errors.
    """
    compiler = _Compiler(loaded, factors, overrides or {}, gwp, resolvers or Resolvers())
    compiler.electricity_override = background_electricity
    return compiler.run()


class _Compiler:
    def __init__(
        self,
        loaded: LoadedModel,
        factors: FactorSet,
        overrides: Mapping[str, parameters.Value],
        gwp: str | None,
        resolvers: Resolvers,
    ) -> None:
        self.loaded = loaded
        self.resolvers = resolvers
        self.model = loaded.model
        self.factor_set = factors
        self.overrides = overrides
        self.gwp = gwp_set(gwp or self.model.gwp)
        self.columns: list[Column] = []
        self.column_index: dict[str, int] = {}
        self.factors: list[Factor] = []
        self.factor_index: dict[str, int] = {}
        self.entries: list[Entry] = []
        self.grid_choices: list[GridChoice] = []
        self.A_ff: dict[tuple[int, int], float] = {}
        self.A_bf: dict[tuple[int, int], float] = {}
        self.B_f: dict[tuple[int, int], float] = {}
        self.params: dict[str, float] = {}
        self.electricity_override: BackgroundElectricity | None = None
        self.links: dict[int, str] = {}  # background row -> linked factor id
        self.recycled_a: dict[str, float] = {}  # exchange key -> A of its recycled: block
        self.notes: list[str] = []

    # -- driver ---------------------------------------------------------------------------
    def run(self) -> CompiledModel:
        self.params = parameters.resolve(
            self.model.parameters,
            self.overrides,
            where=lambda name: f"{self.loaded.where('parameters', name)}: parameter {name!r}",
        )
        self._check_boundary()
        shares = {p.id: self._shares(i, p) for i, p in enumerate(self.model.processes)}
        for p in self.model.processes:
            for product, share in shares[p.id].items():
                self._add_column(p, product, share)
        for i, p in enumerate(self.model.processes):
            self._fill(i, p)
        return self._finish()

    def _check_boundary(self) -> None:
        allowed = BOUNDARY_STAGES[self.model.boundary]
        for i, p in enumerate(self.model.processes):
            if p.stage not in allowed:
                raise ModelFileError(
                    f"{self.loaded.where('processes', i, 'stage')}: process {p.id!r} is in stage "
                    f"{p.stage!r}, outside the {self.model.boundary} boundary "
                    f"({', '.join(allowed)}); change the boundary or remove the process"
                )

    # -- columns and allocation -----------------------------------------------------------
    def _outputs(self, p: Process) -> list[Output]:
        return [p.output, *p.co_products]

    def _shares(self, i: int, p: Process) -> dict[str, float]:
        if not p.co_products or (p.allocation and p.allocation.method == "substitution"):
            return {p.output.product: 1.0}
        assert p.allocation is not None  # guaranteed by the schema
        where = f"{self.loaded.where('processes', i, 'allocation')}: process {p.id!r}: "
        method = p.allocation.method
        amounts = {o.product: self._amount(o.amount, i, p, "output") for o in self._outputs(p)}
        negative = [name for name, a in amounts.items() if a < 0]
        if negative:
            raise AllocationError(f"{where}output amounts must be >= 0: {negative}")
        # a co-product switched off by a parameter (amount 0) gets no column and no share
        amounts = {n: a for n, a in amounts.items() if a > 0 or n == p.output.product}
        if method == "factors":
            props = dict(p.allocation.factors or {})
            unknown = sorted(set(props) - set(amounts))
            if unknown:
                raise AllocationError(f"{where}factors name unknown products {unknown}")
        else:
            props = {
                o.product: self._property(i, p, k, o, method, where)
                for k, o in enumerate(self._outputs(p))
                if o.product in amounts
            }
        return allocation_shares(amounts=amounts, properties=props, method=method, where=where)  # type: ignore[arg-type]

    def _property(self, i: int, p: Process, k: int, o: Output, method: str, where: str) -> float:
        """Mass (kg), energy (MJ) or price per unit of output ``o``."""
        given = {"mass": o.mass, "energy": o.energy, "economic": o.price}[method]
        if given is not None:
            loc = ("output",) if k == 0 else ("co_products", k - 1)
            value = self._amount(given, i, p, *loc)
            if value < 0:
                raise AllocationError(f"{where}{method} value of {o.product!r} must be >= 0")
            return value
        natural = {"mass": "kg", "energy": "MJ"}.get(method)
        if natural and same_dimension(o.unit, natural):
            return conversion_factor(o.unit, natural)
        what = {"mass": "mass (kg per unit)", "energy": "energy (MJ per unit)"}.get(
            method, "price (per unit)"
        )
        key = {"mass": "mass", "energy": "energy"}.get(method, "price")
        raise AllocationError(
            f"{where}output {o.product!r} is in {o.unit!r}; give its {what} as '{key}:'"
        )

    def _add_column(self, p: Process, product: str, share: float) -> None:
        output = next(o for o in self._outputs(p) if o.product == product)
        cid = p.id if product == p.output.product else f"{p.id}/{product}"
        self.column_index[cid] = len(self.columns)
        self.columns.append(
            Column(
                id=cid,
                process=p.id,
                name=p.name if cid == p.id else f"{p.name} ({product})",
                product=product,
                unit=normalise(output.unit),
                stage=p.stage,
                share=share,
                aircraft=p.aircraft,
            )
        )

    # -- exchanges ------------------------------------------------------------------------
    def _fill(self, i: int, p: Process) -> None:
        cols = [c for c in self.columns if c.process == p.id]
        for col in cols:
            j = self.column_index[col.id]
            output = next(o for o in self._outputs(p) if o.product == col.product)
            out_amount = self._amount(output.amount, i, p, "output")
            if out_amount <= 0:
                raise InputError(
                    f"{self.loaded.where('processes', i, 'output', 'amount')}: process {p.id!r}: "
                    f"output amount must be > 0, got {out_amount:g}"
                )
            self.A_ff[(j, j)] = self.A_ff.get((j, j), 0.0) + out_amount
            for k, inp in enumerate(p.inputs):
                self._input(i, p, k, inp, j, col.share)
            for k, em in enumerate(p.emissions):
                self._emission(i, p, k, em, j, col.share)
            if p.allocation and p.allocation.method == "substitution":
                for k, co in enumerate(p.co_products):
                    self._substitution(i, p, k, co, j)

    def _where(self, i: int, p: Process, *loc: str | int) -> str:
        return f"{self.loaded.where('processes', i, *loc)}: process {p.id!r}"

    def _amount(self, value: float | str, i: int, p: Process, *loc: str | int) -> float:
        where = self._where(i, p, *loc)
        return parameters.evaluate(value, self.params, where=f"{where}, {'.'.join(map(str, loc))}")

    def _converted(self, amount: float, unit: str, target: str, where: str) -> float:
        try:
            return amount * conversion_factor(unit, target)
        except UnitError as e:
            raise UnitError(f"{where}: {e}") from None

    def _input(self, i: int, p: Process, k: int, inp: Input, j: int, share: float) -> None:
        where = f"{self._where(i, p, 'inputs', k)}, input {k + 1}"
        amount = self._amount(inp.amount, i, p, "inputs", k, "amount")
        if amount < 0:
            raise InputError(
                f"{where}: amount {amount:g} is negative; inputs are consumed amounts (>= 0). "
                "Model an avoided product with co_products and allocation method 'substitution'"
            )
        stated: StatedFactor | None = None
        terms: list[tuple[_Term, float]] = []  # recycled: terms besides the input's own factor
        if inp.kind == "process":
            target = self._process_column(inp, where)
            per_written = self._converted(1.0, inp.unit, self.columns[target].unit, where) * share
            value = amount * per_written
            self.A_ff[(target, j)] = self.A_ff.get((target, j), 0.0) - value
            label, unit = self.columns[target].id, self.columns[target].unit
        else:
            factor = self._factor_for(inp, where)
            stated = factor if isinstance(factor, StatedFactor) else None
            row = self._background_row(factor)
            if inp.recycled is not None:
                terms = self._recycled_terms(i, p, k, inp, factor)
            virgin = terms.pop(0)[1] if terms else 1.0  # share of the input borne as virgin
            per_written = self._converted(1.0, inp.unit, factor.unit, where) * share * virgin
            value = amount * per_written
            self.A_bf[(row, j)] = self.A_bf.get((row, j), 0.0) - value
            label, unit = factor.id, factor.unit
        pedigree = (
            inp.quality.pedigree()
            if inp.quality
            else (stated.pedigree if stated is not None else None)
        )
        uncertainty = self._uncertainty(inp.uncertainty, amount, pedigree, where)
        key = _exchange_key(p, k, "inputs")
        self.entries.append(
            Entry(
                column=j,
                process=p.id,
                kind=inp.kind,
                label=label,
                row=target if inp.kind == "process" else row,
                amount=value,
                unit=unit,
                primary_share=_primary_share(inp, stated),
                pedigree=pedigree,
                where=where,
                uncertainty=uncertainty,
                per_written=per_written,
                key=key,
            )
        )
        for term, coefficient in terms:
            # the same exchange, the same draw: each term is the input's amount times a constant
            unit_factor = self._converted(1.0, inp.unit, term.factor.unit, term.where)
            term_per = unit_factor * share * coefficient
            term_value = amount * term_per
            term_row = self._background_row(term.factor)
            self.A_bf[(term_row, j)] = self.A_bf.get((term_row, j), 0.0) - term_value
            credit = coefficient < 0
            self.entries.append(
                Entry(
                    column=j,
                    process=p.id,
                    kind="substitution" if credit else term.kind,
                    label=f"{term.label}: {term.factor.id}",
                    row=term_row,
                    amount=term_value,
                    unit=term.factor.unit,
                    primary_share=0.0 if credit else _primary_share(inp, None),
                    pedigree=None if credit else pedigree,
                    where=term.where,
                    uncertainty=uncertainty,
                    per_written=term_per,
                    key=key,
                )
            )

    def _recycled_terms(
        self, i: int, p: Process, k: int, inp: Input, factor: Factor
    ) -> list[tuple[_Term, float]]:
        """The material part of the Circular Footprint Formula for an input with ``recycled:``,
        as terms per unit of the input's amount: first the share borne at the input's own
        factor (Ev), then recycled content (Erec), end-of-life recycling (ErecEoL) and its
        credit (E*v, a negative coefficient); terms with a zero coefficient are left out.

        ``[(1 - R1) + R1 (1 - A) Qsin/Qp] Ev + R1 A Erec + (1 - A) R2 ErecEoL
        - (1 - A) R2 Qsout/Qp E*v``, with A from the model's ``recycled_content_method``;
        the end-of-life terms only when the boundary includes the end-of-life stage.
        """
        rec = inp.recycled
        assert rec is not None
        loc = ("processes", i, "inputs", k, "recycled")
        where = f"{self.loaded.where(*loc)}: process {p.id!r}, input {k + 1}"
        a = self._recycled_a(rec, where)
        self.recycled_a[_exchange_key(p, k, "inputs")] = a
        method = self.model.recycled_content_method
        r1, r2 = rec.content, rec.eol_rate
        # notes name no file: a result reproduced from a package elsewhere says the same
        named = f"process {p.id!r}, input {k + 1} ({factor.id})"
        self.notes.append(
            f"{named}: recycled content {r1:g} by the {method} method, A = {a:g}"
            + ("" if method == "cut-off" else f"; {NOT_MODELLED}")
        )
        own = _Term(factor, inp.kind, factor.id, where)
        terms = [(own, (1.0 - r1) + r1 * (1.0 - a) * rec.quality_in)]
        if r1 * a:
            terms.append((self._term(rec.factor, "recycled content", loc, "factor", p, k), r1 * a))
        recycled = (1.0 - a) * r2  # the material recycled at end of life that this input bears
        if recycled and "end_of_life" not in BOUNDARY_STAGES[self.model.boundary]:
            self.notes.append(
                f"{named}: end-of-life recycling (R2 = {r2:g}) is outside the "
                f"{self.model.boundary} boundary; its burden and credit are left out"
            )
        elif recycled:
            assert rec.eol_factor is not None  # required with eol_rate > 0, by the schema
            eol = self._term(rec.eol_factor, "end-of-life recycling", loc, "eol_factor", p, k)
            credit = (
                self._term(rec.eol_virgin, CREDIT, loc, "eol_virgin", p, k)
                if rec.eol_virgin is not None
                else replace(own, label=CREDIT)
            )
            terms += [(eol, recycled), (credit, -recycled * rec.quality_out)]
        return terms

    def _recycled_a(self, rec: Recycled, where: str) -> float:
        """The CFF allocation factor A of the model's ``recycled_content_method``."""
        method = self.model.recycled_content_method
        if method == "cut-off":
            return 1.0
        if method == "50-50":
            return 0.5
        if rec.a is None:
            raise ModelFileError(
                f"{where}: recycled_content_method 'cff' needs the allocation factor 'a' "
                "(0 to 1) in recycled: (e.g. 'a: 0.2'), or choose cut-off or 50-50"
            )
        return rec.a

    def _term(
        self, ref: str, label: str, loc: tuple[str | int, ...], name: str, p: Process, k: int
    ) -> _Term:
        """A factor a ``recycled:`` block names: a factor id, else a background reference."""
        where = f"{self.loaded.where(*loc, name)}: process {p.id!r}, input {k + 1}, recycled {name}"
        try:
            if ref in self.factor_set or ":" not in ref:
                return _Term(self.factor_set.get(ref), "factor", label, where)
            background: BackgroundResolver = self._resolver("background")
            factor = background(ref)
            if self._linking:
                self.links[self._background_row(factor)] = factor.id
            return _Term(factor, "background", label, where)
        except OpenPCFError as e:
            raise located(e, where) from None

    def _process_column(self, inp: Input, where: str) -> int:
        assert inp.process is not None
        proc = next((p for p in self.model.processes if p.id == inp.process), None)
        if proc is None:
            known = ", ".join(p.id for p in self.model.processes)
            raise UnknownProcessError(f"{where}: no process {inp.process!r} (processes: {known})")
        product = inp.product or proc.output.product
        cid = inp.process if product == proc.output.product else f"{inp.process}/{product}"
        if cid not in self.column_index:
            raise UnknownProcessError(
                f"{where}: process {inp.process!r} has no output {product!r} that can be "
                "supplied (co-products handled by substitution are credits, not supplies)"
            )
        return self.column_index[cid]

    def _factor_for(self, inp: Input, where: str) -> Factor:
        try:
            if inp.factor is not None:
                return self.factor_set.get(inp.factor)
            if inp.electricity is not None:
                choice = grid_electricity(
                    geography=inp.electricity.geography,
                    year=inp.electricity.year,
                    factors=self.factor_set,
                    basis=inp.electricity.basis,
                )
                self.grid_choices.append(choice)
                return choice.factor
            if inp.background is not None:
                background: BackgroundResolver = self._resolver("background")
                factor = background(inp.background)
                if self._linking:
                    self.links[self._background_row(factor)] = factor.id
                return factor
            base = self.loaded.path.parent
            for kind in ("shipment", "electricity_claim", "supplier_footprint"):
                ref = getattr(inp, kind)
                if ref is not None:
                    resolve: FileResolver = self._resolver(kind)
                    return resolve(ref, base=base)
            raise InputError("the input names no source")  # excluded by the schema
        except OpenPCFError as e:
            raise located(e, where) from None

    def _resolver(self, kind: str) -> Any:
        resolver = getattr(self.resolvers, kind)
        if resolver is None:
            raise InputError(
                f"{kind.replace('_', ' ')} inputs need a resolver; calculate the model with "
                "openpcf.services.calculate.calculate (or pass resolvers= to compile_model)"
            )
        return resolver

    def _background_row(self, factor: Factor) -> int:
        if factor.id not in self.factor_index:
            self.factor_index[factor.id] = len(self.factors)
            self.factors.append(factor)
        return self.factor_index[factor.id]

    def _emission(self, i: int, p: Process, k: int, em: Emission, j: int, share: float) -> None:
        where = f"{self._where(i, p, 'emissions', k)}, emission {k + 1} ({em.gas})"
        amount = self._amount(em.amount, i, p, "emissions", k, "amount")
        if amount < 0:
            raise InputError(
                f"{where}: amount {amount:g} is negative; book removals on gas 'CO2-uptake' "
                "as a positive mass"
            )
        per_written = self._converted(1.0, em.unit, "kg", where) * share
        value = amount * per_written
        row = GAS_INDEX[em.gas]
        self.B_f[(row, j)] = self.B_f.get((row, j), 0.0) + value
        pedigree = em.quality.pedigree() if em.quality else None
        self.entries.append(
            Entry(
                column=j,
                process=p.id,
                kind="emission",
                label=em.gas,
                row=row,
                amount=value,
                unit="kg",
                primary_share=0.0 if em.primary is False else 1.0,
                pedigree=pedigree,
                where=where,
                uncertainty=self._uncertainty(em.uncertainty, amount, pedigree, where),
                per_written=per_written,
                key=_exchange_key(p, k, "emissions"),
            )
        )

    def _uncertainty(
        self, spec: Uncertainty | None, amount: float, pedigree: Pedigree | None, where: str
    ) -> Distribution | None:
        """The distribution of an exchange's ``uncertainty:`` around its amount as written."""
        if spec is None:
            return None
        try:
            return spec.distribution_of(amount, pedigree)
        except OpenPCFError as e:
            raise located(e, f"{where}: uncertainty") from None

    def _parameter_uncertainty(self) -> dict[str, Distribution]:
        out = {}
        for name, spec in self.model.parameter_uncertainty.items():
            where = f"{self.loaded.where('parameter_uncertainty', name)}: parameter {name!r}"
            try:
                out[name] = spec.distribution_of(self.params[name], None)
            except OpenPCFError as e:
                raise located(e, where) from None
        return out

    def _substitution(self, i: int, p: Process, k: int, co: Output, j: int) -> None:
        where = f"{self._where(i, p, 'co_products', k)}, co-product {co.product!r}"
        if not co.substitutes:
            raise AllocationError(
                f"{where}: substitution needs 'substitutes:' (the factor id or process the "
                "co-product displaces)"
            )
        amount = self._amount(co.amount, i, p, "co_products", k, "amount")
        if co.substitutes in self.column_index:
            target = self.column_index[co.substitutes]
            value = self._converted(amount, co.unit, self.columns[target].unit, where)
            self.A_ff[(target, j)] = self.A_ff.get((target, j), 0.0) + value
            row, kind, label, unit = target, "process", co.substitutes, self.columns[target].unit
        else:
            try:
                factor = self.factor_set.get(co.substitutes)
            except OpenPCFError as e:
                raise located(e, where) from None
            row = self._background_row(factor)
            value = self._converted(amount, co.unit, factor.unit, where)
            self.A_bf[(row, j)] = self.A_bf.get((row, j), 0.0) + value
            kind, label, unit = "substitution", factor.id, factor.unit
        self.entries.append(
            Entry(
                column=j,
                process=p.id,
                kind="substitution" if kind == "substitution" else "process-credit",
                label=label,
                row=row,
                amount=-value,
                unit=unit,
                primary_share=0.0,
                pedigree=None,
                where=where,
            )
        )

    # -- linked background ----------------------------------------------------------------
    @property
    def _linking(self) -> bool:
        return self.electricity_override is not None or self.model.links_background

    def _electricity(self) -> tuple[BackgroundElectricity | None, str]:
        if self.electricity_override is not None:
            return self.electricity_override, "--background-electricity"
        return self.model.background_electricity, self.loaded.where("background_electricity")

    def _linked(self) -> LinkedBackground | None:
        """The databases the linked rows draw on, re-pointed as the model asks."""
        spec, where = self._electricity()
        if not self.links:
            if spec is not None:
                raise InputError(
                    f"{where}: background_electricity re-points the electricity of linked "
                    "databases, but the model has no background: inputs"
                )
            return None
        resolve: BackgroundDatabaseResolver = self._resolver("background_database")
        refs = list(dict.fromkeys(self.factors[k].set_name for k in self.links))
        databases = [_in_gas_order(resolve(ref)) for ref in refs]
        links = tuple(
            Link(
                row=k,
                database=refs.index(self.factors[k].set_name),
                activity=databases[refs.index(self.factors[k].set_name)].system.index(
                    fid.removeprefix(f"{self.factors[k].set_name}:")
                ),
            )
            for k, fid in sorted(self.links.items())
        )
        original = tuple(d.system for d in databases)
        if spec is None:
            return LinkedBackground(databases=tuple(databases), original=original, links=links)
        try:
            supply = self._supply(spec)
            repointed = self._repoint(spec, databases, supply)
        except OpenPCFError as e:
            raise located(e, f"{where}: background_electricity") from None
        return LinkedBackground(
            databases=tuple(databases),
            original=original,
            links=links,
            repointed=repointed,
            supply=supply,
            where=where,
        )

    def _supply(self, spec: BackgroundElectricity) -> Factor:
        if spec.grid is not None:
            choice = grid_electricity(
                geography=spec.grid.geography,
                year=spec.grid.year,
                factors=self.factor_set,
                basis=spec.grid.basis,
            )
            self.grid_choices.append(choice)
            supply = choice.factor
        else:
            assert spec.electricity_claim is not None  # one of the two, by the schema
            claim: FileResolver = self._resolver("electricity_claim")
            supply = claim(spec.electricity_claim, base=self.loaded.path.parent)
        if not same_dimension(supply.unit, "kWh"):
            raise UnitError(f"supply {supply.id!r} is per {supply.unit!r}, not per unit of energy")
        return supply

    def _repoint(
        self, spec: BackgroundElectricity, databases: list[BackgroundDatabase], supply: Factor
    ) -> tuple[Repointed, ...]:
        chosen = [d for d in range(len(databases)) if spec.database in (None, databases[d].name)]
        linked = ", ".join(d.ref for d in databases)
        if not chosen:
            raise InputError(f"database {spec.database!r} is not linked (linked: {linked})")
        found = {d: electricity_producers(databases[d], spec.products) for d in chosen}
        for product in spec.products:
            if not any(
                product in {db.products[i], db.product_ids[i], db.system.activities[i]}
                for d, db in ((d, databases[d]) for d in chosen)
                for i in found[d]
            ):
                raise InputError(f"product {product!r} matches no process of {linked}")
        if not any(found.values()):
            raise InputError(
                f"no electricity process in {linked} (none whose reference product or name "
                "says electricity in an energy unit); name them with 'products:'"
            )
        repointed: list[Repointed] = []
        for d, producers in found.items():
            if not producers:
                continue
            databases[d], moved = repoint(databases[d], producers, supply, GAS_IDS)
            repointed += [Repointed(database=d, activity=j, replaced=es) for j, es in moved]
        return tuple(repointed)

    # -- assembly -------------------------------------------------------------------------
    def _finish(self) -> CompiledModel:
        p, n, m = len(self.columns), len(self.factors), len(GAS_IDS)
        linked = self._linked() if self._linking else None
        bg_B = np.zeros((m, n))
        for j, factor in enumerate(self.factors):
            if j in self.links:  # the database's chain, not the stored figure
                continue
            for gas, amount in factor.emissions.items():
                bg_B[GAS_INDEX[gas], j] += amount
        background = MatrixSystem(
            A=sp.identity(n, format="csc"),
            B=sp.csc_array(bg_B),
            activities=tuple(f.id for f in self.factors),
            flows=GAS_IDS,
        )
        foreground = MatrixSystem(
            A=_sparse(self.A_ff, (p, p)),
            B=_sparse(self.B_f, (m, p)),
            activities=tuple(c.id for c in self.columns),
            flows=GAS_IDS,
        )
        systems = tuple(d.system for d in linked.databases) if linked else ()
        system = LayeredSystem(
            foreground=foreground,
            background=background,
            A_bf=_sparse(self.A_bf, (n, p)),
            linked=systems,
            A_lb=link_matrix(linked.links, systems, n) if linked else None,
        )
        ref = self.column_index[self.model.reference_process]
        demand = np.zeros(p)
        demand[ref] = self._declared_in(self.columns[ref])
        return CompiledModel(
            loaded=self.loaded,
            parameters=dict(self.params),
            gwp=self.gwp,
            system=system,
            columns=tuple(self.columns),
            factors=tuple(self.factors),
            entries=tuple(self.entries),
            demand=demand,
            reference_column=ref,
            grid_choices=tuple(self.grid_choices),
            factor_set=self.factor_set,
            resolvers=self.resolvers,
            linked=linked,
            background_electricity=self.electricity_override,
            parameter_uncertainty=self._parameter_uncertainty(),
            recycled_content_method=self.model.recycled_content_method,
            recycled_a=dict(self.recycled_a),
            notes=tuple(dict.fromkeys(self.notes)),
        )

    def _declared_in(self, col: Column) -> float:
        product = self.model.product
        where = self.loaded.where("product", "declared_unit")
        try:
            return product.declared_amount * conversion_factor(product.declared_unit, col.unit)
        except UnitError:
            raise UnitError(
                f"{where}: declared unit {product.declared_unit!r} cannot be converted into "
                f"{col.unit!r}, the output unit of reference process {col.process!r}; make the "
                "reference process output the declared quantity (e.g. 100 kWh of capacity per pack)"
            ) from None


@dataclass(frozen=True, slots=True)
class _Term:
    """One factor of a ``recycled:`` block: its row, entry kind, label and where it is named."""

    factor: Factor
    kind: str
    label: str
    where: str


def _primary_share(inp: Input, stated: StatedFactor | None) -> float:
    """The share of an input's data that is primary: the model's ``primary:`` when given
    (all or nothing), else what the row's provider states (a supplier's primaryDataShare),
    else none: background, grid and transport rows are secondary data."""
    if inp.primary is not None:
        return 1.0 if inp.primary else 0.0
    return stated.primary_share if stated is not None else 0.0


def _exchange_key(p: Process, k: int, group: str) -> str:
    """``process/source[#n]``: the exchange's name for random streams (:attr:`Entry.key`).

    The source is what the exchange refers to as written (a factor id, a process, a gas), and
    ``#n`` counts earlier exchanges of the process with the same source, so inserting another
    exchange does not rename this one.
    """
    items: list[Input] | list[Emission] = p.inputs if group == "inputs" else p.emissions

    def source(x: Input | Emission) -> str:
        if isinstance(x, Emission):
            return f"gas:{x.gas}"
        value = getattr(x, x.kind)
        text = value.model_dump_json() if hasattr(value, "model_dump_json") else str(value)
        return f"{x.kind}:{text}" + (f"/{x.product}" if x.product else "")

    name = source(items[k])
    n = sum(source(x) == name for x in items[:k])
    return f"{p.id}/{name}" + (f"#{n}" if n else "")


def _in_gas_order(db: BackgroundDatabase) -> BackgroundDatabase:
    """``db`` with the rows of ``B`` in OpenPCF gas order (a stored version lists its gases)."""
    flows = db.system.flows
    if flows == GAS_IDS:
        return db
    unknown = sorted(set(flows) - set(GAS_IDS))
    if unknown:
        raise InputError(f"database {db.ref} has flows that are not gases: {unknown}")
    rows = {g: i for i, g in enumerate(flows)}
    B = db.system.B.tocsr()
    ordered = sp.vstack(
        [B[[rows[g]], :] if g in rows else sp.csr_array((1, db.system.size)) for g in GAS_IDS]
    )
    system = MatrixSystem(
        A=db.system.A, B=sp.csc_array(ordered), activities=db.system.activities, flows=GAS_IDS
    )
    return replace(db, system=system)


def _sparse(entries: Mapping[tuple[int, int], float], shape: tuple[int, int]) -> sp.csc_array:
    if not entries:
        return sp.csc_array(shape, dtype=np.float64)
    (rows, cols), vals = zip(*entries.keys(), strict=True), list(entries.values())
    return sp.csc_array((vals, (rows, cols)), shape=shape)
