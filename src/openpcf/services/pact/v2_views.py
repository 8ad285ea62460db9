"""The host's PACT v2.3 answers: the v2.3 view of a stored footprint as JSON text, remembered.

Design note: the host stores only the v3 document; ``/2`` serves
:func:`openpcf.exchange.v2.v2_view` of it. A ``/2/footprints`` page of 100 cost 57-73 ms
(10,000 footprints in PostgreSQL 15, 2-core development machine) against 1.6-1.8 ms for a
``/3`` page, and the profile said why: 65 % was loading each footprint's product one query at
a time (for its CPC code), the rest ORM objects for 200 rows, parsing 100 documents, building
100 views and serialising them. The storage layer now returns, in one statement, the stored
document as text with the product's CPC code and the moment of deprecation
(:func:`openpcf.db.repositories.footprints.list_v2_sources`), and this module remembers the
view's text under a key made of *every* input of :func:`~openpcf.exchange.v2.v2_view`: the
SHA-256 of the stored document's text, the CPC code and the moment of deprecation.

A remembered view can therefore never be stale: deprecating a footprint changes its document
(``status``) and its ``status_changed_at``, recording another CPC code for the product
changes the key, and a key whose inputs changed is simply never asked for again (it ages out).
Nothing needs to be told of a change, on any worker. Memory is bounded: at most
:data:`MAX_ENTRIES` views and :data:`MAX_CHARS` characters of text per process, the least
recently used leaving first. What is remembered is the text the host answered before (the
same :func:`view_text` of the same inputs), so the bytes served are the same.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from openpcf.exchange.v2 import NotMappableError, v2_view

#: The most views one process remembers.
MAX_ENTRIES = 10_000
#: The most characters of view text one process remembers (about 2.5 KB a view of the
#: spec's example 2, so the entry bound usually binds first).
MAX_CHARS = 32 * 1024 * 1024

_Key = tuple[bytes, str | None, dt.datetime | None]


@dataclass(frozen=True, slots=True)
class V2Form:
    """The v2.3 form of one stored footprint: its JSON ``text``, or ``None`` and the reason
    (:class:`~openpcf.exchange.v2.NotMappableError`'s message) when v2.3 cannot express it."""

    text: str | None
    why: str = ""


def json_text(document: dict[str, Any]) -> str:
    """A document built by the host (the v2.3 view) as compact JSON, as ``JSONResponse``
    writes it."""
    return json.dumps(document, ensure_ascii=False, allow_nan=False, separators=(",", ":"))


def view_text(document_text: str, *, cpc: str | None, deprecated_at: dt.datetime | None) -> V2Form:
    """The v2.3 form of the stored v3 document ``document_text`` (computed, not remembered)."""
    try:
        view = v2_view(json.loads(document_text), cpc=cpc, deprecated_at=deprecated_at)
    except NotMappableError as e:
        return V2Form(None, str(e))
    return V2Form(json_text(view))


class ViewCache:
    """A bounded, thread-safe LRU of :class:`V2Form` by (SHA-256 of the stored document's
    text, CPC code, moment of deprecation); see the module's design note."""

    def __init__(self, *, max_entries: int = MAX_ENTRIES, max_chars: int = MAX_CHARS) -> None:
        self.max_entries = max_entries
        self.max_chars = max_chars
        self._forms: OrderedDict[_Key, V2Form] = OrderedDict()
        self._chars = 0
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._forms)

    @property
    def chars(self) -> int:
        """Characters of view text held now."""
        return self._chars

    def form(
        self, document_text: str, *, cpc: str | None, deprecated_at: dt.datetime | None
    ) -> V2Form:
        """:func:`view_text` of these inputs, remembered."""
        key = (hashlib.sha256(document_text.encode()).digest(), cpc, deprecated_at)
        with self._lock:
            found = self._forms.get(key)
            if found is not None:
                self._forms.move_to_end(key)
                return found
        made = view_text(document_text, cpc=cpc, deprecated_at=deprecated_at)
        self._remember(key, made)
        return made

    def clear(self) -> None:
        """Forget every view."""
        with self._lock:
            self._forms.clear()
            self._chars = 0

    def _remember(self, key: _Key, form: V2Form) -> None:
        size = len(form.text or form.why)
        if size > self.max_chars:
            return
        with self._lock:
            old = self._forms.pop(key, None)
            if old is not None:
                self._chars -= len(old.text or old.why)
            self._forms[key] = form
            self._chars += size
            while len(self._forms) > self.max_entries or self._chars > self.max_chars:
                _, dropped = self._forms.popitem(last=False)
                self._chars -= len(dropped.text or dropped.why)


#: The process's views (each ``serve`` worker has its own).
VIEWS = ViewCache()
