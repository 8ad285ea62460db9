"""Verification package: package -> reproduce elsewhere -> identical; tampering is named."""

from __future__ import annotations

import importlib
import importlib.util
import json
import shutil
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from openpcf.certify import KeyStore, verify_certificate
from openpcf.factors import load_factor_set
from openpcf.package import PackageError, ReproductionError
from openpcf.services.packaging import build_package, reproduce_package

FIXTURES = Path(__file__).parent / "fixtures"
WIDGET = FIXTURES / "two_process.yaml"


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    from openpcf.settings import get_settings

    monkeypatch.setenv("OPENPCF_HOME", str(tmp_path / "home"))
    get_settings.cache_clear()
    yield tmp_path / "home"
    get_settings.cache_clear()


@pytest.fixture
def keys(home: Path) -> KeyStore:
    store = KeyStore(home / "keys")
    store.create(issuer="https://pcf.example.com")
    return store


def read(package: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(package) as z:
        return {n: z.read(n) for n in z.namelist()}


def rewrite(package: Path, contents: dict[str, bytes]) -> None:
    with zipfile.ZipFile(package, "w") as z:
        for name, data in contents.items():
            z.writestr(name, data)


def test_package_contents(keys: KeyStore, tmp_path: Path) -> None:
    out = tmp_path / "widget.zip"
    summary = build_package(WIDGET, output=out, keys=keys)
    files = read(out)
    for name in ("manifest.json", "manifest.jws", "model/two_process.yaml", "factors/rows.csv",
                 "result.json", "footprint.pact.json", "certificate.jwt", "jwks.json"):  # fmt: skip
        assert name in files
    assert files["model/two_process.yaml"] == WIDGET.read_bytes()
    manifest = json.loads(files["manifest.json"])
    assert manifest["factor_rows"]["cn.grid.co2.2022.province.hebei"]["emissions"] == {
        "CO2-fossil": 0.7252
    }
    assert summary.signed
    assert summary.certificate_id
    # the certificate binds the packaged PACT footprint
    assert verify_certificate(
        files["certificate.jwt"].decode(),
        jwks=json.loads(files["jwks.json"]),
        footprint=json.loads(files["footprint.pact.json"]),
    )
    # no temporary file is left beside the package (written by temp file + rename)
    assert sorted(p.name for p in tmp_path.iterdir() if p.suffix != "") == ["widget.zip"]


def test_factor_rows_reload_with_load_factor_set(home: Path, tmp_path: Path) -> None:
    out = tmp_path / "widget.zip"
    summary = build_package(WIDGET, output=out)
    rows = tmp_path / "rows.csv"
    rows.write_bytes(read(out)["factors/rows.csv"])
    reloaded = load_factor_set(rows)
    for factor in summary.calculation.compiled.factors:
        assert reloaded.get(factor.id).canonical() == factor.canonical()


def test_reproduce_in_a_clean_directory_is_identical(
    keys: KeyStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "made" / "widget.zip"
    summary = build_package(WIDGET, output=out, keys=keys)
    clean = tmp_path / "clean"
    clean.mkdir()
    shutil.copy(out, clean / "widget.zip")
    monkeypatch.chdir(clean)
    report = reproduce_package(Path("widget.zip"))
    assert report.identical, report.summary()
    assert report.kg_co2e_recomputed == summary.kg_co2e  # bit for bit
    assert any("signature verifies" in n for n in report.notes)
    assert any("certificate" in n for n in report.notes)


def test_reproduction_uses_only_the_packaged_rows(
    home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Reaching for the bundled database during reproduction fails the test."""
    import openpcf.factors
    import openpcf.factors.loading
    import openpcf.services.calculate

    out = tmp_path / "widget.zip"
    build_package(WIDGET, output=out)

    def forbidden() -> None:
        pytest.fail("reproduction read the bundled factor database")

    for module in (openpcf.factors, openpcf.factors.loading, openpcf.services.calculate):
        monkeypatch.setattr(module, "bundled_factor_set", forbidden)
    assert reproduce_package(out).identical


def test_tampered_factor_is_detected_and_explained(home: Path, tmp_path: Path) -> None:
    """Hebei 2022 grid 0.7252 -> 0.8252 kg/kWh: total moves by 3 kWh x 0.1 = 0.3 kg."""
    out = tmp_path / "widget.zip"
    build_package(WIDGET, output=out)
    contents = read(out)
    contents["factors/rows.csv"] = contents["factors/rows.csv"].replace(b",0.7252", b",0.8252")
    rewrite(out, contents)
    report = reproduce_package(out)
    assert not report.identical
    assert "file factors/rows.csv in the package differs from the manifest digest" in (
        report.problems
    )
    assert any(
        p.startswith("factor row cn.grid.co2.2022.province.hebei in the package differs from the "
                     "manifest digest (CO2-fossil 0.7252 -> 0.8252)")
        for p in report.problems
    )  # fmt: skip
    assert report.kg_co2e_recomputed == pytest.approx(6.5054, rel=1e-12)
    assert report.differences[0].where == "kg_co2e"
    assert any("factor cn.grid.co2.2022.province.hebei changed" in c for c in report.causes)
    assert "total: 6.205399999999999 in the package vs 6.5054" in report.summary()


def test_tampered_result_is_detected(home: Path, tmp_path: Path) -> None:
    out = tmp_path / "widget.zip"
    build_package(WIDGET, output=out)
    contents = read(out)
    result = json.loads(contents["result.json"])
    result["kg_co2e"] = 6.2
    contents["result.json"] = json.dumps(result).encode()
    rewrite(out, contents)
    report = reproduce_package(out)
    assert "file result.json in the package differs from the manifest digest" in report.problems
    assert report.differences[0].where == "kg_co2e"


def test_manifest_changed_after_signing(keys: KeyStore, tmp_path: Path) -> None:
    out = tmp_path / "widget.zip"
    build_package(WIDGET, output=out, keys=keys)
    contents = read(out)
    manifest = json.loads(contents["manifest.json"])
    manifest["gwp"] = "AR5"
    contents["manifest.json"] = json.dumps(manifest).encode()
    rewrite(out, contents)
    report = reproduce_package(out)
    assert "manifest.json was changed after it was signed" in report.problems


def test_side_files_are_packaged_and_checked(home: Path, tmp_path: Path) -> None:
    """The carton reads its supplier's PACT footprint; both go in, at the same paths."""
    out = tmp_path / "carton.zip"
    summary = build_package(FIXTURES / "pact_supplier_box.yaml", output=out)
    assert "model/pact_supplier_board.json" in summary.files
    assert summary.kg_co2e == pytest.approx(-0.564, rel=1e-12)
    assert reproduce_package(out).identical

    contents = read(out)
    board = json.loads(contents["model/pact_supplier_board.json"])
    board["pcf"]["fossilGhgEmissions"] = "70"
    contents["model/pact_supplier_board.json"] = json.dumps(board).encode()
    rewrite(out, contents)
    report = reproduce_package(out)
    assert not report.identical
    assert (
        "file model/pact_supplier_board.json in the package differs from the manifest digest"
        in report.problems
    )
    assert any("recomputed from its side file differs" in c for c in report.causes)


def test_side_files_outside_the_model_folder(home: Path, tmp_path: Path) -> None:
    """Shipment and electricity-claim files referenced with ``../`` keep their layout."""
    for name in ("logistics_export_chain.yaml", "electricity_claims_suzhou_2023.yaml"):
        shutil.copy(FIXTURES / name, tmp_path / name)
    model = tmp_path / "models" / "delivered.yaml"
    model.parent.mkdir()
    text = WIDGET.read_text().replace(
        "      - {process: sheet, amount: sheet_mass, unit: kg}",
        "      - {process: sheet, amount: sheet_mass, unit: kg}\n"
        "      - {shipment: ../logistics_export_chain.yaml, amount: 1, unit: kg}\n"
        "      - {electricity_claim: ../electricity_claims_suzhou_2023.yaml, amount: 10,"
        " unit: kWh}",
    )
    model.write_text(text)
    out = tmp_path / "delivered.zip"
    summary = build_package(model, output=out)
    assert {"model/models/delivered.yaml", "model/logistics_export_chain.yaml"} <= set(
        summary.files
    )
    report = reproduce_package(out)
    assert report.identical, report.summary()


def test_absolute_side_file_path_is_refused(home: Path, tmp_path: Path) -> None:
    shutil.copy(FIXTURES / "pact_supplier_board.json", tmp_path / "board.json")
    text = (FIXTURES / "pact_supplier_box.yaml").read_text()
    model = tmp_path / "box.yaml"
    model.write_text(text.replace("pact_supplier_board.json", str(tmp_path / "board.json")))
    with pytest.raises(PackageError, match="absolute path"):
        build_package(model, output=tmp_path / "box.zip")


def _reports_available() -> bool:
    if importlib.util.find_spec("openpcf.reports") is None:
        return False
    reports = importlib.import_module("openpcf.reports")
    return hasattr(reports, "build_report_data") and hasattr(reports, "render_html")


@pytest.mark.skipif(not _reports_available(), reason="openpcf.reports not built yet")
def test_html_report_is_included(home: Path, tmp_path: Path) -> None:
    summary = build_package(WIDGET, output=tmp_path / "widget.zip")
    assert "report.html" in summary.files
    assert b"<html" in read(tmp_path / "widget.zip")["report.html"].lower()


def test_report_builder_is_called_when_present(
    home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The package uses ``build_report_data(calculation, lang=)`` then ``render_html(data)``."""
    import sys
    import types

    fake = types.ModuleType("openpcf.reports")
    fake.build_report_data = lambda calculation, *, lang: {"total": calculation.result.total}  # type: ignore[attr-defined]
    fake.render_html = lambda data: f"<html>{data['total']!r}</html>"  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "openpcf.reports", fake)
    out = tmp_path / "widget.zip"
    build_package(WIDGET, output=out)
    assert read(out)["report.html"] == b"<html>6.205399999999999</html>"
    assert reproduce_package(out).identical


def test_report_absence_is_stated(home: Path, tmp_path: Path) -> None:
    summary = build_package(WIDGET, output=tmp_path / "widget.zip")
    if "report.html" not in summary.files:
        assert any(o.startswith("report.html:") for o in summary.omitted)


def test_cli_package_and_reproduce(keys: KeyStore, tmp_path: Path) -> None:
    from openpcf.audit import verify_trail
    from openpcf.settings import get_settings
    from test_certificate import run

    out = tmp_path / "widget.zip"
    code, text = run("package", str(WIDGET), "-o", str(out), "--param", "power=4")
    assert code == 0, text
    assert "manifest signed" in text
    assert "certificate urn:uuid:" in text
    trail = get_settings().audit_trail
    assert verify_trail(trail).records == 1  # the packaged calculation is in the audit trail
    code, text = run("reproduce", str(out))
    assert code == 0, text
    assert "reproduced, identical result (6.9306" in text  # 6.2054 + 1 kWh x 0.7252
    contents = read(out)
    contents["factors/rows.csv"] = contents["factors/rows.csv"].replace(b",0.7252", b",0.7")
    rewrite(out, contents)
    code, text = run("reproduce", str(out))
    assert code == ReproductionError.exit_code
    assert "NOT reproduced" in text
