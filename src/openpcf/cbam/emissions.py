"""Direct emissions of source streams, PFCs and measured sources, in t CO2e.

The formulas are those of the CBAM methodology (Implementing Regulation (EU) 2023/1773,
Annex III, section B, carried into the definitive period), which follow the EU ETS monitoring
regulation (EU) 2018/2066:

- combustion: ``Em = AD · NCV · EF · OxF · (1 − BioF)`` with AD in t (or 1000 Nm3), NCV in
  GJ per unit (× 10⁻³ TJ/GJ), EF in t CO2/TJ;
- process emissions: ``Em = AD · EF · ConvF · (1 − BioF)`` with EF in t CO2/t;
- mass balance: ``Em = f · (Σ_in AD·C·(1 − BioF) − Σ_out AD·C·(1 − BioF))`` with carbon
  contents C in t C/t and ``f = 3.664`` t CO2/t C (the ratio of molar masses 44.010/12.011
  as Reg. 2018/2066 writes it; ⚠R for the exact paragraph);
- PFC (slope method): ``CF4 [t] = SEF · AEM · Pr_Al / 1000`` with SEF in kg CF4 per t Al
  per (anode-effect minute per cell-day), ``C2F6 = CF4 · F_C2F6``, weighed with the AR5 GWPs
  CF4 6630 and C2F6 11100;
- measured: t of gas × its AR5 GWP (N2O 265).

Biomass CO2 is zero-rated (emission factor of sustainable biomass = 0).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from openpcf.cbam.errors import CbamModelError, MassBalanceError
from openpcf.cbam.schema import MeasuredEmission, PfcEmission, SourceStream

#: t CO2 per t C (Reg. (EU) 2018/2066; ⚠R: confirm the article).
CO2_PER_C = 3.664
_GJ_TO_TJ = 1e-3


@dataclass(frozen=True, slots=True, kw_only=True)
class MassBalanceCheck:
    """Carbon in and out of a mass balance, and the CO2 it implies.

    ``carbon_in`` and ``carbon_out`` are total carbon (fossil and biomass) in t C;
    ``co2_total = 3.664 · (carbon_in − carbon_out)``; ``co2_fossil`` counts fossil carbon only.
    """

    carbon_in: float
    carbon_out: float
    co2_total: float
    co2_fossil: float
    co2_reported: float | None


def _given(value: float | None, field: str, owner: str) -> float:
    """A field the schema requires for this method (guards models built without it)."""
    if value is None:
        raise CbamModelError(f"{owner}: {field} is required for this method")
    return value


def combustion(s: SourceStream) -> float:
    """t CO2 (fossil) of a combustion source stream."""
    ad = _given(s.activity_data, "activity_data", s.id)
    energy_tj = ad * _given(s.ncv_gj_per_unit, "ncv_gj_per_unit", s.id) * _GJ_TO_TJ
    ef = _given(s.emission_factor, "emission_factor", s.id)
    return energy_tj * ef * s.oxidation_factor * (1 - s.biomass_fraction)


def process_emissions(s: SourceStream) -> float:
    """t CO2 (fossil) of a process-emission source stream."""
    ad = _given(s.activity_data, "activity_data", s.id)
    ef = _given(s.emission_factor, "emission_factor", s.id)
    return ad * ef * s.conversion_factor * (1 - s.biomass_fraction)


def mass_balance(s: SourceStream, *, where: str = "") -> MassBalanceCheck:
    """Carbon balance of a mass-balance source stream, checked for closure.

    The balance *closes* when (1) carbon out does not exceed carbon in by more than the
    tolerance, ``C_out ≤ C_in · (1 + tol)``; and (2), if the operator also reports the
    stream's CO2 (``co2_reported_t``), the balance reproduces it:
    ``|3.664 · (C_in − C_out) − CO2_reported| ≤ tol · max(CO2_reported, 3.664 · (C_in − C_out))``.
    ``tol`` is ``closure_tolerance`` (default 0.01 = 1 %).

    Raises
    ------
    MassBalanceError
        If either condition fails; the message gives both sides.
    """
    c_in = sum(f.amount_t * f.carbon_content for f in s.inputs)
    c_out = sum(f.amount_t * f.carbon_content for f in s.outputs)
    fossil_in = sum(f.amount_t * f.carbon_content * (1 - f.biomass_fraction) for f in s.inputs)
    fossil_out = sum(f.amount_t * f.carbon_content * (1 - f.biomass_fraction) for f in s.outputs)
    tol = s.closure_tolerance
    prefix = f"{where}: " if where else ""
    if c_out > c_in * (1 + tol):
        raise MassBalanceError(
            f"{prefix}mass balance {s.id!r} does not close: carbon out {c_out:.6g} t C exceeds "
            f"carbon in {c_in:.6g} t C (tolerance {tol:.0%}). Check amounts and carbon "
            "contents, or list the missing input."
        )
    co2_total = CO2_PER_C * max(c_in - c_out, 0.0)
    if s.co2_reported_t is not None:
        gap = abs(co2_total - s.co2_reported_t)
        if gap > tol * max(s.co2_reported_t, co2_total):
            raise MassBalanceError(
                f"{prefix}mass balance {s.id!r} does not close: carbon in {c_in:.6g} t C − "
                f"carbon out {c_out:.6g} t C gives {co2_total:.6g} t CO2, but co2_reported_t "
                f"is {s.co2_reported_t:.6g} t CO2 (difference {gap:.6g} t, tolerance "
                f"{tol:.0%}). Correct the flows or the reported CO2."
            )
    return MassBalanceCheck(
        carbon_in=c_in,
        carbon_out=c_out,
        co2_total=co2_total,
        co2_fossil=CO2_PER_C * max(fossil_in - fossil_out, 0.0),
        co2_reported=s.co2_reported_t,
    )


def source_stream(s: SourceStream, *, where: str = "") -> float:
    """t CO2 (fossil) of one source stream by its method."""
    if s.method == "combustion":
        return combustion(s)
    if s.method == "process":
        return process_emissions(s)
    return mass_balance(s, where=where).co2_fossil


def pfc_gases(p: PfcEmission) -> tuple[float, float]:
    """(t CF4, t C2F6) of a PFC entry."""
    if p.method == "direct":
        return _given(p.cf4_t, "cf4_t", p.id), _given(p.c2f6_t, "c2f6_t", p.id)
    sef = _given(p.sef_cf4_kg, "sef_cf4_kg", p.id) / 1000  # kg -> t CF4
    aem = _given(p.anode_effect_minutes_per_cell_day, "anode_effect_minutes_per_cell_day", p.id)
    cf4 = sef * aem * _given(p.primary_aluminium_t, "primary_aluminium_t", p.id)
    return cf4, cf4 * _given(p.c2f6_weight_fraction, "c2f6_weight_fraction", p.id)


def pfc_co2e(p: PfcEmission, gwp: Mapping[str, float]) -> float:
    """t CO2e of a PFC entry: CF4 · GWP_CF4 + C2F6 · GWP_C2F6."""
    cf4, c2f6 = pfc_gases(p)
    return cf4 * gwp["CF4"] + c2f6 * gwp["C2F6"]


def measured_co2e(m: MeasuredEmission, gwp: Mapping[str, float]) -> float:
    """t CO2e of a measured source (CO2 weighs 1, N2O its GWP)."""
    return m.annual_t * (gwp["N2O"] if m.gas == "N2O" else 1.0)
