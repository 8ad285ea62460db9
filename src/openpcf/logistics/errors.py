"""Errors of the logistics package (all are :class:`~openpcf.errors.InputError`)."""

from __future__ import annotations

from openpcf.errors import InputError, ModelFileError


class ShipmentError(InputError):
    """A shipment, transport chain element or order book is wrong; the message says where."""


class ShipmentFileError(ShipmentError, ModelFileError):
    """A shipment YAML or order-book CSV cannot be read or does not follow the schema."""


class UnknownPortError(ShipmentError, LookupError):
    """A port name or UN/LOCODE is not in the bundled port list."""


class MissingDefaultError(ShipmentError, LookupError):
    """No sourced default (intensity, fuel factor, distance adjustment) exists for a request.

    OpenPCF never guesses a default; the message says which data to give instead.
    """
