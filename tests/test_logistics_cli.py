"""``openpcf transport calc`` and ``openpcf electricity calc/release`` through CliRunner."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from openpcf.cli import electricity, transport
from openpcf.electricity import DoubleClaimError
from openpcf.logistics import UnknownPortError
from openpcf.settings import get_settings

FIXTURES = Path(__file__).parent / "fixtures"
runner = CliRunner()


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv("OPENPCF_HOME", str(tmp_path / "home"))
    get_settings.cache_clear()
    yield tmp_path / "home"
    get_settings.cache_clear()


def test_transport_calc_json() -> None:
    result = runner.invoke(
        transport.app, ["calc", str(FIXTURES / "logistics_export_chain.yaml"), "--format", "json"]
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["total"]["wtw_kg"] == pytest.approx(2218.9, rel=1e-9)
    assert data["total"]["wtt_kg"] == pytest.approx(445.35, rel=1e-9)
    assert len(data["elements"]) == 4
    assert data["methods"]
    assert any("EN 16258" in s for s in data["sources"])


def test_transport_calc_table() -> None:
    result = runner.invoke(transport.app, ["calc", str(FIXTURES / "logistics_export_chain.yaml")])
    assert result.exit_code == 0, result.output
    assert "2,218.90" in result.output
    assert "Sources" in result.output


def test_transport_calc_table_prints_the_notes() -> None:
    """The notes of the JSON (GLEC uplift quote, generation-only grid) are printed under the
    table, each line prefixed with its element, after the totals and before the methods."""
    examples = Path(__file__).parent.parent / "examples" / "logistics"
    wide = {"COLUMNS": "400"}  # one line per note, so that the test can find each whole
    uplift = runner.invoke(
        transport.app, ["calc", str(examples / "china_road_uplift.yaml")], env=wide
    )
    assert uplift.exit_code == 0, uplift.output
    out = uplift.output
    assert out.index("Total: WTW") < out.index("Notes") < out.index("Methods")
    notes = out[out.index("Notes") : out.index("Methods")].splitlines()[1:]
    assert len(notes) == 3
    assert notes[0].startswith("  - leg 1: glec3.road.artic-34-40t.diesel.eu-sa × 1.22: ")
    assert "p. 94" in notes[0]
    assert notes[1].startswith("  - leg 2: electricity cn.electricity.footprint.2023.national")
    grid = runner.invoke(
        transport.app, ["calc", str(examples / "suzhou_to_rotterdam.yaml")], env=wide
    )
    assert grid.exit_code == 0, grid.output
    assert "  - hub 2: electricity cn.grid.co2.2022.province.shanghai is generation-only" in (
        grid.output
    )
    plain = runner.invoke(transport.app, ["calc", str(FIXTURES / "logistics_export_chain.yaml")])
    assert "Notes" not in plain.output  # no notes, no heading


def test_transport_order_book() -> None:
    path = FIXTURES / "logistics_order_book.csv"
    result = runner.invoke(transport.app, ["calc", str(path), "--format", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert [o["order"] for o in data["orders"]] == ["PO-1001", "PO-1002"]
    assert data["total"]["wtw_kg"] == pytest.approx(3328.35, rel=1e-9)
    table = runner.invoke(transport.app, ["calc", str(path)])
    assert "Order book total: 3,328.35 kg CO2e" in table.output


def test_transport_error_is_raised_for_the_main_cli(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(
        "shipment: x\nyear: 2024\ncargo: {mass: 1}\nchain:\n  - {type: leg, mode: sea, "
        "from: XXNOPE, to: NLRTM, intensity: {method: carrier, source: s, wtt: 0, ttw: 1}}\n",
        encoding="utf-8",
    )
    result = runner.invoke(transport.app, ["calc", str(path)])
    assert isinstance(result.exception, UnknownPortError)


def test_electricity_calc_and_release(home: Path) -> None:
    claims = FIXTURES / "electricity_claims_suzhou_2023.yaml"
    result = runner.invoke(electricity.app, ["calc", str(claims), "--format", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["location_based"]["kg_per_kwh"] == pytest.approx(0.55)
    assert data["market_based"]["kg_per_kwh"] == pytest.approx(0.36576)
    assert (home / "registry" / "electricity_certificates.json").exists()
    table = runner.invoke(electricity.app, ["calc", str(claims)])
    assert table.exit_code == 0, table.output
    assert "location-based" in table.output
    assert "0.3658" in table.output
    released = runner.invoke(electricity.app, ["release", "GEC-2023-000001"])
    assert released.exit_code == 0, released.output
    assert "Released GEC-2023-000001" in released.output


def test_electricity_double_claim_from_cli(home: Path, tmp_path: Path) -> None:
    claims = FIXTURES / "electricity_claims_suzhou_2023.yaml"
    assert runner.invoke(electricity.app, ["calc", str(claims)]).exit_code == 0
    other = tmp_path / "other.yaml"
    other.write_text(
        claims.read_text(encoding="utf-8").replace("claim: suzhou-2023", "claim: other"),
        encoding="utf-8",
    )
    result = runner.invoke(electricity.app, ["calc", str(other)])
    assert isinstance(result.exception, DoubleClaimError)
    assert "already claimed by claim 'suzhou-2023'" in str(result.exception)
    dry = runner.invoke(electricity.app, ["calc", str(other), "--no-register"])
    assert dry.exit_code == 0, dry.output
