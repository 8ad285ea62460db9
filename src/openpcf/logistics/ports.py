"""Port lookup by UN/LOCODE or name, from the port list that ships with ``searoute``.

``searoute`` 1.6.0 bundles ``data/ports.geojson`` (3 962 ports, each with its UN/LOCODE, name,
country and WGS 84 coordinates). :func:`find_port` accepts a five-character UN/LOCODE
(``CNSHA``) or a port name (``Shanghai``, case-insensitive); a name shared by several ports
must be given as its UN/LOCODE. Unknown ports are an error with close matches suggested.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources

from openpcf.logistics.errors import UnknownPortError

SOURCE = "searoute 1.6.0 port list (searoute/data/ports.geojson, UN/LOCODE and WGS 84 coordinates)"


@dataclass(frozen=True, slots=True, kw_only=True)
class Port:
    """A seaport: UN/LOCODE, name, country and position (decimal degrees, WGS 84)."""

    locode: str
    name: str
    country: str
    lon: float
    lat: float


@cache
def _ports() -> tuple[Mapping[str, Port], Mapping[str, tuple[Port, ...]]]:
    """Ports by UN/LOCODE and by folded name."""
    text = resources.files("searoute").joinpath("data/ports.geojson").read_text("utf-8")
    by_code: dict[str, Port] = {}
    by_name: dict[str, list[Port]] = {}
    for feature in json.loads(text)["features"]:
        props = feature["properties"]
        lon, lat = feature["geometry"]["coordinates"]
        port = Port(
            locode=str(props["port"]).upper(),
            name=str(props["name"]),
            country=str(props.get("cty", "")).replace("_", " "),
            lon=float(lon),
            lat=float(lat),
        )
        by_code.setdefault(port.locode, port)
        by_name.setdefault(port.name.strip().lower(), []).append(port)
    return by_code, {k: tuple(v) for k, v in by_name.items()}


def find_port(text: str) -> Port:
    """Return the port named by a UN/LOCODE or a unique port name.

    Raises
    ------
    UnknownPortError
        No such port, or a name shared by several ports (the message lists their codes).
    """
    by_code, by_name = _ports()
    key = text.strip()
    compact = key.replace(" ", "").upper()
    if compact in by_code:
        return by_code[compact]
    matches = by_name.get(key.lower(), ())
    if len(matches) == 1:
        return matches[0]
    if len(matches) > 1:
        codes = ", ".join(f"{p.locode} ({p.country})" for p in matches)
        raise UnknownPortError(f"port name {text!r} is ambiguous: give its UN/LOCODE: {codes}")
    close = difflib.get_close_matches(key.lower(), list(by_name), n=3, cutoff=0.75)
    hint = ", ".join(f"{by_name[c][0].name} ({by_name[c][0].locode})" for c in close)
    raise UnknownPortError(
        f"unknown port {text!r}: give a UN/LOCODE such as CNSHA or a port name"
        + (f" (did you mean {hint}?)" if hint else "")
        + ", or give the position as {name, lat, lon}"
    )
