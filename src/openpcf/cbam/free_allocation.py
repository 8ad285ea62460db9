"""The free-allocation adjustment of CBAM certificates (Regulation (EU) 2023/956, Article 31).

Article 31(1) reduces the CBAM certificates to surrender by the extent to which EU producers
of the same goods still receive free EU ETS allowances. Implementing Regulation (EU)
2025/2620 sets the calculation (Annex points 2-4, checked against verbatim extractions of the
OJ text):

- ``FAA_g = SEFA_g,y · M_g``: free-allocation adjustment of good g, t CO2e, for the mass
  ``M_g`` (t) imported in the year of the declaration;
- ``SEFA_g,y = CBAM_y · CSCF_y · BM_g``: specific embedded free allocation, t CO2e/t, where
  ``CBAM_y`` is the CBAM factor of Directive 2003/87/EC Article 10a(1a) for year y,
  ``CSCF_y`` the cross-sectoral correction factor (Article 10a(5) of the Directive) and
  ``BM_g`` the CBAM benchmark of the good: Column B of Annex point 5.3 where default values
  are used (point 4), the process benchmark of Column A plus the precursors' SEFA where actual
  data are used (points 3.1-3.3);
- the adjustment for electricity (CN 2716 00 00) is zero (Article 1(2)).

``data/free_allocation.csv`` holds ``CBAM_y`` (2026-2034) and ``CSCF_y`` (2026-2030), each
with its source key in ``data/sources.csv``. The benchmarks are **not** bundled: the 570-row
table of Annex point 5.3, with its route, steel-grade and period indicators, was not found in
a machine-readable public form that could be checked, so each import line gives its benchmark
and the benchmark's source (:mod:`openpcf.cbam.imports`).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from functools import cache
from importlib import resources

from openpcf.cbam.errors import UnknownYearError

FIRST_YEAR = 2026
#: "From 2034, no CBAM factor shall apply": no free allocation, so no adjustment.
LAST_FACTOR_YEAR = 2034


@dataclass(frozen=True, slots=True)
class Factor:
    """A dimensionless factor for one year and where it comes from (a key of sources.csv,
    or the user's own citation)."""

    value: float
    source: str


@dataclass(frozen=True, slots=True, kw_only=True)
class _Year:
    cbam_factor: Factor
    cscf: Factor | None


@cache
def _table() -> dict[int, _Year]:
    text = resources.files("openpcf.cbam").joinpath("data/free_allocation.csv").read_text("utf-8")
    out = {}
    for r in csv.DictReader(io.StringIO(text)):
        cscf = Factor(float(r["cscf"]), r["cscf_source"]) if r["cscf"] else None
        out[int(r["year"])] = _Year(
            cbam_factor=Factor(float(r["cbam_factor"]), r["cbam_factor_source"]), cscf=cscf
        )
    return out


def _check_year(year: int) -> int:
    if year < FIRST_YEAR:
        raise UnknownYearError(
            f"year {year}: CBAM certificates and their free-allocation adjustment apply to "
            f"goods imported from {FIRST_YEAR} (Regulation (EU) 2023/956, definitive period); "
            f"give --year {FIRST_YEAR} or later."
        )
    return min(year, LAST_FACTOR_YEAR)


def cbam_factor(year: int) -> Factor:
    """The CBAM factor for imports of ``year`` (0.975 in 2026 ... 0 from 2034).

    Raises
    ------
    UnknownYearError
        If ``year`` is before 2026.
    """
    return _table()[_check_year(year)].cbam_factor


def cscf(year: int) -> Factor | None:
    """The cross-sectoral correction factor for ``year``, ``None`` where not yet determined.

    From 2034 no factor is needed (the CBAM factor is 0), so this returns ``None`` then too.

    Raises
    ------
    UnknownYearError
        If ``year`` is before 2026.
    """
    return _table()[_check_year(year)].cscf


@dataclass(frozen=True, slots=True, kw_only=True)
class Adjustment:
    """``CBAM_y`` and ``CSCF_y`` of one year: ``sefa(BM) = CBAM_y · CSCF_y · BM``."""

    year: int
    cbam_factor: Factor
    cscf: Factor

    def sefa(self, benchmark: float) -> float:
        """Specific embedded free allocation, t CO2e/t, for a CBAM benchmark in t CO2e/t."""
        return self.cbam_factor.value * self.cscf.value * benchmark


def adjustment(year: int, *, cscf_value: Factor | None = None) -> Adjustment:
    """The factors of ``year``; ``cscf_value`` overrides (or supplies) the CSCF.

    Raises
    ------
    UnknownYearError
        If ``year`` is before 2026, or the CSCF of ``year`` is not determined (2031-2033) and
        none is given.
    """
    factor = cbam_factor(year)
    chosen = cscf_value or cscf(year)
    if chosen is None:
        if factor.value == 0:
            chosen = Factor(1.0, "not needed: the CBAM factor is 0")
        else:
            raise UnknownYearError(
                f"year {year}: the cross-sectoral correction factor is determined only for "
                "2026-2030 (Commission Implementing Decision (EU) 2026/1862); give it with "
                "--cscf VALUE --cscf-source 'DOCUMENT, ARTICLE, YEAR'."
            )
    return Adjustment(year=year, cbam_factor=factor, cscf=chosen)
