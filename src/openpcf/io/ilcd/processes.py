"""ILCD processes: name, location, classification, quantitative reference and exchanges."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import replace

from openpcf.io.ilcd.dataset import NAME_PARTS, dataset_uuid, names
from openpcf.io.ilcd.dataset import NS_COMMON as _C
from openpcf.io.ilcd.dataset import NS_PROCESS as _P
from openpcf.io.ilcd.exchanges import allocation_shares, read_exchange
from openpcf.io.inventory import Flow, Problem, Process, plausible_year


def read_process(
    doc: ET.Element,
    where: str,
    flows: dict[str, Flow],
    broken: dict[str, str],
    problems: list[Problem],
) -> Process | None:
    pinfo = doc.find(f"{_P}processInformation")
    info = pinfo.find(f"{_P}dataSetInformation") if pinfo is not None else None
    if pinfo is None or info is None:
        problems.append(Problem(kind="malformed", where=where, detail="no processInformation"))
        return None
    pid = dataset_uuid(info, where, problems, "process UUID")
    if pid is None:
        return None
    name, name_zh = names(info.find(f"{_P}name"), _P, (*NAME_PARTS, "functionalUnitFlowProperties"))
    classes = info.findall(f"{_P}classificationInformation/{_C}classification/{_C}class")
    category = "/".join((c.text or "").strip() for c in classes)
    loc = pinfo.find(f"{_P}geography/{_P}locationOfOperationSupplyOrProduction")
    location = (loc.get("location", "") if loc is not None else "").strip()
    refs = {
        (r.text or "").strip()
        for r in pinfo.iterfind(f"{_P}quantitativeReference/{_P}referenceToReferenceFlow")
    }
    raws = []
    elements = doc.findall(f"{_P}exchanges/{_P}exchange")
    written = {el.get("dataSetInternalID", "").strip() for el in elements}
    for el in elements:
        raw = read_exchange(el, where, flows, broken, problems)
        if raw is not None:
            raws.append(raw)
    for raw in raws:
        if raw.internal_id in refs:
            e = raw.exchange
            raw.exchange = replace(e, is_reference=True)
    found = {r.internal_id for r in raws} & refs
    if not refs:
        problems.append(
            Problem(kind="no-reference", where=where, detail="no referenceToReferenceFlow")
        )
    elif not found:
        absent = sorted(refs - written)
        detail = (
            f"no exchange with dataSetInternalID {', '.join(absent)} (referenceToReferenceFlow)"
            if absent
            else f"reference exchange {', '.join(sorted(refs))} was dropped (see its problem)"
        )
        problems.append(Problem(kind="no-reference", where=where, detail=detail))
    allocation = allocation_shares(raws, where, problems)
    method = ""
    if allocation:
        approaches = doc.iterfind(
            f"{_P}modellingAndValidation/{_P}LCIMethodAndAllocation/{_P}LCIMethodApproaches"
        )
        texts = [(a.text or "").strip() for a in approaches]
        method = next((t for t in texts if t.lower().startswith("allocation")), "factors")
    return Process(
        id=pid,
        name=name,
        name_zh=name_zh,
        exchanges=tuple(r.exchange for r in raws),
        location=location,
        category=category,
        allocation=allocation,
        allocation_method=method,
        reference_year=_reference_year(pinfo),
    )


def _reference_year(pinfo: ET.Element) -> int | None:
    """``time/common:referenceYear``, else the year ``time/common:dataSetValidUntil``."""
    time = pinfo.find(f"{_P}time")
    if time is None:
        return None
    return plausible_year(time.findtext(f"{_C}referenceYear")) or plausible_year(
        time.findtext(f"{_C}dataSetValidUntil")
    )
