"""Generation-only grid CO2 factors are named in the result, the report and ``openpcf calc``.

Factors (``factors/data``): MEE/NBS 2022 Hebei provincial CO2 emission factor
``cn.grid.co2.2022.province.hebei`` = 0.7252 kg CO2/kWh (generation CO2 only, booked on
CO2-fossil); MEE/NBS/NEA 2023 national electricity carbon-footprint factor
``cn.electricity.footprint.2023.national`` = 0.6205 kg CO2e/kWh (life cycle).
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

from openpcf.cli.main import app
from openpcf.electricity import generation_only, scope_of
from openpcf.electricity.scope import NOTE_PREFIX, PROVENANCE_KEY, series_scopes
from openpcf.factors import Factor, bundled_factor_set
from openpcf.model.calculation import Calculation
from openpcf.reports import build_report_data

runner = CliRunner()

HEBEI = """
processes:
  - id: main
    name: P
    stage: production
    output: {product: x, amount: 1, unit: kg}
    inputs: [{electricity: {geography: CN-HE, year: 2022}, amount: 10, unit: kWh}]
"""
LIFE_CYCLE = """
processes:
  - id: main
    name: P
    stage: production
    output: {product: x, amount: 1, unit: kg}
    inputs: [{electricity: {geography: CN, year: 2023, basis: footprint}, amount: 10, unit: kWh}]
"""


def test_every_bundled_grid_row_has_its_scope() -> None:
    """All 89 MEE/NBS CO2 rows are generation-only, all footprint rows life-cycle; each series
    names its publisher's document."""
    rows = [f for f in bundled_factor_set().factors.values() if f.id.startswith("cn.")]
    co2 = [f for f in rows if f.id.startswith("cn.grid.co2.")]
    footprint = [f for f in rows if f.id.startswith("cn.electricity.footprint.")]
    assert len(co2) == 89
    assert len(footprint) == 4
    assert all(scope_of(f).scope == "generation" for f in co2)  # type: ignore[union-attr]
    assert all(scope_of(f).scope == "life-cycle" for f in footprint)  # type: ignore[union-attr]
    assert all(set(f.emissions) == {"CO2-fossil"} for f in co2)
    for series in series_scopes().values():
        assert "MEE" in series.source
    # a derived life-cycle inventory mix: its scope is not a published series here, not flagged
    assert scope_of(bundled_factor_set().get("cn.tiangong.electricity.mix.anhui")) is None


def test_claim_factor_on_the_co2_basis_is_generation_only() -> None:
    claim = Factor(
        id="electricity.claim.site-a",
        name="claim",
        unit="kWh",
        emissions={"CO2-fossil": 0.3},
        category="electricity",
        geography="CN",
        year=2023,
        source="test claim",
        licence="test",
    )
    on_footprint = dataclasses.replace(claim, id="electricity.claim.b", emissions={"CO2e": 0.3})
    assert generation_only([claim, on_footprint, claim]) == (claim,)


def test_generation_only_grid_is_named_in_notes_and_provenance(
    write_model: Callable[[str], Path], calc: Callable[..., Calculation]
) -> None:
    """10 kWh × 0.7252 kg CO2/kWh (Hebei 2022) = 7.252 kg CO2e; the result says the factor is
    generation-only and lists it under provenance."""
    result = calc(write_model(HEBEI)).result
    assert math.isclose(result.total, 7.252, rel_tol=1e-9)
    (note,) = [n for n in result.notes if n.startswith(NOTE_PREFIX)]
    assert "cn.grid.co2.2022.province.hebei is a generation-only CO2 factor" in note
    assert "not the upstream fuel supply, grid losses or other greenhouse gases" in note
    assert result.provenance[PROVENANCE_KEY] == "cn.grid.co2.2022.province.hebei"


def test_life_cycle_grid_is_not_flagged(
    write_model: Callable[[str], Path], calc: Callable[..., Calculation]
) -> None:
    """10 kWh × 0.6205 kg CO2e/kWh (CN 2023 carbon footprint) = 6.205 kg; no scope note."""
    result = calc(write_model(LIFE_CYCLE)).result
    assert math.isclose(result.total, 6.205, rel_tol=1e-9)
    assert not [n for n in result.notes if n.startswith(NOTE_PREFIX)]
    assert PROVENANCE_KEY not in result.provenance


@pytest.mark.parametrize(
    ("lang", "text"),
    [
        ("en", "is a generation-only CO2 factor: it counts the CO2 of power generation"),
        ("zh", "为仅含发电环节的二氧化碳排放因子"),
    ],
)
def test_report_says_so_in_its_language(
    write_model: Callable[[str], Path], calc: Callable[..., Calculation], lang: str, text: str
) -> None:
    data = build_report_data(calc(write_model(HEBEI)), lang=lang)
    flagged = [n for n in data.notes if text in n]
    assert len(flagged) == 1
    assert "cn.grid.co2.2022.province.hebei" in flagged[0]
    assert not [n for n in data.notes if n.startswith(NOTE_PREFIX)]  # not twice, not raw


def test_calc_output_says_so(write_model: Callable[[str], Path]) -> None:
    path = write_model(HEBEI)
    table = runner.invoke(app, ["calc", str(path)])
    assert table.exit_code == 0, table.output
    assert "generation-only CO2 factor" in " ".join(table.output.split())
    as_json = runner.invoke(app, ["calc", str(path), "--format", "json"])
    assert as_json.exit_code == 0, as_json.output
    assert "generation-only CO2 factor" in as_json.output
    data = json.loads(as_json.output)
    assert "cn.grid.co2.2022.province.hebei" in json.dumps(data)
