"""Modelling choices: what a rule set prescribes, and how a choice changes a model.

A :class:`Methodology` is the set of choices that change a footprint without changing the
product: allocation method per multi-output process, electricity method, recycled-content
method, cut-off, GWP set, boundary and extra factor sets. ``calc --rules`` makes the choices
of the rule set's clauses that ``apply`` (:func:`from_rules`); ``openpcf compare`` changes them
one at a time (:mod:`openpcf.rules.compare`). The model file is never rewritten: the choices
act on the validated model, whose lines stay those of the file, and the result's provenance
records them.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Literal

from openpcf.core.results import ExchangeContribution
from openpcf.electricity.claims import load_claims
from openpcf.errors import InputError
from openpcf.model.loading import LoadedModel
from openpcf.model.schema import BOUNDARY_STAGES, GridRef, Input, Process
from openpcf.rules import schema as rs
from openpcf.rules.loading import LoadedRuleSet

ElectricityMethod = Literal["location", "market"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Methodology:
    """Modelling choices; ``None`` (or empty) keeps the model's own.

    ``allocation``: process id (or ``*`` for every multi-output process) → method;
    ``electricity``: ``location`` turns market-based claims into their grid's mix, ``market``
    keeps them (with ``electricity_claim``, the grid inputs of the claim's geography draw on
    that claims file instead); ``recycled_content``: cut-off, 50-50 or cff;
    ``cutoff_percent``: inputs bringing less than this share of the total are cut (as long as
    all cut inputs stay under ``cutoff_total_percent``); ``boundary``: the stages counted;
    ``gwp``: the GWP set; ``factor_files``: extra factor sets (later ones win).
    """

    allocation: Mapping[str, str] = field(default_factory=dict)
    electricity: ElectricityMethod | None = None
    electricity_claim: str | None = None
    recycled_content: str | None = None
    #: the Circular Footprint Formula's A for every recycled input (a rule set's ``cff_a``)
    recycled_a: float | None = None
    cutoff_percent: float | None = None
    cutoff_total_percent: float | None = None
    boundary: str | None = None
    gwp: str | None = None
    factor_files: tuple[str, ...] = ()

    def describe(self) -> list[str]:
        """The choices made, one line each (for the result's notes and the report)."""
        out = [
            f"allocation of {k if k != '*' else 'every multi-output process'}: {v}"
            for k, v in sorted(self.allocation.items())
        ]
        if self.electricity:
            claim = f" ({self.electricity_claim})" if self.electricity_claim else ""
            out.append(f"electricity: {self.electricity}-based{claim}")
        if self.recycled_content:
            a = f" (A = {self.recycled_a:g})" if self.recycled_a is not None else ""
            out.append(f"recycled content: {self.recycled_content}{a}")
        if self.cutoff_percent is not None:
            out.append(f"cut-off: inputs under {self.cutoff_percent:g} % of the total cut")
        if self.boundary:
            out.append(f"boundary: {self.boundary}")
        if self.gwp:
            out.append(f"GWP set: {self.gwp}")
        out += [f"factor set: {f}" for f in self.factor_files]
        return out

    def sha256(self) -> str:
        data = asdict(self)
        data["allocation"] = dict(sorted(self.allocation.items()))
        return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()

    @property
    def empty(self) -> bool:
        return self == Methodology()


@dataclass(frozen=True, slots=True)
class RuleChoices:
    """The methodology a rule set prescribes for one model, and which clause made each
    choice (clause id → what it chose)."""

    methodology: Methodology
    by_clause: dict[str, str]


def from_rules(rules: LoadedRuleSet, loaded: LoadedModel) -> RuleChoices:
    """The choices of the clauses of ``rules`` that apply (``applies:``) to this model."""
    allocation: dict[str, str] = {}
    by_clause: dict[str, str] = {}
    kwargs: dict[str, object] = {}
    for clause in rules.rules.clauses:
        if isinstance(clause, rs.AllocationClause) and clause.applies:
            hit = _allocated_matching(loaded, clause.co_products)
            for pid in hit:
                allocation[pid] = clause.applies
            if hit:
                by_clause[clause.id] = f"allocation by {clause.applies} for {', '.join(hit)}"
        elif isinstance(clause, rs.ElectricityClause) and clause.applies:
            if clause.method == "location":
                kwargs["electricity"] = "location"
                by_clause[clause.id] = "electricity: location-based (grid mix)"
        elif isinstance(clause, rs.RecycledContentClause) and clause.applies:
            kwargs["recycled_content"] = clause.applies
            by_clause[clause.id] = f"recycled content: {clause.applies}"
            if clause.applies == "cff" and clause.cff_a is not None:
                kwargs["recycled_a"] = clause.cff_a
                by_clause[clause.id] += f" with A = {clause.cff_a:g}"
        elif isinstance(clause, rs.CutoffClause) and clause.applies:
            kwargs["cutoff_percent"] = clause.max_percent
            kwargs["cutoff_total_percent"] = clause.max_total_percent
            by_clause[clause.id] = f"cut-off: inputs under {clause.max_percent:g} % cut"
    return RuleChoices(Methodology(allocation=allocation, **kwargs), by_clause)  # type: ignore[arg-type]


def _allocated_matching(loaded: LoadedModel, patterns: list[str]) -> list[str]:
    rx = [re.compile(x, re.IGNORECASE) for x in patterns]
    return [
        p.id
        for p in loaded.model.processes
        if p.allocation is not None and any(r.search(o.product) for o in p.co_products for r in rx)
    ]


def apply(loaded: LoadedModel, m: Methodology) -> LoadedModel:
    """The model with the choices of ``m`` that act on the model itself (allocation,
    electricity, recycled content); GWP, factor sets, cut-off and boundary act on the
    calculation (see :mod:`openpcf.services.rules`).

    Raises
    ------
    InputError
        An allocation choice for a process that has no co-products or is unknown, or a
        method the co-products lack the properties for (named with file:line).
    """
    if m.empty:
        return loaded
    model = loaded.model
    processes = list(model.processes)
    ids = {p.id for p in processes}
    for pid in m.allocation:
        if pid != "*" and pid not in ids:
            raise InputError(
                f"{loaded.where('processes')}: allocation choice for process {pid!r}, which the "
                f"model does not have ({', '.join(sorted(ids))})"
            )
    for i, p in enumerate(processes):
        method = m.allocation.get(p.id, m.allocation.get("*"))
        if method is not None and p.allocation is not None and p.allocation.method != method:
            _check_properties(loaded, i, p, method)
            processes[i] = p.model_copy(
                update={"allocation": p.allocation.model_copy(update={"method": method})}
            )
        elif method is not None and p.allocation is None and p.id in m.allocation:
            raise InputError(
                f"{loaded.where('processes', i)}: process {p.id!r} has no co-products, so "
                "no allocation to choose"
            )
    if m.electricity is not None:
        processes = [_electricity(loaded, p, m.electricity, m.electricity_claim) for p in processes]
    if m.recycled_a is not None:
        processes = [_with_a(p, m.recycled_a) for p in processes]
    update: dict[str, object] = {"processes": processes}
    if m.recycled_content is not None:
        update["recycled_content_method"] = m.recycled_content
    if m.boundary is not None and m.boundary not in BOUNDARY_STAGES:
        raise InputError(f"unknown boundary {m.boundary!r}; use {', '.join(BOUNDARY_STAGES)}")
    return replace(loaded, model=model.model_copy(update=update))


def _check_properties(loaded: LoadedModel, i: int, p: Process, method: str) -> None:
    prop = {"mass": "mass", "energy": "energy", "economic": "price"}.get(method)
    if method == "substitution":
        missing = [o.product for o in p.co_products if o.substitutes is None]
        what = "substitutes:"
    elif prop is not None:
        missing = [o.product for o in [p.output, *p.co_products] if getattr(o, prop) is None]
        what = f"{prop}:"
    else:
        return
    if missing:
        raise InputError(
            f"{loaded.where('processes', i, 'allocation')}: allocation by {method} of process "
            f"{p.id!r} needs {what} on {', '.join(missing)}; add it to the outputs"
        )


def _electricity(loaded: LoadedModel, p: Process, method: str, claim: str | None) -> Process:
    inputs = list(p.inputs)
    for k, inp in enumerate(inputs):
        if method == "location" and inp.kind == "electricity_claim":
            assert inp.electricity_claim is not None
            claims = load_claims(_relative(loaded, inp.electricity_claim))
            grid = GridRef(geography=claims.geography, year=claims.year, basis=claims.basis)
            inputs[k] = _with_source(inp, electricity=grid)
        elif method == "market" and claim is not None and inp.kind == "electricity":
            claims = load_claims(_relative(loaded, claim))
            assert inp.electricity is not None
            if claims.geography == inp.electricity.geography:
                inputs[k] = _with_source(inp, electricity_claim=str(_relative(loaded, claim)))
    return p.model_copy(update={"inputs": inputs})


def _with_a(p: Process, a: float) -> Process:
    """``p`` with the CFF's A of every recycled input set to ``a``."""
    inputs = [
        inp.model_copy(update={"recycled": inp.recycled.model_copy(update={"a": a})})
        if inp.recycled is not None
        else inp
        for inp in p.inputs
    ]
    return p.model_copy(update={"inputs": inputs})


def _with_source(inp: Input, **source: object) -> Input:
    cleared: dict[str, object] = {"electricity": None, "electricity_claim": None}
    return inp.model_copy(update={**cleared, **source})


def _relative(loaded: LoadedModel, ref: str) -> Path:
    path = Path(ref)
    return path if path.is_absolute() else (loaded.path.parent / path).resolve()


def boundary_total(by_stage: Mapping[str, float], boundary: str) -> float:
    """The total over the stages of ``boundary`` (a cradle-to-gate part of a longer model)."""
    return sum(v for k, v in by_stage.items() if k in BOUNDARY_STAGES[boundary])


def cut_inputs(
    loaded: LoadedModel,
    exchanges: Sequence[ExchangeContribution],
    percent: float,
    total_percent: float | None,
) -> tuple[LoadedModel, tuple[str, ...]]:
    """The model with the inputs that bring less than ``percent`` of the footprint cut.

    Shares are of the sum of the absolute contributions of all exchanges (credits count by
    their size). Inputs from other processes of the model are never cut (they carry the
    life cycle's structure). Smallest first, inputs are cut as long as all cut inputs together
    stay at or under ``total_percent`` (when given). Returns the model and one line per cut
    input ("file:line process: label, share").
    """
    scale = sum(abs(x.co2e) for x in exchanges) or 1.0
    by_where: dict[str, float] = {}
    for x in exchanges:
        at = x.where.split(": process ")[0]  # "file:line" of the exchange
        by_where[at] = by_where.get(at, 0.0) + abs(x.co2e)
    candidates = []
    for i, p in enumerate(loaded.model.processes):
        for k, inp in enumerate(p.inputs):
            if inp.kind == "process":
                continue
            where = loaded.where("processes", i, "inputs", k)
            share = by_where.get(where, 0.0) / scale * 100.0
            if share < percent:
                candidates.append((share, i, k, where))
    cut: set[tuple[int, int]] = set()
    lines = []
    total = 0.0
    for share, i, k, where in sorted(candidates):
        if total_percent is not None and total + share > total_percent:
            break
        total += share
        cut.add((i, k))
        p = loaded.model.processes[i]
        inp = p.inputs[k]
        lines.append(f"{where} {p.id}: {inp.kind} {getattr(inp, inp.kind)} ({share:.3g} %)")
    if not cut:
        return loaded, ()
    # a cut input keeps its place with amount 0: its factor row is still resolved (so a
    # verification package carries it and the model reproduces), and it adds nothing
    zero = {"amount": 0.0, "uncertainty": None}
    processes = [
        p.model_copy(
            update={
                "inputs": [
                    x.model_copy(update=zero) if (i, k) in cut else x
                    for k, x in enumerate(p.inputs)
                ]
            }
        )
        for i, p in enumerate(loaded.model.processes)
    ]
    return replace(loaded, model=loaded.model.model_copy(update={"processes": processes})), tuple(
        lines
    )
