"""The in-memory inventory every importer returns, whatever the file format.

An :class:`Inventory` is a set of unit processes and the flows they exchange, as the source
wrote them (no linking yet), plus the :class:`Problem` list of everything the reader could not
take in. Amounts are already converted into the flow's reference unit (``Flow.unit``); the
conversions applied are recorded as problems of kind ``"unit-conversion"`` (informational).

Design note: readers never raise on a bad record inside a database (a dangling reference, an
unknown unit, a non-UUID id); they record a :class:`Problem` and go on, so one bad exchange
never stops a 4,000-process import. They raise :class:`~openpcf.errors.InputError` subclasses
only when the input as a whole is unusable (not a zip or folder, no processes at all).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

FlowKind = Literal["product", "waste", "elementary"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Flow:
    id: str  # the source's UUID (or id) of the flow
    name: str
    kind: FlowKind
    unit: str  # reference unit, pint-parsable where possible
    name_zh: str = ""
    cas: str = ""
    compartment: str = ""  # e.g. "emission/air/urban", "resource/in air"
    gas: str | None = None  # OpenPCF gas id when the flow is a mapped greenhouse gas


@dataclass(frozen=True, slots=True, kw_only=True)
class Exchange:
    flow: str  # Flow.id
    amount: float  # in the flow's reference unit, per the process's exchanges as written
    is_input: bool
    provider: str | None = None  # process id of the default provider, where the source has one
    is_reference: bool = False  # the quantitative reference (reference product)
    is_avoided: bool = False  # avoided product (openLCA): an output booked as negative input


@dataclass(frozen=True, slots=True, kw_only=True)
class Process:
    id: str  # the source's UUID of the process
    name: str
    exchanges: tuple[Exchange, ...]
    name_zh: str = ""
    location: str = ""
    category: str = ""
    #: product flow id -> share of every non-product exchange carried by that product
    #: (the source's default allocation for multi-output processes), empty if none given
    allocation: dict[str, float] = field(default_factory=dict)
    allocation_method: str = ""

    @property
    def reference(self) -> Exchange | None:
        return next((e for e in self.exchanges if e.is_reference), None)


ProblemKind = Literal[
    "missing-flow",  # an exchange refers to a flow that is not in the data
    "bad-reference",  # a reference that is not a valid id (e.g. not a UUID)
    "unknown-unit",  # a unit the reader cannot convert into the flow's reference unit
    "unit-conversion",  # informational: a conversion that was applied
    "malformed",  # a file or record that cannot be parsed
    "no-reference",  # a process without a quantitative reference product
    "unmapped-elementary",  # informational: elementary flow not mapped to a GHG
]


@dataclass(frozen=True, slots=True, kw_only=True)
class Problem:
    kind: ProblemKind
    where: str  # file and record, e.g. "processes/<uuid>.xml exchange 12"
    detail: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Inventory:
    format: Literal["jsonld", "ilcd", "ecospold2"]
    name: str
    processes: tuple[Process, ...]
    flows: dict[str, Flow]
    problems: tuple[Problem, ...] = ()
    licence: str = ""  # licence text found in the source (e.g. a LICENSE file in the zip)
    source: str = ""  # file name / origin
