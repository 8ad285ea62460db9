"""What a supplier's PACT footprint states about its data: primary data share and DQRs.

A supplier footprint used as an input keeps both, so the PACT document of our product states
a primary data share and DQRs that account for the supplier's own (issue 13):

* **Primary data share.** PACT's ``primaryDataShare`` is the "share of primary data in the
  final absolute PCF value excluding biogenic CO2 uptake" (v3 OpenAPI, methodology 4.2.2), a
  percentage. The input's exchange counts that fraction of its contribution as primary data
  (:func:`openpcf.core.quality.primary_share`). A footprint that states none counts as
  secondary data (0 %): nothing can be claimed for data whose origin is not stated.
* **Data quality.** PACT v3 ``dqi`` holds ``technologicalDQR``, ``geographicalDQR`` and
  ``temporalDQR``, decimals "between 1 and 5 inclusive" (v3 OpenAPI,
  ``DataQualityIndicators``), the same 1 (best) to 5 (worst) scale as the pedigree scores of
  :mod:`openpcf.core.quality`. PACT v2.3 ``dqi`` ratings (those three plus
  ``completenessDQR`` and ``reliabilityDQR``) are decimals "between 1 and 3" (v2.3 OpenAPI,
  ``DataQualityIndicators``, after PACT Methodology v2 Table 9).

  Mapping rule (OpenPCF's choice; neither specification gives a crosswalk): a v2.3 rating
  ``q`` in 1..3 is first put on the 1..5 scale linearly, ``2 q - 1`` (1 → 1, 2 → 3, 3 → 5:
  best stays best, worst stays worst); then each rating is rounded *up* to the integer
  pedigree score (``ceil``), because pedigree scores are the integer levels of the data
  quality matrix and a supplier's average between two levels must not make our rating better
  than the supplier stated (the rule that counts unscored exchanges as 5). Ratings v3 does not
  have (reliability, completeness) are 5, unknown; they do not enter the DQRs. A footprint
  without ``dqi`` has no pedigree: its exchange counts as 5 on every indicator.

A model input's own ``primary:`` or ``quality:`` replaces what the supplier states.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from openpcf.core.quality import Pedigree
from openpcf.exchange.errors import SupplierFootprintError
from openpcf.exchange.vocabulary import pact_decimal

#: PACT ``dqi`` member → pedigree indicator.
DQR_INDICATORS = {
    "technologicalDQR": "technological",
    "geographicalDQR": "geographical",
    "temporalDQR": "temporal",
    "completenessDQR": "completeness",  # v2.3 only
    "reliabilityDQR": "reliability",  # v2.3 only
}
#: Worst rating of each PACT version's scale.
SCALE = {"3": 5, "2": 3}


def stated_primary_share(pcf: Mapping[str, Any], *, version: str, where: str) -> float | None:
    """``pcf.primaryDataShare`` as a fraction from 0 to 1; None when not stated."""
    value = pcf.get("primaryDataShare")
    if value is None:
        return None
    share = _number(value, version=version, where=f"{where}: pcf.primaryDataShare")
    if not 0 <= share <= 100:
        raise SupplierFootprintError(
            f"{where}: pcf.primaryDataShare = {value!r} must be a percentage from 0 to 100"
        )
    return float(share) / 100.0


def stated_pedigree(pcf: Mapping[str, Any], *, version: str, where: str) -> Pedigree | None:
    """The supplier's DQRs as pedigree scores (see the module docstring); None without dqi."""
    dqi = pcf.get("dqi")
    if dqi is None:
        return None
    if not isinstance(dqi, Mapping):
        raise SupplierFootprintError(f"{where}: pcf.dqi must be an object of DQRs")
    worst = SCALE[version]
    scores: dict[str, int] = {}
    for member, indicator in DQR_INDICATORS.items():
        value = dqi.get(member)
        if value is None:
            continue
        rating = _number(value, version=version, where=f"{where}: pcf.dqi.{member}")
        if not 1 <= rating <= worst:
            raise SupplierFootprintError(
                f"{where}: pcf.dqi.{member} = {value!r} must be from 1 to {worst} (PACT "
                f"v{version} DQR scale)"
            )
        scores[indicator] = pedigree_score(rating, version=version)
    return Pedigree(**scores) if scores else None


def pedigree_score(rating: Decimal, *, version: str) -> int:
    """A PACT DQR as an integer pedigree score from 1 to 5 (the module's mapping rule).

    >>> [pedigree_score(Decimal(q), version="3") for q in ("1", "1.2", "2", "4.5", "5")]
    [1, 2, 2, 5, 5]
    >>> [pedigree_score(Decimal(q), version="2") for q in ("1", "1.5", "2", "2.2", "3")]
    [1, 2, 3, 4, 5]
    """
    on_five = 2 * rating - 1 if version == "2" else rating
    return min(5, max(1, math.ceil(on_five)))


def _number(value: object, *, version: str, where: str) -> Decimal:
    """A v3 decimal string, or a v2.3 JSON number."""
    if version == "2" and isinstance(value, int | float) and not isinstance(value, bool):
        if math.isfinite(value):
            return Decimal(repr(value))
    else:
        try:
            return pact_decimal(value)
        except ValueError:
            pass
    kind = "a JSON number" if version == "2" else 'a PACT decimal string such as "1.5"'
    raise SupplierFootprintError(f"{where} = {value!r} is not {kind}")
