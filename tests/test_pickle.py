"""Results and compiled models pickle: Monte Carlo and batch runs send them to worker processes."""

from __future__ import annotations

import dataclasses
import multiprocessing
import pickle
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import scipy.sparse as sp

from openpcf.core.frozen import FrozenMap
from openpcf.core.results import FootprintResult, frozen_map
from openpcf.core.solver import Backend, Factorisation, pardiso_available
from openpcf.model.calculation import Calculation
from openpcf.model.result import solve_compiled
from openpcf.services.calculate import calculate

ROOT = Path(__file__).parent.parent
MODELS = {
    "two_process": ROOT / "tests" / "fixtures" / "two_process.yaml",
    "hot_rolled_coil": ROOT / "examples" / "hot_rolled_coil_hebei.yaml",
}


def _round_trip(obj: Any) -> Any:
    return pickle.loads(pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL))


@pytest.fixture(scope="module", params=sorted(MODELS))
def calculation(request: pytest.FixtureRequest) -> Calculation:
    return calculate(MODELS[request.param])


def test_footprint_result_round_trips(calculation: Calculation) -> None:
    result = calculation.result
    copy = _round_trip(result)
    assert isinstance(copy, FootprintResult)
    for f in dataclasses.fields(FootprintResult):
        assert getattr(copy, f.name) == getattr(result, f.name), f.name
    assert copy == result
    assert isinstance(copy.by_stage, FrozenMap)
    assert copy.by_stage == dict(result.by_stage)
    assert dict(copy.provenance) == dict(result.provenance)
    assert all(isinstance(p.gases, FrozenMap) for p in copy.processes)


def test_compiled_model_round_trips_and_solves_to_the_same_total(
    calculation: Calculation,
) -> None:
    compiled = calculation.compiled
    copy = _round_trip(compiled)
    assert copy == compiled
    assert copy.system == compiled.system
    assert copy.system.foreground == compiled.system.foreground
    assert copy.system.background == compiled.system.background
    assert copy.factor_set == compiled.factor_set
    np.testing.assert_array_equal(copy.demand, compiled.demand)
    solved = solve_compiled(copy)
    np.testing.assert_allclose(solved.total, calculation.result.total, rtol=1e-12)
    assert solved.by_stage.keys() == calculation.result.by_stage.keys()
    for stage, value in calculation.result.by_stage.items():
        np.testing.assert_allclose(solved.by_stage[stage], value, rtol=1e-12)


def test_calculation_round_trips_with_its_footprint_id(calculation: Calculation) -> None:
    copy = _round_trip(calculation)
    assert copy.result == calculation.result
    assert copy.compiled == calculation.compiled
    assert copy.footprint_id == calculation.footprint_id


def test_compiled_model_solves_in_a_spawned_worker() -> None:
    calculation = calculate(MODELS["hot_rolled_coil"])
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=1, mp_context=context) as pool:
        result = pool.submit(solve_compiled, calculation.compiled).result(timeout=120)
    np.testing.assert_allclose(result.total, calculation.result.total, rtol=1e-12)
    assert result.by_stage.keys() == calculation.result.by_stage.keys()


def test_frozen_map_behaves_as_a_read_only_dict() -> None:
    m = frozen_map({"b": 1.0, "a": 2.0})
    assert m == {"a": 2.0, "b": 1.0}
    assert {"a": 2.0, "b": 1.0} == m  # noqa: SIM300 (a dict on the left: reflected ==)
    assert m != {"a": 2.0}
    assert m == FrozenMap([("a", 2.0), ("b", 1.0)])
    assert list(m) == ["b", "a"]  # insertion order kept
    assert m.get("c") is None
    assert "a" in m
    assert len(m) == 2
    assert hash(m) == hash(FrozenMap({"a": 2.0, "b": 1.0}))
    assert repr(m) == "FrozenMap({'b': 1.0, 'a': 2.0})"
    assert m | {"c": 3.0} == {"b": 1.0, "a": 2.0, "c": 3.0}
    copy = m.copy()
    copy["c"] = 3.0
    assert "c" not in m
    with pytest.raises(TypeError):
        m["c"] = 3.0  # type: ignore[index]
    with pytest.raises(AttributeError):
        m._data = {}  # type: ignore[misc]
    with pytest.raises(TypeError):
        hash(FrozenMap({"a": [1]}))
    assert _round_trip(m) == m
    assert type(_round_trip(m)) is FrozenMap
    nested = frozen_map({"x": frozen_map({"y": 1.0})})
    assert _round_trip(nested) == {"x": {"y": 1.0}}


@pytest.mark.parametrize("backend", ["superlu", "pardiso"])
def test_factorisation_pickles_without_its_factors(backend: Backend) -> None:
    if backend == "pardiso" and not pardiso_available():
        pytest.skip("pypardiso is not installed")
    A = sp.csc_array(np.array([[1.0, 0.0, 0.0], [-0.5, 1.0, 0.0], [0.0, -2.0, 1.0]]))
    fact = Factorisation(A, labels=("a", "b", "c"), backend=backend)
    f = np.array([1.0, 0.0, 0.0])
    copy = _round_trip(fact)
    assert copy.labels == fact.labels
    np.testing.assert_allclose(copy.solve(f), fact.solve(f), rtol=1e-12)
    np.testing.assert_allclose(copy.solve_transposed(f), fact.solve_transposed(f), rtol=1e-12)
