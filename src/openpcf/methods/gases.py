"""The greenhouse-gas flows OpenPCF keeps apart until the end.

Every emission in a product model, a factor set or an imported database is booked on one of
these flows, in kilograms of the gas. The *origin* says which PACT / ISO 14067 bucket the flow
belongs to:

- ``fossil``: fossil CO2, fossil CH4, N2O and the fluorinated gases (ISO 14067 7.2 counts N2O
  and F-gases with the fossil emissions, as PACT's ``fossilGhgEmissions`` does);
- ``biogenic``: biogenic CO2 and CH4 released;
- ``uptake``: biogenic CO2 removed from the air (booked as a positive mass, characterised -1);
- ``luc``: CO2 from direct land-use change.

``CO2e`` is a flow for factors published only as an aggregate in kg CO2e (for example an EPD or
a national carbon-footprint factor). It is characterised 1 under every GWP set, counted as
fossil, and the factor row says which GWP set its publisher used.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Origin = Literal["fossil", "biogenic", "uptake", "luc"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Gas:
    id: str
    formula: str
    origin: Origin
    name: str


GASES: tuple[Gas, ...] = (
    Gas(id="CO2-fossil", formula="CO2", origin="fossil", name="carbon dioxide, fossil"),
    Gas(id="CH4-fossil", formula="CH4", origin="fossil", name="methane, fossil"),
    Gas(id="N2O", formula="N2O", origin="fossil", name="nitrous oxide"),
    Gas(id="SF6", formula="SF6", origin="fossil", name="sulphur hexafluoride"),
    Gas(id="NF3", formula="NF3", origin="fossil", name="nitrogen trifluoride"),
    Gas(id="CF4", formula="CF4", origin="fossil", name="tetrafluoromethane (PFC-14)"),
    Gas(id="C2F6", formula="C2F6", origin="fossil", name="hexafluoroethane (PFC-116)"),
    Gas(id="HFC-23", formula="CHF3", origin="fossil", name="HFC-23"),
    Gas(id="HFC-32", formula="CH2F2", origin="fossil", name="HFC-32"),
    Gas(id="HFC-125", formula="CHF2CF3", origin="fossil", name="HFC-125"),
    Gas(id="HFC-134a", formula="CH2FCF3", origin="fossil", name="HFC-134a"),
    Gas(id="HFC-143a", formula="CH3CF3", origin="fossil", name="HFC-143a"),
    Gas(id="CO2e", formula="CO2e", origin="fossil", name="aggregated CO2 equivalents"),
    Gas(id="CO2-biogenic", formula="CO2", origin="biogenic", name="carbon dioxide, biogenic"),
    Gas(id="CH4-biogenic", formula="CH4", origin="biogenic", name="methane, biogenic"),
    Gas(id="CO2-uptake", formula="CO2", origin="uptake", name="carbon dioxide, biogenic uptake"),
    Gas(id="CO2-luc", formula="CO2", origin="luc", name="carbon dioxide, direct land-use change"),
)

GAS_IDS: tuple[str, ...] = tuple(g.id for g in GASES)
BY_ID: dict[str, Gas] = {g.id: g for g in GASES}
