"""PACT events (CloudEvents 1.0, structured mode): parsing what arrives, building what leaves.

Event types per API version (v2.3 keeps the "pathfinder" names on purpose), see
:data:`TYPES`: v3 ``org.wbcsd.pact.ProductFootprint.<Kind>Event.3`` with Kind RequestCreated,
RequestFulfilled, RequestRejected, Published; v2.3
``org.wbcsd.pathfinder.ProductFootprintRequest.{Created,Fulfilled,Rejected}.v1`` and
``org.wbcsd.pathfinder.ProductFootprint.Published.v1``.

:func:`parse_event` checks the envelope and the data of each kind and raises
:class:`~openpcf.exchange.errors.BadRequestError` (HTTP 400) for anything malformed, so a
bad event is refused before anything is stored.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from openpcf.errors import InputError
from openpcf.exchange.criteria import FootprintFilter, parse_datetime
from openpcf.exchange.errors import BadRequestError, UnsupportedRequestError
from openpcf.files import jsonfile

Version = Literal["2", "3"]
Kind = Literal["created", "fulfilled", "rejected", "published"]

TYPES: dict[Version, dict[Kind, str]] = {
    "3": {
        "created": "org.wbcsd.pact.ProductFootprint.RequestCreatedEvent.3",
        "fulfilled": "org.wbcsd.pact.ProductFootprint.RequestFulfilledEvent.3",
        "rejected": "org.wbcsd.pact.ProductFootprint.RequestRejectedEvent.3",
        "published": "org.wbcsd.pact.ProductFootprint.PublishedEvent.3",
    },
    "2": {
        "created": "org.wbcsd.pathfinder.ProductFootprintRequest.Created.v1",
        "fulfilled": "org.wbcsd.pathfinder.ProductFootprintRequest.Fulfilled.v1",
        "rejected": "org.wbcsd.pathfinder.ProductFootprintRequest.Rejected.v1",
        "published": "org.wbcsd.pathfinder.ProductFootprint.Published.v1",
    },
}
MEDIA_TYPES = frozenset({"application/cloudevents+json", "application/json"})
#: v3 criteria of a RequestCreated event (the ListFootprints filters) and their shapes.
_LIST_CRITERIA = ("productId", "companyId", "geography", "classification")
_DATE_CRITERIA = ("validOn", "validAfter", "validBefore")
#: v2.3 ProductFootprintFragment members a request may use, and the v3 filter they become.
_FRAGMENT_KEYS = {
    "productIds": "productId",
    "companyIds": "companyId",
    "productClassifications": "classification",
}
_FRAGMENT_GEOGRAPHY = (
    "geographyCountry",
    "geographyRegionOrSubregion",
    "geographyCountrySubdivision",
)


@dataclass(frozen=True, slots=True)
class CloudEvent:
    """A checked inbound event."""

    version: Version
    kind: Kind
    id: str
    source: str
    type: str
    time: dt.datetime
    data: dict[str, Any]
    raw: dict[str, Any]

    def criteria(self) -> FootprintFilter:
        """The footprint criteria of a RequestCreated event, as a storage filter."""
        if self.version == "3":
            return FootprintFilter.from_query(self.data)
        fragment: Mapping[str, Any] = self.data["pf"]
        query: dict[str, list[str]] = {}
        for member, name in _FRAGMENT_KEYS.items():
            if member in fragment:
                query[name] = list(fragment[member])
        pcf = fragment.get("pcf") or {}
        geography = [pcf[k] for k in _FRAGMENT_GEOGRAPHY if k in pcf]
        if geography:
            query["geography"] = geography
        return FootprintFilter.from_query(query)

    def fragment_id(self) -> str | None:
        """A v2.3 request's ``pf.id``, if it names one footprint."""
        if self.version == "2":
            value = self.data["pf"].get("id")
            return str(value) if value is not None else None
        return None


def parse_event(body: bytes, *, content_type: str | None, version: Version) -> CloudEvent:
    """Check an inbound event; :class:`BadRequestError` when it is malformed.

    An event type this host does not handle is ``NotImplemented`` on ``/2`` (v2.3: "answer 400
    NotImplemented directly") and ``BadRequest`` on ``/3`` (v3 wants a 4xx for an invalid
    event, and its NotImplemented is a 501).
    """
    media = (content_type or "").split(";")[0].strip().lower()
    if media not in MEDIA_TYPES:
        raise BadRequestError(
            f"events must be sent as application/cloudevents+json (structured mode), not "
            f"{media or 'a body without content type'!r}"
        )
    try:
        # bounded depth, no NaN/Infinity, no NUL or lone surrogates: storable (issue 11, item 9)
        doc = jsonfile.loads(body)
    except ValueError as e:
        raise BadRequestError(f"the event is not acceptable UTF-8 JSON: {e}") from None
    if not isinstance(doc, dict):
        raise BadRequestError("the event must be a JSON object (a CloudEvent)")
    if doc.get("specversion") != "1.0":
        raise BadRequestError("the event needs specversion '1.0' (CloudEvents 1.0)")
    event_id, source, kind_name = (_text(doc, k, 255) for k in ("id", "source", "type"))
    if len(source) > 1024:
        raise BadRequestError("event source is longer than 1024 characters")
    try:
        time = parse_datetime(doc.get("time"), "event time")
    except InputError as e:
        raise BadRequestError(str(e)) from None
    kinds = {v: k for k, v in TYPES[version].items()}
    if kind_name not in kinds:
        known = ", ".join(TYPES[version].values())
        message = f"event type {kind_name!r} is not handled on /{version}/events; use {known}"
        if version == "2":
            raise UnsupportedRequestError(message)
        raise BadRequestError(message)
    data = doc.get("data")
    if not isinstance(data, dict):
        raise BadRequestError("the event needs a 'data' object")
    kind = kinds[kind_name]
    _CHECKS[kind](data, version)
    return CloudEvent(version, kind, event_id, source, kind_name, time, data, doc)


def _text(doc: Mapping[str, Any], key: str, limit: int) -> str:
    value = doc.get(key)
    if not isinstance(value, str) or not value.strip():
        raise BadRequestError(f"the event needs a non-empty string {key!r}")
    if len(value) > limit and key != "source":
        raise BadRequestError(f"event {key} is longer than {limit} characters")
    return value


def _check_published(data: Mapping[str, Any], version: Version) -> None:
    ids = data.get("pfIds")
    if not isinstance(ids, list) or not ids:
        raise BadRequestError("a Published event needs data.pfIds, a non-empty list of UUIDs")
    for value in ids:
        if not isinstance(value, str) or not _is_uuid(value):
            raise BadRequestError(f"data.pfIds: {value!r} is not a footprint id (a UUID)")


def _check_created(data: Mapping[str, Any], version: Version) -> None:
    if "comment" in data and not isinstance(data["comment"], str):
        raise BadRequestError("data.comment must be a string")
    if version == "2":
        _check_fragment(data.get("pf"))
        return
    for name in _LIST_CRITERIA:
        value = data.get(name)
        if value is not None and not (
            isinstance(value, str)
            or (isinstance(value, list) and all(isinstance(v, str) for v in value))
        ):
            raise BadRequestError(f"data.{name} must be a string or a list of strings")
    for name in (*_DATE_CRITERIA, "status"):
        if data.get(name) is not None and not isinstance(data[name], str):
            raise BadRequestError(f"data.{name} must be a string")
    try:
        FootprintFilter.from_query(data)
    except InputError as e:
        raise BadRequestError(f"data: {e}") from None


def _check_fragment(fragment: object) -> None:
    if not isinstance(fragment, dict):
        raise BadRequestError("a v2 RequestCreated event needs data.pf, a footprint fragment")
    unknown = set(fragment) - {*_FRAGMENT_KEYS, "pcf", "id"}
    pcf = fragment.get("pcf", {})
    if not isinstance(pcf, dict):
        raise BadRequestError("data.pf.pcf must be an object")
    unknown |= {f"pcf/{k}" for k in set(pcf) - set(_FRAGMENT_GEOGRAPHY)}
    if unknown:
        raise UnsupportedRequestError(
            f"requests by {', '.join(sorted(unknown))} are not supported; ask by productIds, "
            "companyIds, productClassifications, id or pcf geography"
        )
    for member in _FRAGMENT_KEYS:
        value = fragment.get(member)
        if value is not None and not (
            isinstance(value, list) and value and all(isinstance(v, str) for v in value)
        ):
            raise BadRequestError(f"data.pf.{member} must be a non-empty list of URNs")
    if any(not isinstance(v, str) for v in pcf.values()):
        raise BadRequestError("data.pf.pcf geography values must be strings")


def _check_fulfilled(data: Mapping[str, Any], version: Version) -> None:
    _request_id(data)
    pfs = data.get("pfs")
    if not isinstance(pfs, list) or not pfs or not all(isinstance(p, dict) for p in pfs):
        raise BadRequestError("a Fulfilled event needs data.pfs, a non-empty list of footprints")
    for pf in pfs:
        if not _is_uuid(str(pf.get("id", ""))):
            raise BadRequestError(f"data.pfs: footprint id {pf.get('id')!r} is not a UUID")


def _check_rejected(data: Mapping[str, Any], version: Version) -> None:
    _request_id(data)
    error = data.get("error")
    if not (
        isinstance(error, dict)
        and isinstance(error.get("code"), str)
        and isinstance(error.get("message"), str)
    ):
        raise BadRequestError("a Rejected event needs data.error with string code and message")


def _request_id(data: Mapping[str, Any]) -> None:
    if not isinstance(data.get("requestEventId"), str) or not data["requestEventId"]:
        raise BadRequestError("the event needs data.requestEventId, the id of the request")


_CHECKS = {
    "published": _check_published,
    "created": _check_created,
    "fulfilled": _check_fulfilled,
    "rejected": _check_rejected,
}


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return len(value) == 36


def build_event(
    *,
    version: Version,
    kind: Kind,
    source: str,
    data: Mapping[str, Any],
    now: dt.datetime,
    event_id: str | None = None,
) -> dict[str, Any]:
    """An outgoing CloudEvent of ``kind`` for API ``version``."""
    return {
        "type": TYPES[version][kind],
        "specversion": "1.0",
        "id": event_id or str(uuid.uuid4()),
        "source": source,
        "time": now.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "data": dict(data),
    }


def not_found_code(version: Version) -> str:
    """The error code for "no such footprint": v2.3 ``NoSuchFootprint``, v3 ``NotFound``."""
    return "NoSuchFootprint" if version == "2" else "NotFound"
