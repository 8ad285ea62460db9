"""Data quality: pedigree scores and the product's data quality rating (DQR).

Each exchange may carry Weidema pedigree scores from 1 (best) to 5 (worst) for reliability,
completeness, and temporal, geographical and technological correlation (ecoinvent data quality
system). The product's technological, geographical and temporal DQR (the three PACT v3 asks
for) are the averages of the exchanges' scores weighted by the absolute kg CO2e each
exchange contributes: ``DQR_x = Σ_e |h_e| q_e,x / Σ_e |h_e|``. An exchange without a score is
counted as 5 (unknown), so missing quality information never improves the rating.

The weights ``h_e`` are each exchange's kg CO2e in the PCF *excluding biogenic CO2 uptake*
(fossil + land-use change + biogenic non-CO2), the basis PACT v3 states for both the DQRs ("the
final absolute PCF excluding biogenic CO2 uptake ... based on weighted average of all inputs",
``DataQualityIndicators`` in the v3 OpenAPI) and the primary data share ("share of primary data
in ... pcfExcludingBiogenicUptake", ``primaryDataShare``). The primary data share is
``PDS = 100 Σ_e |h_e| p_e / Σ_e |h_e|`` where ``p_e`` is the share of exchange ``e``'s data
that is primary: 1 or 0 for the model's own exchanges, the supplier's stated share for a
supplier's footprint (:func:`primary_share`).

PEF (Recommendation (EU) 2021/2279) labels a DQR ≤ 1.5 excellent, ≤ 2 very good, ≤ 3 good,
≤ 4 fair and above 4 poor.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

INDICATORS: tuple[str, ...] = (
    "reliability",
    "completeness",
    "temporal",
    "geographical",
    "technological",
)
UNKNOWN_SCORE = 5.0


@dataclass(frozen=True, slots=True, kw_only=True)
class Pedigree:
    reliability: int = 5
    completeness: int = 5
    temporal: int = 5
    geographical: int = 5
    technological: int = 5

    def __post_init__(self) -> None:
        for name in INDICATORS:
            value = getattr(self, name)
            if not isinstance(value, int) or not 1 <= value <= 5:
                raise ValueError(f"pedigree score {name}={value!r} must be an integer 1..5")


@dataclass(frozen=True, slots=True, kw_only=True)
class QualityRating:
    technological: float
    geographical: float
    temporal: float
    coverage: float  # share of |kg CO2e| whose exchanges carry a pedigree

    @property
    def overall(self) -> float:
        return (self.technological + self.geographical + self.temporal) / 3.0

    @property
    def label(self) -> str:
        return pef_label(self.overall)


def pef_label(dqr: float) -> str:
    for limit, label in ((1.5, "excellent"), (2.0, "very good"), (3.0, "good"), (4.0, "fair")):
        if dqr <= limit:
            return label
    return "poor"


def rate(weights: np.ndarray, pedigrees: Sequence[Pedigree | None]) -> QualityRating:
    """Contribution-weighted DQR over exchanges with kg CO2e ``weights``."""
    w = np.abs(np.asarray(weights, dtype=np.float64))
    total = float(w.sum())
    if total == 0.0:
        return QualityRating(
            technological=UNKNOWN_SCORE,
            geographical=UNKNOWN_SCORE,
            temporal=UNKNOWN_SCORE,
            coverage=0.0,
        )

    def score(name: str) -> float:
        q = [UNKNOWN_SCORE if p is None else float(getattr(p, name)) for p in pedigrees]
        return float(np.dot(w, q) / total)

    covered = float(sum(wi for wi, p in zip(w, pedigrees, strict=True) if p is not None))
    return QualityRating(
        technological=score("technological"),
        geographical=score("geographical"),
        temporal=score("temporal"),
        coverage=covered / total,
    )


def primary_share(weights: np.ndarray, shares: Sequence[float]) -> float:
    """Primary data share in percent: ``100 Σ_e |h_e| p_e / Σ_e |h_e|`` (0 without weight).

    ``shares`` are each exchange's primary share ``p_e`` from 0 to 1.
    """
    w = np.abs(np.asarray(weights, dtype=np.float64))
    total = float(w.sum())
    if total == 0.0:
        return 0.0
    p = np.asarray(shares, dtype=np.float64)
    if p.shape != w.shape or np.any((p < 0.0) | (p > 1.0)):
        raise ValueError("primary shares must be one number from 0 to 1 per weight")
    return 100.0 * float(np.dot(w, p)) / total
