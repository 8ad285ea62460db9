"""Product models end to end, with expected values worked out by hand in each docstring."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from openpcf.errors import AllocationError, UnitError

RTOL = 1e-12

ELECTROLYZER = """
processes:
  - id: main
    name: Alkaline electrolysis
    stage: production
    output: {{product: hydrogen, amount: 1, unit: kg, mass: 1, energy: 120, price: 3}}
    co_products:
      - {{product: oxygen, amount: 8, unit: kg, energy: 0, price: 0.1, substitutes: test.oxygen}}
      - {{product: heat, amount: 10, unit: MJ, mass: 0, price: 0.01, substitutes: test.heat}}
    allocation: {allocation}
    inputs:
      - {{factor: test.power, amount: 55, unit: kWh}}
"""


@pytest.mark.parametrize(
    ("allocation", "expected"),
    [
        # mass: H2 1 kg, O2 8 kg, heat 0 kg -> share 1/9; 55 kWh x 0.5 = 27.5 -> 27.5/9
        ("{method: mass}", 27.5 / 9),
        # energy: 1x120 MJ, 8x0 MJ, 10 MJ of heat (unit MJ, 1 MJ/MJ) -> share 120/130
        ("{method: energy}", 27.5 * 120 / 130),
        # economic: 1x3, 8x0.1, 10x0.01 -> share 3/3.9
        ("{method: economic}", 27.5 * 3 / 3.9),
        # explicit factors
        ("{method: factors, factors: {hydrogen: 0.9, oxygen: 0.08, heat: 0.02}}", 27.5 * 0.9),
        # substitution: 27.5 - 8 kg O2 x 0.4 - 10 MJ heat x 0.07 = 27.5 - 3.2 - 0.7 = 23.6
        ("{method: substitution}", 23.6),
    ],
)
def test_electrolyzer_allocation(write_model, calc, allocation, expected):
    """An electrolyzer makes 1 kg H2, 8 kg O2 and 10 MJ heat from 55 kWh at 0.5 kg CO2/kWh."""
    path = write_model(ELECTROLYZER.format(allocation=allocation))
    result = calc(path).result
    np.testing.assert_allclose(result.total, expected, rtol=RTOL)


def test_coproduct_columns_are_supplied_to_other_processes(write_model, calc):
    """A process can consume an allocated co-product.

    Mass allocation: oxygen carries 8/9 of 27.5 kg CO2 for 8 kg -> 27.5/9 per kg.
    'main' (cutting) uses 2 kg of that oxygen: 2 x 27.5/9 = 6.1111 kg CO2e.
    """
    body = """
    processes:
      - id: main
        name: Cutting
        stage: production
        output: {product: cut part, amount: 1, unit: kg}
        inputs:
          - {process: electrolysis, product: oxygen, amount: 2, unit: kg}
      - id: electrolysis
        name: Electrolysis
        stage: raw_material_acquisition
        output: {product: hydrogen, amount: 1, unit: kg}
        co_products: [{product: oxygen, amount: 8, unit: kg}]
        allocation: {method: mass}
        inputs: [{factor: test.power, amount: 55, unit: kWh}]
    """
    result = calc(write_model(body)).result
    np.testing.assert_allclose(result.total, 2 * 27.5 / 9, rtol=RTOL)


def test_unit_conversions(write_model, calc):
    """Inputs in other units than their factor's.

    36 MJ of power = 10 kWh -> 5.0; 500 kg steel = 0.5 t -> 1000.0; 1 GJ gas = 1000 MJ -> 56.0;
    2 t x 300 km = 600 tkm -> 60.0; 250 g of oxygen = 0.25 kg -> 0.1. Sum 1121.1. The output is
    1 t, declared unit 1 kg: everything / 1000 = 1.1211.
    """
    body = """
    processes:
      - id: main
        name: Mixed units
        stage: production
        output: {product: thing, amount: 1, unit: t}
        inputs:
          - {factor: test.power, amount: 36, unit: MJ}
          - {factor: test.steel, amount: 500, unit: kg}
          - {factor: test.gas, amount: 1, unit: GJ}
          - {factor: test.truck, amount: 600, unit: t*km}
          - {factor: test.oxygen, amount: 250, unit: g}
    """
    result = calc(write_model(body)).result
    np.testing.assert_allclose(result.total, 1121.1 / 1000, rtol=RTOL)


def test_two_process_loop(write_model, calc):
    """a makes 1 kg A using 0.5 kWh B, emits 2 kg CO2; b makes 1 kWh B using 0.2 kg A, emits 1.

    s_a = 1 + 0.2 s_b, s_b = 0.5 s_a  =>  s_a = 1/0.9 = 1.1111, s_b = 0.5556.
    Total = 2 s_a + 1 s_b = 2.2222 + 0.5556 = 2.7778 = 2.5 / 0.9.
    """
    body = """
    processes:
      - id: main
        name: A
        stage: production
        output: {product: A, amount: 1, unit: kg}
        inputs: [{process: b, amount: 0.5, unit: kWh}]
        emissions: [{gas: CO2-fossil, amount: 2}]
      - id: b
        name: B
        stage: production
        output: {product: B, amount: 1, unit: kWh}
        inputs: [{process: main, amount: 0.2, unit: kg}]
        emissions: [{gas: CO2-fossil, amount: 1}]
    """
    result = calc(write_model(body)).result
    np.testing.assert_allclose(result.total, 2.5 / 0.9, rtol=RTOL)
    scaling = {p.id: p.scaling for p in result.processes}
    np.testing.assert_allclose([scaling["main"], scaling["b"]], [1 / 0.9, 0.5 / 0.9], rtol=RTOL)
    # the contribution tree adds up to the total even though the loop is cut
    np.testing.assert_allclose(sum(c.co2e for c in result.tree.children), result.total, rtol=1e-9)


MIXED_GASES = """
processes:
  - id: main
    name: Mixed gases
    stage: production
    output: {product: thing, amount: 1, unit: kg}
    emissions:
      - {gas: CH4-fossil, amount: 1}
      - {gas: N2O, amount: 100, unit: g}
      - {gas: SF6, amount: 1, unit: g}
      - {gas: CH4-biogenic, amount: 1}
"""


@pytest.mark.parametrize(
    ("gwp", "expected"),
    [
        # AR6: 1 x 29.8 + 0.1 x 273 + 0.001 x 25200 + 1 x 27.0 = 29.8 + 27.3 + 25.2 + 27 = 109.3
        ("AR6", 109.3),
        # AR5: 1 x 30 + 0.1 x 265 + 0.001 x 23500 + 1 x 28 = 30 + 26.5 + 23.5 + 28 = 108.0
        ("AR5", 108.0),
    ],
)
def test_gwp_sets(write_model, calc, gwp, expected):
    """The same inventory characterised with AR6 and AR5 (standards-facts §1.1)."""
    result = calc(write_model(MIXED_GASES), gwp=gwp).result
    np.testing.assert_allclose(result.total, expected, rtol=RTOL)
    np.testing.assert_allclose(result.by_gas_kg["SF6"], 0.001, rtol=RTOL)
    # fossil excludes biogenic methane; PACT's pcfExcluding includes biogenic non-CO2
    biogenic = 27.0 if gwp == "AR6" else 28.0
    np.testing.assert_allclose(result.fossil, expected - biogenic, rtol=RTOL)
    np.testing.assert_allclose(result.pcf_excluding_biogenic_uptake, expected, rtol=RTOL)


def test_biogenic_uptake_and_stages(write_model, calc):
    """Wood growth removes 1.8 kg CO2 (uptake, -1.8); burning it at end of life emits 1.8 kg
    biogenic CO2 (+1.8) plus 2 g of biogenic CH4 (AR6 27.0 -> 0.054).

    Total (ISO 14067, all emissions and removals): -1.8 + 1.8 + 0.054 = 0.054.
    PACT v3: pcfExcludingBiogenicUptake = fossil 0 + biogenic non-CO2 0.054 = 0.054;
    pcfIncludingBiogenicUptake = 0.054 - 1.8 = -1.746.
    """
    body = """
    processes:
      - id: main
        name: Wood board
        stage: raw_material_acquisition
        output: {product: board, amount: 1, unit: kg}
        emissions: [{gas: CO2-uptake, amount: 1.8}]
      - id: burn
        name: Incineration
        stage: end_of_life
        output: {product: burnt board, amount: 1, unit: kg}
        emissions: [{gas: CO2-biogenic, amount: 1.8}, {gas: CH4-biogenic, amount: 2, unit: g}]
    """
    path = write_model(
        body.replace(
            "output: {product: board, amount: 1, unit: kg}",
            "output: {product: board, amount: 1, unit: kg}\n"
            "        inputs: [{process: burn, amount: 1, unit: kg}]",
        ),
        boundary="cradle-to-grave",
    )
    result = calc(path).result
    np.testing.assert_allclose(result.total, 0.054, rtol=1e-9)
    np.testing.assert_allclose(result.uptake, -1.8, rtol=RTOL)
    np.testing.assert_allclose(result.pcf_excluding_biogenic_uptake, 0.054, rtol=1e-9)
    np.testing.assert_allclose(result.pcf_including_biogenic_uptake, -1.746, rtol=1e-9)
    np.testing.assert_allclose(result.by_stage["end_of_life"], 1.854, rtol=1e-9)
    np.testing.assert_allclose(result.by_stage["raw_material_acquisition"], -1.8, rtol=RTOL)


def test_declared_unit_other_than_output(write_model, calc):
    """A battery pack of 100 kWh capacity needs 1 t of steel (2000 kg CO2): per declared kWh
    of capacity the footprint is 2000 / 100 = 20 kg CO2e."""
    body = """
    processes:
      - id: main
        name: Pack assembly
        stage: production
        output: {product: pack capacity, amount: 100, unit: kWh}
        inputs: [{factor: test.steel, amount: 1, unit: t}]
    """
    result = calc(write_model(body, declared_unit="kilowatt hour")).result
    np.testing.assert_allclose(result.total, 20.0, rtol=RTOL)


def test_parameters_and_overrides(write_model, calc):
    """power = base * (1 + loss); base 10 kWh, loss 0.1 -> 11 kWh x 0.5 = 5.5;
    with --param loss=0.3 -> 13 kWh -> 6.5."""
    body = """
    parameters: {base: 10, loss: 0.1, power: "base * (1 + loss)"}
    processes:
      - id: main
        name: P
        stage: production
        output: {product: x, amount: 1, unit: kg}
        inputs: [{factor: test.power, amount: power, unit: kWh}]
    """
    path = write_model(body)
    np.testing.assert_allclose(calc(path).result.total, 5.5, rtol=RTOL)
    np.testing.assert_allclose(calc(path, overrides={"loss": "0.3"}).result.total, 6.5, rtol=RTOL)


def test_quality_and_primary_share(write_model, calc):
    """Electricity 10 kWh x 0.5 = 5 kg (pedigree tech 2, geo 3, temporal 1; secondary) and a
    direct emission of 15 kg CO2 (tech 1, geo 1, temporal 1; primary by default).
    DQR weighted by kg CO2e: tech (5x2 + 15x1)/20 = 1.25; geo (5x3 + 15)/20 = 1.5;
    temporal 1.0. Primary share 15/20 = 75 %."""
    body = """
    processes:
      - id: main
        name: P
        stage: production
        output: {product: x, amount: 1, unit: kg}
        inputs:
          - {factor: test.power, amount: 10, unit: kWh,
             quality: {technological: 2, geographical: 3, temporal: 1}}
        emissions:
          - {gas: CO2-fossil, amount: 15,
             quality: {technological: 1, geographical: 1, temporal: 1}}
    """
    result = calc(write_model(body)).result
    q = result.quality
    np.testing.assert_allclose([q.technological, q.geographical, q.temporal], [1.25, 1.5, 1.0])
    np.testing.assert_allclose(result.primary_data_share, 75.0)
    assert q.coverage == 1.0


def test_grid_fallback_in_model(write_model, calc):
    """Hebei has no published 2023 provincial factor: the North China grid 2023 value 0.6361
    kg CO2/kWh is used (standards-facts §2.2), and the result says so. 10 kWh -> 6.361."""
    body = """
    processes:
      - id: main
        name: P
        stage: production
        output: {product: x, amount: 1, unit: kg}
        inputs: [{electricity: {geography: CN-HE, year: 2023}, amount: 10, unit: kWh}]
    """
    result = calc(write_model(body)).result
    np.testing.assert_allclose(result.total, 6.361, rtol=RTOL)
    assert any("North" in note for note in result.notes)


def test_unconvertible_unit_names_process_and_line(write_model, calc):
    body = """
    processes:
      - id: main
        name: P
        stage: production
        output: {product: x, amount: 1, unit: kg}
        inputs: [{factor: test.power, amount: 3, unit: kg}]
    """
    with pytest.raises(UnitError, match=r"model\.yaml:\d+: process 'main', input 1.*'kg'.*'kWh'"):
        calc(write_model(body))


def test_allocation_needs_properties(write_model, calc):
    body = """
    processes:
      - id: main
        name: P
        stage: production
        output: {product: x, amount: 1, unit: kg}
        co_products: [{product: steam, amount: 5, unit: MJ}]
        allocation: {method: mass}
    """
    with pytest.raises(AllocationError, match="'steam' is in 'MJ'; give its mass"):
        calc(write_model(body))


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    amounts=st.lists(st.floats(0.0, 1e3, allow_nan=False), min_size=4, max_size=4),
    demand=st.floats(0.01, 100.0),
)
def test_stage_totals_sum_and_linearity(write_model, calc, amounts, demand):
    """Stage totals add up to the total, and the footprint is linear in the declared amount."""
    a, b, c, d = amounts
    body = f"""
    processes:
      - id: main
        name: Use
        stage: use
        output: {{product: x, amount: 1, unit: kg}}
        inputs:
          - {{process: make, amount: 1, unit: kg}}
          - {{factor: test.power, amount: {a}, unit: kWh}}
        emissions: [{{gas: N2O, amount: {b}, unit: g}}]
      - id: make
        name: Make
        stage: production
        output: {{product: y, amount: 1, unit: kg}}
        inputs:
          - {{factor: test.steel, amount: {c}, unit: kg}}
          - {{process: ship, amount: 1, unit: kg}}
      - id: ship
        name: Ship
        stage: distribution
        output: {{product: z, amount: 1, unit: kg}}
        inputs: [{{factor: test.truck, amount: {d}, unit: tkm}}]
    """
    path = write_model(body, boundary="cradle-to-grave")
    result = calc(path).result
    np.testing.assert_allclose(sum(result.by_stage.values()), result.total, rtol=1e-9, atol=1e-12)
    expected = 0.5 * a + 0.273 * b + 2.0 * c + 0.1 * d
    np.testing.assert_allclose(result.total, expected, rtol=1e-9, atol=1e-12)
    scaled = path.read_text().replace(
        "mass_per_declared_unit: 1", f"mass_per_declared_unit: 1\n  declared_amount: {demand}"
    )
    path.write_text(scaled)
    np.testing.assert_allclose(calc(path).result.total, demand * expected, rtol=1e-9, atol=1e-12)


def test_coproduct_switched_off_and_property_expressions(write_model, calc):
    """Energy allocation with the H2 heating value as a parameter (lhv = 120 MJ/kg) and the
    heat co-product switched off (heat = 0): share of H2 = 120 / (120 + 8 x 0) = 1, so all
    27.5 kg CO2 (55 kWh x 0.5) stay with 1 kg H2."""
    body = """
    parameters: {lhv: 120, heat: 0}
    processes:
      - id: main
        name: Electrolysis
        stage: production
        output: {product: hydrogen, amount: 1, unit: kg, energy: lhv}
        co_products:
          - {product: oxygen, amount: 8, unit: kg, energy: 0}
          - {product: heat, amount: heat, unit: MJ}
        allocation: {method: energy}
        inputs: [{factor: test.power, amount: 55, unit: kWh}]
    """
    np.testing.assert_allclose(calc(write_model(body)).result.total, 27.5, rtol=RTOL)


def test_reserved_parameter_name(write_model, calc):
    from openpcf.errors import ModelFileError

    body = """
    parameters: {yield: 0.9}
    processes:
      - {id: main, name: P, stage: production, output: {product: x, amount: 1, unit: kg}}
    """
    with pytest.raises(ModelFileError, match=r"reserved words"):
        calc(write_model(body))


def test_shipment_and_market_electricity_inputs(write_model, calc, tmp_path, monkeypatch):
    """A product model using an ISO 14083 shipment and a market-based electricity claim.

    Shipment fixture: 2218.9 kg CO2e WTW for 10 t of cargo = 0.22189 kg CO2e per kg
    (tests/test_logistics.py works the chain out by hand); 1 kg shipped -> 0.22189.
    Claim fixture (Jiangsu 2023, 1 GWh, 400 MWh of certificates at 0, 600 MWh at the
    residual factor 0.6096): 365,760 kg / 1,000,000 kWh = 0.36576 kg CO2/kWh; 10 kWh ->
    3.6576. Total 3.87949.
    """
    import shutil

    from openpcf.settings import get_settings

    monkeypatch.setenv("OPENPCF_HOME", str(tmp_path / "home"))
    get_settings.cache_clear()
    fixtures = Path(__file__).parent / "fixtures"
    for name in ("logistics_export_chain.yaml", "electricity_claims_suzhou_2023.yaml"):
        shutil.copy(fixtures / name, tmp_path / name)
    body = """
    processes:
      - id: main
        name: Delivered product
        stage: distribution
        output: {product: x, amount: 1, unit: kg}
        inputs:
          - {shipment: logistics_export_chain.yaml, amount: 1, unit: kg}
          - {electricity_claim: electricity_claims_suzhou_2023.yaml, amount: 10, unit: kWh}
    """
    result = calc(write_model(body, boundary="cradle-to-grave")).result
    get_settings.cache_clear()
    np.testing.assert_allclose(result.total, 0.22189 + 3.6576, rtol=1e-9)
    kinds = {e.kind for e in result.exchanges}
    assert {"shipment", "electricity_claim"} <= kinds


def test_background_process_from_imported_database(write_model, calc, tmp_path, monkeypatch):
    """A model input from an imported LCI database, by UUID and by exact name.

    The fixture database's 'widget assembly' has a cradle-to-gate footprint of h per kg (its
    hand-worked value is in tests/test_databases.py); 2 kg by id plus 1 kg by name = 3 h.
    """
    from openpcf.io.store import DatabaseStore
    from openpcf.services.databases import all_footprints, import_database
    from openpcf.settings import get_settings

    monkeypatch.setenv("OPENPCF_HOME", str(tmp_path / "home"))
    get_settings.cache_clear()
    try:
        import_database(
            "jsonld",
            Path(__file__).parent / "fixtures" / "jsonld_small",
            name="small",
            store=DatabaseStore(get_settings().databases_dir),
        )
        widget = "ee000000-0000-4000-8000-000000000006"
        h = next(
            r.kg_co2e
            for r in all_footprints("small", store=DatabaseStore(get_settings().databases_dir))
            if r.process_id == widget
        )
        body = f"""
        processes:
          - id: main
            name: Uses background
            stage: production
            output: {{product: x, amount: 1, unit: kg}}
            inputs:
              - {{background: "small:{widget}", amount: 2, unit: kg}}
              - {{background: "small:widget assembly", amount: 1000, unit: g}}
        """
        result = calc(write_model(body), settings=get_settings()).result
    finally:
        get_settings.cache_clear()
    np.testing.assert_allclose(result.total, 3 * h, rtol=1e-12)
    assert {e.kind for e in result.exchanges} == {"background"}
