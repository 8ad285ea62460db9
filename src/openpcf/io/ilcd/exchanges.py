"""ILCD process exchanges, and the allocation shares of multi-output processes."""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field

from openpcf.core.uncertainty import Distribution, lognormal, normal, triangular, uniform
from openpcf.io import uncertainty
from openpcf.io.ilcd.dataset import NS_COMMON as _C
from openpcf.io.ilcd.dataset import NS_PROCESS as _P
from openpcf.io.ilcd.dataset import is_uuid, to_float
from openpcf.io.inventory import Exchange, Flow, Problem, kept_uncertainty


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
    dist = kept_uncertainty(_uncertainty(el, amount), 1.0, at, problems)
    return RawExchange(
        iid,
        Exchange(flow=fid, amount=amount, is_input=direction == "input", uncertainty=dist),
        allocations,
    )


def _uncertainty(el: ET.Element, amount: float) -> Distribution | str | None:
    """The exchange's distribution, as the ILCD process data set format documents its fields
    (``ILCD_ProcessDataSet.xsd``, ``relativeStandardDeviation95In``: "For log-normal
    distribution the square of the geometric standard deviation (SDg^2) is stated. Mean value
    times SDg^2 equals the 97.5% value [...]. For normal distribution the doubled standard
    deviation value (2*SD) is entered"; ``minimumAmount`` / ``maximumAmount`` bound the uniform
    and triangular distributions, whose mode is the mean amount):

    - ``log-normal``: σ = ln √(SDg²) = ½ ln(value), median = the amount;
    - ``normal``: the field is relative, in percent (its name and its ``Perc`` type), so
      SD = value / 100 · |amount| / 2;
    - ``uniform``: [minimumAmount, maximumAmount]; ``triangular``: mode = the amount.

    Amounts are in the flow's reference unit already (no conversion, see :mod:`..ilcd`).
    """
    kind = (el.findtext(f"{_P}uncertaintyDistributionType") or "").strip().lower()
    if kind in ("", "undefined"):
        return None
    rsd = to_float(el.findtext(f"{_P}relativeStandardDeviation95In"))
    low = to_float(el.findtext(f"{_P}minimumAmount"))
    high = to_float(el.findtext(f"{_P}maximumAmount"))
    if kind in ("log-normal", "normal"):
        if rsd is None:
            return f"{kind} without relativeStandardDeviation95In"
        if kind == "normal":
            return uncertainty.checked(normal, amount, rsd / 100.0 * abs(amount) / 2.0)
        if not rsd >= 1.0:  # SDg >= 1, so SDg² >= 1
            return f"log-normal SDg² {rsd:g} is below 1 (σ would be negative)"
        return uncertainty.checked(lognormal, amount, 0.5 * math.log(rsd))
    if kind in ("uniform", "triangular"):
        if low is None or high is None:
            return f"{kind} without minimumAmount and maximumAmount"
        if kind == "uniform":
            return uncertainty.checked(uniform, low, high)
        return uncertainty.checked(triangular, low, amount, high)
    return f"uncertaintyDistributionType {kind!r} is not one of the ILCD types"


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
