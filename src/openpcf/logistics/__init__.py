"""ISO 14083 / GLEC transport chains: legs and hubs, distances, intensities, results.

Public API: :func:`calculate_file`, :func:`calculate_shipment`, :func:`calculate_order_book`,
:func:`load_shipment`, :func:`shipment_factor`, :func:`bundled_library`, :func:`find_port`,
and the result types. See ``docs/logistics.md``.
"""

from __future__ import annotations

from openpcf.logistics.calculate import ElementResult, ShipmentResult, calculate_shipment
from openpcf.logistics.distances import Distance, great_circle_km
from openpcf.logistics.errors import (
    MissingDefaultError,
    ShipmentError,
    ShipmentFileError,
    UnknownPortError,
)
from openpcf.logistics.factor import shipment_factor
from openpcf.logistics.library import DefaultIntensity, FuelFactor, Library, bundled_library
from openpcf.logistics.loading import (
    OrderBookResult,
    calculate_file,
    calculate_order_book,
    load_shipment,
)
from openpcf.logistics.ports import Port, find_port

__all__ = [
    "DefaultIntensity",
    "Distance",
    "ElementResult",
    "FuelFactor",
    "Library",
    "MissingDefaultError",
    "OrderBookResult",
    "Port",
    "ShipmentError",
    "ShipmentFileError",
    "ShipmentResult",
    "UnknownPortError",
    "bundled_library",
    "calculate_file",
    "calculate_order_book",
    "calculate_shipment",
    "find_port",
    "great_circle_km",
    "load_shipment",
    "shipment_factor",
]
