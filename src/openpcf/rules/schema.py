"""The rule-set file: a product's calculation rules as data, every clause with its source.

A rule set (one YAML file per product class, bilingual) says what a footprint of that product
must follow to be comparable: declared unit, boundary and stages, mandatory inputs and
emissions, cut-off, allocation per co-product situation, electricity modelling, recycled
content, data quality, primary data, GWP set and reporting fields. Each clause names its
source (document, clause, year) and whether the clause's text is public; a requirement whose
text is not public is marked ``access: not-public`` and carries only what a public summary
says (named in ``note``), never an invented paraphrase. ``docs/rules.md`` describes the format.

Some clause kinds only check a model (``openpcf check``); others also change the calculation
when it is run under the rule set (``calc --rules``): ``allocation``, ``electricity``,
``recycled_content`` and ``cutoff`` (see :mod:`openpcf.rules.apply`).
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator

from openpcf.core.units import DeclaredUnit
from openpcf.files.schema import Strict
from openpcf.methods.gases import GAS_IDS
from openpcf.model.schema import STAGES, Boundary, Stage

RULE_ID_PATTERN = r"^[a-z0-9][a-z0-9.\-]*[a-z0-9]$"
AllocationMethod = Literal["mass", "energy", "economic", "substitution"]
RecycledContentMethod = Literal["cut-off", "50-50", "cff"]
InstrumentType = Literal["GEC", "I-REC", "PPA", "onsite", "GO", "REC"]
Severity = Literal["error", "warning"]


class Text(Strict):
    """A text in English and Chinese."""

    en: str = Field(min_length=1)
    zh: str = Field(min_length=1)


class Source(Strict):
    """Where a clause comes from.

    ``access``: ``public`` (the text can be read free of charge, ``url`` names where),
    ``paywalled`` (a standard sold by its publisher; the requirement is the rule set's summary
    of the clause), ``not-public`` (the text could not be obtained; the clause carries only what
    the public summary named in ``note`` says, or is a ``manual`` clause saying so).
    """

    document: str = Field(min_length=3)  # e.g. "ISO 14067:2018", "GB/T 24067-2024"
    clause: str = Field(min_length=1)  # e.g. "6.3.4.3", "Annex II, 4.2", "whole document"
    year: int = Field(ge=1990, le=2100)
    access: Literal["public", "paywalled", "not-public"]
    url: str | None = None
    note: str = ""

    @model_validator(mode="after")
    def _not_public_says_how(self) -> Source:
        if self.access == "not-public" and not self.note:
            raise ValueError(
                "a not-public source needs a 'note' saying where the requirement was read "
                "(a public summary) or that it is not encoded"
            )
        return self


class Matcher(Strict):
    """What counts as a match among a model's exchanges (any of the lists may match).

    ``factors``: glob patterns on factor ids and ``background:`` references; ``text``: regular
    expressions (case-insensitive) searched in process ids and names, input comments, factor
    ids and supplier references; ``gases``: direct emissions of these gases;
    ``kinds``: input kinds (``shipment``, ``electricity``, ``electricity_claim``, ...).
    """

    factors: list[str] = Field(default_factory=list)
    text: list[str] = Field(default_factory=list)
    gases: list[str] = Field(default_factory=list)
    kinds: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _something(self) -> Matcher:
        if not (self.factors or self.text or self.gases or self.kinds):
            raise ValueError("a match needs at least one of factors, text, gases, kinds")
        return self

    @field_validator("text")
    @classmethod
    def _compiles(cls, value: list[str]) -> list[str]:
        for pattern in value:
            try:
                re.compile(pattern)
            except re.error as e:
                raise ValueError(
                    f"text pattern {pattern!r} is not a regular expression: {e}"
                ) from None
        return value

    @field_validator("gases")
    @classmethod
    def _known_gases(cls, value: list[str]) -> list[str]:
        unknown = sorted(set(value) - set(GAS_IDS))
        if unknown:
            raise ValueError(f"unknown gases {unknown}; use ids of {', '.join(GAS_IDS)}")
        return value


class _Clause(Strict):
    id: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_\-]*$")]
    source: Source
    requirement: Text
    hint: Text | None = None
    severity: Severity = "error"


class DeclaredUnitClause(_Clause):
    kind: Literal["declared_unit"]
    units: list[DeclaredUnit] = Field(min_length=1)
    #: the declared amount, when the rule fixes it (e.g. 1000 for "1 t" as kilogram)
    amounts: list[float] = Field(default_factory=list)


class BoundaryClause(_Clause):
    kind: Literal["boundary"]
    boundaries: list[Boundary] = Field(min_length=1)


class StagesClause(_Clause):
    """Life-cycle stages the model must have processes in."""

    kind: Literal["mandatory_stages"]
    stages: list[Stage] = Field(min_length=1)


class RequiredItem(Strict):
    id: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_\-]*$")]
    what: Text
    match: Matcher


class InputsClause(_Clause):
    """Processes, inputs or emissions the model must contain (each item at least once)."""

    kind: Literal["mandatory_inputs"]
    items: list[RequiredItem] = Field(min_length=1)


class CutoffClause(_Clause):
    """The cut-off criterion: the model's ``cutoff_percent`` may not exceed ``max_percent``;
    under ``calc --rules`` inputs below it (share of the total, by ``basis``) are cut, as long
    as all cut inputs together stay under ``max_total_percent``."""

    kind: Literal["cutoff"]
    max_percent: float = Field(ge=0, le=100)
    max_total_percent: float | None = Field(None, ge=0, le=100)
    basis: Literal["emissions"] = "emissions"
    applies: bool = False  # whether calc --rules cuts inputs below the criterion


class AllocationClause(_Clause):
    """How a multi-output process whose co-products match ``co_products`` is allocated."""

    kind: Literal["allocation"]
    situation: Text
    #: regular expressions (case-insensitive) on the co-product names (zh or en)
    co_products: list[str] = Field(min_length=1)
    methods: list[AllocationMethod] = Field(min_length=1)
    #: the method ``calc --rules`` sets (one of ``methods``); none: the rule only checks
    applies: AllocationMethod | None = None

    @model_validator(mode="after")
    def _applies_allowed(self) -> AllocationClause:
        if self.applies is not None and self.applies not in self.methods:
            raise ValueError(f"applies: {self.applies} is not one of methods {self.methods}")
        for pattern in self.co_products:
            try:
                re.compile(pattern)
            except re.error as e:
                raise ValueError(f"co_products pattern {pattern!r}: {e}") from None
        return self


class ElectricityClause(_Clause):
    """Electricity modelling: ``location`` (grid mix only), ``market`` (contractual
    instruments of the listed types; the grid mix where none), or ``either``."""

    kind: Literal["electricity"]
    method: Literal["location", "market", "either"]
    instruments: list[InstrumentType] = Field(default_factory=list)
    #: whether ``calc --rules`` enforces the method (location: claims become their grid)
    applies: bool = False

    @model_validator(mode="after")
    def _instruments(self) -> ElectricityClause:
        if self.method == "location" and self.instruments:
            raise ValueError("a location-based rule accepts no instruments")
        return self


class RecycledContentClause(_Clause):
    kind: Literal["recycled_content"]
    methods: list[RecycledContentMethod] = Field(min_length=1)
    applies: RecycledContentMethod | None = None
    #: the Circular Footprint Formula's allocation factor A, when the rule fixes it
    cff_a: float | None = Field(None, ge=0, le=1)


class DataQualityClause(_Clause):
    """Pedigree scores (1 best .. 5 worst) of the inputs that contribute at least
    ``significant_percent`` of the total may not exceed ``max_score``."""

    kind: Literal["data_quality"]
    max_score: int = Field(ge=1, le=5)
    significant_percent: float = Field(0.0, ge=0, le=100)


class PrimaryDataClause(_Clause):
    """At least ``min_share`` of the footprint from primary (site-specific) data; with
    ``processes``, those processes (regex on id or name) must be modelled with primary data."""

    kind: Literal["primary_data"]
    min_share: float = Field(0.0, ge=0, le=1)
    processes: list[str] = Field(default_factory=list)


class GwpClause(_Clause):
    kind: Literal["gwp"]
    sets: list[str] = Field(min_length=1)


ReportingField = Literal[
    "cn_code",
    "cpc",
    "description",
    "name_zh",
    "company_ids",
    "geography",
    "exclusions_justified",
    "allocation_justified",
    "quality_scores",
]


class ReportingClause(_Clause):
    """Fields the model (and so the report and PACT document) must carry; a reference period
    no longer than ``max_period_months``."""

    kind: Literal["reporting"]
    fields: list[ReportingField] = Field(default_factory=list)
    max_period_months: int | None = Field(None, ge=1, le=120)


class ManualClause(_Clause):
    """A requirement no model check can decide (a verifier confirms it), or a source whose text
    is not public, recorded so the report lists it as "to be confirmed"."""

    kind: Literal["manual"]
    severity: Severity = "warning"


Clause = Annotated[
    DeclaredUnitClause
    | BoundaryClause
    | StagesClause
    | InputsClause
    | CutoffClause
    | AllocationClause
    | ElectricityClause
    | RecycledContentClause
    | DataQualityClause
    | PrimaryDataClause
    | GwpClause
    | ReportingClause
    | ManualClause,
    Field(discriminator="kind"),
]
CLAUSE_KINDS: tuple[str, ...] = (
    "declared_unit",
    "boundary",
    "mandatory_stages",
    "mandatory_inputs",
    "cutoff",
    "allocation",
    "electricity",
    "recycled_content",
    "data_quality",
    "primary_data",
    "gwp",
    "reporting",
    "manual",
)


class ProductClass(Strict):
    """Which products a rule set is for: a model declaring it must match (``cn_codes``:
    prefixes of the product's CN/HS code, digits only; ``keywords``: regular expressions on
    the product's name, zh or en). Empty lists: any product."""

    name: Text
    cn_codes: list[Annotated[str, Field(pattern=r"^[0-9]{2,10}$")]] = Field(default_factory=list)
    keywords: list[str] = Field(default_factory=list)


class RuleSet(Strict):
    """One rule-set file."""

    openpcf_rules: Literal[1] = 1
    id: Annotated[str, Field(pattern=RULE_ID_PATTERN)]
    version: Annotated[str, Field(pattern=r"^[0-9A-Za-z][0-9A-Za-z.\-]*$")]
    title: Text
    product_class: ProductClass
    summary: Text
    #: the documents the rule set is built on, most specific first (free text per document)
    documents: list[str] = Field(min_length=1)
    clauses: list[Clause] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique_clauses(self) -> RuleSet:
        ids = [c.id for c in self.clauses]
        dupes = sorted({i for i in ids if ids.count(i) > 1})
        if dupes:
            raise ValueError(f"clause ids must be unique in a rule set; repeated: {dupes}")
        return self


__all__ = ["CLAUSE_KINDS", "STAGES", "Clause", "RuleSet"]
