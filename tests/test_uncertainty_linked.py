"""Uncertainty of linked (and re-pointed) backgrounds: the analytic first order by the adjoint,
against values worked out by hand and against Monte Carlo.

``jsonld_small`` (``tests/test_linked_background.py``): 1 kg of widget is 5.503 kg CO2e and
takes ``w`` = 16.0625 MJ of the US grid (2 kg steel x 7.5 MJ + 0.5 kg scrap x 2.5 MJ + 0.8125
kg slag treated x 1 MJ − 1 MJ avoided). The grid activity makes ``a`` = 3.6 MJ per unit
(``A[0, 0]``) and emits ``X`` = 0.36 kg CO2 (``B[CO2, 0]``), so ``λ_g = X / a``, ``s_g = w / a``
and ``T = 5.503 + w (X / a − 0.1)``. Here the grid's output gets a JSON-LD lognormal with
``geomSd = e^0.05`` (stored: lognormal, σ = 0.05, median 3.6) and its CO2 a normal (0.36, 0.03).

Analytic (at the means, :mod:`openpcf.model.database_uncertainty`): ``ā = 3.6 e^(σ²/2) =
3.6045028``, ``Var[a] = 3.6² e^(σ²) (e^(σ²) − 1) = 0.0325217``; ``∂T/∂a = −λ_g s_g = −w X / ā² =
−0.4450665``, ``∂T/∂X = c_CO2 s_g = w / ā = 4.4562318``; ``E[T] ≈ 5.503 + w X (1/ā − 1/3.6) =
5.5009934``, ``sd = √(0.4450665² x 0.0325217 + (4.4562318 x 0.03)²) = √(0.0064420 + 0.0178722)
= 0.1559303``.

Re-pointed (``background_electricity:`` Jiangsu, 0.5978 kg CO2 per kWh): the steel process's
10 MJ electricity gets a normal (10, 1); the import allocates it 0.75 to steel and 0.25 to
scrap, stored as ``A[0, steel]`` normal (−7.5, 0.75) and ``A[0, scrap]`` normal (−2.5, 0.25).
Re-pointing moves both onto the supply's row times 1/3.6 (MJ to kWh), so ``∂T/∂A[0, steel] =
(1/3.6) (−0.5978) s_steel`` with ``s_steel = 2`` and ``s_scrap = 0.5``: ``sd = 0.5978 / 3.6 x
√((2 x 0.75)² + (0.5 x 0.25)²) = 0.2499467``, exact (``T`` is linear in both). Left on the
database's own grid (0.1 kg per MJ) the same entries give ``0.1 x 1.5051993 = 0.1505199``.
"""

from __future__ import annotations

import json
import math
import shutil
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp

from fixtures.boxed_widget import boxed_widget
from openpcf.core.system import MatrixSystem
from openpcf.errors import InputError
from openpcf.io.store import DatabaseStore
from openpcf.io.uncertainty import PARAMS_DTYPE, MatrixUncertainty
from openpcf.model.database_uncertainty import DatabaseSampler
from openpcf.reports.sensitivity import propagate
from openpcf.services.calculate import calculate
from openpcf.services.databases import import_database
from openpcf.services.uncertainty import uncertainty
from openpcf.settings import Settings, get_settings

FIXTURES = Path(__file__).parent / "fixtures"
PROCESSES = FIXTURES / "jsonld_small" / "processes"
GRID = "ee000000-0000-4000-8000-000000000001.json"
STEEL = "ee000000-0000-4000-8000-000000000003.json"
SEED = 17
W, SIGMA, X, SD_X = 16.0625, 0.05, 0.36, 0.03
A_MEAN = 3.6 * math.exp(SIGMA**2 / 2)  # 3.6045028
VAR_A = 3.6**2 * math.exp(SIGMA**2) * math.expm1(SIGMA**2)  # 0.0325217
MEAN = 5.503 + W * X * (1 / A_MEAN - 1 / 3.6)  # 5.5009934
SD = math.hypot(W * X / A_MEAN**2 * math.sqrt(VAR_A), W / A_MEAN * SD_X)  # 0.1559303
JS = 0.5978
STEEL_SD = math.hypot(2 * 0.75, 0.5 * 0.25)  # 1.5051993 MJ

LINKED = "background_linking: linked"
REPOINTED = LINKED + "\nbackground_electricity: {grid: {geography: CN-JS, year: 2022}}"


def _with(path: Path, index: int, distribution: dict[str, object]) -> None:
    data = json.loads(path.read_text("utf-8"))
    data["exchanges"][index]["uncertainty"] = {"@type": "Uncertainty", **distribution}
    path.write_text(json.dumps(data), encoding="utf-8")


@pytest.fixture(scope="module")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    """``grid``: the grid's output lognormal (σ 0.05) and CO2 normal (0.36, 0.03); ``steel``:
    the steel process's electricity normal (10, 1)."""
    home = tmp_path_factory.mktemp("home")
    mp = pytest.MonkeyPatch()
    mp.setenv("OPENPCF_HOME", str(home))
    get_settings.cache_clear()
    settings = get_settings()
    store = DatabaseStore(settings.databases_dir)
    for name in ("grid", "steel"):
        source = tmp_path_factory.mktemp(name) / "jsonld"
        shutil.copytree(FIXTURES / "jsonld_small", source)
        if name == "grid":
            lognormal = {"distributionType": "LOG_NORMAL_DISTRIBUTION", "geomSd": math.e**SIGMA}
            _with(source / "processes" / GRID, 0, {**lognormal, "geomMean": 1.0})
            _with(source / "processes" / GRID, 1, _normal(X, SD_X))
        else:
            _with(source / "processes" / STEEL, 2, _normal(10.0, 1.0))
        import_database("jsonld", source, name=name, store=store)
    yield settings
    mp.undo()
    get_settings.cache_clear()


def _normal(mean: float, sd: float) -> dict[str, object]:
    return {"distributionType": "NORMAL_DISTRIBUTION", "mean": mean, "sd": sd}


def model(tmp_path: Path, db: str, extra: str = "") -> Path:
    name = f"model-{db}-{len(extra)}.yaml"
    return boxed_widget(tmp_path, f"{db}:widget assembly", extra=extra, name=name)


@pytest.mark.parametrize("extra", ["", LINKED])
def test_analytic_by_hand_and_against_monte_carlo(
    tmp_path: Path, settings: Settings, extra: str
) -> None:
    """Linked and precomputed alike: the analytic mean 5.5009934 and sd 0.1559303 (module
    docstring) to 1e-9; Monte Carlo's mean within 4 standard errors of it and its sd within 4
    standard errors of an sd (``sd / √(2N)``) of the analytic one."""
    result = uncertainty(
        model(tmp_path, "grid", extra), monte_carlo=True, seed=SEED, settings=settings
    )
    a, mc = result.analytic, result.monte_carlo
    assert mc is not None
    assert a.mean == pytest.approx(MEAN, rel=1e-9)
    assert a.sd == pytest.approx(SD, rel=1e-9)
    assert a.ignored == {}
    assert sum(a.contributions.values()) == pytest.approx(1.0)
    assert abs(mc.mean - a.mean) < 4 * mc.standard_error
    assert abs(mc.sd - a.sd) < 4 * mc.sd / math.sqrt(2 * mc.iterations)
    (db,) = result.databases
    assert (db.entries, db.sampled, db.propagated) == (2, 2, True)


def test_report_propagation_includes_the_linked_database(
    tmp_path: Path, settings: Settings
) -> None:
    """The report's :func:`propagate` gives the same analytic sd for a linked model, and for a
    precomputed one (its database read through the calculation's store)."""
    linked = calculate(model(tmp_path, "grid", LINKED), settings=settings)
    found = propagate(linked.compiled)
    assert found is not None
    assert found.sd == pytest.approx(SD, rel=1e-9)
    stored = propagate(calculate(model(tmp_path, "grid"), settings=settings).compiled)
    assert stored is not None
    assert stored.sd == pytest.approx(SD, rel=1e-9)


@pytest.mark.parametrize(("extra", "per_mj"), [(LINKED, 0.1), (REPOINTED, JS / 3.6)])
def test_repointed_database_is_sampled(
    tmp_path: Path, settings: Settings, extra: str, per_mj: float
) -> None:
    """The steel electricity's two stored normals, on the database's grid (sd 0.1505199) and
    re-pointed to Jiangsu (sd 0.2499467, module docstring): the analytic sd exactly, Monte
    Carlo's within 4 standard errors of an sd; both entries sampled, the note says re-pointed."""
    result = uncertainty(
        model(tmp_path, "steel", extra), monte_carlo=True, seed=SEED, settings=settings
    )
    expected = per_mj * STEEL_SD
    mc = result.monte_carlo
    assert mc is not None
    assert result.analytic.sd == pytest.approx(expected, rel=1e-9)
    assert abs(mc.sd - expected) < 4 * expected / math.sqrt(2 * mc.iterations)
    assert abs(mc.mean - result.calculation.result.total) < 4 * mc.standard_error
    (db,) = result.databases
    assert (db.entries, db.sampled) == (2, 2)
    assert ("re-pointed" in db.note) == (extra == REPOINTED)
    found = propagate(result.calculation.compiled)
    assert found is not None
    assert found.sd == pytest.approx(expected, rel=1e-9)


def _params(rows: list[tuple[int, int, float, float]]) -> np.ndarray:
    out = np.zeros(len(rows), dtype=PARAMS_DTYPE)
    for k, (i, j, mean, sd) in enumerate(rows):
        out[k] = (i, j, 3, mean, sd, np.nan, np.nan, np.nan, False)
    return out


def test_two_process_gradient_by_hand() -> None:
    """Grid ``g`` (``A_gg = 3.6``, ``B_CO2,g = 0.36``) and product ``p`` taking ``w`` = 16.0625
    of it (``A_gp = −w``); weight 1 on ``p``: ``s = (w / 3.6, 1)``, ``λ = (0.1, 1.60625)``.
    ``∂T/∂A_gg = −λ_g s_g = −0.446181``, ``∂T/∂A_gp = −λ_g s_p = −0.1``, ``∂T/∂B = s_g =
    4.461806`` (``T = −A_gp X / A_gg``; normal entries, so the means are the stored values)."""
    A = sp.csc_array(np.array([[3.6, -W], [0.0, 1.0]]))
    B = sp.csc_array(np.array([[X, 0.0]]))
    system = MatrixSystem(A=A, B=B, activities=("g", "p"), flows=("CO2-fossil",))
    params = MatrixUncertainty(
        A=_params([(0, 0, 3.6, 0.1), (0, 1, -W, 1.0)]),
        B=_params([(0, 0, X, 0.01)]),
    )
    db = DatabaseSampler("two@1", system, params, np.ones(1), ["p"], backend="superlu")
    grad = db.gradient(np.ones(1))
    np.testing.assert_allclose(db.mean_intensities(), [W * X / 3.6], rtol=1e-12)
    np.testing.assert_allclose(
        [grad["db:two@1:A:0:0"], grad["db:two@1:A:0:1"], grad["db:two@1:B:0:0"]],
        [-W * X / 3.6**2, -X / 3.6, W / 3.6],
        rtol=1e-12,
    )


def test_misaligned_distributions_are_refused() -> None:
    """A stored distribution on an entry the matrix does not have: a clear message."""
    system = MatrixSystem(
        A=sp.csc_array(np.eye(2)),
        B=sp.csc_array(np.ones((1, 2))),
        activities=("a", "b"),
        flows=("CO2-fossil",),
    )
    params = MatrixUncertainty(A=_params([(0, 1, 1.0, 0.1)]), B=_params([]))
    with pytest.raises(InputError, match=r"does not line up with its A matrix.*import"):
        DatabaseSampler("bad@1", system, params, np.ones(1), ["a"])


def test_repointed_and_stored_share_their_draws(tmp_path: Path, settings: Settings) -> None:
    """Re-pointed (Jiangsu) against the database's own grid: both draw the same stored
    entries (same keys), so the difference's sd is ``(0.5978 / 3.6 − 0.1) x 1.5051993 =
    0.0994268``, analytic and Monte Carlo alike, not the 0.2918 of independent draws."""
    result = uncertainty(
        model(tmp_path, "steel", REPOINTED),
        compare=model(tmp_path, "steel", LINKED),
        monte_carlo=True,
        seed=SEED,
        settings=settings,
    )
    expected = (JS / 3.6 - 0.1) * STEEL_SD
    assert result.comparison is not None
    diff = result.comparison.difference
    assert diff is not None
    assert abs(diff.sd - expected) < 4 * expected / math.sqrt(2 * diff.iterations)
    assert result.comparison.p_a_lower == 0.0  # Jiangsu is dirtier in every draw
    assert result.comparison.analytic_p_a_lower == pytest.approx(0.0, abs=1e-12)
