"""Units: the pint spelling of LCI unit names, and the reference units of ILCD unit groups and
flow properties (flow property -> unit group -> reference unit).
"""

from __future__ import annotations

from openpcf.core.units import parse as parse_unit
from openpcf.io.archive import Archive
from openpcf.io.ilcd.dataset import NS_COMMON as _C
from openpcf.io.ilcd.dataset import NS_FLOW_PROPERTY as _FP
from openpcf.io.ilcd.dataset import NS_UNIT_GROUP as _UG
from openpcf.io.ilcd.dataset import parse_xml
from openpcf.io.inventory import Problem

#: LCI unit names (ILCD unit groups, ecospold2 unit names) -> pint spelling in OpenPCF's
#: registry (:mod:`openpcf.core.units`). Names not listed are tried as they are.
UNIT_NAMES: dict[str, str] = {
    "item(s)": "piece",
    "items": "piece",
    "item": "piece",
    "unit": "piece",  # ecospold2; pint would read "unit" as micro-nit
    "p": "piece",
    "pcs": "piece",
    "t*km": "tkm",
    "metric ton*km": "tkm",
    "tkm": "tkm",
    "sqm": "m2",
    "sqm*a": "m2*a",
    "m2*yr": "m2*year",
    "m3a": "m3*a",
    "items*km": "piece*km",
    "items*a": "piece*a",
    "l": "liter",
    "nm3": "Nm3",
    "kwh": "kWh",
    "mj": "MJ",
}


def normalise_unit(name: str) -> tuple[str, bool]:
    """The pint spelling of an LCI unit name, and whether OpenPCF can parse it.

    Unknown names come back unchanged (stripped) with ``False``.
    """
    text = name.strip()
    spelled = UNIT_NAMES.get(text.lower(), text)
    if not spelled:
        return "", False
    try:
        parse_unit(spelled)
    except Exception:  # pint raises several error types on odd text
        return text, False
    return spelled, True


def read_unit_groups(archive: Archive, root: str, problems: list[Problem]) -> dict[str, str]:
    """Unit group UUID -> name of its reference unit (as written)."""
    groups: dict[str, str] = {}
    for name in archive.members(f"{root}unitgroups/", suffix=".xml"):
        where = name[len(root) :]
        doc = parse_xml(archive, name, where, problems)
        if doc is None:
            continue
        uid = doc.findtext(f"{_UG}unitGroupInformation/{_UG}dataSetInformation/{_C}UUID") or ""
        ref = doc.findtext(f".//{_UG}quantitativeReference/{_UG}referenceToReferenceUnit") or ""
        for unit in doc.iter(f"{_UG}unit"):
            if unit.get("dataSetInternalID", "").strip() == ref.strip():
                groups[uid.strip().lower()] = (unit.findtext(f"{_UG}name") or "").strip()
                break
        else:
            problems.append(
                Problem(kind="malformed", where=where, detail=f"no reference unit {ref!r}")
            )
    return groups


def read_flow_properties(archive: Archive, root: str, problems: list[Problem]) -> dict[str, str]:
    """Flow property UUID -> unit group UUID."""
    props: dict[str, str] = {}
    for name in archive.members(f"{root}flowproperties/", suffix=".xml"):
        doc = parse_xml(archive, name, name[len(root) :], problems)
        if doc is None:
            continue
        info = f"{_FP}flowPropertiesInformation/"
        uid = doc.findtext(f"{info}{_FP}dataSetInformation/{_C}UUID") or ""
        ref = doc.find(f"{info}{_FP}quantitativeReference/{_FP}referenceToReferenceUnitGroup")
        if ref is not None:
            props[uid.strip().lower()] = ref.get("refObjectId", "").strip().lower()
    return props
