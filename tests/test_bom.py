"""A new model from a bill of materials: reading, ranking, writing, the CLI.

Hand-worked factors (bundled, AR6: N2O 273, CH4 fossil 29.8, CF4 7380):
  cn.tiangong.steel.hot-rolled-coil: 1.889 CO2 + 0.002429 N2O × 273 = 2.552117 kg CO2e/kg
  cn.tiangong.aluminium.primary-ingot: 15.4 + 0.034 × 29.8 + 0.000129 × 7380 = 17.36522 kg/kg
"""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from openpyxl import Workbook
from typer.testing import CliRunner

from openpcf.cli.main import app
from openpcf.factors import bundled_factor_set
from openpcf.factors.matching import THRESHOLD, grams, rank, text_score
from openpcf.model.bom import BomError, ModelHeader, best_choices, propose, read_bom
from openpcf.model.loading import load_model
from openpcf.services.bom import model_from_choices
from openpcf.services.calculate import calculate

STEEL = "cn.tiangong.steel.hot-rolled-coil"
ALU = "cn.tiangong.aluminium.primary-ingot"
STEEL_CO2E = 1.889 + 0.002429 * 273
ALU_CO2E = 15.4 + 0.034 * 29.8 + 0.000129 * 7380

ZH_CSV = (
    "零件,材料,质量,单位,供应商\n外壳,热轧钢卷,2.5,kg,河北钢铁\n散热片,铝,800,g,\n"
    "密封圈,特种胶水,0.05,kg,\n"
)
EN_CSV = (
    "part,material,mass,supplier\nhousing,hot-rolled steel coil,2,Hebei Steel\n"
    "fin,aluminium ingot,0.5,\n"
)


def _xlsx(rows: list[list[object]]) -> bytes:
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "BOM"
    for row in rows:
        ws.append(row)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


@pytest.mark.parametrize(
    ("query", "expected"),
    [("热轧钢卷", STEEL), ("hot-rolled steel coil", STEEL), ("铝", ALU), ("aluminium ingot", ALU)],
)
def test_ranking_puts_the_right_factor_first(query: str, expected: str) -> None:
    found = rank(bundled_factor_set(), query, geography="CN")
    assert found
    assert found[0].factor.id == expected, [(c.factor.id, c.score) for c in found]
    assert all(c.score >= THRESHOLD for c in found)
    assert [c.score for c in found] == sorted((c.score for c in found), reverse=True)


def test_scores() -> None:
    assert grams("Aluminum 热卷") == {"aluminium", "热", "卷", "热卷"}
    assert text_score(grams("steel"), grams("steel")) == 1.0
    assert text_score(grams("galvanised"), grams("galvanized sheet")) > 0.5  # close spelling
    assert rank(bundled_factor_set(), "特种胶水") == []
    # a mass line is never offered a kWh factor
    assert all(c.factor.unit != "kWh" for c in rank(bundled_factor_set(), "electricity"))


def test_zh_csv_model_validates_with_the_hand_worked_total(tmp_path: Path) -> None:
    bom = read_bom(ZH_CSV.encode("utf-8"), name="bom.csv")
    assert [line.row for line in bom.lines] == [2, 3, 4]
    assert bom.lines[1].unit == "g"
    assert bom.lines[0].supplier == "河北钢铁"
    proposals = propose(bom, bundled_factor_set(), geography="CN")
    choices = {row: (c.factor.id if c else None) for row, c in best_choices(proposals).items()}
    assert choices == {2: STEEL, 3: ALU, 4: None}
    header = ModelHeader(product="水泵", organisation="Acme", year=2024)
    written = model_from_choices(bom, proposals, choices, header=header)
    assert written.unmatched == (4,)
    assert written.matched == 2
    assert "# unmatched row 4: 密封圈 / 特种胶水" in written.text
    assert 'supplier: "河北钢铁"' in written.text
    assert "source: tiangong" in written.text
    assert "score 0." in written.text
    path = tmp_path / "m.yaml"
    path.write_text(written.text, encoding="utf-8")
    result = calculate(path).result
    # 2.5 kg steel + 0.8 kg aluminium; the glue line is unmatched and adds nothing
    assert result.total == pytest.approx(2.5 * STEEL_CO2E + 0.8 * ALU_CO2E, rel=1e-9)
    assert load_model(path).model.product.mass_per_declared_unit == pytest.approx(3.35)


def test_en_xlsx_bom(tmp_path: Path) -> None:
    data = _xlsx(
        [
            ["Part", "Material", "Mass", "Unit", "Supplier"],
            ["housing", "hot-rolled steel coil", 2, "kg", "Hebei Steel"],
            [None, None, None, None, None],
            ["fin", "aluminium ingot", 500, "g", None],
        ]
    )
    bom = read_bom(data, name="bom.xlsx")
    assert bom.sheet == "BOM"
    assert [line.row for line in bom.lines] == [2, 4]
    proposals = propose(bom, bundled_factor_set())
    assert [p.candidates[0].factor.id for p in proposals] == [STEEL, ALU]
    written = model_from_choices(
        bom, proposals, {2: STEEL, 4: ALU}, header=ModelHeader(product="Pump", year=2024)
    )
    path = tmp_path / "pump.yaml"
    path.write_text(written.text, encoding="utf-8")
    assert calculate(path).result.total == pytest.approx(2 * STEEL_CO2E + 0.5 * ALU_CO2E)


def test_a_factor_outside_the_candidates_is_refused() -> None:
    bom = read_bom(EN_CSV.encode(), name="bom.csv")
    proposals = propose(bom, bundled_factor_set())
    with pytest.raises(
        Exception, match=r"row 2: factor 'cn\.grid\.co2\.2022\.national' is not one"
    ):
        model_from_choices(
            bom, proposals, {2: "cn.grid.co2.2022.national"}, header=ModelHeader(product="x")
        )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("part,material,unit\nA,steel,kg\n", "row 1: no column 'mass'"),
        ("part,material,mass\nA,steel,-1\n", "row 2, column C (mass): -1 must be a finite number"),
        (
            "part,material,mass,unit\nA,steel,1,kWh\nB,,x,kg\n",
            "row 2, column D (unit): 'kWh' does not convert into kg",
        ),
        ("零件,材料,质量\n甲,钢,abc\n", "row 2, column C (mass): 'abc' is not a number"),
    ],
)
def test_bad_boms(text: str, message: str) -> None:
    with pytest.raises(BomError) as caught:
        read_bom(text.encode("utf-8"), name="bad.csv")
    assert message in str(caught.value)


def test_bad_boms_list_every_problem_and_xlsx_rows() -> None:
    with pytest.raises(BomError) as caught:
        read_bom(b"part,material,mass,unit\nA,steel,1,kWh\nB,,x,kg\n", name="bad.csv")
    text = str(caught.value)
    assert "row 3, column B (material): empty" in text
    assert "row 3, column C (mass)" in text
    data = _xlsx([["零件", "材料", "质量"], ["甲", "钢", -2]])
    with pytest.raises(BomError, match=r"sheet 'BOM', row 2, column C \(mass\)"):
        read_bom(data, name="bad.xlsx")
    with pytest.raises(BomError, match=r"not a readable \.xlsx"):
        read_bom(b"PK\x03\x04 broken", name="bad.xlsx")


def test_cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from openpcf.settings import get_settings

    monkeypatch.setenv("OPENPCF_HOME", str(tmp_path / "home"))
    get_settings.cache_clear()
    runner = CliRunner()
    bom = tmp_path / "bom.csv"
    bom.write_text(ZH_CSV, encoding="utf-8")
    out = tmp_path / "model.yaml"
    shown = runner.invoke(app, ["model", "from-bom", str(bom)])
    assert shown.exit_code == 0, shown.output
    assert STEEL in shown.output
    assert "Nothing written" in shown.output
    assert not out.exists()
    as_json = runner.invoke(app, ["model", "from-bom", str(bom), "--json"])
    assert as_json.exit_code == 0
    assert f'"id": "{STEEL}"' in as_json.output
    done = runner.invoke(
        app, ["model", "from-bom", str(bom), "--accept-best", "--product", "Pump", "-o", str(out)]
    )
    assert done.exit_code == 0, done.output
    assert "unmatched BOM rows" in done.output
    assert ": 4" in done.output
    valid = runner.invoke(app, ["validate", str(out)])
    assert valid.exit_code == 0, valid.output
    bad = tmp_path / "bad.csv"
    bad.write_text("part,material\nA,steel\n", encoding="utf-8")
    refused = runner.invoke(app, ["model", "from-bom", str(bad), "--accept-best"])
    # the main CLI's translation (openpcf.cli.main.run) turns it into exit 2, bad input
    assert isinstance(refused.exception, BomError)
    assert refused.exception.exit_code == 2
    assert "no column 'mass'" in str(refused.exception)
