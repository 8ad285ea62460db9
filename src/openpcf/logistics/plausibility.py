"""Plausibility warnings: an element's intensity far outside the bundled defaults' range.

For a leg of mode ``m`` (temperature ``T``) the peers are the complete bundled defaults of
``m`` and ``T``; for a leg whose operation names a container ship, only the container-ship
defaults. Every intensity is compared per tkm (a TEU-km intensity divided by the leg's
``t_per_teu`` or the IMO default of 10 t per loaded TEU, :mod:`openpcf.logistics.teu`).

A warning is raised when ``I > HIGH × max(peers)`` (``HIGH = 2``: overstatement, e.g. a
container ship's capacity in TEU read as tonnes, 4-9 × too much) or ``I < min(peers) / LOW``
(``LOW = 10``: an order of magnitude, e.g. kg read as t). The low side is wide on purpose:
carriers' reported container intensities (about 0.05-0.09 kg CO2e/TEU-km) sit up to 3 × below
the DESNZ fleet averages per tonne, and electric or renewable operation may be far lower.
A warning never changes a number, and the range cannot catch every misread: that is why a
fuel-based vessel's capacity unit is TEU for a container ship and must be named otherwise.
"""

from __future__ import annotations

from openpcf.logistics.intensity import MASS_UNITS, Intensity
from openpcf.logistics.library import DefaultIntensity, Library
from openpcf.logistics.schema import Operation
from openpcf.logistics.teu import LOADED_TEU

HIGH = 2.0
LOW = 10.0


def per_tkm(wtw: float, unit: str, t_per_teu: float) -> float:
    """A leg intensity per tkm: ``wtw`` per tkm as is, per TEU-km divided by ``t_per_teu``."""
    return wtw if MASS_UNITS[unit] == "mass" else wtw / t_per_teu


def plausibility_warnings(
    intensity: Intensity,
    *,
    mode: str,
    operation: Operation,
    t_per_teu: float | None,
    library: Library,
) -> tuple[str, ...]:
    """Warnings for a leg whose WTW intensity is outside ``[min / LOW, max × HIGH]``."""
    if intensity.unit not in ("tkm", "TEU-km"):
        return ()
    peers = library.defaults_for(mode, operation.temperature)
    what = f"{operation.temperature} {mode}"
    if mode == "sea" and operation.is_container_ship:
        containers = tuple(p for p in peers if "container" in p.vehicle.lower())
        if containers:
            peers, what = containers, f"{operation.temperature} container-ship"
    if not peers:
        return ()
    teu_t = t_per_teu or LOADED_TEU.t_per_teu
    x = per_tkm(intensity.wtw, intensity.unit, teu_t)
    lo = min(peers, key=lambda p: _wtw_tkm(p))
    hi = max(peers, key=lambda p: _wtw_tkm(p))
    basis = "" if intensity.unit == "tkm" else f" (at {teu_t:g} t/TEU)"
    check = (
        "check the units (a container ship's capacity is in TEU, not t), load factor, "
        "consumption and cargo mass"
    )
    if x > HIGH * _wtw_tkm(hi):
        return (
            f"WTW intensity {x:.4g} kg CO2e/tkm{basis} is {x / _wtw_tkm(hi):.1f} × the highest "
            f"bundled {what} default ({hi.toc}, {_wtw_tkm(hi):.4g}); {check}",
        )
    if x < _wtw_tkm(lo) / LOW:
        times = f"{_wtw_tkm(lo) / x:.1f} ×" if x > 0 else "far"
        return (
            f"WTW intensity {x:.4g} kg CO2e/tkm{basis} is {times} below the lowest bundled "
            f"{what} default ({lo.toc}, {_wtw_tkm(lo):.4g}); {check}",
        )
    return ()


def _wtw_tkm(row: DefaultIntensity) -> float:
    wtw = row.wtw if row.wtw is not None else (row.wtt or 0.0) + (row.ttw or 0.0)
    return per_tkm(wtw, row.activity_unit, LOADED_TEU.t_per_teu)
