"""ILCD flows: name, type, CAS, compartment, reference unit and greenhouse gas of each flow."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

from openpcf.io.archive import Archive
from openpcf.io.ilcd.dataset import NAME_PARTS, dataset_uuid, names, parse_xml
from openpcf.io.ilcd.dataset import NS_COMMON as _C
from openpcf.io.ilcd.dataset import NS_FLOW as _F
from openpcf.io.ilcd.greenhouse_gases import elementary_gas
from openpcf.io.ilcd.units import normalise_unit, read_flow_properties, read_unit_groups
from openpcf.io.inventory import Flow, FlowKind, Problem

_KINDS: dict[str, FlowKind] = {
    "elementary flow": "elementary",
    "product flow": "product",
    "waste flow": "waste",
}


def _flow(
    doc: ET.Element,
    where: str,
    units: dict[str, str],
    props: dict[str, str],
    problems: list[Problem],
) -> Flow | None:
    info = doc.find(f"{_F}flowInformation/{_F}dataSetInformation")
    if info is None:
        problems.append(Problem(kind="malformed", where=where, detail="no dataSetInformation"))
        return None
    fid = dataset_uuid(info, where, problems, "UUID")
    if fid is None:
        return None
    name, name_zh = names(info.find(f"{_F}name"), _F, (*NAME_PARTS, "flowProperties"))
    type_text = doc.findtext(f"{_F}modellingAndValidation/{_F}LCIMethod/{_F}typeOfDataSet") or ""
    kind = _KINDS.get(type_text.strip().lower())
    if kind is None:
        problems.append(
            Problem(
                kind="malformed",
                where=where,
                detail=f"typeOfDataSet {type_text.strip()!r} is not an elementary, product or "
                "waste flow; read as a product flow",
            )
        )
        kind = "product"
    cas = (info.findtext(f"{_F}CASNumber") or "").strip()
    compartment = ""
    if kind == "elementary":
        cats = info.findall(
            f"{_F}classificationInformation/{_C}elementaryFlowCategorization/{_C}category"
        )
        cats.sort(key=lambda c: int(c.get("level", "0")) if c.get("level", "").isdigit() else 0)
        compartment = "/".join((c.text or "").strip() for c in cats)
    # reference flow property -> unit group -> reference unit
    ref_id = (
        doc.findtext(
            f"{_F}flowInformation/{_F}quantitativeReference/{_F}referenceToReferenceFlowProperty"
        )
        or ""
    ).strip()
    unit_text = ""
    why = ""
    for fp in doc.iter(f"{_F}flowProperty"):
        if fp.get("dataSetInternalID", "").strip() != ref_id:
            continue
        ref = fp.find(f"{_F}referenceToFlowPropertyDataSet")
        prop = (ref.get("refObjectId", "") if ref is not None else "").strip().lower()
        group = props.get(prop)
        if group is None:
            why = f"flow property {prop!r} is not in flowproperties/"
        elif group not in units:
            why = f"unit group {group!r} of flow property {prop!r} is not in unitgroups/"
        else:
            unit_text = units[group]
        break
    else:
        why = f"no flow property with internal id {ref_id!r} (the reference flow property)"
    unit, known = normalise_unit(unit_text)
    if why:
        problems.append(Problem(kind="unknown-unit", where=where, detail=why))
    elif not known:
        problems.append(
            Problem(kind="unknown-unit", where=where, detail=f"unit {unit_text!r} kept as written")
        )
    gas = (
        elementary_gas(fid, name, cas, compartment, where, problems)
        if kind == "elementary"
        else None
    )
    return Flow(
        id=fid,
        name=name,
        name_zh=name_zh,
        kind=kind,
        unit=unit,
        cas=cas,
        compartment=compartment,
        gas=gas,
    )


def read_flows(
    archive: Archive, root: str, problems: list[Problem]
) -> tuple[dict[str, Flow], dict[str, str]]:
    """Flows by UUID, and the UUIDs of flow files that could not be read (-> file name)."""
    units = read_unit_groups(archive, root, problems)
    props = read_flow_properties(archive, root, problems)
    flows: dict[str, Flow] = {}
    broken: dict[str, str] = {}
    for name in archive.members(f"{root}flows/", suffix=".xml"):
        where = name[len(root) :]
        doc = parse_xml(archive, name, where, problems)
        flow = None if doc is None else _flow(doc, where, units, props, problems)
        if flow is None:
            broken[Path(name).stem.lower()] = where
        else:
            flows[flow.id] = flow
    return flows, broken
