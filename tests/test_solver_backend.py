"""``backend="auto"``: SuperLU below ``PARDISO_MIN_SIZE`` activities, PARDISO from there on
(when pypardiso is installed); the provenance names the solver that was used."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
import typer

from openpcf.cli import options
from openpcf.core import solver
from openpcf.core.solver import PARDISO_MIN_SIZE, Factorisation, resolve_backend


def test_auto_picks_by_size(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(solver, "pardiso_available", lambda: True)
    assert resolve_backend("auto", 0) == "superlu"
    assert resolve_backend("auto", PARDISO_MIN_SIZE - 1) == "superlu"
    assert resolve_backend("auto", PARDISO_MIN_SIZE) == "pardiso"
    assert resolve_backend("superlu", 10 * PARDISO_MIN_SIZE) == "superlu"
    assert resolve_backend("pardiso", 2) == "pardiso"


def test_auto_without_pardiso_is_superlu(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(solver, "pardiso_available", lambda: False)
    assert resolve_backend("auto", 10 * PARDISO_MIN_SIZE) == "superlu"
    with pytest.raises(ImportError, match="pypardiso"):
        resolve_backend("pardiso", 2)


def test_small_factorisation_uses_superlu_on_auto(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(solver, "pardiso_available", lambda: True)
    fact = Factorisation(sp.csc_array(np.array([[1.0, 0.0], [-0.5, 1.0]])), backend="auto")
    assert fact.backend == "superlu"
    np.testing.assert_allclose(fact.solve(np.array([1.0, 0.0])), [1.0, 0.5])


def test_provenance_names_the_solver_used(calc, write_model) -> None:
    path = write_model(
        """
        processes:
          - id: main
            name: Main
            stage: production
            output: {product: x, amount: 1, unit: kg}
            inputs: [{factor: test.power, amount: 2, unit: kWh}]
        """
    )
    assert calc(path).result.provenance["solver"] == "superlu"


def test_solver_option_accepts_iterative() -> None:
    assert options._backend("iterative") == "iterative"
    with pytest.raises(typer.BadParameter, match="auto, superlu, pardiso or iterative"):
        options._backend("cholesky")


def test_solver_pardiso_without_pypardiso_is_a_bad_parameter(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """``--solver pardiso`` without pypardiso: refused as a bad option (exit 2), not an
    ImportError that the CLI would report as an internal error."""
    monkeypatch.setattr(solver, "pardiso_available", lambda: False)
    with pytest.raises(typer.BadParameter, match=r"openpcf\[pardiso\]"):
        options._backend("pardiso")


def test_provenance_names_the_iterative_solver(calc, write_model) -> None:
    path = write_model(
        """
        processes:
          - id: main
            name: Main
            stage: production
            output: {product: x, amount: 1, unit: kg}
            inputs: [{factor: test.power, amount: 2, unit: kWh}]
        """
    )
    iterative = calc(path, backend="iterative").result
    # the solver that ran (openpcf.core.engine.solver_used), with its iterations
    assert iterative.provenance["solver"].startswith("iterative (bicgstab+jacobi, ")
    assert iterative.total == pytest.approx(calc(path).result.total, rel=1e-12)
