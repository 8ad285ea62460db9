"""Flag background footprints that stand out from their peers (``openpcf db search``).

Rule (stated in ``docs/databases.md``). Activities are compared within a *peer group*: the
same reference product name (case-folded, spaces collapsed) and the same reference unit. In a
group with at least :data:`MIN_PEERS` positive footprints, with ``m`` the median of them:

- ``"high (Nx median)"`` when the footprint is more than :data:`FACTOR` x ``m``;
- ``"low (1/Nx median)"`` when it is positive and less than ``m`` / :data:`FACTOR`;
- ``"zero"`` when it is exactly 0 (the data report no greenhouse gas, or every input is cut).

Whatever the group, a negative footprint is flagged ``"negative"`` (a credit larger than the
burdens, or an emission booked as an input). Groups smaller than that are not judged.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

import numpy as np

from openpcf.io.linking import Column

#: More than this factor from the peer median is an outlier.
FACTOR = 10.0
#: Fewest positive footprints in a peer group for its median to judge by.
MIN_PEERS = 3


def peer_key(column: Column) -> tuple[str, str]:
    return (" ".join(column.product.casefold().split()), column.unit)


def outlier_flags(columns: Sequence[Column], footprints: np.ndarray) -> list[str]:
    """One flag per column ("" when unremarkable), by the rule of the module docstring."""
    groups: dict[tuple[str, str], list[float]] = defaultdict(list)
    for col, value in zip(columns, footprints, strict=True):
        if value > 0.0:
            groups[peer_key(col)].append(float(value))
    medians = {k: float(np.median(v)) for k, v in groups.items() if len(v) >= MIN_PEERS}
    flags = []
    for col, raw in zip(columns, footprints, strict=True):
        value = float(raw)
        median = medians.get(peer_key(col))
        if value < 0.0:
            flags.append("negative")
        elif median is None:
            flags.append("")
        elif value == 0.0:
            flags.append("zero")
        elif value > FACTOR * median:
            flags.append(f"high ({value / median:.3g}x median)")
        elif value < median / FACTOR:
            flags.append(f"low (1/{median / value:.3g}x median)")
        else:
            flags.append("")
    return flags
