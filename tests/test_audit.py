"""Audit trail: records chain by hash; any edit, deletion, reordering or insertion is named."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from openpcf.audit import (
    AuditTrail,
    TrailTamperedError,
    list_records,
    record_calculation,
    record_hash,
    verify_trail,
)
from openpcf.model.calculation import Calculation
from openpcf.services.calculate import calculate

FIXTURE = Path(__file__).parent / "fixtures" / "two_process.yaml"


@pytest.fixture(scope="module")
def calculation() -> Calculation:
    return calculate(FIXTURE)


@pytest.fixture
def trail(tmp_path: Path, calculation: Calculation) -> AuditTrail:
    t = AuditTrail(tmp_path / "audit" / "trail.jsonl")
    for n in range(4):
        record_calculation(calculation, trail=t, context={"run": str(n + 1)})
    return t


def lines(t: AuditTrail) -> list[str]:
    return t.path.read_text(encoding="utf-8").splitlines()


def write(t: AuditTrail, rows: list[str]) -> None:
    t.path.write_text("".join(r + "\n" for r in rows), encoding="utf-8")


def test_record_holds_the_provenance_hashes(trail: AuditTrail, calculation: Calculation) -> None:
    record = list_records(trail)[0]
    prov = calculation.result.provenance
    for key in ("model_sha256", "parameters_sha256", "factor_rows_sha256", "factor_set_sha256",
                "gwp_set", "openpcf_version", "solver"):  # fmt: skip
        assert record.data[key] == prov[key]
    assert record.data["kg_co2e"] == calculation.result.total
    assert record.data["databases"][0]["name"] == "cn_grid_co2"
    assert record.prev == "0" * 64
    assert record.hash == record_hash(record.to_dict())


def test_intact_trail_verifies(trail: AuditTrail) -> None:
    report = verify_trail(trail)
    assert report.records == 4
    assert report.head == list_records(trail)[-1].hash
    records = list_records(trail)
    assert [r.prev for r in records[1:]] == [r.hash for r in records[:-1]]


def test_edited_record_is_named(trail: AuditTrail) -> None:
    rows = lines(trail)
    rows[1] = rows[1].replace('"kg_co2e": 6.205399999999999', '"kg_co2e": 5.0')
    write(trail, rows)
    with pytest.raises(TrailTamperedError, match=r"record 2 .*was edited") as info:
        verify_trail(trail)
    assert (info.value.record, info.value.reason) == (2, "edited")


def test_edited_record_with_recomputed_hash_is_named(trail: AuditTrail) -> None:
    rows = lines(trail)
    record = json.loads(rows[1])
    record["data"]["kg_co2e"] = 5.0
    record["hash"] = record_hash(record)
    rows[1] = json.dumps(record)
    write(trail, rows)
    with pytest.raises(TrailTamperedError, match=r"record 3.*record 2 was rewritten") as info:
        verify_trail(trail)
    assert info.value.record == 3
    assert info.value.reason == "chain broken"


def test_deleted_record_is_named(trail: AuditTrail) -> None:
    rows = lines(trail)
    del rows[1]
    write(trail, rows)
    with pytest.raises(TrailTamperedError, match=r"record 2 .*record\(s\) 2..2 were deleted"):
        verify_trail(trail)


def test_reordered_records_are_named(trail: AuditTrail) -> None:
    rows = lines(trail)
    rows[1], rows[2] = rows[2], rows[1]
    write(trail, rows)
    with pytest.raises(TrailTamperedError, match=r"record 2 .*reordered") as info:
        verify_trail(trail)
    assert info.value.record == 2


def test_inserted_record_is_named(trail: AuditTrail) -> None:
    rows = lines(trail)
    forged = json.loads(rows[0])
    forged["data"]["kg_co2e"] = 1.0
    forged["seq"], forged["prev"] = 2, json.loads(rows[0])["hash"]
    forged["hash"] = record_hash(forged)
    rows.insert(1, json.dumps(forged))
    write(trail, rows)
    with pytest.raises(TrailTamperedError, match=r"record 3 .*inserted") as info:
        verify_trail(trail)
    assert info.value.reason == "inserted or reordered"


def test_records_cut_off_the_end_are_named(trail: AuditTrail) -> None:
    write(trail, lines(trail)[:-1])
    with pytest.raises(TrailTamperedError, match=r"record\(s\) 4\.\.4 were deleted from the end"):
        verify_trail(trail)


def test_truncated_line_is_named(trail: AuditTrail) -> None:
    rows = lines(trail)
    rows[2] = rows[2][:40]
    write(trail, rows)
    with pytest.raises(TrailTamperedError, match=r"record 3: the line is not a JSON record"):
        verify_trail(trail)


def test_missing_head_anchor_is_reported(trail: AuditTrail) -> None:
    trail.head_path.unlink()
    with pytest.raises(TrailTamperedError, match="head anchor is missing"):
        verify_trail(trail)


def test_damaged_trail_is_never_extended(trail: AuditTrail, calculation: Calculation) -> None:
    write(trail, lines(trail)[:-1])
    with pytest.raises(TrailTamperedError):
        record_calculation(calculation, trail=trail)
    assert len(lines(trail)) == 3


def test_default_trail_lives_in_openpcf_home(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, calculation: Calculation
) -> None:
    from openpcf.settings import get_settings

    monkeypatch.setenv("OPENPCF_HOME", str(tmp_path / "home"))
    get_settings.cache_clear()
    try:
        record_calculation(calculation, trail=get_settings().audit_trail)
        assert (tmp_path / "home" / "audit" / "trail.jsonl").exists()
        assert verify_trail(get_settings().audit_trail).records == 1
    finally:
        get_settings.cache_clear()


def test_cli_audit_verify_and_list(trail: AuditTrail) -> None:
    from test_certificate import run

    code, out = run("audit", "verify", "--trail", str(trail.path))
    assert code == 0
    assert "4 record(s), chain intact" in out
    code, out = run("audit", "list", "--trail", str(trail.path))
    assert code == 0
    assert out.count("Widget") == 4
    rows = lines(trail)
    rows[0] = rows[0].replace("Widget", "Gadget")
    write(trail, rows)
    code, out = run("audit", "verify", "--trail", str(trail.path))
    assert code == TrailTamperedError.exit_code
    assert "record 1" in out
    assert "edited" in out
