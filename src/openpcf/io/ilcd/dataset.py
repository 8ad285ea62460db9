"""Reading one ILCD data set: its XML, namespaces, multi-language names, numbers and UUIDs."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from openpcf.io.archive import Archive
from openpcf.io.inventory import Problem

#: The XML namespaces of the ILCD formats, as ElementTree spells them in tags.
NS_COMMON = "{http://lca.jrc.it/ILCD/Common}"
NS_PROCESS = "{http://lca.jrc.it/ILCD/Process}"
NS_FLOW = "{http://lca.jrc.it/ILCD/Flow}"
NS_FLOW_PROPERTY = "{http://lca.jrc.it/ILCD/FlowProperty}"
NS_UNIT_GROUP = "{http://lca.jrc.it/ILCD/UnitGroup}"
_LANG = "{http://www.w3.org/XML/1998/namespace}lang"

_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")

#: The parts of a process or flow ``name``, in the order openLCA joins them.
NAME_PARTS = ("baseName", "treatmentStandardsRoutes", "mixAndLocationTypes")


def is_uuid(text: str) -> bool:
    """Whether ``text`` is a UUID in the 8-4-4-4-12 hex form (either case)."""
    return bool(_UUID.match(text))


def dataset_uuid(info: ET.Element, where: str, problems: list[Problem], label: str) -> str | None:
    """The lower-case ``UUID`` of a ``dataSetInformation``; None (and a problem) if it is none."""
    uid = (info.findtext(f"{NS_COMMON}UUID") or "").strip().lower()
    if not is_uuid(uid):
        problems.append(Problem(kind="malformed", where=where, detail=f"{label} {uid!r}"))
        return None
    return uid


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


def names(name_el: ET.Element | None, ns: str, parts: tuple[str, ...]) -> tuple[str, str]:
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


def parse_xml(
    archive: Archive, name: str, where: str, problems: list[Problem]
) -> ET.Element | None:
    """The root element of archive member ``name``, or None with a problem if it is not XML."""
    try:
        return ET.fromstring(archive.read(name))
    except (ET.ParseError, OSError) as exc:
        problems.append(Problem(kind="malformed", where=where, detail=f"not readable XML: {exc}"))
        return None


def to_float(text: str | None) -> float | None:
    """The finite number ``text`` spells, else None."""
    if text is None:
        return None
    try:
        value = float(text.strip())
    except ValueError:
        return None
    return value if value == value and abs(value) != float("inf") else None
