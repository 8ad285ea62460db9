"""PACT exports that say what they are (issue 13), on the ``real_home`` model, both backends.

The model (``tests/fixtures/real_model.py``) is cradle-to-grave; per transformer (1 piece):

* production, process ``assembly``:
  - 3000 kg "widget assembly" from the imported ``small`` database, 5.503 kg CO2e/kg, all
    fossil (``tests/test_databases.py``): 16509;
  - 40 kg folding boxboard, the supplier's PACT footprint (``pact_supplier_board.json``, per
    100 kg: fossil 60, biogenic non-CO2 2, land-use change 5, uptake -150, primaryDataShare
    80, DQRs 1.5 / 1.2 / 1.4): fossil 24, biogenic non-CO2 0.8, LUC 2, uptake -60;
  - 4000 kWh of the Jiangsu grid 2022, 0.5978 kg CO2/kWh (``cn.grid.co2.2022.province.
    jiangsu``): 2391.2;
  - the export shipment, 2218.9 kg CO2e per 10 t (``tests/test_logistics.py``) × 5.2 t:
    1153.828;
* use, process ``use``: 200 000 kWh × 0.5978 = 119 560.

Cradle-to-gate part (raw material acquisition + production): fossil = 16509 + 24 + 2391.2
+ 1153.828 = 20078.028; pcfExcludingBiogenicUptake = 20078.028 + 2 + 0.8 = 20080.828;
pcfIncludingBiogenicUptake = 20080.828 - 60 = 20020.828. The full life cycle (ISO 14067 total)
is 20020.828 + 119 560 = 139 580.828, of which the use phase is 86 %.

Primary data share of the part: only the board is primary data, 80 % of its contribution to
pcfExcludingBiogenicUptake, 40 × (0.60 + 0.02 + 0.05) = 26.8: 0.8 × 26.8 / 20080.828 =
0.107 % → "0.11". Before issue 13 the board counted 100 % primary, weighted by its net
-33.2 kg CO2e including uptake, over the whole life cycle: 33.2 / 139 403.478 = 0.024 %.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from fixtures.cli_home import cli, ok
from fixtures.real_model import MODEL, ORGANISATION
from openpcf.exchange.errors import (
    IllustrativeFactorsError,
    PactBoundaryError,
    ScenarioChoiceError,
)

PRODUCT = "urn:openpcf:product:transformer-2500kva"
ROOT = Path(__file__).resolve().parents[1]
BOARD = ROOT / "tests/fixtures/pact_supplier_board.json"
BASE = "https://pact.test"

#: The cradle-to-gate part, worked out in the module docstring.
CRADLE_TO_GATE = {
    "pcfExcludingBiogenicUptake": "20080.828",
    "pcfIncludingBiogenicUptake": "20020.828",
    "fossilGhgEmissions": "20078.028",
    "landUseChangeGhgEmissions": "2",
    "biogenicCO2Uptake": "-60",
    "biogenicNonCO2Emissions": "0.8",
    "aircraftGhgEmissions": "0",
    "primaryDataShare": "0.11",
}


def variant(model: Path, name: str, *replacements: tuple[str, str]) -> Path:
    """The fixture model with text replaced, next to it (its shipment file is there)."""
    text = MODEL
    for old, new in replacements:
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    path = model.parent / name
    path.write_text(text, encoding="utf-8")
    return path


def pact(*args: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(ok("calc", *args, "-f", "pact").stdout)
    return document


def tables() -> dict[str, int]:
    """Rows per table of the configured database."""
    from openpcf.cli.options import open_database
    from openpcf.db.base import Base
    from openpcf.db.engine import session_scope

    engine = open_database()
    assert engine is not None
    try:
        with session_scope(engine) as s:
            return {
                t.name: s.scalar(select(func.count()).select_from(t)) or 0
                for t in Base.metadata.sorted_tables
            }
    finally:
        engine.dispose()


@contextmanager
def host() -> Iterator[TestClient]:
    """The PACT host on the configured database, with a client granted the transformer."""
    from openpcf.api.app import HostConfig, create_app
    from openpcf.cli.options import open_database
    from openpcf.settings import get_settings

    made = json.loads(ok("storage", "create-client", ORGANISATION, "--json").stdout)
    ok("storage", "grant", made["client_id"], PRODUCT)
    engine = open_database()
    assert engine is not None
    config = HostConfig(home=get_settings().home, run_sender=False)
    try:
        with TestClient(create_app(engine=engine, config=config), base_url=BASE) as http:
            token = http.post(
                "/auth/token",
                auth=(made["client_id"], made["client_secret"]),
                data={"grant_type": "client_credentials"},
            ).json()["access_token"]
            http.headers["Authorization"] = f"Bearer {token}"
            yield http
    finally:
        engine.dispose()


def served(http: TestClient) -> list[dict[str, Any]]:
    """Every footprint the host lists to the buyer."""
    answer = http.get("/3/footprints")
    assert answer.status_code == 200, answer.text
    data: list[dict[str, Any]] = answer.json()["data"]
    return data


# --------------------------------------------------------------------------------------------
# 1. the cradle-to-gate part, everywhere


def test_calc_pact_is_the_cradle_to_gate_part(real_home: Path) -> None:
    doc = pact(str(real_home))
    pcf = doc["pcf"]
    assert {k: pcf[k] for k in CRADLE_TO_GATE} == CRADLE_TO_GATE
    assert pcf["boundaryProcessesDescription"] == (
        "cradle-to-gate part of a cradle-to-grave model (production: Transformer assembly). "
        "Not included: use (Use phase, 30 years of no-load and load losses); the "
        "cradle-to-grave total is in the model's report"
    )
    # the full life cycle stays in the JSON result (and the report)
    result = json.loads(ok("calc", str(real_home), "-f", "json").stdout)
    assert result["kg_co2e"] == pytest.approx(139580.828, rel=1e-12)
    assert result["by_stage_kg_co2e"]["use"] == pytest.approx(119560, rel=1e-12)
    assert result["by_stage_kg_co2e"]["use"] / result["kg_co2e"] == pytest.approx(0.857, abs=1e-3)


def test_model_boundary_is_refused_beyond_cradle_to_gate(real_home: Path) -> None:
    refused = cli("calc", str(real_home), "-f", "pact", "--pact-boundary", "model")
    assert isinstance(refused.exception, PactBoundaryError)
    message = str(refused.exception)
    assert "transformer.yaml:13" in message  # the model's boundary line
    assert "--pact-boundary cradle-to-gate" in message
    for command in (["publish"], ["certificate", "issue", "-o", str(real_home) + ".jwt"]):
        again = cli(*command, str(real_home), "--pact-boundary", "model")
        assert isinstance(again.exception, PactBoundaryError), again.output
    # a cradle-to-gate model: "model" is its whole boundary, the same document
    gate = variant(
        real_home,
        "gate.yaml",
        ("boundary: cradle-to-grave", "boundary: cradle-to-gate"),
        ("      - {process: use, amount: 1, unit: piece}\n", ""),
    )
    gate_text = gate.read_text(encoding="utf-8")
    gate.write_text(gate_text[: gate_text.index("  - id: use")], encoding="utf-8")
    own = pact(str(gate), "--pact-boundary", "model")["pcf"]
    assert {k: own[k] for k in CRADLE_TO_GATE} == CRADLE_TO_GATE
    assert (
        own["boundaryProcessesDescription"] == "cradle-to-gate (production: Transformer assembly)"
    )


def test_publish_and_the_host_serve_the_cradle_to_gate_part(real_home: Path) -> None:
    published = json.loads(ok("publish", str(real_home), "--json").stdout)
    assert published["new"] is True
    pcf = published["document"]["pcf"]
    assert {k: pcf[k] for k in CRADLE_TO_GATE} == CRADLE_TO_GATE
    with host() as http:
        answer = http.get(f"/3/footprints/{published['id']}")
    assert answer.status_code == 200, answer.text
    assert answer.json()["data"] == published["document"]


# --------------------------------------------------------------------------------------------
# 2. illustrative factors


def test_illustrative_factors_are_refused_unless_allowed(real_home: Path, tmp_path: Path) -> None:
    """1 t of limestone (``material.limestone``, an illustrative placeholder of 8 kg CO2e/t)
    added to the assembly: pcfExcludingBiogenicUptake 20080.828 + 8 = 20088.828."""
    model = variant(
        real_home,
        "limestone.yaml",
        (
            "      - {process: use, amount: 1, unit: piece}\n",
            "      - {process: use, amount: 1, unit: piece}\n"
            "      - {factor: material.limestone, amount: 1, unit: t}\n",
        ),
    )
    before = tables()
    refused = cli("publish", str(model))
    assert isinstance(refused.exception, IllustrativeFactorsError)
    assert "material.limestone" in str(refused.exception)
    assert "--allow-illustrative" in str(refused.exception)
    cert = tmp_path / "limestone.jwt"
    refused = cli("certificate", "issue", str(model), "-o", str(cert))
    assert isinstance(refused.exception, IllustrativeFactorsError)
    assert not cert.exists()
    assert tables() == before

    published = json.loads(ok("publish", str(model), "--allow-illustrative", "--json").stdout)
    doc = published["document"]
    assert doc["pcf"]["pcfExcludingBiogenicUptake"] == "20088.828"
    assert doc["comment"].startswith("ILLUSTRATIVE: this PCF uses 1 illustrative emission factor")
    assert "material.limestone" in doc["comment"].splitlines()[0]
    ok("keys", "create")
    ok("certificate", "issue", str(model), "-o", str(cert), "--allow-illustrative")
    certified = json.loads(cert.with_suffix(".pact.json").read_text(encoding="utf-8"))
    assert certified == doc  # the stored document, marked
    # a verification package: its certificate needs the same choice, then carries the statement
    refused = cli("package", str(model), "-o", str(tmp_path / "refused.zip"))
    assert "--allow-illustrative" in str(refused.exception)
    assert not (tmp_path / "refused.zip").exists()
    packed = tmp_path / "limestone.zip"
    ok("package", str(model), "-o", str(packed), "--allow-illustrative")
    with zipfile.ZipFile(packed) as z:
        packed_doc = json.loads(z.read("footprint.pact.json"))
    assert packed_doc["comment"].startswith("ILLUSTRATIVE: this PCF uses 1 illustrative")
    assert "reproduced, identical result" in " ".join(ok("reproduce", str(packed)).stdout.split())


def test_illustrative_rows_outside_the_part_do_not_count(real_home: Path) -> None:
    """The limestone in the use phase is not in the cradle-to-gate document."""
    model = variant(
        real_home,
        "use_limestone.yaml",
        (
            "amount: losses_kwh, unit: kWh}\n",
            "amount: losses_kwh, unit: kWh}\n"
            "      - {factor: material.limestone, amount: 1, unit: t}\n",
        ),
    )
    published = json.loads(ok("publish", str(model), "--json").stdout)
    assert not published["document"]["comment"].startswith("ILLUSTRATIVE")
    refused = cli("publish", str(model), "--pact-boundary", "model")
    assert isinstance(refused.exception, PactBoundaryError)


# --------------------------------------------------------------------------------------------
# 3. the supplier's primary data share and DQRs


def test_supplier_primary_share_and_dqr_propagate(real_home: Path) -> None:
    """The board's stated quality reaches our document.

    The fixture: primaryDataShare "0.11" (module docstring). Its DQRs 1.5 / 1.2 / 1.4 (v3,
    1 to 5) become pedigree 2 / 2 / 2 (rounded up, ``openpcf.exchange.supplier_quality``);
    every other exchange is unscored (5). Whole life cycle, technological DQR: (26.8 × 2 +
    (139 640.828 - 26.8) × 5) / 139 640.828 = 5 - 3 × 26.8 / 139 640.828 = 4.999424.

    With 40 t of board instead of 40 kg the board weighs 26 800 in a cradle-to-gate
    pcfExcludingBiogenicUptake of 20080.828 - 26.8 + 26 800 = 46 854.028: primary data share
    0.8 × 26 800 / 46 854.028 = 45.7595 % → "45.76"; each DQR 5 - 3 × 26 800 / 46 854.028 =
    3.28403 → "3.28". Before issue 13: 100 % primary and DQR 5.
    """
    result = json.loads(ok("calc", str(real_home), "-f", "json").stdout)
    quality = result["data_quality"]
    assert quality["technological_dqr"] == pytest.approx(5 - 3 * 26.8 / 139640.828, rel=1e-12)
    assert result["primary_data_share_percent"] == pytest.approx(
        100 * 0.8 * 26.8 / 139640.828, rel=1e-12
    )
    assert result["biogenic_kg_co2e"] == pytest.approx(0.8, rel=1e-12)  # not counted as fossil

    heavy = variant(real_home, "heavy.yaml", ("amount: 40, unit: kg", "amount: 40000, unit: kg"))
    pcf = pact(str(heavy))["pcf"]
    assert pcf["pcfExcludingBiogenicUptake"] == "46854.028"
    assert Decimal(pcf["primaryDataShare"]) == Decimal("45.76")
    assert pcf["dqi"] == {
        "technologicalDQR": "3.28",
        "geographicalDQR": "3.28",
        "temporalDQR": "3.28",
    }

    # the model's own primary: false overrides the supplier's statement
    secondary = variant(
        real_home,
        "secondary.yaml",
        ("amount: 40, unit: kg", "amount: 40000, unit: kg, primary: false"),
    )
    assert pact(str(secondary))["pcf"]["primaryDataShare"] == "0"


# --------------------------------------------------------------------------------------------
# 4. dry runs and scenarios


def test_dry_run_stores_nothing(real_home: Path) -> None:
    from openpcf.audit.trail import AuditTrail
    from openpcf.settings import get_settings

    before = tables()
    shown = json.loads(ok("publish", str(real_home), "--dry-run").stdout)
    assert tables() == before
    assert {k: shown["pcf"][k] for k in CRADLE_TO_GATE} == CRADLE_TO_GATE
    last = AuditTrail(get_settings().audit_trail).records()[-1]
    assert '"dry_run": "true"' in json.dumps(last.data)  # the trail notes the dry run

    published = json.loads(ok("publish", str(real_home), "--json").stdout)
    assert published["id"] == shown["id"]
    shown.pop("created")
    assert {k: v for k, v in published["document"].items() if k != "created"} == shown
    # a dry run after that: unchanged, would store nothing
    again = json.loads(ok("publish", str(real_home), "--dry-run", "--json").stdout)
    assert (again["dry_run"], again["new"], again["id"]) == (True, False, published["id"])
    after = tables()
    assert json.loads(ok("publish", str(real_home), "--dry-run", "--json").stdout)["new"] is False
    assert tables() == after


def _with_assembly_parameter(model: Path) -> Path:
    """The fixture with the assembly's electricity as parameter ``assembly_kwh`` (4000)."""
    return variant(
        model,
        "parametrised.yaml",
        ("  losses_kwh: 200000\n", "  losses_kwh: 200000\n  assembly_kwh: 4000\n"),
        ("amount: 4000, unit: kWh", "amount: assembly_kwh, unit: kWh"),
    )


def test_param_without_a_choice_is_refused(real_home: Path) -> None:
    model = _with_assembly_parameter(real_home)
    ok("publish", str(model))
    before = tables()
    refused = cli("publish", str(model), "-p", "assembly_kwh=2000")
    assert isinstance(refused.exception, ScenarioChoiceError)
    assert "--scenario NAME" in str(refused.exception)
    assert "--replace-live" in str(refused.exception)
    both = cli(
        "publish", str(model), "-p", "assembly_kwh=2000", "--scenario", "x", "--replace-live"
    )
    assert isinstance(both.exception, ScenarioChoiceError)
    bad = cli("publish", str(model), "-p", "assembly_kwh=2000", "--scenario", "../etc")
    assert isinstance(bad.exception, ScenarioChoiceError)
    assert tables() == before


def test_scenario_never_replaces_the_live_footprint(real_home: Path) -> None:
    """Half the assembly electricity, as scenario ``half-power``: 2000 kWh × 0.5978 = 1195.6
    less fossil, pcfExcludingBiogenicUptake 20080.828 - 1195.6 = 18885.228."""
    model = _with_assembly_parameter(real_home)
    live = json.loads(ok("publish", str(model), "--json").stdout)
    with host() as http:
        before = served(http)
        out = ok("publish", str(model), "-p", "assembly_kwh=2000", "--scenario", "half-power")
        assert "never served" in out.stdout
        scenario = json.loads(
            ok(
                "publish",
                str(model),
                "-p",
                "assembly_kwh=2000",
                "--scenario",
                "half-power",
                "--json",
            ).stdout
        )
        assert scenario["new"] is False  # stored once
        assert scenario["scenario"] == "half-power"
        assert scenario["document"]["pcf"]["pcfExcludingBiogenicUptake"] == "18885.228"
        assert scenario["document"]["comment"].startswith("SCENARIO 'half-power'")
        assert served(http) == before == [live["document"]]
        assert http.get(f"/3/footprints/{scenario['id']}").status_code == 404
    counts = tables()
    assert (counts["footprint"], counts["scenario_footprint"]) == (1, 1)
    # --replace-live is the explicit way to make the what-if live
    replaced = json.loads(
        ok("publish", str(model), "-p", "assembly_kwh=2000", "--replace-live", "--json").stdout
    )
    assert replaced["deprecated"] == live["id"]


def test_concurrent_scenario_publishers_leave_the_live_footprint(real_home: Path) -> None:
    """Two ``openpcf publish --scenario`` processes and one unchanged live republish, at once:
    the served footprint is the same document before and after; both scenarios are stored."""
    model = _with_assembly_parameter(real_home)
    live = json.loads(ok("publish", str(model), "--json").stdout)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    commands = [
        ["publish", str(model), "-p", "assembly_kwh=1000", "--scenario", "quarter", "--json"],
        [
            "publish",
            str(model),
            "-p",
            "assembly_kwh=3000",
            "--scenario",
            "three-quarters",
            "--json",
        ],
        ["publish", str(model), "--json"],
    ]
    runs = [
        subprocess.Popen(
            [sys.executable, "-m", "openpcf", *args],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for args in commands
    ]
    outputs = [(*run.communicate(timeout=600), run.returncode) for run in runs]
    for _out, err, rc in outputs:
        assert rc == 0, err
    results = [json.loads(out) for out, _, _ in outputs]
    assert [r["scenario"] for r in results] == ["quarter", "three-quarters", None]
    assert results[2]["new"] is False
    assert results[2]["id"] == live["id"]
    counts = tables()
    assert (counts["footprint"], counts["scenario_footprint"]) == (1, 2)
    with host() as http:
        assert served(http) == [live["document"]]


# --------------------------------------------------------------------------------------------
# 5. the PACT data-model check of received footprints ships inside the package

CHECK = textwrap.dedent(
    """
    import json, sys
    from pathlib import Path

    shared = str(Path(sys.argv[1]).resolve())
    touched = []

    def audit(event, args):
        if event in ("open", "os.listdir", "os.scandir") and args and isinstance(
            args[0], (str, bytes, Path)
        ):
            path = args[0].decode() if isinstance(args[0], bytes) else str(args[0])
            if path.startswith(shared) or "openapi" in path.lower():
                touched.append(path)
                raise PermissionError(path)

    sys.addaudithook(audit)
    from openpcf.db import migrate
    from openpcf.db.engine import make_engine
    from openpcf.services.suppliers import import_footprints

    url = "sqlite:///" + str(Path("db.sqlite").resolve())
    migrate.upgrade(url)
    engine = make_engine(url)
    report = import_footprints(engine, Path(sys.argv[2]), organisation="Buyer")
    engine.dispose()
    print(json.dumps({"invalid": report.invalid, "stored": len(report.stored),
                      "touched": touched, "path": sys.path}))
    """
)


def test_supplier_footprints_are_validated_without_shared(tmp_path: Path) -> None:
    """In a fresh interpreter, outside the repository, with every read under ``../shared``
    (and of any OpenAPI file) refused: a valid footprint is stored, an invalid one is refused
    by OpenPCF's own validator (``openpcf.exchange.footprint_schema``)."""
    good = json.loads(BOARD.read_text(encoding="utf-8"))
    bad = {**good, "id": "7a0c3c4e-2f4d-4b8e-9d5a-1c2b3d4e5f61"}
    bad["pcf"] = {**good["pcf"], "fossilGhgEmissions": "-1"}
    documents = tmp_path / "received.json"
    documents.write_text(json.dumps({"data": [good, bad]}), encoding="utf-8")
    script = tmp_path / "check.py"
    script.write_text(CHECK, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "OPENPCF_DATABASE_URL")}
    run = subprocess.run(
        [sys.executable, str(script), str(ROOT.parent / "shared"), str(documents)],
        cwd=tmp_path,
        env={**env, "OPENPCF_HOME": str(tmp_path / "home")},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    out = json.loads(run.stdout)
    assert out["touched"] == []
    assert not any(str(ROOT / "tests") == p or p in ("", ".") for p in out["path"])
    assert out["stored"] == 1
    assert list(out["invalid"]) == [bad["id"]]
    assert any("fossilGhgEmissions" in problem for problem in out["invalid"][bad["id"]])
