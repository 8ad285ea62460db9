"""Read an openLCA JSON-LD export (olca-schema 1.x or 2.x) into an :class:`Inventory`.

Layout: a folder or a zip with the sub-folders ``processes/``, ``flows/``,
``flow_properties/``, ``unit_groups/`` (and ``locations/``, ``categories/``), one JSON object
per file. A zip may nest them under a sub-folder (the USLCI export sits in
``downloads/uslci_olca1_5_0_json_ld/``): the reader uses the folder that holds ``processes/``.

Unit conversion. An exchange gives its amount ``x`` in a unit ``u`` of a flow property ``p``.
With ``c_u`` the unit's factor to its unit group's reference unit and ``φ_p`` the flow's
property factor (amount of ``p`` per one reference-property unit of the flow, ``φ_ref = 1``),
the amount in the flow's reference unit is

    x_ref = x · c_u / φ_p

as in openLCA. Each kind of conversion (``kWh -> MJ``, ``t -> kg`` …) is recorded once as a
``"unit-conversion"`` problem with its factor and count, and checked against pint
(:mod:`openpcf.io.unit_check`: a factor pint disagrees with is a ``"suspicious-unit"``).

Distribution: an exchange's ``uncertainty`` object is kept in stats_arrays fields, scaled by the
same factor as the amount (:func:`_uncertainty`, :mod:`openpcf.io.uncertainty`).

Schema versions: 1.x writes ``input``, category references and ``productId``/``product`` on
allocation factors; 2.x writes ``isInput``, category paths as strings and ``product`` refs.
Both are read.

Design note: bad records never raise (see :mod:`openpcf.io.inventory`): an exchange whose
flow is missing, whose reference is not a UUID, or whose unit cannot be converted is dropped
with a :class:`Problem`; only an input with no processes at all raises
:class:`~openpcf.errors.InputError`.
"""

from __future__ import annotations

import math
import re
import zipfile
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from openpcf.core.uncertainty import Distribution, lognormal, normal, triangular, uniform
from openpcf.errors import InputError
from openpcf.files import jsonfile
from openpcf.io import uncertainty
from openpcf.io.archive import Archive
from openpcf.io.elementary import gas_for
from openpcf.io.inventory import (
    Exchange,
    Flow,
    FlowKind,
    Inventory,
    Problem,
    Process,
    kept_uncertainty,
    plausible_year,
    split_problems,
)
from openpcf.io.unit_check import pint_disagreement

Progress = Callable[[int, int], None]

_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_KINDS: dict[str, FlowKind] = {
    "PRODUCT_FLOW": "product",
    "WASTE_FLOW": "waste",
    "ELEMENTARY_FLOW": "elementary",
}
#: Allocation types that carry one share per product (causal factors are per exchange).
_PRODUCT_LEVEL = ("PHYSICAL_ALLOCATION", "ECONOMIC_ALLOCATION")
_LICENCE_NAMES = ("LICENSE", "LICENSE.txt", "LICENSE.md", "LICENCE", "COPYING")


class JsonLdError(InputError):
    """A JSON-LD export cannot be read as a whole (not a folder or zip, no processes)."""


def is_uuid(text: object) -> bool:
    return isinstance(text, str) and bool(_UUID.match(text))


# --- the container: a folder or a zip -------------------------------------------------------


class _Source:
    """Read files below the data root of a folder or a zip, by POSIX relative path.

    The reading itself is :class:`~openpcf.io.archive.Archive`'s, so a JSON-LD zip has the
    same bounds (members, sizes, compression ratio) and the same errors for damaged members
    as the other importers.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        if not (path.is_dir() or zipfile.is_zipfile(path)):
            raise JsonLdError(
                f"{path}: not a folder or a zip file. Give the folder or zip of an openLCA "
                "JSON-LD export."
            )
        self._archive = Archive(path)
        names = self._archive.members()
        self.names = names
        try:
            self.root = _find_root(names, path)
        except JsonLdError:
            self._archive.close()
            raise

    def files(self, folder: str) -> list[str]:
        prefix = f"{self.root}{folder}/"
        return sorted(n for n in self.names if n.startswith(prefix) and n.lower().endswith(".json"))

    def read(self, name: str) -> bytes:
        return self._archive.read(name)

    def licence(self) -> str:
        for candidate in sorted(self.names, key=lambda n: n.count("/")):
            if PurePosixPath(candidate).name in _LICENCE_NAMES:
                return self.read(candidate).decode("utf-8", errors="replace").strip()
        return ""

    def close(self) -> None:
        self._archive.close()


def _find_root(names: list[str], path: Path) -> str:
    """The prefix (``""`` or ``"a/b/"``) of the folder that holds ``processes/``."""
    roots = sorted(
        {n[: n.index("processes/")] for n in names if "processes/" in n},
        key=len,
    )
    roots = [r for r in roots if r == "" or r.endswith("/")]
    if not roots:
        raise JsonLdError(
            f"{path}: no 'processes/' folder found. An openLCA JSON-LD export has folders "
            "processes/, flows/, flow_properties/ and unit_groups/."
        )
    return roots[0]


# --- reference data: units, flow properties, categories, locations --------------------------


@dataclass(frozen=True, slots=True)
class _Unit:
    name: str
    factor: float  # to the unit group's reference unit
    group: str


@dataclass
class _Refs:
    units: dict[str, _Unit]
    unit_by_name: dict[tuple[str, str], _Unit]  # (group id, unit name)
    group_ref: dict[str, str]  # unit group id -> reference unit name
    property_group: dict[str, str]  # flow property id -> unit group id
    categories: dict[str, tuple[str, str]]  # id -> (name, parent id)
    locations: dict[str, str]  # id -> code


def _load_json(src: _Source, name: str, problems: list[Problem]) -> dict[str, Any] | None:
    raw = src.read(name)  # a damaged zip (ArchiveError) ends the import: not caught below
    try:
        # bounded nesting: a 100,000-deep array was a RecursionError, not a "malformed" file
        data = jsonfile.loads(raw.decode("utf-8-sig"))
    except ValueError as exc:  # UnicodeDecodeError, JSONDecodeError, JsonTextError
        problems.append(Problem(kind="malformed", where=_rel(src, name), detail=str(exc)))
        return None
    if not isinstance(data, dict):
        problems.append(Problem(kind="malformed", where=_rel(src, name), detail="not an object"))
        return None
    return data


def _rel(src: _Source, name: str) -> str:
    return name[len(src.root) :]


def _ref_id(ref: Any) -> str:
    return str(ref.get("@id", "")) if isinstance(ref, dict) else (ref or "")


def _load_refs(src: _Source, problems: list[Problem]) -> _Refs:
    refs = _Refs({}, {}, {}, {}, {}, {})
    for name in src.files("unit_groups"):
        group = _load_json(src, name, problems)
        if group is None:
            continue
        gid = str(group.get("@id", ""))
        for unit in group.get("units", []):
            u = _Unit(str(unit.get("name", "")), float(unit.get("conversionFactor", 1.0)), gid)
            refs.units[str(unit.get("@id", ""))] = u
            refs.unit_by_name[(gid, u.name)] = u
            if unit.get("referenceUnit") or unit.get("isRefUnit"):
                refs.group_ref[gid] = u.name
    for name in src.files("flow_properties"):
        prop = _load_json(src, name, problems)
        if prop is not None:
            refs.property_group[str(prop.get("@id", ""))] = _ref_id(prop.get("unitGroup"))
    for name in src.files("categories"):
        cat = _load_json(src, name, problems)
        if cat is not None:
            parent = _ref_id(cat.get("category"))
            refs.categories[str(cat.get("@id", ""))] = (str(cat.get("name", "")), parent)
    for name in src.files("locations"):
        loc = _load_json(src, name, problems)
        if loc is not None:
            refs.locations[str(loc.get("@id", ""))] = str(loc.get("code") or loc.get("name", ""))
    return refs


def _category_path(category: Any, refs: _Refs) -> str:
    """2.x: the string itself; 1.x: the reference's name and its parents, root first."""
    if isinstance(category, str):
        return category
    if not isinstance(category, dict):
        return ""
    parts = [str(category.get("name", ""))]
    parent = refs.categories.get(_ref_id(category), ("", ""))[1]
    seen: set[str] = set()
    while parent and parent in refs.categories and parent not in seen:
        seen.add(parent)
        name, parent = refs.categories[parent][0], refs.categories[parent][1]
        parts.append(name)
    return "/".join(reversed(parts))


# --- flows ----------------------------------------------------------------------------------


@dataclass
class _FlowData:
    flow: Flow
    factors: dict[str, float]  # flow property id -> property factor φ
    ref_prop: str  # id of the reference flow property


def _load_flows(src: _Source, refs: _Refs, problems: list[Problem]) -> dict[str, _FlowData]:
    flows: dict[str, _FlowData] = {}
    for name in src.files("flows"):
        data = _load_json(src, name, problems)
        if data is None:
            continue
        fid = str(data.get("@id", ""))
        kind = _KINDS.get(str(data.get("flowType", "")))
        if not fid or kind is None:
            problems.append(
                Problem(
                    kind="malformed",
                    where=_rel(src, name),
                    detail=f"flow without @id or with flowType {data.get('flowType')!r}",
                )
            )
            continue
        factors: dict[str, float] = {}
        unit = ref_prop = ""
        for fpf in data.get("flowProperties", []):
            pid = _ref_id(fpf.get("flowProperty"))
            factors[pid] = float(fpf.get("conversionFactor", 1.0))
            if fpf.get("referenceFlowProperty") or fpf.get("isRefFlowProperty"):
                ref_prop = pid
                unit = refs.group_ref.get(refs.property_group.get(pid, ""), "")
        compartment = _category_path(data.get("category"), refs)
        flow_name = str(data.get("name", ""))
        cas = str(data.get("cas") or "")
        flows[fid] = _FlowData(
            Flow(
                id=fid,
                name=flow_name,
                kind=kind,
                unit=unit,
                cas=cas,
                compartment=compartment,
                gas=gas_for(flow_name, cas, compartment) if kind == "elementary" else None,
            ),
            factors,
            ref_prop,
        )
    return flows


# --- processes ------------------------------------------------------------------------------


class _Converter:
    """Convert exchange amounts into the flow's reference unit, counting each conversion."""

    def __init__(self, refs: _Refs) -> None:
        self.refs = refs
        self.applied: Counter[tuple[str, str, float]] = Counter()

    def __call__(self, exc: dict[str, Any], fd: _FlowData) -> float | str:
        """The factor into the flow's reference unit, or a string saying why there is none."""
        prop = _ref_id(exc.get("flowProperty")) or fd.ref_prop
        unit_ref = exc.get("unit")
        unit = self.refs.units.get(_ref_id(unit_ref))
        group = self.refs.property_group.get(prop, "")
        if unit is None and isinstance(unit_ref, dict):
            unit = self.refs.unit_by_name.get((group, str(unit_ref.get("name", ""))))
        if unit is None:
            name = unit_ref.get("name", "?") if isinstance(unit_ref, dict) else unit_ref
            return f"unit {name!r} is not in any unit group"
        phi = fd.factors.get(prop)
        if phi is None or phi == 0.0:
            return f"flow {fd.flow.name!r} has no flow property {prop!r} to convert {unit.name!r}"
        if group and unit.group != group:
            return f"unit {unit.name!r} does not belong to the exchange's flow property"
        factor = unit.factor / phi
        if factor != 1.0 or unit.name != fd.flow.unit:
            self.applied[(unit.name, fd.flow.unit, factor)] += 1
        return factor


def _is_input(exc: dict[str, Any]) -> bool:
    return bool(exc.get("isInput", exc.get("input", False)))


def _exchange(
    exc: dict[str, Any],
    where: str,
    flows: dict[str, _FlowData],
    convert: _Converter,
    problems: list[Problem],
) -> Exchange | None:
    flow_ref = exc.get("flow")
    fid = _ref_id(flow_ref)
    flow_name = flow_ref.get("name", "") if isinstance(flow_ref, dict) else ""
    fd = flows.get(fid)
    if fd is None:
        detail = f"flow {fid!r} ({flow_name})"
        problems.append(
            Problem(kind="missing-flow", where=where, detail=f"{detail} is not in flows/")
            if is_uuid(fid)
            else Problem(kind="bad-reference", where=where, detail=f"{detail} is not a UUID")
        )
        return None
    factor = convert(exc, fd)
    if isinstance(factor, str):
        problems.append(Problem(kind="unknown-unit", where=where, detail=factor))
        return None
    written = float(exc.get("amount", 0.0))
    dist = kept_uncertainty(_uncertainty(exc, written), factor, where, problems)
    provider = _ref_id(exc.get("defaultProvider")) or None
    avoided = bool(exc.get("avoidedProduct") or exc.get("isAvoidedProduct"))
    return Exchange(
        flow=fid,
        amount=written * factor,
        # openLCA shows an avoided product as an output and may store it either way.
        is_input=_is_input(exc) or avoided,
        provider=provider,
        is_reference=bool(exc.get("quantitativeReference") or exc.get("isQuantitativeReference")),
        is_avoided=avoided,
        uncertainty=dist,
    )


def _uncertainty(exc: dict[str, Any], amount: float) -> Distribution | str | None:
    """The exchange's ``uncertainty`` object in the exchange's own unit (olca-schema
    ``Distribution``: ``distributionType`` and ``geomSd`` / ``mean``, ``sd`` / ``minimum``,
    ``mode``, ``maximum``); the lognormal's median is the amount (:mod:`~openpcf.io.uncertainty`),
    its σ is ``ln geomSd``."""
    data = exc.get("uncertainty")
    if not isinstance(data, dict):
        return None
    kind = str(data.get("distributionType") or "NO_DISTRIBUTION")

    def number(key: str, default: float = math.nan) -> float:
        try:
            return float(data.get(key, default))
        except (TypeError, ValueError):
            return math.nan  # missing or not a number: the constructors say so

    if kind == "NO_DISTRIBUTION":
        return None
    if kind == "LOG_NORMAL_DISTRIBUTION":
        gsd = number("geomSd")
        if not gsd >= 1.0:  # a geometric standard deviation is at least 1
            return f"lognormal geomSd {gsd:g} is not a number of at least 1"
        return uncertainty.checked(lognormal, amount, math.log(gsd))
    if kind == "NORMAL_DISTRIBUTION":
        return uncertainty.checked(normal, number("mean", amount), number("sd"), amount=amount)
    if kind == "UNIFORM_DISTRIBUTION":
        return uncertainty.checked(uniform, number("minimum"), number("maximum"), amount=amount)
    if kind == "TRIANGLE_DISTRIBUTION":
        return uncertainty.checked(
            triangular, number("minimum"), number("mode", amount), number("maximum"), amount=amount
        )
    return f"distributionType {kind!r} is not one of the stats_arrays types read"


def _allocation(data: dict[str, Any], products: set[str]) -> tuple[dict[str, float], str]:
    """Product shares of the default (or a product-level) allocation method."""
    by_method: dict[str, dict[str, float]] = {}
    for factor in data.get("allocationFactors", []) or []:
        method = str(factor.get("allocationType", ""))
        product = _ref_id(factor.get("product")) or str(factor.get("productId", ""))
        if method in _PRODUCT_LEVEL and product:
            by_method.setdefault(method, {})[product] = float(factor.get("value", 0.0))
    default = str(data.get("defaultAllocationMethod") or "")
    candidates = [default] if default in _PRODUCT_LEVEL else list(_PRODUCT_LEVEL)
    for method in candidates:
        shares = by_method.get(method, {})
        if len(products) > 1 and products <= shares.keys():
            return {p: shares[p] for p in products}, method
    return {}, ""


def _process(
    data: dict[str, Any],
    where: str,
    flows: dict[str, _FlowData],
    refs: _Refs,
    convert: _Converter,
    problems: list[Problem],
) -> Process | None:
    pid = str(data.get("@id", ""))
    if not pid:
        problems.append(Problem(kind="malformed", where=where, detail="process without @id"))
        return None
    exchanges = []
    for i, raw in enumerate(data.get("exchanges", []) or [], start=1):
        exc = _exchange(raw, f"{where} exchange {i}", flows, convert, problems)
        if exc is not None:
            exchanges.append(exc)
    products = {
        e.flow
        for e in exchanges
        if not e.is_input and not e.is_avoided and flows[e.flow].flow.kind == "product"
    }
    allocation, method = _allocation(data, products)
    if not any(e.is_reference for e in exchanges):
        problems.append(
            Problem(kind="no-reference", where=where, detail="no quantitative reference exchange")
        )
    location = data.get("location")
    loc = refs.locations.get(_ref_id(location), "") or (
        str(location.get("name", "")) if isinstance(location, dict) else str(location or "")
    )
    return Process(
        id=pid,
        name=str(data.get("name", "")),
        exchanges=tuple(exchanges),
        location=loc,
        category=_category_path(data.get("category"), refs),
        allocation=allocation,
        allocation_method=method,
        reference_year=_reference_year(data),
    )


def _reference_year(data: dict[str, Any]) -> int | None:
    """``processDocumentation.validFrom`` (2.x and 1.x), else the start of ``validUntil``."""
    doc = data.get("processDocumentation")
    if not isinstance(doc, dict):
        return None
    return plausible_year(doc.get("validFrom")) or plausible_year(doc.get("validUntil"))


def _conversion_problems(convert: _Converter) -> list[Problem]:
    """One ``unit-conversion`` per kind applied, and a ``suspicious-unit`` for each factor the
    source's unit groups give that pint disagrees with (:mod:`openpcf.io.unit_check`)."""
    out = []
    for (src, dst, factor), count in sorted(convert.applied.items()):
        detail = f"{src} -> {dst} x {factor:.6g} ({count} exchanges)"
        out.append(Problem(kind="unit-conversion", where="exchanges", detail=detail))
        disagreement = pint_disagreement(src, dst, factor)
        if disagreement is not None:
            out.append(
                Problem(
                    kind="suspicious-unit",
                    where="unit_groups",
                    detail=f"{disagreement} ({count} exchanges converted with it)",
                )
            )
    return out


def read_jsonld(path: Path, *, progress: Progress | None = None) -> Inventory:
    """Read an openLCA JSON-LD folder or zip.

    Parameters
    ----------
    path
        The export folder or zip.
    progress
        Called as ``progress(done, total)`` while process files are read.

    Raises
    ------
    JsonLdError
        If ``path`` is not a folder or zip, or holds no ``processes/`` folder or no processes.
    """
    src = _Source(Path(path))
    try:
        problems: list[Problem] = []
        refs = _load_refs(src, problems)
        flows = _load_flows(src, refs, problems)
        convert = _Converter(refs)
        names = src.files("processes")
        processes: list[Process] = []
        for done, name in enumerate(names, start=1):
            data = _load_json(src, name, problems)
            if data is not None:
                proc = _process(data, _rel(src, name), flows, refs, convert, problems)
                if proc is not None:
                    processes.append(proc)
            if progress is not None:
                progress(done, len(names))
        if not processes:
            raise JsonLdError(f"{path}: no readable process in {src.root}processes/.")
        return Inventory(
            format="jsonld",
            name=Path(path).stem,
            processes=tuple(processes),
            flows={fid: fd.flow for fid, fd in flows.items()},
            **split_problems([*problems, *_conversion_problems(convert)]),
            licence=src.licence(),
            source=Path(path).name,
        )
    finally:
        src.close()
