"""Frozen results of a product footprint calculation.

All amounts are per declared unit of the product. ``kg CO2e`` values use the GWP set named in
:attr:`FootprintResult.gwp`. The buckets follow ISO 14067 7.2 and PACT v3:

- ``fossil``: fossil GHG emissions (fossil CO2 and CH4, N2O, F-gases, aggregated CO2e);
- ``biogenic``: biogenic CO2 and CH4 emitted;
- ``uptake``: biogenic CO2 removed (negative kg CO2e);
- ``luc``: direct land-use change;
- ``aircraft``: the part of the total emitted by processes flagged as air transport.

``pcf_excluding_biogenic_uptake = fossil + luc + biogenic non-CO2`` and
``pcf_including_biogenic_uptake = pcf_excluding_biogenic_uptake + uptake``, as in the PACT v3
formulas; the ISO 14067 total (emissions and removals, all GHGs) is :attr:`total`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TypeVar

from openpcf.core.frozen import FrozenMap
from openpcf.core.quality import QualityRating

V = TypeVar("V")


def frozen_map(data: Mapping[str, V]) -> FrozenMap[str, V]:
    """A read-only copy of ``data`` that pickles and compares equal to a ``dict``."""
    return FrozenMap(data)


@dataclass(frozen=True, slots=True, kw_only=True)
class ProcessContribution:
    """One foreground activity's burden: its direct emissions plus what it draws upstream."""

    id: str
    name: str
    stage: str
    scaling: float
    unit: str
    direct: float  # kg CO2e
    upstream: float  # kg CO2e
    gases: Mapping[str, float]  # kg of each gas, direct + upstream

    @property
    def total(self) -> float:
        return self.direct + self.upstream


@dataclass(frozen=True, slots=True, kw_only=True)
class ExchangeContribution:
    """kg CO2e that one exchange of the model brings into the total."""

    process: str
    kind: str
    label: str
    amount: float  # in ``unit``, per declared unit of product
    unit: str
    co2e: float
    primary: bool
    where: str


@dataclass(frozen=True, slots=True, kw_only=True)
class TreeNode:
    """A node of the supply-chain contribution tree (cumulative kg CO2e)."""

    label: str
    kind: str  # process | factor | emission | other
    amount: float
    unit: str
    co2e: float
    share: float
    children: tuple[TreeNode, ...] = ()

    def walk(self, depth: int = 0) -> list[tuple[int, TreeNode]]:
        out = [(depth, self)]
        for child in self.children:
            out.extend(child.walk(depth + 1))
        return out


@dataclass(frozen=True, slots=True, kw_only=True)
class RepointedProcess:
    """A background process whose electricity was re-pointed to another supply."""

    database: str  # "<name>@<version>"
    activity: str  # the database's activity id
    name: str
    location: str
    replaced: tuple[str, ...]  # names of the database's electricity producers it drew on
    kwh: float  # electricity it now takes from the new supply, per declared unit


@dataclass(frozen=True, slots=True, kw_only=True)
class ElectricityRepointing:
    """What re-pointing the background's electricity did to a footprint."""

    supply: str  # id of the factor row that now supplies the background's electricity
    where: str  # the model line (or command-line option) that asked for it
    kwh: float  # background electricity re-pointed, per declared unit
    total_before: float  # kg CO2e with the databases' own electricity
    change: float  # kg CO2e: total after re-pointing minus total_before
    processes: tuple[RepointedProcess, ...]


class PcfFigures:
    """The PACT figures of a footprint made of its CO2e by origin (kg CO2e, per declared unit):
    ``fossil``, ``luc``, ``biogenic`` (of which ``biogenic_co2``) and ``uptake`` (negative)."""

    __slots__ = ()
    fossil: float
    luc: float
    biogenic: float
    biogenic_co2: float
    uptake: float

    @property
    def biogenic_non_co2(self) -> float:
        return self.biogenic - self.biogenic_co2

    @property
    def pcf_excluding_biogenic_uptake(self) -> float:
        return self.fossil + self.luc + self.biogenic_non_co2

    @property
    def pcf_including_biogenic_uptake(self) -> float:
        return self.pcf_excluding_biogenic_uptake + self.uptake


@dataclass(frozen=True, slots=True, kw_only=True)
class FootprintResult(PcfFigures):
    """A product carbon footprint, with its breakdowns and provenance."""

    product: str
    declared_unit: str
    declared_amount: float
    gwp: str
    total: float
    by_stage: Mapping[str, float]
    by_gas_kg: Mapping[str, float]
    by_gas_co2e: Mapping[str, float]
    fossil: float
    biogenic: float
    biogenic_co2: float
    uptake: float
    luc: float
    aircraft: float
    processes: tuple[ProcessContribution, ...]
    exchanges: tuple[ExchangeContribution, ...]
    tree: TreeNode
    quality: QualityRating
    primary_data_share: float  # percent of |kg CO2e| from primary data
    parameters: Mapping[str, float]
    provenance: Mapping[str, str]
    notes: tuple[str, ...] = field(default=())
    #: set when the model re-points its linked background's electricity
    background_electricity: ElectricityRepointing | None = None

    def top_contributors(self, n: int = 5) -> list[ExchangeContribution]:
        return sorted(self.exchanges, key=lambda e: abs(e.co2e), reverse=True)[:n]
