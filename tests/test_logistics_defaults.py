"""Bundled ISO 14083 defaults and shipments that cannot be misread, checked by hand.

Defaults used (``src/openpcf/logistics/data/default_intensities.csv``):

- UK Government (DESNZ) GHG Conversion Factors 2025, sheet "Freighting goods" (TTW) and sheet
  "WTT- delivery vehs & freight" (WTT), kg CO2e per tonne.km:
  container ship 8000+ TEU TTW 0.01266, WTT 0.00287, WTW 0.01553;
  container ship 0-999 TEU TTW 0.03675, WTT 0.00833, WTW 0.04508 (the highest container row);
  freight flight "International, to/from non-UK", without RF, TTW 0.5313, WTT 0.13516,
  WTW 0.66646; HGV refrigerated articulated > 33 t, average laden, TTW 0.08908, WTT 0.02086.
- GLEC Framework v3.0 (2023) Table 14, ro-pax ferry 10000-19999 GT, MDO: TTW 0.1064,
  WTW 0.1248 kg CO2e/tkm, so WTT = 0.0184.
- IMO MEPC.1/Circ.684 (2009): 10 t per loaded TEU.
"""

from __future__ import annotations

import json
import math
import textwrap
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from openpcf.cli import transport
from openpcf.logistics import ShipmentError, bundled_library, calculate_file
from openpcf.logistics.teu import LOADED_TEU

EXAMPLES = Path(__file__).parent.parent / "examples" / "logistics"
SEA_EXAMPLE = EXAMPLES / "shanghai_rotterdam_defaults.yaml"
AIR_EXAMPLE = EXAMPLES / "shanghai_amsterdam_air_defaults.yaml"
runner = CliRunner()


def write(tmp_path: Path, body: str, *, cargo: str = "{mass: 18, unit: t, teu: 2}") -> Path:
    head = f"shipment: T-2\nyear: 2025\ncargo: {cargo}\n"
    path = tmp_path / "shipment.yaml"
    path.write_text(head + textwrap.dedent(body), encoding="utf-8")
    return path


def close(actual: float | None, expected: float, rel: float = 1e-9) -> None:
    assert actual is not None
    assert math.isclose(actual, expected, rel_tol=rel), (actual, expected)


def calc_json(path: Path) -> dict[str, Any]:
    result = runner.invoke(transport.app, ["calc", str(path), "--format", "json"])
    assert result.exit_code == 0, result.output
    data: dict[str, Any] = json.loads(result.output)
    return data


# --- the two worked legs, through ``openpcf transport calc`` ------------------------------


def test_shanghai_rotterdam_container_leg_defaults() -> None:
    """18 t, CNSHA → NLRTM, DESNZ 2025 container ship 8000+ TEU, no carrier data.

    Distance: searoute 1.6.0's shortest sea route, 19 610.08 km (Suez; the usual published
    Shanghai–Rotterdam figure is about 10 500 nm = 19 446 km).
    Activity 18 t × 19 610.08 km = 352 981.42 tkm.
    WTT 352 981.42 × 0.00287 = 1 013.06; TTW × 0.01266 = 4 468.74;
    WTW × 0.01553 = 5 481.80 kg CO2e.
    """
    data = calc_json(SEA_EXAMPLE)
    (leg,) = data["elements"]
    assert leg["distance_km"] == pytest.approx(19610.08, abs=0.01)
    assert leg["activity"] == pytest.approx(352981.42, abs=0.01)
    intensity = leg["intensity"]
    assert intensity["unit"] == "kg CO2e/tkm"
    assert (intensity["wtt"], intensity["ttw"]) == (0.00287, 0.01266)
    close(intensity["wtw"], 0.01553)
    total = data["total"]
    assert total["wtt_kg"] == pytest.approx(1013.06, abs=0.005)
    assert total["ttw_kg"] == pytest.approx(4468.74, abs=0.005)
    assert total["wtw_kg"] == pytest.approx(5481.80, abs=0.005)
    close(total["wtw_kg"], 18 * leg["distance_km"] * 0.01553)
    assert "desnz25.sea.container.8000teu-plus" in leg["intensity_description"]
    assert "sheet 'Freighting goods'" in leg["sources"][0]
    assert data["warnings"] == []


def test_air_leg_defaults() -> None:
    """2 t PVG → AMS by air, DESNZ 2025 international freight flight without RF.

    GCD by haversine (R 6371.0088 km) between 31.1443 N 121.8083 E and 52.3086 N 4.7639 E:
    8 910.55 km; + 95 km (ISO 14083) = 9 005.55 km; × 2 t = 18 011.11 tkm.
    WTT 18 011.11 × 0.13516 = 2 434.38; TTW × 0.5313 = 9 569.30; WTW × 0.66646 = 12 003.68.
    """
    data = calc_json(AIR_EXAMPLE)
    (leg,) = data["elements"]
    assert leg["distance_km"] == pytest.approx(9005.55, abs=0.01)
    assert "+ 95 km" in leg["distance_method"]
    total = data["total"]
    assert total["wtt_kg"] == pytest.approx(2434.38, abs=0.005)
    assert total["ttw_kg"] == pytest.approx(9569.30, abs=0.005)
    assert total["wtw_kg"] == pytest.approx(12003.68, abs=0.005)
    assert "international-non-uk" in leg["intensity_description"]


def test_table_output_names_the_default() -> None:
    result = runner.invoke(transport.app, ["calc", str(SEA_EXAMPLE)])
    assert result.exit_code == 0, result.output
    assert "Total: WTW 5,481.80 kg CO2e (WTT 1,013.06, TTW 4,468.74)" in result.output
    assert "desnz25.sea.container.8000teu-plus" in result.output


# --- the bundled table ---------------------------------------------------------------------


def test_bundled_defaults_cover_the_modes() -> None:
    """Every mode but inland waterway has a complete (WTW-known) bundled default."""
    lib = bundled_library()
    for mode in ("road", "rail", "sea", "air"):
        assert lib.defaults_for(mode, "ambient"), mode
    assert lib.defaults_for("road", "reefer")
    assert not lib.defaults_for("inland_waterway", "ambient")  # no public source found
    assert not lib.defaults_for("hub", "ambient")  # no public source found


def test_glec_ferry_wtt_is_wtw_minus_ttw(tmp_path: Path) -> None:
    """GLEC v3.0 Table 14 ro-pax 10000-19999 GT MDO, 10 t × 100 km = 1000 tkm.

    WTW 0.1248 × 1000 = 124.8; TTW 0.1064 × 1000 = 106.4; WTT 124.8 − 106.4 = 18.4 kg.
    """
    path = write(
        tmp_path,
        """
        chain:
          - type: leg
            mode: sea
            distance_km: 100
            intensity: {method: default, toc: glec3.sea.ferry-ropax.10000-19999gt.mdo}
        """,
        cargo="{mass: 10}",
    )
    result = calculate_file(path)
    close(result.wtw_kg, 124.8)
    close(result.ttw_kg, 106.4)
    close(result.wtt_kg, 18.4)
    assert "GLEC Framework v3.0 (2023), Table 14" in result.sources[0]


def test_teu_default_is_sourced() -> None:
    assert LOADED_TEU.t_per_teu == 10.0
    assert "MEPC.1/Circ.684" in LOADED_TEU.source


# --- a default that does not fit the leg is refused -----------------------------------------


@pytest.mark.parametrize(
    ("mode", "temperature", "toc", "pattern"),
    [
        (
            "air",
            "ambient",
            "desnz25.sea.container.8000teu-plus",
            r"is for ambient sea transport, but the element is ambient air.*"
            r"desnz25\.air\.freight\.international-non-uk",
        ),
        (
            "road",
            "ambient",
            "desnz25.road.hgv-reefer.artic-gt33t.avg-laden",
            r"is for reefer road transport, but the element is ambient road",
        ),
        (
            "road",
            "reefer",
            "desnz25.road.hgv.artic-gt33t.avg-laden",
            r"is for ambient road transport, but the element is reefer road.*"
            r"desnz25\.road\.hgv-reefer\.artic-gt33t\.avg-laden",
        ),
        (
            "inland_waterway",
            "ambient",
            "desnz25.sea.bulk.average",
            r"no complete ambient inland_waterway default is bundled",
        ),
    ],
)
def test_default_for_another_mode_or_temperature_is_refused(
    tmp_path: Path, mode: str, temperature: str, toc: str, pattern: str
) -> None:
    distance = "great_circle_km: 1000" if mode == "air" else "distance_km: 100"
    path = write(
        tmp_path,
        f"""
        chain:
          - type: leg
            mode: {mode}
            {distance}
            operation: {{temperature: {temperature}}}
            intensity: {{method: default, toc: {toc}}}
        """,
    )
    with pytest.raises(ShipmentError, match=pattern):
        calculate_file(path)


def test_refusal_from_the_cli_is_an_input_error(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
        chain:
          - type: leg
            mode: rail
            distance_km: 100
            intensity: {method: default, toc: desnz25.sea.container.average}
        """,
    )
    result = runner.invoke(transport.app, ["calc", str(path)])
    assert result.exit_code != 0
    assert isinstance(result.exception, ShipmentError)
    assert "chain[0]" in str(result.exception)


# --- a container ship's capacity cannot be misread ------------------------------------------

SHIP = """
fuels:
  - {{id: test-vlsfo, ttw: 3.15, wtw: 3.80, year: 2024, source: hand-made test fuel}}
chain:
  - type: leg
    mode: sea
    distance_km: 10000
    operation: {{vessel: {vessel}, load_factor: 0.7}}
    intensity: {{method: fuel, fuel: test-vlsfo, consumption_kg_per_km: 196,
                capacity: 14000{unit}}}
"""


def test_container_ship_capacity_is_in_teu_by_default(tmp_path: Path) -> None:
    """14 000-TEU ship, 196 kg fuel/km, load factor 0.7, 2 TEU (18 t) over 10 000 km.

    q = 196 / (14 000 × 0.7) = 0.02 kg fuel/TEU-km; WTW 0.02 × 3.80 = 0.076 kg/TEU-km;
    activity 2 TEU × 10 000 km = 20 000 TEU-km → WTW 1 520 kg (TTW 0.02 × 3.15 × 20 000 =
    1 260, WTT 260). Read as 14 000 t instead: 0.076 kg/tkm × 18 t × 10 000 km = 13 680 kg,
    9 × too much; so the file must say ``capacity_unit: t`` to get that reading.
    """
    teu = calculate_file(write(tmp_path, SHIP.format(vessel="container ship", unit="")))
    (leg,) = teu.elements
    assert leg.activity_unit == "TEU-km"
    close(teu.wtw_kg, 1520.0)
    close(teu.ttw_kg, 1260.0)
    close(teu.wtt_kg, 260.0)
    assert "14000 TEU" in leg.intensity.description
    assert "the default for a container ship" in leg.intensity.description
    named = calculate_file(
        write(tmp_path, SHIP.format(vessel="container ship", unit=", capacity_unit: t"))
    )
    close(named.wtw_kg, 13680.0)
    assert "14000 t" in named.elements[0].intensity.description


def test_vessel_capacity_without_unit_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, SHIP.format(vessel="bulk carrier", unit=""))
    with pytest.raises(ShipmentError, match=r"name the unit of 'capacity' 14000.*capacity_unit"):
        calculate_file(path)


# --- plausibility warnings -----------------------------------------------------------------


def test_implausibly_high_intensity_is_warned(tmp_path: Path) -> None:
    """Carrier reports 0.2 kg/tkm for a container ship: 0.2 / 0.04508 = 4.4 × the highest
    bundled container-ship default (0-999 TEU), above the 2 × band: one warning; the number
    stays 0.2 × 18 t × 1000 km = 3600 kg."""
    path = write(
        tmp_path,
        """
        chain:
          - type: leg
            mode: sea
            distance_km: 1000
            operation: {vessel: container ship}
            intensity: {method: carrier, source: test report, wtt: 0.04, ttw: 0.16}
        """,
    )
    result = calculate_file(path)
    close(result.wtw_kg, 3600.0)
    (warning,) = result.warnings
    assert warning.startswith("leg 1: WTW intensity 0.2 kg CO2e/tkm is 4.4 × the highest")
    assert "desnz25.sea.container.0-999teu" in warning
    assert "TEU, not t" in warning
    data = calc_json(path)
    assert data["warnings"] == [warning]


def test_teu_intensity_is_compared_per_tonne_at_the_imo_default(tmp_path: Path) -> None:
    """0.05 kg/TEU-km at 10 t/TEU = 0.005 kg/tkm: 3.1 × below the lowest container-ship
    default (0.01553) but within the 10 × low band: no warning. 0.0001 kg/TEU-km = 0.00001
    kg/tkm is 1553 × below: warned."""
    body = """
    chain:
      - type: leg
        mode: sea
        distance_km: 1000
        operation: {{vessel: container ship}}
        intensity: {{method: carrier, source: test report, activity_unit: TEU-km,
                    wtt: {wtt}, ttw: {ttw}}}
    """
    assert calculate_file(write(tmp_path, body.format(wtt=0.01, ttw=0.04))).warnings == ()
    (low,) = calculate_file(write(tmp_path, body.format(wtt=0, ttw=0.0001))).warnings
    assert "(at 10 t/TEU) is 1553.0 × below the lowest" in low


def test_road_capacity_stays_in_tonnes_for_a_container_truck(tmp_path: Path) -> None:
    """Road: capacity in t even when the truck carries containers (no TEU default on land).

    q = 0.3 kg/km / (20 t × 0.5) = 0.03 kg diesel B5/tkm × 3.80 = 0.114 kg/tkm × 18 t × 100 km
    = 205.2 kg WTW.
    """
    path = write(
        tmp_path,
        """
        chain:
          - type: leg
            mode: road
            distance_km: 100
            operation: {vehicle: container truck, load_factor: 0.5}
            intensity: {method: fuel, fuel: diesel-b5, consumption_kg_per_km: 0.3, capacity: 20}
        """,
    )
    result = calculate_file(path)
    assert result.elements[0].activity_unit == "tkm"
    close(result.wtw_kg, 205.2)
