"""Linked backgrounds: ``background:`` inputs continued into their LCI database's supply chain,
and the database's electricity re-pointed to another supply.

A linked ``background:`` input is a background row that takes one unit of the database
activity it names (``A_lb``, see :mod:`openpcf.core.engine`) instead of carrying the stored
cradle-to-gate figure; the engine solves the database itself (cached by its content hash).

Re-pointing (``background_electricity:``) rewrites one database system:

- **electricity producers** are the activities whose reference product, or name, contains
  ``electricity`` (any case) or ``电力`` and whose unit is an energy unit; the model's
  ``products:`` list replaces this rule (reference product names, product flow ids or
  activity ids, matched exactly);
- for every activity ``j`` that is not a producer, each entry ``A[e, j]`` with ``e`` a producer
  (an electricity input, negative, or avoided electricity, positive) is removed and its amount,
  converted from ``e``'s unit into the supply's unit, is added to ``A[r, j]``, where ``r`` is a
  new activity appended to the system: one unit (kWh) of the supply per unit of activity, with
  the supply's emissions per kWh in ``B[:, r]`` and no inputs;
- producers keep their own exchanges, so a producer the model names directly is unchanged.

The database's own electricity producers then supply nothing to the rest of the database, and
the background's electricity use is the scaling of ``r``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

import numpy as np
import scipy.sparse as sp

from openpcf.core.system import MatrixSystem
from openpcf.core.units import conversion_factor, same_dimension
from openpcf.errors import InputError, UnitError
from openpcf.factors import Factor
from openpcf.io.uncertainty import MatrixUncertainty

#: Words in a reference product or activity name that make it an electricity producer.
ELECTRICITY_WORDS = ("electricity", "电力")


@dataclass(frozen=True, slots=True, kw_only=True)
class StoredUncertainty:
    """A stored version's distributions (``uncertainty.npz``): ``params`` name their entries by
    the stored matrices' ``(row, col)``, the rows of ``B`` being the gases ``flows``."""

    params: MatrixUncertainty
    flows: tuple[str, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class BackgroundDatabase:
    """One stored version of an imported LCI database, as the engine links it."""

    ref: str  # "<name>@<version>"
    system: MatrixSystem  # flows in OpenPCF gas order
    names: tuple[str, ...]  # per activity
    products: tuple[str, ...]
    product_ids: tuple[str, ...]
    units: tuple[str, ...]
    locations: tuple[str, ...]
    #: its stored distributions, for the uncertainty of a linked model
    #: (:mod:`openpcf.model.database_uncertainty`); None when it stores none
    uncertainty: StoredUncertainty | None = field(default=None, compare=False, repr=False)

    @property
    def name(self) -> str:
        return self.ref.split("@", 1)[0]

    def label(self, index: int) -> str:
        """How the contribution tree names activity ``index``."""
        return f"{self.names[index]} ({self.ref}:{self.system.activities[index]})"


#: ``"<name>@<version>"`` -> the stored database (the caller's, like the other resolvers).
BackgroundDatabaseResolver = Callable[[str], BackgroundDatabase]


@dataclass(frozen=True, slots=True, kw_only=True)
class Link:
    """Background row ``row`` takes one unit of activity ``activity`` of linked ``database``."""

    row: int
    database: int
    activity: int


@dataclass(frozen=True, slots=True, kw_only=True)
class Repointed:
    """Activity ``activity`` of linked ``database`` now takes its electricity from the supply."""

    database: int
    activity: int
    replaced: tuple[int, ...]  # the producers it drew on


@dataclass(frozen=True, slots=True, kw_only=True)
class LinkedBackground:
    """The databases a compiled model is linked into, and how their electricity was re-pointed.

    ``databases`` are as linked (a re-pointed one has the supply appended as its last
    activity); ``original`` are the databases' own systems, for the total before re-pointing.
    """

    databases: tuple[BackgroundDatabase, ...]
    original: tuple[MatrixSystem, ...]
    links: tuple[Link, ...]
    repointed: tuple[Repointed, ...] = ()
    supply: Factor | None = None
    where: str = ""

    def supply_index(self, database: int) -> int | None:
        """The supply's activity in ``database`` when it was re-pointed."""
        if any(r.database == database for r in self.repointed):
            return self.databases[database].system.size - 1
        return None


def link_matrix(
    links: Sequence[Link], systems: Sequence[MatrixSystem], n_background: int
) -> sp.csc_array:
    """``A_lb`` for ``links`` into ``systems`` (stacked in order)."""
    offsets = np.cumsum([0, *(s.size for s in systems)])
    rows = [int(offsets[k.database]) + k.activity for k in links]
    cols = [k.row for k in links]
    shape = (int(offsets[-1]), n_background)
    return sp.csc_array((-np.ones(len(links)), (rows, cols)), shape=shape)


def electricity_producers(db: BackgroundDatabase, products: Sequence[str]) -> tuple[int, ...]:
    """Indices of ``db``'s electricity producers: by the rule in the module docstring, or the
    activities whose product name, product flow id or activity id is in ``products``."""
    if products:
        wanted = set(products)
        return tuple(
            i
            for i, a in enumerate(db.system.activities)
            if wanted & {db.products[i], db.product_ids[i], a}
        )
    return tuple(
        i
        for i in range(db.system.size)
        if _says_electricity(f"{db.products[i]} {db.names[i]}") and _energy(db.units[i])
    )


def _says_electricity(text: str) -> bool:
    folded = text.casefold()
    return any(word in folded for word in ELECTRICITY_WORDS)


def _energy(unit: str) -> bool:
    try:
        return same_dimension(unit, "kWh")
    except UnitError:
        return False


def repoint(
    db: BackgroundDatabase, producers: Sequence[int], supply: Factor, flows: Sequence[str]
) -> tuple[BackgroundDatabase, tuple[tuple[int, tuple[int, ...]], ...]]:
    """``db`` with its producers' electricity exchanges moved to ``supply`` (module docstring).

    Returns the new database and, per re-pointed activity, the producers it drew on.

    Raises
    ------
    InputError
        When no activity but the producers themselves draws on them.
    UnitError
        When a producer's unit cannot be converted into the supply's.
    """
    A = db.system.A.tocoo()
    n = db.system.size
    is_producer = np.zeros(n, dtype=bool)
    is_producer[list(producers)] = True
    moved = is_producer[A.row] & ~is_producer[A.col]
    if not moved.any():
        names = "; ".join(db.names[i] for i in producers[:5])
        raise InputError(
            f"no process of {db.ref} takes electricity from its electricity producers ({names})"
        )
    to_supply = np.zeros(n)
    for e in producers:
        to_supply[e] = conversion_factor(db.units[e], supply.unit)
    amounts = A.data[moved] * to_supply[A.row[moved]]
    keep = ~moved
    rows = np.concatenate([A.row[keep], np.full(moved.sum(), n), [n]])
    cols = np.concatenate([A.col[keep], A.col[moved], [n]])
    data = np.concatenate([A.data[keep], amounts, [1.0]])
    new_A = sp.csc_array((data, (rows, cols)), shape=(n + 1, n + 1))
    column = np.zeros((len(flows), 1))
    for gas, kg in supply.emissions.items():
        column[list(flows).index(gas), 0] = kg
    new_B = sp.hstack([db.system.B, sp.csc_array(column)], format="csc")
    system = MatrixSystem(
        A=new_A,
        B=new_B,
        activities=(*db.system.activities, supply.id),
        flows=db.system.flows,
    )
    drawn: dict[int, set[int]] = {}
    for e, j in zip(A.row[moved], A.col[moved], strict=True):
        drawn.setdefault(int(j), set()).add(int(e))
    return (
        replace(
            db,
            system=system,
            names=(*db.names, supply.name),
            products=(*db.products, supply.name),
            product_ids=(*db.product_ids, supply.id),
            units=(*db.units, supply.unit),
            locations=(*db.locations, supply.geography),
        ),
        tuple((j, tuple(sorted(es))) for j, es in sorted(drawn.items())),
    )
