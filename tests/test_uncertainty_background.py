"""Monte Carlo of the imported databases' own distributions, against values worked out by hand.

``jsonld_small`` (``tests/test_linking.py``, ``tests/test_linked_background.py``): 1 kg of
widget is 5.503 kg CO2e and draws on the US grid only, 16.0625 MJ of it (2 kg steel x 7.5 MJ
+ 0.5 kg scrap x 2.5 MJ + 0.8125 kg slag treated x 1 MJ - 1 MJ avoided). The US grid process
makes 1 kWh = 3.6 MJ (``A[01, 01] = 3.6``) and emits ``X`` = 0.36 kg CO2 (``B[CO2, 01]``), so
its intensity is ``X / 3.6`` per MJ and the widget's footprint is linear in ``X``::

    T(X) = 5.503 + 16.0625 / 3.6 x (X - 0.36) = 5.503 + 4.4618056 x (X - 0.36)

Here ``X`` gets a JSON-LD ``NORMAL_DISTRIBUTION`` (mean 0.36, sd 0.03), stored as
``B[CO2, 01]`` normal (0.36, 0.03) and nothing else uncertain, so for a model that takes 1 kg
of ``small:widget assembly``: ``E[T] = 5.503``, ``sd[T] = 4.4618056 x 0.03 = 0.13385417``.
A model taking 2 kg draws the same ``X`` (common random numbers): its totals are exactly
twice the first's, and the difference of the two is ``-T``.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from fixtures.boxed_widget import boxed_widget
from openpcf.io.store import DatabaseStore
from openpcf.model.database_inputs import shared_database_inputs
from openpcf.services.calculate import calculate
from openpcf.services.databases import import_database
from openpcf.services.uncertainty import uncertainty
from openpcf.settings import Settings, get_settings

FIXTURES = Path(__file__).parent / "fixtures"
US_GRID = FIXTURES / "jsonld_small" / "processes" / "ee000000-0000-4000-8000-000000000001.json"
MEAN = 5.503
SD = 16.0625 / 3.6 * 0.03  # 0.13385417
SEED = 17


@pytest.fixture(scope="module")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    """A home with ``jsonld_small`` + the US grid's CO2 normal (0.36, 0.03) as ``small``, and
    the same data as ``plain`` with its ``uncertainty.npz`` removed."""
    home = tmp_path_factory.mktemp("home")
    source = tmp_path_factory.mktemp("src") / "jsonld"
    shutil.copytree(FIXTURES / "jsonld_small", source)
    grid = source / "processes" / US_GRID.name
    data = json.loads(grid.read_text("utf-8"))
    exchange = data["exchanges"][1]
    assert exchange["amount"] == 0.36
    assert not exchange.get("isInput")
    exchange["uncertainty"] = {
        "@type": "Uncertainty",
        "distributionType": "NORMAL_DISTRIBUTION",
        "mean": 0.36,
        "sd": 0.03,
    }
    grid.write_text(json.dumps(data), encoding="utf-8")
    mp = pytest.MonkeyPatch()
    mp.setenv("OPENPCF_HOME", str(home))
    get_settings.cache_clear()
    settings = get_settings()
    store = DatabaseStore(settings.databases_dir)
    import_database("jsonld", source, name="small", store=store)
    plain = import_database("jsonld", source, name="plain", store=store)
    (store.get(f"plain@{plain.version}").path / "uncertainty.npz").unlink()
    yield settings
    mp.undo()
    get_settings.cache_clear()


def model(tmp_path: Path, *, db: str = "small", amount: float = 1, extra: str = "") -> Path:
    name = f"model-{db}-{amount}-{bool(extra)}.yaml"
    return boxed_widget(tmp_path, f"{db}:widget assembly", amount=amount, extra=extra, name=name)


@pytest.mark.parametrize("extra", ["", "background_linking: linked"])
def test_database_distribution_by_hand(tmp_path: Path, settings: Settings, extra: str) -> None:
    """Precomputed and linked rows alike: mean 5.503 within 4 standard errors, sd 0.133854
    within 5 %; the one stored distribution sampled; the analytic sd is the same 0.133854
    (``T`` is linear in ``X``: ``∂T/∂X = c_CO2 s_grid = 16.0625 / 3.6``, exact), nothing left
    out (``tests/test_uncertainty_linked.py`` has the adjoint's other cases)."""
    result = uncertainty(
        model(tmp_path, extra=extra), monte_carlo=True, seed=SEED, settings=settings
    )
    mc = result.monte_carlo
    assert mc is not None
    assert mc.converged
    assert result.calculation.result.total == pytest.approx(MEAN, rel=1e-12)
    assert abs(mc.mean - MEAN) < 4 * mc.standard_error
    assert mc.sd == pytest.approx(SD, rel=0.05)
    (db,) = result.databases
    assert db.ref.startswith("small@")
    assert (db.entries, db.sampled) == (1, 1)
    assert "draws/s" in db.note
    assert result.analytic.sd == pytest.approx(SD, rel=1e-12)
    assert result.analytic.ignored == {}


def test_same_seed_same_samples_and_common_background(tmp_path: Path, settings: Settings) -> None:
    """Same seed -> identical samples; a model taking 2 kg draws the same ``X``: its totals
    are twice the 1 kg model's, so their difference is ``-T`` and P(1 kg lower) = 1."""
    one, two = model(tmp_path), model(tmp_path, amount=2)
    first = uncertainty(one, compare=two, monte_carlo=True, seed=SEED, settings=settings)
    again = uncertainty(one, monte_carlo=True, seed=SEED, settings=settings)
    assert first.monte_carlo is not None
    assert again.monte_carlo is not None
    np.testing.assert_array_equal(first.monte_carlo.samples, again.monte_carlo.samples)
    assert first.other is not None
    assert first.other.monte_carlo is not None
    np.testing.assert_allclose(
        first.other.monte_carlo.samples, 2 * first.monte_carlo.samples, rtol=1e-12
    )
    assert first.comparison is not None
    assert first.comparison.difference is not None
    assert first.comparison.difference.sd == pytest.approx(first.monte_carlo.sd, rel=1e-9)
    assert first.comparison.p_a_lower == 1.0
    different = uncertainty(one, monte_carlo=True, seed=SEED + 1, settings=settings)
    assert different.monte_carlo is not None
    assert not np.array_equal(different.monte_carlo.samples, first.monte_carlo.samples)


def test_compared_models_share_one_sampler(tmp_path: Path, settings: Settings) -> None:
    """Two models on the precomputed ``small`` get one sampler of it (each draw solved once
    for both), made for the one activity they use, with its one distribution; the second
    model's line is the first's."""
    one, two = (calculate(model(tmp_path, amount=a), settings=settings).compiled for a in (1, 2))
    first, second = shared_database_inputs([one, two])
    (sampler,) = first.samplers
    assert second.samplers == (sampler,)
    assert (len(sampler.activities), sampler.entries) == (1, 1)
    assert first.uses == second.uses
    assert first.uses[0].ref.startswith("small@")


@pytest.mark.parametrize("extra", ["", "background_linking: linked"])
def test_no_background_samples_nothing(tmp_path: Path, settings: Settings, extra: str) -> None:
    """``background=False``: the database's is the only uncertainty, so sd 0 and mean 5.503;
    the report still counts the stored distribution, sampled 0 (precomputed and linked)."""
    result = uncertainty(
        model(tmp_path, extra=extra),
        monte_carlo=True,
        seed=SEED,
        background=False,
        settings=settings,
    )
    assert result.monte_carlo is not None
    assert result.monte_carlo.sd == 0.0
    assert result.monte_carlo.mean == pytest.approx(MEAN, rel=1e-12)
    (db,) = result.databases
    assert (db.entries, db.sampled) == (1, 0)
    assert db.note == "not sampled (--no-background)"
    assert result.analytic.ignored == {db.ref: 1}


def test_version_without_uncertainty_file(tmp_path: Path, settings: Settings) -> None:
    """``plain`` has no ``uncertainty.npz``: nothing sampled, sd 0, and the report says why."""
    result = uncertainty(
        model(tmp_path, db="plain"), monte_carlo=True, seed=SEED, settings=settings
    )
    assert result.monte_carlo is not None
    assert result.monte_carlo.sd == 0.0
    (db,) = result.databases
    assert db.ref.startswith("plain@")
    assert (db.entries, db.sampled) == (0, 0)
    assert "no uncertainty.npz" in db.note
    assert result.analytic.ignored == {}


def test_cli_reports_the_database(tmp_path: Path, settings: Settings) -> None:
    """``openpcf uncertainty --seed`` prints how many database entries were sampled;
    ``--no-background`` gives sd 0; the JSON carries both."""
    from typer.testing import CliRunner

    from openpcf.cli.main import app

    path = str(model(tmp_path))
    runner = CliRunner()
    out = runner.invoke(app, ["uncertainty", path, "--seed", str(SEED)])
    assert out.exit_code == 0, out.output
    assert "1 of 1 entries with a distribution sampled" in out.output
    assert "analytic sd leaves out" not in out.output
    out = runner.invoke(
        app, ["uncertainty", path, "--seed", str(SEED), "--no-background", "--json"]
    )
    assert out.exit_code == 0, out.output
    doc = json.loads(out.output)
    assert doc["monte_carlo"]["sd"] == 0.0
    assert doc["databases"][0]["sampled"] == 0
    assert doc["databases"][0]["entries"] == 1
    assert doc["analytic"]["ignored"] == {doc["databases"][0]["ref"]: 1}
    assert doc["analytic"]["sd"] == 0.0
