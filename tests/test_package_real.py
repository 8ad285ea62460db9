"""Verification packages of a real model (issue 13): the ``real_home`` transformer, with a
background input from an imported database, a supplier footprint named by product URN and a
shipment file, packaged in one home and reproduced in another that has neither the database
nor the supplier store. Both database backends (``real_home`` is parametrised through ``home``).

Worked numbers: the supplier footprint is 60 kg fossil + 2 kg biogenic non-CO2 per 100 kg of
board, so its row is 0.62 kg CO2e per kg (plus 0.05 kg CO2-luc); the model takes 40 kg. Raising
the fossil emissions to 90 per 100 kg makes the row 0.92 and the total 40 x 0.30 = 12 kg CO2e
higher. The background row is ``widget assembly`` of the small JSON-LD database (5.01875 kg
CO2-fossil per kg); the model takes 3000 kg, so 1 kg more CO2-fossil per kg adds 3000 kg.
"""

from __future__ import annotations

import hashlib
import json
import pickle
import re
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import Result

from fixtures.cli_home import cli, ok
from fixtures.real_model import BOARD_ID, BOARD_URN, FIXTURES
from openpcf.package import ReproductionError
from openpcf.package.background import (
    BackgroundFileError,
    PackedBackground,
    background_json,
    read_background,
)
from openpcf.package.rows import row_digest
from openpcf.package.suppliers import PackedFootprints, canonical_document
from openpcf.services.packaging import build_package, reproduce_package

SUPPLIER_FILE = f"suppliers/{BOARD_ID}.json"
SUPPLIER_ROW = f"supplier.{BOARD_ID}"


def read(package: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(package) as z:
        return {n: z.read(n) for n in z.namelist()}


def rewrite(package: Path, contents: dict[str, bytes]) -> None:
    with zipfile.ZipFile(package, "w") as z:
        for name, data in contents.items():
            z.writestr(name, data)


def package(model: Path, tmp_path: Path) -> Path:
    out = tmp_path / "out" / "transformer.zip"
    out.parent.mkdir(exist_ok=True)
    ok("package", str(model), "-o", str(out))
    return out


def background_row_id(contents: dict[str, bytes]) -> str:
    rows = json.loads(contents["background/rows.json"])["rows"]
    return str(rows[0]["factor"]["id"])


def said(result: Result) -> str:
    """What a command printed and the error it ended with, on one line."""
    return " ".join(f"{result.output} {result.exception or ''}".split())


def exit_code(result: Result) -> int:
    """The exit code ``openpcf`` gives: an OpenPCFError's own (the in-process runner leaves
    it as the exception)."""
    from openpcf.errors import OpenPCFError

    if isinstance(result.exception, OpenPCFError):
        return result.exception.exit_code
    return result.exit_code


@pytest.fixture
def verifier(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[], Path]]:
    """``switch()``: move to a fresh home and database with nothing imported or received, and
    fail the test if anything reads a supplier store from then on."""
    from openpcf.services.suppliers import SupplierStore
    from openpcf.settings import get_settings

    def switch() -> Path:
        folder = tmp_path / "verifier"
        monkeypatch.setenv("OPENPCF_HOME", str(folder))
        monkeypatch.setenv("OPENPCF_DATABASE_URL", f"sqlite:///{folder / 'openpcf.db'}")
        get_settings.cache_clear()

        def forbidden(self: SupplierStore, ref: str, /) -> None:
            pytest.fail(f"reproduction looked up {ref!r} in a supplier store")

        monkeypatch.setattr(SupplierStore, "find", forbidden)
        return folder

    yield switch
    get_settings.cache_clear()


# --------------------------------------------------------------------------------------------
# building


def test_package_holds_background_rows_supplier_document_and_shipment(
    real_home: Path, tmp_path: Path
) -> None:
    from openpcf.db.repositories.suppliers import content_sha256

    calc = json.loads(ok("calc", str(real_home), "-f", "json").output)
    out = tmp_path / "transformer.zip"
    printed = " ".join(ok("package", str(real_home), "-o", str(out)).output.split())
    assert "1 background row(s) in background/rows.json" in printed
    assert f"supplier footprint {SUPPLIER_FILE}, as the supplier store holds it" in printed
    files = read(out)
    manifest = json.loads(files["manifest.json"])
    assert manifest["format"] == "openpcf-package/2"

    # the shipment side file, byte for byte, beside the model
    shipment = real_home.parent / "logistics_export_chain.yaml"
    assert files["model/logistics_export_chain.yaml"] == shipment.read_bytes()
    assert files["model/transformer.yaml"] == real_home.read_bytes()

    # the background row, with the database's identity
    (row,) = json.loads(files["background/rows.json"])["rows"]
    used = next(e["label"] for e in calc["exchanges"] if e["kind"] == "background")
    assert row["factor"]["id"] == used
    assert row["references"] == ["small:widget assembly"]
    assert row["database"] == "small"
    assert re.fullmatch(r"[0-9a-f]{12}", row["version"])
    assert row["content_sha256"].startswith(row["version"])
    assert len(row["content_sha256"]) == 64
    assert row["format"] == "jsonld"
    assert row["process_uuid"] == "ee000000-0000-4000-8000-000000000006"
    assert row["licence"].startswith("CC0 1.0")
    assert row["factor"]["unit"] == "kg"
    assert row["factor"]["emissions"]["CO2-fossil"] == pytest.approx(5.01875, rel=1e-12)
    assert manifest["factor_rows"][used]["origin"] == "background"
    assert manifest["background_rows_file"] == "background/rows.json"
    assert b"small@" not in files["factors/rows.csv"]  # a factor set holds no such id

    # the supplier footprint named by URN, exactly as the store held it
    document = json.loads(files[SUPPLIER_FILE])
    assert document == json.loads((FIXTURES / "pact_supplier_board.json").read_text())
    assert hashlib.sha256(files[SUPPLIER_FILE]).hexdigest() == content_sha256(document)
    entry = manifest["received_footprints"][BOARD_URN]
    assert entry["file"] == SUPPLIER_FILE
    assert entry["footprint_id"] == BOARD_ID
    assert entry["sha256"] == content_sha256(document)
    assert "held by Transformer Works" in entry["label"]
    assert manifest["factor_rows"][SUPPLIER_ROW]["origin"] == "received"
    assert manifest["factor_rows"]["shipment.logistics_export_chain"]["origin"] == "side-file"

    assert json.loads(files["result.json"])["kg_co2e"] == calc["kg_co2e"]


def test_unknown_urn_is_a_clear_error(real_home: Path, tmp_path: Path) -> None:
    model = real_home.with_name("unknown_urn.yaml")
    model.write_text(real_home.read_text().replace(BOARD_URN, f"{BOARD_URN}-x"))
    out = tmp_path / "unknown.zip"
    result = cli("package", str(model), "-o", str(out))
    assert exit_code(result) == 2
    text = said(result)
    assert f"supplier_footprint '{BOARD_URN}-x'" in text
    assert "no footprint with that product id among the supplier footprints received" in text
    assert "openpcf pact pull" in text
    assert "unknown_urn.yaml:" in text  # the line of the input
    assert not out.exists()


def test_background_reference_to_a_missing_database_is_a_clear_error(
    real_home: Path, tmp_path: Path
) -> None:
    model = real_home.with_name("no_database.yaml")
    model.write_text(real_home.read_text().replace("small:widget", "absent:widget"))
    out = tmp_path / "absent.zip"
    result = cli("package", str(model), "-o", str(out))
    assert exit_code(result) == 2
    text = said(result)
    assert "No background database 'absent' (stored: small)" in text
    assert "openpcf import" in text
    assert "no_database.yaml:" in text
    assert not out.exists()


# --------------------------------------------------------------------------------------------
# reproducing


def test_reproduce_in_a_fresh_home_without_database_or_supplier_store(
    real_home: Path, tmp_path: Path, verifier: Callable[[], Path]
) -> None:
    out = package(real_home, tmp_path)
    packaged = json.loads(read(out)["result.json"])["kg_co2e"]
    fresh = verifier()
    # the verifier's home has neither the database nor the supplier footprint: the model
    # itself cannot be calculated here, only the package reproduced
    assert cli("calc", str(real_home)).exit_code != 0
    result = ok("reproduce", str(out))
    text = " ".join(result.output.split())
    assert f"reproduced, identical result ({packaged!r} kg CO2e" in text
    assert "1 row(s) of database small@" in text
    assert "is not installed here, so its rows were not recomputed from it" in text
    assert "supplier footprint(s) named by id or product URN read from the package" in text
    assert not (fresh / "databases").exists()


def test_a_signed_package_whose_pact_footprint_states_other_numbers_does_not_reproduce(
    real_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A dishonest package: the result is honest, the PACT footprint (the cradle-to-gate part
    of this cradle-to-grave model) states a tenth of its fossil emissions, and the manifest is
    signed over both. Reproduction makes the document again and names the field."""
    import openpcf.services.packaging as packaging

    honest = packaging.deliverable_footprint

    def tenth(*args: Any, **kwargs: Any) -> dict[str, Any]:
        document = honest(*args, **kwargs)
        pcf = document["pcf"]
        pcf["fossilGhgEmissions"] = str(float(pcf["fossilGhgEmissions"]) / 10)
        return document

    ok("keys", "create", "--issuer", "https://transformers.example.com")
    monkeypatch.setattr(packaging, "deliverable_footprint", tenth)
    out = package(real_home, tmp_path)
    monkeypatch.setattr(packaging, "deliverable_footprint", honest)
    result = cli("reproduce", str(out))
    assert exit_code(result) == ReproductionError.exit_code
    assert "footprint.pact.json states pcf.fossilGhgEmissions" in said(result)


def test_reproduce_where_the_database_is_installed_also_recomputes_its_rows(
    real_home: Path, tmp_path: Path
) -> None:
    out = package(real_home, tmp_path)
    text = " ".join(ok("reproduce", str(out)).output.split())
    assert "reproduced, identical result" in text
    assert "1 row(s) recomputed from this machine's copy of database small@" in text


def test_tampered_supplier_document_fails_naming_the_file(
    real_home: Path, tmp_path: Path, verifier: Callable[[], Path]
) -> None:
    out = package(real_home, tmp_path)
    verifier()
    contents = read(out)
    packaged = json.loads(contents["result.json"])["kg_co2e"]
    document = json.loads(contents[SUPPLIER_FILE])
    document["pcf"]["fossilGhgEmissions"] = "90"
    contents[SUPPLIER_FILE] = canonical_document(document)
    rewrite(out, contents)

    result = cli("reproduce", str(out))
    assert exit_code(result) == ReproductionError.exit_code
    assert "NOT reproduced" in result.output
    assert f"problem: file {SUPPLIER_FILE} in the package differs from the manifest digest" in (
        result.output
    )
    assert f"not reproduced: file {SUPPLIER_FILE} in the package differs" in said(result)
    report = reproduce_package(out)
    assert any(
        p.startswith(f"{SUPPLIER_FILE} is not the supplier footprint") for p in report.problems
    )
    assert (
        f"factor {SUPPLIER_ROW} recomputed from the supplier footprint {SUPPLIER_FILE} differs "
        "from the packaged row (CO2e 0.62 -> 0.92): the packed supplier footprint changed"
    ) in report.causes
    assert report.kg_co2e_recomputed == pytest.approx(packaged + 12.0, rel=1e-12)
    assert report.differences[0].where == "kg_co2e"


def test_tampered_background_row_fails_naming_the_file(
    real_home: Path, tmp_path: Path, verifier: Callable[[], Path]
) -> None:
    out = package(real_home, tmp_path)
    verifier()
    contents = read(out)
    packaged = json.loads(contents["result.json"])["kg_co2e"]
    rows = json.loads(contents["background/rows.json"])
    before = rows["rows"][0]["factor"]["emissions"]["CO2-fossil"]
    rows["rows"][0]["factor"]["emissions"]["CO2-fossil"] = before + 1.0
    contents["background/rows.json"] = json.dumps(rows).encode()
    rewrite(out, contents)

    result = cli("reproduce", str(out))
    assert exit_code(result) == ReproductionError.exit_code
    assert "problem: file background/rows.json in the package differs from the manifest " in (
        result.output
    )
    report = reproduce_package(out)
    fid = background_row_id(contents)
    assert (
        f"factor row {fid} in the package differs from the manifest digest (CO2-fossil "
        f"{before!r} -> {before + 1.0!r}), in background/rows.json"
    ) in report.problems
    assert report.kg_co2e_recomputed == pytest.approx(packaged + 3000.0, rel=1e-12)
    assert any(c.startswith(f"factor {fid} changed in the package") for c in report.causes)


def test_a_consistently_forged_row_is_caught_by_the_local_database(
    real_home: Path, tmp_path: Path
) -> None:
    """Row and manifest digests rewritten to agree (an unsigned package): only the verifier's
    own copy of the database can tell, and it does."""
    out = package(real_home, tmp_path)
    contents = read(out)
    (row,) = read_background(contents["background/rows.json"])
    forged = dict(row.factor.emissions)
    forged["CO2-fossil"] *= 2
    from dataclasses import replace

    row = replace(row, factor=replace(row.factor, emissions=forged))
    contents["background/rows.json"] = background_json([row])
    manifest = json.loads(contents["manifest.json"])
    manifest["files"]["background/rows.json"] = hashlib.sha256(
        contents["background/rows.json"]
    ).hexdigest()
    manifest["factor_rows"][row.factor.id]["sha256"] = row_digest(row.factor)
    contents["manifest.json"] = json.dumps(manifest).encode()
    rewrite(out, contents)

    from openpcf.settings import get_settings

    report = reproduce_package(out, databases=get_settings().databases_dir)
    assert not report.identical
    assert not any("digest" in p for p in report.problems)
    assert any(
        p.startswith(f"background row {row.factor.id} in background/rows.json differs from the "
                     "same process recomputed from this machine's copy of database small@")
        and "CO2-fossil 10.0375" in p
        for p in report.problems
    ), report.problems  # fmt: skip


def test_references_missing_from_the_package_are_not_looked_up_here(
    real_home: Path, tmp_path: Path
) -> None:
    """A package that lost its supplier document or background rows fails, even on the
    machine that has both the supplier store and the database."""
    out = package(real_home, tmp_path)
    contents = read(out)
    manifest = json.loads(contents["manifest.json"])
    manifest["received_footprints"] = {}
    contents["manifest.json"] = json.dumps(manifest).encode()
    rewrite(out, contents)
    report = reproduce_package(out)
    assert not report.identical
    assert any(
        f"supplier_footprint '{BOARD_URN}' is not among the supplier footprints of the package" in p
        for p in report.problems
    ), report.problems

    out = package(real_home, tmp_path)
    contents = read(out)
    del contents["background/rows.json"]
    rewrite(out, contents)
    report = reproduce_package(out)
    assert not report.identical
    assert (
        "file background/rows.json listed in the manifest is missing from the package"
        in report.problems
    )
    assert any(p.startswith("background/rows.json is missing") for p in report.problems)


# --------------------------------------------------------------------------------------------
# the pieces


def _valid_rows() -> bytes:
    from openpcf.factors import Factor
    from openpcf.package.background import BackgroundRow

    factor = Factor(
        id="db@0123456789ab:p1",
        name="p1",
        unit="kg",
        emissions={"CO2-fossil": 1.5, "CH4-fossil": -0.25},  # a credit: allowed here
        category="material",
        geography="GLO",
        year=2024,
        source="test",
        licence="CC0",
        set_name="db@0123456789ab",
    )
    row = BackgroundRow(
        references=("db:p1",),
        database="db",
        version="0123456789ab",
        content_sha256="0123456789ab" + "0" * 52,
        format="jsonld",
        source_file="db.zip",
        process_uuid="p1",
        activity="p1",
        licence="CC0",
        factor=factor,
    )
    return background_json([row])


def test_background_rows_reload_exactly() -> None:
    data = _valid_rows()
    (row,) = read_background(data)
    assert background_json([row]) == data
    assert row.factor.emissions["CH4-fossil"] == -0.25
    resolve = pickle.loads(pickle.dumps(PackedBackground([row])))  # compiled models pickle
    assert resolve("db:p1") == row.factor
    with pytest.raises(Exception, match="not among the background rows of the package"):
        resolve("db:p2")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d.update(extra=1), r"background/rows.json is not \{\"rows\": \[...\]\}"),
        (lambda d: d["rows"][0].pop("licence"), r"rows\[0\]: keys missing \['licence'\]"),
        (lambda d: d["rows"][0].update(x=1), r"rows\[0\]: keys unknown \['x'\]"),
        (lambda d: d["rows"][0].update(references=[]), r"references must be a non-empty list"),
        (
            lambda d: d["rows"][0]["factor"]["emissions"].update({"CO2-fossil": "1"}),
            r"rows\[0\].factor: the amount of CO2-fossil must be a finite number",
        ),
        (
            lambda d: d["rows"][0]["factor"]["emissions"].update({"XX": 1.0}),
            r"rows\[0\].factor: unknown gas 'XX'",
        ),
        (
            lambda d: d["rows"][0]["factor"].update(unit="furlongs of nonsense"),
            r"rows\[0\].factor: unit 'furlongs of nonsense' cannot be read",
        ),
        (lambda d: d["rows"][0]["factor"].update(year="2024"), r"year must be a whole number"),
        (lambda d: d["rows"].append(d["rows"][0]), r"rows\[1\]: factor id .* appears twice"),
    ],
)
def test_background_rows_are_checked_on_read(
    change: Callable[[dict[str, Any]], object], message: str
) -> None:
    doc = json.loads(_valid_rows())
    change(doc)
    with pytest.raises(BackgroundFileError, match=message):
        read_background(json.dumps(doc).encode())
    with pytest.raises(BackgroundFileError, match=r"background/rows.json is not valid JSON"):
        read_background(b'{"rows": [NaN]}')


def test_packed_footprints_pickle_and_name_the_package() -> None:
    store = pickle.loads(pickle.dumps(PackedFootprints({})))
    with pytest.raises(Exception, match="not among the supplier footprints of the package"):
        store.find(BOARD_URN)


def test_format_1_packages_are_still_read(tmp_path: Path) -> None:
    """A package written before background rows and received footprints (format 1)."""
    out = tmp_path / "widget.zip"
    build_package(FIXTURES / "two_process.yaml", output=out)
    contents = read(out)
    manifest = json.loads(contents["manifest.json"])
    manifest["format"] = "openpcf-package/1"
    for key in ("background_rows_file", "received_footprints"):
        del manifest[key]
    contents["manifest.json"] = json.dumps(manifest).encode()
    rewrite(out, contents)
    report = reproduce_package(out)
    assert report.identical, report.summary()
