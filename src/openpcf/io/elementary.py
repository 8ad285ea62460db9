"""Map elementary flows of LCI databases onto OpenPCF's greenhouse-gas flows.

Matching is by CAS number first, then by name, and the compartment decides the direction:

- an *emission to air* of a mapped substance books its mass on the gas (fossil unless the name
  says biogenic / non-fossil; CO2 "from soil or biomass stock" or from land transformation is
  direct land-use change, ``CO2-luc``);
- a *resource from air* of CO2 ("Carbon dioxide, in air") is biogenic uptake (``CO2-uptake``),
  except CO2 named *fossil* ("carbon dioxide (fossil)", resource from air): EF 3.x's technical
  flow for fossil CO2 captured from the air (CCS, direct air capture), which the EF 3.1
  climate-change methods characterise 0. It is not biogenic uptake and not counted (None).

Emissions to the "lower stratosphere and upper troposphere" (EF / ILCD compartment names that
do not contain "air") are emissions to air.

Everything else (emissions to water or soil, other substances) is not a greenhouse gas for a
carbon footprint and is listed as unmapped by the importers.

CAS numbers: CO2 124-38-9, CH4 74-82-8, N2O 10024-97-2, SF6 2551-62-4, NF3 7783-54-2,
CF4 75-73-0, C2F6 76-16-4, HFC-23 75-46-7, HFC-32 75-10-5, HFC-125 354-33-6,
HFC-134a 811-97-2, HFC-143a 420-46-2 (CAS registry, as listed in IPCC AR6 WG1 Table 7.SM.7).
"""

from __future__ import annotations

import re

_BY_CAS: dict[str, str] = {
    "124-38-9": "CO2",
    "74-82-8": "CH4",
    "10024-97-2": "N2O",
    "2551-62-4": "SF6",
    "7783-54-2": "NF3",
    "75-73-0": "CF4",
    "76-16-4": "C2F6",
    "75-46-7": "HFC-23",
    "75-10-5": "HFC-32",
    "354-33-6": "HFC-125",
    "811-97-2": "HFC-134a",
    "420-46-2": "HFC-143a",
}
_BY_NAME: dict[str, str] = {
    "carbon dioxide": "CO2",
    "methane": "CH4",
    "dinitrogen monoxide": "N2O",
    "nitrous oxide": "N2O",
    "sulfur hexafluoride": "SF6",
    "sulphur hexafluoride": "SF6",
    "nitrogen trifluoride": "NF3",
    "tetrafluoromethane": "CF4",
    "methane, tetrafluoro-": "CF4",
    "hexafluoroethane": "C2F6",
    "ethane, hexafluoro-": "C2F6",
    "trifluoromethane": "HFC-23",
    "methane, trifluoro-": "HFC-23",
    "difluoromethane": "HFC-32",
    "methane, difluoro-": "HFC-32",
    "pentafluoroethane": "HFC-125",
    "ethane, pentafluoro-": "HFC-125",
    "1,1,1,2-tetrafluoroethane": "HFC-134a",
    "ethane, 1,1,1,2-tetrafluoro-": "HFC-134a",
    "hfc-134a": "HFC-134a",
    "1,1,1-trifluoroethane": "HFC-143a",
    "ethane, 1,1,1-trifluoro-": "HFC-143a",
    # EF 3.x / ILCD short names (the EF flows are named "HFC-116", "FC-14", "PFC-14", ...)
    "hfc-116": "C2F6",
    "pfc-116": "C2F6",
    "fc-116": "C2F6",
    "fc-14": "CF4",
    "pfc-14": "CF4",
    "hfc-23": "HFC-23",
    "hfc-32": "HFC-32",
    "hfc-125": "HFC-125",
    "hfc-143a": "HFC-143a",
}
_QUALIFIERS = re.compile(
    r",?\s*\b(fossil|biogenic|non-fossil|from soil or biomass stock|land transformation|"
    r"land use change|in air|to air|unspecified)\b.*$"
)


def normalise_cas(cas: str) -> str:
    """Strip zero padding and spaces: '000124-38-9' -> '124-38-9'."""
    text = cas.strip().replace(" ", "")
    if not text:
        return ""
    head, _, rest = text.partition("-")
    return f"{head.lstrip('0') or '0'}-{rest}" if rest else text


def substance(name: str, cas: str = "") -> str | None:
    """The GHG a flow is, by CAS then name; None for anything else."""
    by_cas = _BY_CAS.get(normalise_cas(cas))
    if by_cas:
        return by_cas
    base = _QUALIFIERS.sub("", name.strip().lower()).strip(" ,")
    return _BY_NAME.get(base) or _BY_NAME.get(name.strip().lower())


def gas_for(name: str, cas: str, compartment: str) -> str | None:
    """OpenPCF gas id of an elementary flow, or None if it is not a GHG emission or uptake.

    Parameters
    ----------
    compartment
        The source's category path, any case, e.g. "Elementary flows/emission/air" or
        "Emissions to air/Emissions to air, unspecified" or "Resources/in air".
    """
    s = substance(name, cas)
    if s is None:
        return None
    comp = compartment.lower()
    lname = name.lower()
    biogenic = "biogenic" in lname or "non-fossil" in lname
    is_resource = "resource" in comp or lname.endswith(", in air")
    if is_resource:
        if s != "CO2" or not ("air" in comp or "in air" in lname):
            return None
        if re.search(r"\bfossil\b", lname) and not biogenic:
            return None  # fossil CO2 captured from air (CCS/DAC): EF 3.1 factor 0
        return "CO2-uptake"
    if not any(word in comp for word in ("air", "stratosphere", "troposphere")):
        return None
    luc = (
        "from soil or biomass stock" in lname
        or "land transformation" in lname
        or ("land use change" in lname)
    )
    if s == "CO2":
        if luc:
            return "CO2-luc"
        return "CO2-biogenic" if biogenic else "CO2-fossil"
    if s == "CH4":
        return "CH4-biogenic" if biogenic else "CH4-fossil"
    return s
