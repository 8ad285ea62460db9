"""Recycled content and end-of-life recycling of inputs (``recycled:``), by method.

The material part of the Circular Footprint Formula (Commission Recommendation (EU)
2021/2279, Annex I, PEF method), per unit of an input's amount m::

    [(1 - R1) + R1 (1 - A) Qsin] Ev + R1 A Erec + (1 - A) R2 ErecEoL - (1 - A) R2 Qsout E*v

with A = 1 (cut-off), 0.5 (50-50) or the input's ``recycled.a`` (cff); the two end-of-life
terms only inside a cradle-to-grave boundary.

The worked example throughout: 10 kg of aluminium, R1 = 0.3, Ev = 8.0, Erec = 0.5,
A = 0.2 (cff), Qsin = 1, R2 = 0.9, ErecEoL = 0.4, E*v = Ev = 8.0, Qsout = 1 (kg CO2 per kg,
CO2-fossil, GWP 1).

- cut-off (A = 1): (0.7 + 0) x 8 + 0.3 x 0.5 = 5.6 + 0.15 = 5.75 per kg -> **57.5**; the
  end-of-life terms carry (1 - A) = 0, so cradle-to-grave is 57.5 too.
- 50-50 (A = 0.5): (0.7 + 0.3 x 0.5) x 8 = 6.8; 0.3 x 0.5 x 0.5 = 0.075; gate 6.875 per kg
  -> **68.75**. End of life: (1 - A) R2 = 0.45; 0.45 x 0.4 = 0.18; credit 0.45 x 8 = 3.6;
  grave 6.875 + 0.18 - 3.6 = 3.455 per kg -> **34.55**.
- cff (A = 0.2): (0.7 + 0.3 x 0.8) x 8 = 0.94 x 8 = 7.52; 0.3 x 0.2 x 0.5 = 0.03; gate 7.55
  per kg -> **75.5**. End of life: (1 - A) R2 = 0.72; 0.72 x 0.4 = 0.288; credit 0.72 x 8 =
  5.76; grave 7.55 + 0.288 - 5.76 = 2.078 per kg -> **20.78**.
"""

from __future__ import annotations

import pickle
import textwrap
from pathlib import Path

import pytest

from openpcf.errors import InputError, ModelFileError
from openpcf.factors import Factor
from openpcf.factors.loading import bundled_factor_set
from openpcf.model.compiler import Resolvers, compile_model
from openpcf.model.loading import load_model
from openpcf.model.result import solve_compiled
from openpcf.services.calculate import calculate

RTOL = 1e-12

FACTORS = """
factors:
  - {id: al.virgin, name: virgin aluminium, unit: kg, category: material, geography: GLO,
     year: 2024, source: hand-made test factor, licence: CC0, emissions: {CO2-fossil: 8.0}}
  - {id: al.recycled, name: recycled aluminium, unit: kg, category: material, geography: GLO,
     year: 2024, source: hand-made test factor, licence: CC0, emissions: {CO2-fossil: 0.5}}
  - {id: al.remelting, name: remelting at end of life, unit: kg, category: waste,
     geography: GLO, year: 2024, source: hand-made test factor, licence: CC0,
     emissions: {CO2-fossil: 0.4}}
  - {id: al.displaced, name: displaced ingot, unit: kg, category: material, geography: GLO,
     year: 2024, source: hand-made test factor, licence: CC0, emissions: {CO2-fossil: 6.0}}
  - {id: power, name: power, unit: kWh, category: electricity, geography: GLO,
     year: 2024, source: hand-made test factor, licence: CC0, emissions: {CO2-fossil: 0.5}}
"""

MODEL = """\
openpcf: 1
product:
  name: Aluminium part
  ids: [urn:openpcf:product:al-part]
  declared_unit: kilogram
  declared_amount: 10
  mass_per_declared_unit: 1
  reference_period: {{start: 2024-01-01, end: 2024-12-31}}
boundary: {boundary}
reference_process: main
factor_sets: [aluminium.yaml]
{method}
processes:
  - id: main
    name: Casting
    stage: production
    output: {{product: part, amount: 10, unit: kg}}
    inputs:
      - factor: al.virgin
        amount: {amount}
        unit: {unit}
        recycled:
{recycled}
"""

RECYCLED = """\
content: 0.3
factor: al.recycled
a: 0.2
eol_rate: 0.9
eol_factor: al.remelting
"""


def write(
    tmp_path: Path,
    *,
    method: str | None = None,
    boundary: str = "cradle-to-gate",
    recycled: str = RECYCLED,
    amount: str = "10",
    unit: str = "kg",
) -> Path:
    (tmp_path / "aluminium.yaml").write_text(FACTORS, encoding="utf-8")
    text = MODEL.format(
        boundary=boundary,
        method=f"recycled_content_method: {method}" if method else "",
        amount=amount,
        unit=unit,
        recycled=textwrap.indent(recycled, " " * 10),
    )
    path = tmp_path / "model.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def total(path: Path) -> float:
    return calculate(path, factors=bundled_factor_set()).result.total


@pytest.mark.parametrize(
    ("method", "gate", "grave"),
    [
        (None, 57.5, 57.5),  # the default is cut-off
        ("cut-off", 57.5, 57.5),
        ("50-50", 68.75, 34.55),
        ("cff", 75.5, 20.78),
    ],
)
def test_methods_by_hand(tmp_path: Path, method: str | None, gate: float, grave: float) -> None:
    """The module docstring works out each total."""
    assert total(write(tmp_path, method=method)) == pytest.approx(gate, rel=RTOL)
    assert total(write(tmp_path, method=method, boundary="cradle-to-grave")) == pytest.approx(
        grave, rel=RTOL
    )


def test_terms_are_labelled_factor_entries(tmp_path: Path) -> None:
    """cff, cradle-to-grave: four entries of 10 kg each times their coefficient.

    al.virgin 0.94 x 10 = 9.4 kg (75.2), recycled content 0.3 x 0.2 x 10 = 0.6 kg (0.3),
    end-of-life recycling 0.72 x 10 = 7.2 kg (2.88), credit -7.2 kg (-57.6):
    75.2 + 0.3 + 2.88 - 57.6 = 20.78.
    """
    calc = calculate(
        write(tmp_path, method="cff", boundary="cradle-to-grave"), factors=bundled_factor_set()
    )
    got = {x.label: (x.kind, x.amount, x.co2e) for x in calc.result.exchanges}
    expected = {
        "al.virgin": ("factor", 9.4, 75.2),
        "recycled content: al.recycled": ("factor", 0.6, 0.3),
        "end-of-life recycling: al.remelting": ("factor", 7.2, 2.88),
        "end-of-life recycling credit: al.virgin": ("substitution", -7.2, -57.6),
    }
    assert set(got) == set(expected)
    for label, (kind, amount, co2e) in expected.items():
        assert got[label][0] == kind
        assert got[label][1] == pytest.approx(amount, rel=RTOL)
        assert got[label][2] == pytest.approx(co2e, rel=RTOL)
    assert sum(x.co2e for x in calc.result.exchanges) == pytest.approx(20.78, rel=RTOL)
    compiled = calc.compiled
    assert compiled.recycled_content_method == "cff"
    assert compiled.recycled_a == {"main/factor:al.virgin": 0.2}
    assert any("by the cff method, A = 0.2" in n for n in compiled.notes)
    assert any("energy-recovery and disposal terms are not modelled" in n for n in compiled.notes)
    # one exchange, one draw: every term shares the input's key
    assert {e.key for e in compiled.entries} == {"main/factor:al.virgin"}
    assert pickle.loads(pickle.dumps(compiled)) == compiled


def test_cradle_to_gate_notes_the_left_out_end_of_life(tmp_path: Path) -> None:
    calc = calculate(write(tmp_path, method="50-50"), factors=bundled_factor_set())
    labels = {x.label for x in calc.result.exchanges}
    assert labels == {"al.virgin", "recycled content: al.recycled"}
    (note,) = [n for n in calc.compiled.notes if "end-of-life" in n]
    assert note.startswith("process 'main', input 1 (al.virgin): end-of-life recycling")
    assert "outside the cradle-to-gate boundary" in note


def test_cut_off_books_no_end_of_life_terms(tmp_path: Path) -> None:
    calc = calculate(
        write(tmp_path, method="cut-off", boundary="cradle-to-grave"),
        factors=bundled_factor_set(),
    )
    assert {x.label for x in calc.result.exchanges} == {
        "al.virgin",
        "recycled content: al.recycled",
    }
    assert calc.compiled.recycled_a == {"main/factor:al.virgin": 1.0}
    assert not any("end-of-life" in n for n in calc.compiled.notes)


def test_qualities_displaced_material_and_units(tmp_path: Path) -> None:
    """cff, cradle-to-grave, 0.01 t = 10 kg, Qsin = 0.8, Qsout = 0.5, E*v = al.displaced (6.0).

    Per kg: (0.7 + 0.3 x 0.8 x 0.8) x 8 = 0.892 x 8 = 7.136; + 0.03; + 0.288;
    - 0.72 x 0.5 x 6.0 = 2.16 -> 7.136 + 0.03 + 0.288 - 2.16 = 5.294 -> 52.94.
    """
    recycled = RECYCLED + "quality_in: 0.8\nquality_out: 0.5\neol_virgin: al.displaced\n"
    path = write(
        tmp_path,
        method="cff",
        boundary="cradle-to-grave",
        recycled=recycled,
        amount="0.01",
        unit="t",
    )
    assert total(path) == pytest.approx(52.94, rel=RTOL)


def test_uncertain_amount_moves_every_term(tmp_path: Path) -> None:
    """A normal amount (mean 10 kg) is drawn once and scales all four terms: each entry's
    amount is its per_written times the amount as written."""
    path = write(tmp_path, method="cff", boundary="cradle-to-grave")
    text = path.read_text(encoding="utf-8").replace(
        "        recycled:", "        uncertainty: {distribution: normal, sd: 1}\n        recycled:"
    )
    path.write_text(text, encoding="utf-8")
    compiled = calculate(path, factors=bundled_factor_set()).compiled
    assert len(compiled.entries) == 4
    for e in compiled.entries:
        assert e.uncertainty is not None
        assert e.amount == pytest.approx(10 * e.per_written, rel=RTOL)


def test_background_input_and_reference(tmp_path: Path) -> None:
    """A background: input whose recycled factor is a background reference too.

    cut-off: 10 kg x (0.7 x 8.0 + 0.3 x 0.5) = 57.5, as with factor ids.
    """
    rows = {
        "db:virgin": Factor(
            id="db:virgin",
            name="virgin",
            unit="kg",
            emissions={"CO2-fossil": 8.0},
            category="material",
            geography="GLO",
            year=2024,
            source="test",
            licence="CC0",
            set_name="db",
        ),
        "db:recycled": Factor(
            id="db:recycled",
            name="recycled",
            unit="kg",
            emissions={"CO2-fossil": 0.5},
            category="material",
            geography="GLO",
            year=2024,
            source="test",
            licence="CC0",
            set_name="db",
        ),
    }
    path = write(tmp_path, recycled="content: 0.3\nfactor: 'db:recycled'\n")
    text = path.read_text(encoding="utf-8").replace("factor: al.virgin", "background: 'db:virgin'")
    path.write_text(text, encoding="utf-8")
    loaded = load_model(path)
    from openpcf.services.calculate import with_model_sets

    compiled = compile_model(
        loaded,
        factors=with_model_sets(loaded, bundled_factor_set()),
        resolvers=Resolvers(background=rows.__getitem__),
    )
    result = solve_compiled(compiled)
    assert result.total == pytest.approx(57.5, rel=RTOL)
    assert {x.label: x.kind for x in result.exchanges} == {
        "db:virgin": "background",
        "recycled content: db:recycled": "background",
    }


# -- bad input ------------------------------------------------------------------------------
def test_content_above_one(tmp_path: Path) -> None:
    path = write(tmp_path, recycled=RECYCLED.replace("content: 0.3", "content: 1.2"))
    with pytest.raises(ModelFileError, match=r"model\.yaml:\d+.*content.*less than or equal to 1"):
        load_model(path)


def test_eol_rate_without_eol_factor(tmp_path: Path) -> None:
    path = write(tmp_path, recycled=RECYCLED.replace("eol_factor: al.remelting\n", ""))
    with pytest.raises(
        ModelFileError, match=r"model\.yaml:\d+.*eol_rate 0\.9 > 0 needs 'eol_factor'"
    ):
        load_model(path)


def test_recycled_on_an_electricity_input(tmp_path: Path) -> None:
    path = write(tmp_path)
    text = path.read_text(encoding="utf-8").replace(
        "factor: al.virgin", "electricity: {geography: CN, year: 2022}"
    )
    path.write_text(text, encoding="utf-8")
    with pytest.raises(
        ModelFileError,
        match=r"model\.yaml:\d+.*'recycled' is only for factor: and background: inputs, "
        r"not electricity:",
    ):
        load_model(path)


def test_cff_without_a(tmp_path: Path) -> None:
    """The error names the line of the input's recycled: block."""
    path = write(tmp_path, method="cff", recycled=RECYCLED.replace("a: 0.2\n", ""))
    lines = path.read_text(encoding="utf-8").splitlines()
    line = next(n for n, text in enumerate(lines, 1) if text.strip() == "recycled:")
    with pytest.raises(
        InputError,
        match=rf"model\.yaml:{line}: process 'main', input 1: recycled_content_method 'cff' "
        r"needs the allocation factor 'a'",
    ):
        total(path)


def test_unknown_recycled_factor_names_its_line(tmp_path: Path) -> None:
    path = write(tmp_path, recycled=RECYCLED.replace("al.recycled", "al.recyled"))
    with pytest.raises(
        InputError, match=r"model\.yaml:\d+: process 'main', input 1, recycled factor"
    ):
        total(path)


def test_unknown_method(tmp_path: Path) -> None:
    with pytest.raises(ModelFileError, match=r"recycled_content_method"):
        load_model(write(tmp_path, method="avoided-burden"))
