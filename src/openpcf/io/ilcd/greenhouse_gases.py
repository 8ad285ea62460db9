"""Greenhouse gases among ILCD elementary flows: by EF 3.x / ILCD reference flow UUID, else by
name, CAS number and compartment (:func:`openpcf.io.elementary.gas_for`).
"""

from __future__ import annotations

import re

from openpcf.io.elementary import gas_for, substance
from openpcf.io.inventory import Problem

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


def ghg_name(name: str) -> str:
    """ILCD's ``"methane (biogenic)"`` as ``"methane, biogenic"``, the spelling gas_for reads."""
    return re.sub(r"\s*\(([^()]*)\)\s*$", r", \1", name.strip())


def elementary_gas(
    fid: str, name: str, cas: str, compartment: str, where: str, problems: list[Problem]
) -> str | None:
    """The OpenPCF gas of elementary flow ``fid``, or None.

    A greenhouse-gas substance that is no emission to or uptake from air is reported as
    ``unmapped-elementary`` (not counted).
    """
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
    return gas
