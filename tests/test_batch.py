"""``openpcf batch``: folders and CSVs of items, processes and Dask, failures per item.

Every number comes from ``tests/fixtures/two_process.yaml`` (worked out in ``test_cli.py``):
1 kg of widget from ``sheet_mass`` kg of steel sheet at 2000 kg CO2e/t, ``power`` kWh of Hebei
2022 grid power at 0.7252 kg CO2e/kWh and 1 g of fossil CH4 (AR6: 29.8), so

    total(power, sheet_mass) = 2 * sheet_mass + 0.7252 * power + 0.0298

* defaults (power 3, sheet_mass 2): 4 + 2.1756 + 0.0298 = 6.2054;
* power 10:                         4 + 7.252  + 0.0298 = 11.2818;
* sheet_mass 3:                     6 + 2.1756 + 0.0298 = 8.2054;
* power 0, sheet_mass 0.5:          1 + 0      + 0.0298 = 1.0298;
* power 1, sheet_mass 1:            2 + 0.7252 + 0.0298 = 2.755;
* power 1:                          4 + 0.7252 + 0.0298 = 4.755.

The raw-material stage is the sheet (2 * sheet_mass), production the rest.
"""

from __future__ import annotations

import csv
import json
import socket
import sys
from pathlib import Path

import pytest

from fixtures.in_process import openpcf
from openpcf.services.batch import (
    BatchError,
    BatchItem,
    BatchOptions,
    calculate_item,
    chunks,
    read_batch,
    run_batch,
)

FIXTURE = Path(__file__).parent / "fixtures" / "two_process.yaml"


def total(power: float, sheet_mass: float) -> float:
    return 2 * sheet_mass + 0.7252 * power + 0.0298


#: (sku, power, sheet_mass) of the parameter-set CSV; "" keeps the model's value.
ROWS = [
    ("A", "", ""),
    ("B", "10", ""),
    ("C", "", "3"),
    ("D", "0", "0.5"),
    ("E", "1", "1"),
]
EXPECTED = {"A": 6.2054, "B": 11.2818, "C": 8.2054, "D": 1.0298, "E": 2.755}


@pytest.fixture
def params_csv(tmp_path: Path) -> Path:
    """The ROWS as a CSV with a ``model`` column (relative to the CSV file)."""
    (tmp_path / "widget.yaml").write_text(FIXTURE.read_text(encoding="utf-8"), encoding="utf-8")
    path = tmp_path / "scenarios.csv"
    with path.open("w", encoding="utf-8", newline="") as f:
        out = csv.writer(f)
        out.writerow(["sku", "model", "power", "sheet_mass"])
        for sku, power, mass in ROWS:
            out.writerow([sku, "widget.yaml", power, mass])
    return path


@pytest.fixture
def model_folder(tmp_path: Path) -> Path:
    """Three models: the fixture at power 3, 10 and 1 (sheet_mass 2)."""
    folder = tmp_path / "models"
    folder.mkdir()
    text = FIXTURE.read_text(encoding="utf-8")
    assert "  power: 3\n" in text
    for name, power in (("a_base", 3), ("b_power10", 10), ("c_power1", 1)):
        (folder / f"{name}.yaml").write_text(
            text.replace("  power: 3\n", f"  power: {power}\n"), encoding="utf-8"
        )
    (folder / "notes.txt").write_text("not a model", encoding="utf-8")
    return folder


def test_expected_values_follow_the_formula():
    for sku, power, mass in ROWS:
        assert EXPECTED[sku] == pytest.approx(total(float(power or 3), float(mass or 2)))


def test_csv_of_parameter_sets(params_csv: Path):
    items = read_batch(params_csv)
    assert [i.id for i in items] == ["A", "B", "C", "D", "E"]
    assert items[1].parameters == {"power": "10"}
    assert items[0].parameters == {}
    result = run_batch(items, BatchOptions(), workers=2)
    assert result.failed == 0
    assert [r.id for r in result.items] == ["A", "B", "C", "D", "E"]  # input order
    for r in result.items:
        assert r.kg_co2e == pytest.approx(EXPECTED[r.id], rel=1e-12)
    d = result.items[3]
    assert d.by_stage["raw_material_acquisition"] == pytest.approx(1.0, rel=1e-12)
    assert d.by_stage["production"] == pytest.approx(0.0298, rel=1e-12)
    assert len({r.footprint_id for r in result.items}) == 5  # one per parameter set


def test_folder_of_models(model_folder: Path):
    items = read_batch(model_folder)
    assert [i.id for i in items] == ["a_base", "b_power10", "c_power1"]
    result = run_batch(items, BatchOptions(), workers=2)
    assert [r.kg_co2e for r in result.items] == pytest.approx(
        [total(3, 2), total(10, 2), total(1, 2)], rel=1e-12
    )


def test_one_vs_two_processes_identical(params_csv: Path):
    items = read_batch(params_csv) * 3  # 15 items: several chunks per worker
    items = [BatchItem(f"{k}-{i.id}", i.model, i.parameters) for k, i in enumerate(items)]
    one = run_batch(items, BatchOptions(), workers=1)
    two = run_batch(items, BatchOptions(), workers=2)
    here = [calculate_item(i, BatchOptions()) for i in items]
    assert [r.to_dict() for r in one.items] == [r.to_dict() for r in two.items]
    assert [r.to_dict() for r in one.items] == [r.to_dict() for r in here]
    assert (one.workers, two.workers) == (1, 2)


def test_chunks_are_contiguous_and_cover_all():
    items = [BatchItem(str(k), FIXTURE) for k in range(10)]
    parts = chunks(items, 2)
    assert [i for p in parts for i in p] == items
    assert len(parts) == 5  # 4 chunks per worker asked: ceil(10 / 8) = 2 items each
    assert chunks([], 2) == []


def test_failed_items_reported_rest_completes(tmp_path: Path, params_csv: Path):
    path = tmp_path / "mixed.csv"
    path.write_text(
        "sku,model,power\nok,widget.yaml,10\nmissing,nowhere.yaml,\nbad,widget.yaml,2 *\n"
        "ok2,widget.yaml,\n",
        encoding="utf-8",
    )
    result = run_batch(read_batch(path), BatchOptions(), workers=2)
    assert result.failed == 2
    ok, missing, bad, ok2 = result.items
    assert ok.kg_co2e == pytest.approx(11.2818, rel=1e-12)
    assert ok2.kg_co2e == pytest.approx(6.2054, rel=1e-12)
    assert missing.error is not None
    assert "nowhere.yaml" in missing.error
    assert "not found" in missing.error
    assert bad.error is not None
    assert "power" in bad.error
    assert bad.kg_co2e is None

    out = openpcf("batch", str(path), "--workers", "2", "--json")
    assert out.returncode == 1, out.stderr
    data = json.loads(out.stdout)
    assert data["failed"] == 2
    assert [i["error"] is None for i in data["items"]] == [True, False, False, True]
    assert "Traceback" not in out.stderr


def test_cli_table_and_csv(tmp_path: Path, params_csv: Path):
    target = tmp_path / "out.csv"
    out = openpcf("batch", str(params_csv), "-w", "2", "--csv", str(target))
    assert out.returncode == 0, out.stderr
    assert "11.2818" in out.stdout
    assert "5 of 5 calculated" in out.stdout
    with target.open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    assert [r["id"] for r in rows] == ["A", "B", "C", "D", "E"]
    assert float(rows[3]["kg_co2e"]) == pytest.approx(1.0298, rel=1e-12)
    assert float(rows[3]["raw_material_acquisition"]) == pytest.approx(1.0, rel=1e-12)
    assert rows[1]["parameters"] == "power=10"


def test_cli_csv_without_model_column_uses_model_option(tmp_path: Path):
    path = tmp_path / "p.csv"
    path.write_text("name,power\nlow,1\nhigh,10\n", encoding="utf-8")
    out = openpcf("batch", str(path), "--model", str(FIXTURE), "-w", "1", "--json")
    assert out.returncode == 0, out.stderr
    totals = [i["kg_co2e"] for i in json.loads(out.stdout)["items"]]
    assert totals == pytest.approx([4.755, 11.2818], rel=1e-12)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("power\n1\n", "no 'model' column"),
        ("", "empty"),
        ("sku,model\n", "no rows"),
        ("sku,model\na,x.yaml\na,y.yaml\n", "appears twice"),
        ("sku,model,power,power\na,x.yaml,1,2\n", "appears twice in the header"),
        ("sku,model\na,\n", "'model' cell is empty"),
    ],
)
def test_bad_batch_csv(tmp_path: Path, text: str, message: str):
    path = tmp_path / "b.csv"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(BatchError, match=message):
        read_batch(path)


def test_bad_batch_source(tmp_path: Path):
    with pytest.raises(BatchError, match="no such batch file"):
        read_batch(tmp_path / "missing.csv")
    with pytest.raises(BatchError, match="no model files"):
        read_batch(tmp_path)
    out = openpcf("batch", str(tmp_path / "missing.csv"))
    assert out.returncode == 2
    assert "no such batch file or folder" in out.stderr
    assert "Traceback" not in out.stderr


def _free_loopback_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_unreachable_scheduler(params_csv: Path):
    address = f"tcp://127.0.0.1:{_free_loopback_port()}"
    with pytest.raises(BatchError, match="no Dask scheduler answered within 2 s"):
        run_batch(read_batch(params_csv), BatchOptions(), scheduler=address, timeout=2)
    out = openpcf("batch", str(params_csv), "--scheduler", address, "--timeout", "2")
    assert out.returncode == 2
    assert address in out.stderr
    assert "no Dask scheduler answered" in out.stderr
    assert "Traceback" not in out.stderr


def test_scheduler_without_dask(params_csv: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setitem(sys.modules, "distributed", None)  # import distributed -> ImportError
    with pytest.raises(BatchError, match=r"needs Dask.*openpcf\[dask\]"):
        run_batch(read_batch(params_csv), BatchOptions(), scheduler="tcp://127.0.0.1:1")


def test_bad_workers(params_csv: Path):
    with pytest.raises(BatchError, match="at least 1"):
        run_batch(read_batch(params_csv), BatchOptions(), workers=0)


@pytest.mark.slow
def test_dask_one_vs_two_workers_identical(params_csv: Path):
    distributed = pytest.importorskip("distributed")
    items = read_batch(params_csv) * 2
    items = [BatchItem(f"{k}-{i.id}", i.model, i.parameters) for k, i in enumerate(items)]
    here = [calculate_item(i, BatchOptions()).to_dict() for i in items]
    for n in (1, 2):
        with distributed.LocalCluster(
            n_workers=n,
            processes=True,
            threads_per_worker=1,
            host="127.0.0.1",
            dashboard_address=None,
        ) as cluster:
            result = run_batch(items, BatchOptions(), scheduler=cluster.scheduler_address)
        assert result.workers == n
        assert result.failed == 0
        assert [r.to_dict() for r in result.items] == here
    assert here[1]["kg_co2e"] == pytest.approx(11.2818, rel=1e-12)
