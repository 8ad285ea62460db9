"""Every complete model in ``docs/models.md`` validates, with the data it says it needs.

A fenced ``yaml`` block is a complete model when it is a mapping with ``product`` and
``processes``. Each runs through ``openpcf validate`` in a fresh home (SQLite) whose side files
are copied from the files the page names (:data:`SIDE_FILES`), with the test database imported
as ``small`` when a model has ``background:`` inputs and the supplier footprint imported into
the supplier store when it names one by id or URN, as the page's console lines do. Together the
models must use every input kind of the model language.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from fixtures.cli_home import cli, ok
from openpcf.exchange.supplier import names_received
from openpcf.model.schema import INPUT_SOURCES

ROOT = Path(__file__).parent.parent
PAGE = ROOT / "docs" / "models.md"
FIXTURES = Path(__file__).parent / "fixtures"
#: side files as the page's models name them -> the file the page says they are a copy of
SIDE_FILES = {
    "shipments/suzhou_to_rotterdam.yaml": ROOT / "examples/logistics/suzhou_to_rotterdam.yaml",
    "claims/suzhou_2023.yaml": FIXTURES / "electricity_claims_suzhou_2023.yaml",
    "suppliers/board.json": FIXTURES / "pact_supplier_board.json",
}
_BLOCK = re.compile(r"^```yaml\n(.*?)^```", re.MULTILINE | re.DOTALL)


def models() -> list[tuple[int, str, dict[str, Any]]]:
    """(line, text, parsed) of every complete model block of the page."""
    text = PAGE.read_text(encoding="utf-8")
    found = []
    for match in _BLOCK.finditer(text):
        block = match.group(1)
        try:
            data = yaml.safe_load(block)
        except yaml.YAMLError:
            continue  # a fragment (an indented list of inputs)
        if isinstance(data, dict) and {"product", "processes"} <= set(data):
            found.append((text[: match.start()].count("\n") + 1, block, data))
    return found


MODELS = models()


def inputs(model: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for process in model["processes"]:
        yield from process.get("inputs") or []


@pytest.fixture
def doc_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    from openpcf.settings import get_settings

    folder = tmp_path / "home"
    monkeypatch.setenv("OPENPCF_HOME", str(folder))
    monkeypatch.setenv("OPENPCF_DATABASE_URL", f"sqlite:///{tmp_path / 'openpcf.db'}")
    get_settings.cache_clear()
    ok("storage", "upgrade")
    yield folder
    get_settings.cache_clear()


def test_the_page_has_models_for_every_input_kind() -> None:
    assert len(MODELS) >= 6, [line for line, _, _ in MODELS]
    used = {
        kind for _, _, model in MODELS for i in inputs(model) for kind in i if kind in INPUT_SOURCES
    }
    assert used == set(INPUT_SOURCES), f"no example model uses {set(INPUT_SOURCES) - used}"
    refs = [
        i["supplier_footprint"]
        for _, _, m in MODELS
        for i in inputs(m)
        if "supplier_footprint" in i
    ]
    assert any(r.startswith("urn:") for r in refs), "no model names a supplier by product URN"
    assert any(re.fullmatch(r"[0-9a-f-]{36}", r) for r in refs), "no model names one by id"
    assert any(not names_received(r) for r in refs), "no model names a supplier file"


def prepared(line: int, text: str, model: dict[str, Any], home: Path, folder: Path) -> Path:
    """The model written to ``folder`` with its side files, and its data in ``home``."""
    folder.mkdir()
    for i in inputs(model):
        ref = i.get("shipment") or i.get("electricity_claim") or i.get("supplier_footprint")
        if ref is not None and not names_received(ref):
            assert ref in SIDE_FILES, f"docs/models.md:{line}: add {ref!r} to SIDE_FILES"
            (folder / ref).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(SIDE_FILES[ref], folder / ref)
        if "background" in i and not (home / "databases" / "small").exists():
            ok("import", "jsonld", str(FIXTURES / "jsonld_small"), "--name", "small")
        if ref is not None and names_received(ref):
            ok("pact", "import", str(FIXTURES / "pact_supplier_board.json"))
    path = folder / "model.yaml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(("line", "text", "model"), MODELS, ids=[f"line{m[0]}" for m in MODELS])
def test_example_model_validates(
    line: int, text: str, model: dict[str, Any], doc_home: Path, tmp_path: Path
) -> None:
    path = prepared(line, text, model, doc_home, tmp_path / "model")
    result = cli("validate", str(path))
    assert result.exit_code == 0, f"docs/models.md:{line}: {result.output} {result.exception}"


@pytest.mark.parametrize(("line", "text", "model"), MODELS, ids=[f"line{m[0]}" for m in MODELS])
def test_example_model_packages_and_reproduces_elsewhere(
    line: int,
    text: str,
    model: dict[str, Any],
    doc_home: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Whatever its inputs, the package alone reproduces the model in an empty home."""
    from openpcf.settings import get_settings

    path = prepared(line, text, model, doc_home, tmp_path / "model")
    out = tmp_path / "model.zip"
    ok("package", str(path), "-o", str(out))
    monkeypatch.setenv("OPENPCF_HOME", str(tmp_path / "elsewhere"))
    monkeypatch.setenv("OPENPCF_DATABASE_URL", f"sqlite:///{tmp_path / 'elsewhere.db'}")
    get_settings.cache_clear()
    result = cli("reproduce", str(out))
    assert result.exit_code == 0, f"docs/models.md:{line}: {result.output} {result.exception}"
    assert "reproduced, identical result" in result.output
