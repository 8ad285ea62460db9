"""Supplier footprints a model names by footprint id or product URN, packed and read back.

``supplier_footprint: <footprint id | product URN>`` is looked up in the supplier store (the
footprints received over PACT and held in the database). A verifier has no such store, and
must not use one if it had: the package carries each footprint the model used as
``suppliers/<footprint id>.json``, the document exactly as the store held it in its canonical
JSON form (sorted keys, no spaces, UTF-8), so the file's SHA-256 is the store's content hash.
The manifest's ``received_footprints`` maps each reference, as written in the model, to its
file::

    "received_footprints": {
      "urn:pact:boardmill.example.com:product-id:fbb-350": {
        "file": "suppliers/7a0c3c4e-….json", "footprint_id": "7a0c3c4e-…",
        "sha256": "<the store's content hash>", "label": "supplier footprint … held by …"}}

``label`` is the text the footprint's factor row names it by (where it was held, when it was
received); the reproduction reuses it so that the recomputed row is the packaged row, byte for
byte. A reproduction resolves the same references from these files only
(:class:`PackedFootprints`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from openpcf.exchange.errors import SupplierFootprintError
from openpcf.exchange.supplier import ReceivedFootprint
from openpcf.files import jsonfile
from openpcf.package.archive import is_safe
from openpcf.package.format import MANIFEST, SUPPLIERS, sha256
from openpcf.package.results import Findings


def canonical_document(document: Mapping[str, Any]) -> bytes:
    """The canonical JSON of a stored footprint: the bytes the store's content hash is of."""
    text = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return text.encode("utf-8")


def member_name(footprint_id: str) -> str:
    """The file of the footprint ``footprint_id`` in the package."""
    return f"{SUPPLIERS}{footprint_id.lower()}.json"


def received_entry(ref: str, found: ReceivedFootprint) -> tuple[dict[str, str], bytes]:
    """The manifest entry for the reference ``ref`` and the bytes of its file."""
    data = canonical_document(found.document)
    footprint_id = str(found.document.get("id", ""))
    entry = {
        "file": member_name(footprint_id),
        "footprint_id": footprint_id,
        "sha256": sha256(data),
        "label": found.label,
    }
    return entry, data


def read_received(
    contents: Mapping[str, bytes], manifest: Mapping[str, Any], f: Findings
) -> dict[str, ReceivedFootprint]:
    """The packed footprints by the reference the model names them with.

    A reference whose entry or file is not usable is left out, with the problem (naming the
    file) in ``f``: the reproduction then fails on that reference. A file that is not the one
    the store held (its hash differs) is a problem too, but is still used, so that the
    comparison shows what the change does to the numbers.
    """
    listed = manifest.get("received_footprints") or {}
    if not isinstance(listed, dict):
        f.problems.append(f"{MANIFEST}: received_footprints is not an object")
        return {}
    out: dict[str, ReceivedFootprint] = {}
    for ref, entry in listed.items():
        try:
            out[ref] = _read_one(contents, ref, entry, f)
        except SupplierFootprintError as e:
            f.problems.append(str(e))
    if out:
        f.notes.append(
            f"{len(out)} supplier footprint(s) named by id or product URN read from the "
            "package (the supplier store of this machine is never read)"
        )
    return out


def _read_one(
    contents: Mapping[str, bytes], ref: str, entry: Any, f: Findings
) -> ReceivedFootprint:
    name = entry.get("file") if isinstance(entry, dict) else None
    if not isinstance(name, str) or not name.startswith(SUPPLIERS) or not is_safe(name):
        raise SupplierFootprintError(
            f"{MANIFEST}: received_footprints[{ref!r}] names no file under {SUPPLIERS}"
        )
    if name not in contents:
        raise SupplierFootprintError(
            f"{name}, the supplier footprint {ref!r} names, is missing from the package"
        )
    data = contents[name]
    if sha256(data) != entry.get("sha256"):
        f.problems.append(
            f"{name} is not the supplier footprint the supplier store held when the package "
            f"was built (its SHA-256 differs from the store's content hash {entry.get('sha256')})"
        )
    try:
        document = jsonfile.loads(data)
    except ValueError as e:
        raise SupplierFootprintError(f"{name} is not valid JSON ({e})") from None
    if (
        not isinstance(document, dict)
        or str(document.get("id", "")).lower() != str(entry.get("footprint_id", "")).lower()
    ):
        raise SupplierFootprintError(
            f"{name} is not the footprint {entry.get('footprint_id')!r} the manifest names"
        )
    label = entry.get("label")
    return ReceivedFootprint(document=document, label=label if isinstance(label, str) else name)


class PackedFootprints:
    """The supplier footprints of a package, where reproduction looks up footprint ids and
    product URNs (implements :class:`~openpcf.exchange.supplier.ReceivedFootprints`; it
    pickles)."""

    __slots__ = ("footprints",)

    def __init__(self, footprints: Mapping[str, ReceivedFootprint]) -> None:
        self.footprints = dict(footprints)

    def find(self, ref: str, /) -> ReceivedFootprint:
        found = self.footprints.get(ref) or self.footprints.get(ref.strip())
        if found is None:
            raise SupplierFootprintError(
                f"supplier_footprint {ref!r} is not among the supplier footprints of the "
                f"package ({SUPPLIERS}); a package is reproduced from its own files, never from "
                "the supplier store of this machine"
            )
        return found
