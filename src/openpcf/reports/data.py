"""The typed data of a CFP study report: every number rounded, every unit attached.

This is the middle of the three report steps (result → report data → rendered document). The
builder (:mod:`openpcf.reports.build`) fills these frozen dataclasses from a calculation; the
renderers (:mod:`openpcf.reports.html`, :mod:`openpcf.reports.pdf`) only lay them out. A number
is stored twice: ``value`` rounded to a sensible number of significant figures (for machines and
charts) and ``text``, the string the reader sees (for the template, which does no formatting).

:func:`to_dict` turns a :class:`ReportData` into plain JSON-ready data; the golden-file tests
compare that dump.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True, kw_only=True)
class Quantity:
    """A rounded amount with its unit and its printed form."""

    value: float
    unit: str
    text: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Percent:
    """A share in per cent (rounded to 0.1) and its printed form, e.g. ``"12.3 %"``."""

    value: float
    text: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Field:
    """One labelled line of a description list."""

    label: str
    text: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Bar:
    """One bar of a chart: ``fraction`` (0..1) of the longest bar, ``negative`` for removals."""

    label: str
    value: float
    text: str
    fraction: float
    negative: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class Chart:
    id: str
    title: str
    unit: str
    bars: tuple[Bar, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class StageRow:
    stage: str
    label: str
    included: bool
    co2e: Quantity
    share: Percent


@dataclass(frozen=True, slots=True, kw_only=True)
class SplitRow:
    key: str
    label: str
    co2e: Quantity


@dataclass(frozen=True, slots=True, kw_only=True)
class GasRow:
    gas: str
    name: str
    kg: Quantity
    gwp: str
    co2e: Quantity
    share: Percent


@dataclass(frozen=True, slots=True, kw_only=True)
class ContributorRow:
    """One exchange: ``process`` and ``label`` are the model's ids, ``process_name`` and
    ``name`` what the reader sees (process name; factor, database process or supplier product
    name with its database or company; gas name)."""

    rank: int
    process: str
    process_name: str
    label: str
    name: str
    kind: str  # translated kind of input (background data, electricity, supplier data …)
    amount: Quantity
    co2e: Quantity
    share: Percent
    primary: str
    pedigree: str
    where: str


@dataclass(frozen=True, slots=True, kw_only=True)
class ProcessRow:
    id: str
    name: str
    stage: str
    output: str
    geography: str
    co2e: Quantity
    share: Percent
    significant: str
    comment: str


@dataclass(frozen=True, slots=True, kw_only=True)
class FactorRow:
    """A factor used; ``source`` and ``licence`` are short labels ending in their annex
    reference (``"MIT License [L1]"``): the full texts are printed once, in the annex."""

    id: str
    name: str
    unit: str
    co2e_per_unit: Quantity
    geography: str
    year: int
    source: str
    licence: str
    illustrative: str


@dataclass(frozen=True, slots=True, kw_only=True)
class ReferenceRow:
    """One distinct source or licence text, printed once in the annex."""

    ref: str  # S1, S2 … for sources, L1, L2 … for licences
    text: str
    used_by: str  # names of the factors that cite it


@dataclass(frozen=True, slots=True, kw_only=True)
class ParameterRow:
    name: str
    value: str
    definition: str
    overridden: str


@dataclass(frozen=True, slots=True, kw_only=True)
class ElectricityRow:
    requested: str
    level: str
    factor: str  # the factor's name
    factor_id: str
    intensity: Quantity
    year: int
    source: str
    note: str


@dataclass(frozen=True, slots=True, kw_only=True)
class AllocationRow:
    process: str
    products: str
    method: str
    justification: str


@dataclass(frozen=True, slots=True, kw_only=True)
class SensitivityRow:
    parameter: str
    base: str
    low: str
    high: str
    change: str
    note: str  # why a variant could not be computed, else empty
    max_change: float  # largest |change| of the two variants, per cent (sort key)


@dataclass(frozen=True, slots=True, kw_only=True)
class SobolRow:
    """One input's Sobol indices: texts ``"0.69 ± 0.04"``; ``share`` its analytic share."""

    input: str
    share: str
    s1: str
    st: str


@dataclass(frozen=True, slots=True, kw_only=True)
class SobolSection:
    """Global sensitivity (:func:`openpcf.reports.sensitivity.global_indices`): the seed and
    base sample that reproduce it, the indices by decreasing total index, and a chart."""

    seed: int
    n: int
    text: str
    rows: tuple[SobolRow, ...]
    chart: Chart


@dataclass(frozen=True, slots=True, kw_only=True)
class GwpRow:
    gwp: str
    name: str
    total: Quantity
    change: Percent


@dataclass(frozen=True, slots=True, kw_only=True)
class ChecklistRow:
    requirement: str
    section: int
    title: str


@dataclass(frozen=True, slots=True, kw_only=True)
class ConformanceRow:
    """One clause of the rule set the calculation was made under, and the model's status."""

    clause: str
    requirement: str
    source: str
    status: str
    detail: str  # the choice the clause made, or its findings


@dataclass(frozen=True, slots=True, kw_only=True)
class Section:
    number: int
    anchor: str
    title: str


@dataclass(frozen=True, slots=True, kw_only=True)
class ReportData:
    """Everything a CFP study report shows, in one language, ready to lay out."""

    lang: str
    title: str
    subtitle: str
    product: str
    generated: str  # ISO date
    software: str
    sections: tuple[Section, ...]
    # 1 results (ISO 14067 7.2)
    total: Quantity
    per_unit: str
    gwp_id: str
    headline_label: str  # what the headline figure is: "CFP per 1 piece (AR6, cradle to grave)"
    split: tuple[SplitRow, ...]
    stages: tuple[StageRow, ...]
    gases: tuple[GasRow, ...]
    contributors: tuple[ContributorRow, ...]
    charts: tuple[Chart, ...]
    # 2 product and unit, 3 boundary
    product_fields: tuple[Field, ...]
    unit_fields: tuple[Field, ...]
    boundary_fields: tuple[Field, ...]
    exclusions: tuple[str, ...]
    model_comment: str
    # 4 processes
    processes_intro: str
    processes: tuple[ProcessRow, ...]
    # 5 data
    quality_fields: tuple[Field, ...]
    factors: tuple[FactorRow, ...]
    # 6 GHGs
    ghg_fields: tuple[Field, ...]
    # 7 allocation, 8 electricity, 9 period
    allocations: tuple[AllocationRow, ...]
    electricity: tuple[ElectricityRow, ...]
    electricity_factors: tuple[FactorRow, ...]
    period_fields: tuple[Field, ...]
    # 10 sensitivity and uncertainty
    sensitivity_intro: str
    sensitivity: tuple[SensitivityRow, ...]
    gwp_sensitivity: tuple[GwpRow, ...]
    uncertainty: str
    #: the variance each uncertain input contributes (first-order propagation), when the model
    #: has distributions
    uncertainty_chart: Chart | None = None
    #: Sobol indices of the most contributing uncertain inputs, when the model has some
    sobol: SobolSection | None = None
    # 11 interpretation
    conclusions: tuple[str, ...]
    limitations: tuple[str, ...]
    notes: tuple[str, ...]
    value_choices: tuple[str, ...]
    # 12 rules and review; annexes
    rules_fields: tuple[Field, ...]
    #: clause by clause, when the calculation was made under a rule set (``calc --rules``)
    conformance: tuple[ConformanceRow, ...] = ()
    checklist: tuple[ChecklistRow, ...]
    provenance: tuple[Field, ...]
    inventory: tuple[ContributorRow, ...]  # every exchange, in model order
    parameters: tuple[ParameterRow, ...]
    sources: tuple[ReferenceRow, ...]
    licences: tuple[ReferenceRow, ...]


def to_dict(data: ReportData) -> dict[str, Any]:
    """A JSON-ready copy of ``data`` (tuples become lists)."""
    return dataclasses.asdict(data)
