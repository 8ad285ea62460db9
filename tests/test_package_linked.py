"""Verification packages of models with linked backgrounds (issue 12, item 3): the package
carries the part of each linked database the model reaches, and reproduces without it.

The numbers are worked out by hand in ``tests/test_linked_background.py``'s docstring:

- ``jsonld_small`` (imported as ``small``), 1 kg of widget: 5.503 kg CO2e; its chain uses
  16.0625 MJ of the US grid (0.1 kg CO2e/MJ); re-pointed to Jiangsu (0.5978 kg CO2/kWh):
  5.503 - 16.0625 x 0.1 + 16.0625 / 3.6 x 0.5978 = 6.56401736...
- ``ilcd_small`` (``ismall``), 1 piece of widget: 0.15318; re-pointed to Jiangsu 0.447325; to
  the Suzhou claims (0.36576 kg CO2/kWh): 0.3726 + 0.125 x 0.36576 = 0.41832.

The subsets, counted by hand from the fixtures: ``small`` has 7 activities (US grid, CN grid,
steel, steel's scrap co-product, slag treatment, wood drying, widget assembly); the widget
reaches 5 of them (widget, steel and its scrap column, slag, US grid), not the CN grid nor wood
drying; re-pointing adds nothing (the packed steel already draws on the US grid, a producer),
so the CN grid producer, which nothing packed draws on, stays out. ``ismall`` has 6
activities; its widget reaches 3 (widget, steel, electricity mix).
"""

from __future__ import annotations

import json
import shutil
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from fixtures.boxed_widget import boxed_widget
from fixtures.web import csrf_token
from openpcf.io.store import DatabaseStore
from openpcf.model.schema import BackgroundElectricity, GridRef
from openpcf.package import PackageError, ReproductionError, sha256
from openpcf.package.background_subset import SubsetFileError, SubsetTooLargeError, read_subset
from openpcf.services.calculate import calculate
from openpcf.services.databases import import_database
from openpcf.services.packaging import build_package, reproduce_package
from openpcf.settings import Settings, SettingsError, get_settings
from openpcf.web.auth import WebUser

FIXTURES = Path(__file__).parent / "fixtures"
RTOL = 1e-9
JS = 0.5978
SMALL_JS = 5.503 - 16.0625 * 0.1 + 16.0625 / 3.6 * JS

SMALL = {"ref": "small:widget assembly", "amount": 1, "unit": "kg"}
ILCD = {"ref": "ismall:小部件装配", "amount": 1, "unit": "piece"}
LINKED = "background_linking: linked"
JIANGSU = "background_electricity: {grid: {geography: CN-JS, year: 2022}}"


@pytest.fixture(scope="module")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    """A home with ``jsonld_small`` imported as ``small`` and ``ilcd_small`` as ``ismall``."""
    home = tmp_path_factory.mktemp("home")
    mp = pytest.MonkeyPatch()
    mp.setenv("OPENPCF_HOME", str(home))
    get_settings.cache_clear()
    settings = get_settings()
    store = DatabaseStore(settings.databases_dir)
    import_database("jsonld", FIXTURES / "jsonld_small", name="small", store=store)
    import_database("ilcd", FIXTURES / "ilcd_small", name="ismall", store=store)
    yield settings
    mp.undo()
    get_settings.cache_clear()


def model(tmp_path: Path, db: dict[str, Any], extra: str) -> Path:
    return boxed_widget(tmp_path, extra=extra, **db)


def read(package: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(package) as z:
        return {n: z.read(n) for n in z.namelist()}


def rewrite(package: Path, contents: dict[str, bytes]) -> None:
    with zipfile.ZipFile(package, "w") as z:
        for name, data in contents.items():
            z.writestr(name, data)


@pytest.mark.parametrize(
    ("db", "extra", "expected", "activities"),
    [
        (SMALL, LINKED, 5.503, (5, 7)),
        (ILCD, LINKED, 0.15318, (3, 6)),
        (SMALL, JIANGSU, SMALL_JS, (5, 7)),
        (ILCD, JIANGSU, 0.447325, (3, 6)),
    ],
)
def test_build_and_reproduce_without_the_database(
    tmp_path: Path,
    settings: Settings,
    db: dict[str, object],
    extra: str,
    expected: float,
    activities: tuple[int, int],
) -> None:
    """The package's total is the calculation's; a machine without the database (no
    ``databases=``) recomputes it from the package and names the database version."""
    path = model(tmp_path, db, extra)
    out = tmp_path / "p.zip"
    summary = build_package(path, output=out, settings=settings)
    assert summary.kg_co2e == pytest.approx(expected, rel=RTOL)
    assert summary.kg_co2e == pytest.approx(
        calculate(path, settings=settings).result.total, rel=RTOL
    )
    (ref,) = summary.background_databases
    name, version = ref.split("@")
    contents = read(out)
    manifest = json.loads(contents["manifest.json"])
    assert manifest["format"] == "openpcf-package/3"
    entry = manifest["background_databases"][ref]
    stored = DatabaseStore(settings.databases_dir).get(name)
    assert (entry["version"], entry["content_sha256"]) == (version, stored.meta["content_sha256"])
    assert (entry["activities"], entry["database_activities"]) == activities
    folder = f"background/databases/{ref}/"
    for file in ("index.json", "activities.csv", "technosphere.csv", "biosphere.csv"):
        assert folder + file in manifest["files"]
    index = json.loads(contents[folder + "index.json"])
    (root,) = index["roots"]  # the widget, the one activity the model links to
    assert root.encode() in contents[folder + "activities.csv"]

    report = reproduce_package(out)
    assert report.identical, report.problems
    assert report.kg_co2e_recomputed == pytest.approx(expected, rel=RTOL)
    assert any(f"linked database {ref}" in n and version in n for n in report.notes)
    assert any("not installed here" in n for n in report.notes)


def test_reproduce_compares_with_the_local_database(tmp_path: Path, settings: Settings) -> None:
    out = tmp_path / "p.zip"
    build_package(model(tmp_path, SMALL, LINKED), output=out, settings=settings)
    report = reproduce_package(out, databases=settings.databases_dir)
    assert report.identical, report.problems
    assert any("equals the same activities of this machine's copy" in n for n in report.notes)


def test_repointed_by_option_and_to_a_claims_file(tmp_path: Path, settings: Settings) -> None:
    """``background_electricity=`` (``--background-electricity CN-JS:2022``) is recorded in the
    manifest and the grid row in factors/rows.csv; a claims file in the model is packed."""
    out = tmp_path / "p.zip"
    option = BackgroundElectricity(grid=GridRef(geography="CN-JS", year=2022))
    path = model(tmp_path, SMALL, "")
    summary = build_package(path, output=out, settings=settings, background_electricity=option)
    assert summary.kg_co2e == pytest.approx(SMALL_JS, rel=RTOL)
    contents = read(out)
    manifest = json.loads(contents["manifest.json"])
    assert manifest["background_electricity"]["grid"]["geography"] == "CN-JS"
    assert b"cn.grid.co2.2022.province.jiangsu" in contents["factors/rows.csv"]
    report = reproduce_package(out)
    assert report.identical, report.problems
    assert report.kg_co2e_recomputed == pytest.approx(SMALL_JS, rel=RTOL)

    shutil.copy(FIXTURES / "electricity_claims_suzhou_2023.yaml", tmp_path / "claims.yaml")
    extra = "background_electricity: {electricity_claim: claims.yaml}"
    claimed = build_package(model(tmp_path, ILCD, extra), output=out, settings=settings)
    assert claimed.kg_co2e == pytest.approx(0.3726 + 0.125 * 0.36576, rel=RTOL)
    assert "model/claims.yaml" in read(out)
    report = reproduce_package(out)
    assert report.identical, report.problems

    by_option = BackgroundElectricity(electricity_claim=str(tmp_path / "claims.yaml"))
    with pytest.raises(PackageError, match="write background_electricity"):
        build_package(
            path, output=tmp_path / "q.zip", settings=settings, background_electricity=by_option
        )
    assert not (tmp_path / "q.zip").exists()


def test_tampered_matrix_file_fails_naming_it(tmp_path: Path, settings: Settings) -> None:
    out = tmp_path / "p.zip"
    summary = build_package(model(tmp_path, SMALL, LINKED), output=out, settings=settings)
    (ref,) = summary.background_databases
    name = f"background/databases/{ref}/technosphere.csv"
    contents = read(out)
    lines = contents[name].decode().splitlines()
    row, column, amount = lines[1].split(",")
    lines[1] = f"{row},{column},{float(amount) * 2!r}"
    contents[name] = ("\n".join(lines) + "\n").encode()
    rewrite(out, contents)
    report = reproduce_package(out)
    assert not report.identical
    assert f"file {name} in the package differs from the manifest digest" in report.problems
    assert any(f"{name} differs from its digest in index.json" in p for p in report.problems)


def test_oversized_subset_is_refused(tmp_path: Path, settings: Settings) -> None:
    """``small``'s widget subset holds more than 3 entries (5 activities, each with its own
    diagonal entry in A)."""
    out = tmp_path / "p.zip"
    with pytest.raises(SubsetTooLargeError, match="max_background_entries = 3") as info:
        build_package(
            model(tmp_path, SMALL, LINKED),
            output=out,
            settings=settings,
            max_background_entries=3,
        )
    assert "small@" in str(info.value)
    assert "5 of 7 activities" in str(info.value)
    assert not out.exists()
    build_package(model(tmp_path, SMALL, LINKED), output=out, settings=settings)
    report = reproduce_package(out, max_background_entries=3)
    assert not report.identical
    assert any("max_background_entries = 3" in p for p in report.problems)


MakeUser = Callable[..., WebUser]
Login = Callable[..., httpx.Response]


def test_web_packages_page_reproduces_a_linked_package(
    tmp_path: Path,
    settings: Settings,
    web_app: TestClient,
    engine: Any,
    make_user: MakeUser,
    login: Login,
) -> None:
    out = tmp_path / "p.zip"
    build_package(model(tmp_path, SMALL, JIANGSU), output=out, settings=settings)
    make_user(engine, organisation="Audit Co", email="vera@audit.example", role="verifier")
    assert login(web_app, "vera@audit.example").status_code == 303
    page = web_app.get("/packages")
    assert page.status_code == 200
    answer = web_app.post(
        "/packages",
        data={"csrf_token": csrf_token(page.text)},
        files={"package": ("linked.zip", out.read_bytes(), "application/zip")},
    )
    assert answer.status_code == 200, answer.text
    assert 'data-identical="true"' in answer.text
    assert "technosphere.csv" in answer.text


def test_a_subset_that_does_not_load_names_the_file_and_line(
    tmp_path: Path, settings: Settings
) -> None:
    """An entry pointing past the packed activities, with every digest made to match, is
    refused by the reader itself (``activities`` are 0-4 in ``small``'s widget subset)."""
    out = tmp_path / "p.zip"
    summary = build_package(model(tmp_path, SMALL, LINKED), output=out, settings=settings)
    (ref,) = summary.background_databases
    folder = f"background/databases/{ref}/"
    contents = read(out)
    contents[folder + "technosphere.csv"] += b"9,0,1.0\n"
    index = json.loads(contents[folder + "index.json"])
    index["files"]["technosphere.csv"] = sha256(contents[folder + "technosphere.csv"])
    with pytest.raises(SubsetFileError, match=r"technosphere.csv:\d+: row '9' is not an activity"):
        read_subset({**contents, folder + "index.json": json.dumps(index).encode()}, ref)


@pytest.mark.parametrize(
    ("db", "extra"),
    [
        (
            {"ref": "ismall:Cement production", "amount": 1, "unit": "kg"},
            JIANGSU,
        ),
        (
            ILCD,
            "background_electricity: {grid: {geography: CN-JS, year: 2022}, "
            "products: ['Electricity, production mix']}",
        ),
    ],
)
def test_repointing_finds_in_the_package_what_it_found_in_the_database(
    tmp_path: Path, settings: Settings, db: dict[str, object], extra: str
) -> None:
    """Cement draws on no electricity in ``ismall``, so re-pointing leaves its total (the
    precomputed row's) and the package adds one producer and the steel that draws on it (3 of
    6 activities: cement, steel, electricity mix); a ``products:`` entry is found again (the
    widget re-pointed to Jiangsu: 0.447325)."""
    path = model(tmp_path, db, extra)
    out = tmp_path / "p.zip"
    summary = build_package(path, output=out, settings=settings)
    precomputed = calculate(model(tmp_path, db, ""), settings=settings).result.total
    expected = 0.447325 if db is ILCD else precomputed
    assert summary.kg_co2e == pytest.approx(expected, rel=RTOL)
    manifest = json.loads(read(out)["manifest.json"])
    (entry,) = manifest["background_databases"].values()
    assert (entry["activities"], entry["database_activities"]) == (3, 6)
    report = reproduce_package(out)
    assert report.identical, report.problems


def test_cli_bound_from_option_and_setting_and_summary_names_the_subset(
    tmp_path: Path, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``openpcf package`` says what it packed of each linked database (``small``'s widget
    reaches 5 of its 7 activities, module docstring); the bound comes from
    ``--max-background-entries``, else ``$OPENPCF_MAX_BACKGROUND_ENTRIES``, else the default,
    for ``openpcf package`` and ``openpcf reproduce`` alike."""
    from typer.testing import CliRunner

    from openpcf.cli.main import app

    runner = CliRunner()
    path, out = model(tmp_path, SMALL, LINKED), tmp_path / "p.zip"
    done = runner.invoke(app, ["package", str(path), "-o", str(out), "--no-certificate"])
    assert done.exit_code == 0, done.output
    entries = json.loads(read(out)["manifest.json"])["background_databases"]
    (ref,) = entries
    name, version = ref.rsplit("@", 1)
    assert f"linked database {name} version {version}: 5 of 7 activities packed" in done.output
    assert f"({entries[ref]['entries']} entries)" in done.output

    small = ["package", str(path), "-o", str(tmp_path / "q.zip"), "--no-certificate"]
    refused = runner.invoke(app, [*small, "--max-background-entries", "3"])
    assert isinstance(refused.exception, SubsetTooLargeError)
    assert "max_background_entries = 3" in str(refused.exception)
    assert runner.invoke(app, [*small, "--max-background-entries", "0"]).exit_code == 2

    monkeypatch.setenv("OPENPCF_MAX_BACKGROUND_ENTRIES", "3")
    get_settings.cache_clear()
    try:
        assert get_settings().max_background_entries == 3
        refused = runner.invoke(app, ["reproduce", str(out), "--json"])
        assert isinstance(refused.exception, ReproductionError)
        problems = json.loads(refused.output)["problems"]
        assert any("max_background_entries = 3" in p for p in problems)
        allowed = runner.invoke(app, ["reproduce", str(out), "--max-background-entries", "100"])
        assert allowed.exit_code == 0, allowed.output
        monkeypatch.setenv("OPENPCF_MAX_BACKGROUND_ENTRIES", "many")
        get_settings.cache_clear()
        with pytest.raises(SettingsError, match="OPENPCF_MAX_BACKGROUND_ENTRIES='many'"):
            get_settings()
    finally:
        monkeypatch.delenv("OPENPCF_MAX_BACKGROUND_ENTRIES")
        get_settings.cache_clear()
        get_settings()
