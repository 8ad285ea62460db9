"""Electricity accounting: location-based and market-based, certificates, PPAs, registry.

Public API: :func:`location_based`, :func:`market_based`, :func:`calculate_claims`,
:func:`load_claims`, :func:`electricity_factor`, :class:`CertificateRegistry`, the result
types, and the scope of grid factors (:func:`scope_of`, :func:`generation_only`,
:func:`with_scope_notes`). See ``docs/electricity.md``.
"""

from __future__ import annotations

from openpcf.electricity.accounting import (
    ElectricityResult,
    InstrumentUse,
    location_based,
    market_based,
    residual_mix,
)
from openpcf.electricity.claims import SideBySide, calculate_claims, electricity_factor, load_claims
from openpcf.electricity.errors import (
    ClaimError,
    ClaimFileError,
    DoubleClaimError,
    RegistryError,
    ResidualMixError,
)
from openpcf.electricity.registry import CertificateRegistry
from openpcf.electricity.schema import Claims, Instrument, Period, Residual
from openpcf.electricity.scope import SeriesScope, generation_only, scope_of, with_scope_notes

__all__ = [
    "CertificateRegistry",
    "ClaimError",
    "ClaimFileError",
    "Claims",
    "DoubleClaimError",
    "ElectricityResult",
    "Instrument",
    "InstrumentUse",
    "Period",
    "RegistryError",
    "Residual",
    "ResidualMixError",
    "SeriesScope",
    "SideBySide",
    "calculate_claims",
    "electricity_factor",
    "generation_only",
    "load_claims",
    "location_based",
    "market_based",
    "residual_mix",
    "scope_of",
    "with_scope_notes",
]
