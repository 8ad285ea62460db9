"""Flag biogenic carbon balances that cannot be right (checked at import, shown by db show).

Two rules (stated in ``docs/databases.md``), per activity:

1. *More uptake than the product can hold.* For a product measured in kg, the cradle-to-gate
   net removal ``CO2-uptake − CO2-biogenic − CH4-biogenic x 44/16`` (kg CO2 per kg) cannot
   exceed what one kg of pure carbon binds, ``44/12 = 3.667`` kg CO2 (the molar masses of
   CO2 and C): biogenic carbon taken up and not released is stored in the product.
2. *Uptake booked as a release.* A process that *emits* the ``CO2-uptake`` flow (a negative
   uptake entry of ``B``): the resource flow "carbon dioxide, in air" used as an output.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from openpcf.core.system import MatrixSystem
from openpcf.io.linking import Column

#: kg CO2 bound by one kg of carbon (44.01 / 12.011).
CO2_PER_C = 44.01 / 12.011
#: kg CO2 per kg CH4 by carbon content (44.01 / 16.043).
CO2_PER_CH4 = 44.01 / 16.043


def biogenic_flags(
    system: MatrixSystem, columns: Sequence[Column], intensities: np.ndarray
) -> dict[str, str]:
    """Column id -> why its biogenic balance is suspicious, for the columns that are."""
    gases = list(system.flows)
    col = {g: gases.index(g) for g in ("CO2-uptake", "CO2-biogenic", "CH4-biogenic")}
    uptake = intensities[:, col["CO2-uptake"]]
    released = (
        intensities[:, col["CO2-biogenic"]] + CO2_PER_CH4 * intensities[:, col["CH4-biogenic"]]
    )
    direct_uptake = np.asarray(system.B.tocsr()[[col["CO2-uptake"]], :].toarray()).ravel()
    flags: dict[str, str] = {}
    for j, c in enumerate(columns):
        net = float(uptake[j] - released[j])
        if c.unit == "kg" and net > CO2_PER_C:
            flags[c.id] = (
                f"net biogenic uptake {net:.3g} kg CO2 per kg exceeds the {CO2_PER_C:.3f} kg "
                "CO2 one kg of carbon can bind"
            )
        elif direct_uptake[j] < 0.0:
            flags[c.id] = (
                f"releases {-direct_uptake[j]:.3g} kg of the CO2-uptake flow (an uptake booked "
                "as an output)"
            )
    return flags
