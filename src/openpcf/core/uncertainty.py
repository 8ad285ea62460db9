"""Uncertain amounts: distributions in the stats_arrays format and the ecoinvent pedigree σ.

**Format.** A distribution is one row of a stats_arrays parameter array (the stats_arrays
documentation, ``docs/index.rst``, table "Mapping parameter array columns to uncertainty
distributions"): ``uncertainty_type`` 0 undefined, 1 no uncertainty, 2 lognormal, 3 normal,
4 uniform, 5 triangular, and the fields ``loc, scale, shape, minimum, maximum, negative``.
Lognormal: ``loc`` = μ and ``scale`` = σ of the underlying normal (``loc = ln |median|``,
``negative`` for negative values); normal: ``loc`` mean, ``scale`` standard deviation;
uniform: ``minimum, maximum``; triangular: ``loc`` the mode, ``minimum, maximum``. Unused
fields are NaN, as that documentation asks, so rows interoperate with Brightway.

**Pedigree.** ecoinvent v3 adds the pedigree scores to a basic uncertainty as variances of the
underlying normal (data quality guideline for ecoinvent 3, Weidema et al. 2013, chapter 10;
the values below are the guideline's, as Brightway's ``bw2data`` carries them under
"original"): ``σ² = σ_b² + Σ_i σ_i²``. Each variance is the ecoinvent v2 uncertainty factor
``U`` (a factor on the 95 % range, i.e. on GSD²; Frischknecht et al. 2007, ecoinvent report
no. 1, eq. 7.1: ``GSD² = exp(√(Σ (ln U_i)²))``) written as ``σ_i² = (ln U_i / 2)²``: U = 1.05 →
0.000595 ≈ 0.0006, U = 1.50 → 0.0411 ≈ 0.04, U = 2.00 → 0.1201 ≈ 0.12. So with the basic
uncertainty given as GSD² ``U_b``, ``σ = ½ √((ln U_b)² + Σ (ln U_i)²)`` and ``GSD² = exp(2σ)``.
The empirical factors of Ciroth et al. 2016 (Int J LCA 21:1338) are not used: ecoinvent v3's
database uses the guideline's.

Sampling is by inverse CDF from uniforms ``u`` (:meth:`Distribution.ppf`), so the same
uniforms give the same quantiles for every model that shares an input (common random numbers).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np
from scipy.special import ndtri

from openpcf.core.quality import INDICATORS, Pedigree
from openpcf.errors import InputError

UNDEFINED, NO_UNCERTAINTY, LOGNORMAL, NORMAL, UNIFORM, TRIANGULAR = range(6)
NAMES = {
    UNDEFINED: "undefined",
    NO_UNCERTAINTY: "no uncertainty",
    LOGNORMAL: "lognormal",
    NORMAL: "normal",
    UNIFORM: "uniform",
    TRIANGULAR: "triangular",
}

#: Variance of ln(amount) added by each pedigree score 1..5 (ecoinvent v3 data quality
#: guideline, Weidema et al. 2013, chapter 10; U factors of ecoinvent v2 as (ln U / 2)²).
PEDIGREE_VARIANCES: dict[str, tuple[float, ...]] = {
    "reliability": (0.0, 0.0006, 0.002, 0.008, 0.04),
    "completeness": (0.0, 0.0001, 0.0006, 0.002, 0.008),
    "temporal": (0.0, 0.0002, 0.002, 0.008, 0.04),
    "geographical": (0.0, 0.000025, 0.0001, 0.0006, 0.002),
    "technological": (0.0, 0.0006, 0.008, 0.04, 0.12),
}

NAN = math.nan


@dataclass(frozen=True, slots=True, kw_only=True)
class Distribution:
    """One stats_arrays row (see the module docstring)."""

    uncertainty_type: int
    loc: float = NAN
    scale: float = NAN
    shape: float = NAN
    minimum: float = NAN
    maximum: float = NAN
    negative: bool = False

    @property
    def name(self) -> str:
        return NAMES.get(self.uncertainty_type, str(self.uncertainty_type))

    def as_dict(self) -> dict[str, float | int | bool | None]:
        """The stats_arrays fields (NaN as None, for JSON)."""
        out: dict[str, float | int | bool | None] = {"uncertainty_type": self.uncertainty_type}
        for name in ("loc", "scale", "shape", "minimum", "maximum"):
            value = getattr(self, name)
            out[name] = None if math.isnan(value) else value
        out["negative"] = self.negative
        return out

    def scaled(self, c: float) -> Distribution | None:
        """The distribution of ``c·X``; None for ``c = 0`` (a constant zero).

        lognormal: ``loc + ln|c|``, ``scale`` unchanged, ``negative`` flipped when ``c < 0``;
        normal: ``loc·c``, ``scale·|c|``; uniform and triangular: ``minimum``, ``loc``,
        ``maximum`` times ``c`` (swapped when ``c < 0``).
        """
        if c == 0.0 or not math.isfinite(c):
            return None
        t = self.uncertainty_type
        if t in (UNDEFINED, NO_UNCERTAINTY):
            return replace(self, loc=self.loc * c)
        if t == LOGNORMAL:
            return replace(self, loc=self.loc + math.log(abs(c)), negative=self.negative != (c < 0))
        if t == NORMAL:
            return replace(self, loc=self.loc * c, scale=self.scale * abs(c))
        low, high = sorted((self.minimum * c, self.maximum * c))
        return replace(self, loc=self.loc * c, minimum=low, maximum=high)

    def describe(self) -> str:
        """Short text: ``"lognormal GSD=1.2"``, ``"uniform [1, 3]"``."""
        t = self.uncertainty_type
        if t == LOGNORMAL:
            return f"lognormal GSD={math.exp(self.scale):.4g}"
        if t == NORMAL:
            return f"normal sd={self.scale:.4g}"
        if t == TRIANGULAR:
            return f"triangular [{self.minimum:.4g}, {self.loc:.4g}, {self.maximum:.4g}]"
        if t == UNIFORM:
            return f"uniform [{self.minimum:.4g}, {self.maximum:.4g}]"
        return self.name

    def moments(self) -> tuple[float, float]:
        """``(mean, variance)`` of the distribution."""
        t = self.uncertainty_type
        if t == LOGNORMAL:
            mu, s2 = self.loc, self.scale**2
            mean = math.exp(mu + s2 / 2)
            return (-mean if self.negative else mean), math.exp(2 * mu + s2) * math.expm1(s2)
        if t == NORMAL:
            return self.loc, self.scale**2
        if t == UNIFORM:
            a, b = self.minimum, self.maximum
            return (a + b) / 2, (b - a) ** 2 / 12
        if t == TRIANGULAR:
            a, c, b = self.minimum, self.loc, self.maximum
            return (a + b + c) / 3, (a * a + b * b + c * c - a * b - a * c - b * c) / 18
        return self.loc, 0.0

    def ppf(self, u: np.ndarray) -> np.ndarray:
        """Values at the quantiles ``u`` (each in (0, 1)): the inverse CDF."""
        u = np.asarray(u, dtype=np.float64)
        t = self.uncertainty_type
        if t == LOGNORMAL:
            x: np.ndarray = np.exp(self.loc + self.scale * ndtri(u))
            return -x if self.negative else x
        if t == NORMAL:
            z: np.ndarray = ndtri(u)
            return self.loc + self.scale * z
        if t == UNIFORM:
            return self.minimum + (self.maximum - self.minimum) * u
        if t == TRIANGULAR:
            a, c, b = self.minimum, self.loc, self.maximum
            left = (c - a) / (b - a)
            low = a + np.sqrt(u * (b - a) * (c - a))
            high = b - np.sqrt((1 - u) * (b - a) * (b - c))
            return np.where(u < left, low, high)
        return np.full(u.shape, self.loc)


def fixed(amount: float) -> Distribution:
    """No uncertainty (type 1): always ``amount``."""
    return Distribution(uncertainty_type=NO_UNCERTAINTY, loc=amount)


def lognormal(amount: float, sigma: float) -> Distribution:
    """Lognormal with median ``amount`` and σ of ln (type 2); 0 stays 0."""
    if not sigma >= 0 or not math.isfinite(sigma) or not math.isfinite(amount):
        raise InputError(f"lognormal sigma {sigma:g} must be a finite number >= 0")
    if amount == 0 or sigma == 0:
        return fixed(amount)
    return Distribution(
        uncertainty_type=LOGNORMAL, loc=math.log(abs(amount)), scale=sigma, negative=amount < 0
    )


def normal(mean: float, sd: float) -> Distribution:
    """Normal with ``mean`` and standard deviation ``sd`` (type 3)."""
    if not sd >= 0 or not math.isfinite(sd) or not math.isfinite(mean):
        raise InputError(f"normal sd {sd:g} must be a finite number >= 0")
    return fixed(mean) if sd == 0 else Distribution(uncertainty_type=NORMAL, loc=mean, scale=sd)


def uniform(minimum: float, maximum: float) -> Distribution:
    """Uniform on ``[minimum, maximum]`` (type 4)."""
    if not (math.isfinite(minimum) and math.isfinite(maximum) and minimum < maximum):
        raise InputError(f"uniform needs min < max (got min {minimum:g}, max {maximum:g})")
    return Distribution(uncertainty_type=UNIFORM, minimum=minimum, maximum=maximum)


def triangular(minimum: float, mode: float, maximum: float) -> Distribution:
    """Triangular on ``[minimum, maximum]`` with ``mode`` (type 5)."""
    if not (math.isfinite(minimum) and math.isfinite(maximum) and minimum < maximum):
        raise InputError(f"triangular needs min < max (got min {minimum:g}, max {maximum:g})")
    if not minimum <= mode <= maximum:
        raise InputError(
            f"triangular mode {mode:g} is outside the range [{minimum:g}, {maximum:g}]"
        )
    return Distribution(uncertainty_type=TRIANGULAR, loc=mode, minimum=minimum, maximum=maximum)


def sigma_from_gsd2(gsd2: float) -> float:
    """σ of ln from the squared geometric standard deviation: ``σ = ln(GSD²) / 2``."""
    if not gsd2 >= 1 or not math.isfinite(gsd2):
        raise InputError(f"gsd2 {gsd2!r} must be a finite number >= 1 (GSD² = exp(2σ))")
    return math.log(gsd2) / 2


def pedigree_sigma(pedigree: Pedigree, basic_gsd2: float) -> float:
    """σ of ln of an exchange: basic uncertainty (as GSD²) plus its pedigree scores.

    ``σ² = (ln U_b / 2)² + Σ_i PEDIGREE_VARIANCES[i][score_i − 1]`` (module docstring).
    """
    basic = sigma_from_gsd2(basic_gsd2)
    added = sum(PEDIGREE_VARIANCES[name][getattr(pedigree, name) - 1] for name in INDICATORS)
    return math.sqrt(basic**2 + added)
