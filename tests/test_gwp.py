"""GWP sets: the bundled table, name handling and the characterisation vector."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

from openpcf.errors import InputError
from openpcf.methods.gases import GAS_IDS
from openpcf.methods.gwp import GWP_SET_IDS, characterisation_vector, gwp_set


@pytest.mark.parametrize("name", GWP_SET_IDS)
def test_every_gas_has_a_value_in_every_set(name: str) -> None:
    values = gwp_set(name).values
    assert set(values) == set(GAS_IDS)
    assert values["CO2-fossil"] == 1.0
    assert values["CO2e"] == 1.0
    assert values["CO2-uptake"] == -1.0


@pytest.mark.parametrize(
    ("name", "gas", "expected"),
    [
        ("AR6", "CH4-fossil", 29.8),
        ("AR6", "CH4-biogenic", 27.0),
        ("AR6", "N2O", 273.0),
        ("AR6", "SF6", 25200.0),
        ("AR5", "CH4-fossil", 30.0),
        ("AR5", "N2O", 265.0),
        ("AR5", "CF4", 6630.0),
        ("AR5", "C2F6", 11100.0),
        ("AR5-CCF", "CH4-biogenic", 34.0),
        ("AR5-CCF", "HFC-134a", 1549.0),
        ("AR4", "N2O", 298.0),
        ("AR4", "HFC-143a", 4470.0),
    ],
)
def test_values_match_the_ipcc_tables(name: str, gas: str, expected: float) -> None:
    """Spot checks against standards-facts §1.1 (CBAM template: N2O 265, CF4 6630, C2F6 11100)."""
    assert gwp_set(name).values[gas] == expected


@pytest.mark.parametrize("spelling", ["AR5-CCF", "ar5ccf", "Ar5_Ccf", "ar5-ccf"])
def test_names_are_case_and_separator_insensitive(spelling: str) -> None:
    assert gwp_set(spelling).id == "AR5-CCF"


def test_unknown_set_names_the_choices() -> None:
    with pytest.raises(InputError, match=r"AR6, AR5, AR5-CCF, AR4"):
        gwp_set("SAR")


def test_values_are_read_only() -> None:
    values = gwp_set("AR6").values
    with pytest.raises(TypeError):
        values["N2O"] = 1.0  # type: ignore[index]


def test_mixed_inventory_ar6_vs_ar5() -> None:
    """100 kg CO2-fossil, 10 kg CH4-fossil, 2 kg N2O, 0.01 kg SF6, weighed by hand.

    AR6: 100 + 10*29.8 + 2*273 + 0.01*25200 = 100 + 298 + 546 + 252 = 1196 kg CO2e
    AR5: 100 + 10*30   + 2*265 + 0.01*23500 = 100 + 300 + 530 + 235 = 1165 kg CO2e
    AR4: 100 + 10*25   + 2*298 + 0.01*22800 = 100 + 250 + 596 + 228 = 1174 kg CO2e
    """
    gases = ["CO2-fossil", "CH4-fossil", "N2O", "SF6"]
    inventory = np.array([100.0, 10.0, 2.0, 0.01])
    for name, expected in (("AR6", 1196.0), ("AR5", 1165.0), ("AR4", 1174.0)):
        c = characterisation_vector(gwp_set(name), gases)
        np.testing.assert_allclose(c @ inventory, expected, rtol=1e-12)


def test_uptake_is_counted_negative() -> None:
    """5 kg CO2-fossil emitted and 2 kg CO2-uptake removed: 5*1 + 2*(-1) = 3 kg CO2e."""
    c = characterisation_vector(gwp_set("AR6"), ["CO2-fossil", "CO2-uptake"])
    assert c.dtype == np.float64
    assert float(c @ np.array([5.0, 2.0])) == 3.0


def test_characterisation_vector_keeps_the_order_given() -> None:
    c = characterisation_vector(gwp_set("AR6"), ["N2O", "CO2-fossil", "CH4-biogenic"])
    np.testing.assert_array_equal(c, [273.0, 1.0, 27.0])


def test_unknown_gas_in_vector_is_an_input_error() -> None:
    with pytest.raises(InputError, match="'CH4'"):
        characterisation_vector(gwp_set("AR6"), ["CO2-fossil", "CH4"])


def test_gwp_set_metadata() -> None:
    ar6 = gwp_set("ar6")
    assert "7.15" in ar6.source
    assert ar6.name.startswith("IPCC AR6")
    assert gwp_set("AR6") == ar6


def test_gwp_set_survives_pickling() -> None:
    """Monte Carlo workers receive GWP sets by pickle."""
    ar5 = gwp_set("AR5")
    copy = pickle.loads(pickle.dumps(ar5))
    assert copy == ar5
    assert dict(copy.values) == dict(ar5.values)
