"""Claims files: load, compute both methods side by side, register, and turn into a factor.

The product-model input ``electricity_claim: <path>`` calls :func:`electricity_factor`, which
computes the market-based factor of the claim (kg per kWh on ``CO2-fossil`` for the ``co2``
basis, ``CO2e`` for ``footprint``), records its instruments in the certificate registry and
states the method (and the location-based figure for comparison) in the factor's notes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from openpcf.electricity.accounting import ElectricityResult, location_based, market_based
from openpcf.electricity.errors import ClaimFileError
from openpcf.electricity.registry import CertificateRegistry
from openpcf.electricity.schema import Claims
from openpcf.errors import OpenPCFError, located
from openpcf.factors import Factor, FactorSet
from openpcf.files.yamlfile import load_validated

CLAIM_SET = "electricity claim"


@dataclass(frozen=True, slots=True, kw_only=True)
class SideBySide:
    """Location-based and market-based results for one claims file."""

    claims: Claims
    file: str
    location: ElectricityResult
    market: ElectricityResult


def load_claims(path: Path | str) -> Claims:
    """Read and validate a claims YAML file (errors name file, line and field)."""
    _, claims = load_validated(
        Path(path),
        Claims,
        what="the claims file",
        mapping="a claims file is a YAML mapping with 'claim', 'site' ...",
        error=ClaimFileError,
    )
    return claims


def calculate_claims(
    path: Path | str,
    *,
    factors: FactorSet | None = None,
    registry: CertificateRegistry | None = None,
) -> SideBySide:
    """Both methods for the claims file at ``path``.

    With a ``registry`` the claim's instruments are recorded there, and one already claimed by
    another claims file is an error (no double counting); without one nothing is recorded.
    """
    path = Path(path)
    claims = load_claims(path)
    try:
        market = market_based(claims, factors=factors)
        location = location_based(
            geography=claims.geography,
            year=claims.year,
            consumption_kwh=claims.consumption_kwh,
            factors=factors,
            basis=claims.basis,
            site=claims.site,
            period=(claims.period.start, claims.period.end),
        )
        if registry is not None:
            registry.register(claims, file=str(path.resolve()))
    except OpenPCFError as e:
        raise located(e, str(path)) from None
    return SideBySide(claims=claims, file=str(path), location=location, market=market)


def electricity_factor(
    claim_ref: str,
    *,
    base: Path,
    factors: FactorSet | None = None,
    registry: CertificateRegistry | None = None,
) -> Factor:
    """The market-based factor per kWh of the claims file ``base / claim_ref``.

    With a ``registry`` the claim's instruments are registered there (a certificate claimed by
    another file is an error); without one nothing is checked or recorded.
    """
    path = base / claim_ref
    both = calculate_claims(path, factors=factors, registry=registry)
    m, loc = both.market, both.location
    slug = re.sub(r"[^a-z0-9_\-]+", "-", path.stem.lower()).strip("-") or "claim"
    used = ", ".join(f"{u.type} {u.id} {u.kwh:g} kWh at {u.kg_per_kwh:g}" for u in m.instruments)
    notes = (
        f"market-based (GHG Protocol Scope 2): {m.covered_kwh:g} kWh covered by instruments "
        f"[{used or 'none'}], {m.residual_kwh:g} kWh at residual {m.residual_kg_per_kwh:g} kg/kWh; "
        f"location-based for comparison: {loc.kg_per_kwh:.6g} kg/kWh ({loc.grid_factor_id})"
    )
    return Factor(
        id=f"electricity.claim.{slug}",
        name=f"Electricity of {both.claims.site}, {both.claims.period}, market-based",
        unit="kWh",
        emissions={m.gas: m.kg_per_kwh},
        category="electricity",
        geography=both.claims.geography,
        year=both.claims.year,
        source=(
            f"OpenPCF market-based calculation of claim {both.claims.claim!r} ({path}); "
            f"residual mix: {m.residual_source}"
        ),
        licence="computed by OpenPCF from the sources named in 'source'",
        gwp_basis="" if m.gas == "CO2-fossil" else "unstated",
        notes=notes,
        set_name=CLAIM_SET,
    )
