"""Write (and read back) the communication as an xlsx laid out like Summary_Communication.

One sheet, ``Summary_Communication``, in the template's five sections: label in column A and
value in column B for sections 1, 3 and 4; a table for section 2 (goods and up to six routes)
and for section 5 (one row per product, headers from :data:`PRODUCT_COLUMNS`). Numbers are
written unrounded and shown with a number format, so a re-read equals the JSON output.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from openpcf.cbam.communication import EMISSION_FIELDS, INSTALLATION_FIELDS, PRODUCT_COLUMNS
from openpcf.errors import InputError

SHEET = "Summary_Communication"
SECTIONS = (
    "1. Installation details",
    "2. Production processes and routes",
    "3. Emissions by monitoring methodology and data quality",
    "4. Further information",
    "5. Summary of products",
)
_MAX_ROUTES = 6
_NUMBER_FORMAT = "0.000000"


def write_xlsx(communication: dict[str, Any], path: Path) -> None:
    """Write ``communication`` (from :func:`build_communication`) to ``path``."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill  # type: ignore[import-untyped,unused-ignore]

    wb = Workbook()
    ws = wb.active
    assert ws is not None  # a new workbook always has one sheet
    ws.title = SHEET
    bold, head_fill = Font(bold=True), PatternFill("solid", fgColor="DDEBF7")
    ws.append(["CBAM communication of embedded emissions (operator to EU importer)"])
    ws["A1"].font = Font(bold=True, size=14)
    ws.append([communication["template"]])
    row = 3

    def section(title: str) -> None:
        nonlocal row
        row += 1
        ws.cell(row=row, column=1, value=title).font = bold
        row += 1

    def pairs(fields: tuple[tuple[str, str], ...], values: dict[str, Any]) -> None:
        nonlocal row
        for label, key in fields:
            ws.cell(row=row, column=1, value=label)
            cell = ws.cell(row=row, column=2, value=values.get(key))
            if isinstance(values.get(key), float):
                cell.number_format = _NUMBER_FORMAT
            row += 1

    def header(titles: list[str]) -> None:
        nonlocal row
        for col, title in enumerate(titles, start=1):
            cell = ws.cell(row=row, column=col, value=title)
            cell.font, cell.fill = bold, head_fill
            cell.alignment = Alignment(wrap_text=True, vertical="top")
        row += 1

    section(SECTIONS[0])
    pairs(INSTALLATION_FIELDS, communication["installation"])
    section(SECTIONS[1])
    header(["Aggregated goods category"] + [f"Route {i}" for i in range(1, _MAX_ROUTES + 1)])
    for entry in communication["production_processes_and_routes"]:
        values = [entry["aggregated_good"], *entry["routes"][:_MAX_ROUTES]]
        for col, value in enumerate(values, start=1):
            ws.cell(row=row, column=col, value=value)
        row += 1
    section(SECTIONS[2])
    pairs(EMISSION_FIELDS, communication["emissions"])
    section(SECTIONS[3])
    provenance = communication["provenance"]
    info = (("Methodology", "methodology"), ("GWP set", "gwp_source"), ("Software", "software"))
    pairs((*info, ("Input file SHA-256", "input_sha256")), provenance)
    section(SECTIONS[4])
    header([title for title, _ in PRODUCT_COLUMNS])
    for product in communication["products"]:
        for col, (_, key) in enumerate(PRODUCT_COLUMNS, start=1):
            cell = ws.cell(row=row, column=col, value=product[key])
            if isinstance(product[key], float):
                cell.number_format = _NUMBER_FORMAT
        row += 1
    ws.column_dimensions["A"].width = 48
    ws.column_dimensions["B"].width = 30
    for letter in "CDEFGHIJKLMNOPQRSTUVWX":
        ws.column_dimensions[letter].width = 18
    ws.freeze_panes = "A3"
    wb.save(path)


def read_xlsx(path: Path) -> dict[str, Any]:
    """Read a sheet written by :func:`write_xlsx` back into the communication's sections.

    Returns ``{"installation": {...}, "production_processes_and_routes": [...],
    "emissions": {...}, "products": [...]}`` keyed like the JSON output.

    Raises
    ------
    InputError
        If the file has no Summary_Communication sheet or a section is missing.
    """
    from openpyxl import load_workbook  # type: ignore[import-untyped,unused-ignore]

    wb = load_workbook(path, read_only=True, data_only=True)
    if SHEET not in wb.sheetnames:
        raise InputError(f"{path}: no sheet {SHEET!r}; is this a CBAM communication?")
    rows = [list(r) for r in wb[SHEET].iter_rows(values_only=True)]
    wb.close()
    starts = {}
    for i, r in enumerate(rows):
        if r and r[0] in SECTIONS:
            starts[r[0]] = i
    missing = [s for s in SECTIONS if s not in starts]
    if missing:
        raise InputError(f"{path}: sheet {SHEET!r} lacks section(s) {', '.join(missing)}.")

    def block(n: int) -> list[list[Any]]:
        begin = starts[SECTIONS[n]] + 1
        end = starts[SECTIONS[n + 1]] if n + 1 < len(SECTIONS) else len(rows)
        return [r for r in rows[begin:end] if any(v is not None for v in r)]

    def pairs(lines: list[list[Any]], fields: tuple[tuple[str, str], ...]) -> dict[str, Any]:
        by_label = {r[0]: r[1] if len(r) > 1 else None for r in lines}
        return {key: by_label[label] for label, key in fields if label in by_label}

    routes = [
        {"aggregated_good": r[0], "routes": [v for v in r[1:] if v is not None]}
        for r in block(1)[1:]
    ]
    table = block(4)
    keys = dict(PRODUCT_COLUMNS)
    columns = [keys.get(str(h)) for h in table[0]] if table else []
    products = [
        {k: v for k, v in zip(columns, r, strict=False) if k is not None} for r in table[1:]
    ]
    return {
        "installation": pairs(block(0), INSTALLATION_FIELDS),
        "production_processes_and_routes": routes,
        "emissions": pairs(block(2), EMISSION_FIELDS),
        "products": products,
    }
