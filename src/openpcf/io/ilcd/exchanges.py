"""ILCD process exchanges, and the allocation shares of multi-output processes."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass, field

from openpcf.io.ilcd.dataset import NS_COMMON as _C
from openpcf.io.ilcd.dataset import NS_PROCESS as _P
from openpcf.io.ilcd.dataset import is_uuid, to_float
from openpcf.io.inventory import Exchange, Flow, Problem


@dataclass
class RawExchange:
    """One exchange as read, before the process is assembled."""

    internal_id: str
    exchange: Exchange
    allocations: dict[str, float] = field(default_factory=dict)  # co-product id -> fraction


def read_exchange(
    el: ET.Element,
    where: str,
    flows: dict[str, Flow],
    broken: dict[str, str],
    problems: list[Problem],
) -> RawExchange | None:
    iid = el.get("dataSetInternalID", "").strip()
    at = f"{where} exchange {iid or '?'}"
    ref = el.find(f"{_P}referenceToFlowDataSet")
    label = (ref.findtext(f"{_C}shortDescription") or "").strip() if ref is not None else ""
    raw_id = ref.get("refObjectId") if ref is not None else None
    if raw_id is None or not is_uuid(raw_id.strip()):
        what = "no refObjectId" if raw_id is None else f"refObjectId {raw_id!r} is not a UUID"
        problems.append(Problem(kind="bad-reference", where=at, detail=f"{what} ({label})"))
        return None
    fid = raw_id.strip().lower()
    flow = flows.get(fid)
    if flow is None:
        detail = (
            f"flow {fid} ({label}): {broken[fid]} could not be read"
            if fid in broken
            else f"flow {fid} ({label}) is not in flows/"
        )
        problems.append(Problem(kind="missing-flow", where=at, detail=detail))
        return None
    direction = (el.findtext(f"{_P}exchangeDirection") or "").strip().lower()
    if direction not in ("input", "output"):
        problems.append(
            Problem(kind="malformed", where=at, detail=f"exchangeDirection {direction!r}")
        )
        return None
    texts = [el.findtext(f"{_P}resultingAmount"), el.findtext(f"{_P}meanAmount")]
    amount = next((v for v in map(to_float, texts) if v is not None), None)
    if amount is None:
        shown = next((t for t in texts if t is not None), None)
        detail = "no resultingAmount or meanAmount" if shown is None else f"amount {shown!r}"
        problems.append(Problem(kind="malformed", where=at, detail=f"{detail} ({label})"))
        return None
    allocations: dict[str, float] = {}
    for alloc in el.iterfind(f"{_P}allocations/{_P}allocation"):
        co = alloc.get("internalReferenceToCoProduct", "").strip()
        fraction = to_float(alloc.get("allocatedFraction"))
        if co and fraction is not None:
            allocations[co] = fraction / 100.0
        else:
            problems.append(
                Problem(kind="malformed", where=at, detail="allocation without co-product or %")
            )
    return RawExchange(
        iid,
        Exchange(flow=fid, amount=amount, is_input=direction == "input"),
        allocations,
    )


def allocation_shares(
    raws: list[RawExchange], where: str, problems: list[Problem]
) -> dict[str, float]:
    """Product flow id -> share, from the exchanges' ``allocatedFraction`` (percent).

    A co-product's share is the fraction its own exchange allocates to itself; failing that,
    the fraction the first exchange gives it. ILCD also allows exchange-specific fractions,
    which a product-level share cannot hold: when other exchanges disagree, the co-products'
    own fractions are used and the disagreement is reported.
    """
    by_id = {r.internal_id: r for r in raws}
    co_products = {co for r in raws for co in r.allocations}
    if not co_products:
        return {}
    shares: dict[str, float] = {}
    for co in sorted(co_products):
        own = by_id.get(co)
        if own is None or own.exchange.is_input:
            problems.append(
                Problem(
                    kind="malformed",
                    where=where,
                    detail=f"allocation to co-product exchange {co!r}, which is not a (readable) "
                    "output of the process; allocation ignored",
                )
            )
            return {}
        if co in own.allocations:
            shares[co] = own.allocations[co]
        else:
            shares[co] = next(r.allocations[co] for r in raws if co in r.allocations)
    differ = sum(
        1
        for r in raws
        if r.allocations
        and any(abs(r.allocations.get(co, v) - v) > 1e-9 for co, v in shares.items())
    )
    if differ:
        problems.append(
            Problem(
                kind="malformed",
                where=where,
                detail=f"{differ} exchanges carry allocation fractions that differ from the "
                "co-products' own; exchange-specific allocation is not kept, the co-products' "
                "fractions are used",
            )
        )
    total = sum(shares.values())
    if abs(total - 1.0) > 1e-6:
        problems.append(
            Problem(
                kind="malformed",
                where=where,
                detail=f"allocation fractions sum to {total * 100:g} %, not 100 %",
            )
        )
    result: dict[str, float] = {}
    for co, share in shares.items():
        fid = by_id[co].exchange.flow
        result[fid] = result.get(fid, 0.0) + share
    return result
