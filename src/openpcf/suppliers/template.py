"""The questionnaire template: which cell holds what, once, for the writer and the reader.

:mod:`openpcf.suppliers.workbook` writes a workbook from this layout and
:mod:`openpcf.suppliers.answers` reads the answers back from the same cells; a change of the
layout is a new :data:`~openpcf.suppliers.spec.TEMPLATE_VERSION` (an answer in an older layout
is refused, since its cells would be read as the wrong fields).

Every amount of the PCF block is per **one** declared unit of the supplier's product, in
kilograms of CO2 equivalent unless the unit cell next to it says otherwise (``t CO2e``,
``kg CO2e / t``: see :func:`openpcf.suppliers.answers.emission_factor`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from openpcf.core.units import PACT_UNITS

SHEET_INSTRUCTIONS = "说明 Instructions"
SHEET_ANSWER = "回答 Answer"
SHEET_ELECTRICITY = "电力 Electricity"
#: hidden (``veryHidden``) sheet with the request's identity
SHEET_META = "openpcf_meta"
SHEETS = (SHEET_INSTRUCTIONS, SHEET_ANSWER, SHEET_ELECTRICITY, SHEET_META)

#: cells of the metadata sheet (column B holds the values)
META_REQUEST_ID = "B1"
META_TOKEN = "B2"
META_VERSION = "B3"

Kind = Literal["text", "choice", "decimal", "percent", "date", "emission"]

#: the standards a supplier may name; "other" needs the name in the next field
STANDARDS = ("ISO 14067", "GB/T 24067", "PACT", "other")
#: PACT ``crossSectoralStandards`` values of the standards (v3.0 list, open; GB/T 24067 is
#: the Chinese adoption of ISO 14067 and is written by its own name)
STANDARD_CODES = {"ISO 14067": "ISO14067", "GB/T 24067": "GB/T 24067", "PACT": "PACT-3.0"}
BOUNDARIES = ("cradle-to-gate",)
GWP_REPORTS = ("AR6", "AR5")
YES_NO = ("yes", "no")
ASSURANCE = ("limited", "reasonable")
DECLARED_UNITS = tuple(PACT_UNITS)
ELECTRICITY_SOURCES = ("grid-province", "GEC", "I-REC", "PPA", "onsite")
#: sources whose rows must name a certificate or contract
CERTIFIED_SOURCES = ("GEC", "I-REC", "PPA")
EMISSION_UNITS = ("kg CO2e", "t CO2e", "g CO2e")
ENERGY_UNITS = ("kWh", "MWh", "GJ", "MJ")


@dataclass(frozen=True, slots=True)
class Field:
    """One answer cell of the answer sheet: value in column C, unit in column D."""

    key: str
    zh: str
    en: str
    kind: Kind
    mandatory: bool = False
    choices: tuple[str, ...] = ()
    unit: str = ""
    #: the unit cell is an input (the supplier may give another unit, converted on import)
    unit_input: bool = False
    help: str = ""


@dataclass(frozen=True, slots=True)
class Section:
    zh: str
    en: str
    fields: tuple[Field, ...]


_E = "kg CO2e"
SECTIONS: tuple[Section, ...] = (
    Section(
        "供应商",
        "Supplier",
        (
            Field("company_name", "公司名称", "Company name", "text", True),
            Field(
                "company_id",
                "公司标识 (URN, 可选)",
                "Company id (URN, optional)",
                "text",
                help="e.g. urn:uscc:91110000XXXXXXXXXX",
            ),
        ),
    ),
    Section(
        "产品",
        "Product",
        (
            Field("product_name", "产品名称", "Product name", "text", True),
            Field("product_id", "产品标识 (URN, 可选)", "Product id (URN, optional)", "text"),
            Field(
                "declared_unit",
                "声明单位",
                "Declared unit",
                "choice",
                True,
                DECLARED_UNITS,
                help="every amount below is per ONE declared unit",
            ),
            Field(
                "mass_per_declared_unit",
                "每声明单位质量",
                "Mass per declared unit",
                "decimal",
                unit="kg",
            ),
            Field(
                "geography",
                "生产地 (国家或省, ISO 3166)",
                "Production geography (ISO 3166)",
                "text",
                True,
                help="country 'CN' or province 'CN-JS'",
            ),
        ),
    ),
    Section(
        "碳足迹 (摇篮到大门)",
        "Carbon footprint (cradle-to-gate)",
        (
            Field("boundary", "系统边界", "System boundary", "choice", True, BOUNDARIES),
            Field("boundary_description", "边界说明", "Boundary description", "text"),
            Field("standard", "核算标准", "Standard", "choice", True, STANDARDS),
            Field(
                "standard_other",
                "其他标准名称",
                "Other standard (name)",
                "text",
                help="required when the standard is 'other'",
            ),
            Field(
                "gwp", "GWP 值来源 (IPCC)", "GWP values (IPCC report)", "choice", True, GWP_REPORTS
            ),
            Field("period_start", "数据期间开始", "Reference period start", "date", True),
            Field("period_end", "数据期间结束", "Reference period end (inclusive)", "date", True),
            Field(
                "pcf_total",
                "碳足迹合计 (不含生物源碳移除)",
                "PCF total (excluding biogenic CO2 removals)",
                "emission",
                True,
                unit=_E,
                unit_input=True,
                help="total of fossil + biogenic non-CO2 + land-use change",
            ),
            Field(
                "fossil",
                "化石源温室气体排放",
                "Fossil GHG emissions",
                "emission",
                True,
                unit=_E,
                unit_input=True,
            ),
            Field(
                "biogenic",
                "生物源非CO2温室气体排放 (CH4, N2O)",
                "Biogenic non-CO2 GHG emissions (CH4, N2O)",
                "emission",
                True,
                unit=_E,
                unit_input=True,
            ),
            Field(
                "removals",
                "生物源CO2移除 (正数填写)",
                "Biogenic CO2 removals (enter as a positive amount)",
                "emission",
                unit=_E,
                unit_input=True,
            ),
            Field(
                "luc",
                "土地利用变化排放",
                "Land-use change emissions",
                "emission",
                True,
                unit=_E,
                unit_input=True,
            ),
            Field(
                "process",
                "其中: 工艺过程排放",
                "Of which: process emissions",
                "emission",
                unit=_E,
                unit_input=True,
                help="part of the fossil emissions",
            ),
            Field("primary_share", "初级数据占比", "Primary data share", "percent", True, unit="%"),
            Field(
                "exempted",
                "排除排放占比 (截断)",
                "Exempted emissions (cut-off share)",
                "percent",
                unit="%",
                help="share of emissions left out under a cut-off rule; empty = 0",
            ),
        ),
    ),
    Section(
        "再生料与废料含量",
        "Recycled and scrap content",
        (
            Field(
                "recycled_pre",
                "消费前再生料/废料",
                "Pre-consumer recycled/scrap content",
                "percent",
                unit="% of mass",
            ),
            Field(
                "recycled_post",
                "消费后再生料/废料",
                "Post-consumer recycled/scrap content",
                "percent",
                unit="% of mass",
            ),
        ),
    ),
    Section(
        "核查声明",
        "Verification statement",
        (
            Field(
                "verified", "是否经第三方核查", "Verified by a third party?", "choice", True, YES_NO
            ),
            Field("verifier", "核查机构", "Verifier", "text", help="required when verified"),
            Field(
                "verification_standard",
                "核查标准",
                "Verification standard",
                "text",
                help="e.g. ISO 14064-3, ISO 14067",
            ),
            Field(
                "verification_date",
                "核查日期",
                "Verification date",
                "date",
                help="required when verified",
            ),
            Field("assurance", "保证等级", "Level of assurance", "choice", False, ASSURANCE),
        ),
    ),
)

#: first row of the answer sheet's fields (rows 1-3: title, request, column headers)
FIRST_ROW = 4


def answer_rows() -> dict[str, tuple[int, Field]]:
    """key -> (row, field) of the answer sheet; each section starts with a heading row."""
    out: dict[str, tuple[int, Field]] = {}
    row = FIRST_ROW
    for section in SECTIONS:
        row += 1  # the heading
        for f in section.fields:
            out[f.key] = (row, f)
            row += 1
    return out


def section_rows() -> list[tuple[int, Section]]:
    """(row, section) of each section heading."""
    out, row = [], FIRST_ROW
    for section in SECTIONS:
        out.append((row, section))
        row += 1 + len(section.fields)
    return out


# electricity sheet: header in row 3, answers in rows 4 .. 4 + ELECTRICITY_ROWS - 1
ELECTRICITY_HEADER_ROW = 3
ELECTRICITY_FIRST_ROW = 4
ELECTRICITY_ROWS = 40
#: (column, key, zh, en)
ELECTRICITY_COLUMNS = (
    ("A", "source", "来源类型", "Source type"),
    ("B", "region", "省份或国家 (ISO 3166)", "Province or country (ISO 3166)"),
    ("C", "amount", "电量", "Amount"),
    ("D", "unit", "单位", "Unit"),
    ("E", "certificate", "证书或合同编号", "Certificate or contract id"),
    ("F", "start", "期间开始", "Period start"),
    ("G", "end", "期间结束", "Period end (inclusive)"),
)
