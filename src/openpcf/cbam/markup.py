"""Mark-ups on default values in the definitive period.

Legal source: Implementing Regulation (EU) 2025/2621 (default values, definitive period),
whose Annex I published each good's value for 2026, 2027 and 2028 with the mark-up included;
the correction (EU) 2026/1740 keeps the schedule but states only the values before mark-up.

========================================  ======  ======  ==============
sector                                     2026    2027    2028 and later
========================================  ======  ======  ==============
iron and steel, aluminium, cement,          10 %    20 %    30 %
hydrogen
fertilisers                                  1 %     1 %     1 %  (⚠R after 2028)
electricity                                  0 %     0 %     0 %
========================================  ======  ======  ==============

Tags (docs/cbam.md, standards-facts §3.1): the 10/20/30 % schedule is ✅S (two secondary
sources agree, and every priced row of the original annex implies it). The 1 % for fertilisers
is ✅S from a single transcription of the annex, confirmed by the Commission's press
conference of 17 Dec 2025 as reported by S&P Global; that it stays 1 % after 2028 is an
assumption (⚠R). Electricity has no default in this table and no mark-up.
"""

from __future__ import annotations

from openpcf.cbam.errors import CbamError

FIRST_DEFINITIVE_YEAR = 2026

_SCHEDULE: dict[str, tuple[float, float, float]] = {
    "iron_steel": (10.0, 20.0, 30.0),
    "aluminium": (10.0, 20.0, 30.0),
    "cement": (10.0, 20.0, 30.0),
    "hydrogen": (10.0, 20.0, 30.0),
    "fertilisers": (1.0, 1.0, 1.0),
    "electricity": (0.0, 0.0, 0.0),
}


def markup_percent(sector: str, year: int) -> float:
    """Mark-up in percent on a default value of ``sector`` used for imports in ``year``.

    Raises
    ------
    CbamError
        If ``year`` is before 2026 (the transitional period had no mark-ups and other
        defaults) or ``sector`` is unknown.
    """
    if year < FIRST_DEFINITIVE_YEAR:
        raise CbamError(
            f"year {year}: definitive-period default values and mark-ups apply from "
            f"{FIRST_DEFINITIVE_YEAR}; give --year 2026 or later."
        )
    try:
        schedule = _SCHEDULE[sector]
    except KeyError:
        raise CbamError(f"no mark-up rule for sector {sector!r}") from None
    return schedule[min(year, 2028) - FIRST_DEFINITIVE_YEAR]
