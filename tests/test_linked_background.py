"""Linked backgrounds and re-pointed background electricity (issue 12), worked out by hand.

AR6 (``openpcf.methods.gwp``): CO2 fossil 1, CH4 biogenic 27.0, C2F6 12400, CO2 uptake -1.
Bundled grid factors (MEE/NBS 2022, ``openpcf factors show``): Jiangsu (CN-JS) 0.5978 and
Inner Mongolia (CN-NM) 0.6849 kg CO2 per kWh. 1 MJ = 1/3.6 kWh.

``jsonld_small`` (derived in ``tests/test_linking.py``): 1 kg of widget is 5.503 kg CO2e.
Its chain draws on the US grid only (0.1 kg CO2e per MJ): 2 kg steel x 7.5 MJ (0.75 of 10 MJ)
+ 0.5 kg scrap x 2.5 MJ + 0.8125 kg slag treated (2 x 0.375 + 0.5 x 0.125) x 1 MJ - 1 MJ
avoided by the widget = 16.0625 MJ = 4.4618 kWh. Re-pointed to Jiangsu: 5.503 - 16.0625 x 0.1
+ 16.0625 / 3.6 x 0.5978 = 6.5640... ; from Jiangsu to Inner Mongolia:
+ (0.6849 - 0.5978) x 16.0625 / 3.6.

``ilcd_small``: 1 piece of widget (小部件装配) takes 0.2 kg steel. Steel (0.9 of the process,
by market value) per kg: 1.62 kg CO2, 0.009 kg CH4 biogenic (0.243), 2.25 MJ electricity. The
electricity mix per MJ: -0.5 kg CO2 uptake + 1e-6 kg C2F6 (0.0124) = -0.4876. Widget: 0.2 x
(1.62 + 0.243 - 2.25 x 0.4876) = 0.15318; its electricity 0.45 MJ = 0.125 kWh; re-pointed to
Jiangsu 0.2 x 1.863 + 0.125 x 0.5978 = 0.447325; Jiangsu to Inner Mongolia + 0.0871 x 0.125.
"""

from __future__ import annotations

import pickle
import shutil
from collections.abc import Iterator
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import scipy.sparse as sp
import typer

from fixtures.boxed_widget import boxed_widget
from openpcf.cli.options import parse_background_electricity
from openpcf.core.system import MatrixSystem
from openpcf.errors import InputError, ModelFileError
from openpcf.factors import Factor, bundled_factor_set
from openpcf.io.store import DatabaseStore
from openpcf.methods.gases import GAS_IDS
from openpcf.model.background import BackgroundDatabase
from openpcf.model.compiler import Resolvers, compile_model
from openpcf.model.loading import load_model
from openpcf.model.result import solve_compiled
from openpcf.model.result_json import result_to_dict
from openpcf.model.schema import BackgroundElectricity, GridRef
from openpcf.services.calculate import calculate
from openpcf.services.databases import import_database
from openpcf.settings import Settings, get_settings

FIXTURES = Path(__file__).parent / "fixtures"
RTOL = 1e-12
JS, NM = 0.5978, 0.6849
STEEL = "ee000000-0000-4000-8000-000000000003"  # jsonld_small's steel (its reference product)

SMALL = {"ref": "small:widget assembly", "amount": 1, "unit": "kg"}
ILCD = {"ref": "ismall:小部件装配", "amount": 1, "unit": "piece"}


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


def model(tmp_path: Path, db: dict[str, Any], extra: str = "") -> Path:
    return boxed_widget(tmp_path, extra=extra, **db)


def grid(geography: str) -> str:
    return f"background_electricity: {{grid: {{geography: {geography}, year: 2022}}}}"


@pytest.mark.parametrize(("db", "expected"), [(SMALL, 5.503), (ILCD, 0.15318)])
def test_linked_equals_precomputed(tmp_path: Path, settings: Settings, db, expected):
    precomputed = calculate(model(tmp_path, db), settings=settings)
    linked = calculate(model(tmp_path, db, "background_linking: linked"), settings=settings)
    assert precomputed.result.total == pytest.approx(expected, rel=RTOL)
    assert linked.result.total == pytest.approx(expected, rel=RTOL)
    assert linked.compiled.linked is not None
    assert precomputed.compiled.linked is None
    assert linked.result.provenance["background_linking"] == "linked"
    assert "background_linking" not in precomputed.result.provenance
    assert linked.result.background_electricity is None


@pytest.mark.parametrize(
    ("db", "kwh", "before", "after_js"),
    [
        (SMALL, 16.0625 / 3.6, 5.503, 5.503 - 1.60625 + 16.0625 / 3.6 * JS),
        (ILCD, 0.125, 0.15318, 0.447325),
    ],
)
def test_repointing_moves_the_total_by_the_electricity_use(
    tmp_path: Path, settings: Settings, db, kwh, before, after_js
):
    js = calculate(model(tmp_path, db, grid("CN-JS")), settings=settings).result
    nm = calculate(model(tmp_path, db, grid("CN-NM")), settings=settings).result
    assert js.total == pytest.approx(after_js, rel=RTOL)
    assert nm.total - js.total == pytest.approx((NM - JS) * kwh, rel=1e-9)
    change = js.background_electricity
    assert change is not None
    assert change.kwh == pytest.approx(kwh, rel=RTOL)
    assert change.total_before == pytest.approx(before, rel=RTOL)
    assert change.change == pytest.approx(after_js - before, rel=1e-9)
    assert change.supply == "cn.grid.co2.2022.province.jiangsu"
    assert sum(p.kwh for p in change.processes) == pytest.approx(kwh, rel=RTOL)
    as_json = result_to_dict(js)["background_electricity"]
    assert as_json["kwh"] == change.kwh
    assert len(as_json["processes"]) == len(change.processes)
    assert "model.yaml" in change.where
    assert any(n.startswith("background electricity re-pointed to cn.grid") for n in js.notes)


def test_repointed_processes_are_listed(tmp_path: Path, settings: Settings):
    """jsonld_small, kWh: steel 2 x 7.5 / 3.6, scrap 0.5 x 2.5 / 3.6, slag treatment
    0.8125 x 1 / 3.6, widget -1 / 3.6."""
    result = calculate(model(tmp_path, SMALL, grid("CN-JS")), settings=settings).result
    assert result.background_electricity is not None
    got = {
        (p.name, p.activity.endswith("#dd000000-0000-4000-8000-000000000003")): p.kwh
        for p in result.background_electricity.processes
    }
    assert got == pytest.approx(
        {
            ("steel production, with scrap co-product", False): 15 / 3.6,
            ("steel production, with scrap co-product", True): 1.25 / 3.6,
            ("slag treatment, landfill", False): 0.8125 / 3.6,
            ("widget assembly", False): -1 / 3.6,
        },
        rel=RTOL,
    )
    replaced = {p.replaced for p in result.background_electricity.processes}
    assert replaced == {("electricity production, US grid",)}


def test_tree_reaches_background_processes(tmp_path: Path, settings: Settings):
    """Boxing -> widget assembly (5.503) -> steel 2 kg (2 x 2.586 = 5.172)."""
    result = calculate(
        model(tmp_path, SMALL, "background_linking: linked"), settings=settings
    ).result
    nodes = {n.label: n for _, n in result.tree.walk()}
    widget = next(n for label, n in nodes.items() if label.startswith("widget assembly (small@"))
    assert widget.kind == "process"
    assert widget.co2e == pytest.approx(5.503, rel=RTOL)
    steel = next(n for label, n in nodes.items() if label.endswith(f":{STEEL})"))
    assert steel.label.startswith("steel production, with scrap co-product (small@")
    assert steel.amount == pytest.approx(2.0, rel=RTOL)
    assert steel.co2e == pytest.approx(5.172, rel=RTOL)
    precomputed = calculate(model(tmp_path, SMALL), settings=settings).result
    assert [n.kind for _, n in precomputed.tree.walk()] == ["process", "factor"]


def test_cli_override_and_claim_and_pickle(tmp_path: Path, settings: Settings):
    """``--background-electricity`` replaces the model's setting and links the inputs."""
    path = model(tmp_path, ILCD)
    option = BackgroundElectricity(grid=GridRef(geography="CN-NM", year=2022))
    calc = calculate(path, settings=settings, background_electricity=option)
    assert calc.result.total == pytest.approx(0.3726 + 0.125 * NM, rel=RTOL)
    assert calc.result.background_electricity is not None
    assert calc.result.background_electricity.where == "--background-electricity"
    copy = pickle.loads(pickle.dumps(calc.compiled))
    assert copy == calc.compiled


def test_products_override(tmp_path: Path, settings: Settings):
    """Naming the producer by its reference product re-points what the rule finds: 0.447325."""
    extra = (
        "background_electricity: {grid: {geography: CN-JS, year: 2022}, "
        "products: ['Electricity, production mix']}"
    )
    result = calculate(model(tmp_path, ILCD, extra), settings=settings).result
    assert result.total == pytest.approx(0.447325, rel=RTOL)


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (
            "background_electricity: {grid: {geography: CN-JS, year: 2022}, products: [steam]}",
            "product 'steam' matches no process",
        ),
        (
            "background_electricity: {grid: {geography: CN-JS, year: 2022}, database: other}",
            "database 'other' is not linked",
        ),
    ],
)
def test_repointing_that_matches_nothing_names_the_line(
    tmp_path: Path, settings: Settings, extra: str, message: str
):
    with pytest.raises(InputError, match=message) as info:
        calculate(model(tmp_path, ILCD, extra), settings=settings)
    assert "model.yaml:11" in str(info.value)


def test_chain_without_electricity_is_unchanged(tmp_path: Path, settings: Settings):
    """Cement production draws on no electricity in ilcd_small: re-pointing the database
    (whose steel does use electricity) leaves the cement's total and lists no process."""
    cement = {"ref": "ismall:Cement production", "amount": 1, "unit": "kg"}
    own = calculate(model(tmp_path, cement), settings=settings).result
    result = calculate(model(tmp_path, cement, grid("CN-JS")), settings=settings).result
    change = result.background_electricity
    assert change is not None
    assert result.total == pytest.approx(own.total, rel=RTOL)
    assert (change.kwh, change.change, change.processes) == (0.0, 0.0, ())


def test_precomputed_with_electricity_is_a_model_error(tmp_path: Path, settings: Settings):
    extra = "background_linking: precomputed\n" + grid("CN-JS")
    with pytest.raises(ModelFileError, match="background_electricity"):
        calculate(model(tmp_path, ILCD, extra), settings=settings)


def test_certificate_backed_supply(tmp_path: Path, settings: Settings):
    """The Suzhou claim (tests/fixtures, hand-worked in tests/test_electricity.py): 400 MWh of
    certificates at 0 and 600 MWh at the residual 0.6096 of 1000 MWh -> 0.36576 kg CO2 per kWh.
    ilcd_small's widget: 0.3726 + 0.125 kWh x 0.36576 = 0.41832."""
    shutil.copy(FIXTURES / "electricity_claims_suzhou_2023.yaml", tmp_path / "claims.yaml")
    extra = "background_electricity: {electricity_claim: claims.yaml}"
    result = calculate(model(tmp_path, ILCD, extra), settings=settings).result
    assert result.total == pytest.approx(0.3726 + 0.125 * 0.36576, rel=RTOL)
    assert result.background_electricity is not None
    assert result.background_electricity.supply == "electricity.claim.claims"


def test_command_line_option(tmp_path: Path):
    """``--background-electricity`` is GEOGRAPHY:YEAR[:basis] or a claims file."""
    assert parse_background_electricity("CN-JS:2022") == BackgroundElectricity(
        grid=GridRef(geography="CN-JS", year=2022)
    )
    footprint = parse_background_electricity("CN:2021:footprint")
    assert footprint is not None
    assert footprint.grid is not None
    assert footprint.grid.basis == "footprint"
    claims = tmp_path / "c.yaml"
    claims.write_text("claim: x\n", encoding="utf-8")
    got = parse_background_electricity(str(claims))
    assert got == BackgroundElectricity(electricity_claim=str(claims.resolve()))
    for bad in ("CN-JS", "CN-JS:next", "CN-JS:2022:market", str(tmp_path / "missing.yaml")):
        with pytest.raises(typer.BadParameter, match="--background-electricity"):
            parse_background_electricity(bad)


def test_database_without_electricity_names_the_line(tmp_path: Path):
    """A linked database whose only activity makes steam (MJ) has no electricity producer."""
    steam = Factor(
        id="tiny@v1:s",
        name="steam",
        unit="MJ",
        emissions={"CO2-fossil": 0.07},
        category="material",
        geography="CN",
        year=2024,
        source="test database",
        licence="CC0-1.0",
        set_name="tiny@v1",
    )
    tiny = BackgroundDatabase(
        ref="tiny@v1",
        system=MatrixSystem(
            A=sp.csc_array(np.array([[1.0]])),
            B=sp.csc_array(np.eye(len(GAS_IDS), 1) * 0.07),
            activities=("s",),
            flows=GAS_IDS,
        ),
        names=("steam production",),
        products=("steam",),
        product_ids=("f-steam",),
        units=("MJ",),
        locations=("CN",),
    )
    path = model(tmp_path, {"ref": "tiny:steam", "amount": 2, "unit": "MJ"}, grid("CN-JS"))
    resolvers = Resolvers(
        background=partial(_constant, steam), background_database=partial(_constant, tiny)
    )
    with pytest.raises(InputError, match=r"model.yaml:11: background_electricity: no electric"):
        compile_model(load_model(path), factors=bundled_factor_set(), resolvers=resolvers)
    linked = path.read_text("utf-8").replace(grid("CN-JS"), "background_linking: linked")
    path.write_text(linked, encoding="utf-8")
    compiled = compile_model(load_model(path), factors=bundled_factor_set(), resolvers=resolvers)
    assert solve_compiled(compiled).total == pytest.approx(2 * 0.07, rel=RTOL)


def _constant(value: object, ref: str) -> object:
    return value


def test_calc_and_report_take_the_option_and_package_a_linked_model(
    tmp_path: Path, settings: Settings
):
    """``openpcf calc --background-electricity CN-JS:2022`` re-points jsonld_small's chain
    (module docstring): 5.503 - 16.0625 x 0.1 + 16.0625 / 3.6 x 0.5978; ``report`` takes the
    same option; ``package`` packs a linked model and ``reproduce`` recomputes it."""
    import json

    from typer.testing import CliRunner

    from openpcf.cli.main import app

    path = model(tmp_path, SMALL)
    runner = CliRunner()
    out = runner.invoke(
        app, ["calc", str(path), "--background-electricity", "CN-JS:2022", "-f", "json"]
    )
    assert out.exit_code == 0, out.output
    expected = 5.503 - 16.0625 * 0.1 + 16.0625 / 3.6 * JS
    np.testing.assert_allclose(json.loads(out.output)["kg_co2e"], expected, rtol=1e-9)
    html = tmp_path / "r.html"
    args = ["report", str(path), "-o", str(html), "--background-electricity", "CN-JS:2022"]
    assert runner.invoke(app, args).exit_code == 0
    linked = model(tmp_path, SMALL, grid("CN-JS"))
    packed = runner.invoke(app, ["package", str(linked), "-o", str(tmp_path / "p.zip")])
    assert packed.exit_code == 0, packed.output  # with its database subset (test_package_linked)
    again = runner.invoke(app, ["reproduce", str(tmp_path / "p.zip")])
    assert again.exit_code == 0, again.output
