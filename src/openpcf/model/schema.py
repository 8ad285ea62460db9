"""The product model file, as typed and validated data.

A model describes one product (its identity, declared unit, system boundary) and the
processes of its life cycle, each assigned to one stage. Exchanges are inputs (from another
process of the model, from a background factor by id, from the grid of a region and year, or
from a supplier's PACT footprint) and direct emissions per gas. Amounts are numbers or
parameter expressions; units are anything pint can convert into the flow's reference unit.

Validation here is structural (names, types, allowed values); references between processes,
factors and units are checked by the compiler, which knows the factor sets.
"""

from __future__ import annotations

import datetime as dt
import keyword
from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator

from openpcf.core import uncertainty as dist
from openpcf.core.quality import Pedigree
from openpcf.core.units import DeclaredUnit
from openpcf.errors import InputError
from openpcf.files.schema import Strict
from openpcf.methods.gases import GAS_IDS

Stage = Literal[
    "raw_material_acquisition",
    "production",
    "distribution",
    "use",
    "end_of_life",
]
STAGES: tuple[str, ...] = (
    "raw_material_acquisition",
    "production",
    "distribution",
    "use",
    "end_of_life",
)
Boundary = Literal["cradle-to-gate", "cradle-to-grave", "gate-to-gate"]
#: Stages each boundary includes (ISO 14067 6.3.4; GB/T 24067 partial CFP).
BOUNDARY_STAGES: dict[str, tuple[str, ...]] = {
    "cradle-to-gate": ("raw_material_acquisition", "production"),
    "cradle-to-grave": STAGES,
    "gate-to-gate": ("production",),
}
Amount = float | str
ID_PATTERN = r"^[A-Za-z_][A-Za-z0-9_.\-]*$"


class Quality(Strict):
    """Weidema pedigree scores, 1 (best) to 5 (worst)."""

    reliability: int = Field(5, ge=1, le=5)
    completeness: int = Field(5, ge=1, le=5)
    temporal: int = Field(5, ge=1, le=5)
    geographical: int = Field(5, ge=1, le=5)
    technological: int = Field(5, ge=1, le=5)

    def pedigree(self) -> Pedigree:
        return Pedigree(**self.model_dump())


class Uncertainty(Strict):
    """``uncertainty:`` of an input, emission or parameter (see ``docs/uncertainty.md``).

    One of: ``{distribution: lognormal, gsd2: 1.2}`` (or ``sigma:``, σ of ln; the amount is
    the median), ``{distribution: normal, sd: 0.3}`` (the amount is the mean),
    ``{distribution: uniform, min:, max:}``, ``{distribution: triangular, min:, mode:, max:}``
    (in the exchange's unit), or ``{pedigree: true, basic: 1.05}``: lognormal with σ from the
    exchange's ``quality:`` scores and a basic uncertainty given as GSD² (ecoinvent v3).
    """

    distribution: Literal["lognormal", "normal", "uniform", "triangular"] | None = None
    gsd2: float | None = None
    sigma: float | None = None
    sd: float | None = None
    min: float | None = None
    mode: float | None = None
    max: float | None = None
    pedigree: bool = False
    basic: float | None = None

    @model_validator(mode="after")
    def _consistent(self) -> Uncertainty:
        fields = ("gsd2", "sigma", "sd", "min", "mode", "max", "basic")
        given = {k for k in fields if getattr(self, k) is not None}
        if self.pedigree:
            if self.distribution not in (None, "lognormal") or given != {"basic"}:
                raise ValueError(
                    "a pedigree uncertainty is lognormal and takes only 'basic' (the basic "
                    "uncertainty as GSD², e.g. 1.05), with the scores from the exchange's quality:"
                )
        elif self.distribution is None:
            raise ValueError(
                "give 'distribution' (lognormal, normal, uniform, triangular) or 'pedigree: true'"
            )
        else:
            self._fields_match(self.distribution, given)
        try:
            self._checked()
        except InputError as e:
            raise ValueError(str(e)) from None
        return self

    @staticmethod
    def _fields_match(name: str, given: set[str]) -> None:
        allowed = {
            "lognormal": {"gsd2", "sigma"},
            "normal": {"sd"},
            "uniform": {"min", "max"},
            "triangular": {"min", "mode", "max"},
        }[name]
        extra = sorted(given - allowed)
        if extra:
            raise ValueError(f"{name} takes {', '.join(sorted(allowed))}, not {', '.join(extra)}")
        need = {"lognormal": 1, "normal": 1}.get(name, len(allowed))
        if len(given) != need:
            raise ValueError(
                f"{name} needs "
                + ("one of gsd2, sigma" if name == "lognormal" else ", ".join(sorted(allowed)))
            )

    def _checked(self) -> dist.Distribution | None:
        """The parameters' own checks (σ >= 0, min < max, mode in range); the uniform or
        triangular distribution itself, which does not depend on the amount."""
        if self.pedigree:
            dist.sigma_from_gsd2(_given(self.basic))
        elif self.distribution == "lognormal":
            if self.gsd2 is not None:
                dist.sigma_from_gsd2(self.gsd2)
            dist.lognormal(1.0, self.sigma if self.sigma is not None else 0.0)
        elif self.distribution == "normal":
            dist.normal(0.0, _given(self.sd))
        elif self.distribution == "uniform":
            return dist.uniform(_given(self.min), _given(self.max))
        elif self.distribution == "triangular":
            return dist.triangular(_given(self.min), _given(self.mode), _given(self.max))
        return None

    def distribution_of(self, amount: float, pedigree: Pedigree | None) -> dist.Distribution:
        """The stats_arrays distribution of an exchange or parameter whose value is
        ``amount`` (in its own unit), with its pedigree scores when it has any.

        Raises
        ------
        InputError
            A pedigree uncertainty without scores; an amount outside a uniform or triangular
            range.
        """
        if self.pedigree:
            if pedigree is None:
                raise InputError(
                    "'pedigree: true' needs the exchange's quality: scores; add quality: or "
                    "give a distribution"
                )
            return dist.lognormal(amount, dist.pedigree_sigma(pedigree, _given(self.basic)))
        if self.distribution == "lognormal":
            sigma = self.sigma if self.gsd2 is None else dist.sigma_from_gsd2(self.gsd2)
            return dist.lognormal(amount, _given(sigma))
        if self.distribution == "normal":
            return dist.normal(amount, _given(self.sd))
        ranged = self._checked()
        assert ranged is not None  # uniform or triangular, by the validator
        if not ranged.minimum <= amount <= ranged.maximum:
            raise InputError(
                f"the amount {amount:g} is outside its {self.distribution} range "
                f"[{ranged.minimum:g}, {ranged.maximum:g}]"
            )
        return ranged


def _given(value: float | None) -> float:
    """A field the validator has made sure is given."""
    assert value is not None
    return value


class GridRef(Strict):
    """Electricity from the grid of a province, regional grid or country, for a year."""

    geography: str
    year: int = Field(ge=1990, le=2100)
    basis: Literal["co2", "footprint"] = "co2"


class BackgroundElectricity(Strict):
    """``background_electricity:``: the supply that replaces the electricity of the linked
    background databases (see ``docs/models.md``, Linked backgrounds)."""

    grid: GridRef | None = None
    electricity_claim: str | None = None  # market-based claims file, relative to the model
    database: str | None = None  # only this database (its name); default: every linked one
    #: the electricity producers, by reference product name or flow id or activity id;
    #: default: activities whose product or name says electricity (or 电力) in an energy unit
    products: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _one_supply(self) -> BackgroundElectricity:
        if (self.grid is None) == (self.electricity_claim is None):
            raise ValueError("background_electricity needs exactly one of grid, electricity_claim")
        return self


class Recycled(Strict):
    """``recycled:`` of a ``factor:`` or ``background:`` input: its recycled content and the
    recycling of the material at end of life, per the material part of the Circular Footprint
    Formula (Commission Recommendation (EU) 2021/2279, Annex I, PEF method). How the burdens
    and credits are shared follows the model's ``recycled_content_method`` (docs/models.md).

    Factor references (``factor``, ``eol_factor``, ``eol_virgin``) are factor ids, or, when
    not a factor id, ``background:`` references (``<database>[@version]:<process>``); each is
    per unit of the input's material.
    """

    #: R1: share of recycled material in the input, 0 to 1
    content: float = Field(ge=0, le=1)
    #: Erec: producing the recycled material, per unit of the input's material
    factor: str
    #: A: the CFF's allocation factor (used by ``recycled_content_method: cff``)
    a: float | None = Field(None, ge=0, le=1)
    #: Qsin/Qp: quality of the recycled input relative to the virgin material
    quality_in: float = Field(1.0, gt=0)
    #: R2: share of the material recycled at end of life, 0 to 1
    eol_rate: float = Field(0.0, ge=0, le=1)
    #: ErecEoL: the recycling process at end of life, per unit of material recycled
    eol_factor: str | None = None
    #: E*v: the virgin material that the recycled output displaces (default: the input's own)
    eol_virgin: str | None = None
    #: Qsout/Qp: quality of the recycled output relative to the virgin material
    quality_out: float = Field(1.0, gt=0)

    @model_validator(mode="after")
    def _eol_factor_given(self) -> Recycled:
        if self.eol_rate > 0 and self.eol_factor is None:
            raise ValueError(
                f"eol_rate {self.eol_rate:g} > 0 needs 'eol_factor' (the factor of the "
                "recycling process at end of life, per unit of material recycled)"
            )
        return self


#: Where an input can come from; exactly one per input.
INPUT_SOURCES: tuple[str, ...] = (
    "process",
    "factor",
    "background",
    "electricity",
    "electricity_claim",
    "supplier_footprint",
    "shipment",
)


#: Input kinds that are bought from a supplier (``supplier:`` and data requests apply to them).
PURCHASED_KINDS: tuple[str, ...] = ("factor", "background", "supplier_footprint")


class Input(Strict):
    """An input: exactly one of ``process``, ``factor``, ``electricity``, ``supplier_footprint``."""

    process: str | None = None
    product: str | None = None  # which output of ``process`` (default: its reference product)
    factor: str | None = None
    background: str | None = None  # "<database>[@version]:<process uuid or exact name>"
    electricity: GridRef | None = None
    supplier_footprint: str | None = None
    shipment: str | None = None  # ISO 14083 shipment file; amount = kg of product shipped
    electricity_claim: str | None = None  # market-based claims file; amount in kWh
    amount: Amount
    unit: str
    comment: str = ""
    primary: bool | None = None
    quality: Quality | None = None
    uncertainty: Uncertainty | None = None
    #: recycled content and end-of-life recycling (``factor:`` and ``background:`` inputs)
    recycled: Recycled | None = None
    #: the company that sells this purchased input (``factor:``, ``background:`` or
    #: ``supplier_footprint:``): ``openpcf suppliers request`` asks it for primary data, and its
    #: accepted figure then replaces the input's secondary data (docs/suppliers.md)
    supplier: str | None = Field(None, min_length=1, max_length=500)

    @model_validator(mode="after")
    def _one_source(self) -> Input:
        given = sum(getattr(self, name) is not None for name in INPUT_SOURCES)
        if given != 1:
            raise ValueError(
                f"an input needs exactly one of {', '.join(INPUT_SOURCES)} (found {given})"
            )
        if self.product is not None and self.process is None:
            raise ValueError("'product' selects an output of a 'process' input")
        if self.recycled is not None and self.kind not in ("factor", "background"):
            raise ValueError(
                f"'recycled' is only for factor: and background: inputs, not {self.kind}: "
                "(model the material as a factor or background input)"
            )
        if self.supplier is not None and self.kind not in PURCHASED_KINDS:
            raise ValueError(
                f"'supplier' names who sells a purchased input ({', '.join(PURCHASED_KINDS)}), "
                f"not a {self.kind}: input"
            )
        return self

    @property
    def kind(self) -> str:
        return next(name for name in INPUT_SOURCES if getattr(self, name) is not None)


class Emission(Strict):
    """A direct emission (or, for ``CO2-uptake``, a removal) of one gas."""

    gas: str
    amount: Amount
    unit: str = "kg"
    comment: str = ""
    primary: bool | None = None
    quality: Quality | None = None
    uncertainty: Uncertainty | None = None

    @field_validator("gas")
    @classmethod
    def _known_gas(cls, value: str) -> str:
        if value not in GAS_IDS:
            raise ValueError(f"unknown gas {value!r}; use one of {', '.join(GAS_IDS)}")
        return value


class Output(Strict):
    """A product of a process, with the properties allocation may need (per unit)."""

    product: str
    amount: Amount
    unit: str
    mass: Amount | None = Field(None, description="kg per unit of this output (>= 0)")
    energy: Amount | None = Field(None, description="MJ per unit of this output (>= 0)")
    price: Amount | None = Field(None, description="price per unit, any one currency (>= 0)")
    substitutes: str | None = Field(
        None, description="for substitution: the factor id or process the co-product displaces"
    )


class Allocation(Strict):
    method: Literal["mass", "energy", "economic", "factors", "substitution"]
    factors: dict[str, float] | None = None
    justification: str = ""

    @model_validator(mode="after")
    def _factors_given(self) -> Allocation:
        if (self.method == "factors") != (self.factors is not None):
            raise ValueError("give 'factors' (product -> share) exactly when method is 'factors'")
        return self


class Process(Strict):
    id: Annotated[str, Field(pattern=ID_PATTERN)]
    name: str
    stage: Stage
    output: Output
    co_products: list[Output] = Field(default_factory=list)
    allocation: Allocation | None = None
    inputs: list[Input] = Field(default_factory=list)
    emissions: list[Emission] = Field(default_factory=list)
    aircraft: bool = False
    geography: str | None = None
    comment: str = ""

    @model_validator(mode="after")
    def _allocation_rule(self) -> Process:
        if self.co_products and self.allocation is None:
            raise ValueError(
                "a process with co_products needs 'allocation' (method: mass, energy, economic, "
                "factors or substitution); see docs/allocation.md for the ISO 14044 hierarchy"
            )
        if not self.co_products and self.allocation is not None:
            raise ValueError("'allocation' is only for processes with co_products")
        names = [self.output.product, *(c.product for c in self.co_products)]
        if len(set(names)) != len(names):
            raise ValueError(f"output product names must differ: {names}")
        return self


class Period(Strict):
    start: dt.date
    end: dt.date

    @model_validator(mode="after")
    def _ordered(self) -> Period:
        if self.end < self.start:
            raise ValueError(f"reference period ends ({self.end}) before it starts ({self.start})")
        return self


class Product(Strict):
    name: str
    name_zh: str = ""
    description: str = ""
    ids: list[Annotated[str, Field(pattern=r"^urn:[A-Za-z0-9][A-Za-z0-9-]{0,31}:\S+$")]] = Field(
        min_length=1
    )
    cn_code: str | None = None
    cpc: str | None = None
    declared_unit: DeclaredUnit
    declared_amount: float = Field(1.0, gt=0)
    mass_per_declared_unit: float = Field(ge=0, description="kg per declared unit")
    geography: str = "CN"
    reference_period: Period
    company_name: str = "OpenPCF user"
    company_ids: list[str] = Field(default_factory=lambda: ["urn:openpcf:company:unknown"])


class ProductModel(Strict):
    """The whole model file."""

    openpcf: Literal[1] = 1
    product: Product
    boundary: Boundary
    reference_process: str
    cutoff_percent: float = Field(1.0, ge=0, le=100)
    gwp: str = "AR6"
    #: the product's calculation rule set, ``id`` or ``id@version`` (``openpcf rules list``);
    #: ``calc`` applies its modelling choices and ``check`` its clauses (docs/rules.md)
    rules: str | None = None
    #: how recycled content and end-of-life recycling (``recycled:`` of inputs) are shared:
    #: ``cut-off`` (A = 1), ``50-50`` (A = 0.5) or ``cff`` (each input's ``recycled.a``)
    recycled_content_method: Literal["cut-off", "50-50", "cff"] = "cut-off"
    factor_sets: list[str] = Field(default_factory=list)
    parameters: dict[Annotated[str, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")], Amount] = Field(
        default_factory=dict
    )

    @field_validator("parameters")
    @classmethod
    def _not_keywords(cls, value: dict[str, Amount]) -> dict[str, Amount]:
        reserved = sorted(name for name in value if keyword.iskeyword(name))
        if reserved:
            raise ValueError(f"parameter names {reserved} are reserved words; rename them")
        return value

    #: ``parameter name -> uncertainty`` of the parameter's value (no pedigree: parameters
    #: carry no quality scores)
    parameter_uncertainty: dict[str, Uncertainty] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _uncertain_parameters(self) -> ProductModel:
        unknown = sorted(set(self.parameter_uncertainty) - set(self.parameters))
        if unknown:
            raise ValueError(
                f"parameter_uncertainty names parameters the model does not define: {unknown}"
            )
        pedigree = sorted(k for k, u in self.parameter_uncertainty.items() if u.pedigree)
        if pedigree:
            raise ValueError(
                f"parameter_uncertainty {pedigree}: parameters have no quality: scores, so no "
                "pedigree; give a distribution"
            )
        return self

    processes: list[Process] = Field(min_length=1)
    exclusions: list[str] = Field(default_factory=list)
    comment: str = ""
    #: ``linked``: background inputs continue into their database's supply chain;
    #: default (None) ``precomputed``, or ``linked`` when background_electricity is given
    background_linking: Literal["precomputed", "linked"] | None = None
    background_electricity: BackgroundElectricity | None = None

    @model_validator(mode="after")
    def _linking(self) -> ProductModel:
        if self.background_linking == "precomputed" and self.background_electricity is not None:
            raise ValueError(
                "background_electricity re-points the electricity of linked databases; remove "
                "'background_linking: precomputed' (or set it to linked)"
            )
        return self

    @property
    def links_background(self) -> bool:
        """Whether ``background:`` inputs are linked into their databases."""
        return self.background_linking == "linked" or self.background_electricity is not None

    @model_validator(mode="after")
    def _references(self) -> ProductModel:
        ids = [p.id for p in self.processes]
        dupes = sorted({i for i in ids if ids.count(i) > 1})
        if dupes:
            raise ValueError(f"process ids must be unique; repeated: {', '.join(dupes)}")
        if self.reference_process not in ids:
            raise ValueError(
                f"reference_process {self.reference_process!r} is not a process id "
                f"({', '.join(ids)})"
            )
        return self
