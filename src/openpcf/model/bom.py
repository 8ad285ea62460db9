"""A bill of materials (CSV or xlsx) → proposed factors per line → a product model (YAML).

A BOM has one row per part with the columns ``part``, ``material``, ``mass``, ``unit``
(default ``kg``) and ``supplier``, named in English or Chinese (零件, 材料, 质量, 单位, 供应商;
see :data:`COLUMNS`). ``material`` and ``mass`` are required; a part's name defaults to its
material. :func:`read_bom` refuses a BOM with **every** problem at once, each at its sheet, row
and column: a missing column, an empty material, a mass that is not a finite number ≥ 0, a
unit that does not convert into kilograms.

Workbooks are read at a bounded cost, like the supplier questionnaire
(:mod:`openpcf.suppliers.answers`): at most :data:`MAX_BYTES`, the zip within :data:`LIMITS`
before anything is inflated, no encrypted or macro workbooks, at most :data:`MAX_ROWS` rows;
openpyxl parses the XML with defusedxml. Formulas count with the value Excel last saved.

:func:`propose` ranks the factors for each line with :func:`openpcf.factors.matching.rank`;
:func:`render_model` writes the model for the chosen ones: one process whose inputs are the
matched lines (amount and unit as in the BOM, ``supplier:`` from the BOM, a comment with the
match score and the factor's source). A line without a chosen factor is written as a comment
and listed in the model's header as unmatched: no factor is ever guessed for it.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import math
import re
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from openpcf.core.units import convert, same_dimension
from openpcf.errors import InputError, OpenPCFError
from openpcf.factors.matching import THRESHOLD, Candidate, rank
from openpcf.factors.store import FactorSet
from openpcf.files.zips import MIB, READ_ERRORS, ZipLimits, check_listing

#: Largest BOM file read (a BOM of 5,000 lines is well under 1 MB).
MAX_BYTES = 5 * MIB
#: Most data rows read from a BOM.
MAX_ROWS = 5000
#: What a BOM workbook's zip may cost (as a questionnaire workbook).
LIMITS = ZipLimits(
    members=200,
    member_bytes=20 * MIB,
    total_bytes=40 * MIB,
    ratio=200.0,
    ratio_from=MIB,
    directory_bytes=MIB,
)
#: Column → the header names that mean it (compared lower-case, spaces and ``_`` ignored).
COLUMNS: dict[str, tuple[str, ...]] = {
    "part": ("part", "partname", "component", "item", "零件", "零件名称", "部件", "零部件", "名称"),
    "material": ("material", "材料", "材质", "物料"),
    "mass": ("mass", "weight", "quantity", "amount", "质量", "重量", "数量"),
    "unit": ("unit", "units", "单位"),
    "supplier": ("supplier", "vendor", "供应商"),
}
REQUIRED = ("material", "mass")
_CFB = bytes.fromhex("D0CF11E0A1B11AE1")  # OLE compound file: encrypted xlsx or .xls


class BomError(InputError):
    """A bill of materials that cannot be read; the message lists every problem."""


@dataclass(frozen=True, slots=True, kw_only=True)
class BomLine:
    """One part of the BOM; ``row`` is its row in the sheet (the header is row 1)."""

    row: int
    part: str
    material: str
    mass: float
    unit: str
    supplier: str = ""

    @property
    def kg(self) -> float:
        return convert(self.mass, self.unit, "kg")


@dataclass(frozen=True, slots=True, kw_only=True)
class Bom:
    """The lines of a BOM file called ``name`` (sheet ``sheet`` of a workbook)."""

    name: str
    sheet: str
    lines: tuple[BomLine, ...]

    @property
    def kg(self) -> float:
        """The mass of all lines in kg."""
        return sum(line.kg for line in self.lines)


@dataclass(frozen=True, slots=True, kw_only=True)
class Proposal:
    """The ranked candidates for one line (empty: nothing reached the threshold)."""

    line: BomLine
    candidates: tuple[Candidate, ...] = field(default=())


def read_bom(data: bytes, *, name: str) -> Bom:
    """The BOM in ``data``: an xlsx workbook (a zip) or CSV text (UTF-8, or GB18030 as
    Chinese Excel saves it); ``name`` labels it in messages.

    Raises
    ------
    BomError
        Too large, not readable, or with the problems listed in the module docstring.
    """
    if len(data) > MAX_BYTES:
        raise BomError(f"{name}: {len(data):,} bytes, more than the {MAX_BYTES:,} a BOM may have")
    if data[:8] == _CFB:
        raise BomError(
            f"{name}: an encrypted workbook or an old .xls file; save it as .xlsx or .csv"
        )
    if data[:4] == b"PK\x03\x04" or name.lower().endswith(".xlsx"):
        sheet, rows = _xlsx_rows(data, name)
    else:
        sheet, rows = "", _csv_rows(data, name)
    return Bom(name=name, sheet=sheet, lines=_lines(rows, name, sheet))


def _csv_rows(data: bytes, name: str) -> list[tuple[int, list[str]]]:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:  # pragma: no cover - gb18030 decodes almost any bytes
        raise BomError(f"{name}: not UTF-8 or GB18030 text; save the BOM as CSV (UTF-8)")
    if "\x00" in text:
        raise BomError(f"{name}: binary data, not CSV text; upload a .csv or .xlsx file")
    try:
        rows = list(csv.reader(io.StringIO(text, newline="")))
    except csv.Error as e:
        raise BomError(f"{name}: not readable as CSV ({e})") from None
    return [(i, row) for i, row in enumerate(rows, start=1) if any(c.strip() for c in row)]


def _xlsx_rows(data: bytes, name: str) -> tuple[str, list[tuple[int, list[str]]]]:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            infos = [i for i in z.infolist() if not i.is_dir()]
            check_listing(Path(name), infos, LIMITS, "a BOM workbook", BomError)
            members = {i.filename for i in infos}
    except BomError:
        raise
    except READ_ERRORS as e:
        raise BomError(f"{name}: not a readable .xlsx workbook ({type(e).__name__})") from None
    if any(m.lower().endswith("vbaproject.bin") for m in members):
        raise BomError(f"{name}: a macro-enabled workbook; save it as .xlsx without macros")
    from openpyxl import load_workbook  # slow import: only when a workbook is read

    try:
        wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True, keep_links=False)
    except Exception as e:  # openpyxl raises many kinds for a broken file
        raise BomError(f"{name}: cannot be read as an .xlsx workbook ({type(e).__name__})") from e
    try:
        ws = wb.worksheets[0] if wb.worksheets else None
        if ws is None:
            raise BomError(f"{name}: the workbook has no sheet")
        rows: list[tuple[int, list[str]]] = []
        for i, values in enumerate(ws.iter_rows(values_only=True, max_col=50), start=1):
            if i > MAX_ROWS + 1:
                raise BomError(f"{name}: sheet {ws.title!r} has more than {MAX_ROWS} rows")
            cells = [_cell_text(v) for v in values]
            if any(cells):
                rows.append((i, cells))
        return str(ws.title), rows
    finally:
        wb.close()


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return str(value).strip()


def _header_key(text: str) -> str:
    return re.sub(r"[\s_（）()]", "", text.strip().lower())


def _column_letter(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _lines(rows: list[tuple[int, list[str]]], name: str, sheet: str) -> tuple[BomLine, ...]:
    where = f"{name}: sheet {sheet!r}" if sheet else name
    if not rows:
        raise BomError(f"{where}: empty; the first row names the columns {', '.join(COLUMNS)}")
    header_row, header = rows[0]
    columns: dict[str, int] = {}
    for index, cell in enumerate(header):
        key = _header_key(cell)
        for column, names in COLUMNS.items():
            if key in names and column not in columns:
                columns[column] = index
    missing = [c for c in REQUIRED if c not in columns]
    if missing:
        raise BomError(
            f"{where}, row {header_row}: no column {' or '.join(map(repr, missing))}; "
            f"name the columns in the first row: part/零件, material/材料, mass/质量, "
            "unit/单位 (default kg), supplier/供应商"
        )
    if len(rows) - 1 > MAX_ROWS:
        raise BomError(f"{where}: more than {MAX_ROWS} rows")
    problems: list[str] = []
    lines = [
        line
        for row, cells in rows[1:]
        if (line := _line(row, cells, columns, where, problems)) is not None
    ]
    if problems:
        raise BomError("the BOM has problems:\n  " + "\n  ".join(problems))
    if not lines:
        raise BomError(f"{where}: no BOM lines below the header")
    return tuple(lines)


def _line(
    row: int, cells: list[str], columns: Mapping[str, int], where: str, problems: list[str]
) -> BomLine | None:
    def cell(column: str) -> str:
        index = columns.get(column)
        return cells[index].strip() if index is not None and index < len(cells) else ""

    def problem(column: str, text: str) -> None:
        letter = _column_letter(columns[column])
        problems.append(f"{where}, row {row}, column {letter} ({column}): {text}")

    before = len(problems)
    material = cell("material")
    if not material:
        problem("material", "empty; name the material, e.g. 热轧钢卷 or aluminium ingot")
    mass_text = cell("mass").replace(",", "")
    mass = math.nan
    try:
        mass = float(mass_text)
    except ValueError:
        problem("mass", f"{mass_text!r} is not a number")
    else:
        if not math.isfinite(mass) or mass < 0:
            problem("mass", f"{mass_text} must be a finite number ≥ 0")
    unit = cell("unit") or "kg"
    if "unit" in columns and not _is_mass(unit):
        problem("unit", f"{unit!r} does not convert into kg; give the mass in kg, g or t")
    if len(problems) > before:
        return None
    return BomLine(
        row=row,
        part=cell("part") or material,
        material=material,
        mass=mass,
        unit=unit,
        supplier=cell("supplier"),
    )


def _is_mass(unit: str) -> bool:
    try:
        return same_dimension(unit, "kg")
    except OpenPCFError:
        return False


def propose(
    bom: Bom, factors: FactorSet, *, geography: str | None = "CN", limit: int = 5
) -> tuple[Proposal, ...]:
    """The ranked candidates of ``factors`` for every line (query: material, else part)."""
    out = []
    for line in bom.lines:
        found = rank(factors, line.material, unit=line.unit, geography=geography, limit=limit)
        out.append(Proposal(line=line, candidates=tuple(found)))
    return tuple(out)


@dataclass(frozen=True, slots=True, kw_only=True)
class ModelHeader:
    """What the written model says about the product."""

    product: str
    organisation: str = "OpenPCF user"
    geography: str = "CN"
    year: int = 2024


def slug(text: str) -> str:
    """A URN-safe id part: ``"Pump 3 / 泵"`` → ``"pump-3"`` (a hash of a name without Latin
    letters or digits).

    >>> slug("Pump 3 / 泵")
    'pump-3'
    >>> slug("水泵")
    'product-d969d7c054'
    """
    out = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:60]
    if out:
        return out
    return "product-" + hashlib.sha256(text.encode("utf-8")).hexdigest()[:10]


def _q(text: str) -> str:
    """A YAML double-quoted scalar (JSON's string syntax is valid YAML)."""
    return json.dumps(text, ensure_ascii=False)


def _comment(text: str) -> str:
    return " ".join(text.split())


def render_model(
    bom: Bom,
    chosen: Mapping[int, Candidate | None],
    *,
    header: ModelHeader,
    gwp_values: Mapping[str, float],
) -> str:
    """The model YAML for ``bom`` with the factor ``chosen`` for each line (by row; a line
    with ``None`` or not in ``chosen`` is written as an unmatched comment)."""
    unmatched = [line for line in bom.lines if chosen.get(line.row) is None]
    out = [
        f"# Product model written by `openpcf model from-bom` from {_comment(bom.name)}.",
        "# Each input is one BOM line; its comment gives the match score (0-1) and the",
        "# factor's source. Check every match before publishing a footprint.",
    ]
    if unmatched:
        out.append(f"# Unmatched lines (no factor scored {THRESHOLD} or more): {len(unmatched)}")
        out += [f"#   row {line.row}: {_comment(line.material)}" for line in unmatched]
    out += [
        "openpcf: 1",
        "product:",
        f"  name: {_q(header.product)}",
        f"  ids: [{_q('urn:openpcf:product:' + slug(header.product))}]",
        "  declared_unit: piece",
        "  declared_amount: 1",
        f"  mass_per_declared_unit: {_number(bom.kg)}",
        f"  geography: {_q(header.geography)}",
        f"  reference_period: {{start: {header.year}-01-01, end: {header.year}-12-31}}",
        f"  company_name: {_q(header.organisation)}",
        "boundary: cradle-to-gate",
        "reference_process: bom",
        "processes:",
        "  - id: bom",
        f"    name: {_q('Materials of ' + header.product)}",
        "    stage: raw_material_acquisition",
        f"    output: {{product: {_q(header.product)}, amount: 1, unit: piece}}",
    ]
    inputs: list[str] = []
    for line in bom.lines:
        candidate = chosen.get(line.row)
        label = f"row {line.row}: {_comment(line.part)} / {_comment(line.material)}"
        if candidate is None:
            inputs.append(f"      # unmatched {label}, {_number(line.mass)} {line.unit}")
            continue
        f = candidate.factor
        inputs.append(
            f"      # {label} -> {f.id}, score {candidate.score:.2f}, "
            f"{f.co2e(gwp_values):.4g} kg CO2e/{f.unit}; source: {_comment(f.source)[:200]}"
        )
        item = [
            f"factor: {_q(f.id)}",
            f"amount: {_number(line.mass)}",
            f"unit: {_q(line.unit)}",
            f"comment: {_q(label)}",
        ]
        if line.supplier:
            item.append(f"supplier: {_q(line.supplier[:500])}")
        inputs.append("      - {" + ", ".join(item) + "}")
    out.append("    inputs:" + ("" if any(s.lstrip().startswith("-") for s in inputs) else " []"))
    out += inputs
    return "\n".join(out) + "\n"


def _number(value: float) -> str:
    value = float(f"{float(value):.12g}")  # 2.5 + 0.8 + 0.05 = 3.3499999999999996 otherwise
    return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)


def best_choices(proposals: Sequence[Proposal]) -> dict[int, Candidate | None]:
    """Each line's first candidate (``None`` where there is none)."""
    return {p.line.row: (p.candidates[0] if p.candidates else None) for p in proposals}


def bom_from_records(records: Sequence[Mapping[str, Any]], *, name: str, sheet: str = "") -> Bom:
    """A BOM rebuilt from records (``row`` plus the :data:`COLUMNS` values as text), checked
    like a file's rows: a web form sends back the lines it showed, and they are not trusted.

    Raises
    ------
    BomError
        Not a list of records, too many, or a record with the problems of a file's row.
    """
    if not isinstance(records, Sequence) or not records or len(records) > MAX_ROWS:
        raise BomError(f"{name}: the BOM lines were not sent back; upload the BOM again")
    columns = {column: i for i, column in enumerate(COLUMNS)}
    where = f"{name}: sheet {sheet!r}" if sheet else name
    problems: list[str] = []
    lines: list[BomLine] = []
    for record in records:
        row = record.get("row") if isinstance(record, Mapping) else None
        if not isinstance(row, int) or isinstance(row, bool) or not 1 < row <= 10 * MAX_ROWS:
            raise BomError(f"{name}: the BOM lines were not sent back; upload the BOM again")
        cells = [str(record.get(column) or "") for column in COLUMNS]
        line = _line(row, cells, columns, where, problems)
        if line is not None:
            lines.append(line)
    if problems:
        raise BomError("the BOM has problems:\n  " + "\n  ".join(problems))
    return Bom(name=name, sheet=sheet, lines=tuple(lines))


def bom_records(bom: Bom) -> list[dict[str, Any]]:
    """The lines of ``bom`` as records for :func:`bom_from_records`."""
    return [
        {
            "row": line.row,
            "part": line.part,
            "material": line.material,
            "mass": _number(line.mass),
            "unit": line.unit,
            "supplier": line.supplier,
        }
        for line in bom.lines
    ]
