"""The bundled link defaults: one named provider per ambiguous product, with a reason.

Each file in ``openpcf/io/data/link_defaults/`` serves one database family (``uslci.yaml``,
``tiangong.yaml``) and maps a flow UUID to the provider process UUID to link it to, with the
flow's and provider's names and the reason for the choice::

    database: USLCI
    defaults:
      <flow uuid>: {flow: <name>, provider: <process uuid>, provider_name: <name>, reason: ..}

All files are read for every import: keys and providers are UUIDs, so a default applies only
to the database that holds both (the linker checks that the provider produces the flow). A
default is used only after the rules that come first (:mod:`openpcf.io.linking`).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources
from types import MappingProxyType
from typing import Any

import yaml

from openpcf.errors import InputError


class LinkDefaultsError(InputError):
    """A bundled link-defaults file is malformed (a packaging fault, named with its file)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class LinkDefault:
    flow: str  # flow UUID
    flow_name: str
    provider: str  # process UUID
    provider_name: str
    reason: str
    source: str  # the defaults file, e.g. "link_defaults/uslci.yaml"


_FIELDS = ("flow", "provider", "provider_name", "reason")


def _parse(name: str, data: Any) -> dict[str, LinkDefault]:
    where = f"link_defaults/{name}"
    entries = data.get("defaults") if isinstance(data, dict) else None
    if not isinstance(entries, dict):
        raise LinkDefaultsError(f"{where}: expected a mapping 'defaults: {{flow uuid: ...}}'.")
    out = {}
    for flow, entry in entries.items():
        if not isinstance(entry, dict) or not all(isinstance(entry.get(k), str) for k in _FIELDS):
            raise LinkDefaultsError(f"{where}: default for {flow!r} needs {', '.join(_FIELDS)}.")
        out[str(flow)] = LinkDefault(
            flow=str(flow),
            flow_name=entry["flow"],
            provider=entry["provider"],
            provider_name=entry["provider_name"],
            reason=" ".join(entry["reason"].split()),
            source=where,
        )
    return out


@cache
def bundled_defaults() -> MappingProxyType[str, LinkDefault]:
    """Flow UUID -> its bundled default provider, from every bundled defaults file."""
    folder = resources.files("openpcf.io") / "data" / "link_defaults"
    found: dict[str, LinkDefault] = {}
    for item in sorted(folder.iterdir(), key=lambda f: f.name):
        if item.name.endswith(".yaml"):
            found.update(_parse(item.name, yaml.safe_load(item.read_text("utf-8"))))
    return MappingProxyType(found)
