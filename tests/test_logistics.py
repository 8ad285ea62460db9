"""ISO 14083 transport chains, checked against numbers worked out by hand in each docstring.

Fuel factors used (EN 16258 via the bundled ``fuels.csv``): diesel B5 TTW 3.04, WTW 3.80, so
WTT 0.76 kg CO2e/kg; diesel B7 TTW 2.97, WTW 3.76, so WTT 0.79 kg CO2e/kg.
"""

from __future__ import annotations

import math
import textwrap
from pathlib import Path

import pytest
import searoute
from hypothesis import given, settings
from hypothesis import strategies as st

from openpcf.errors import InputError
from openpcf.logistics import (
    MissingDefaultError,
    ShipmentError,
    ShipmentFileError,
    UnknownPortError,
    bundled_library,
    calculate_file,
    calculate_order_book,
    find_port,
    great_circle_km,
    shipment_factor,
)

FIXTURES = Path(__file__).parent / "fixtures"
RTOL = 1e-9


def write(tmp_path: Path, body: str, *, cargo: str = "{mass: 10, unit: t}") -> Path:
    head = f"shipment: T-1\nyear: 2024\ncargo: {cargo}\n"
    path = tmp_path / "shipment.yaml"
    path.write_text(head + textwrap.dedent(body), encoding="utf-8")
    return path


def close(actual: float | None, expected: float) -> None:
    assert actual is not None
    assert math.isclose(actual, expected, rel_tol=RTOL), (actual, expected)


def test_three_leg_export_chain() -> None:
    """Truck → port hub → container ship → truck, 10 t cargo.

    1. Truck, fuel-based: q = 0.3 kg/km × (1 + 0.25) / (20 t × 0.5) = 0.0375 kg diesel/tkm;
       1000 tkm (10 t × 100 km): WTT 0.0375 × 0.76 × 1000 = 28.5, TTW 0.0375 × 3.04 × 1000
       = 114, WTW 142.5 kg CO2e.
    2. Hub, operator data 0.5 WTT + 1.5 TTW kg/t × 10 t: 5 + 15 = 20.
    3. Ship, carrier 0.002 + 0.008 kg/tkm × 200 000 tkm: 400 + 1600 = 2000.
    4. Truck, carrier fuel data 12 kg diesel B7 for 400 tkm: WTT 12 × 0.79 / 400 = 0.0237,
       TTW 12 × 2.97 / 400 = 0.0891 kg/tkm; × 500 tkm: 11.85 + 44.55 = 56.4.
    Totals: WTT 445.35, TTW 1773.55, WTW 2218.9 kg CO2e.
    """
    result = calculate_file(FIXTURES / "logistics_export_chain.yaml")
    legs = result.elements
    assert [e.kind for e in legs] == ["leg", "hub", "leg", "leg"]
    for element, (wtt, ttw) in zip(
        legs, [(28.5, 114.0), (5.0, 15.0), (400.0, 1600.0), (11.85, 44.55)], strict=True
    ):
        close(element.wtt_kg, wtt)
        close(element.ttw_kg, ttw)
        close(element.wtw_kg, wtt + ttw)
    close(legs[0].activity, 1000.0)
    assert legs[0].activity_unit == "tkm"
    close(legs[1].activity, 10.0)
    assert legs[1].activity_unit == "t"
    close(result.wtt_kg, 445.35)
    close(result.ttw_kg, 1773.55)
    close(result.wtw_kg, 2218.9)
    assert any("fuel-based" in m for m in result.methods)
    assert any("EN 16258" in s for s in result.sources)


def test_shipment_factor_per_kg_cargo() -> None:
    """2218.9 kg CO2e / 10 000 kg cargo = 0.22189 kg CO2e per kg."""
    factor = shipment_factor("logistics_export_chain.yaml", base=FIXTURES)
    assert factor.id == "shipment.logistics_export_chain"
    assert factor.unit == "kg"
    assert factor.category == "transport"
    close(factor.emissions["CO2e"], 0.22189)
    assert "WTT 0.044535 + TTW 0.177355" in factor.notes
    assert "EN 16258" in factor.source
    assert factor.year == 2024


def test_air_leg_adds_95_km(tmp_path: Path) -> None:
    """Two points on the equator 10° apart: GCD = 6371.0088 × π/18 = 1111.9508 km; +95 km.

    2 t × 1206.9508 km = 2413.9016 tkm × (0.1 + 0.5) kg/tkm = 1448.341 kg CO2e.
    """
    path = write(
        tmp_path,
        """
        chain:
          - type: leg
            mode: air
            from: {name: A, lat: 0, lon: 0}
            to: {name: B, lat: 0, lon: 10}
            intensity: {method: carrier, source: airline report, wtt: 0.1, ttw: 0.5}
        """,
        cargo="{mass: 2, unit: t}",
    )
    gcd = 6371.0088 * math.pi / 18
    leg = calculate_file(path).elements[0]
    close(leg.distance_km, gcd + 95)
    assert "+ 95 km" in leg.distance_method
    close(leg.wtw_kg, 2 * (gcd + 95) * 0.6)
    close(leg.wtt_kg, 2 * (gcd + 95) * 0.1)


def test_air_leg_from_given_great_circle(tmp_path: Path) -> None:
    """great_circle_km 1000 → 1095 km."""
    path = write(
        tmp_path,
        """
        chain:
          - {type: leg, mode: air, great_circle_km: 1000,
             intensity: {method: carrier, source: x, wtt: 0.1, ttw: 0.5}}
        """,
    )
    close(calculate_file(path).elements[0].distance_km, 1095.0)


ROAD_LEG = """
chain:
  - type: leg
    mode: road
    distance_km: 200
    operation: {{vehicle: articulated truck, load_factor: 0.6, empty_running: 0.2,
                temperature: {temperature}}}
    intensity: {intensity}
defaults:
  - {{toc: test.road.artic, mode: road, activity_unit: tkm, wtt: 0.02, ttw: 0.07, year: 2024,
     source: hand-made test default}}
"""


def test_fuel_based_vs_default_intensity_same_leg(tmp_path: Path) -> None:
    """Same 200 km road leg, 10 t → 2000 tkm.

    Fuel-based: q = 0.3 × 1.2 / (25 × 0.6) = 0.024 kg diesel B5/tkm → WTT 0.01824,
    TTW 0.07296, WTW 0.0912 kg/tkm → 36.48 + 145.92 = 182.4 kg CO2e.
    Default (test row 0.02 + 0.07 kg/tkm): 40 + 140 = 180 kg CO2e.
    """
    fuel = write(
        tmp_path,
        ROAD_LEG.format(
            temperature="ambient",
            intensity="{method: fuel, fuel: diesel-b5, consumption_kg_per_km: 0.3, capacity: 25}",
        ),
    )
    by_fuel = calculate_file(fuel).elements[0]
    close(by_fuel.wtt_kg, 36.48)
    close(by_fuel.ttw_kg, 145.92)
    close(by_fuel.wtw_kg, 182.4)
    default = write(
        tmp_path,
        ROAD_LEG.format(temperature="ambient", intensity="{method: default, toc: test.road.artic}"),
    )
    by_default = calculate_file(default).elements[0]
    close(by_default.wtt_kg, 40.0)
    close(by_default.ttw_kg, 140.0)
    close(by_default.wtw_kg, 180.0)
    assert by_default.intensity.method == "default intensity"
    assert "hand-made test default" in by_default.intensity.sources[0]


def test_bundled_wtw_only_default_has_no_split(tmp_path: Path) -> None:
    """GLEC v2 CNG reefer truck, WTW 0.08288 kg/tkm × 2000 tkm = 165.76; split not sourced."""
    path = write(
        tmp_path,
        ROAD_LEG.format(
            temperature="reefer",
            intensity="{method: default, toc: glec2.road.artic-lt40t.cng.reefer}",
        ),
    )
    result = calculate_file(path)
    close(result.wtw_kg, 165.76)
    assert result.wtt_kg is None
    assert result.ttw_kg is None


def test_incomplete_default_is_refused_not_guessed(tmp_path: Path) -> None:
    """A default that gives only its WTT part (a synthetic row in the shipment file) is refused
    with what it does give; no TTW or WTW is guessed from it."""
    partial = (
        "  - {toc: test.road.wtt-only, mode: road, wtt: 0.022, year: 2023,\n"
        "     source: hand-made partial test row}\n"
    )
    path = write(
        tmp_path,
        ROAD_LEG.format(
            temperature="ambient",
            intensity="{method: default, toc: test.road.wtt-only}",
        )
        + partial,
    )
    with pytest.raises(
        MissingDefaultError,
        match=r"gives only WTT 0\.022 kg CO2e/tkm \(hand-made partial test row\).*TTW and WTW",
    ):
        calculate_file(path)


def test_glec_artic_truck_default_is_complete(tmp_path: Path) -> None:
    """GLEC v3.0 Table 8 p. 92, artic truck up to 40 t GVW, average/mixed, diesel: 22 / 73 / 95
    g CO2e/tkm. 10 t × 200 km = 2000 tkm: WTT 44, TTW 146, WTW 190 kg CO2e."""
    path = write(
        tmp_path,
        ROAD_LEG.format(
            temperature="ambient",
            intensity="{method: default, toc: glec3.road.artic-34-40t.diesel.eu-sa}",
        ),
    )
    result = calculate_file(path)
    close(result.wtt_kg, 44.0)
    close(result.ttw_kg, 146.0)
    close(result.wtw_kg, 190.0)
    assert (
        "Table 8 'Europe and South America road emission intensity values', p. 92"
        in (result.sources[0])
    )


def test_fuel_based_leg_with_a_glec_fuel(tmp_path: Path) -> None:
    """GLEC v3.0 Module 1 p. 77, diesel (Europe): TTW 3.17, WTW 4.13, so WTT 0.96 kg CO2e/kg.

    q = 0.3 kg/km × (1 + 0.2) / (25 t × 0.6) = 0.024 kg diesel/tkm; 10 t × 200 km = 2000 tkm:
    WTT 0.024 × 0.96 × 2000 = 46.08, TTW 0.024 × 3.17 × 2000 = 152.16, WTW 198.24 kg CO2e.
    """
    path = write(
        tmp_path,
        ROAD_LEG.format(
            temperature="ambient",
            intensity="{method: fuel, fuel: glec3-eu-diesel, consumption_kg_per_km: 0.3, "
            "capacity: 25}",
        ),
    )
    leg = calculate_file(path).elements[0]
    close(leg.wtt_kg, 46.08)
    close(leg.ttw_kg, 152.16)
    close(leg.wtw_kg, 198.24)
    assert "Module 1, 'Emission factors: European sources', p. 77" in leg.intensity.sources[0]


def test_unknown_default_toc_says_what_to_give(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        ROAD_LEG.format(temperature="ambient", intensity="{method: default, toc: glec3.rail.x}"),
    )
    with pytest.raises(MissingDefaultError, match="give carrier data or fuel consumption"):
        calculate_file(path)


SEA_TEU = """
chain:
  - type: leg
    mode: sea
    from: CNSHA
    to: NLRTM
    distance_km: 10000
    intensity: {{method: carrier, source: carrier TEU report, activity_unit: TEU-km,
                wtt: 0.01, ttw: 0.05}}
    {allocation}
"""


def test_container_allocation_by_teu_vs_mass(tmp_path: Path) -> None:
    """16 t of cargo in 2 TEU, 10 000 km, carrier intensity 0.01 + 0.05 kg/TEU-km.

    By TEU: 2 × 10 000 = 20 000 TEU-km × 0.06 = 1200 kg (WTT 200, TTW 1000).
    By mass at 10 t/TEU: 0.006 kg/tkm × 16 t × 10 000 km = 960 kg (WTT 160, TTW 800).
    """
    cargo = "{mass: 16, unit: t, teu: 2}"
    by_teu = calculate_file(write(tmp_path, SEA_TEU.format(allocation=""), cargo=cargo))
    close(by_teu.wtw_kg, 1200.0)
    close(by_teu.wtt_kg, 200.0)
    assert by_teu.elements[0].activity_unit == "TEU-km"
    mass = "allocation: mass\n    t_per_teu: 10\n    t_per_teu_source: carrier average 2024"
    by_mass = calculate_file(write(tmp_path, SEA_TEU.format(allocation=mass), cargo=cargo))
    close(by_mass.wtw_kg, 960.0)
    close(by_mass.wtt_kg, 160.0)
    close(by_mass.ttw_kg, 800.0)
    assert by_mass.elements[0].activity_unit == "tkm"


def test_mass_allocation_without_t_per_teu_uses_the_imo_default(tmp_path: Path) -> None:
    """No t_per_teu: IMO MEPC.1/Circ.684's 10 t per loaded TEU, named in the result.

    0.06 kg/TEU-km / 10 t = 0.006 kg/tkm × 16 t × 10 000 km = 960 kg (WTT 160, TTW 800).
    """
    path = write(tmp_path, SEA_TEU.format(allocation="allocation: mass"), cargo="{mass: 16}")
    result = calculate_file(path)
    close(result.wtw_kg, 960.0)
    close(result.wtt_kg, 160.0)
    assert "converted at 10 t/TEU" in result.elements[0].intensity.description
    assert any("MEPC.1/Circ.684" in s for s in result.sources)


def test_hub_from_operator_energy(tmp_path: Path) -> None:
    """Hub: 1000 kWh (CN 2022 grid 0.5366 kg/kWh, counted WTT) + 100 kg diesel B5, 500 t.

    WTT (536.6 + 76) / 500 = 1.2252 kg/t; TTW 304 / 500 = 0.608 kg/t; 10 t → 12.252 + 6.08.
    """
    path = write(
        tmp_path,
        """
        chain:
          - type: hub
            name: warehouse
            intensity:
              method: carrier
              source: warehouse meter readings 2022
              activity_unit: t
              activity: 500
              electricity_kwh: 1000
              grid: {geography: CN, year: 2022}
              fuel_used: [{fuel: diesel-b5, amount: 100}]
        """,
    )
    hub = calculate_file(path).elements[0]
    close(hub.wtt_kg, 12.252)
    close(hub.ttw_kg, 6.08)
    close(hub.wtw_kg, 18.332)


def test_sea_distance_from_searoute_and_port_names(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
        chain:
          - {type: leg, mode: sea, from: Shanghai, to: NLRTM,
             intensity: {method: carrier, source: x, wtt: 0.002, ttw: 0.008}}
        """,
    )
    leg = calculate_file(path).elements[0]
    sha, rtm = find_port("CNSHA"), find_port("Rotterdam")
    expected = searoute.searoute([sha.lon, sha.lat], [rtm.lon, rtm.lat])["properties"]["length"]
    close(leg.distance_km, expected)
    assert 15000 < expected < 25000
    assert "searoute" in leg.distance_method
    assert "CNSHA" in leg.distance_method


def test_road_great_circle_needs_a_sourced_adjustment_factor(tmp_path: Path) -> None:
    body = """
        chain:
          - type: leg
            mode: rail
            from: {{lat: 0, lon: 0}}
            to: {{lat: 0, lon: 1}}
            {extra}
            intensity: {{method: carrier, source: x, wtt: 0.01, ttw: 0.01}}
        """
    with pytest.raises(MissingDefaultError, match="no sourced GLEC distance adjustment"):
        calculate_file(write(tmp_path, body.format(extra="")))
    extra = "adjustment_factor: 1.2\n            adjustment_source: own route survey"
    leg = calculate_file(write(tmp_path, body.format(extra=extra))).elements[0]
    close(leg.distance_km, 1.2 * great_circle_km(0, 0, 1, 0))
    assert "own route survey" in leg.distance_method


def test_order_book(tmp_path: Path) -> None:
    """PO-1001: the lane's 10 t → 2218.9; PO-1002: 5000 kg → half, 1109.45; total 3328.35."""
    book = calculate_order_book(FIXTURES / "logistics_order_book.csv")
    assert [o for o, _ in book.orders] == ["PO-1001", "PO-1002"]
    close(book.orders[0][1].wtw_kg, 2218.9)
    close(book.orders[1][1].wtw_kg, 1109.45)
    close(book.wtw_kg, 3328.35)


def test_bundled_data_carries_sources() -> None:
    """Every bundled fuel names its document: the four EN 16258 rows, and GLEC v3.0 Module 1
    rows (``glec3-*``) with their table title and page."""
    lib = bundled_library()
    assert {"diesel-b5", "diesel-b7", "gasoline-e5", "gasoline-e10"} <= set(lib.fuels)
    for fuel in lib.fuels.values():
        if fuel.id.startswith("glec3-"):
            assert "GLEC Framework v3.0" in fuel.source
            assert "Module 1, 'Emission factors:" in fuel.source
            assert " p. " in fuel.source
            assert fuel.year == 2023
        else:
            assert "EN 16258" in fuel.source
            assert fuel.year == 2012
    assert len([f for f in lib.fuels if f.startswith("glec3-")]) == 30
    close(lib.fuels["glec3-na-vlsfo"].wtt, 3.79 - 3.23)
    for row in lib.defaults.values():
        assert "GLEC Framework" in row.source or "DESNZ" in row.source
        assert row.year in (2019, 2023, 2025)
        assert "Table" in row.source or "sheet" in row.source or "via Climatiq" in row.source
    close(lib.fuels["diesel-b5"].wtt, 0.76)


# --- bad input -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "error", "pattern"),
    [
        (
            "chain:\n  - {type: leg, mode: sea, from: XXNOPE, to: NLRTM, "
            "intensity: {method: carrier, source: x, wtt: 0, ttw: 0.01}}\n",
            UnknownPortError,
            "unknown port 'XXNOPE'",
        ),
        (
            "chain:\n  - {type: leg, mode: bike, distance_km: 5, "
            "intensity: {method: carrier, source: x, wtt: 0, ttw: 0.01}}\n",
            ShipmentFileError,
            r"shipment.yaml:5: chain\[0\].*'road', 'rail', 'sea', 'inland_waterway' or 'air'",
        ),
        (
            "chain:\n  - {type: leg, mode: road, distance_km: -5, "
            "intensity: {method: carrier, source: x, wtt: 0, ttw: 0.01}}\n",
            ShipmentFileError,
            r"chain\[0\].distance_km: a distance must be > 0 km, got -5",
        ),
        (
            "chain:\n  - {type: leg, mode: road, distance_km: 5, operation: {load_factor: 1.5},"
            "intensity: {method: carrier, source: x, wtt: 0, ttw: 0.01}}\n",
            ShipmentFileError,
            r"operation.load_factor: load factor must be in \(0, 1\].*got 1.5",
        ),
        (
            "chain:\n  - {type: leg, mode: road, distance_km: 5, operation: {load_factor: 0},"
            "intensity: {method: carrier, source: x, wtt: 0, ttw: 0.01}}\n",
            ShipmentFileError,
            r"load factor must be in \(0, 1\]",
        ),
        (
            "chain:\n  - {type: leg, mode: air, distance_km: 500, "
            "intensity: {method: carrier, source: x, wtt: 0, ttw: 0.01}}\n",
            ShipmentFileError,
            "great-circle distance \\+ 95 km",
        ),
        (
            "chain:\n  - {type: leg, mode: road, distance_km: 5, operation: {load_factor: 0.5},"
            "intensity: {method: fuel, fuel: lng, consumption_kg_per_km: 0.2, capacity: 20}}\n",
            MissingDefaultError,
            "no sourced fuel factor for 'lng'",
        ),
    ],
)
def test_bad_input(tmp_path: Path, body: str, error: type[Exception], pattern: str) -> None:
    path = write(tmp_path, body)
    with pytest.raises(error, match=pattern):
        calculate_file(path)


def test_negative_cargo_is_refused(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "chain:\n  - {type: leg, mode: road, distance_km: 5, "
        "intensity: {method: carrier, source: x, wtt: 0, ttw: 0.01}}\n",
        cargo="{mass: -3, unit: t}",
    )
    with pytest.raises(ShipmentFileError, match=r"shipment.yaml:3: cargo.mass: cargo mass must"):
        calculate_file(path)


def test_element_errors_name_file_and_line(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "chain:\n  - {type: leg, mode: road, distance_km: 5, operation: {load_factor: 0.5},"
        "\n     intensity: {method: fuel, fuel: lng, consumption_kg_per_km: 0.2, capacity: 2}}\n",
    )
    with pytest.raises(ShipmentError, match=r"shipment.yaml:5: chain\[0\] \(leg ''\)"):
        calculate_file(path)


def test_errors_are_input_errors(tmp_path: Path) -> None:
    assert issubclass(UnknownPortError, InputError)
    assert issubclass(MissingDefaultError, LookupError)
    with pytest.raises(UnknownPortError, match=r"ambiguous|unknown"):
        find_port("Nowhere-on-sea")


def test_example_shipment_and_order_book() -> None:
    examples = Path(__file__).parent.parent / "examples" / "logistics"
    single = calculate_file(examples / "suzhou_to_rotterdam.yaml")
    assert single.wtt_kg is not None
    assert single.ttw_kg is not None
    close(single.wtw_kg, single.wtt_kg + single.ttw_kg)
    book = calculate_order_book(examples / "order_book.csv")
    assert len(book.orders) == 3


def test_data_readme_lists_bundled_and_absent() -> None:
    readme = Path(__file__).parent.parent / "src/openpcf/logistics/data/README.md"
    text = readme.read_text(encoding="utf-8")
    assert "Not bundled (absent)" in text
    for toc in bundled_library().defaults:
        assert toc in text
    for fuel in bundled_library().fuels:
        assert fuel in text


@settings(max_examples=25, deadline=None)
@given(st.floats(min_value=0.001, max_value=1e5))
def test_emissions_scale_with_cargo_mass(mass: float) -> None:
    """Every intensity in the fixture chain is per t or tkm, so WTW = 221.89 kg/t × mass."""
    from openpcf.logistics import load_shipment
    from openpcf.logistics.calculate import calculate_shipment
    from openpcf.logistics.schema import Cargo

    spec = load_shipment(FIXTURES / "logistics_export_chain.yaml").spec
    spec = spec.model_copy(update={"cargo": Cargo(mass=mass, unit="t")})
    assert math.isclose(calculate_shipment(spec).wtw_kg, 221.89 * mass, rel_tol=1e-9)
