"""Plausibility warnings: an element's intensity far outside the bundled defaults' range.

For a leg of mode ``m`` (temperature ``T``) the peers are the complete bundled defaults of
``m`` and ``T``. A sea leg whose operation names a vessel type (``vessel``, ``category`` or
``vehicle``: "container ship", "bulk carrier", "oil tanker", …; :func:`vessel_type`) is compared
only with the defaults of that type, because the types' ranges differ by orders of magnitude:
per tkm WTW, GLEC v3.0 Tables 12-15 give bulk carriers 3.1-31.7 g, oil tankers 3.6-87.5 g,
ro-pax ferries 94-542 g and "other liquids" tankers up to 1243 g, while container ships sit at
5-45 g (GLEC Tables 16-17 at 10 t/TEU; DESNZ 2025 by TEU class). One sea-wide range
(2 × 1243 g) would let a container figure 55 × the highest container default pass unwarned.
A generic "tanker" is compared with every tanker type; a leg that names no known type, or a
type with no bundled default at its temperature, with all ``m``/``T`` defaults. Every
intensity is compared per tkm (a TEU-km intensity divided by the leg's ``t_per_teu`` or the
IMO default of 10 t per loaded TEU, :mod:`openpcf.logistics.teu`).

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

VESSEL_TYPES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("container ship", ("container",)),
    ("ro-pax ferry", ("ro-pax", "ropax", "ferry")),
    ("vehicle carrier", ("vehicle", "car carrier", "pctc")),
    ("ro-ro ship", ("ro-ro", "roro")),
    ("refrigerated cargo ship", ("refrigerated", "reefer ship", "reefer vessel")),
    ("tanker/liquefied gas", ("liquefied gas", "lng", "lpg", "gas carrier", "gas tanker")),
    ("tanker/chemical", ("chemical",)),
    ("tanker/other liquids", ("other liquids",)),
    ("tanker/oil", ("oil", "crude", "product")),
    ("tanker", ("tanker",)),
    ("bulk carrier", ("bulk",)),
    ("general cargo ship", ("general cargo",)),
)
"""Sea vessel types, first match wins, by words in a row's ``vehicle`` or a leg's operation.
A type ``tanker/x`` is one kind of tanker; a leg that says only "tanker" meets them all."""


def vessel_type(text: str) -> str | None:
    """The :data:`VESSEL_TYPES` name that ``text`` describes, or ``None``.

    >>> vessel_type("Crude tanker"), vessel_type("bulk carrier 0-9999 dwt"), vessel_type("barge")
    ('tanker/oil', 'bulk carrier', None)
    """
    low = text.lower()
    return next((name for name, words in VESSEL_TYPES if any(w in low for w in words)), None)


def _label(kind: str) -> str:
    """``"tanker/oil"`` → ``"tanker (oil)"``; other names as they are."""
    family, _, sub = kind.partition("/")
    return f"{family} ({sub})" if sub else family


def _same_type(row: DefaultIntensity, kind: str) -> bool:
    own = vessel_type(row.vehicle)
    return own is not None and (own == kind or own.startswith(f"{kind}/"))


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
    if mode == "road" and operation.temperature == "reefer":
        # GLEC v3.0 p. 94 makes each ambient Europe/South America road row a reefer default
        # (× 1.12, vans × 1.15): the reefer range spans the ambient rows (vans up to 0.959 kg)
        peers += library.defaults_for(mode, "ambient")
    what = f"{operation.temperature} {mode}"
    kind = vessel_type(f"{operation.vessel} {operation.category} {operation.vehicle}")
    if mode == "sea" and kind is not None:
        same = tuple(p for p in peers if _same_type(p, kind))
        if same:
            peers, what = same, f"{operation.temperature} {_label(kind)}"
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
