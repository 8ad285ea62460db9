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

import re
from dataclasses import dataclass, field
from typing import Literal

from openpcf.core.uncertainty import Distribution

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
    #: the source's distribution of ``amount`` (same unit and sign), None when it gives none
    #: or an impossible one (then a ``"bad-uncertainty"`` problem): :mod:`openpcf.io.uncertainty`
    uncertainty: Distribution | None = None


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
    #: the year the data set's data refer to, as the source states it (ILCD ``referenceYear``,
    #: JSON-LD ``processDocumentation.validFrom``, ecospold2 ``timePeriod/@startDate``);
    #: ``None`` when the source gives none or an implausible one (see :func:`plausible_year`)
    reference_year: int | None = None

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
    "suspicious-unit",  # a conversion factor that disagrees with pint's for the same units
    "bad-uncertainty",  # a distribution with impossible parameters: dropped, the amount kept
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
    #: ``"bad-uncertainty"`` problems: kept apart because the exchange itself is kept
    #: (:func:`split_problems`)
    uncertainty_problems: tuple[Problem, ...] = ()
    licence: str = ""  # licence text found in the source (e.g. a LICENSE file in the zip)
    source: str = ""  # file name / origin


#: Reference years outside this range are placeholders (USLCI writes 9999) or typos.
YEAR_RANGE = (1900, 2100)


def plausible_year(text: object) -> int | None:
    """The year at the start of ``text`` (``"2019"``, ``"2010-01-01T00:00:00-07:00"``) if it
    lies in :data:`YEAR_RANGE`, else ``None``."""
    match = re.match(r"\s*(\d{4})", str(text or ""))
    if match is None:
        return None
    year = int(match.group(1))
    return year if YEAR_RANGE[0] <= year <= YEAR_RANGE[1] else None


def split_problems(problems: list[Problem]) -> dict[str, tuple[Problem, ...]]:
    """``problems`` and ``uncertainty_problems`` for :class:`Inventory`, from one list."""
    return {
        "problems": tuple(p for p in problems if p.kind != "bad-uncertainty"),
        "uncertainty_problems": tuple(p for p in problems if p.kind == "bad-uncertainty"),
    }


def kept_uncertainty(
    parsed: Distribution | str | None, factor: float, where: str, problems: list[Problem]
) -> Distribution | None:
    """The distribution a reader parsed, scaled by the ``factor`` it applied to the amount
    (:meth:`Distribution.scaled`); a reason string (impossible parameters) becomes a
    ``"bad-uncertainty"`` problem at ``where`` and no distribution, the amount being kept."""
    if isinstance(parsed, str):
        detail = f"{parsed}; the uncertainty is dropped, the amount kept"
        problems.append(Problem(kind="bad-uncertainty", where=where, detail=detail))
        return None
    return parsed.scaled(factor) if parsed is not None else None
