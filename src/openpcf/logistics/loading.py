"""Read shipment YAML files and order-book CSVs, with file:line in every error.

An **order book** is a CSV of shipments, one per row::

    order,shipment,cargo_mass,cargo_unit,teu
    PO-1001,lanes/suzhou_rotterdam.yaml,18.5,t,2
    PO-1002,lanes/suzhou_rotterdam.yaml,,,

``shipment`` is a shipment YAML (relative to the CSV's folder) that describes the lane;
``cargo_mass``/``cargo_unit``/``teu``/``containers`` (optional) replace its cargo for that order
(``containers``: the count a per-container hub default needs).
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from dataclasses import dataclass, replace
from pathlib import Path
from threading import Lock

from pydantic import ValidationError

from openpcf.errors import ModelFileError, OpenPCFError, located
from openpcf.factors import FactorSet
from openpcf.files.bounded import read_bounded
from openpcf.files.csvfile import read_csv_rows
from openpcf.files.yamlfile import MAX_YAML_BYTES, YamlDocument, load_validated
from openpcf.logistics.calculate import ShipmentResult, calculate_shipment
from openpcf.logistics.errors import ShipmentFileError
from openpcf.logistics.library import Library
from openpcf.logistics.schema import Cargo, ShipmentSpec

ORDER_COLUMNS = ("order", "shipment")


@dataclass(frozen=True, slots=True)
class LoadedShipment:
    spec: ShipmentSpec
    doc: YamlDocument


def load_shipment(path: Path | str) -> LoadedShipment:
    """Read and validate a shipment YAML file (errors name file, line and field).

    The file is read every time; its parsed form is reused while its bytes are the same
    (:class:`_ParsedShipments`).
    """
    path = Path(path)
    try:
        stat = path.stat()
    except OSError:
        stat = None  # read_bounded below names the file and the reason
    raw = read_bounded(path, limit=MAX_YAML_BYTES, error=ModelFileError)
    key = (
        str(path.resolve()),
        len(raw),
        stat.st_mtime_ns if stat else -1,
        hashlib.sha256(raw).hexdigest(),
    )
    loaded = PARSED.get(key)
    if loaded is None:
        loaded = _parse(path, raw)
        if len(raw) <= CACHED_BYTES:
            PARSED.put(key, loaded)
    # a parse cached under another spelling of this path: messages name the one given here
    return (
        loaded if loaded.doc.path == path else replace(loaded, doc=replace(loaded.doc, path=path))
    )


def _parse(path: Path, raw: bytes) -> LoadedShipment:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise ModelFileError(f"{path}: cannot read: {e}") from None
    doc, spec = load_validated(
        path,
        ShipmentSpec,
        what="the shipment",
        mapping="a shipment file is a YAML mapping with 'shipment', 'year', 'cargo' and 'chain'",
        text=text,
        error=ShipmentFileError,
        union_tags=_UNION_TAGS,
    )
    return LoadedShipment(spec=spec, doc=doc)


_Key = tuple[str, int, int, str]

#: Largest shipment file kept parsed (1 MiB; real ones are a few kB), so that the cache holds
#: at most 64 MiB of text however large the files it meets.
CACHED_BYTES = 1024 * 1024


class _ParsedShipments:
    """A bounded LRU of parsed shipment files, keyed by their content.

    Design note: ``openpcf batch`` compiles one product model per parameter set, and every
    compile resolves the model's ``shipment:`` inputs again. Profiling 200 parameter sets of
    ``examples/lfp_battery_pack.yaml`` put half of each set's time in parsing its two shipment
    files with PyYAML and validating them; with this cache a set takes 6.1 ms instead of
    11.3 ms in one process, 7.2 ms instead of 13.4 ms through ``openpcf batch --workers 1``
    (the command is in ``docs/logistics.md``). The key is the resolved path, the size,
    ``st_mtime_ns`` *and* the SHA-256 of the bytes just read, never the modification time
    alone (a file rewritten within the clock's resolution keeps its mtime): a changed file is
    parsed again, and what is cached is the parse of exactly the bytes hashed. Values are frozen
    (pydantic ``frozen=True`` models, a frozen :class:`LoadedShipment`); failed parses are
    not cached, so an error is raised, with its line, every time.
    """

    def __init__(self, size: int) -> None:
        self.size = size
        self._items: OrderedDict[_Key, LoadedShipment] = OrderedDict()
        self._lock = Lock()  # the web server calculates in threads

    def get(self, key: _Key) -> LoadedShipment | None:
        with self._lock:
            found = self._items.get(key)
            if found is not None:
                self._items.move_to_end(key)
            return found

    def put(self, key: _Key, value: LoadedShipment) -> None:
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)

    def __len__(self) -> int:
        return len(self._items)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


PARSED = _ParsedShipments(size=64)
"""The parsed shipment files of this process (64 at most, least recently used dropped)."""


#: Names pydantic adds to an error location for union members; not part of the data path.
_UNION_TAGS = frozenset({"leg", "hub", "default", "fuel", "carrier", "str", "Place"})


def calculate_file(
    path: Path | str,
    *,
    library: Library | None = None,
    factors: FactorSet | None = None,
    cargo: Cargo | None = None,
) -> ShipmentResult:
    """Load and compute one shipment file, optionally with another cargo."""
    loaded = load_shipment(path)
    spec = loaded.spec
    if cargo is not None:
        spec = spec.model_copy(update={"cargo": cargo})
    return calculate_shipment(
        spec,
        library=library,
        factors=factors,
        where=lambda loc: loaded.doc.where(loc),
        origin=str(loaded.doc.path),
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderBookResult:
    """Every order's shipment result and the order book total (kg CO2e)."""

    path: str
    orders: tuple[tuple[str, ShipmentResult], ...]

    @property
    def wtw_kg(self) -> float:
        return sum(r.wtw_kg for _, r in self.orders)


def calculate_order_book(
    path: Path | str, *, library: Library | None = None, factors: FactorSet | None = None
) -> OrderBookResult:
    """Compute each row of an order-book CSV (see module doc)."""
    path = Path(path)
    rows = read_csv_rows(
        path,
        required=ORDER_COLUMNS,
        header="an order book's header must include order,shipment "
        "(optional cargo_mass,cargo_unit,teu,containers)",
        error=ShipmentFileError,
    )
    orders = []
    for line, row in rows:
        where = f"{path}:{line}"
        order = (row.get("order") or "").strip()
        ref = (row.get("shipment") or "").strip()
        if not order or not ref:
            raise ShipmentFileError(f"{where}: 'order' and 'shipment' must not be empty")
        cargo = _cargo(row, where)
        try:
            result = calculate_file(
                path.parent / ref, library=library, factors=factors, cargo=cargo
            )
        except OpenPCFError as e:
            raise located(e, f"{where}: order {order!r}") from None
        orders.append((order, result))
    if not orders:
        raise ShipmentFileError(f"{path}: the order book has no rows")
    return OrderBookResult(path=str(path), orders=tuple(orders))


def _cargo(row: dict[str, str | None], where: str) -> Cargo | None:
    mass = (row.get("cargo_mass") or "").strip()
    teu = (row.get("teu") or "").strip()
    containers = (row.get("containers") or "").strip()
    if not mass and not teu and not containers:
        return None
    if not mass:
        raise ShipmentFileError(f"{where}: 'teu' or 'containers' given without 'cargo_mass'")
    try:
        return Cargo(
            mass=float(mass),
            unit=(row.get("cargo_unit") or "t").strip() or "t",
            teu=float(teu) if teu else None,
            containers=float(containers) if containers else None,
        )
    except ValidationError as e:
        msg = "; ".join(x["msg"].removeprefix("Value error, ") for x in e.errors())
        raise ShipmentFileError(f"{where}: bad cargo: {msg}") from None
    except ValueError:
        raise ShipmentFileError(
            f"{where}: cargo_mass, teu and containers must be numbers"
        ) from None
