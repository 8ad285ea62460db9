"""Read ecoSpold 2 activity data sets (``.spold``, e.g. ecoinvent 3) into an :class:`Inventory`.

Layout: a folder or a zip of ``.spold`` files (anywhere below it, e.g. ``datasets/``), with
optional master data ``MasterData/ElementaryExchanges.xml`` and
``MasterData/IntermediateExchanges.xml``. Namespace ``http://www.EcoInvent.org/EcoSpold02``.

What is read (see ``docs/formats.md``):

- activity: ``activityDescription/activity/@id``, ``activityName``, ``geography/shortname``,
  the ISIC classification as category;
- ``flowData/intermediateExchange``: ``@intermediateExchangeId`` (the product flow), ``@amount``,
  unit name, ``@activityLinkId`` (the provider), ``outputGroup`` 0 (reference product) /
  2 (by-product) / other, ``inputGroup`` (from technosphere) and the ``property`` elements named
  ``price`` or ``allocation factor`` (for multi-output allocation);
- ``flowData/elementaryExchange``: ``@elementaryExchangeId``, ``@amount``, unit name, name,
  ``@casNumber``, ``compartment/compartment`` + ``subcompartment`` (joined with "/"),
  ``outputGroup`` 4 (to environment) / ``inputGroup`` 4 (from environment).

Distribution: an exchange's ``uncertainty`` element is kept in stats_arrays fields, scaled by
the amount's unit conversion (:func:`_uncertainty`, :mod:`openpcf.io.uncertainty`).

Flows come from the master data when it is there (an exchange whose id is not in it is a
``"missing-flow"``); otherwise each flow is built from its first exchange, whose unit becomes
the flow's reference unit. Exchanges in another unit are converted with pint (recorded as
``"unit-conversion"``), or dropped as ``"unknown-unit"`` when they cannot be.

Process ids. A process is identified by its activity id. ecoinvent's allocated system models
reuse one activity id for each of an activity's products (files ``<activity>_<product>.spold``);
when an activity id occurs in more than one file the process id is
``"<activity id>_<reference product id>"`` and providers (``activityLinkId`` + the exchange's
product) are resolved to those ids.

Allocation. System-model files are already allocated (one product each), the main case. For an
unallocated multi-output activity (reference product plus ``outputGroup`` 2 by-products), shares
come from a ``property`` named ``allocation factor`` on every product (taken as the share), else
from one named ``price`` (share = amount x price / sum, economic allocation); otherwise the
process has no allocation and the linker must ask for one.

Design note: bad records never raise (see :mod:`openpcf.io.inventory`); only an input with no
readable ``.spold`` file raises :class:`EcoSpold2Error`.
"""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path, PurePosixPath

from openpcf.core.uncertainty import Distribution, lognormal, normal, triangular, uniform
from openpcf.core.units import conversion_factor
from openpcf.errors import InputError
from openpcf.io import uncertainty
from openpcf.io.archive import Archive
from openpcf.io.elementary import gas_for, substance
from openpcf.io.ilcd import is_uuid, normalise_unit
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

Progress = Callable[[int, int], None]

_NS = "{http://www.EcoInvent.org/EcoSpold02}"
_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
_REFERENCE_GROUP = "0"
_BY_PRODUCT_GROUP = "2"
_ENVIRONMENT_GROUP = "4"


class EcoSpold2Error(InputError):
    """An ecoSpold 2 input cannot be read as a whole (not a folder or zip, no data sets)."""


# --- small XML helpers ----------------------------------------------------------------------


def _start_year(period: ET.Element | None) -> int | None:
    return plausible_year(period.get("startDate")) if period is not None else None


def _text(el: ET.Element | None, tag: str, lang: str = "en") -> str:
    """Text of child ``tag`` in ``lang`` (else without language, else the first)."""
    if el is None:
        return ""
    found = el.findall(_NS + tag)
    for want in (lang, ""):
        for child in found:
            if child.get(_LANG, "").lower() == want and (child.text or "").strip():
                return (child.text or "").strip()
    return next(((c.text or "").strip() for c in found if (c.text or "").strip()), "")


def _unit_name(el: ET.Element) -> str:
    return (el.get("unitName") or _text(el, "unitName")).strip()


def _compartment(el: ET.Element) -> str:
    comp = el.find(f"{_NS}compartment")
    if comp is None:
        return ""
    parts = [_text(comp, "compartment"), _text(comp, "subcompartment")]
    return "/".join(p for p in parts if p)


def _float(text: str | None) -> float | None:
    try:
        value = float((text or "").strip())
    except ValueError:
        return None
    return value if value == value and abs(value) != float("inf") else None


def _is_waste(el: ET.Element) -> bool:
    """ecoinvent marks wastes with the 'By-product classification' value 'waste'."""
    for cls in el.iterfind(f"{_NS}classification"):
        system = _text(cls, "classificationSystem").lower()
        value = _text(cls, "classificationValue").lower()
        if "by-product" in system and "waste" in value:
            return True
    return False


def _gas(name: str, cas: str, compartment: str, where: str, problems: list[Problem]) -> str | None:
    gas = gas_for(name, cas, compartment)
    if gas is None and substance(name, cas) is not None:
        problems.append(
            Problem(
                kind="unmapped-elementary",
                where=where,
                detail=f"{name!r} ({compartment}) is a greenhouse gas substance but not an "
                "emission to or uptake from air; not counted",
            )
        )
    return gas


# --- flows ----------------------------------------------------------------------------------


@dataclass
class _Flows:
    """The flows known so far, and whether each kind comes from master data."""

    flows: dict[str, Flow] = field(default_factory=dict)
    from_master: set[str] = field(default_factory=set)  # "intermediate" / "elementary"
    conversions: Counter[tuple[str, str, float]] = field(default_factory=Counter)


def _flow_from(
    el: ET.Element, fid: str, elementary: bool, where: str, problems: list[Problem]
) -> Flow:
    """Flow ``fid`` from a master-data entry or an exchange (they share the layout)."""
    name = _text(el, "name")
    unit_text = _unit_name(el)
    unit, known = normalise_unit(unit_text)
    if not known:
        problems.append(
            Problem(
                kind="unknown-unit",
                where=where,
                detail=f"unit {unit_text!r} of flow {fid} ({name}) kept as written",
            )
        )
    cas = (el.get("casNumber") or "").strip()
    if elementary:
        compartment = _compartment(el)
        return Flow(
            id=fid,
            name=name,
            kind="elementary",
            unit=unit,
            cas=cas,
            compartment=compartment,
            gas=_gas(name, cas, compartment, where, problems),
        )
    kind: FlowKind = "waste" if _is_waste(el) else "product"
    return Flow(id=fid, name=name, kind=kind, unit=unit, cas=cas)


def _master_data(archive: Archive, known: _Flows, problems: list[Problem]) -> None:
    for file_name, tag, elementary in (
        ("IntermediateExchanges.xml", "intermediateExchange", False),
        ("ElementaryExchanges.xml", "elementaryExchange", True),
    ):
        candidates = [
            n
            for n in archive.members(suffix=file_name)
            if PurePosixPath(n).name.lower() == file_name.lower()
        ]
        if not candidates:
            continue
        name = min(candidates, key=lambda n: (n.count("/"), n))
        where = f"MasterData/{file_name}"
        try:
            doc = ET.fromstring(archive.read(name))
        except ET.ParseError as exc:
            problems.append(Problem(kind="malformed", where=name, detail=f"not XML: {exc}"))
            continue
        known.from_master.add("elementary" if elementary else "intermediate")
        for el in doc.iter(_NS + tag):
            fid = (el.get("id") or "").strip()
            if not is_uuid(fid):
                problems.append(
                    Problem(kind="bad-reference", where=where, detail=f"flow id {fid!r}")
                )
                continue
            flow = _flow_from(el, fid.lower(), elementary, f"{where} {fid.lower()}", problems)
            known.flows[flow.id] = flow


# --- activities -----------------------------------------------------------------------------


@dataclass
class _Activity:
    activity_id: str
    product: str  # reference product flow id ("" if none)
    process: Process
    links: list[tuple[int, str, str]]  # (exchange index, activityLinkId, product flow id)


def _factor(
    unit_text: str, flow: Flow, where: str, known: _Flows, problems: list[Problem]
) -> float | None:
    """The factor from ``unit_text`` into the flow's unit, None (a problem) if there is none."""
    unit, _ = normalise_unit(unit_text)
    if not unit_text or unit == flow.unit or unit_text == flow.unit:
        return 1.0
    try:
        factor = conversion_factor(unit, flow.unit)
    except Exception as exc:  # UnitError, or pint on odd text
        problems.append(
            Problem(
                kind="unknown-unit",
                where=where,
                detail=f"exchange in {unit_text!r}, flow {flow.id} ({flow.name}): {exc}",
            )
        )
        return None
    known.conversions[(unit, flow.unit, factor)] += 1
    return factor


def _exchange(
    el: ET.Element,
    elementary: bool,
    where: str,
    known: _Flows,
    problems: list[Problem],
) -> tuple[Exchange, str, str, dict[str, float]] | None:
    """(exchange, group, activityLinkId, properties) or None when dropped."""
    attr = "elementaryExchangeId" if elementary else "intermediateExchangeId"
    raw_id = el.get(attr)
    label = _text(el, "name")
    if raw_id is None or not is_uuid(raw_id.strip()):
        what = f"no {attr}" if raw_id is None else f"{attr} {raw_id!r} is not a UUID"
        problems.append(Problem(kind="bad-reference", where=where, detail=f"{what} ({label})"))
        return None
    fid = raw_id.strip().lower()
    kind = "elementary" if elementary else "intermediate"
    flow = known.flows.get(fid)
    if flow is None:
        if kind in known.from_master:
            problems.append(
                Problem(
                    kind="missing-flow",
                    where=where,
                    detail=f"flow {fid} ({label}) is not in the master data",
                )
            )
            return None
        flow = _flow_from(el, fid, elementary, where, problems)
        known.flows[fid] = flow
    amount = _float(el.get("amount"))
    if amount is None:
        problems.append(
            Problem(kind="malformed", where=where, detail=f"amount {el.get('amount')!r} ({label})")
        )
        return None
    out_group = (el.findtext(f"{_NS}outputGroup") or "").strip()
    in_group = (el.findtext(f"{_NS}inputGroup") or "").strip()
    if bool(out_group) == bool(in_group):
        problems.append(
            Problem(
                kind="malformed",
                where=where,
                detail=f"needs exactly one of outputGroup / inputGroup ({label})",
            )
        )
        return None
    factor = _factor(_unit_name(el), flow, where, known, problems)
    if factor is None:
        return None
    dist = kept_uncertainty(_uncertainty(el, amount), factor, where, problems)
    link = (el.get("activityLinkId") or "").strip()
    if link and not is_uuid(link):
        problems.append(
            Problem(
                kind="bad-reference",
                where=where,
                detail=f"activityLinkId {link!r} is not a UUID; no provider ({label})",
            )
        )
        link = ""
    props: dict[str, float] = {}
    for prop in el.iterfind(f"{_NS}property"):
        value = _float(prop.get("amount"))
        pname = _text(prop, "name").lower()
        if value is not None and pname:
            props[pname] = value
    exchange = Exchange(
        flow=fid,
        amount=amount * factor,
        is_input=bool(in_group),
        is_reference=(not elementary and out_group == _REFERENCE_GROUP),
        uncertainty=dist,
    )
    return exchange, out_group or in_group, link.lower(), props


def _uncertainty(el: ET.Element, amount: float) -> Distribution | str | None:
    """The exchange's ``uncertainty`` element in its own unit (ecoSpold 2 schema
    ``TUncertainty``: ``lognormal``, ``normal``, ``triangular``, ``uniform``; the others,
    ``beta``, ``gamma``, ``binominal``, ``undefined``, have no stats_arrays type read here).

    lognormal and normal: σ² is ``varianceWithPedigreeUncertainty`` (the basic ``variance``
    plus the pedigree matrix's contributions), falling back to ``variance``: the pedigree
    variance is the data set's total stated uncertainty, the one Brightway's ecospold2
    importer (bw2io) samples too; the basic variance alone leaves out the data quality the
    pedigree scores describe. The lognormal's median is the amount
    (:mod:`openpcf.io.uncertainty`).
    """
    unc = el.find(f"{_NS}uncertainty")
    if unc is None:
        return None
    dist = next(iter(unc), None)
    if dist is None or not isinstance(dist.tag, str):
        return None
    kind = dist.tag.removeprefix(_NS)

    def number(*names: str) -> float:
        for name in names:
            value = _float(dist.get(name))
            if value is not None:
                return value
        return float("nan")  # the constructors below name it as not usable

    if kind in ("lognormal", "normal"):
        variance = number("varianceWithPedigreeUncertainty", "variance")
        if variance < 0.0:
            return f"{kind} variance {variance:g} is negative"
        sigma = math.sqrt(variance) if variance == variance else variance
        if kind == "lognormal":
            return uncertainty.checked(lognormal, amount, sigma)
        return uncertainty.checked(normal, number("meanValue"), sigma, amount=amount)
    if kind == "triangular":
        low, high = number("minValue"), number("maxValue")
        return uncertainty.checked(triangular, low, number("mostLikelyValue"), high, amount=amount)
    if kind == "uniform":
        return uncertainty.checked(uniform, number("minValue"), number("maxValue"), amount=amount)
    return f"distribution {kind!r} is not one of the stats_arrays types read"


def _allocation(
    products: list[tuple[Exchange, dict[str, float]]],
) -> tuple[dict[str, float], str]:
    if len({e.flow for e, _ in products}) < 2:
        return {}, ""
    if all("allocation factor" in p for _, p in products):
        shares: dict[str, float] = {}
        for e, p in products:
            shares[e.flow] = shares.get(e.flow, 0.0) + p["allocation factor"]
        return shares, "factors"
    if all("price" in p for _, p in products):
        revenue = {e.flow: 0.0 for e, _ in products}
        for e, p in products:
            revenue[e.flow] += e.amount * p["price"]
        total = sum(revenue.values())
        if total > 0 and all(v >= 0 for v in revenue.values()):
            return {f: v / total for f, v in revenue.items()}, "economic"
    return {}, ""


def _activity(
    doc: ET.Element, where: str, known: _Flows, problems: list[Problem]
) -> _Activity | None:
    ds = doc.find(f"{_NS}activityDataset")
    if ds is None:
        ds = doc.find(f"{_NS}childActivityDataset")
    desc = ds.find(f"{_NS}activityDescription") if ds is not None else None
    act = desc.find(f"{_NS}activity") if desc is not None else None
    if ds is None or desc is None or act is None:
        problems.append(
            Problem(kind="malformed", where=where, detail="no activityDataset/activityDescription")
        )
        return None
    aid = (act.get("id") or "").strip().lower()
    if not is_uuid(aid):
        problems.append(Problem(kind="malformed", where=where, detail=f"activity id {aid!r}"))
        return None
    category = ""
    for cls in desc.iterfind(f"{_NS}classification"):
        value = _text(cls, "classificationValue")
        if "isic" in _text(cls, "classificationSystem").lower() or not category:
            category = value
    geography = _text(desc.find(f"{_NS}geography"), "shortname")
    exchanges: list[Exchange] = []
    links: list[tuple[int, str, str]] = []
    products: list[tuple[Exchange, dict[str, float]]] = []
    flow_data = ds.find(f"{_NS}flowData")
    children = list(flow_data) if flow_data is not None else []
    for n, el in enumerate(children, start=1):
        if el.tag == f"{_NS}intermediateExchange":
            elementary = False
        elif el.tag == f"{_NS}elementaryExchange":
            elementary = True
        else:
            continue  # parameters, impact indicators
        at = f"{where} exchange {el.get('id') or n}"
        read = _exchange(el, elementary, at, known, problems)
        if read is None:
            continue
        exchange, group, link, props = read
        if link:
            links.append((len(exchanges), link, exchange.flow))
        exchanges.append(exchange)
        if (
            not elementary
            and not exchange.is_input
            and group in (_REFERENCE_GROUP, _BY_PRODUCT_GROUP)
            and known.flows[exchange.flow].kind == "product"
        ):
            products.append((exchange, props))
    refs = [e for e in exchanges if e.is_reference]
    if not refs:
        problems.append(
            Problem(kind="no-reference", where=where, detail="no readable outputGroup 0 exchange")
        )
    allocation, method = _allocation(products)
    process = Process(
        id=aid,
        name=_text(act, "activityName"),
        name_zh=_text(act, "activityName", "zh") if _has_lang(act, "zh") else "",
        exchanges=tuple(exchanges),
        location=geography,
        category=category,
        allocation=allocation,
        allocation_method=method,
        # ecospold2 timePeriod/@startDate: the start of the period the data are valid for
        reference_year=_start_year(desc.find(f"{_NS}timePeriod")),
    )
    return _Activity(aid, refs[0].flow if refs else "", process, links)


def _has_lang(el: ET.Element, lang: str) -> bool:
    return any(c.get(_LANG, "").lower() == lang for c in el.findall(f"{_NS}activityName"))


def _assign_ids(activities: list[_Activity]) -> list[Process]:
    """Disambiguate repeated activity ids and resolve providers to process ids."""
    count = Counter(a.activity_id for a in activities)
    ids = {
        id(a): a.activity_id if count[a.activity_id] == 1 else f"{a.activity_id}_{a.product}"
        for a in activities
    }
    processes = []
    for a in activities:
        exchanges = list(a.process.exchanges)
        for index, link, product in a.links:
            provider = f"{link}_{product}" if count.get(link, 0) > 1 else link
            exchanges[index] = replace(exchanges[index], provider=provider)
        processes.append(replace(a.process, id=ids[id(a)], exchanges=tuple(exchanges)))
    return processes


def read_ecospold2(path: Path, *, progress: Progress | None = None) -> Inventory:
    """Read a folder or zip of ecoSpold 2 ``.spold`` files (plus optional master data).

    Parameters
    ----------
    path
        The folder or zip; every ``.spold`` file below it is read.
    progress
        Called as ``progress(done, total)`` while ``.spold`` files are read.

    Raises
    ------
    EcoSpold2Error
        If ``path`` is not a folder or zip, or holds no readable ``.spold`` file.
    """
    path = Path(path)
    try:
        archive = Archive(path)
    except InputError as exc:
        raise EcoSpold2Error(f"{exc} ecoSpold 2 data come as .spold files.") from None
    with archive:
        names = archive.members(suffix=".spold")
        if not names:
            raise EcoSpold2Error(
                f"{path}: no .spold file found. Give the folder or zip of ecoSpold 2 data sets "
                "(e.g. ecoinvent's datasets/ folder)."
            )
        problems: list[Problem] = []
        known = _Flows()
        _master_data(archive, known, problems)
        activities: list[_Activity] = []
        for done, name in enumerate(names, start=1):
            where = name
            try:
                doc = ET.fromstring(archive.read(name))
            except ET.ParseError as exc:
                problems.append(Problem(kind="malformed", where=where, detail=f"not XML: {exc}"))
                doc = None
            if doc is not None:
                activity = _activity(doc, where, known, problems)
                if activity is not None:
                    activities.append(activity)
            if progress is not None:
                progress(done, len(names))
        if not activities:
            raise EcoSpold2Error(
                f"{path}: none of the {len(names)} .spold files holds a readable activity data "
                "set. Check that these are ecoSpold 2 (not ecoSpold 1) files."
            )
        conversions = [
            Problem(
                kind="unit-conversion",
                where="exchanges",
                detail=f"{src} -> {dst} x {factor:.6g} ({n} exchanges)",
            )
            for (src, dst, factor), n in sorted(known.conversions.items())
        ]
        return Inventory(
            format="ecospold2",
            name=path.stem,
            processes=tuple(_assign_ids(activities)),
            flows=known.flows,
            **split_problems([*problems, *conversions]),
            licence=archive.licence(),
            source=path.name,
        )
