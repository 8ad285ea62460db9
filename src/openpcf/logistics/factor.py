"""A shipment as an emission factor per kg of its cargo, for product models.

The product-model input ``shipment: <path>`` calls :func:`shipment_factor`, which computes the
shipment and returns a :class:`~openpcf.factors.Factor` per **1 kg** of the shipment's cargo:
``WTW_total / (cargo mass in kg)`` on gas ``CO2e`` (the intensities and fuel factors are
published in CO2e). The WTT/TTW split goes into ``notes``; ``source`` lists the methods and
data used (ISO 14083 report contents).
"""

from __future__ import annotations

import re
from pathlib import Path

from openpcf.factors import Factor
from openpcf.logistics.calculate import ShipmentResult
from openpcf.logistics.loading import calculate_file

SHIPMENT_SET = "shipment"


def shipment_factor(ref: str, *, base: Path) -> Factor:
    """Load ``base / ref``, compute it and return kg CO2e per kg of its cargo.

    Raises
    ------
    ShipmentFileError, ShipmentError, MissingDefaultError, UnknownPortError
        As for :func:`~openpcf.logistics.loading.calculate_file`.
    """
    path = base / ref
    return factor_from_result(calculate_file(path), stem=path.stem)


def factor_from_result(result: ShipmentResult, *, stem: str) -> Factor:
    """The per-kg-cargo factor of a computed shipment (id ``shipment.<stem>``)."""
    kg = result.cargo_t * 1000.0
    slug = re.sub(r"[^a-z0-9_\-]+", "-", stem.lower()).strip("-") or "shipment"
    wtt, ttw = result.wtt_kg, result.ttw_kg
    split = (
        f"WTT {wtt / kg:.6g} + TTW {ttw / kg:.6g} kg CO2e/kg cargo"
        if wtt is not None and ttw is not None
        else "WTT/TTW split not available (a WTW-only default intensity is used)"
    )
    notes = (
        f"ISO 14083 well-to-wheel, {result.wtw_kg:.6g} kg CO2e for {result.cargo_t:g} t cargo; "
        f"{split}"
    )
    source = (
        f"OpenPCF ISO 14083 calculation of shipment {result.shipment!r} ({result.origin}). "
        f"Methods: {' | '.join(result.methods)}. Data: {' | '.join(result.sources)}"
    )
    return Factor(
        id=f"shipment.{slug}",
        name=f"Transport of shipment {result.shipment} (per kg cargo)",
        unit="kg",
        emissions={"CO2e": result.wtw_kg / kg},
        category="transport",
        geography="GLO",
        year=result.year,
        source=source,
        licence="computed by OpenPCF from the sources named in 'source'",
        gwp_basis=_gwp_basis(result),
        notes=notes,
        set_name=SHIPMENT_SET,
    )


def _gwp_basis(result: ShipmentResult) -> str:
    bases = {m.group(1) for s in result.sources for m in re.finditer(r"GWP (\w+)\)", s)}
    return bases.pop() if len(bases) == 1 else "unstated"
