"""The questionnaire workbook: build it, fill it in with openpyxl as a supplier would, read it.

The answer every test starts from (:data:`ANSWER`), per one kilogram of hot-rolled coil:
total 2.0 kg CO2e = fossil 1.9 + biogenic non-CO2 0.05 + land-use change 0.05 (adds up
exactly), biogenic CO2 removals 0.1, so pcfIncludingBiogenicUptake = 2.0 − 0.1 = 1.9;
process emissions 0.3 (≤ fossil 1.9); primary data share 80 %; recycled content 10 % pre-
and 5 % post-consumer (15 % ≤ 100 %). Electricity: 1.2 MWh of the Hebei grid = 1 200 kWh and
300 kWh of green electricity certificates (GEC), 1 500 kWh in all.

Tolerance (1 % of the total, :data:`openpcf.suppliers.answers.TOLERANCE`): with total 2.0 at
most 0.02 kg CO2e of difference is allowed; fossil 1.919 gives parts 2.019 (0.019: taken),
fossil 1.925 gives 2.025 (0.025: refused).
"""

from __future__ import annotations

import datetime as dt
import io
import uuid
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from openpcf.exchange.schema import validate_footprint
from openpcf.exchange.supplier import ReceivedFootprint, supplier_factor
from openpcf.suppliers import template as t
from openpcf.suppliers.answer_footprint import answer_footprint, request_product_id
from openpcf.suppliers.answers import read_answers
from openpcf.suppliers.errors import QuestionnaireError
from openpcf.suppliers.spec import TEMPLATE_VERSION, QuestionnaireRequest
from openpcf.suppliers.workbook import build_workbook

ROWS = t.answer_rows()


def questionnaire(
    request_id: uuid.UUID | None = None, token: str = "s3cret"
) -> QuestionnaireRequest:
    return QuestionnaireRequest(
        request_id=request_id or uuid.UUID("00000000-0000-4000-8000-000000000015"),
        token=token,
        template_version=TEMPLATE_VERSION,
        customer="Hebei Trucks Co",
        supplier="Tangshan Steel",
        product_name="Heavy truck frame",
        material="steel.hot_rolled_coil",
        material_name="Hot-rolled coil",
        amount=1.5,
        unit="t",
        due=dt.date(2027, 3, 31),
    )


ANSWER: dict[str, Any] = {
    "product_name": "HR coil Q355B",
    "declared_unit": "kilogram",
    "geography": "CN-HE",
    "standard": "ISO 14067",
    "period_start": dt.date(2025, 1, 1),
    "period_end": dt.date(2025, 12, 31),
    "pcf_total": 2.0,
    "fossil": 1.9,
    "biogenic": 0.05,
    "removals": 0.1,
    "luc": 0.05,
    "process": 0.3,
    "primary_share": 80,
    "recycled_pre": 10,
    "recycled_post": 5,
    "verified": "yes",
    "verifier": "CQC",
    "verification_standard": "ISO 14064-3",
    "verification_date": dt.date(2026, 2, 1),
    "assurance": "limited",
}
ELECTRICITY = [
    {"A": "grid-province", "B": "CN-HE", "C": 1.2, "D": "MWh", "F": dt.date(2025, 1, 1)},
    {"A": "GEC", "B": "CN", "C": 300, "E": "GEC-2025-000123"},
]


def fill(
    workbook: bytes,
    answers: Mapping[str, Any] = ANSWER,
    *,
    units: Mapping[str, str] | None = None,
    electricity: list[dict[str, Any]] = ELECTRICITY,
    edit: Any = None,
) -> bytes:
    """``workbook`` answered: ``answers`` by field key (None clears), units by field key,
    electricity rows by column; ``edit(wb)`` changes anything else."""
    wb = openpyxl.load_workbook(io.BytesIO(workbook))
    ws = wb[t.SHEET_ANSWER]
    for key, value in answers.items():
        ws[f"C{ROWS[key][0]}"] = value
    for key, unit in (units or {}).items():
        ws[f"D{ROWS[key][0]}"] = unit
    es = wb[t.SHEET_ELECTRICITY]
    for i, row in enumerate(electricity):
        for col, value in row.items():
            es[f"{col}{t.ELECTRICITY_FIRST_ROW + i}"] = value
    if edit is not None:
        edit(wb)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def answered(**changes: Any) -> bytes:
    return fill(build_workbook(questionnaire()), {**ANSWER, **changes})


def problems(data: bytes, unit: str | None = None) -> list[tuple[str, str, str]]:
    with pytest.raises(QuestionnaireError) as caught:
        read_answers(data, name="answer.xlsx", unit=unit)
    return [(p.sheet, p.cell, p.reason) for p in caught.value.problems]


def cell(key: str, column: str = "C") -> str:
    return f"{column}{ROWS[key][0]}"


# --------------------------------------------------------------------------------------------
# the workbook


def test_same_request_same_bytes() -> None:
    assert build_workbook(questionnaire()) == build_workbook(questionnaire())
    assert build_workbook(questionnaire()) != build_workbook(questionnaire(token="other"))


def test_sheets_protection_and_validation() -> None:
    wb = openpyxl.load_workbook(io.BytesIO(build_workbook(questionnaire())))
    assert wb.sheetnames == list(t.SHEETS)
    assert wb[t.SHEET_META].sheet_state == "veryHidden"
    meta = wb[t.SHEET_META]
    assert meta[t.META_REQUEST_ID].value == "00000000-0000-4000-8000-000000000015"
    assert meta[t.META_TOKEN].value == "s3cret"
    assert meta[t.META_VERSION].value == TEMPLATE_VERSION
    ws = wb[t.SHEET_ANSWER]
    assert all(wb[s].protection.sheet for s in t.SHEETS)
    assert not ws[cell("fossil")].protection.locked  # an answer cell is unlocked
    assert not ws[cell("fossil", "D")].protection.locked  # so is its unit
    assert ws[cell("fossil", "A")].protection.locked  # the label is not
    assert ws[cell("fossil", "D")].value == "kg CO2e"
    assert ws[cell("primary_share", "D")].value == "%"
    assert wb.security is not None
    assert wb.security.lockStructure
    kinds = {(dv.type, str(dv.sqref)) for dv in ws.data_validations.dataValidation}
    assert ("decimal", cell("primary_share")) in kinds
    assert ("list", cell("declared_unit")) in kinds
    assert ("date", cell("period_end")) in kinds
    text = " ".join(str(c.value) for row in wb[t.SHEET_INSTRUCTIONS].iter_rows() for c in row)
    assert "2027-03-31" in text
    assert "Hebei Trucks Co" in text
    assert "Hot-rolled coil" in text
    assert "截止日期" in text


# --------------------------------------------------------------------------------------------
# reading a good answer


def test_read_a_good_answer() -> None:
    a = read_answers(answered(), name="answer.xlsx", unit="t")
    assert a.request_id == uuid.UUID("00000000-0000-4000-8000-000000000015")
    assert a.token == "s3cret"
    assert a.company_name == "Tangshan Steel"  # pre-filled from the request
    assert (a.pcf_total, a.fossil, a.biogenic, a.luc, a.removals) == (2.0, 1.9, 0.05, 0.05, 0.1)
    assert a.geography == "CN-HE"
    assert a.verification is not None
    assert a.verification.verifier == "CQC"
    assert [(e.source, e.kwh, e.certificate) for e in a.electricity] == [
        ("grid-province", 1200.0, ""),
        ("GEC", 300.0, "GEC-2025-000123"),
    ]


def test_units_are_converted_to_kg_co2e_per_declared_unit() -> None:
    """2 000 kg CO2e per tonne of a footprint declared per kilogram is 2 000 / 1 000 = 2.0;
    0.0019 t CO2e is 1.9 kg; 50 g CO2e is 0.05 kg."""
    data = fill(
        build_workbook(questionnaire()),
        {**ANSWER, "pcf_total": 2000, "fossil": 0.0019, "biogenic": 50},
        units={"pcf_total": "kg CO2e / t", "fossil": "t CO2e", "biogenic": "g CO2e"},
    )
    a = read_answers(data, name="answer.xlsx")
    assert a.pcf_total == pytest.approx(2.0, rel=1e-12)
    assert a.fossil == pytest.approx(1.9, rel=1e-12)
    assert a.biogenic == pytest.approx(0.05, rel=1e-12)


def test_rounding_within_the_tolerance_is_taken() -> None:
    a = read_answers(answered(fossil=1.919), name="answer.xlsx")
    assert a.fossil == 1.919


def test_a_share_formatted_as_percent() -> None:
    def as_percent(wb: Any) -> None:
        wb[t.SHEET_ANSWER][cell("primary_share")].number_format = "0%"

    data = fill(build_workbook(questionnaire()), {**ANSWER, "primary_share": 0.8}, edit=as_percent)
    assert read_answers(data, name="answer.xlsx").primary_share == pytest.approx(80.0)


# --------------------------------------------------------------------------------------------
# refusals, each with its sheet and cell


def test_every_problem_is_reported_together() -> None:
    found = problems(answered(product_name=None, primary_share=120, luc=-1))
    cells = {(s, c) for s, c, _ in found}
    assert (t.SHEET_ANSWER, cell("product_name")) in cells
    assert (t.SHEET_ANSWER, cell("primary_share")) in cells
    assert (t.SHEET_ANSWER, cell("luc")) in cells
    reasons = " ".join(r for _, _, r in found)
    assert "mandatory" in reasons
    assert "outside 0-100 %" in reasons
    assert "negative" in reasons


def test_pcf_that_does_not_add_up() -> None:
    (found,) = problems(answered(fossil=1.925))
    assert found[:2] == (t.SHEET_ANSWER, cell("pcf_total"))
    assert "does not add up" in found[2]
    assert "2.025" in found[2]


def test_more_fossil_than_total() -> None:
    (found,) = problems(answered(fossil=2.5, pcf_total=2.0))
    assert found[:2] == (t.SHEET_ANSWER, cell("fossil"))
    assert "more fossil" in found[2]


def test_period_that_ends_before_it_starts() -> None:
    (found,) = problems(answered(period_end=dt.date(2024, 12, 31)))
    assert found[:2] == (t.SHEET_ANSWER, cell("period_end"))


def test_electricity_period_and_certificate() -> None:
    rows = [{"A": "PPA", "B": "CN-JS", "C": 10, "F": dt.date(2025, 6, 1), "G": dt.date(2025, 1, 1)}]
    data = fill(build_workbook(questionnaire()), electricity=rows)
    cells = {(s, c) for s, c, _ in problems(data)}
    assert cells == {(t.SHEET_ELECTRICITY, "E4"), (t.SHEET_ELECTRICITY, "G4")}


def test_units_that_do_not_convert() -> None:
    rows = [{"A": "grid-province", "B": "CN-HE", "C": 5, "D": "kg"}]
    data = fill(build_workbook(questionnaire()), units={"fossil": "kWh"}, electricity=rows)
    found = problems(data)
    assert {(s, c) for s, c, _ in found} == {
        (t.SHEET_ANSWER, cell("fossil", "D")),
        (t.SHEET_ELECTRICITY, "D4"),
    }


def test_declared_unit_that_does_not_fit_the_request() -> None:
    """The customer buys the coil in t; a footprint per kWh cannot be used for it."""
    (found,) = problems(answered(declared_unit="kilowatt hour", mass_per_declared_unit=0), "t")
    assert found[:2] == (t.SHEET_ANSWER, cell("declared_unit"))


def test_formula_where_a_value_is_expected() -> None:
    total = cell("pcf_total")
    parts = f"={cell('fossil')}+{cell('biogenic')}+{cell('luc')}"
    (found,) = problems(answered(pcf_total=parts))
    assert found == (t.SHEET_ANSWER, total, found[2])
    assert "formula" in found[2]


def test_added_and_hidden_sheets() -> None:
    def tamper(wb: Any) -> None:
        wb.create_sheet("Sheet9")
        wb[t.SHEET_ELECTRICITY].sheet_state = "hidden"

    data = fill(build_workbook(questionnaire()), edit=tamper)
    cells = {(s, c) for s, c, _ in problems(data)}
    assert cells == {("Sheet9", ""), (t.SHEET_ELECTRICITY, "")}


def test_another_template_version() -> None:
    def old(wb: Any) -> None:
        wb[t.SHEET_META][t.META_VERSION] = "0"

    with pytest.raises(QuestionnaireError) as caught:
        read_answers(fill(build_workbook(questionnaire()), edit=old), name="a.xlsx")
    (p,) = caught.value.problems
    assert (p.sheet, p.cell) == (t.SHEET_META, t.META_VERSION)
    assert caught.value.request_id == questionnaire().request_id


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"not a workbook at all", "not a zip"),
        (bytes.fromhex("D0CF11E0A1B11AE1") + b"\0" * 512, "encrypted"),
        (b"PK" + b"\0" * (6 * 1024 * 1024), "bytes, more than"),
    ],
)
def test_files_that_are_not_xlsx(data: bytes, reason: str) -> None:
    (found,) = problems(data)
    assert found[0] == "(file)"
    assert reason in found[2]


def _with_member(data: bytes, member: str) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            dst.writestr(info, src.read(info))
        dst.writestr(member, b"\0" * 16)
    return out.getvalue()


def test_macros_and_external_links() -> None:
    (macro,) = problems(_with_member(answered(), "xl/vbaProject.bin"))
    assert "macro" in macro[2]
    (link,) = problems(_with_member(answered(), "xl/externalLinks/externalLink1.xml"))
    assert "external link" in link[2]


def test_zip_bomb_is_refused_before_inflating() -> None:
    (found,) = problems(_bomb())
    assert found[0] == "(file)"
    assert "zip bomb" in found[2]


def _bomb() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("xl/worksheets/sheet1.xml", b"\0" * (10 * 1024 * 1024))
    return out.getvalue()


# --------------------------------------------------------------------------------------------
# the PACT footprint


def test_answer_as_pact_footprint() -> None:
    a = read_answers(answered(), name="answer.xlsx")
    doc = answer_footprint(
        a,
        material="steel.hot_rolled_coil",
        footprint_id=uuid.UUID(int=7),
        created=dt.datetime(2026, 3, 1, tzinfo=dt.UTC),
    )
    assert validate_footprint(doc, version="3") == []
    pcf = doc["pcf"]
    assert doc["productIds"] == [
        "urn:openpcf:supplier-request:00000000-0000-4000-8000-000000000015"
    ]
    assert doc["companyName"] == "Tangshan Steel"
    assert pcf["pcfExcludingBiogenicUptake"] == "2"
    assert pcf["pcfIncludingBiogenicUptake"] == "1.9"  # 2.0 - 0.1
    assert pcf["biogenicCO2Uptake"] == "-0.1"
    assert pcf["fossilGhgEmissions"] == "1.9"
    assert pcf["biogenicNonCO2Emissions"] == "0.05"
    assert pcf["landUseChangeGhgEmissions"] == "0.05"
    assert pcf["primaryDataShare"] == "80"
    assert pcf["crossSectoralStandards"] == ["ISO14067"]
    assert pcf["ipccCharacterizationFactors"] == ["AR6"]
    assert pcf["referencePeriodEnd"] == "2026-01-01T00:00:00Z"  # exclusive end
    assert pcf["geographyCountrySubdivision"] == "CN-HE"
    assert pcf["verification"]["providerName"] == "CQC"
    (ext,) = doc["extensions"]
    assert ext["data"]["recycledContent"] == {
        "preConsumerPercent": "10",
        "postConsumerPercent": "5",
    }
    assert ext["data"]["processEmissions"] == "0.3"
    assert [e["kWh"] for e in ext["data"]["electricity"]] == ["1200", "300"]


def test_product_id_is_the_material_urn_when_it_is_one() -> None:
    rid = uuid.UUID(int=3)
    assert request_product_id("urn:gtin:0123", rid) == "urn:gtin:0123"
    assert request_product_id("steel.hot_rolled", rid) == f"urn:openpcf:supplier-request:{rid}"


def test_answer_reads_back_as_a_supplier_factor() -> None:
    """The footprint is what a model's ``supplier_footprint: <URN>`` reads: CO2e = fossil 1.9
    + biogenic non-CO2 0.05 = 1.95, CO2-luc 0.05, so 2.0 kg CO2e per kg in all; primary data
    share 80 % → 0.8."""
    a = read_answers(answered(), name="answer.xlsx")
    doc = answer_footprint(
        a, material="urn:gtin:0123", footprint_id=uuid.UUID(int=9), created=dt.datetime.now(dt.UTC)
    )

    class Store:
        def find(self, ref: str, /) -> ReceivedFootprint:
            assert ref == "urn:gtin:0123"
            return ReceivedFootprint(document=doc, label="answer")

    factor = supplier_factor("urn:gtin:0123", base=Path("."), store=Store())
    assert factor.unit == "kg"
    assert factor.emissions["CO2e"] == pytest.approx(1.95, rel=1e-12)
    assert factor.emissions["CO2-luc"] == pytest.approx(0.05, rel=1e-12)
    assert factor.primary_share == pytest.approx(0.8)


def test_a_workbook_without_its_metadata_sheet() -> None:
    def drop(wb: Any) -> None:
        del wb[t.SHEET_META]

    with pytest.raises(QuestionnaireError) as caught:
        read_answers(fill(build_workbook(questionnaire()), edit=drop), name="a.xlsx")
    assert [(p.sheet, p.cell) for p in caught.value.problems] == [(t.SHEET_META, "")]
    assert caught.value.request_id is None
