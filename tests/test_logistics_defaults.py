"""Bundled ISO 14083 defaults and shipments that cannot be misread, checked by hand.

Defaults used (``src/openpcf/logistics/data/default_intensities.csv``):

- UK Government (DESNZ) GHG Conversion Factors 2025, sheet "Freighting goods" (TTW) and sheet
  "WTT- delivery vehs & freight" (WTT), kg CO2e per tonne.km:
  container ship 8000+ TEU TTW 0.01266, WTT 0.00287, WTW 0.01553;
  container ship 0-999 TEU TTW 0.03675, WTT 0.00833, WTW 0.04508 (the highest container row);
  freight flight "International, to/from non-UK", without RF, TTW 0.5313, WTT 0.13516,
  WTW 0.66646; HGV refrigerated articulated > 33 t, average laden, TTW 0.08908, WTT 0.02086.
- GLEC Framework v3.0 (2023; edition of 2 April 2024), Module 2, read from a public copy of the
  PDF, g CO2e per unit (WTT / TTW / WTW):
  Table 14 p. 97, ro-pax ferry 10000-19999 GT, MDO: 18.4 / 106.4 / 124.8 per tkm;
  Table 2 p. 86, inland motor vessel 85-110 m: 4.6 / 15.2 / 19.8 per tkm;
  Table 3 p. 87, hubs, WTW kg CO2e per t: warehouse ambient 17.5, mixed 33.0; storage +
  transshipment ambient 2.1;
  Table 4 p. 88, European diesel rail, container: 6.4 / 21.2 / 27.6 per tkm;
  Table 5 p. 89, European electric rail, average/mixed: total 7.0 per tkm (WTW only);
  Table 1 p. 85, belly freight > 1500 km: TTW 768, WTW 971 per tkm;
  Table 16 p. 99, container ship Asia to-from North Europe, dry: 6.8 / 43.1 / 49.9 per TEU-km.
- IMO MEPC.1/Circ.684 (2009), and GLEC v3.0 p. 50: 10 t per loaded TEU.
"""

from __future__ import annotations

import json
import math
import re
import textwrap
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from openpcf.cli import transport
from openpcf.logistics import (
    ShipmentError,
    bundled_library,
    calculate_file,
    calculate_order_book,
)
from openpcf.logistics.library import DefaultIntensity
from openpcf.logistics.plausibility import vessel_type
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
    """Every mode and the hubs have a complete (WTW-known) bundled default."""
    lib = bundled_library()
    for mode in ("road", "rail", "sea", "air", "inland_waterway", "hub"):
        assert lib.defaults_for(mode, "ambient"), mode
    assert lib.defaults_for("road", "reefer")
    assert lib.defaults_for("sea", "reefer")
    assert lib.defaults_for("hub", "mixed")
    # GLEC gives no per-tonne reefer hub value: only the maritime container terminal, per container
    assert [r.activity_unit for r in lib.defaults_for("hub", "reefer")] == ["container"]
    glec_rows = [r for r in lib.defaults.values() if "GLEC_FRAMEWORK_v3" in r.source]
    assert len(glec_rows) == 330  # 321 emission rows + 9 battery-electric energy rows (p. 93)
    assert all(" p. " in r.source and "Table " in r.source for r in glec_rows)


def test_glec_ferry_published_split(tmp_path: Path) -> None:
    """GLEC v3.0 Table 14 ro-pax 10000-19999 GT MDO, 10 t × 100 km = 1000 tkm.

    WTW 0.1248 × 1000 = 124.8; TTW 0.1064 × 1000 = 106.4; WTT 0.0184 × 1000 = 18.4 kg.
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
    assert "Table 14 'Sea transport emission intensity values" in result.sources[0]
    assert "p. 97" in result.sources[0]


def test_teu_default_is_sourced() -> None:
    assert LOADED_TEU.t_per_teu == 10.0
    assert "MEPC.1/Circ.684" in LOADED_TEU.source
    assert "GLEC Framework v3.0 (2023), p. 50" in LOADED_TEU.source


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
            r"bundled ambient inland_waterway defaults: glec3\.iww\.",
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
    """0.05 kg/TEU-km at 10 t/TEU = 0.005 kg/tkm: above the lowest container-ship default
    (GLEC Asia to-from North Europe, dry, 0.0499 kg/TEU-km = 0.00499 kg/tkm): no warning.
    0.0001 kg/TEU-km = 0.00001 kg/tkm is 0.00499 / 0.00001 = 499 × below: warned."""
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
    assert "(at 10 t/TEU) is 499.0 × below the lowest" in low
    assert "glec3.sea.container.asia-north-europe.dry" in low


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


# --- GLEC v3.0 Module 2 defaults: container lanes, inland waterway, rail, air, hubs ---------

GLEC_CHAIN = """
chain:
  - type: hub
    name: Duisburg storage + transshipment
    intensity: {method: default, toc: glec3.hub.storage-transshipment.ambient}
  - type: leg
    name: barge to Rotterdam
    mode: inland_waterway
    distance_km: 250
    operation: {vessel: motor vessel 85-110 m}
    intensity: {method: default, toc: glec3.iww.motor-vessel.85-110m.diesel}
  - type: leg
    name: rail to Milan
    mode: rail
    distance_km: 1000
    intensity: {method: default, toc: glec3.rail.eu.diesel.container}
  - type: leg
    name: electric rail
    mode: rail
    distance_km: 500
    intensity: {method: default, toc: glec3.rail.eu.electric.average}
  - type: hub
    name: Milan warehouse
    temperature: mixed
    intensity: {method: default, toc: glec3.hub.warehouse.mixed}
"""


def test_glec_chain_with_hubs_through_the_cli(tmp_path: Path) -> None:
    """18 t through two hubs and three legs, GLEC v3.0 Module 2 defaults only.

    - hub, storage + transshipment, ambient (Table 3): 18 t × 2.1 = 37.8 kg WTW (no split);
    - barge, motor vessel 85-110 m (Table 2): 18 t × 250 km = 4 500 tkm;
      WTT 4 500 × 0.0046 = 20.7, TTW × 0.0152 = 68.4, WTW × 0.0198 = 89.1;
    - diesel rail, container (Table 4): 18 000 tkm; WTT × 0.0064 = 115.2, TTW × 0.0212 = 381.6,
      WTW × 0.0276 = 496.8;
    - electric rail, average/mixed (Table 5): 9 000 tkm × 0.007 = 63.0 WTW (no split);
    - hub, warehouse, mixed site (Table 3): 18 t × 33.0 = 594.0 kg WTW.
    Total WTW 37.8 + 89.1 + 496.8 + 63.0 + 594.0 = 1 280.7 kg; WTT/TTW not separable.
    """
    data = calc_json(write(tmp_path, GLEC_CHAIN))
    wtw = [e["wtw_kg"] for e in data["elements"]]
    for got, want in zip(wtw, (37.8, 89.1, 496.8, 63.0, 594.0), strict=True):
        close(got, want)
    barge, rail = data["elements"][1], data["elements"][2]
    close(barge["wtt_kg"], 20.7)
    close(barge["ttw_kg"], 68.4)
    close(rail["wtt_kg"], 115.2)
    close(rail["ttw_kg"], 381.6)
    assert data["elements"][0]["activity_unit"] == "t"
    assert data["elements"][3]["wtt_kg"] is None
    close(data["total"]["wtw_kg"], 1280.7)
    assert data["total"]["wtt_kg"] is None
    assert any(
        "Table 3 'Logistics hubs emission intensity values', p. 87" in s for s in data["sources"]
    )
    assert any("Table 2 'Inland waterways" in s and "p. 86" in s for s in data["sources"])


def test_glec_asia_north_europe_container_lane(tmp_path: Path) -> None:
    """2 TEU (18 t), CNSHA → NLRTM, GLEC v3.0 Table 16 p. 99 Asia to-from North Europe, dry.

    searoute distance 19 610.08 km (as in the DESNZ example above); TEU basis:
    2 TEU × 19 610.08 km = 39 220.16 TEU-km.
    WTT 39 220.16 × 0.0068 = 266.70; TTW × 0.0431 = 1 690.39; WTW × 0.0499 = 1 957.09 kg.
    (WTT + TTW = 1 957.09: this row's published parts add up exactly.)
    """
    path = write(
        tmp_path,
        """
        chain:
          - type: leg
            mode: sea
            from: CNSHA
            to: NLRTM
            operation: {vessel: container ship}
            intensity: {method: default, toc: glec3.sea.container.asia-north-europe.dry}
        """,
    )
    data = calc_json(path)
    (leg,) = data["elements"]
    assert leg["activity_unit"] == "TEU-km"
    assert leg["activity"] == pytest.approx(39220.16, abs=0.01)
    assert data["total"]["wtt_kg"] == pytest.approx(266.70, abs=0.005)
    assert data["total"]["ttw_kg"] == pytest.approx(1690.39, abs=0.005)
    assert data["total"]["wtw_kg"] == pytest.approx(1957.09, abs=0.005)
    assert data["warnings"] == []


def test_glec_belly_freight_long_haul(tmp_path: Path) -> None:
    """2 t, great circle 8 910.55 km + 95 km = 9 005.55 km → 18 011.1 tkm, GLEC Table 1 p. 85
    belly freight > 1500 km: TTW 0.768 → 13 832.52; WTW 0.971 → 17 488.78;
    WTT = (0.971 − 0.768) × 18 011.1 = 3 656.25 kg."""
    path = write(
        tmp_path,
        """
        chain:
          - type: leg
            mode: air
            great_circle_km: 8910.55
            intensity: {method: default, toc: glec3.air.belly.gt1500km}
        """,
        cargo="{mass: 2}",
    )
    result = calculate_file(path)
    assert result.wtw_kg == pytest.approx(17488.78, abs=0.005)
    assert result.ttw_kg == pytest.approx(13832.52, abs=0.005)
    assert result.wtt_kg == pytest.approx(3656.25, abs=0.005)


def test_mixed_is_a_hub_condition_only(tmp_path: Path) -> None:
    leg = """
    chain:
      - type: leg
        mode: road
        distance_km: 10
        operation: {temperature: mixed}
        intensity: {method: default, toc: desnz25.road.hgv.all-hgvs.avg-laden}
    """
    with pytest.raises(ShipmentError, match="'mixed' describes a hub site"):
        calculate_file(write(tmp_path, leg))
    hub = """
    chain:
      - type: hub
        temperature: reefer
        intensity: {method: default, toc: glec3.hub.warehouse.ambient}
    """
    with pytest.raises(
        ShipmentError,
        match=r"'mixed' a site with.*bundled reefer hub defaults: "
        r"glec3\.hub\.maritime-container-terminal\.reefer$",
    ):
        calculate_file(write(tmp_path, hub))


def test_published_rounding_is_kept_not_adjusted() -> None:
    """GLEC Table 2: motor vessel 50-80 m, 7.3 + 24.0 = 31.3 against a published 31.2 g: the
    row loads as published; a 1 g mismatch is still refused."""
    row = bundled_library().default("glec3.iww.motor-vessel.50-80m.diesel")
    assert (row.wtt, row.ttw, row.wtw) == (0.0073, 0.024, 0.0312)
    with pytest.raises(ShipmentError, match="wtw must equal wtt \\+ ttw"):
        DefaultIntensity(
            toc="x",
            mode="rail",
            name="x",
            activity_unit="tkm",
            wtt=0.007,
            ttw=0.024,
            wtw=0.032,
            year=2023,
            source="hand-made test row",
        )


# --- GLEC v3.0 road (Tables 6-9), non-container vessels (Tables 12-15), container terminals ----


def test_road_table_in_whole_grams_loads_as_published() -> None:
    """Table 8 p. 92, rigid truck 12-20 t, diesel: 42 + 138 = 180 against a published 179 g
    (whole grams, step 0.001 kg): kept as published. The same 1 g gap at the default 0.1 g step
    is refused (1 g > 1.5 × 0.1 g)."""
    row = bundled_library().default("glec3.road.rigid-12-20t.diesel.eu-sa")
    assert (row.wtt, row.ttw, row.wtw, row.rounding_step) == (0.042, 0.138, 0.179, 0.001)
    assert "Table 8 'Europe and South America road emission intensity values', p. 92" in (
        row.source
    )
    with pytest.raises(ShipmentError, match=r"within 1\.5 × the published rounding step 0\.0001\)"):
        DefaultIntensity(
            toc="x",
            mode="road",
            name="x",
            activity_unit="tkm",
            wtt=0.042,
            ttw=0.138,
            wtw=0.179,
            year=2023,
            source="hand-made test row",
        )


def test_north_american_refrigerated_truck_is_a_reefer_default(tmp_path: Path) -> None:
    """Table 6 p. 90, SmartWay "Refrigerated": 16 / 78 / 94 g CO2e/tkm; 18 t × 100 km = 1800
    tkm: WTT 28.8, TTW 140.4, WTW 169.2 kg. It is refused for an ambient leg."""
    leg = """
    chain:
      - type: leg
        mode: road
        distance_km: 100
        operation: {{temperature: {temperature}}}
        intensity: {{method: default, toc: glec3.road.smartway-refrigerated.na}}
    """
    result = calculate_file(write(tmp_path, leg.format(temperature="reefer")))
    close(result.wtt_kg, 28.8)
    close(result.ttw_kg, 140.4)
    close(result.wtw_kg, 169.2)
    with pytest.raises(ShipmentError, match="is for reefer road transport"):
        calculate_file(write(tmp_path, leg.format(temperature="ambient")))


def test_glec_bulk_carrier_default(tmp_path: Path) -> None:
    """Table 12 p. 95, bulk carrier 60000-99999 dwt, HFO: 0.7 / 4.5 / 5.2 g CO2e/tkm.

    18 t × 1000 km = 18 000 tkm: WTT 12.6, TTW 81.0, WTW 93.6 kg; no warning (a bulk carrier
    compared with bulk carriers)."""
    path = write(
        tmp_path,
        """
        chain:
          - type: leg
            mode: sea
            distance_km: 1000
            operation: {vessel: bulk carrier}
            intensity: {method: default, toc: glec3.sea.bulk.60000-99999dwt.hfo}
        """,
    )
    result = calculate_file(path)
    close(result.wtt_kg, 12.6)
    close(result.ttw_kg, 81.0)
    close(result.wtw_kg, 93.6)
    assert result.warnings == ()
    assert "Table 12 'Sea transport emissions intensity values" in result.sources[0]
    assert "p. 95" in result.sources[0]


SEA_CARRIER = """
chain:
  - type: leg
    mode: sea
    distance_km: 1000
    operation: {{vessel: {vessel}}}
    intensity: {{method: carrier, source: test report, wtt: 0, ttw: {ttw}}}
"""


@pytest.mark.parametrize(
    ("vessel", "ttw", "warning"),
    [
        # bulk: highest bundled 0.03626 (DESNZ 0-9999 dwt); 0.08 / 0.03626 = 2.2 × → warned
        (
            "bulk carrier",
            0.08,
            r"is 2\.2 × the highest bundled ambient bulk carrier default "
            r"\(desnz25\.sea\.bulk\.0-9999dwt, 0\.03626\)",
        ),
        # ro-pax ferries: 0.06148-0.5424 kg/tkm, so 0.08 is plausible
        ("ro-pax ferry", 0.08, None),
        # oil tankers: highest 0.0875 (GLEC Table 13, 0-4999 dwt VLSFO); 0.5 / 0.0875 = 5.7 ×
        ("crude oil tanker", 0.5, r"is 5\.7 × the highest bundled ambient tanker \(oil\)"),
        # any tanker: "other liquids" 0-999 dwt reaches 1.2433 kg/tkm, so 0.5 passes
        ("tanker", 0.5, None),
        # bulk: lowest 0.0031 (GLEC Table 12, 200000+ dwt HFO); 0.0031 / 0.0002 = 15.5 × below
        ("bulk carrier", 0.0002, r"is 15\.5 × below the lowest bundled ambient bulk carrier"),
    ],
)
def test_sea_plausibility_is_per_vessel_type(
    tmp_path: Path, vessel: str, ttw: float, warning: str | None
) -> None:
    """Each vessel type is compared with its own bundled range (per tkm WTW), so 0.08 kg/tkm is
    too high for a bulk carrier but ordinary for a ro-pax ferry."""
    result = calculate_file(write(tmp_path, SEA_CARRIER.format(vessel=vessel, ttw=ttw)))
    if warning is None:
        assert result.warnings == ()
    else:
        (got,) = result.warnings
        assert re.search(warning, got), got


def test_vessel_type_words() -> None:
    assert vessel_type("container ship (trade-lane average)") == "container ship"
    assert vessel_type("reefer container ship") == "container ship"
    assert vessel_type("products tanker") == "tanker/oil"
    assert vessel_type("LNG tanker") == "tanker/liquefied gas"
    assert vessel_type("other liquids tanker 0-999 dwt") == "tanker/other liquids"
    assert vessel_type("ro-ro ferry 2000+ LM") == "ro-pax ferry"
    assert vessel_type("refrigerated bulk ship 0-1999 dwt") == "refrigerated cargo ship"
    assert vessel_type("motor vessel") is None
    kinds = {vessel_type(r.vehicle) for r in bundled_library().defaults.values() if r.mode == "sea"}
    assert None not in kinds  # every bundled sea row has a type


TERMINAL = """
chain:
  - type: hub
    name: Rotterdam container terminal
    temperature: {temperature}
    intensity: {{method: default, toc: glec3.hub.maritime-container-terminal.{temperature}}}
    {allocation}
"""


def test_maritime_container_terminal_per_container(tmp_path: Path) -> None:
    """Table 3 p. 87, maritime container terminals: ambient 10.7, temperature-controlled 12.6 kg
    CO2e per container (15 sites each). 2 containers: 21.4 kg (ambient), 25.2 kg (reefer); WTW
    only. The activity is the cargo's container count, never converted to t or TEU."""
    cargo = "{mass: 18, unit: t, teu: 2, containers: 2}"
    ambient = calculate_file(
        write(tmp_path, TERMINAL.format(temperature="ambient", allocation=""), cargo=cargo)
    )
    (hub,) = ambient.elements
    assert (hub.activity, hub.activity_unit) == (2.0, "container")
    close(hub.wtw_kg, 21.4)
    assert hub.wtt_kg is None
    assert "Table 3 'Logistics hubs emission intensity values', p. 87" in hub.intensity.sources[0]
    reefer = calculate_file(
        write(tmp_path, TERMINAL.format(temperature="reefer", allocation=""), cargo=cargo)
    )
    close(reefer.wtw_kg, 25.2)
    assert (
        calc_json(
            write(tmp_path, TERMINAL.format(temperature="reefer", allocation=""), cargo=cargo)
        )["containers"]
        == 2.0
    )


def test_container_terminal_needs_a_container_count_and_no_conversion(tmp_path: Path) -> None:
    no_count = write(tmp_path, TERMINAL.format(temperature="ambient", allocation=""))
    with pytest.raises(ShipmentError, match=r"chain\[0\].*needs 'cargo.containers'"):
        calculate_file(no_count)
    by_mass = write(
        tmp_path,
        TERMINAL.format(temperature="ambient", allocation="allocation: mass"),
        cargo="{mass: 18, containers: 1}",
    )
    with pytest.raises(ShipmentError, match="cannot convert an intensity per container"):
        calculate_file(by_mass)


def test_docs_terminal_and_truck_example(tmp_path: Path) -> None:
    """The example in docs/logistics.md: 1 container × 10.7 kg (Table 3 p. 87) + 18 t × 250 km
    × 0.095 kg/tkm (Table 8 p. 92, artic up to 40 t, container, diesel) = 10.7 + 427.5 =
    438.2 kg CO2e WTW; the truck's WTT 4500 × 0.022 = 99.0, TTW 4500 × 0.073 = 328.5."""
    docs = (Path(__file__).parent.parent / "docs" / "logistics.md").read_text(encoding="utf-8")
    block = docs.split("# openpcf transport calc terminal.yaml")[1].split("```")[0]
    block = block.split("\n", 1)[1]  # the rest of the comment line
    path = tmp_path / "terminal.yaml"
    path.write_text(block, encoding="utf-8")
    data = calc_json(path)
    close(data["total"]["wtw_kg"], 438.2)
    hub, truck = data["elements"]
    close(hub["wtw_kg"], 10.7)
    close(truck["wtt_kg"], 99.0)
    close(truck["ttw_kg"], 328.5)


def test_order_book_gives_each_order_its_containers(tmp_path: Path) -> None:
    """The terminal lane (10.7 kg CO2e per container, Table 3 p. 87) for two orders: 3 containers
    → 32.1 kg; half a container → 5.35 kg; total 37.45. A row without a count is refused."""
    (tmp_path / "lane.yaml").write_text(
        "shipment: LANE\nyear: 2025\ncargo: {mass: 1}\n"
        + TERMINAL.format(temperature="ambient", allocation=""),
        encoding="utf-8",
    )
    book = tmp_path / "orders.csv"
    book.write_text(
        "order,shipment,cargo_mass,cargo_unit,teu,containers\n"
        "PO-1,lane.yaml,54,t,,3\nPO-2,lane.yaml,4,t,,0.5\n",
        encoding="utf-8",
    )
    result = calculate_order_book(book)
    close(result.orders[0][1].wtw_kg, 32.1)
    close(result.orders[1][1].wtw_kg, 5.35)
    close(result.wtw_kg, 37.45)
    book.write_text("order,shipment,cargo_mass,containers\nPO-3,lane.yaml,4,\n", encoding="utf-8")
    with pytest.raises(ShipmentError, match=r"orders.csv:2: order 'PO-3'.*'cargo.containers'"):
        calculate_order_book(book)
