"""The supplier inbox: supplier PACT footprints this host received, one JSON file each.

Written by ``openpcf pact pull`` and by the host when a peer answers a request
(RequestFulfilled), read by product models' ``supplier_footprint:`` inputs that name a
footprint id or a product URN. Files are ``<folder>/<id>.json`` with a checked UUID as name,
written atomically.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from openpcf.exchange.errors import SupplierFootprintError
from openpcf.files.durable import atomic_write

_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.I)
_HINT = "pull them with `openpcf pact pull URL --client-id ... --client-secret ...`"


def names_received(ref: str) -> bool:
    """Whether ``ref`` names a received footprint (a footprint id or a product URN)."""
    return bool(_UUID.match(ref)) or ref.lower().startswith("urn:")


class SupplierInbox:
    """Received supplier footprints in ``folder`` (``$OPENPCF_HOME/supplier_footprints``)."""

    __slots__ = ("folder",)

    def __init__(self, folder: Path | None) -> None:
        self.folder = folder

    def write(self, doc: Mapping[str, Any]) -> Path:
        """Store ``doc`` as ``<id>.json`` (atomically).

        Raises
        ------
        ValueError
            When the document's ``id`` is not a UUID (callers validate documents first).
        """
        if self.folder is None:
            raise ValueError("the supplier inbox has no folder")
        name = str(uuid.UUID(str(doc.get("id", ""))))
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self.folder / f"{name}.json"
        atomic_write(path, (json.dumps(doc, indent=2, ensure_ascii=False) + "\n").encode("utf-8"))
        return path

    def find(self, ref: str) -> Path:
        """The received footprint file for a footprint id or a product URN.

        For a URN, the footprints whose ``productIds`` contain it (ignoring case) are
        candidates; an Active one is preferred over a Deprecated one, then the most recently
        created.

        Raises
        ------
        SupplierFootprintError
            When nothing received matches, naming the folder and how to pull footprints.
        """
        store = self.folder
        where = f"received supplier footprints ({store})" if store else "no PACT store"
        if store is None or not store.is_dir():
            raise SupplierFootprintError(f"supplier_footprint {ref!r}: {where}; {_HINT}")
        if _UUID.match(ref):
            path = store / f"{ref.lower()}.json"
            if not path.is_file():
                raise SupplierFootprintError(
                    f"supplier_footprint {ref!r} is not among the {where}; {_HINT}"
                )
            return path
        candidates = []
        for path in sorted(store.glob("*.json")):
            try:
                doc = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                continue
            ids = (
                [str(x).lower() for x in doc.get("productIds", [])] if isinstance(doc, dict) else []
            )
            if ref.lower() in ids:
                rank = (doc.get("status") == "Active", str(doc.get("created", "")))
                candidates.append((rank, path))
        if not candidates:
            raise SupplierFootprintError(
                f"supplier_footprint {ref!r}: no footprint with that product id among the "
                f"{where}; {_HINT}"
            )
        return max(candidates)[1]
