"""``openpcf cbam``: the typer app directly (CliRunner) and through the ``openpcf`` entry point.

The entry-point tests need the sub-app registered in cli/main.py
(``app.add_typer(cbam.app, name="cbam")``): ``test_subprocess_default_json`` runs
``python -m openpcf`` in a subprocess, the others run the same entry point in this process
(:mod:`fixtures.in_process`).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from fixtures.in_process import openpcf as openpcf_in_process
from openpcf.cli.cbam import app
from openpcf.errors import InputError

EXAMPLES = Path(__file__).parents[1] / "examples" / "cbam"
runner = CliRunner()


def openpcf(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "openpcf", *args], capture_output=True, text=True, check=False
    )


def test_default_json() -> None:
    out = runner.invoke(
        app, ["default", "--cn", "72083900", "--country", "CN", "--year", "2027", "--json"]
    )
    assert out.exit_code == 0, out.output
    data = json.loads(out.stdout)
    assert data["total"] == 3.187
    assert data["markup_percent"] == 20
    assert data["total_with_markup"] == pytest.approx(3.8244)
    assert data["country_row_used"] == "China"
    assert data["unit"] == "t CO2e/t"
    assert "2025/2621" in data["source"]


def test_default_table() -> None:
    out = runner.invoke(app, ["default", "--cn", "7203 10 00", "--country", "CN"])
    assert out.exit_code == 0, out.output
    assert "Other countries and territories" in out.stdout
    assert "1.4575" in out.stdout  # 1.325 x 1.10


def test_default_bad_code_raises_input_error() -> None:
    out = runner.invoke(app, ["default", "--cn", "3901 10 10", "--country", "CN"])
    assert out.exit_code != 0
    assert isinstance(out.exception, InputError)
    assert "not a CBAM good" in str(out.exception)


@pytest.mark.parametrize(
    "name", ["steel_bf_bof_tianjin", "aluminium_smelter_xinjiang", "cement_anhui"]
)
def test_calc_table_and_json(name: str) -> None:
    path = str(EXAMPLES / f"{name}.yaml")
    out = runner.invoke(app, ["calc", path])
    assert out.exit_code == 0, out.output
    assert "Specific embedded emissions" in out.stdout
    out = runner.invoke(app, ["calc", path, "--format", "json"])
    assert out.exit_code == 0, out.output
    assert json.loads(out.stdout)["provenance"]["gwp_set"] == "AR5"


def test_calc_xlsx_needs_output() -> None:
    out = runner.invoke(app, ["calc", str(EXAMPLES / "cement_anhui.yaml"), "-f", "xlsx"])
    assert isinstance(out.exception, InputError)


def test_imports_json() -> None:
    """Steel 1 200 t x 1.95 actual; Al 300 t x 3.0 x 1.1 default; cement 5 000 t x (0.74 + 0.06);
    ammonia 800 t x 4.17 x 1.01 (direct only: the template flags ammonia's indirect emissions
    as not relevant in the definitive period)."""
    out = runner.invoke(
        app, ["imports", str(EXAMPLES / "imports_2026.csv"), "--price", "75.36", "--format", "json"]
    )
    assert out.exit_code == 0, out.output
    data = json.loads(out.stdout)
    certificates = 1200 * 1.95 + 300 * 3.0 * 1.1 + 5000 * 0.80 + 800 * 4.17 * 1.01
    assert data["certificates"] == pytest.approx(certificates, rel=1e-12)
    assert data["cost_eur"] == pytest.approx(certificates * 75.36, rel=1e-12)
    savings = 1200 * (3.187 * 1.1 - 1.95) + 5000 * (1.42 * 1.1 - 0.80)
    assert data["difference_actual_vs_default_t_co2e"] == pytest.approx(savings, rel=1e-12)
    assert data["difference_actual_vs_default_eur"] == pytest.approx(savings * 75.36, rel=1e-12)
    assert data["de_minimis_exempt"] is False


def test_subprocess_default_json() -> None:
    out = openpcf(
        "cbam", "default", "--cn", "7208 39 00", "--country", "CN", "--year", "2026", "--json"
    )
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["total_with_markup"] == pytest.approx(3.5057)


def test_entry_point_bad_input_has_no_traceback(tmp_path: Path) -> None:
    path = tmp_path / "plant.yaml"
    text = (EXAMPLES / "steel_bf_bof_tianjin.yaml").read_text(encoding="utf-8")
    path.write_text(text.replace("end: 2025-12-31", "end: 2026-06-30"), encoding="utf-8")
    out = openpcf_in_process("cbam", "calc", str(path))
    assert out.returncode == 2
    assert "longer than 12 months" in out.stderr
    assert "Traceback" not in out.stderr


def test_entry_point_calc_xlsx(tmp_path: Path) -> None:
    target = tmp_path / "communication.xlsx"
    out = openpcf_in_process(
        "cbam", "calc", str(EXAMPLES / "cement_anhui.yaml"), "-f", "xlsx", "-o", str(target)
    )
    assert out.returncode == 0, out.stderr
    assert target.stat().st_size > 0
