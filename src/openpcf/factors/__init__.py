"""Emission factors: bundled open data, user factor sets, search and grid fallback.

The model compiler uses :func:`bundled_factor_set`, :func:`load_factor_set`,
:meth:`FactorSet.get` and :func:`grid_electricity`; everything else is detail.
"""

from __future__ import annotations

from openpcf.factors.grid import GridChoice, grid_electricity
from openpcf.factors.loading import bundled_factor_set, load_factor_set
from openpcf.factors.schema import CATEGORIES, Factor
from openpcf.factors.store import FactorSet

__all__ = [
    "CATEGORIES",
    "Factor",
    "FactorSet",
    "GridChoice",
    "bundled_factor_set",
    "grid_electricity",
    "load_factor_set",
]
