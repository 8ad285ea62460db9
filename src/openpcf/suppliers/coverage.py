"""Primary-data coverage of a product: how much of it rests on its suppliers' own figures.

Two shares, both in percent:

* **by emissions**: the calculation's ``primary_data_share`` (``100 Σ_e |h_e| p_e / Σ_e
  |h_e|`` over the exchanges, :func:`openpcf.core.quality.primary_share`), with each
  exchange's primary share ``p_e`` as the compiler set it (a supplier footprint's stated
  ``primaryDataShare``, or the model's ``primary:``);
* **by mass**: ``100 Σ_i m_i p_i / Σ_i m_i`` over the purchased inputs in a mass unit, with
  ``m_i`` the input's kilograms per declared unit of the product and ``p_i`` its primary share.
  Inputs in another unit (kWh, m³, pieces) have no mass and are listed apart.

``m_i`` is per declared unit, not as written: an input of a process that the product needs
0.5 of counts half. For an input of foreground column ``j`` it is
``s_j · amount · share_j · kg/unit``, with ``s_j`` (how much of column ``j`` one declared unit
needs) read off the result as the exchange's amount over the entry's amount.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from openpcf.core.units import conversion_factor, same_dimension
from openpcf.model import parameters
from openpcf.model.calculation import Calculation
from openpcf.model.compiler import _exchange_key
from openpcf.model.schema import PURCHASED_KINDS
from openpcf.suppliers.substitution import Substitution


@dataclass(frozen=True, slots=True, kw_only=True)
class InputMass:
    """One purchased input's mass per declared unit and its primary share (0 to 1)."""

    input_key: str
    material: str
    supplier: str | None
    unit: str
    kg: float | None  # None: not in a mass unit
    primary_share: float

    def to_dict(self) -> dict[str, object]:
        return {
            "input_key": self.input_key,
            "material": self.material,
            "supplier": self.supplier,
            "unit": self.unit,
            "kg_per_declared_unit": self.kg,
            "primary_share": self.primary_share,
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class MassCoverage:
    """The primary-data share by mass (percent; None when no purchased input has a mass)."""

    share: float | None
    primary_kg: float
    total_kg: float
    inputs: tuple[InputMass, ...]

    @property
    def not_mass(self) -> tuple[InputMass, ...]:
        return tuple(x for x in self.inputs if x.kg is None)

    def to_dict(self) -> dict[str, object]:
        return {
            "share_percent": self.share,
            "primary_kg": self.primary_kg,
            "total_kg": self.total_kg,
            "inputs": [x.to_dict() for x in self.inputs if x.kg is not None],
            "not_in_a_mass_unit": [x.to_dict() for x in self.not_mass],
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class SubstitutionEffect:
    """How one accepted supplier figure moved the total (kg CO2e per declared unit)."""

    substitution: Substitution
    total_with: float
    total_without: float

    @property
    def change(self) -> float:
        """Total with the supplier's figure minus the total with the secondary data."""
        return self.total_with - self.total_without

    def to_dict(self) -> dict[str, object]:
        s = self.substitution
        return {
            **s.to_dict(),
            "replaced": f"{s.material} ({s.material_name})",
            "supplier_figure": s.footprint_id,
            "total_with": self.total_with,
            "total_without": self.total_without,
            "change": self.change,
        }


def mass_coverage(calculation: Calculation) -> MassCoverage:
    """The mass share of primary data among the purchased inputs of ``calculation``."""
    compiled = calculation.compiled
    exchanges = calculation.result.exchanges
    scale: dict[str, list[tuple[float, float]]] = {}  # key -> [(s_j, share_j)]
    seen: set[tuple[str, int]] = set()
    shares: dict[str, float] = {}
    for e, x in zip(compiled.entries, exchanges, strict=True):
        if e.kind not in PURCHASED_KINDS or (e.key, e.column) in seen:
            continue
        seen.add((e.key, e.column))  # the input's own entry comes before its recycled: terms
        s_j = x.amount / e.amount if e.amount else 0.0
        scale.setdefault(e.key, []).append((s_j, compiled.columns[e.column].share))
        shares.setdefault(e.key, e.primary_share)
    inputs: list[InputMass] = []
    for p in compiled.model.processes:
        for k, inp in enumerate(p.inputs):
            if inp.kind not in PURCHASED_KINDS:
                continue
            key = _exchange_key(p, k, "inputs")
            kg: float | None = None
            if same_dimension(inp.unit, "kg"):
                amount = parameters.evaluate(
                    inp.amount, dict(compiled.parameters), where=f"process {p.id!r}"
                )
                per_kg = conversion_factor(inp.unit, "kg")
                kg = sum(s_j * amount * share * per_kg for s_j, share in scale.get(key, []))
            inputs.append(
                InputMass(
                    input_key=key,
                    material=str(getattr(inp, inp.kind)),
                    supplier=inp.supplier,
                    unit=inp.unit,
                    kg=kg,
                    primary_share=shares.get(key, 0.0),
                )
            )
    return _share(inputs)


def _share(inputs: Sequence[InputMass]) -> MassCoverage:
    total = sum(x.kg for x in inputs if x.kg is not None)
    primary = sum(x.kg * x.primary_share for x in inputs if x.kg is not None)
    return MassCoverage(
        share=100.0 * primary / total if total else None,
        primary_kg=primary,
        total_kg=total,
        inputs=tuple(inputs),
    )
