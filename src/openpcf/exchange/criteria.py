"""PACT footprint criteria: DateTime values and the v3 ListFootprints filters.

The same criteria select footprints for a ``GET /3/footprints`` query and for the footprint
fragment of a RequestCreated event; storage turns them into SQL
(:func:`openpcf.db.repositories.list_footprints`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from openpcf.exchange.errors import FootprintDocumentError


def parse_datetime(value: object, where: str) -> dt.datetime:
    """A PACT ``DateTime`` (RFC 3339 with a zone, e.g. ``2024-01-01T00:00:00Z``) in UTC."""
    try:
        moment = dt.datetime.fromisoformat(str(value).replace("z", "Z"))
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        raise FootprintDocumentError(
            f"{where}: {value!r} is not an RFC 3339 date-time with a time zone, "
            "e.g. '2024-01-01T00:00:00Z'"
        )
    return moment.astimezone(dt.UTC)


@dataclass(frozen=True, slots=True, kw_only=True)
class FootprintFilter:
    """The PACT v3 ListFootprints filters (also the criteria of a RequestCreated event).

    Repeated values of one filter are ORed, different filters are ANDed; text matches ignore
    case. ``geography`` matches the region, country or subdivision. Validity is the document's
    validity period or, without one, ``referencePeriodEnd`` … ``+3 years``; ``valid_on`` is
    inclusive at both ends, ``valid_after`` means start > value, ``valid_before`` end < value.
    An unknown ``status`` matches nothing (PACT wants an empty list, not an error).
    """

    product_ids: tuple[str, ...] = ()
    company_ids: tuple[str, ...] = ()
    geographies: tuple[str, ...] = ()
    classifications: tuple[str, ...] = ()
    statuses: tuple[str, ...] = ()
    valid_on: dt.datetime | None = None
    valid_after: dt.datetime | None = None
    valid_before: dt.datetime | None = None
    moments: tuple[tuple[str, str, dt.datetime], ...] = ()
    """Comparisons of stored moments: (``created`` | ``reference_period_start`` |
    ``reference_period_end``, ``eq`` | ``lt`` | ``le`` | ``gt`` | ``ge``, value), ANDed (the
    v2.3 ``$filter`` pushed into the query)."""

    @classmethod
    def from_query(cls, params: Mapping[str, str | Sequence[str]]) -> FootprintFilter:
        """From v3 query parameters or event criteria (``productId``, ``validOn``, ...).

        Each value may be a string or a list of strings. Unknown names are ignored (vendor
        extensions ``x-<vendor>-<name>`` included); a malformed date raises
        :class:`FootprintDocumentError` (an :class:`InputError`).
        """

        def many(name: str) -> tuple[str, ...]:
            value = params.get(name) or ()
            return (value,) if isinstance(value, str) else tuple(value)

        def moment(name: str) -> dt.datetime | None:
            values = many(name)
            return parse_datetime(values[-1], name) if values else None

        return cls(
            product_ids=many("productId"),
            company_ids=many("companyId"),
            geographies=many("geography"),
            classifications=many("classification"),
            statuses=many("status"),
            valid_on=moment("validOn"),
            valid_after=moment("validAfter"),
            valid_before=moment("validBefore"),
        )
