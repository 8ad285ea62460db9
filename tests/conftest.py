"""Shared test helpers: write small models and factor sets to a temp folder."""

from __future__ import annotations

import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from openpcf.factors import FactorSet, bundled_factor_set, load_factor_set
from openpcf.model.calculation import Calculation
from openpcf.services.calculate import calculate

# db_url/engine fixtures, the `home` of in-process CLI tests (fixtures/cli_home.py), the web
# application (fixtures/web.py) and the real browser (fixtures/browser.py)
pytest_plugins = [
    "db_fixtures",
    "fixtures.cli_home",
    "fixtures.real_model",
    "fixtures.web",
    "fixtures.browser",
    "fixtures.uncertain_grid",
]


@pytest.fixture(autouse=True, scope="session")
def _isolated_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Keep user data (audit trail, keys, registries, databases) of the whole test session,
    subprocesses included, in a temp folder instead of the real user data directory."""
    import os

    from openpcf.settings import get_settings

    home = tmp_path_factory.mktemp("openpcf-home")
    previous = os.environ.get("OPENPCF_HOME")
    os.environ["OPENPCF_HOME"] = str(home)
    get_settings.cache_clear()
    yield
    if previous is None:
        os.environ.pop("OPENPCF_HOME", None)
    else:
        os.environ["OPENPCF_HOME"] = previous
    get_settings.cache_clear()


#: scrypt cost of client-secret hashes in tests (production: 2**14, about 60 ms a hash).
TEST_SCRYPT_N = 2**8


@pytest.fixture(autouse=True)
def _cheap_secret_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Hash client secrets at a cheap scrypt cost in this process (servers on threads
    included): every hash records its parameters, so production-cost hashes still verify.
    ``monkeypatch.undo()`` in a test restores the production cost."""
    from openpcf.db.repositories import owners

    monkeypatch.setattr(owners, "_SCRYPT_N", TEST_SCRYPT_N)


HEADER = """
openpcf: 1
product:
  name: Test product
  ids: [urn:openpcf:product:test]
  declared_unit: {declared_unit}
  mass_per_declared_unit: 1
  reference_period: {{start: 2024-01-01, end: 2024-12-31}}
boundary: {boundary}
reference_process: {reference}
"""

#: A factor set with round numbers, so expected values can be worked out by hand.
TEST_FACTORS = """
factors:
  - {id: test.power, name: test power, unit: kWh, category: electricity, geography: CN,
     year: 2024, source: hand-made test factor, licence: CC0, emissions: {CO2-fossil: 0.5}}
  - {id: test.steel, name: test steel, unit: t, category: material, geography: CN,
     year: 2024, source: hand-made test factor, licence: CC0, emissions: {CO2-fossil: 2000}}
  - {id: test.gas, name: test natural gas, unit: MJ, category: fuel, geography: CN,
     year: 2024, source: hand-made test factor, licence: CC0, emissions: {CO2-fossil: 0.056}}
  - {id: test.truck, name: test truck, unit: tkm, category: transport, geography: CN,
     year: 2024, source: hand-made test factor, licence: CC0, emissions: {CO2-fossil: 0.1}}
  - {id: test.oxygen, name: test oxygen, unit: kg, category: material, geography: CN,
     year: 2024, source: hand-made test factor, licence: CC0, emissions: {CO2-fossil: 0.4}}
  - {id: test.heat, name: test heat, unit: MJ, category: fuel, geography: CN,
     year: 2024, source: hand-made test factor, licence: CC0, emissions: {CO2-fossil: 0.07}}
"""

Writer = Callable[..., Path]


@pytest.fixture
def test_factors(tmp_path: Path) -> FactorSet:
    path = tmp_path / "test_factors.yaml"
    path.write_text(TEST_FACTORS, encoding="utf-8")
    return bundled_factor_set().merged(load_factor_set(path))


@pytest.fixture
def write_model(tmp_path: Path) -> Writer:
    """Write a model: header fields plus a YAML body of processes (and parameters)."""

    def write(
        body: str,
        *,
        reference: str = "main",
        declared_unit: str = "kilogram",
        boundary: str = "cradle-to-gate",
        name: str = "model.yaml",
    ) -> Path:
        head = HEADER.format(declared_unit=declared_unit, boundary=boundary, reference=reference)
        path = tmp_path / name
        path.write_text(head + textwrap.dedent(body), encoding="utf-8")
        return path

    return write


@pytest.fixture
def calc(test_factors: FactorSet) -> Callable[..., Calculation]:
    def run(path: Path, **kwargs: object) -> Calculation:
        return calculate(path, factors=test_factors, **kwargs)  # type: ignore[arg-type]

    return run
