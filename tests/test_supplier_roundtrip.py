"""The round trip of issue 15 on a bundled example: request → questionnaire workbook → the
supplier's answer → import → accept → recalculate (SQLite and PostgreSQL).

The example: ``examples/alkaline_electrolyser_stack.yaml`` (one 5 MW stack; bill of materials
of Gerloff 2021 via premise, one stack = a third of each cell, x 5), whose nickel
(2,884.9 / 3 x 5 = 4,808.1667 kg) uses the factor derived from TianGong,
``cn.tiangong.nickel.class1.electrolytic`` = 5.66622 kg CO2 + 0.0066579 kg N2O x 273 =
7.4838267 kg CO2e/kg (AR6); the copy here names its supplier (``supplier: Example Nickel Co``).
Before: total 393,247.460594 kg CO2e, of which nickel 4,808.1667 x 7.4838267 = 35,983.4861
(the stainless steel 262,061.0210 and the Jiangsu electricity 95,202.9535 as in
``tests/test_examples.py``); no exchange is primary data (primary-data share 0 %).

The supplier answers 9.5 kg CO2e per kg of nickel (all fossil), 80 % primary data. Accepted,
its figure replaces the factor:

* nickel: 4,808.1667 x 9.5 = 45,677.5833; total 393,247.460594 − 35,983.4861 + 45,677.5833 =
  402,941.557849 (a change of 4,808.1667 x (9.5 − 7.4838267) = +9,694.0973);
* primary-data share by emissions, of the PCF excluding biogenic uptake (PACT's
  ``primaryDataShare``; the stainless steel factor carries 0.0794614 x 33,657.333 = 2,674.4588
  kg CO2e of uptake, so that PCF is 405,616.016676 after): 45,677.5833 x 0.80 /
  405,616.016676 = 9.009030 %;
* by mass: the purchased inputs in kg are nickel 4,808.1667 and stainless steel 33,657.3333 =
  38,465.5 kg; primary 4,808.1667 x 0.80 = 3,846.5333 kg: 9.999957 %.
"""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

import openpyxl
import pytest
from sqlalchemy import Engine

from openpcf.services.calculate import calculate
from openpcf.services.supplier_answers import import_answer
from openpcf.services.supplier_coverage import coverage
from openpcf.services.supplier_requests import decide, request_data
from openpcf.settings import Settings
from openpcf.suppliers import template as t

EXAMPLE = Path(__file__).parents[1] / "examples" / "alkaline_electrolyser_stack.yaml"
NOW = dt.datetime(2026, 12, 4, 9, 0, tzinfo=dt.UTC)
NICKEL = 2884.9 / 3 * 5
BEFORE = 393_247.460594
AFTER = BEFORE - NICKEL * (5.66622 + 0.0066579 * 273) + NICKEL * 9.5

ANSWER: dict[str, str | float | dt.date] = {
    "product_name": "Nickel cathode, class 1",
    "declared_unit": "kilogram",
    "geography": "CN-GS",
    "standard": "ISO 14067",
    "period_start": dt.date(2025, 1, 1),
    "period_end": dt.date(2025, 12, 31),
    "pcf_total": 9.5,
    "fossil": 9.5,
    "biogenic": 0.0,
    "removals": 0.0,
    "luc": 0.0,
    "process": 1.0,
    "primary_share": 80,
    "recycled_pre": 0,
    "recycled_post": 0,
    "verified": "no",
}


def answered(workbook: bytes) -> bytes:
    """The workbook as the supplier fills it (the answer sheet's value column)."""
    wb = openpyxl.load_workbook(io.BytesIO(workbook))
    rows = t.answer_rows()
    ws = wb[t.SHEET_ANSWER]
    for key, value in ANSWER.items():
        ws[f"C{rows[key][0]}"] = value
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def test_questionnaire_round_trip_on_the_electrolyser_stack(engine: Engine, tmp_path: Path) -> None:
    text = EXAMPLE.read_text(encoding="utf-8")
    old = "      - {factor: cn.tiangong.nickel.class1.electrolytic, amount: nickel_kg, unit: kg,\n"
    assert old in text
    model = tmp_path / "stack.yaml"
    model.write_text(text.replace(old, old + "         supplier: Example Nickel Co,\n"))
    settings = Settings(home=tmp_path / "home", database_url=engine.url.render_as_string(False))

    before = calculate(model, settings=settings)
    assert before.result.total == pytest.approx(BEFORE, rel=1e-9)
    assert before.result.primary_data_share == 0.0

    report = request_data(
        model,
        engine=engine,
        due=dt.date(2027, 1, 31),
        out_dir=tmp_path / "out",
        now=NOW,
        settings=settings,
    )
    (created,) = report.created
    assert (created.supplier, created.material, created.channel) == (
        "Example Nickel Co",
        "cn.tiangong.nickel.class1.electrolytic",
        "questionnaire",
    )
    assert created.workbook is not None
    workbook = created.workbook.read_bytes()

    imported = import_answer(answered(workbook), name="answer.xlsx", engine=engine, now=NOW)
    assert str(imported.request_id) == created.request_id
    # answered but not accepted: the secondary factor is still used
    assert calculate(model, settings=settings).result.total == pytest.approx(BEFORE, rel=1e-9)

    decide(engine, request_id=created.request_id, status="accepted", now=NOW)
    after = calculate(model, settings=settings)
    assert after.result.total == pytest.approx(AFTER, rel=1e-9)
    assert after.result.total == pytest.approx(402_941.557849, rel=1e-9)
    excluding_uptake = AFTER + 2674.458827
    assert after.result.primary_data_share == pytest.approx(
        100 * NICKEL * 9.5 * 0.8 / excluding_uptake, rel=1e-9
    )
    assert after.result.primary_data_share == pytest.approx(9.009030, abs=1e-5)
    assert any(
        "Example Nickel Co" in n and "cn.tiangong.nickel.class1.electrolytic" in n
        for n in after.result.notes
    )
    assert after.footprint_id != before.footprint_id

    cov = coverage(model, settings=settings, engine=engine, today=NOW.date())
    assert cov.total_without_supplier_data == pytest.approx(BEFORE, rel=1e-9)
    assert cov.by_mass.share == pytest.approx(
        100 * NICKEL * 0.8 / (NICKEL + 20194.4 / 3 * 5), rel=1e-9
    )
    (effect,) = cov.substitutions
    assert effect.total_with - effect.total_without == pytest.approx(9_694.097255, rel=1e-9)
