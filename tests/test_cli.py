"""The command line: outputs and clear errors for bad input (no traceback, non-zero exit).

Each test runs the ``openpcf`` entry point in this process (:mod:`fixtures.in_process`);
``test_cbam_cli.test_subprocess_default_json`` runs it as ``python -m openpcf``.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from fixtures.in_process import openpcf

FIXTURE = Path(__file__).parent / "fixtures" / "two_process.yaml"


def test_calc_table():
    out = openpcf("calc", str(FIXTURE))
    assert out.returncode == 0, out.stderr
    assert "6.205 kg CO2e per 1 kilogram" in out.stdout
    assert "raw material acquisition" in out.stdout


def test_calc_json_numbers():
    """4 kg (steel sheet) + 3 kWh x 0.7252 (Hebei 2022) + 1 g CH4 x 29.8 = 6.2054."""
    out = openpcf("calc", str(FIXTURE), "--format", "json")
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert data["kg_co2e"] == pytest.approx(6.2054, rel=1e-12)
    assert data["by_stage_kg_co2e"]["raw_material_acquisition"] == pytest.approx(4.0)
    assert data["by_gas_kg"]["CH4-fossil"] == pytest.approx(0.001)
    assert len(data["provenance"]["model_sha256"]) == 64


def test_calc_param_and_gwp():
    """power=10: 4 + 10 x 0.7252 + 0.001 x 30 (AR5 fossil CH4) = 11.282."""
    out = openpcf("calc", str(FIXTURE), "-f", "json", "--param", "power=10", "--gwp", "AR5")
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["kg_co2e"] == pytest.approx(11.282, rel=1e-12)


def test_validate():
    out = openpcf("validate", str(FIXTURE))
    assert out.returncode == 0
    assert "valid" in out.stdout


BAD_CASES = {
    "unknown factor": (
        "inputs: [{factor: no.such.factor, amount: 1, unit: kg}]",
        r"model\.yaml:\d+: process 'main', input 1: .*no\.such\.factor",
    ),
    "unit mismatch": (
        "inputs: [{factor: cn.grid.co2.2022.national, amount: 1, unit: kg}]",
        r"model\.yaml:\d+: process 'main', input 1: cannot convert 'kg' into 'kWh'",
    ),
    "negative amount": (
        "inputs: [{factor: cn.grid.co2.2022.national, amount: -1, unit: kWh}]",
        r"model\.yaml:\d+: process 'main', input 1: amount -1 is negative",
    ),
    "non-finite amount": (
        "inputs: [{factor: cn.grid.co2.2022.national, amount: .nan, unit: kWh}]",
        r"model\.yaml:\d+: process 'main'.*not a finite number",
    ),
    "expression syntax": (
        "inputs: [{factor: cn.grid.co2.2022.national, amount: '2 *', unit: kWh}]",
        r"model\.yaml:\d+: process 'main'.*syntax error in expression '2 \*'",
    ),
    "unknown name": (
        "inputs: [{factor: cn.grid.co2.2022.national, amount: 'kwh * 2', unit: kWh}]",
        r"model\.yaml:\d+: process 'main'.*unknown name 'kwh'",
    ),
    "unknown unit": (
        "inputs: [{factor: cn.grid.co2.2022.national, amount: 1, unit: blorps}]",
        r"model\.yaml:\d+: process 'main', input 1: unknown unit 'blorps'",
    ),
    "unknown process": (
        "inputs: [{process: nowhere, amount: 1, unit: kg}]",
        r"model\.yaml:\d+: process 'main', input 1: no process 'nowhere'",
    ),
    "unknown gas": (
        "emissions: [{gas: CO3, amount: 1}]",
        r"model\.yaml:\d+: processes\[0\]\.emissions\[0\]\.gas: unknown gas 'CO3'",
    ),
}

MODEL = """openpcf: 1
product:
  name: Bad
  ids: [urn:openpcf:product:bad]
  declared_unit: kilogram
  mass_per_declared_unit: 1
  reference_period: {{start: 2024-01-01, end: 2024-12-31}}
boundary: cradle-to-gate
reference_process: main
processes:
  - id: main
    name: Main
    stage: production
    output: {{product: x, amount: 1, unit: kg}}
    {exchanges}
"""


@pytest.mark.parametrize("case", sorted(BAD_CASES))
def test_bad_input_is_a_clear_error(tmp_path, case):
    exchanges, pattern = BAD_CASES[case]
    path = tmp_path / "model.yaml"
    path.write_text(MODEL.format(exchanges=exchanges), encoding="utf-8")
    out = openpcf("calc", str(path))
    assert out.returncode == 2, (out.stdout, out.stderr)
    assert "Traceback" not in out.stderr
    assert re.search(pattern, " ".join(out.stderr.split())), out.stderr


def test_yaml_syntax_error(tmp_path):
    path = tmp_path / "broken.yaml"
    path.write_text("product:\n  name: [unclosed\nboundary: x\n", encoding="utf-8")
    out = openpcf("calc", str(path))
    assert out.returncode == 2
    assert "broken.yaml:3:" in out.stderr
    assert "YAML syntax error" in out.stderr
    assert "Traceback" not in out.stderr


def test_missing_declared_unit(tmp_path):
    path = tmp_path / "model.yaml"
    text = MODEL.format(exchanges="").replace("  declared_unit: kilogram\n", "")
    path.write_text(text, encoding="utf-8")
    out = openpcf("calc", str(path))
    assert out.returncode == 2
    assert "model.yaml:2: product.declared_unit: Field required" in out.stderr


def test_wrong_declared_unit_names_choices(tmp_path):
    path = tmp_path / "model.yaml"
    path.write_text(MODEL.format(exchanges="").replace("kilogram", "tonne"), encoding="utf-8")
    out = openpcf("calc", str(path))
    assert out.returncode == 2
    assert "product.declared_unit" in out.stderr
    assert "'kilogram'" in out.stderr


def test_singular_system_names_processes(tmp_path):
    """main makes 1 x and uses 1 y; loop makes 1 y and uses 1 x: A = [[1, -1], [-1, 1]]."""
    text = MODEL.format(exchanges="inputs: [{process: loop, amount: 1, unit: kg}]") + (
        "  - id: loop\n    name: Loop\n    stage: production\n"
        "    output: {product: y, amount: 1, unit: kg}\n"
        "    inputs: [{process: main, amount: 1, unit: kg}]\n"
    )
    path = tmp_path / "model.yaml"
    path.write_text(text, encoding="utf-8")
    out = openpcf("calc", str(path))
    assert out.returncode == 3
    assert "singular" in out.stderr
    assert "'main'" in out.stderr
    assert "'loop'" in out.stderr


def test_missing_file():
    out = openpcf("calc", "does-not-exist.yaml")
    assert out.returncode == 2
    assert "does-not-exist.yaml: no such file" in out.stderr


def test_bad_param_syntax():
    out = openpcf("calc", str(FIXTURE), "--param", "power")
    assert out.returncode == 2
    assert "write it as name=value" in out.stderr


def test_unknown_gwp_set():
    out = openpcf("calc", str(FIXTURE), "--gwp", "AR7")
    assert out.returncode == 2
    assert "AR7" in out.stderr
    assert "AR6" in out.stderr
