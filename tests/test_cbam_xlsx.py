"""The xlsx communication, re-read with openpyxl: every Summary_Communication field present
and equal to the JSON output."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from openpyxl import load_workbook
from typer.testing import CliRunner

from openpcf.cbam import read_xlsx
from openpcf.cli.cbam import app

EXAMPLES = Path(__file__).parents[1] / "examples" / "cbam"

#: Fields of Summary_Communication required by the template (standards-facts §3.6, ✅P).
REQUIRED_LABELS = [
    "Name of the installation (English)",
    "Street, number",
    "Economic activity",
    "Country",
    "UN/LOCODE",
    "Latitude of main emission source",
    "Longitude of main emission source",
    "Start of reporting period",
    "End of reporting period",
    "Calculation-based emissions (excl. PFC), t CO2e",
    "Total PFC emissions, t CO2e",
    "Measurement-based emissions, t CO2e",
    "Other approaches, t CO2e",
    "Total direct emissions, t CO2e",
    "Total indirect emissions, t CO2e",
    "Total emissions, t CO2e",
    "General information on data quality",
    "Justification for use of default values",
]
REQUIRED_PRODUCT_HEADERS = [
    "Production process",
    "Aggregated goods category",
    "CN code",
    "CN name",
    "Product name",
    "SEE direct (t CO2e/unit)",
    "SEE indirect (t CO2e/unit)",
    "SEE total (t CO2e/unit)",
    "Unit",
    "Share of emissions by default values",
    "Source for electricity EF",
    "Embedded electricity (MWh/unit)",
    "Electricity EF (t CO2/MWh)",
    "Qualifying parameters",
    "Carbon price instrument",
    "Effective carbon price due (per unit of product)",
]


@pytest.mark.parametrize(
    "name", ["steel_bf_bof_tianjin", "aluminium_smelter_xinjiang", "cement_anhui"]
)
def test_xlsx_equals_json(tmp_path: Path, name: str) -> None:
    runner = CliRunner()
    source = str(EXAMPLES / f"{name}.yaml")
    out = runner.invoke(app, ["calc", source, "--format", "json"])
    assert out.exit_code == 0, out.output
    communication = json.loads(out.stdout)
    target = tmp_path / "communication.xlsx"
    out = runner.invoke(app, ["calc", source, "--format", "xlsx", "-o", str(target)])
    assert out.exit_code == 0, out.output

    wb = load_workbook(target, read_only=True)
    assert "Summary_Communication" in wb.sheetnames
    cells = list(wb["Summary_Communication"].iter_rows(values_only=True))
    wb.close()
    column_a = {r[0] for r in cells if r}
    header_cells = {v for r in cells for v in r if isinstance(v, str)}
    assert set(REQUIRED_LABELS) <= column_a
    assert set(REQUIRED_PRODUCT_HEADERS) <= header_cells

    back = read_xlsx(target)
    assert back["installation"] == communication["installation"]
    assert back["emissions"] == communication["emissions"]
    assert (
        back["production_processes_and_routes"] == communication["production_processes_and_routes"]
    )
    assert back["products"] == communication["products"]
    assert len(back["products"]) >= 1
