"""Link an :class:`~openpcf.io.inventory.Inventory` into a solvable :class:`MatrixSystem`.

Columns. Every process with a quantitative reference gives one activity (column) for its
reference product, labelled with the process id. A multi-output process whose source gives
allocation factors covering all its product outputs gives one column per product output,
labelled ``"<process id>#<flow id>"`` except the reference product's, which keeps the process
id; column ``j`` for product ``p`` with share ``α_p`` carries

    A[p, j] = output amount of p,     A[i, j] = −α_p · input i,     B[g, j] = α_p · emission g

(the source's default allocation). A waste-treatment process (reference = a waste *input*,
openLCA semantics) gives a column whose "product" is the treatment of that waste.

Rows of ``A`` are the columns' products (``A`` is square by construction). Rows of ``B`` are
OpenPCF's gas ids (:data:`~openpcf.methods.gases.GAS_IDS`), in kg; a resource uptake
(``CO2-uptake``) is booked as a positive mass, any other elementary input as a negative one.

Linking an input of flow ``f`` (and a waste *output*, which is an input to a treatment), the
first rule that names one provider wins, and the report counts links by rule:

1. ``"default provider"``: the exchange's default provider (JSON-LD ``defaultProvider``,
   ecospold2 ``activityLinkId``), if that process produces ``f``: the data's own choice;
2. ``"link rule"``: a provider the user fixed for ``f`` in :class:`LinkRules` (``--rules``);
3. ``"unique producer"``: the only column producing ``f`` — for an input, a column whose own
   product exchange is an *output* of ``f``; for a waste output, a column whose reference is
   an *input* of ``f`` (its treatment). A column whose reference is a product *input* (ILCD
   "per 1 t of ore processed") is never a candidate;
4. ``"preferred location"``: among several, the only one in the user's first
   ``prefer_locations`` code that has any (a user rule, so before the automatic ones);
5. ``"same location"``: the only candidate in the consuming process's location, else in the
   nearest enclosing one for hyphenated codes (TianGong ``ZY-GS-CN`` -> ``GS-CN`` -> ``CN``),
   never the consuming process itself;
6. ``"bundled default"``: the provider named for ``f`` in the bundled defaults
   (:mod:`openpcf.io.link_defaults`, one documented reason each), if it is a candidate;
7. otherwise the exchange is *unlinked*, cut off, and listed with its reason
   (``"no provider"``, ``"ambiguous: N producers"``, ``"provider not in database"``).

User rules come before the automatic rules 5 and 6 because the user knows their supply
chain; the source's own default provider comes first because it is what the data set's author
linked.

Avoided products link the same way and enter ``A`` with the opposite sign (a credit).

Each exchange's distribution (:attr:`Exchange.uncertainty`) follows its amount into ``A`` or
``B``, scaled by the same sign and share, as stats_arrays parameters aligned with the stored
entries (:func:`openpcf.io.uncertainty.aligned`).

Design note: a co-product of a process *without* allocation factors is not given a column of
its own (that would count the process's burdens twice) and is not credited (that would be a
system expansion the source did not ask for): it is cut off and listed as
``"co-product without allocation factors"``, and all burdens stay with the reference product.
An input whose flow is only such a co-product is therefore ``"no provider"``.
"""

from __future__ import annotations

import csv
from collections import Counter, defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

from openpcf.core.system import MatrixSystem
from openpcf.core.uncertainty import Distribution
from openpcf.errors import InputError, ModelFileError
from openpcf.files import yamlfile
from openpcf.files.bounded import read_bounded
from openpcf.io.inventory import Exchange, Flow, Inventory, Process
from openpcf.io.link_defaults import LinkDefault, bundled_defaults
from openpcf.io.uncertainty import Entry, MatrixUncertainty, aligned, counts
from openpcf.methods.gases import GAS_IDS

NO_PROVIDER = "no provider"
MISSING_PROVIDER = "provider not in database"
CO_PRODUCT = "co-product without allocation factors"
WASTE_INPUT = "waste input to a process that is not its treatment"
MISSING_FLOW = "flow not in database"
NO_REFERENCE = "no usable quantitative reference"
NO_NET_OUTPUT = "no net output (uses as much of its reference product as it makes)"
#: How many examples of each kind the report keeps.
EXAMPLES = 5


class LinkRulesError(InputError):
    """A link-rules file cannot be read."""


@dataclass(frozen=True, slots=True, kw_only=True)
class LinkRules:
    """How to choose among several producers of one flow.

    Attributes
    ----------
    providers
        Flow id (or exact flow name) -> process id to link every input of that flow to.
    prefer_locations
        Location codes in order of preference, tried when a flow has several producers.
    """

    providers: Mapping[str, str] = field(default_factory=dict)
    prefer_locations: tuple[str, ...] = ()

    @classmethod
    def from_file(cls, path: Path) -> LinkRules:
        """Read rules from YAML (``providers: {flow: process}``, ``prefer_locations: [..]``)
        or CSV (columns ``flow,provider``)."""
        # bounded read and YAML (nesting, aliases): a rules file is a few kB (issue 11)
        try:
            text = read_bounded(path, error=LinkRulesError).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise LinkRulesError(f"{path}: cannot read link rules ({exc}).") from None
        if path.suffix.lower() == ".csv":
            rows = list(csv.DictReader(text.splitlines()))
            if rows and not {"flow", "provider"} <= rows[0].keys():
                raise LinkRulesError(f"{path}: a link-rules CSV needs columns flow,provider.")
            return cls(providers={r["flow"].strip(): r["provider"].strip() for r in rows})
        try:
            data = yamlfile.load(path, text).data or {}
        except ModelFileError as exc:
            raise LinkRulesError(str(exc)) from None
        if not isinstance(data, dict):
            raise LinkRulesError(
                f"{path}: expected a mapping with 'providers' and/or 'prefer_locations'."
            )
        providers = data.get("providers") or {}
        locations = data.get("prefer_locations") or []
        if not isinstance(providers, dict) or not isinstance(locations, list):
            raise LinkRulesError(
                f"{path}: 'providers' must map flow -> process id and 'prefer_locations' "
                "must be a list of location codes."
            )
        return cls(
            providers={str(k): str(v) for k, v in providers.items()},
            prefer_locations=tuple(str(x) for x in locations),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class Column:
    """One activity of the linked system: a process producing one product."""

    id: str  # column label: process id, or "<process id>#<flow id>" for a co-product
    process_id: str
    name: str
    name_zh: str
    product_id: str
    product: str
    unit: str
    location: str
    #: the data set's own reference year (:attr:`Process.reference_year`), None if not given
    reference_year: int | None = None
    #: estimated share of the footprint the cut inputs would carry (0-1), None when unknown
    #: (:mod:`openpcf.io.cut_share`); None until the import computes it
    lost_share: float | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Link:
    """How one exchange of a process entered the linked system (for ``openpcf db show``)."""

    process_id: str
    flow_id: str
    flow: str
    kind: str  # "product", "waste", "elementary" or "" (flow not in the database)
    direction: str  # "input", "output" or "avoided"
    amount: float  # in ``unit``, per the process's exchanges as written
    unit: str
    provider: str = ""  # column id of the provider, for a linked input
    how: str = ""  # the linking rule, a cut reason, the gas id, or "unmapped elementary"
    is_reference: bool = False
    #: the exchange's distribution as written (:meth:`Distribution.describe`), "" if none
    distribution: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class Unlinked:
    """An exchange that was cut off, and why."""

    process_id: str
    process: str
    flow_id: str
    flow: str
    amount: float
    unit: str
    reason: str
    is_input: bool = True  # False: a waste output with no treatment, or a co-product
    is_avoided: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class LinkedDatabase:
    system: MatrixSystem
    columns: tuple[Column, ...]
    unlinked: tuple[Unlinked, ...]
    linked_by: Mapping[str, int]  # how inputs were linked: default provider, rule, unique …
    unmapped: Mapping[str, int]  # unmapped elementary flow name -> exchanges
    skipped: Mapping[str, str]  # process or column id -> why it has no activity
    shares: tuple[float, ...] = ()  # per column: its share of its process's exchanges
    links: tuple[Link, ...] = ()  # every exchange of every linked process, as linked
    #: stats_arrays parameters aligned with A and B (:func:`openpcf.io.uncertainty.aligned`)
    uncertainty: MatrixUncertainty | None = None
    #: entries summed from several exchanges, whose distributions could not be kept
    uncertainty_merged: int = 0


# --- columns --------------------------------------------------------------------------------


def _is_product_output(e: Exchange, flows: Mapping[str, Flow]) -> bool:
    f = flows.get(e.flow)
    return f is not None and f.kind == "product" and not e.is_input and not e.is_avoided


def _columns_of(proc: Process, flows: Mapping[str, Flow]) -> list[tuple[Column, Exchange, float]]:
    """(column, its product exchange, share) for each column the process gives."""
    ref = proc.reference
    if ref is None or ref.flow not in flows or ref.amount == 0.0:
        return []

    def column(e: Exchange, label: str) -> Column:
        f = flows[e.flow]
        return Column(
            id=label,
            process_id=proc.id,
            name=proc.name,
            name_zh=proc.name_zh,
            product_id=f.id,
            product=f.name,
            unit=f.unit,
            location=proc.location,
            reference_year=proc.reference_year,
        )

    outputs = [e for e in proc.exchanges if _is_product_output(e, flows) and e.amount != 0.0]
    if proc.allocation and len(outputs) > 1 and all(e.flow in proc.allocation for e in outputs):
        return [
            (column(e, proc.id if e is ref else f"{proc.id}#{e.flow}"), e, proc.allocation[e.flow])
            for e in outputs
        ]
    return [(column(ref, proc.id), ref, 1.0)]


# --- the linker -----------------------------------------------------------------------------


class _Linker:
    def __init__(
        self,
        inventory: Inventory,
        rules: LinkRules,
        excluded: Mapping[str, str],
        defaults: Mapping[str, LinkDefault],
    ) -> None:
        self.flows = inventory.flows
        self.rules = rules
        self.defaults = defaults
        self.columns: list[Column] = []
        self.parts: list[tuple[Process, Exchange, float, bool]] = []
        self.skipped: dict[str, str] = dict(excluded)
        for proc in inventory.processes:
            cols = _columns_of(proc, self.flows)
            if not cols:
                self.skipped[proc.id] = NO_REFERENCE
            for col, exc, share in cols:
                if col.id in excluded:
                    continue
                self.columns.append(col)
                self.parts.append((proc, exc, share, len(cols) > 1))
        self.index = {c.id: j for j, c in enumerate(self.columns)}
        # Candidates for automatic linking, by the direction of the column's own product
        # exchange: an input is supplied by a column that *outputs* the flow; a waste output
        # is taken by a column whose reference is an *input* of it (its treatment). A process
        # whose quantitative reference is a product input ("per 1 t of ore processed") is
        # computed for that input, but it does not supply the product to anyone.
        self.producers: dict[str, list[int]] = defaultdict(list)
        self.treatments: dict[str, list[int]] = defaultdict(list)
        self.by_process: dict[tuple[str, str], int] = {}
        for j, c in enumerate(self.columns):
            receives = self.parts[j][1].is_input
            (self.treatments if receives else self.producers)[c.product_id].append(j)
            self.by_process[(c.process_id, c.product_id)] = j
        self.processes = {p.id for p in inventory.processes}
        self.rule_flows = self._rule_flows()
        self.unlinked: list[Unlinked] = []
        self.links: list[Link] = []
        self.linked_by: Counter[str] = Counter()
        self.unmapped: Counter[str] = Counter()

    def _rule_flows(self) -> dict[str, str]:
        by_name: dict[str, list[str]] = defaultdict(list)
        for f in self.flows.values():
            by_name[f.name].append(f.id)
        out: dict[str, str] = {}
        for key, provider in self.rules.providers.items():
            for fid in [key] if key in self.flows else by_name.get(key, []):
                out[fid] = provider
        return out

    def provider(self, exc: Exchange, consumer: Process | None = None) -> tuple[int, str] | str:
        """(column index, how) of the provider of ``exc``'s flow for ``consumer``, or why there
        is none (the rules of the module docstring, in order)."""
        missing = False
        if exc.provider:
            j = self.by_process.get((exc.provider, exc.flow))
            if j is not None:
                return j, "default provider"
            missing = True
        rule = self.rule_flows.get(exc.flow)
        if rule is not None and (j := self.by_process.get((rule, exc.flow))) is not None:
            return j, "link rule"
        pool = self.producers if exc.is_input else self.treatments
        candidates = pool.get(exc.flow, [])
        if len(candidates) == 1:
            how = "unique producer (default provider absent)" if missing else "unique producer"
            return candidates[0], how
        if candidates:
            preferred = self._preferred(candidates)
            if len(preferred) == 1:
                return preferred[0], "preferred location"
            local = self._same_location(candidates, consumer)
            if len(local) == 1:
                return local[0], "same location"
            default = self.defaults.get(exc.flow)
            if default is not None:
                j = self.by_process.get((default.provider, exc.flow))
                if j is not None and j in candidates:
                    return j, "bundled default"
            return f"ambiguous: {len(candidates)} producers"
        return MISSING_PROVIDER if missing else NO_PROVIDER

    def _preferred(self, candidates: list[int]) -> list[int]:
        for loc in self.rules.prefer_locations:
            hits = [j for j in candidates if self.columns[j].location == loc]
            if hits:
                return hits
        return candidates

    def _same_location(self, candidates: list[int], consumer: Process | None) -> list[int]:
        """Candidates in the consumer's location, else in the nearest enclosing hyphenated
        code; never the consumer itself (a process taking in its own product, as TianGong's
        coal mines do, would otherwise supply itself and be left with no net output)."""
        if consumer is None:
            return []
        others = [j for j in candidates if self.columns[j].process_id != consumer.id]
        place = consumer.location.strip()
        while place:
            hits = [j for j in others if self.columns[j].location == place]
            if hits:
                return hits
            _, sep, place = place.partition("-")
            if not sep:
                break
        return []

    def record(self, proc: Process, exc: Exchange, provider: str, how: str) -> None:
        f = self.flows.get(exc.flow)
        self.links.append(
            Link(
                process_id=proc.id,
                flow_id=exc.flow,
                flow=f.name if f else "",
                kind=f.kind if f else "",
                direction="avoided" if exc.is_avoided else "input" if exc.is_input else "output",
                amount=exc.amount,
                unit=f.unit if f else "",
                provider=provider,
                how=how,
                is_reference=exc.is_reference,
                distribution=exc.uncertainty.describe() if exc.uncertainty else "",
            )
        )

    def cut(self, proc: Process, exc: Exchange, reason: str) -> None:
        f = self.flows.get(exc.flow)
        self.record(proc, exc, "", reason)
        self.unlinked.append(
            Unlinked(
                process_id=proc.id,
                process=proc.name,
                flow_id=exc.flow,
                flow=f.name if f else "",
                amount=exc.amount,
                unit=f.unit if f else "",
                reason=reason,
                is_input=exc.is_input,
                is_avoided=exc.is_avoided,
            )
        )

    def build(self) -> LinkedDatabase:
        n = len(self.columns)
        a_rows: list[int] = []
        a_cols: list[int] = []
        a_vals: list[float] = []
        a_unc: list[Entry] = []
        b_rows: list[int] = []
        b_cols: list[int] = []
        b_vals: list[float] = []
        b_unc: list[Entry] = []
        gas_row = {g: i for i, g in enumerate(GAS_IDS)}
        for j, (proc, product, share, allocated) in enumerate(self.parts):
            treatment = product.is_input  # a waste-treatment column
            a_rows.append(j)
            a_cols.append(j)
            a_vals.append(abs(product.amount) if treatment else product.amount)
            flip = -1.0 if treatment and product.amount < 0 else 1.0
            a_unc.append((j, j, _scaled(product, flip)))
            if product.is_reference:  # a process's exchanges are recorded once
                self.record(proc, product, "", "reference")
            for exc in proc.exchanges:
                if exc is product:
                    continue
                entry = self._entry(proc, exc, product, share, allocated)
                if entry is None:
                    continue
                kind, row, factor = entry
                if kind == "A":
                    a_rows.append(int(row))
                    a_cols.append(j)
                    a_vals.append(factor * exc.amount)
                    a_unc.append((int(row), j, _scaled(exc, factor)))
                else:
                    b_rows.append(gas_row[str(row)])
                    b_cols.append(j)
                    b_vals.append(factor * exc.amount)
                    b_unc.append((gas_row[str(row)], j, _scaled(exc, factor)))
        A = sp.csc_array((a_vals, (a_rows, a_cols)), shape=(n, n))
        B = sp.csc_array((b_vals, (b_rows, b_cols)), shape=(len(GAS_IDS), n))
        A.sum_duplicates()
        B.sum_duplicates()
        system = MatrixSystem(A=A, B=B, activities=tuple(c.id for c in self.columns), flows=GAS_IDS)
        a_params, a_merged = aligned(A, a_unc)
        b_params, b_merged = aligned(B, b_unc)
        return LinkedDatabase(
            system=system,
            columns=tuple(self.columns),
            unlinked=tuple(self.unlinked),
            linked_by=dict(self.linked_by),
            unmapped=dict(self.unmapped.most_common()),
            skipped=dict(self.skipped),
            shares=tuple(part[2] for part in self.parts),
            links=tuple(self.links),
            uncertainty=MatrixUncertainty(A=a_params, B=b_params),
            uncertainty_merged=a_merged + b_merged,
        )

    def _entry(
        self, proc: Process, exc: Exchange, product: Exchange, share: float, allocated: bool
    ) -> tuple[str, int | str, float] | None:
        """("A", row, c) or ("B", gas, c) for one exchange of one column, or None: the entry
        is ``c`` times the exchange's amount (sign and allocation share)."""
        first = product.is_reference  # count each exchange once, on the reference column
        flow = self.flows.get(exc.flow)
        if flow is None:
            if first:
                self.cut(proc, exc, MISSING_FLOW)
            return None
        if flow.kind == "elementary":
            if flow.gas is None:
                if first:
                    self.unmapped[flow.name] += 1
                    self.record(proc, exc, "", "unmapped elementary")
                return None
            if first:
                self.record(proc, exc, "", flow.gas)
            sign = (-1.0 if exc.is_input else 1.0) * (-1.0 if flow.gas == "CO2-uptake" else 1.0)
            return "B", flow.gas, sign * share
        if flow.kind == "product" and not exc.is_input and not exc.is_avoided:
            if not allocated and first:  # a co-product that is cut off
                self.cut(proc, exc, CO_PRODUCT)
            elif first:
                self.record(proc, exc, "", "allocated co-product")
            return None
        if flow.kind == "waste" and exc.is_input:
            if first:
                self.cut(proc, exc, WASTE_INPUT)
            return None
        target = self.provider(exc, proc)
        if isinstance(target, str):
            if first:
                self.cut(proc, exc, target)
            return None
        if first:
            self.linked_by[target[1]] += 1
            self.record(proc, exc, self.columns[target[0]].id, target[1])
        sign = 1.0 if exc.is_avoided else -1.0
        return "A", target[0], sign * share


def _scaled(exc: Exchange, factor: float) -> Distribution | None:
    return exc.uncertainty.scaled(factor) if exc.uncertainty is not None else None


def link(
    inventory: Inventory,
    rules: LinkRules | None = None,
    *,
    defaults: Mapping[str, LinkDefault] | None = None,
) -> LinkedDatabase:
    """Link ``inventory`` into ``A`` and ``B`` (see the module docstring for the rules).

    ``defaults`` are the per-product default providers (flow id -> :class:`LinkDefault`); the
    bundled ones (:func:`~openpcf.io.link_defaults.bundled_defaults`) when not given.

    An activity whose net output ``A[j, j]`` is not positive (it consumes at least as much of
    its own reference product as it makes) cannot supply anything and makes ``A`` singular:
    it is left out with the reason :data:`NO_NET_OUTPUT` and the rest is linked again without
    it (inputs that had linked to it are re-linked or cut).
    """
    excluded: dict[str, str] = {}
    while True:
        chosen = bundled_defaults() if defaults is None else defaults
        linked = _Linker(inventory, rules or LinkRules(), excluded, chosen).build()
        diagonal = linked.system.A.diagonal()
        bad = {linked.columns[int(j)].id for j in np.flatnonzero(~(diagonal > 0.0))}
        if not bad:
            return linked
        excluded.update(dict.fromkeys(bad, NO_NET_OUTPUT))


# --- the import report ----------------------------------------------------------------------


def _examples(items: list[str]) -> list[str]:
    return items[:EXAMPLES]


def build_report(inventory: Inventory, linked: LinkedDatabase) -> dict[str, Any]:
    """The import report: counts, unlinked exchanges by reason, problems by kind,
    unit conversions and unmapped elementary flows (JSON-ready)."""
    kinds = Counter(f.kind for f in inventory.flows.values())
    by_reason: dict[str, list[Unlinked]] = defaultdict(list)
    for u in linked.unlinked:
        by_reason[u.reason].append(u)
    skipped: dict[str, list[str]] = defaultdict(list)
    for pid, reason in linked.skipped.items():
        skipped[reason].append(pid)
    problems: dict[str, list[str]] = defaultdict(list)
    conversions: list[str] = []
    for p in inventory.problems:
        if p.kind == "unit-conversion":
            conversions.append(p.detail)
        else:
            problems[p.kind].append(f"{p.where}: {p.detail}")
    gases = Counter(f.gas for f in inventory.flows.values() if f.gas)
    return {
        "format": inventory.format,
        "source": inventory.source,
        "counts": {
            "processes": len(inventory.processes),
            "flows": len(inventory.flows),
            "product_flows": kinds.get("product", 0),
            "waste_flows": kinds.get("waste", 0),
            "elementary_flows": kinds.get("elementary", 0),
            "exchanges": sum(len(p.exchanges) for p in inventory.processes),
            "activities": linked.system.size,
            "technosphere_entries": int(linked.system.A.nnz),
            "intervention_entries": int(linked.system.B.nnz),
            "processes_skipped": len(linked.skipped),  # (activities, for allocated ones)
        },
        "linked": dict(sorted(linked.linked_by.items())),
        "unlinked": {
            reason: {
                "count": len(items),
                "examples": [
                    f"{u.process} <- {u.flow} ({u.amount:g} {u.unit})" for u in items[:EXAMPLES]
                ],
            }
            for reason, items in sorted(by_reason.items(), key=lambda kv: -len(kv[1]))
        },
        "problems": {
            kind: {"count": len(items), "examples": _examples(items)}
            for kind, items in sorted(problems.items())
        },
        "unit_conversions": conversions,
        "elementary": {
            "mapped_flows": dict(sorted(gases.items())),
            "unmapped_flows": len(linked.unmapped),
            "unmapped_exchanges": int(sum(linked.unmapped.values())),
            "unmapped_examples": list(linked.unmapped)[:20],
        },
        "skipped": {
            reason: {"count": len(ids), "examples": _examples(ids)}
            for reason, ids in sorted(skipped.items())
        },
        "uncertainty": _uncertainty_report(inventory, linked),
    }


def _uncertainty_report(inventory: Inventory, linked: LinkedDatabase) -> dict[str, Any]:
    """Exchanges by distribution, dropped ones, and matrix entries that carry one."""
    stored = linked.uncertainty
    dropped = [f"{p.where}: {p.detail}" for p in inventory.uncertainty_problems]
    return {
        "method": "docs/databases.md#uncertainty",
        "exchanges": counts(e.uncertainty for p in inventory.processes for e in p.exchanges),
        "dropped": {"count": len(dropped), "examples": _examples(dropped)},
        "technosphere_entries": int((stored.A["uncertainty_type"] > 1).sum()) if stored else 0,
        "intervention_entries": int((stored.B["uncertainty_type"] > 1).sum()) if stored else 0,
        "merged_entries": linked.uncertainty_merged,
    }


def gas_intensity_matrix(system: MatrixSystem) -> np.ndarray:
    """``Λ = A⁻ᵀ Bᵀ I``: kg of each gas per unit of every column's product (n x 17)."""
    from openpcf.core.engine import intensities

    return intensities(system, np.eye(len(system.flows)), cache=None)
