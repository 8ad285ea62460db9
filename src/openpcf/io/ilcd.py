"""Read an ILCD data set collection (e.g. TianGong LCA Data) into an :class:`Inventory`.

Layout: a folder or a zip holding ``processes/``, ``flows/``, ``flowproperties/`` and
``unitgroups/`` (one XML data set per file, named ``<uuid>.xml``), possibly one or more folders
deep (TianGong's zip has them under ``tiangong_lca_data/``): the reader uses the shallowest
folder that holds ``processes/``.

What is read (see ``docs/formats.md`` for the full list):

- processes: UUID, name (``baseName`` + ``treatmentStandardsRoutes`` + ``mixAndLocationTypes``
  + ``functionalUnitFlowProperties``, joined with ", " as openLCA does; English, else Chinese,
  with the Chinese name in ``name_zh``), location, classification, the quantitative reference
  (``referenceToReferenceFlow``, data set internal ids), exchanges (``resultingAmount``,
  else ``meanAmount``) and the ``allocatedFraction`` of multi-output processes;
- flows: name, type, CAS, elementary-flow category path (the compartment) and the reference unit
  of the reference flow property (flow property -> unit group -> reference unit).

Units. ILCD gives every exchange amount in the reference unit of the flow's reference flow
property, so amounts are taken as written. Unit names are spelled the pint way where the ILCD
name is not (``Item(s)`` -> ``piece``, ``t*km`` -> ``tkm``, ``sqm`` -> ``m2``); names pint
cannot read are kept as written and reported once per flow as ``"unknown-unit"``.

Greenhouse gases. Elementary flows are mapped by UUID first (:data:`EF_GHG_FLOWS`, the EF 3.x
and ILCD reference flows of the climate-change LCIA methods shipped with TianGong), then by
name, CAS and category through :func:`openpcf.io.elementary.gas_for`. ILCD writes the
qualifier in parentheses (``carbon dioxide (biogenic)``); it is passed on as ``", biogenic"``.
Fossil CO2 as a *resource from air* (EF's CCS/DAC flow, factor 0) is not counted and is
reported as ``unmapped-elementary``.

Design note: bad records never raise (see :mod:`openpcf.io.inventory`): an exchange whose flow
is missing, whose ``refObjectId`` is not a UUID, or whose amount or direction is unreadable is
dropped with a :class:`Problem` naming the file and the exchange's ``dataSetInternalID``. Only
an input with no ``processes/`` folder or no readable process raises :class:`IlcdError`.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from openpcf.core.units import parse as parse_unit
from openpcf.errors import InputError
from openpcf.io.archive import Archive
from openpcf.io.elementary import gas_for, substance
from openpcf.io.inventory import Exchange, Flow, FlowKind, Inventory, Problem, Process

Progress = Callable[[int, int], None]

_C = "{http://lca.jrc.it/ILCD/Common}"
_P = "{http://lca.jrc.it/ILCD/Process}"
_F = "{http://lca.jrc.it/ILCD/Flow}"
_FP = "{http://lca.jrc.it/ILCD/FlowProperty}"
_UG = "{http://lca.jrc.it/ILCD/UnitGroup}"
_LANG = "{http://www.w3.org/XML/1998/namespace}lang"

_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_KINDS: dict[str, FlowKind] = {
    "elementary flow": "elementary",
    "product flow": "product",
    "waste flow": "waste",
}
_NAME_PARTS = ("baseName", "treatmentStandardsRoutes", "mixAndLocationTypes")

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

#: EF 3.x / ILCD reference elementary flows (UUID) that are greenhouse gases, with their OpenPCF
#: gas. Derived from the factors of the four climate-change LCIA methods in TianGong LCA Data
#: (``lciamethods/``: total, fossil, biogenic, land use) by name and compartment through
#: :func:`gas_for`: every flow of an OpenPCF gas with a non-zero factor (emissions to the EF
#: air sub-compartments, including "lower stratosphere and upper troposphere"; CO2 (LUC) from
#: air, factor -1, is uptake), plus biogenic CO2 (EF factor 0; OpenPCF books it as
#: CO2-biogenic / CO2-uptake, characterised +1 / -1). Fossil CO2 *from* air (factor 0) is
#: deliberately absent (:data:`EF_ZERO_CO2_FROM_AIR`). The flows present in TianGong's
#: ``flows/`` map the same way by CAS number and category. "LUC" is land use and land-use
#: change.
EF_GHG_FLOWS: dict[str, str] = {
    "3090018d-e0ba-4d47-8ced-d1496425a2cb": "C2F6",  # hfc-116, indoor
    "08a91e70-3ddc-11dd-933e-0050c2490048": "C2F6",  # HFC-116, air
    "a19bf07e-e251-11e6-bf01-fe55135034f3": "C2F6",  # PFC-116, air
    "08a91e70-3ddc-11dd-933f-0050c2490048": "C2F6",  # HFC-116, air long-term
    "a19bf150-e251-11e6-bf01-fe55135034f3": "C2F6",  # PFC-116, air long-term
    "a19bf218-e251-11e6-bf01-fe55135034f3": "C2F6",  # PFC-116, high stacks
    "fe0acd60-3ddc-11dd-a3e5-0050c2490048": "C2F6",  # HFC-116, high stacks
    "08a91e70-3ddc-11dd-9340-0050c2490048": "C2F6",  # HFC-116, urban
    "a19bf2e0-e251-11e6-bf01-fe55135034f3": "C2F6",  # PFC-116, urban
    "e2fab6c3-6555-11dd-ad8b-0800200c9a66": "C2F6",  # HFC-116, stratosphere
    "08a91e70-3ddc-11dd-9680-0050c2490048": "CF4",  # FC-14, air
    "a19bf970-e251-11e6-bf01-fe55135034f3": "CF4",  # PFC-14, air
    "08a91e70-3ddc-11dd-9681-0050c2490048": "CF4",  # FC-14, air long-term
    "a19bfa38-e251-11e6-bf01-fe55135034f3": "CF4",  # PFC-14, air long-term
    "08a91e70-3ddc-11dd-9683-0050c2490048": "CF4",  # FC-14, high stacks
    "a19bfbfa-e251-11e6-bf01-fe55135034f3": "CF4",  # PFC-14, high stacks
    "08a91e70-3ddc-11dd-9682-0050c2490048": "CF4",  # FC-14, urban
    "a19bfe20-e251-11e6-bf01-fe55135034f3": "CF4",  # PFC-14, urban
    "e2fa8f9f-6555-11dd-ad8b-0800200c9a66": "CF4",  # FC-14, stratosphere
    "be6760c7-30c9-412f-93d0-9a52dbe0c8f2": "CH4-biogenic",  # CH4 (biogenic), indoor
    "fe0acd60-3ddc-11dd-a8e8-0050c2490048": "CH4-biogenic",  # CH4 (biogenic), air
    "fe0acd60-3ddc-11dd-a8e9-0050c2490048": "CH4-biogenic",  # CH4 (biogenic), air long-term
    "fe0acd60-3ddc-11dd-a8eb-0050c2490048": "CH4-biogenic",  # CH4 (biogenic), high stacks
    "fe0acd60-3ddc-11dd-a8ea-0050c2490048": "CH4-biogenic",  # CH4 (biogenic), urban
    "fe0acd60-3ddc-11dd-a8ec-0050c2490048": "CH4-biogenic",  # CH4 (biogenic), stratosphere
    "5fab9188-642c-41b9-ae99-7eee2f48ba5b": "CH4-fossil",  # CH4 (LUC), indoor
    "faf1f72c-95d1-4c01-a2ca-679956c491a8": "CH4-fossil",  # CH4 (fossil), indoor
    "08a91e70-3ddc-11dd-9610-0050c2490048": "CH4-fossil",  # CH4 (fossil), air
    "c714e1e3-8ece-4ab8-99c9-22a903d999ec": "CH4-fossil",  # CH4 (LUC), air
    "08a91e70-3ddc-11dd-9611-0050c2490048": "CH4-fossil",  # CH4 (fossil), air long-term
    "2e2343b9-91ee-42b4-9188-41f75d2a4f2e": "CH4-fossil",  # CH4 (LUC), air long-term
    "3c6837c5-1930-4979-8163-a4c726f0a8df": "CH4-fossil",  # CH4 (LUC), high stacks
    "fe0acd60-3ddc-11dd-a8e6-0050c2490048": "CH4-fossil",  # CH4 (fossil), high stacks
    "8fc2746f-02da-403d-8ab6-59159be34497": "CH4-fossil",  # CH4 (LUC), urban
    "fe0acd60-3ddc-11dd-a8e5-0050c2490048": "CH4-fossil",  # CH4 (fossil), urban
    "fe0acd60-3ddc-11dd-a8e7-0050c2490048": "CH4-fossil",  # CH4 (fossil), stratosphere
    "bf72358e-7245-4918-b014-e5aefe6a6b7e": "CH4-fossil",  # CH4 (LUC), stratosphere
    "1e6f64b4-4077-4d2d-8185-ad5e9cd7150d": "CO2-biogenic",  # CO2 (biogenic), indoor
    "08a91e70-3ddc-11dd-9c15-0050c2490048": "CO2-biogenic",  # CO2 (biogenic), air
    "08a91e70-3ddc-11dd-923f-0050c2490048": "CO2-biogenic",  # CO2 (biogenic), air long-term
    "08a91e70-3ddc-11dd-9241-0050c2490048": "CO2-biogenic",  # CO2 (biogenic), high stacks
    "08a91e70-3ddc-11dd-9240-0050c2490048": "CO2-biogenic",  # CO2 (biogenic), urban
    "08a91e70-3ddc-11dd-9242-0050c2490048": "CO2-biogenic",  # CO2 (biogenic), stratosphere
    "d0f8056e-dc09-45eb-9590-ed4c7b5ed3f5": "CO2-fossil",  # CO2 (fossil), indoor
    "08a91e70-3ddc-11dd-923d-0050c2490048": "CO2-fossil",  # CO2 (fossil), air
    "08a91e70-3ddc-11dd-923e-0050c2490048": "CO2-fossil",  # CO2 (fossil), air long-term
    "08a91e70-3ddc-11dd-9c13-0050c2490048": "CO2-fossil",  # CO2 (fossil), high stacks
    "08a91e70-3ddc-11dd-9c12-0050c2490048": "CO2-fossil",  # CO2 (fossil), urban
    "08a91e70-3ddc-11dd-9c14-0050c2490048": "CO2-fossil",  # CO2 (fossil), stratosphere
    "2430229e-2303-478b-88ec-2129890fad44": "CO2-luc",  # CO2 (LUC), indoor
    "adcb79f3-89cf-45fb-b0b2-65558cb2af26": "CO2-luc",  # CO2 (LUC), air
    "9bb0ea62-4dc5-4e50-a085-1683b103f1df": "CO2-luc",  # CO2 (LUC), air long-term
    "a03c5c88-dfaa-4a2a-9a5d-b6cfc55c5cd2": "CO2-luc",  # CO2 (LUC), high stacks
    "1bf31577-1939-49f0-9606-9c7b8fd3021c": "CO2-luc",  # CO2 (LUC), urban
    "b3d7c693-6465-4aec-86cb-68b4e457fc98": "CO2-uptake",  # CO2 (LUC), from air
    "da174fac-e567-42d3-99b5-a688913dc88e": "CO2-uptake",  # CO2 (biogenic), from air
    "2dc28f2f-a034-4644-aea9-3884c074f816": "HFC-125",  # hfc-125, indoor
    "fe0acd60-3ddc-11dd-a3ea-0050c2490048": "HFC-125",  # HFC-125, air
    "fe0acd60-3ddc-11dd-a3eb-0050c2490048": "HFC-125",  # HFC-125, air long-term
    "fe0acd60-3ddc-11dd-a3ed-0050c2490048": "HFC-125",  # HFC-125, high stacks
    "fe0acd60-3ddc-11dd-a3ec-0050c2490048": "HFC-125",  # HFC-125, urban
    "0420474c-6556-11dd-ad8b-0800200c9a66": "HFC-125",  # HFC-125, stratosphere
    "c61b8b43-def3-4911-b6da-9cbb92035fa6": "HFC-134a",  # hfc-134a, indoor
    "fe0acd60-3ddc-11dd-a6d2-0050c2490048": "HFC-134a",  # HFC-134a, air
    "fe0acd60-3ddc-11dd-a6d3-0050c2490048": "HFC-134a",  # HFC-134a, air long-term
    "fe0acd60-3ddc-11dd-a6d5-0050c2490048": "HFC-134a",  # HFC-134a, high stacks
    "fe0acd60-3ddc-11dd-a6d4-0050c2490048": "HFC-134a",  # HFC-134a, urban
    "172ad9eb-6556-11dd-ad8b-0800200c9a66": "HFC-134a",  # HFC-134a, stratosphere
    "26162114-f5b3-45b5-87c3-f0fe0ecf2bb9": "HFC-143a",  # 1,1,1-trifluoroethane, air
    "3e21a7fb-a101-4fc4-90c9-d2b6a9bcaff1": "HFC-143a",  # 1,1,1-trifluoroethane, air long-term
    "ac210084-b8ae-427f-976f-5e436e3d793c": "HFC-143a",  # 1,1,1-trifluoroethane, high stacks
    "afd9aaad-0a62-45d6-b712-1b8e8cca2246": "HFC-143a",  # 1,1,1-trifluoroethane, urban
    "eed4ce4d-519a-42a7-b07f-9abe7894d9ed": "HFC-143a",  # 1,1,1-trifluoroethane, stratosphere
    "a7856aef-e64f-4a5c-bed5-529c6fb7eab5": "HFC-23",  # hfc-23, indoor
    "fe0acd60-3ddc-11dd-9e55-0050c2490048": "HFC-23",  # HFC-23, air
    "fe0acd60-3ddc-11dd-9e56-0050c2490048": "HFC-23",  # HFC-23, air long-term
    "fe0acd60-3ddc-11dd-9e58-0050c2490048": "HFC-23",  # HFC-23, high stacks
    "fe0acd60-3ddc-11dd-9e57-0050c2490048": "HFC-23",  # HFC-23, urban
    "e2fa68a0-6555-11dd-ad8b-0800200c9a66": "HFC-23",  # HFC-23, stratosphere
    "1c934dfb-1dc8-4a5b-8629-1d2ff827ef36": "HFC-32",  # hfc-32, indoor
    "4d9a8790-3ddd-11dd-9ca4-0050c2490048": "HFC-32",  # HFC-32, air
    "4d9a8790-3ddd-11dd-9ca5-0050c2490048": "HFC-32",  # HFC-32, air long-term
    "4d9a8790-3ddd-11dd-9ca7-0050c2490048": "HFC-32",  # HFC-32, high stacks
    "4d9a8790-3ddd-11dd-9ca6-0050c2490048": "HFC-32",  # HFC-32, urban
    "e2fa6883-6555-11dd-ad8b-0800200c9a66": "HFC-32",  # HFC-32, stratosphere
    "0bea8c86-83f3-4ddd-b817-84cd84535d2b": "N2O",  # nitrous oxide, indoor
    "08a91e70-3ddc-11dd-94c3-0050c2490048": "N2O",  # nitrous oxide, air
    "08a91e70-3ddc-11dd-94c4-0050c2490048": "N2O",  # nitrous oxide, air long-term
    "08a91e70-3ddc-11dd-94c6-0050c2490048": "N2O",  # nitrous oxide, high stacks
    "08a91e70-3ddc-11dd-94c5-0050c2490048": "N2O",  # nitrous oxide, urban
    "29061478-6556-11dd-ad8b-0800200c9a66": "N2O",  # nitrous oxide, stratosphere
    "eaa21429-2d8c-4785-8535-6e442ec6a1d0": "NF3",  # nitrogen trifluoride, indoor
    "23bfd19e-9751-4b06-81f4-93b069a3fd56": "NF3",  # nitrogen trifluoride, air
    "6e5e642f-48f5-47ab-b2ec-7ae80fcff620": "NF3",  # nitrogen trifluoride, air long-term
    "4fa8070d-01c5-490f-a28d-e73bddc061ae": "NF3",  # nitrogen trifluoride, high stacks
    "db7982d3-297b-453d-a310-99f2f1ee5cf1": "NF3",  # nitrogen trifluoride, urban
    "87160f5c-36c8-46ad-a2ce-9974641ce1aa": "NF3",  # nitrogen trifluoride, stratosphere
    "2b396256-6890-4c78-8f92-90b1d88ea748": "SF6",  # sulphur hexafluoride, indoor
    "fe0acd60-3ddc-11dd-ac51-0050c2490048": "SF6",  # sulphur hexafluoride, air
    "4d9a8790-3ddd-11dd-96e9-0050c2490048": "SF6",  # sulphur hexafluoride, air long-term
    "4d9a8790-3ddd-11dd-96eb-0050c2490048": "SF6",  # sulphur hexafluoride, high stacks
    "4d9a8790-3ddd-11dd-96ea-0050c2490048": "SF6",  # sulphur hexafluoride, urban
    "1f314b82-6556-11dd-ad8b-0800200c9a66": "SF6",  # sulphur hexafluoride, stratosphere
}


#: EF 3.x "carbon dioxide (fossil)", *resource from air* (TianGong: "Renewable material
#: resources from air"): fossil CO2 captured from the air for CCS / direct air capture. The
#: EF 3.1 climate-change methods give it factor 0 (total and fossil): it is neither biogenic
#: uptake nor an emission, so it is not mapped (:func:`gas_for` returns None for it too).
EF_ZERO_CO2_FROM_AIR: frozenset[str] = frozenset(
    {
        "726a7406-294b-4da6-b772-5612b0be0014",
        "e99843b7-e598-447a-ab73-d01f179f0f8c",
    }
)


class IlcdError(InputError):
    """An ILCD collection cannot be read as a whole (not a folder or zip, no processes)."""


def is_uuid(text: str) -> bool:
    return bool(_UUID.match(text))


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


def ghg_name(name: str) -> str:
    """ILCD's ``"methane (biogenic)"`` as ``"methane, biogenic"``, the spelling gas_for reads."""
    return re.sub(r"\s*\(([^()]*)\)\s*$", r", \1", name.strip())


# --- XML helpers ----------------------------------------------------------------------------


def _lang_texts(elements: list[ET.Element]) -> dict[str, str]:
    """Language -> text of multi-language elements (``""`` for no ``xml:lang``)."""
    texts: dict[str, str] = {}
    for el in elements:
        text = (el.text or "").strip()
        if text:
            texts.setdefault(el.get(_LANG, "").lower(), text)
    return texts


def _pick(texts: dict[str, str], *langs: str) -> str:
    for lang in langs:
        if texts.get(lang):
            return texts[lang]
    return next(iter(texts.values()), "") if "*" in langs else ""


def _names(name_el: ET.Element | None, ns: str, parts: tuple[str, ...]) -> tuple[str, str]:
    """(English-or-fallback name, Chinese name) from an ILCD ``name`` element."""
    if name_el is None:
        return "", ""
    en: list[str] = []
    zh: list[str] = []
    for part in parts:
        texts = _lang_texts(name_el.findall(ns + part))
        if t := _pick(texts, "en", "", "zh", "*"):
            en.append(t)
        if t := _pick(texts, "zh", "zh-cn", "zh-hans"):
            zh.append(t)
    has_zh = bool(_pick(_lang_texts(name_el.findall(ns + "baseName")), "zh", "zh-cn", "zh-hans"))
    return ", ".join(en), ", ".join(zh) if has_zh else ""


def _parse(archive: Archive, name: str, where: str, problems: list[Problem]) -> ET.Element | None:
    try:
        return ET.fromstring(archive.read(name))
    except (ET.ParseError, OSError) as exc:
        problems.append(Problem(kind="malformed", where=where, detail=f"not readable XML: {exc}"))
        return None


def _float(text: str | None) -> float | None:
    if text is None:
        return None
    try:
        value = float(text.strip())
    except ValueError:
        return None
    return value if value == value and abs(value) != float("inf") else None


# --- reference data: unit groups, flow properties, flows ------------------------------------


def _unit_groups(archive: Archive, root: str, problems: list[Problem]) -> dict[str, str]:
    """Unit group UUID -> name of its reference unit (as written)."""
    groups: dict[str, str] = {}
    for name in archive.members(f"{root}unitgroups/", suffix=".xml"):
        where = name[len(root) :]
        doc = _parse(archive, name, where, problems)
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


def _flow_properties(archive: Archive, root: str, problems: list[Problem]) -> dict[str, str]:
    """Flow property UUID -> unit group UUID."""
    props: dict[str, str] = {}
    for name in archive.members(f"{root}flowproperties/", suffix=".xml"):
        doc = _parse(archive, name, name[len(root) :], problems)
        if doc is None:
            continue
        info = f"{_FP}flowPropertiesInformation/"
        uid = doc.findtext(f"{info}{_FP}dataSetInformation/{_C}UUID") or ""
        ref = doc.find(f"{info}{_FP}quantitativeReference/{_FP}referenceToReferenceUnitGroup")
        if ref is not None:
            props[uid.strip().lower()] = ref.get("refObjectId", "").strip().lower()
    return props


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
    fid = (info.findtext(f"{_C}UUID") or "").strip().lower()
    if not is_uuid(fid):
        problems.append(Problem(kind="malformed", where=where, detail=f"UUID {fid!r}"))
        return None
    name, name_zh = _names(info.find(f"{_F}name"), _F, (*_NAME_PARTS, "flowProperties"))
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
    gas = None
    if kind == "elementary":
        gas = EF_GHG_FLOWS.get(fid) or gas_for(ghg_name(name), cas, compartment)
        what = substance(ghg_name(name), cas)
        if gas is None and what is not None:
            comp = compartment.lower()
            from_air = what == "CO2" and "resource" in comp and "air" in comp
            why = (
                "is fossil CO2 taken from the air (EF's technical flow for CCS / direct air "
                "capture, characterisation factor 0 in EF 3.1), not biogenic uptake"
                if fid in EF_ZERO_CO2_FROM_AIR or from_air
                else "is a greenhouse gas substance but not an emission to or uptake from air"
            )
            problems.append(
                Problem(
                    kind="unmapped-elementary",
                    where=where,
                    detail=f"{name!r} ({compartment}) {why}; not counted",
                )
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


def _flows(
    archive: Archive, root: str, problems: list[Problem]
) -> tuple[dict[str, Flow], dict[str, str]]:
    """Flows by UUID, and the UUIDs of flow files that could not be read (-> file name)."""
    units = _unit_groups(archive, root, problems)
    props = _flow_properties(archive, root, problems)
    flows: dict[str, Flow] = {}
    broken: dict[str, str] = {}
    for name in archive.members(f"{root}flows/", suffix=".xml"):
        where = name[len(root) :]
        doc = _parse(archive, name, where, problems)
        flow = None if doc is None else _flow(doc, where, units, props, problems)
        if flow is None:
            broken[Path(name).stem.lower()] = where
        else:
            flows[flow.id] = flow
    return flows, broken


# --- processes ------------------------------------------------------------------------------


@dataclass
class _Raw:
    """One exchange as read, before the process is assembled."""

    internal_id: str
    exchange: Exchange
    allocations: dict[str, float] = field(default_factory=dict)  # co-product id -> fraction


def _exchange(
    el: ET.Element,
    where: str,
    flows: dict[str, Flow],
    broken: dict[str, str],
    problems: list[Problem],
) -> _Raw | None:
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
    amount = next((v for v in map(_float, texts) if v is not None), None)
    if amount is None:
        shown = next((t for t in texts if t is not None), None)
        detail = "no resultingAmount or meanAmount" if shown is None else f"amount {shown!r}"
        problems.append(Problem(kind="malformed", where=at, detail=f"{detail} ({label})"))
        return None
    allocations: dict[str, float] = {}
    for alloc in el.iterfind(f"{_P}allocations/{_P}allocation"):
        co = alloc.get("internalReferenceToCoProduct", "").strip()
        fraction = _float(alloc.get("allocatedFraction"))
        if co and fraction is not None:
            allocations[co] = fraction / 100.0
        else:
            problems.append(
                Problem(kind="malformed", where=at, detail="allocation without co-product or %")
            )
    return _Raw(
        iid,
        Exchange(flow=fid, amount=amount, is_input=direction == "input"),
        allocations,
    )


def _allocation(raws: list[_Raw], where: str, problems: list[Problem]) -> dict[str, float]:
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


def _process(
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
    pid = (info.findtext(f"{_C}UUID") or "").strip().lower()
    if not is_uuid(pid):
        problems.append(Problem(kind="malformed", where=where, detail=f"process UUID {pid!r}"))
        return None
    name, name_zh = _names(
        info.find(f"{_P}name"), _P, (*_NAME_PARTS, "functionalUnitFlowProperties")
    )
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
        raw = _exchange(el, where, flows, broken, problems)
        if raw is not None:
            raws.append(raw)
    for raw in raws:
        if raw.internal_id in refs:
            e = raw.exchange
            raw.exchange = Exchange(
                flow=e.flow, amount=e.amount, is_input=e.is_input, is_reference=True
            )
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
    allocation = _allocation(raws, where, problems)
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
    )


def read_ilcd(path: Path, *, progress: Progress | None = None) -> Inventory:
    """Read an ILCD folder or zip (processes, flows, flow properties, unit groups).

    Parameters
    ----------
    path
        The folder or zip; the shallowest folder in it holding ``processes/`` is read.
    progress
        Called as ``progress(done, total)`` while process files are read.

    Raises
    ------
    IlcdError
        If ``path`` is not a folder or zip, holds no ``processes/`` folder, or no process in
        it can be read.
    """
    path = Path(path)
    try:
        archive = Archive(path)
    except InputError as exc:
        raise IlcdError(
            f"{exc} An ILCD collection has the folders processes/ and flows/."
        ) from None
    with archive:
        root = archive.root_of("processes")
        if root is None:
            raise IlcdError(
                f"{path}: no 'processes/' folder found. An ILCD collection has the folders "
                "processes/, flows/, flowproperties/ and unitgroups/ (e.g. an ILCD zip export)."
            )
        problems: list[Problem] = []
        flows, broken = _flows(archive, root, problems)
        names = archive.members(f"{root}processes/", suffix=".xml")
        processes: list[Process] = []
        for done, name in enumerate(names, start=1):
            where = name[len(root) :]
            doc = _parse(archive, name, where, problems)
            if doc is not None:
                if doc.tag != f"{_P}processDataSet":
                    problems.append(
                        Problem(kind="malformed", where=where, detail=f"root element {doc.tag}")
                    )
                else:
                    proc = _process(doc, where, flows, broken, problems)
                    if proc is not None:
                        processes.append(proc)
            if progress is not None:
                progress(done, len(names))
        if not processes:
            raise IlcdError(
                f"{path}: no readable ILCD process data set in {root}processes/ "
                f"({len(names)} .xml files). Check that this is an ILCD export."
            )
        return Inventory(
            format="ilcd",
            name=path.stem,
            processes=tuple(processes),
            flows=flows,
            problems=tuple(problems),
            licence=archive.licence(),
            source=path.name,
        )
