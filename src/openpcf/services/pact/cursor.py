"""ListFootprints cursors: the opaque ``cursor=`` of a ``next`` link, where the page starts.

A cursor is the URL-safe base64 (no padding) of a short ASCII text::

    1|2026-12-05T00:34:07.123456Z|<footprint id, 32 hex digits>|<query digest, 16 hex digits>

``1`` is the format's version; then the :class:`~openpcf.db.repositories.footprints.PageKey`
of the last footprint of the previous page; then :func:`query_digest` of the version and the
filters the cursor was made for. A cursor comes back from an untrusted client, so it is
read strictly: at most :data:`MAX_CURSOR` characters, canonical base64, exactly this pattern,
this version and the digest of the query it arrives with, or :class:`BadRequestError` (400).

Nothing else rests on it: a cursor only *positions* the listing. The client's visibility
and the filters are applied again on every page, so a forged or borrowed cursor shows a
client nothing it could not list from the first page.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import json
import re
import uuid
from collections.abc import Mapping, Sequence

from openpcf.db.repositories.footprints import PageKey
from openpcf.exchange.errors import BadRequestError

#: The cursor format's version (the first field of the text).
FORMAT = "1"
#: The longest cursor accepted (a version 1 cursor has 106 characters: 79 of text).
MAX_CURSOR = 128
_TEXT = re.compile(
    r"(?P<format>[0-9]{1,3})\|(?P<at>[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{6})Z"
    r"\|(?P<id>[0-9a-f]{32})\|(?P<digest>[0-9a-f]{16})"
)
_BASE64URL = re.compile(r"[A-Za-z0-9_-]+")
_AT = "%Y-%m-%dT%H:%M:%S.%f"
_FOLLOW = "follow the next link as the host sent it, or start again without cursor"


def query_digest(version: str, query: Mapping[str, Sequence[str]]) -> str:
    """16 hex digits naming the API ``version`` and the filters ``query`` (names as the host
    reads them, values in any order): a cursor is valid only with the query it was made for.

    >>> query_digest("3", {"status": ["Active"]}) == query_digest("3", {"status": ["Active"]})
    True
    >>> query_digest("3", {"status": ["Active"]}) == query_digest("3", {})
    False
    """
    canonical = json.dumps([version, sorted((k, sorted(v)) for k, v in query.items() if v)])
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def encode_cursor(key: PageKey, *, digest: str) -> str:
    """The cursor of the page that starts after ``key``, for the query named by ``digest``."""
    at = key.stored_at.astimezone(dt.UTC).strftime(_AT)
    return _base64(f"{FORMAT}|{at}Z|{key.id.hex}|{digest}")


def decode_cursor(cursor: str, *, digest: str) -> PageKey:
    """The :class:`PageKey` a cursor from a client names; it must have been made for the query
    named by ``digest``.

    Raises
    ------
    BadRequestError
        The cursor is too long, not canonical URL-safe base64, not a cursor of version
        :data:`FORMAT`, or made for another query.
    """
    if len(cursor) > MAX_CURSOR:
        raise BadRequestError(f"cursor: longer than {MAX_CURSOR} characters; {_FOLLOW}")
    try:
        if not _BASE64URL.fullmatch(cursor):
            raise ValueError
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode("ascii")
    except (ValueError, binascii.Error):  # UnicodeDecodeError is a ValueError
        raise BadRequestError(f"cursor: not a cursor of this host; {_FOLLOW}") from None
    found = _TEXT.fullmatch(text)
    if found is None or _base64(text) != cursor:  # base64 has other spellings of the bytes
        raise BadRequestError(f"cursor: not a cursor of this host; {_FOLLOW}")
    if found["format"] != FORMAT:
        raise BadRequestError(
            f"cursor: version {found['format']} is not supported (this host writes version "
            f"{FORMAT}); {_FOLLOW}"
        )
    if found["digest"] != digest:
        raise BadRequestError(
            "cursor: made for a query with other filters (or another API version); a cursor "
            f"must be used with the filters of the link it came in; {_FOLLOW}"
        )
    try:
        at = dt.datetime.strptime(found["at"], _AT).replace(tzinfo=dt.UTC)
    except ValueError:
        raise BadRequestError(f"cursor: not a cursor of this host; {_FOLLOW}") from None
    return PageKey(at, uuid.UUID(hex=found["id"]))


def _base64(text: str) -> str:
    """The canonical cursor of a cursor's ASCII ``text``: URL-safe base64 without padding."""
    return base64.urlsafe_b64encode(text.encode("ascii")).rstrip(b"=").decode("ascii")
