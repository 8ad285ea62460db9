"""A calculation's provenance names the solver that actually ran (issue 17).

A linked model on ``jsonld_small`` (7 activities, imported as ``small``) calculated with
``--solver iterative``: BiCGSTAB converges on it in 3 iterations, and the provenance says
``iterative (bicgstab+jacobi, 3 iterations)``. With the iteration limit cut to one
(:data:`openpcf.core.solver.ITERATIVE_MAXITER`), it cannot reach the residual tolerance, LU
takes over and the provenance must say so (and why) instead of "iterative". The total is the
same whichever solver ran: 5.503 kg CO2e for one kg of ``small``'s widget
(``tests/test_linked_background.py``). The process-wide caches are emptied first, so that the
solves happen in the test (a cached intensity would skip them).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from fixtures.boxed_widget import boxed_widget
from openpcf.core import solver
from openpcf.core.engine import DEFAULT_INTENSITIES
from openpcf.core.solver import DEFAULT_CACHE
from openpcf.io.store import DatabaseStore
from openpcf.services.calculate import calculate
from openpcf.services.databases import import_database
from openpcf.settings import Settings, get_settings

FIXTURES = Path(__file__).parent / "fixtures"
LINKED = "background_linking: linked"


@pytest.fixture(scope="module")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    home = tmp_path_factory.mktemp("home")
    mp = pytest.MonkeyPatch()
    mp.setenv("OPENPCF_HOME", str(home))
    get_settings.cache_clear()
    settings = get_settings()
    import_database(
        "jsonld",
        FIXTURES / "jsonld_small",
        name="small",
        store=DatabaseStore(settings.databases_dir),
    )
    yield settings
    mp.undo()
    get_settings.cache_clear()


def write(tmp_path: Path, extra: str) -> Path:
    return boxed_widget(tmp_path, "small:widget assembly", extra=extra)


@pytest.fixture
def cold() -> Iterator[None]:
    DEFAULT_CACHE.clear()
    DEFAULT_INTENSITIES.clear()
    yield
    DEFAULT_CACHE.clear()
    DEFAULT_INTENSITIES.clear()


@pytest.mark.usefixtures("cold")
def test_converged_iterative_solve_says_so(tmp_path: Path, settings: Settings) -> None:
    result = calculate(write(tmp_path, LINKED), settings=settings, backend="iterative").result
    assert result.provenance["solver"] == "iterative (bicgstab+jacobi, 3 iterations)"
    assert result.total == pytest.approx(5.503, rel=1e-12)


@pytest.mark.usefixtures("cold")
def test_fall_back_to_lu_is_in_the_provenance(
    tmp_path: Path, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(solver, "ITERATIVE_MAXITER", 1)
    path = write(tmp_path, LINKED)
    iterative = calculate(path, settings=settings, backend="iterative").result
    lu = calculate(path, settings=settings, backend="superlu").result
    described = iterative.provenance["solver"]
    assert described.startswith("iterative, fell back to superlu: BiCGSTAB reached"), described
    assert "after 1 iterations" in described
    assert lu.provenance["solver"] == "superlu"
    assert iterative.total == pytest.approx(5.503, rel=1e-12)
    assert lu.total == pytest.approx(iterative.total, rel=1e-12)
