"""The uncertainty of imported exchange amounts, stored aligned with the matrices.

A distribution is a :class:`openpcf.core.uncertainty.Distribution`, one row of a stats_arrays
parameter array (its module docstring has the format). Every importer converts an amount ``x``
into ``c·x`` (unit conversion, sign of inputs in ``A``, allocation share) and the distribution
with it (:meth:`~openpcf.core.uncertainty.Distribution.scaled`). Impossible parameters are not
an error here (:func:`checked`): the import reports them and keeps the amount.

Design note: a lognormal's ``loc`` is ``ln |amount|`` of the amount as stored, not the source's
own geometric mean (ecospold2 ``mu``, JSON-LD ``geomMean``): the stored matrix value is then
the median of the sampled distribution, so a Monte Carlo run is centred on the deterministic
result. The sources usually write the two equal; where they differ the amount wins, as it is
what the matrices hold (Brightway's ecospold2 importer takes ``mu`` instead).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from openpcf.core.uncertainty import NO_UNCERTAINTY, Distribution
from openpcf.errors import InputError

#: One stored matrix entry: its position and its stats_arrays fields (the parameter array's
#: documented extension with ``row`` and ``col`` columns).
PARAMS_DTYPE = np.dtype(
    [
        ("row", np.int64),
        ("col", np.int64),
        ("uncertainty_type", np.uint8),
        ("loc", np.float64),
        ("scale", np.float64),
        ("shape", np.float64),
        ("minimum", np.float64),
        ("maximum", np.float64),
        ("negative", np.bool_),
    ]
)


#: A normal, uniform or triangular distribution whose mean differs from the exchange's amount
#: by more than this factor does not describe that amount (USLCI has a uniform [-9.68, 0]
#: around -1.07e-6): a Monte Carlo run on it would not be centred on the result (an activity of
#: USLCI drawing on such entries had a mean of 13.9 against 0.041 deterministic), so the
#: import drops it, keeps the amount and reports why. A lognormal is always centred: its
#: median is the amount (module docstring).
FAR = 10.0


def checked(
    make: Callable[..., Distribution], *parameters: float, amount: float | None = None
) -> Distribution | str:
    """``make(*parameters)`` (a constructor of :mod:`openpcf.core.uncertainty`), or why it
    cannot be kept: the parameters are impossible, or (with ``amount``, the exchange's amount
    in the same unit) its mean is more than :data:`FAR` times away from the amount. An import
    reports the reason and keeps the amount."""
    try:
        made = make(*parameters)
    except InputError as e:
        return str(e)
    if amount is not None:
        far = far_from(made, amount)
        if far is not None:
            return far
    return made


def far_from(d: Distribution, amount: float) -> str | None:
    """Why ``d`` does not describe ``amount`` (see :data:`FAR`), or None."""
    if d.name in ("lognormal", "no uncertainty") or amount == 0 or not math.isfinite(amount):
        return None
    mean = d.moments()[0]
    ratio = mean / amount
    if 1 / FAR <= ratio <= FAR:
        return None
    return (
        f"{d.name} distribution with mean {mean:g} is far from the amount {amount:g} (more "
        f"than a factor {FAR:g} or of the other sign): it would not be centred on the result"
    )


# --- aligned with the stored matrices ---------------------------------------------------------


#: (row, col, distribution) of one summand of a matrix entry
Entry = tuple[int, int, Distribution | None]


def aligned(matrix: sp.csc_array, entries: Sequence[Entry]) -> tuple[np.ndarray, int]:
    """The parameter array of ``matrix``: one row per stored entry, in CSC order (entry ``k``
    describes ``matrix.data[k]``), and how many entries lost their uncertainty because
    several exchanges were summed into them (a sum has no stats_arrays distribution).

    ``entries`` are the summands (row, col, distribution or None) ``matrix`` was built from.
    An entry keeps its distribution when exactly one summand made it; otherwise it is type 0
    (undefined) with ``loc`` = the static value, as stats_arrays defines type 0.
    """
    summands: Counter[tuple[int, int]] = Counter((r, c) for r, c, _ in entries)
    given = {(r, c): u for r, c, u in entries if u is not None}
    m = sp.csc_array(matrix)
    n = m.nnz
    params = np.zeros(n, dtype=PARAMS_DTYPE)
    params["col"] = np.repeat(np.arange(m.shape[1]), np.diff(m.indptr))
    params["row"] = m.indices
    params["loc"] = m.data
    for name in ("scale", "shape", "minimum", "maximum"):
        params[name] = np.nan
    merged = 0
    for k in range(n):
        key = (int(params["row"][k]), int(params["col"][k]))
        u = given.get(key)
        if u is None:
            continue
        if summands[key] > 1:
            merged += 1
            continue
        fields = (u.uncertainty_type, u.loc, u.scale, u.shape, u.minimum, u.maximum, u.negative)
        params[k] = (*key, *fields)
    return params, merged


@dataclass(frozen=True, slots=True)
class MatrixUncertainty:
    """The parameter arrays (:data:`PARAMS_DTYPE`) of ``A`` and ``B``, aligned with them."""

    A: np.ndarray
    B: np.ndarray

    def any(self) -> bool:
        """Whether any entry has a distribution (type 2 or above)."""
        return any(bool((m["uncertainty_type"] > NO_UNCERTAINTY).any()) for m in (self.A, self.B))


def counts(distributions: Iterable[Distribution | None]) -> dict[str, int]:
    """Exchanges by distribution name, ``"none"`` for those without one."""
    found = Counter(u.name if u is not None else "none" for u in distributions)
    return dict(sorted(found.items()))
