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

from dataclasses import dataclass
from pathlib import Path

from pydantic import ValidationError

from openpcf.errors import OpenPCFError, located
from openpcf.factors import FactorSet
from openpcf.files.csvfile import read_csv_rows
from openpcf.files.yamlfile import YamlDocument, load_validated
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
    """Read and validate a shipment YAML file (errors name file, line and field)."""
    doc, spec = load_validated(
        Path(path),
        ShipmentSpec,
        what="the shipment",
        mapping="a shipment file is a YAML mapping with 'shipment', 'year', 'cargo' and 'chain'",
        error=ShipmentFileError,
        union_tags=_UNION_TAGS,
    )
    return LoadedShipment(spec=spec, doc=doc)


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
