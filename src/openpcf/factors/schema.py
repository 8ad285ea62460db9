"""The emission factor: one background datum with its provenance.

A factor says how many kilograms of each greenhouse gas one reference unit of something
(a kWh of grid electricity, a kg of coal burnt, a tkm of trucking) emits. Gases stay apart
(see :mod:`openpcf.methods.gases`) until a GWP set weighs them, so the same factor serves an
AR6 ISO 14067 study and an AR5 CBAM report. Provenance (source, year, geography, licence)
is mandatory: a verifier must be able to find every number in its publication.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from types import MappingProxyType
from typing import Any

from openpcf.core.uncertainty import Distribution

CATEGORIES: tuple[str, ...] = (
    "electricity",
    "fuel",
    "material",
    "transport",
    "water",
    "waste",
    "other",
)


def _rebuild_factor(kwargs: dict[str, Any]) -> Factor:
    """Unpickle a :class:`Factor` (module-level so pickle can find it)."""
    return Factor(**kwargs)


@dataclass(frozen=True, slots=True, kw_only=True)
class Factor:
    """An emission factor per one ``unit`` of an activity, with its provenance.

    Attributes
    ----------
    id : str
        Stable, lowercase, dotted id, e.g. ``"cn.grid.co2.2022.province.hebei"``.
    name, name_zh : str
        English and Chinese names (``name_zh`` may be empty).
    unit : str
        Reference unit the amounts are per; pint-parsable ("kWh", "kg", "t", "tkm", ...).
    emissions : Mapping[str, float]
        Gas id -> kg of that gas per 1 ``unit``. Stored read-only.
    category : str
        One of :data:`CATEGORIES`.
    geography : str
        ISO 3166 code or subdivision ("CN", "CN-HE"), a grid region id ("CN-GRID-NORTH")
        or "GLO".
    year : int
        Reference year of the data.
    source : str
        Full citation: publisher, title, table, date.
    licence : str
        Terms under which the number may be reused.
    gwp_basis : str
        When amounts are given as ``CO2e``: the GWP set the publisher used ("AR5", "AR6",
        "unstated"). Empty when every gas is given separately.
    illustrative : bool
        True where no open published figure exists and the value is a labelled assumption.
        Reports must flag results that depend on such factors.
    notes : str
        Caveats, derivations and scope (e.g. "direct combustion only").
    set_name : str
        Name of the factor set the row came from.
    ncv_mj_per_kg : float or None
        Net calorific value for fuels, so energy-based inputs can be converted to mass.
    uncertainty : Distribution or None
        The distribution of the row's amount of gas ``uncertainty_gas`` (kg per ``unit``,
        stats_arrays, :mod:`openpcf.core.uncertainty`) where the source gives one; None
        otherwise. Monte Carlo draws it and the analytic propagation differentiates it
        (:mod:`openpcf.model.montecarlo`).
    uncertainty_gas : str
        The gas whose amount ``uncertainty`` describes (empty without one).
    """

    id: str
    name: str
    name_zh: str = ""
    unit: str
    emissions: Mapping[str, float]
    category: str
    geography: str
    year: int
    source: str
    licence: str
    gwp_basis: str = ""
    illustrative: bool = False
    notes: str = ""
    set_name: str = ""
    ncv_mj_per_kg: float | None = None
    uncertainty: Distribution | None = None
    uncertainty_gas: str = ""

    def __post_init__(self) -> None:
        # Freeze the amounts: a caller's dict must not be able to change a factor later.
        object.__setattr__(self, "emissions", MappingProxyType(dict(self.emissions)))

    def __reduce__(self) -> tuple[Any, tuple[dict[str, Any]]]:
        # MappingProxyType cannot be pickled; Monte Carlo workers need to pickle factors.
        kwargs = {f.name: getattr(self, f.name) for f in fields(self)}
        kwargs["emissions"] = dict(self.emissions)
        return (_rebuild_factor, (kwargs,))

    def co2e(self, gwp_values: Mapping[str, float]) -> float:
        """Return kg CO2e per ``unit``: the sum of each gas amount times its GWP.

        Parameters
        ----------
        gwp_values : Mapping[str, float]
            Gas id -> GWP, e.g. ``gwp_set("AR6").values``.
        """
        return sum(amount * gwp_values[gas] for gas, amount in self.emissions.items())

    def canonical(self) -> dict[str, Any]:
        """Return a JSON-ready dict with sorted gases, used for hashing and ``--json``.

        ``set_name`` is left out so that the same rows hash the same in any set, and so are
        ``uncertainty`` and ``uncertainty_gas`` for a row without a distribution (so the rows
        of every set before they existed keep their hashes).
        """
        skip = {"set_name", "uncertainty", "uncertainty_gas"}
        out = {f.name: getattr(self, f.name) for f in fields(self) if f.name not in skip}
        out["emissions"] = {gas: self.emissions[gas] for gas in sorted(self.emissions)}
        if self.uncertainty is not None:
            out["uncertainty"] = self.uncertainty.as_dict()
            out["uncertainty_gas"] = self.uncertainty_gas
        return out
