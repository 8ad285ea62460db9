"""The batch bench's SKU models (``bench/batch.py``) are what it says they are.

Each SKU links three USLCI activities and emits CO2 directly, so its footprint is, by the
matrix identity the import and the linked solve both rest on, ``Σ_i a_i λ_i + e``: the
amounts ``a_i`` written in the model times the stored AR6 intensities ``λ_i`` (kg CO2e per kg
or MJ, computed at import) plus the direct CO2 ``e`` (GWP 1). The linked calculation solves
USLCI itself, so this checks that the bench measures real work on the background with the
right models. The timing itself runs in ``python -m bench.run --only batch``, not here.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from bench.batch import PER_SKU, USLCI, prepare

from openpcf.io.store import DatabaseStore
from openpcf.methods.gwp import characterisation_vector, gwp_set
from openpcf.services.calculate import calculate
from openpcf.settings import get_settings

pytestmark = [pytest.mark.realdata, pytest.mark.slow]

INPUT = re.compile(r'background: "uslci:([^"]+)", amount: ([0-9.]+), unit: (kg|MJ)')
CO2 = re.compile(r"gas: CO2-fossil, amount: ([0-9.]+), unit: kg")


def test_sku_models_are_linked_footprints_on_uslci(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if not USLCI.is_file():
        pytest.skip(f"{USLCI} not present")
    skus = prepare(tmp_path, 3, seed=0)
    monkeypatch.setenv("OPENPCF_HOME", str(tmp_path / "home"))  # where prepare imported USLCI
    get_settings.cache_clear()
    settings = get_settings()
    get_settings.cache_clear()
    stored = DatabaseStore(settings.databases_dir).get("uslci")
    lam = stored.intensities() @ characterisation_vector(gwp_set("AR6"), stored.meta["gases"])
    row = {c.id: i for i, c in enumerate(stored.columns())}
    models = sorted(skus.glob("*.yaml"))
    assert [p.name for p in models] == ["SKU-00000.yaml", "SKU-00001.yaml", "SKU-00002.yaml"]
    for path in models:
        text = path.read_text(encoding="utf-8")
        inputs = INPUT.findall(text)
        assert len(inputs) == PER_SKU
        (co2,) = CO2.findall(text)
        expected = sum(float(a) * lam[row[i]] for i, a, _ in inputs) + float(co2)
        calc = calculate(path, settings=settings)
        assert calc.compiled.linked is not None
        np.testing.assert_allclose(calc.result.total, expected, rtol=1e-9)
