"""A supplier's EPD in the ILCD+EPD format (EN 15804), read as supplier data.

The format is the ILCD process data set with the EPD extensions of InData / ÖKOBAUDAT
(EPD data format v1.2 / v1.3; InDataWG/ILCD-EPD-Data-Format, ``schemas/EPD_DataSet.xsd``,
``sample_data/processes/EPDv1.3_example_57a4ae65-d305-421e-b21f-a3f0c35b8abe.xml``). What is
read, and where (``p:`` = ``http://lca.jrc.it/ILCD/Process``, ``common:`` =
``http://lca.jrc.it/ILCD/Common``, ``epd:`` = ``http://www.iai.kit.edu/EPD/2013``, ``epd2:`` =
``http://www.indata.network/EPD/2019``):

=========================  ===================================================================
uuid, name                 processInformation/dataSetInformation/common:UUID, name/baseName
declared amount            the exchange whose ``dataSetInternalID`` is
                           processInformation/quantitativeReference/referenceToReferenceFlow:
                           its meanAmount (the unit is in the *flow* data set, not here: the
                           caller states it and it is recorded as stated)
reference year, validity   processInformation/time/common:referenceYear, common:dataSetValidUntil
                           (both a 4-digit year in ILCD: valid until 31 December of that year)
subtype                    modellingAndValidation/LCIMethodAndAllocation/common:other/epd:subType
standard                   modellingAndValidation/complianceDeclarations/compliance/
                           common:referenceToComplianceSystem/common:shortDescription
                           (``EN 15804+A2``), else the indicators present
verifier                   modellingAndValidation/validation/review/
                           common:referenceToNameOfReviewerAndInstitution/common:shortDescription
registration               administrativeInformation/publicationAndOwnership/
                           common:registrationNumber
programme operator         .../publicationAndOwnership/common:other/epd2:referenceToPublisher,
                           else .../common:referenceToRegistrationAuthority (shortDescription)
GWP per module             LCIAResults/LCIAResult whose referenceToLCIAMethodDataSet/@refObjectId
                           is a GWP method (below); common:other/epd:amount[@epd:module]
=========================  ===================================================================

GWP method data sets (UUIDs from InDataWG/ILCD-EPD-Data-Format ``doc/identifiers/``
``EN15804+A2_EF3.0_indicators.csv``, ``EN15804+A2_EF3.1_indicators.csv`` and
``EN15804+A1_indicators.csv``): see :data:`GWP_METHODS`. An EN 15804+A1 EPD has only
"Global warming potential (GWP)": it is read as the total, and the fossil / biogenic / luluc
split is ``None`` (missing, not zero).

Modules: ``epd:module="A1-A3"`` when present; otherwise A1 + A2 + A3 (each without a
scenario), all three required. An amount with an ``epd:scenario`` is never a product-stage
figure and is ignored.

Design note, the parser: suppliers' files are untrusted, so the XML is parsed by expat with
a document type declaration refused outright (no DTD means no entity expansion, internal
"billion laughs" or external ``SYSTEM`` entities, which expat would otherwise pass to a
handler), parameter-entity parsing off, and the size, element depth and element count
bounded (:data:`MAX_BYTES`, :data:`MAX_DEPTH`, :data:`MAX_ELEMENTS`). Real ILCD+EPD files
are 50-300 kB, 8 levels deep. ``openpcf.io.ilcd`` parses trusted database exports with
``ElementTree`` and bounds the archive instead; an EPD arrives alone from a supplier.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from typing import Literal
from xml.parsers import expat

from openpcf.errors import InputError

NS_P = "http://lca.jrc.it/ILCD/Process"
NS_C = "http://lca.jrc.it/ILCD/Common"
NS_EPD = "http://www.iai.kit.edu/EPD/2013"
NS_EPD2 = "http://www.indata.network/EPD/2019"
_LANG = "{http://www.w3.org/XML/1998/namespace}lang"

#: An EPD file larger than this is refused (real ones are well under 1 MiB).
MAX_BYTES = 8 * 1024 * 1024
#: Deepest element nesting accepted (ILCD+EPD files nest about 8 deep).
MAX_DEPTH = 40
#: Most elements accepted in one file.
MAX_ELEMENTS = 200_000

Indicator = Literal["total", "fossil", "biogenic", "luluc"]

#: LCIA method data set UUID -> (GWP indicator, standard), from the InData identifier lists.
GWP_METHODS: dict[str, tuple[Indicator, str]] = {
    # EN 15804+A2, EF 3.0 (doc/identifiers/EN15804+A2_EF3.0_indicators.csv)
    "6a37f984-a4b3-458a-a20a-64418c145fa2": ("total", "EN 15804+A2"),
    "5f635281-343e-44fb-83df-1971b155e6b6": ("fossil", "EN 15804+A2"),
    "2356e1ab-0185-4db5-86e5-16de51c7485c": ("biogenic", "EN 15804+A2"),
    "4331bbdb-978a-490d-8707-eeb047f01a55": ("luluc", "EN 15804+A2"),
    # EN 15804+A2, EF 3.1 (doc/identifiers/EN15804+A2_EF3.1_indicators.csv)
    "a7ea142a-9749-11ed-a8fc-0242ac120002": ("total", "EN 15804+A2"),
    "a7ea19c0-9749-11ed-a8fc-0242ac120002": ("fossil", "EN 15804+A2"),
    "a7ea186c-9749-11ed-a8fc-0242ac120002": ("biogenic", "EN 15804+A2"),
    "a7ea1ae2-9749-11ed-a8fc-0242ac120002": ("luluc", "EN 15804+A2"),
    # EN 15804+A1 (doc/identifiers/EN15804+A1_indicators.csv): one GWP, no split
    "77e416eb-a363-4258-a04e-171d843a6460": ("total", "EN 15804+A1"),
}
#: Names (as in the identifier lists) that identify a GWP method whose UUID is not listed.
_GWP_NAMES: dict[str, Indicator] = {
    "(gwp-total)": "total",
    "(gwp-fossil)": "fossil",
    "(gwp-biogenic)": "biogenic",
    "(gwp-luluc)": "luluc",
}
SUBTYPES = ("specific", "average", "representative", "template", "generic")
#: Relative tolerance of GWP-total against fossil + biogenic + luluc (EPDs round to 3
#: significant figures, so the parts of a correct EPD can miss the total by a few 0.1 %).
SUM_TOLERANCE = 0.01

_P = "{" + NS_P + "}"
_C = "{" + NS_C + "}"
_E = "{" + NS_EPD + "}"
_E2 = "{" + NS_EPD2 + "}"


class EpdError(InputError):
    """An EPD cannot be used as supplier data; the message names the file, element and reason."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Epd:
    """What OpenPCF uses of one EPD: the A1-A3 climate change indicators and who stands behind
    them. GWP values are kg CO2e per declared unit (``declared_amount`` ``declared_unit``)."""

    uuid: str
    name: str
    declared_unit: str
    declared_amount: float
    gwp_total: float
    #: None where the EPD does not split GWP (EN 15804+A1)
    gwp_fossil: float | None
    gwp_biogenic: float | None
    gwp_luluc: float | None
    #: how the A1-A3 figures were read: "A1-A3" or "A1+A2+A3"
    modules: str
    registration: str
    reference_year: int | None
    valid_until: dt.date | None
    verifier: str
    program_operator: str
    standard: str  # "EN 15804+A2", "EN 15804+A1" or "" when neither is stated
    subtype: str  # "specific", "average", "representative", "template", "generic" or ""
    pcr: str
    geography: str
    sha256: str  # of the file's bytes
    expired: bool  # valid_until is before the date the EPD was checked against
    checked_on: dt.date


# --------------------------------------------------------------------------------------------
# hardened XML


def parse_xml(data: bytes, label: str) -> ET.Element:
    """The root element of ``data``, parsed without DTDs or entities and with bounded cost.

    Raises :class:`EpdError` (naming ``label``, and the line for a syntax error) when the bytes
    are too large, not well-formed XML, declare a DTD or entity, or nest or count past the
    bounds.
    """
    if len(data) > MAX_BYTES:
        raise EpdError(f"{label}: larger than {MAX_BYTES // (1 << 20)} MiB; not an EPD data set")
    builder = ET.TreeBuilder()
    parser = expat.ParserCreate(namespace_separator="}")
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    state = {"depth": 0, "count": 0}

    def refuse(reason: str) -> None:
        raise EpdError(f"{label}: line {parser.CurrentLineNumber}: {reason}")

    def doctype(*_: object) -> None:
        refuse(
            "the file declares a document type (<!DOCTYPE>); an ILCD+EPD data set has none, "
            "and DTDs and entities are refused (they can expand without bound or read files)"
        )

    def entity(*_: object) -> None:
        refuse("the file declares or references an entity; entities are refused")

    def start(tag: str, attrs: dict[str, str]) -> None:
        state["depth"] += 1
        state["count"] += 1
        if state["depth"] > MAX_DEPTH:
            refuse(f"elements nest deeper than {MAX_DEPTH} levels; not an EPD data set")
        if state["count"] > MAX_ELEMENTS:
            refuse(f"more than {MAX_ELEMENTS} elements; not an EPD data set")
        builder.start(_qualified(tag), {_qualified(k): v for k, v in attrs.items()})

    def end(tag: str) -> None:
        state["depth"] -= 1
        builder.end(_qualified(tag))

    parser.StartDoctypeDeclHandler = doctype
    parser.EntityDeclHandler = entity
    parser.UnparsedEntityDeclHandler = entity
    parser.ExternalEntityRefHandler = entity  # type: ignore[assignment]
    parser.SkippedEntityHandler = entity
    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = builder.data
    try:
        parser.Parse(data, True)
    except expat.ExpatError as e:
        raise EpdError(
            f"{label}: line {e.lineno}, column {e.offset}: not well-formed XML "
            f"({expat.ErrorString(e.code)}); an EPD must be an ILCD+EPD process data set"
        ) from None
    return builder.close()


def _qualified(name: str) -> str:
    """expat's ``uri}local`` as ElementTree's ``{uri}local``."""
    return "{" + name if "}" in name else name


# --------------------------------------------------------------------------------------------
# reading


def read_epd(data: bytes, *, label: str, today: dt.date, declared_unit: str) -> Epd:
    """The :class:`Epd` in the ILCD+EPD process data set ``data``.

    Parameters
    ----------
    data
        The file's bytes (bounded by the caller's read; refused past :data:`MAX_BYTES`).
    label
        The file's name, for messages.
    today
        The date the validity is checked against (``expired``).
    declared_unit
        The declared unit's unit as the EPD states it ("kg", "t", "m2", "m3", "piece", ...):
        the process data set gives only the amount, the unit is in the reference flow's data
        set, which a single EPD file does not carry.

    Raises
    ------
    EpdError
        Not XML, not a process data set, no UUID, no reference flow amount, no GWP indicator
        for A1-A3 (or only part of A1, A2, A3), a non-numeric amount, parts that do not add up
        to GWP-total.
    """
    root = parse_xml(data, label)
    if root.tag != f"{_P}processDataSet":
        raise EpdError(
            f"{label}: /{_short(root.tag)}: the root element is not an ILCD processDataSet "
            f"({NS_P}); export the EPD as ILCD+EPD XML"
        )
    r = _Reader(root, label)
    info = "processInformation/dataSetInformation"
    uid = r.text(f"{info}/common:UUID", required=True).lower()
    name = r.lang_text(f"{info}/name/baseName") or uid
    amount = r.reference_amount()
    gwp, modules, standard_by_methods = r.gwp()
    total = gwp.get("total")
    if total is None:
        raise EpdError(
            f"{label}: /processDataSet/LCIAResults: no GWP-total (or EN 15804+A1 GWP) for "
            "modules A1-A3; found "
            + (", ".join(f"GWP-{k}" for k in gwp) or "no climate change indicator")
            + "; OpenPCF uses the A1-A3 climate change indicator of an EN 15804 EPD"
        )
    parts = [gwp.get(k) for k in ("fossil", "biogenic", "luluc")]
    if any(p is not None for p in parts):
        if any(p is None for p in parts):
            missing = [k for k in ("fossil", "biogenic", "luluc") if k not in gwp]
            raise EpdError(
                f"{label}: /processDataSet/LCIAResults: GWP-total is split, but GWP-"
                f"{', GWP-'.join(missing)} for A1-A3 is missing; EN 15804+A2 declares all four"
            )
        got = sum(p for p in parts if p is not None)
        if abs(got - total) > SUM_TOLERANCE * abs(total) + 1e-9:
            raise EpdError(
                f"{label}: /processDataSet/LCIAResults: A1-A3 GWP-fossil + GWP-biogenic + "
                f"GWP-luluc = {got:g} does not add up to GWP-total {total:g} (tolerance "
                f"{SUM_TOLERANCE:.0%}); ask the supplier to check the EPD data set"
            )
    time = "processInformation/time"
    year = r.year(f"{time}/common:referenceYear")
    valid_year = r.year(f"{time}/common:dataSetValidUntil")
    valid_until = dt.date(valid_year, 12, 31) if valid_year is not None else None
    pub = "administrativeInformation/publicationAndOwnership"
    operator = r.lang_text(
        f"{pub}/common:other/epd2:referenceToPublisher/common:shortDescription"
    ) or r.lang_text(f"{pub}/common:referenceToRegistrationAuthority/common:shortDescription")
    mv = "modellingAndValidation"
    verifiers = [
        _lang_pick(ref.findall(f"{_C}shortDescription"))
        for ref in root.iterfind(
            f"{_P}{mv}/{_P}validation/{_P}review/{_C}referenceToNameOfReviewerAndInstitution"
        )
    ]
    subtype = r.text(f"{mv}/LCIMethodAndAllocation/common:other/epd:subType").lower()
    location = root.find(
        f"{_P}processInformation/{_P}geography/{_P}locationOfOperationSupplyOrProduction"
    )
    return Epd(
        uuid=uid,
        name=name,
        declared_unit=declared_unit,
        declared_amount=amount,
        gwp_total=total,
        gwp_fossil=parts[0],
        gwp_biogenic=parts[1],
        gwp_luluc=parts[2],
        modules=modules,
        registration=r.text(f"{pub}/common:registrationNumber"),
        reference_year=year,
        valid_until=valid_until,
        verifier="; ".join(v for v in verifiers if v),
        program_operator=operator,
        standard=r.standard() or standard_by_methods,
        subtype=subtype.removesuffix(" dataset").strip(),
        pcr=r.lang_text(
            f"{mv}/LCIMethodAndAllocation/referenceToLCAMethodDetails/common:shortDescription"
        ),
        geography=(location.get("location", "") if location is not None else "").strip(),
        sha256=hashlib.sha256(data).hexdigest(),
        expired=valid_until is not None and valid_until < today,
        checked_on=today,
    )


_PREFIX = {"common": _C, "epd": _E, "epd2": _E2}


def _path(path: str) -> str:
    """``a/common:b`` as ElementTree's ``{ILCD/Process}a/{ILCD/Common}b``."""
    out = []
    for step in path.split("/"):
        prefix, _, local = step.rpartition(":")
        out.append((_PREFIX[prefix] if prefix else _P) + local)
    return "/".join(out)


def _short(tag: str) -> str:
    for prefix, ns in (("", _P), *((f"{k}:", v) for k, v in _PREFIX.items())):
        if tag.startswith(ns):
            return prefix + tag[len(ns) :]
    return tag


def _lang_pick(elements: list[ET.Element]) -> str:
    texts = {el.get(_LANG, "").lower(): (el.text or "").strip() for el in elements}
    texts = {k: v for k, v in texts.items() if v}
    for lang in ("en", ""):
        if texts.get(lang):
            return texts[lang]
    return next(iter(texts.values()), "")


class _Reader:
    """Element paths below ``processDataSet`` with errors naming the file and path."""

    def __init__(self, root: ET.Element, label: str) -> None:
        self.root = root
        self.label = label

    def where(self, path: str) -> str:
        return f"{self.label}: /processDataSet/{path}"

    def text(self, path: str, *, required: bool = False) -> str:
        el = self.root.find(_path(path))
        text = (el.text or "").strip() if el is not None else ""
        if required and not text:
            raise EpdError(f"{self.where(path)}: missing; an ILCD+EPD data set has it")
        return text

    def lang_text(self, path: str) -> str:
        return _lang_pick(self.root.findall(_path(path)))

    def number(self, text: str, path: str) -> float:
        try:
            value = float(text)
        except ValueError:
            value = math.nan
        if not math.isfinite(value):
            raise EpdError(f"{self.where(path)}: {text!r} is not a number")
        return value

    def year(self, path: str) -> int | None:
        text = self.text(path)
        if not text:
            return None
        if not (text.isdigit() and len(text) == 4):
            raise EpdError(f"{self.where(path)}: {text!r} is not a 4-digit year (ILCD Year)")
        return int(text)

    def reference_amount(self) -> float:
        ref_path = "processInformation/quantitativeReference/referenceToReferenceFlow"
        ref = self.text(ref_path, required=True)
        for ex in self.root.iterfind(f"{_P}exchanges/{_P}exchange"):
            if ex.get("dataSetInternalID", "").strip() == ref:
                path = f"exchanges/exchange[@dataSetInternalID='{ref}']/meanAmount"
                text = (ex.findtext(f"{_P}meanAmount") or "").strip()
                if not text:
                    raise EpdError(f"{self.where(path)}: missing (the declared unit's amount)")
                amount = self.number(text, path)
                if amount <= 0:
                    raise EpdError(f"{self.where(path)}: {amount:g} must be > 0")
                return amount
        raise EpdError(
            f"{self.where(ref_path)}: names exchange {ref!r}, which exchanges/ does not hold"
        )

    def gwp(self) -> tuple[dict[Indicator, float], str, str]:
        """A1-A3 per GWP indicator, how the modules were read, and the standard they imply."""
        found: dict[Indicator, float] = {}
        how: set[str] = set()
        standards: set[str] = set()
        for k, result in enumerate(self.root.iterfind(f"{_P}LCIAResults/{_P}LCIAResult"), 1):
            ref = result.find(f"{_P}referenceToLCIAMethodDataSet")
            if ref is None:
                continue
            method = GWP_METHODS.get(ref.get("refObjectId", "").strip().lower())
            if method is None:
                desc = _lang_pick(ref.findall(f"{_C}shortDescription")).lower()
                named = next((v for n, v in _GWP_NAMES.items() if n in desc), None)
                if named is None:
                    continue
                method = (named, "")
            indicator, standard = method
            path = f"LCIAResults/LCIAResult[{k}]/common:other/epd:amount"
            if indicator in found:
                raise EpdError(f"{self.where(path)}: GWP-{indicator} is declared twice")
            value, modules = self._a1_a3(result, path, indicator)
            if value is None:
                continue
            found[indicator] = value
            how.add(modules)
            if standard:
                standards.add(standard)
        return found, " / ".join(sorted(how)), standards.pop() if len(standards) == 1 else ""

    def _a1_a3(self, result: ET.Element, path: str, indicator: str) -> tuple[float | None, str]:
        amounts: dict[str, float] = {}
        for el in result.iterfind(f"{_C}other/{_E}amount"):
            if el.get(f"{_E}scenario"):
                continue
            module = el.get(f"{_E}module", "").strip().upper().replace(" ", "")
            text = (el.text or "").strip()
            if module in ("A1-A3", "A1", "A2", "A3") and text:
                where = f"{path}[@epd:module='{module}']"
                if module in amounts:
                    raise EpdError(f"{self.where(where)}: declared twice")
                amounts[module] = self.number(text, where)
        if "A1-A3" in amounts:
            return amounts["A1-A3"], "A1-A3"
        split = [m for m in ("A1", "A2", "A3") if m in amounts]
        if not split:
            return None, ""
        if len(split) < 3:
            missing = sorted({"A1", "A2", "A3"} - set(split))
            raise EpdError(
                f"{self.where(path)}: GWP-{indicator} declares {', '.join(split)} but not "
                f"{', '.join(missing)}; the product stage needs A1, A2 and A3 (or A1-A3)"
            )
        return sum(amounts[m] for m in split), "A1+A2+A3"

    def standard(self) -> str:
        path = "modellingAndValidation/complianceDeclarations/compliance/"
        path += "common:referenceToComplianceSystem/common:shortDescription"
        for el in self.root.iterfind(_path(path)):
            text = (el.text or "").upper().replace(" ", "")
            if "15804+A2" in text:
                return "EN 15804+A2"
            if "15804+A1" in text:
                return "EN 15804+A1"
        return ""
