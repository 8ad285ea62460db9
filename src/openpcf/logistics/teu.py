"""The default cargo mass of a loaded TEU, for converting between TEU-km and tkm.

When a leg's intensity is per TEU-km and the result is wanted per tkm (or the reverse) and the
shipment gives no ``t_per_teu`` of its own, OpenPCF uses the IMO convention::

    I_tkm = I_TEU-km / m_TEU,    m_TEU = 10 t per loaded TEU

Source: IMO MEPC.1/Circ.684 (17 August 2009), *Guidelines for voluntary use of the ship energy
efficiency operational indicator (EEOI)*, Annex, definition of "cargo mass carried or work
done", item .3: "a TEU mass of 10 t could be applied for loaded TEUs and 2 t for empty TEUs"
(read from a public transcription of the circular; the paragraph number was not checked).
The circular gives this for ships carrying containers and other cargo together; it is a
convention, not a measured average, and the result always names it. The GLEC Framework v3.0
(Smart Freight Centre, 2023; edition of 2 April 2024), chapter 4, sea transport, p. 50, gives
the same 10 t per TEU "for a typical container" (6 t for lightweight and 14.5 t for heavyweight
cargo), read from a public copy of the publisher's PDF.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class TeuMass:
    """Tonnes of cargo per loaded TEU, with the document it comes from."""

    t_per_teu: float
    source: str


LOADED_TEU = TeuMass(
    t_per_teu=10.0,
    source=(
        "default 10 t per loaded TEU: IMO MEPC.1/Circ.684 (2009), EEOI Guidelines, Annex, "
        "'cargo mass carried or work done' item .3; the same figure for a typical container in "
        "the GLEC Framework v3.0 (2023), p. 50"
    ),
)
