"""Location-based and market-based electricity accounting (GHG Protocol Scope 2 methods).

**Location-based**: ``E = C · g`` with consumption ``C`` (kWh) and the grid factor ``g``
(kg/kWh) of the site's province → regional grid → national fallback
(:func:`openpcf.factors.grid_electricity`).

**Market-based**: contractual instruments ``i`` (GEC, I-REC, PPA, on-site generation) cover
``k_i`` kWh at their generation factor ``f_i``; the rest is at the residual mix ``r``::

    covered  K = Σ k_i  (must not exceed C)
    residual R = C − K
    E = Σ k_i · f_i + R · r,   applied factor = E / C

Generation factors ``f_i``: the instrument's own ``factor_kg_per_kwh`` if given; on the
``co2`` basis 0 for wind, solar, hydro and nuclear (no CO2 is emitted at generation, which is
what the MEE/NBS CO2 factors count); on the ``footprint`` basis the bundled 2023 life-cycle
factors for wind, PV and biomass. Anything else must be given.

Residual mix ``r``: China publishes none. The closest published analogue is the MEE/NBS
national factor *excluding market-traded non-fossil electricity* (不包括市场化交易的非化石能源
电量), bundled for 2022 (0.5856) and 2023 (0.6096) kg CO2/kWh, used on the ``co2`` basis for
those years. For other years or the footprint basis the claim must give ``residual``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from openpcf.electricity.errors import ClaimError, DoubleClaimError, ResidualMixError
from openpcf.electricity.schema import Claims, Instrument
from openpcf.factors import Factor, FactorSet, bundled_factor_set, grid_electricity
from openpcf.methods.gwp import gwp_set

_ZERO_CO2 = ("wind", "solar", "hydro", "nuclear")
_FOOTPRINT_TECH = {"wind": "wind", "solar": "pv", "biomass": "biomass"}
_GAS = {"co2": "CO2-fossil", "footprint": "CO2e"}


@dataclass(frozen=True, slots=True, kw_only=True)
class InstrumentUse:
    """One instrument as applied: kWh covered at ``kg_per_kwh``, and where that came from."""

    type: str
    id: str
    kwh: float
    kg_per_kwh: float
    source: str


@dataclass(frozen=True, slots=True, kw_only=True)
class ElectricityResult:
    """Emissions of a site's electricity for a period by one method (kg of ``gas``)."""

    method: str
    basis: str
    gas: str
    site: str
    period_start: dt.date | None
    period_end: dt.date | None
    consumption_kwh: float
    covered_kwh: float
    residual_kwh: float
    kg_per_kwh: float
    emissions_kg: float
    instruments: tuple[InstrumentUse, ...]
    residual_kg_per_kwh: float | None
    residual_source: str
    grid_factor_id: str = ""
    grid_note: str = ""

    def to_dict(self) -> dict[str, object]:
        return {
            "method": self.method,
            "basis": self.basis,
            "gas": self.gas,
            "site": self.site,
            "period": [str(self.period_start), str(self.period_end)],
            "consumption_kwh": self.consumption_kwh,
            "covered_kwh": self.covered_kwh,
            "residual_kwh": self.residual_kwh,
            "kg_per_kwh": self.kg_per_kwh,
            "emissions_kg": self.emissions_kg,
            "instruments": [vars_of(u) for u in self.instruments],
            "residual_kg_per_kwh": self.residual_kg_per_kwh,
            "residual_source": self.residual_source,
            "grid_factor_id": self.grid_factor_id,
            "grid_note": self.grid_note,
        }


def vars_of(use: InstrumentUse) -> dict[str, object]:
    return {"type": use.type, "id": use.id, "kwh": use.kwh, "kg_per_kwh": use.kg_per_kwh,
            "source": use.source}  # fmt: skip


def _value(factor: Factor) -> float:
    """kg per kWh of a grid factor (CO2-fossil or CO2e; both weigh 1 under AR6)."""
    return factor.co2e(gwp_set("AR6").values)


def location_based(
    *,
    geography: str,
    year: int,
    consumption_kwh: float,
    factors: FactorSet | None = None,
    basis: str = "co2",
    site: str = "",
    period: tuple[dt.date, dt.date] | None = None,
) -> ElectricityResult:
    """``E = C · g`` with the grid factor of ``geography`` and ``year`` (with fallback)."""
    if consumption_kwh < 0:
        raise ClaimError(f"consumption must be >= 0 kWh, got {consumption_kwh:g}")
    choice = grid_electricity(
        geography=geography, year=year, factors=factors or bundled_factor_set(), basis=basis
    )
    g = _value(choice.factor)
    return ElectricityResult(
        method="location-based",
        basis=basis,
        gas=_GAS[basis],
        site=site,
        period_start=period[0] if period else None,
        period_end=period[1] if period else None,
        consumption_kwh=consumption_kwh,
        covered_kwh=0.0,
        residual_kwh=consumption_kwh,
        kg_per_kwh=g,
        emissions_kg=consumption_kwh * g,
        instruments=(),
        residual_kg_per_kwh=None,
        residual_source="",
        grid_factor_id=choice.factor.id,
        grid_note=f"{choice.factor.source} ({choice.fallback_note})",
    )


def market_based(claims: Claims, *, factors: FactorSet | None = None) -> ElectricityResult:
    """Apply the claim's instruments, then the residual mix to the rest (module formulas).

    Raises
    ------
    ClaimError
        An instrument for another site or outside the claim period, or instruments covering
        more than the consumption.
    DoubleClaimError
        The same instrument id twice in the claim.
    ResidualMixError
        No sourced residual mix and none given.
    """
    fs = factors or bundled_factor_set()
    check_instruments(claims)
    uses = tuple(_use(claims, inst, fs) for inst in claims.instruments)
    covered = sum(u.kwh for u in uses)
    if covered > claims.consumption_kwh * (1 + 1e-12):
        raise ClaimError(
            f"claim {claims.claim!r}: instruments cover {covered:g} kWh but the site used "
            f"{claims.consumption_kwh:g} kWh; claim only what was consumed"
        )
    residual_kwh = max(claims.consumption_kwh - covered, 0.0)
    r, r_source = residual_mix(claims, fs)
    emissions = sum(u.kwh * u.kg_per_kwh for u in uses) + residual_kwh * r
    c = claims.consumption_kwh
    return ElectricityResult(
        method="market-based",
        basis=claims.basis,
        gas=_GAS[claims.basis],
        site=claims.site,
        period_start=claims.period.start,
        period_end=claims.period.end,
        consumption_kwh=c,
        covered_kwh=covered,
        residual_kwh=residual_kwh,
        kg_per_kwh=emissions / c if c else 0.0,
        emissions_kg=emissions,
        instruments=uses,
        residual_kg_per_kwh=r,
        residual_source=r_source,
    )


def check_instruments(claims: Claims) -> None:
    """Each instrument once, for this site, generated within the claim period."""
    seen: set[str] = set()
    for inst in claims.instruments:
        if inst.id in seen:
            raise DoubleClaimError(
                f"claim {claims.claim!r}: instrument {inst.id!r} is listed twice; "
                "one certificate can be claimed only once"
            )
        seen.add(inst.id)
        if inst.site is not None and inst.site.strip().lower() != claims.site.strip().lower():
            raise ClaimError(
                f"claim {claims.claim!r}: {inst.type} {inst.id!r} is for site {inst.site!r}, "
                f"not {claims.site!r}; only instruments naming this site can be claimed here"
            )
        if not inst.period.within(claims.period):
            raise ClaimError(
                f"claim {claims.claim!r}: {inst.type} {inst.id!r} covers {inst.period}, outside "
                f"the claim period {claims.period}; an instrument counts only for consumption "
                "in its own period"
            )


def _use(claims: Claims, inst: Instrument, factors: FactorSet) -> InstrumentUse:
    kwh = inst.mwh * 1000.0
    if inst.factor_kg_per_kwh is not None:
        f, source = inst.factor_kg_per_kwh, inst.factor_source
    elif claims.basis == "co2" and inst.technology in _ZERO_CO2:
        f = 0.0
        source = f"{inst.technology}: no CO2 emitted at generation (CO2 emission-factor basis)"
    elif claims.basis == "footprint" and inst.technology in _FOOTPRINT_TECH:
        factor = factors.get(
            f"cn.electricity.footprint.2023.tech.{_FOOTPRINT_TECH[inst.technology]}"
        )
        f, source = _value(factor), f"{factor.id}: {factor.source}"
    else:
        raise ClaimError(
            f"claim {claims.claim!r}: no sourced {claims.basis} generation factor for "
            f"{inst.technology} ({inst.type} {inst.id!r}); give 'factor_kg_per_kwh' and "
            "'factor_source'"
        )
    return InstrumentUse(type=inst.type, id=inst.id, kwh=kwh, kg_per_kwh=f, source=source)


def residual_mix(claims: Claims, factors: FactorSet) -> tuple[float, str]:
    """The residual-mix factor (kg/kWh) and its source (see module doc)."""
    if claims.residual is not None:
        return claims.residual.factor_kg_per_kwh, claims.residual.source
    fid = f"cn.grid.co2.{claims.year}.national.excl-market-nonfossil"
    if claims.basis == "co2" and fid in factors:
        factor = factors.get(fid)
        return _value(factor), (
            f"{fid} (China publishes no residual mix; the national factor excluding "
            f"market-traded non-fossil electricity is the closest analogue): {factor.source}"
        )
    raise ResidualMixError(
        f"claim {claims.claim!r}: no sourced residual mix for {claims.basis} basis, year "
        f"{claims.year}. China publishes none; the national factor excluding market-traded "
        "non-fossil electricity is bundled for 2022 and 2023 (CO2 basis) only. Give "
        "'residual: {factor_kg_per_kwh: ..., source: ...}'"
    )
