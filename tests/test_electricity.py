"""Location- and market-based electricity, certificates and the claim registry.

Bundled factors used as oracles (MEE/NBS, kg CO2/kWh): East China grid 2023 0.55; national
2023 excluding market-traded non-fossil 0.6096 (the residual-mix analogue); 2023 wind
carbon-footprint factor 0.0336 kg CO2e/kWh.
"""

from __future__ import annotations

import json
import math
import os
import textwrap
from pathlib import Path

import pytest

from openpcf.electricity import (
    CertificateRegistry,
    ClaimError,
    ClaimFileError,
    DoubleClaimError,
    ResidualMixError,
    calculate_claims,
    electricity_factor,
    load_claims,
    location_based,
    market_based,
)
from openpcf.settings import get_settings

FIXTURES = Path(__file__).parent / "fixtures"
SUZHOU = FIXTURES / "electricity_claims_suzhou_2023.yaml"


def close(actual: float | None, expected: float) -> None:
    assert actual is not None
    assert math.isclose(actual, expected, rel_tol=1e-9, abs_tol=1e-12), (actual, expected)


@pytest.fixture
def registry(tmp_path: Path) -> CertificateRegistry:
    return CertificateRegistry(tmp_path / "registry" / "certs.json")


CLAIM = """
claim: {claim}
site: {site}
geography: CN-JS
period: {{start: {year}-01-01, end: {year}-12-31}}
consumption_kwh: 1000000
{extra}
instruments:
{instruments}
"""


def write_claim(
    tmp_path: Path,
    instruments: str,
    *,
    claim: str = "c1",
    site: str = "Suzhou plant",
    year: int = 2023,
    extra: str = "",
    name: str = "claims.yaml",
) -> Path:
    path = tmp_path / name
    text = CLAIM.format(
        claim=claim,
        site=site,
        year=year,
        extra=extra,
        instruments=textwrap.indent(instruments, "  "),
    )
    path.write_text(text, encoding="utf-8")
    return path


GEC = (
    "- {{type: GEC, id: {id}, mwh: {mwh}, technology: wind, "
    "period: {{start: {start}, end: {end}}}{more}}}\n"
)


def gec(id: str = "GEC-1", mwh: float = 300, start: str = "2023-01-01", end: str = "2023-06-30",
        more: str = "") -> str:  # fmt: skip
    return GEC.format(id=id, mwh=mwh, start=start, end=end, more=more)


def test_location_based_falls_back_to_regional_grid() -> None:
    """Jiangsu 2023 has no provincial factor: East China grid 0.55 × 1 000 000 = 550 000 kg."""
    result = location_based(geography="CN-JS", year=2023, consumption_kwh=1_000_000)
    close(result.kg_per_kwh, 0.55)
    close(result.emissions_kg, 550_000.0)
    assert result.grid_factor_id == "cn.grid.co2.2023.grid.east"
    assert "no 2023 factor for Jiangsu" in result.grid_note
    assert result.method == "location-based"


def test_market_based_partial_cover_and_residual_mix() -> None:
    """1 000 000 kWh; GEC wind 300 MWh + I-REC solar 100 MWh at 0 kg CO2/kWh cover 400 000 kWh.

    Residual 600 000 kWh × 0.6096 = 365 760 kg; applied 0.36576 kg/kWh.
    """
    result = market_based(load_claims(SUZHOU))
    close(result.covered_kwh, 400_000.0)
    close(result.residual_kwh, 600_000.0)
    close(result.residual_kg_per_kwh, 0.6096)
    close(result.emissions_kg, 365_760.0)
    close(result.kg_per_kwh, 0.36576)
    assert [u.id for u in result.instruments] == ["GEC-2023-000001", "IREC-CN-2023-42"]
    assert "excluding market-traded non-fossil" in result.residual_source
    assert result.method == "market-based"
    assert result.gas == "CO2-fossil"


def test_ppa_with_own_factor_and_given_residual(tmp_path: Path) -> None:
    """2024 (no sourced residual): PPA 200 MWh at 0.05 + residual 800 000 kWh × 0.7 given.

    E = 200 000 × 0.05 + 800 000 × 0.7 = 10 000 + 560 000 = 570 000 kg; 0.57 kg/kWh.
    """
    inst = (
        "- {type: PPA, id: PPA-7, mwh: 200, technology: other, factor_kg_per_kwh: 0.05, "
        "factor_source: PPA contract annex, period: {start: 2024-01-01, end: 2024-12-31}}\n"
    )
    extra = "residual: {factor_kg_per_kwh: 0.7, source: supplier residual statement 2024}"
    result = market_based(load_claims(write_claim(tmp_path, inst, year=2024, extra=extra)))
    close(result.emissions_kg, 570_000.0)
    close(result.kg_per_kwh, 0.57)
    assert result.residual_source == "supplier residual statement 2024"


def test_no_residual_mix_for_unsourced_year(tmp_path: Path) -> None:
    path = write_claim(tmp_path, gec(start="2024-01-01", end="2024-06-30"), year=2024)
    with pytest.raises(ResidualMixError, match=r"no sourced residual mix .* year 2024"):
        market_based(load_claims(path))


def test_footprint_basis_uses_lifecycle_wind_factor(tmp_path: Path) -> None:
    """Footprint basis: 300 000 kWh × 0.0336 + 700 000 × 0.65 (given) = 10 080 + 455 000."""
    extra = "basis: footprint\nresidual: {factor_kg_per_kwh: 0.65, source: test residual}"
    result = market_based(load_claims(write_claim(tmp_path, gec(), extra=extra)))
    close(result.emissions_kg, 465_080.0)
    assert result.gas == "CO2e"


def test_side_by_side_and_factor(tmp_path: Path, registry: CertificateRegistry) -> None:
    both = calculate_claims(SUZHOU, registry=registry)
    close(both.location.kg_per_kwh, 0.55)
    close(both.market.kg_per_kwh, 0.36576)
    factor = electricity_factor(SUZHOU.name, base=FIXTURES, registry=registry)
    assert factor.id == "electricity.claim.electricity_claims_suzhou_2023"
    assert factor.unit == "kWh"
    close(factor.emissions["CO2-fossil"], 0.36576)
    assert "market-based" in factor.notes
    assert "location-based for comparison: 0.55" in factor.notes
    assert factor.year == 2023


def test_double_claim_is_rejected_and_release_frees_it(
    tmp_path: Path, registry: CertificateRegistry
) -> None:
    first = write_claim(tmp_path, gec(), claim="plant-a", name="a.yaml")
    calculate_claims(first, registry=registry)
    calculate_claims(first, registry=registry)  # the same claim again is not a double claim
    second = write_claim(tmp_path, gec(), claim="plant-b", site="Wuxi plant", name="b.yaml")
    with pytest.raises(DoubleClaimError) as info:
        calculate_claims(second, registry=registry)
    message = str(info.value)
    assert "'GEC-1' is already claimed by claim 'plant-a'" in message
    assert "Suzhou plant" in message
    assert str(first.resolve()) in message
    assert str(registry.path) in message
    assert "openpcf electricity release GEC-1" in message
    record = registry.release("GEC-1")
    assert record["claim"] == "plant-a"
    calculate_claims(second, registry=registry)
    assert registry.records()["GEC-1"]["claim"] == "plant-b"


def test_same_certificate_twice_in_one_claim(tmp_path: Path) -> None:
    path = write_claim(tmp_path, gec(mwh=100) + gec(mwh=100))
    with pytest.raises(DoubleClaimError, match="'GEC-1' is listed twice"):
        market_based(load_claims(path))


def test_certificate_for_another_period(tmp_path: Path) -> None:
    path = write_claim(tmp_path, gec(start="2022-01-01", end="2022-12-31"))
    with pytest.raises(ClaimError, match=r"covers 2022-01-01/2022-12-31, outside the claim period"):
        market_based(load_claims(path))


def test_certificate_for_another_site(tmp_path: Path) -> None:
    path = write_claim(tmp_path, gec(more=", site: Wuxi plant"))
    with pytest.raises(ClaimError, match="is for site 'Wuxi plant', not 'Suzhou plant'"):
        market_based(load_claims(path))


def test_instruments_exceeding_consumption(tmp_path: Path) -> None:
    path = write_claim(tmp_path, gec(mwh=1200))
    with pytest.raises(ClaimError, match=r"cover 1.2e\+06 kWh but the site used 1e\+06 kWh"):
        market_based(load_claims(path))


def test_schema_errors_name_file_line_and_field(tmp_path: Path) -> None:
    path = write_claim(tmp_path, gec(mwh=-5))
    with pytest.raises(ClaimFileError, match=r"claims.yaml:9: instruments\[0\].mwh: .*positive"):
        load_claims(path)


def test_registry_under_openpcf_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENPCF_HOME", str(tmp_path / "home"))
    get_settings.cache_clear()
    try:
        calculate_claims(SUZHOU, registry=CertificateRegistry(get_settings().registry_file))
        path = tmp_path / "home" / "registry" / "electricity_certificates.json"
        data = json.loads(path.read_text(encoding="utf-8"))
        assert set(data["certificates"]) == {"GEC-2023-000001", "IREC-CN-2023-42"}
        assert data["certificates"]["GEC-2023-000001"]["period"] == "2023-01-01/2023-12-31"
    finally:
        get_settings.cache_clear()


def test_failed_write_loses_nothing(
    tmp_path: Path, registry: CertificateRegistry, monkeypatch: pytest.MonkeyPatch
) -> None:
    calculate_claims(write_claim(tmp_path, gec(), name="a.yaml"), registry=registry)
    before = registry.path.read_bytes()

    def boom(src: object, dst: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(OSError, match="disk full"):
        registry.release("GEC-1")
    assert registry.path.read_bytes() == before
    assert sorted(p.name for p in registry.path.parent.iterdir()) == [registry.path.name]


def test_corrupt_registry_is_a_clear_error(tmp_path: Path, registry: CertificateRegistry) -> None:
    registry.path.parent.mkdir(parents=True)
    registry.path.write_text("{not json", encoding="utf-8")
    with pytest.raises(ClaimError, match="not valid JSON"):
        registry.records()
