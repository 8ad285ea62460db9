"""A part of a calculated life cycle: the sums over the processes of some stages.

PACT exchanges cradle-to-gate footprints (below), so the PACT document of a cradle-to-grave
model is its *cradle-to-gate part*: the processes of the stages
``BOUNDARY_STAGES["cradle-to-gate"]`` (raw material acquisition, production). Every number of
the part is a sum over those processes of what the result already holds, nothing is solved
again:

* per gas: ``Σ_p gases_p`` (kg, each process's own direct and background burdens, so the
  processes of all stages sum to the total), characterised with the calculation's GWP set;
* fossil, biogenic, biogenic CO2, uptake and land-use change: the per-gas CO2e by origin
  (:mod:`openpcf.methods.gases`), with suppliers' biogenic non-CO2 moved out of their
  ``CO2e`` flow as the whole result does (:func:`openpcf.model.result.stated_biogenic`);
* aircraft: the totals of the part's processes flagged ``aircraft``;
* DQR and primary data share: over the exchanges of the part's processes, with the weights
  of the whole result (:func:`openpcf.model.result.pcf_weights`).

Why cradle-to-gate: the PACT v3 data model describes a PCF that ends at the factory gate
(``exemptedEmissionsPercent``: "emissions EXCLUDED from the cradle to gate PCF";
``biogenicCO2Uptake``: "at point of leaving factory gate"; PACT Methodology section 3.3.2.2
"within the Cradle-to-Gate boundary", all in the v3 OpenAPI document), and v2.3 names only
``Gate-to-Gate`` and ``Cradle-to-Gate`` as boundaries (``assurance.boundary``). A buyer adds a
supplier's PCF to its Scope 3 category 1 (purchased goods); a use phase in it would be counted
again in the buyer's own downstream categories.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from openpcf.core.quality import QualityRating, primary_share, rate
from openpcf.core.results import PcfFigures, frozen_map
from openpcf.factors import Factor
from openpcf.methods.gases import GAS_IDS
from openpcf.methods.gwp import characterisation_vector
from openpcf.model.calculation import Calculation
from openpcf.model.result import FACTOR_KINDS, origin_split, pcf_weights, stated_biogenic
from openpcf.model.schema import BOUNDARY_STAGES

#: The boundary PACT footprints have (see the module docstring).
PACT_BOUNDARY = "cradle-to-gate"


@dataclass(frozen=True, slots=True, kw_only=True)
class LifeCyclePart(PcfFigures):
    """The footprint of the processes of ``stages``, per declared unit."""

    stages: tuple[str, ...]
    processes: Mapping[str, tuple[str, ...]]
    """Names of the part's processes, per stage (stages without processes left out)."""
    total: float
    by_gas_co2e: Mapping[str, float]
    fossil: float
    biogenic: float
    biogenic_co2: float
    uptake: float
    luc: float
    aircraft: float
    quality: QualityRating
    primary_data_share: float
    factors: tuple[Factor, ...]
    """The factor rows the part's exchanges use."""


def within(boundary: str, outer: str = PACT_BOUNDARY) -> bool:
    """Whether every stage of ``boundary`` is one of ``outer``'s."""
    return set(BOUNDARY_STAGES[boundary]) <= set(BOUNDARY_STAGES[outer])


def life_cycle_part(calculation: Calculation, boundary: str = PACT_BOUNDARY) -> LifeCyclePart:
    """The part of ``calculation`` inside ``boundary`` (a key of ``BOUNDARY_STAGES``).

    For a model whose own boundary lies within ``boundary`` the part is the whole result.
    """
    compiled, result = calculation.compiled, calculation.result
    own = BOUNDARY_STAGES[compiled.model.boundary]
    stages = tuple(s for s in BOUNDARY_STAGES[boundary] if s in own)
    inside = [
        (col, pc)
        for col, pc in zip(compiled.columns, result.processes, strict=True)
        if col.stage in stages
    ]
    c = characterisation_vector(compiled.gwp, GAS_IDS)
    kg = np.array([sum(pc.gases.get(g, 0.0) for _, pc in inside) for g in GAS_IDS])
    co2e = kg * c

    stage_of = {col.process: col.stage for col in compiled.columns}
    keep = [stage_of[e.process] in stages for e in compiled.entries]
    weights = pcf_weights(compiled, result.exchanges)[keep]
    entries = [e for e, k in zip(compiled.entries, keep, strict=True) if k]
    moved = stated_biogenic(compiled, result.exchanges, stages=stages)
    names: dict[str, tuple[str, ...]] = {}
    for stage in stages:
        found = tuple(p.name for p in compiled.model.processes if p.stage == stage)
        if found:
            names[stage] = found
    return LifeCyclePart(
        stages=stages,
        processes=frozen_map(names),
        total=float(co2e.sum()),
        by_gas_co2e=frozen_map(dict(zip(GAS_IDS, map(float, co2e), strict=True))),
        **origin_split(co2e, moved),
        aircraft=float(sum(pc.total for col, pc in inside if col.aircraft)),
        quality=rate(weights, [e.pedigree for e in entries]),
        primary_data_share=primary_share(weights, [e.primary_share for e in entries]),
        factors=tuple(
            f
            for k, f in enumerate(compiled.factors)
            if any(e.row == k and e.kind in FACTOR_KINDS for e in entries)
        ),
    )
