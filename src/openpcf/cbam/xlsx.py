"""The communication written into the Commission's CBAM communication template (v2.1.1).

Importers' tools ingest the Commission's "Communication template for installations": they
open it (often with ``openpyxl.load_workbook(path, data_only=True)``) and read fixed cells of
sheet ``Summary_Communication`` and of the installation inputs of ``A_InstData``. OpenPCF
therefore fills a copy of that workbook, shipped unchanged in ``openpcf/cbam/template`` (see
its README for provenance and reuse terms), with openpyxl:

- **where**: :data:`TEMPLATE_MAP` names, for every field of the communication
  (:func:`openpcf.cbam.communication.build_communication`), the sheet and cell it goes to and
  the template's label for that cell. The template defines no names for these cells (its 104
  defined names point at parameter lists and helper ranges), so the map addresses cells.
- **check first**: before writing, each target's label cell must hold what v2.1.1 holds
  there (:func:`check_template`), so a workbook of another layout or version is refused with
  :class:`~openpcf.cbam.errors.TemplateError` instead of being filled in the wrong places.
- **values**: ``Summary_Communication`` is, in the template, formulas over the input sheets.
  OpenPCF computes the values itself and writes them as values into those cells, so a reader
  that takes cell values gets them without Excel recalculating. The installation and period
  also go to their input cells in ``A_InstData``. Nothing else changes: no sheet is added,
  removed or rebuilt; protection, data validations, defined names, number formats and the
  other formulas stay (openpyxl drops formula results it cannot compute, and the workbook
  asks Excel to recalculate on opening; it also drops the x14 display extensions of some
  data bars in Summary_Processes and F_Tools, which it cannot write).
- **rounding**: the template asks for none. Its instructions (sheet
  ``b_Guidelines&Conditions``) contain no rounding rule, none of its formulas rounds, and the
  Commission's own filled examples hold unrounded values (SEE 0.7852147410358565). It shows
  values through each cell's number format (SEE ``0.000``, emissions ``#,##0``, share
  ``0%``), which OpenPCF keeps; values are written to 12 significant digits. The instructions
  do ask that a zero be entered as 0 rather than left empty (item 7): zeros are written.
- **names whole**: CN names are the template's own full texts (Parameters_CNCodes column H,
  up to 490 characters); product names and texts are written in full.
"""

from __future__ import annotations

import re
import warnings
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from openpcf.cbam.cn import format_cn
from openpcf.cbam.errors import CbamError, TemplateError

if TYPE_CHECKING:
    from openpyxl import Workbook

TEMPLATE_FILE = "CBAM Communication template for installations_en_20241213.xlsx"
TEMPLATE_VERSION = "2.1.1"
SC = "Summary_Communication"
INST = "A_InstData"

#: Rows the template has for aggregated goods / production processes (12-21) and products.
GOODS_ROWS = range(12, 22)
PROCESS_ROWS = range(12, 22)
PRODUCT_ROWS = range(26, 126)
_MAX_ROUTES = 6

Value = Any


@dataclass(frozen=True, slots=True)
class Target:
    """One field of the communication and the template cell it is written to.

    ``key`` is the field's path in the JSON (``products[].see_direct``: that field of each
    product row); ``cell`` is the cell, or for a table the cell of its first row (the column
    repeats down the rows); ``label_cell`` holds, in v2.1.1, ``label`` (the English text it
    shows, or for the input sheet the formula that shows it) and is checked before writing.
    """

    key: str
    sheet: str
    cell: str
    label_cell: str
    label: str
    note: str = ""


_T = Target
#: Every value OpenPCF writes, and where. ``docs/cbam.md`` ("The xlsx") mirrors this table.
TEMPLATE_MAP: tuple[Target, ...] = (
    # -- Summary_Communication, section 1: installation details (column G) --
    _T("installation.name", SC, "G12", "D12", "=Translations!$C$74"),
    _T("installation.street", SC, "G13", "D13", "=Translations!$C$75"),
    _T("installation.economic_activity", SC, "G14", "D14", "=Translations!$C$76"),
    _T(
        "installation.city",
        SC,
        "G15",
        "D15",
        "=Translations!$C$80",
        "the template labels G15 'Country:' but fills it from A_InstData!I25 (City)",
    ),
    _T("installation.country", SC, "G16", "D16", "=Translations!$C$80", "ISO 3166 code"),
    _T("installation.unlocode", SC, "G17", "D17", "=Translations!$C$81"),
    _T("installation.latitude", SC, "G18", "D18", "=Translations!$C$82", "decimal degrees, text"),
    _T("installation.longitude", SC, "G19", "D19", "=Translations!$C$83", "decimal degrees, text"),
    _T("installation.reporting_period_start", SC, "G20", "D20", "=Translations!$C$548", "date"),
    _T("installation.reporting_period_end", SC, "G21", "D21", "=Translations!$C$549", "date"),
    # -- the same facts in the template's own input cells (sheet A, sections 1 and 2) --
    _T("installation.reporting_period_start", INST, "I9", "H9", "=Translations!$B$68", "date"),
    _T("installation.reporting_period_end", INST, "L9", "K9", "=Translations!$B$69", "date"),
    _T("installation.name", INST, "I20", "E20", "=Translations!$B$74"),
    _T("installation.street", INST, "I21", "E21", "=Translations!$B$75"),
    _T("installation.economic_activity", INST, "I22", "E22", "=Translations!$B$76"),
    _T("installation.postcode", INST, "I23", "E23", "=Translations!$B$77"),
    _T("installation.city", INST, "I25", "E25", "=Translations!$B$79"),
    _T(
        "installation.country",
        INST,
        "I26",
        "E26",
        "=Translations!$B$80",
        "the country's name from the template's list c_CodeLists!G (its drop-down)",
    ),
    _T("installation.unlocode", INST, "I27", "E27", "=Translations!$B$81"),
    _T("installation.latitude", INST, "I28", "E28", "=Translations!$B$82", "text"),
    _T("installation.longitude", INST, "I29", "E29", "=Translations!$B$83", "text"),
    # -- section 2 (a): aggregated goods and their production routes (rows 12-21) --
    _T("production_processes_and_routes[].id", SC, "H12", "H11", "(a) ", "G1, G2, ..."),
    _T(
        "production_processes_and_routes[].aggregated_good",
        SC,
        "I12",
        "I11",
        "=Translations!$C$551",
    ),
    *(
        _T(
            f"production_processes_and_routes[].routes[{i}]",
            SC,
            f"{col}12",
            f"{col}11",
            f"=Translations!$C${109 + i}",
        )
        for i, col in enumerate("JKLMNO")
    ),
    # -- section 2 (b): production processes (rows 12-21) --
    _T("processes[].ref", SC, "Q12", "Q11", "(b) ", "P1, P2, ..."),
    _T("processes[].id", SC, "R12", "R11", "=Translations!$C$120"),
    _T("processes[].aggregated_good", SC, "S12", "S11", "=Translations!$C$107"),
    # -- section 3: emissions (t CO2e) and data quality --
    _T("emissions.calculation_based_excl_pfc", SC, "AA13", "AA11", "=Translations!$C$1853"),
    _T("emissions.pfc", SC, "AC13", "AC11", "=Translations!$C$236"),
    _T("emissions.measurement_based", SC, "AE13", "AE11", "=Translations!$C$1854"),
    _T("emissions.other", SC, "AG13", "AG11", "=Translations!$C$638"),
    _T("emissions.direct", SC, "AI15", "AA15", "=Translations!$C$624"),
    _T("emissions.indirect", SC, "AI16", "AA16", "=Translations!$C$625"),
    _T("emissions.total", SC, "AI17", "AA17", "=Translations!$C$626"),
    _T("emissions.data_quality", SC, "AD19", "AA19", "=Translations!$C$1856"),
    _T("emissions.default_values_justification", SC, "AD20", "AA20", "=Translations!$C$1858"),
    # -- section 4: further information --
    _T(
        "further.carbon_price_instrument",
        SC,
        "AM12",
        "AL12",
        "=Translations!$C$2112",
        "the products' instruments, '; '-separated",
    ),
    _T(
        "further.additional_information",
        SC,
        "AM13",
        "AL13",
        "=Translations!$C$2114",
        "operator, methodology, GWP set, software, input file SHA-256",
    ),
    # -- section 5: products (rows 26-125) --
    _T("products[].production_process", SC, "D26", "D25", "=Translations!$C$472"),
    _T("products[].aggregated_good", SC, "E26", "E25", "=Translations!$C$603"),
    _T("products[].cn", SC, "F26", "F25", "=Translations!$C$474", "8 digits, text"),
    _T("products[].cn_name", SC, "G26", "G25", "=Translations!$C$604", "whole template text"),
    _T("products[].product_name", SC, "H26", "H25", "=Translations!$C$605"),
    _T("products[].see_direct", SC, "I26", "I25", "=Translations!$C$570"),
    _T("products[].see_indirect", SC, "J26", "J25", "=Translations!$C$574"),
    _T("products[].see_total", SC, "K26", "K25", "=Translations!$C$344"),
    _T("products[].unit", SC, "L26", "L25", "=Translations!$C$221", "tCO2e/t or tCO2e/MWh"),
    _T("products[].default_share", SC, "M26", "M25", "=Translations!$C$1868"),
    _T("products[].electricity_ef_source", SC, "N26", "N25", "=Translations!$C$606"),
    _T("products[].embedded_electricity_mwh_per_unit", SC, "O26", "O25", "=Translations!$C$607"),
    _T(
        "products[].electricity_ef_t_co2_per_mwh",
        SC,
        "P26",
        "P25",
        "=Translations!$C$2125",
        "OpenPCF's factor, replacing the template's J/O: they differ when a default-valued "
        "precursor has indirect emissions but no known electricity",
    ),
    _T("products[].carbon_price_instrument", SC, "AM26", "AM25", "=Translations!$C$530"),
    _T("products[].carbon_price_share_covered", SC, "AN26", "AN25", "=Translations!$C$532"),
    _T("products[].carbon_price_emissions_covered", SC, "AO26", "AO25", "=Translations!$C$608"),
    _T("products[].unit", SC, "AP26", "AO25", "=Translations!$C$608", "unit of AO"),
    _T("products[].carbon_price_currency", SC, "AQ26", "AQ25", "=Translations!$C$534"),
    _T("products[].carbon_price_due_per_unit", SC, "AR26", "AR25", "=Translations!$C$347"),
    _T(
        "products[].carbon_price_currency",
        SC,
        "AS26",
        "AR25",
        "=Translations!$C$347",
        "unit of AR: currency/t or currency/MWh",
    ),
    _T("products[].carbon_price_rebate_per_unit", SC, "AX26", "AX25", "=Translations!$C$1872"),
    _T(
        "products[].carbon_price_currency",
        SC,
        "AY26",
        "AX25",
        "=Translations!$C$1872",
        "unit of AX",
    ),
    _T("products[].carbon_price_effective_per_unit", SC, "AZ26", "AZ25", "=Translations!$C$353"),
    _T(
        "products[].carbon_price_currency", SC, "BA26", "AZ25", "=Translations!$C$353", "unit of AZ"
    ),
)

#: Qualifying parameters of a product (installation file ``qualifying_parameters``) and
#: their column in the product rows. Keys ending ``_percent`` are given in percent and written
#: as the fraction the template's ``0.00%`` cells hold (0.18 -> 0.0018, shown 0.18%).
QUALIFYING_COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("main_reducing_agent", "Q", "=Translations!$C$483"),
    ("steel_mill_id", "R", "=Translations!$C$485"),
    ("mn_percent", "S", "=Translations!$C$487"),
    ("cr_percent", "T", "=Translations!$C$489"),
    ("ni_percent", "U", "=Translations!$C$491"),
    ("other_alloys_percent", "V", "=Translations!$C$493"),
    ("carbon_percent", "W", "=Translations!$C$495"),
    ("scrap_t_per_t_steel", "X", "=Translations!$C$497"),
    ("other_materials_percent", "Y", "=Translations!$C$499"),
    ("pre_consumer_scrap_percent", "Z", "=Translations!$C$503"),
    ("scrap_t_per_t_aluminium", "AA", "=Translations!$C$501"),
    ("non_aluminium_elements_percent", "AB", "=Translations!$C$505"),
    ("clinker_factor", "AC", "=Translations!$C$507"),
    ("calcined", "AD", "=Translations!$C$509"),
    ("concentration_percent", "AE", "=Translations!$C$511"),
    ("nitric_acid_percent", "AF", "=Translations!$C$513"),
    ("urea_percent", "AG", "=Translations!$C$515"),
    ("n_percent", "AH", "=Translations!$C$517"),
    ("n_ammonium_percent", "AI", "=Translations!$C$519"),
    ("n_nitrate_percent", "AJ", "=Translations!$C$521"),
    ("n_urea_percent", "AK", "=Translations!$C$523"),
    ("n_other_percent", "AL", "=Translations!$C$525"),
)
QUALIFYING_KEYS = frozenset(k for k, _, _ in QUALIFYING_COLUMNS)

#: Cells that identify v2.1.1 besides the labels of :data:`TEMPLATE_MAP`.
SIGNATURE: tuple[tuple[str, str, object], ...] = (
    ("0_Versions", "E38", TEMPLATE_VERSION),
    ("0_Versions", "F38", datetime(2024, 12, 13)),
    (
        "Translations",
        "C1917",
        "This is the published version 2.1.1 of the CBAM template, version of 13 December 2024.",
    ),
    (SC, "C26", 1),
    (SC, "C125", 100),
    (SC, "D23", "=Translations!$C$465"),
)


def template_path() -> Path:
    """The shipped template (read it, never write it)."""
    return Path(str(resources.files("openpcf.cbam").joinpath(f"template/{TEMPLATE_FILE}")))


def _load(path: Path, *, data_only: bool = False) -> Workbook:
    from openpyxl import load_workbook  # type: ignore[import-untyped,unused-ignore]

    try:
        with warnings.catch_warnings():
            # the template's x14 extensions (data bars, ...) are reported as unsupported
            warnings.filterwarnings("ignore", category=UserWarning, module="openpyxl")
            return load_workbook(path, data_only=data_only)
    except FileNotFoundError:
        raise TemplateError(f"{path}: no such file") from None
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as e:
        raise TemplateError(
            f"{path}: cannot open it as an xlsx workbook ({type(e).__name__}); give the "
            f"Commission's communication template for installations v{TEMPLATE_VERSION}."
        ) from None
    except Exception as e:  # openpyxl's InvalidFileException and parser errors
        raise TemplateError(f"{path}: not an xlsx workbook openpyxl can read ({e}).") from None


def check_template(wb: Workbook, path: Path | str = "template") -> None:
    """Refuse a workbook that is not the v2.1.1 layout :data:`TEMPLATE_MAP` expects.

    Raises
    ------
    TemplateError
        Naming the missing sheets, or the first cells that differ from v2.1.1.
    """
    missing = [
        s
        for s in (SC, INST, "Translations", "Parameters_CNCodes", "0_Versions", "c_CodeLists")
        if s not in wb.sheetnames
    ]
    if missing:
        raise TemplateError(
            f"{path}: no sheet {', '.join(repr(s) for s in missing)}: this is not the "
            f"Commission's communication template for installations (v{TEMPLATE_VERSION})."
        )
    expected = [(s, c, v) for s, c, v in SIGNATURE]
    expected += [(t.sheet, t.label_cell, t.label) for t in TEMPLATE_MAP]
    expected += [(SC, f"{col}25", label) for _, col, label in QUALIFYING_COLUMNS]
    wrong = [
        f"{s}!{c} holds {wb[s][c].value!r}, v{TEMPLATE_VERSION} has {v!r}"
        for s, c, v in dict.fromkeys(expected)
        if wb[s][c].value != v
    ]
    if wrong:
        more = f" (and {len(wrong) - 3} more)" if len(wrong) > 3 else ""
        raise TemplateError(
            f"{path}: not the layout of the communication template v{TEMPLATE_VERSION} "
            f"(13 December 2024) that OpenPCF fills: {'; '.join(wrong[:3])}{more}."
        )


# -- what each field becomes in its cell --------------------------------------------------


def _text(v: Value) -> Value:
    return None if v is None or v == "" else str(v)


def _number(v: Value) -> Value:
    return None if v is None else float(v)


def _date(v: Value) -> Value:
    return None if v is None else date.fromisoformat(str(v))


def _coordinate(v: Value) -> Value:
    return None if v is None else f"{float(v):g}"


def _template_unit(unit: str) -> str:
    """``t CO2e/t`` -> ``tCO2e/t``, the template's spelling."""
    return unit.replace("t CO2e", "tCO2e")


def _good_unit(product: dict[str, Any]) -> str:
    return str(product["unit"]).rsplit("/", 1)[-1]


def _per_unit(product: dict[str, Any]) -> str | None:
    currency = product.get("carbon_price_currency")
    return f"{currency}/{_good_unit(product)}" if currency else None


_PRODUCT_VALUE: dict[str, Callable[[dict[str, Any]], Value]] = {
    "D": lambda p: _text(p["production_process"]),
    "E": lambda p: _text(p["aggregated_good"]),
    "F": lambda p: str(p["cn"]).replace(" ", ""),
    "G": lambda p: _text(p["cn_name"]),
    "H": lambda p: _text(p["product_name"]),
    "I": lambda p: _number(p["see_direct"]),
    "J": lambda p: _number(p["see_indirect"]),
    "K": lambda p: _number(p["see_total"]),
    "L": lambda p: _template_unit(p["unit"]),
    "M": lambda p: _number(p["default_share"]),
    "N": lambda p: _text(p["electricity_ef_source"]),
    "O": lambda p: _number(p["embedded_electricity_mwh_per_unit"]),
    "P": lambda p: _number(p["electricity_ef_t_co2_per_mwh"]),
    "AM": lambda p: _text(p["carbon_price_instrument"]),
    "AN": lambda p: _number(p["carbon_price_share_covered"]),
    "AO": lambda p: _number(p["carbon_price_emissions_covered"]),
    "AP": lambda p: _template_unit(p["unit"]) if p["carbon_price_instrument"] else None,
    "AQ": lambda p: _text(p["carbon_price_currency"]),
    "AR": lambda p: _number(p["carbon_price_due_per_unit"]),
    "AS": _per_unit,
    "AX": lambda p: _number(p["carbon_price_rebate_per_unit"]),
    "AY": _per_unit,
    "AZ": lambda p: _number(p["carbon_price_effective_per_unit"]),
    "BA": _per_unit,
}


def _column(cell: str) -> str:
    return re.sub(r"\d+", "", cell)


def _qualifying(product: dict[str, Any]) -> dict[str, Value]:
    """Column -> value of the product's qualifying parameters (``k=v; ...`` in the JSON)."""
    text = product.get("qualifying_parameters") or ""
    columns = {k: col for k, col, _ in QUALIFYING_COLUMNS}
    out: dict[str, Value] = {}
    for item in filter(None, (x.strip() for x in text.split(";"))):
        key, _, raw = item.partition("=")
        if key not in columns:
            raise CbamError(
                f"product {product['product_name']!r}: qualifying parameter {key!r} has no "
                f"column in the communication template; use one of: "
                f"{', '.join(k for k, _, _ in QUALIFYING_COLUMNS)}."
            )
        try:
            value: Value = float(raw)
        except ValueError:
            value = raw
        if key.endswith("_percent") and isinstance(value, float):
            value = value / 100
        out[columns[key]] = value
    return out


def _single_values(communication: dict[str, Any]) -> dict[str, Value]:
    """JSON path -> cell value of the fields outside the tables."""
    inst, em, prov = (communication[k] for k in ("installation", "emissions", "provenance"))
    instruments = list(
        dict.fromkeys(
            p["carbon_price_instrument"]
            for p in communication["products"]
            if p["carbon_price_instrument"]
        )
    )
    info = [
        f"Operator: {inst['operator'].rstrip('.')}." if inst.get("operator") else "",
        f"Calculated with {prov['software']} ({prov['methodology']}); GWP: {prov['gwp_source']}.",
        f"Installation file SHA-256: {prov['input_sha256']}." if prov.get("input_sha256") else "",
    ]
    values: dict[str, Value] = {
        f"installation.{k}": _text(inst.get(k))
        for k in ("name", "street", "economic_activity", "postcode", "city", "country", "unlocode")
    }
    values |= {
        "installation.latitude": _coordinate(inst.get("latitude")),
        "installation.longitude": _coordinate(inst.get("longitude")),
        "installation.reporting_period_start": _date(inst["reporting_period_start"]),
        "installation.reporting_period_end": _date(inst["reporting_period_end"]),
        "further.carbon_price_instrument": "; ".join(instruments) or None,
        "further.additional_information": " ".join(x for x in info if x),
    }
    for k in (
        "calculation_based_excl_pfc",
        "pfc",
        "measurement_based",
        "other",
        "direct",
        "indirect",
        "total",
    ):
        values[f"emissions.{k}"] = _number(em[k])
    for k in ("data_quality", "default_values_justification"):
        values[f"emissions.{k}"] = _text(em[k])
    return values


def _country_names(wb: Workbook) -> dict[str, str]:
    """ISO code -> the English name the template's country list shows (c_CodeLists F/G; G
    points at the Translations sheet, whose column C is English)."""
    translations = wb["Translations"]
    out = {}
    for code, name in wb["c_CodeLists"].iter_rows(
        min_row=11, max_row=277, min_col=6, max_col=7, values_only=True
    ):
        ref = re.fullmatch(r"=Translations!\$B\$(\d+)", str(name))
        text = translations[f"C{ref.group(1)}"].value if ref else name
        if code and text:
            out[str(code)] = str(text)
    return out


def _cells(communication: dict[str, Any], wb: Workbook) -> Iterator[tuple[str, str, Value]]:
    """(sheet, cell, value) of everything OpenPCF writes, in :data:`TEMPLATE_MAP` order."""
    single = _single_values(communication)
    goods = communication["production_processes_and_routes"]
    processes = communication["processes"]
    products = communication["products"]
    for name, rows, items in (
        ("aggregated goods", GOODS_ROWS, goods),
        ("production processes", PROCESS_ROWS, processes),
        ("products", PRODUCT_ROWS, products),
    ):
        if len(items) > len(rows):
            raise CbamError(
                f"the communication has {len(items)} {name}; the template has rows for "
                f"{len(rows)}. Split the installation file into several communications."
            )
    countries = _country_names(wb)
    for t in TEMPLATE_MAP:
        if "[]" in t.key:
            continue
        value = single[t.key]
        if t.sheet == INST and t.key == "installation.country":
            value = countries.get(str(value))
        yield t.sheet, t.cell, value
    for n, (row, good) in enumerate(zip(GOODS_ROWS, goods, strict=False), start=1):
        routes = good["routes"][:_MAX_ROUTES]
        yield SC, f"H{row}", f"G{n}"
        yield SC, f"I{row}", good["aggregated_good"]
        for col, route in zip("JKLMNO", routes, strict=False):
            yield SC, f"{col}{row}", route
    for n, (row, proc) in enumerate(zip(PROCESS_ROWS, processes, strict=False), start=1):
        yield SC, f"Q{row}", f"P{n}"
        yield SC, f"R{row}", proc["id"]
        yield SC, f"S{row}", proc["aggregated_good"]
    for row, product in zip(PRODUCT_ROWS, products, strict=False):
        for col, value_of in _PRODUCT_VALUE.items():
            yield SC, f"{col}{row}", value_of(product)
        for col, value in _qualifying(product).items():
            yield SC, f"{col}{row}", value


def write_xlsx(communication: dict[str, Any], path: Path, *, template: Path | None = None) -> None:
    """Fill a copy of the communication template with ``communication`` and save it as
    ``path``; ``template`` defaults to the shipped v2.1.1 file.

    Raises
    ------
    TemplateError
        ``template`` cannot be opened or is not the v2.1.1 layout.
    CbamError
        More goods, processes or products than the template has rows for, or a qualifying
        parameter without a column.
    """
    for product in communication["products"]:
        _qualifying(product)  # refuse a parameter without a column before the slow load
    source = template or template_path()
    wb = _load(source)
    check_template(wb, source)
    for sheet, cell, value in _cells(communication, wb):
        # None leaves the template's cell as it is (its formula shows "" until data exist)
        if value is None:
            continue
        target = wb[sheet][cell]
        target.value = value
        if isinstance(value, str) and value.startswith("="):
            target.data_type = "s"  # a text, never a formula (a name may start with "=")
    wb.calculation.fullCalcOnLoad = True  # Excel recomputes the labels and other formulas
    try:
        wb.save(path)
    except OSError as e:
        raise CbamError(f"{path}: cannot write: {e.strerror or e}") from None


def _literal(v: Value) -> Value:
    """A cell's value as a reader sees it: a formula without a stored result is empty."""
    if isinstance(v, str) and v.startswith("="):
        return None
    if isinstance(v, datetime):
        return v.date().isoformat()
    return v


def read_xlsx(path: Path) -> dict[str, Any]:
    """Read a filled template back (the values a tool ingesting it gets).

    Returns ``{"installation", "production_processes_and_routes", "processes",
    "emissions", "further", "products"}`` keyed like the JSON communication, with values as
    the cells hold them except that dates are ISO strings, coordinates floats and CN codes
    spaced (``7208 39 00``); product rows also carry ``qualifying`` (column -> value).

    Raises
    ------
    TemplateError
        The file is not the v2.1.1 template.
    """
    wb = _load(path)
    check_template(wb, path)
    sc = wb[SC]
    out: dict[str, Any] = {"installation": {}, "emissions": {}, "further": {}}
    for t in TEMPLATE_MAP:
        if "[]" in t.key or t.sheet != SC:
            continue
        section, field = t.key.split(".")
        out[section][field] = _literal(sc[t.cell].value)
    inst = out["installation"]
    inst["postcode"] = _literal(wb[INST]["I23"].value)
    for k in ("latitude", "longitude"):
        inst[k] = None if inst[k] is None else float(inst[k])
    out["production_processes_and_routes"] = [
        {
            "aggregated_good": sc[f"I{row}"].value,
            "routes": [v for c in "JKLMNO" if (v := _literal(sc[f"{c}{row}"].value))],
        }
        for row in GOODS_ROWS
        if _literal(sc[f"I{row}"].value)
    ]
    out["processes"] = [
        {"id": sc[f"R{row}"].value, "aggregated_good": sc[f"S{row}"].value}
        for row in PROCESS_ROWS
        if _literal(sc[f"R{row}"].value)
    ]
    keys = {
        _column(t.cell): t.key.split(".")[1]
        for t in TEMPLATE_MAP
        if t.key.startswith("products[]") and _column(t.label_cell) == _column(t.cell)
    }
    products = []
    for row in PRODUCT_ROWS:
        if not _literal(sc[f"D{row}"].value):
            break
        item = {key: _literal(sc[f"{col}{row}"].value) for col, key in keys.items()}
        item["cn"] = format_cn(str(item["cn"]))
        item["qualifying"] = {
            col: v
            for _, col, _ in QUALIFYING_COLUMNS
            if (v := _literal(sc[f"{col}{row}"].value)) is not None
        }
        products.append(item)
    out["products"] = products
    return out
