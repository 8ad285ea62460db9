"""Importers keep the uncertainty their sources carry, in stats_arrays fields (issue 17).

Each test copies a small fixture into ``tmp_path``, adds uncertainty to a few exchanges of the
copy (the shared fixtures' numbers are unchanged), imports it and checks the stored parameter
arrays (``uncertainty.npz``, :mod:`openpcf.io.uncertainty`) against values worked out by hand:

- lognormal: ``loc = ln |matrix entry|``, ``scale = σ`` of the underlying normal, ``negative``
  for an input (``A`` entries of inputs are negative);
- normal: ``loc`` and ``scale`` times the entry's factor (unit conversion x sign x share);
- uniform, triangular: ``minimum``, ``loc`` (mode), ``maximum`` times that factor.
"""

from __future__ import annotations

import gzip
import json
import math
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from openpcf.core.uncertainty import Distribution, lognormal, normal, triangular, uniform
from openpcf.io.inventory import Exchange, Flow, Inventory, Process
from openpcf.io.linking import link
from openpcf.io.store import DatabaseDamagedError, DatabaseStore, StoredVersion
from openpcf.io.uncertainty import checked
from openpcf.services import databases as svc

FIXTURES = Path(__file__).parent / "fixtures"
DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
USLCI = DATA / "uslci-olca1.5-json-ld-9182448.zip"
RTOL = 1e-12


def _entry(stored: StoredVersion, matrix: str, row: str, col: str) -> Any:
    """The parameter record of entry (row, col) of ``A`` (row: a column id) or ``B``
    (row: a gas id); it must be a stored entry."""
    ids = [c.id for c in stored.columns()]
    rows = ids if matrix == "A" else list(stored.meta["gases"])
    params = stored.uncertainty()
    assert params is not None
    table = params.A if matrix == "A" else params.B
    hits = table[(table["row"] == rows.index(row)) & (table["col"] == ids.index(col))]
    assert len(hits) == 1
    return hits[0]


def _column(stored: StoredVersion, product_id: str) -> str:
    """The id of the (first) column making ``product_id``."""
    return next(c.id for c in stored.columns() if c.product_id == product_id)


def _check(record: Any, kind: int, **fields: float | bool) -> None:
    assert int(record["uncertainty_type"]) == kind
    for name, expected in fields.items():
        if isinstance(expected, bool):
            assert bool(record[name]) is expected, name
        else:
            np.testing.assert_allclose(record[name], expected, rtol=RTOL, err_msg=name)


def _import(fmt: str, path: Path, tmp_path: Path) -> StoredVersion:
    store = DatabaseStore(tmp_path / "databases")
    result = svc.import_database(fmt, path, name="copy", store=store)
    return store.get(f"{result.name}@{result.version}")


# --- JSON-LD ------------------------------------------------------------------------------

E = "ee000000-0000-4000-8000-0000000000"  # process ids of jsonld_small, + "01".."06"


def _jsonld_copy(tmp_path: Path) -> Path:
    root = tmp_path / "jsonld"
    shutil.copytree(FIXTURES / "jsonld_small", root)

    def add(process: str, index: int, uncertainty: dict[str, Any]) -> None:
        path = root / "processes" / f"{E}{process}.json"
        data = json.loads(path.read_text("utf-8"))
        data["exchanges"][index]["uncertainty"] = {"@type": "Uncertainty", **uncertainty}
        path.write_text(json.dumps(data), encoding="utf-8")

    ln, normal = "LOG_NORMAL_DISTRIBUTION", "NORMAL_DISTRIBUTION"
    add("06", 1, {"distributionType": ln, "geomMean": 2.0, "geomSd": 1.2})  # steel, 2 kg in
    add("01", 0, {"distributionType": ln, "geomMean": 1.0, "geomSd": 1.1})  # 1 kWh out
    add("01", 1, {"distributionType": normal, "mean": 0.36, "sd": 0.03})  # CO2 0.36 kg
    add("02", 1, {"distributionType": "UNIFORM_DISTRIBUTION", "minimum": 150, "maximum": 250})
    add(
        "03",
        3,
        {"distributionType": "TRIANGLE_DISTRIBUTION", "minimum": 1.5, "mode": 2, "maximum": 3},
    )
    # impossible: a mode outside the range, a geometric standard deviation below 1
    add(
        "04",
        1,
        {"distributionType": "TRIANGLE_DISTRIBUTION", "minimum": 0.1, "mode": 0.5, "maximum": 0.3},
    )
    add("05", 0, {"distributionType": ln, "geomMean": 1.0, "geomSd": 0.5})
    return root


def test_jsonld_uncertainty_is_converted_like_the_amount(tmp_path: Path) -> None:
    """jsonld_small, hand-worked:

    - widget (06) takes 2 kg steel from steel production (03), geomMean 2, geomSd 1.2:
      ``A[03, 06] = -2`` -> type 2, loc = ln 2, scale = ln 1.2, negative;
    - US grid (01) makes 1 kWh = 3.6 MJ (the flow's unit), geomSd 1.1:
      ``A[01, 01] = 3.6`` -> loc = ln 3.6, scale = ln 1.1, not negative;
    - US grid emits 0.36 kg CO2, normal sd 0.03 -> ``B[CO2, 01]`` loc 0.36, scale 0.03;
    - CN grid (02) emits 200 g CO2, uniform [150, 250] g -> x 0.001: [0.15, 0.25] kg;
    - steel production (03) emits 2 kg CO2, triangular (1.5, 2, 3), allocated 0.75 / 0.25
      (physical) to steel (column 03) and scrap (column 03#scrap):
      (1.125, 1.5, 2.25) and (0.375, 0.5, 0.75);
    - slag treatment (04): mode 0.5 outside [0.1, 0.3], and wood drying (05): geomSd 0.5:
      both reported, dropped; ``B[CO2, 04]`` keeps its amount 0.2 as an undefined (type 0).
    """
    stored = _import("jsonld", _jsonld_copy(tmp_path), tmp_path)
    steel, scrap = f"{E}03", f"{E}03#dd000000-0000-4000-8000-000000000003"
    _check(
        _entry(stored, "A", steel, f"{E}06"),
        2,
        loc=math.log(2.0),
        scale=math.log(1.2),
        negative=True,
    )
    _check(
        _entry(stored, "A", f"{E}01", f"{E}01"),
        2,
        loc=math.log(3.6),
        scale=math.log(1.1),
        negative=False,
    )
    _check(_entry(stored, "B", "CO2-fossil", f"{E}01"), 3, loc=0.36, scale=0.03)
    _check(_entry(stored, "B", "CO2-fossil", f"{E}02"), 4, minimum=0.15, maximum=0.25)
    _check(_entry(stored, "B", "CO2-fossil", steel), 5, minimum=1.125, loc=1.5, maximum=2.25)
    _check(_entry(stored, "B", "CO2-fossil", scrap), 5, minimum=0.375, loc=0.5, maximum=0.75)
    _check(_entry(stored, "B", "CO2-fossil", f"{E}04"), 0, loc=0.2)
    unused = _entry(stored, "B", "CO2-fossil", f"{E}01")
    assert all(math.isnan(float(unused[f])) for f in ("shape", "minimum", "maximum"))

    report = stored.report()["uncertainty"]
    assert report["exchanges"]["lognormal"] == 2
    assert report["exchanges"]["normal"] == 1
    assert report["exchanges"]["uniform"] == 1
    assert report["exchanges"]["triangular"] == 1
    assert report["dropped"]["count"] == 2
    where = " ".join(report["dropped"]["examples"])
    assert (
        f"processes/{E}04.json exchange 2: triangular mode 0.5 is outside the range [0.1, 0.3]"
        in where
    )
    assert (
        f"processes/{E}05.json exchange 1: lognormal geomSd 0.5 is not a number of at least 1"
        in where
    )
    # 2 + 1 lognormal/normal/uniform in A and B, triangular in two allocated columns
    assert report["technosphere_entries"] == 2
    assert report["intervention_entries"] == 4
    assert "bad-uncertainty" not in stored.report()["problems"]


def test_db_show_names_the_distribution(tmp_path: Path) -> None:
    """The stored exchange of widget <- steel says its distribution (as written, GSD 1.2)."""
    stored = _import("jsonld", _jsonld_copy(tmp_path), tmp_path)
    links = stored.links(f"{E}06")
    steel = next(x for x in links if x.flow_id.endswith("02"))
    assert steel.distribution == "lognormal GSD=1.2"
    assert all(x.distribution == "" for x in links if x is not steel)


def test_older_version_without_the_file_still_opens(tmp_path: Path) -> None:
    """A version stored before uncertainty existed: no uncertainty.npz and no distribution
    column in exchanges.csv.gz; it opens, solves and has no uncertainty."""
    stored = _import("jsonld", _jsonld_copy(tmp_path), tmp_path)
    (stored.path / "uncertainty.npz").unlink()
    links = stored.path / "exchanges.csv.gz"
    with gzip.open(links, "rt", encoding="utf-8") as fh:
        lines = [",".join(line.rstrip("\n").split(",")[:-1]) for line in fh]
    with gzip.open(links, "wt", encoding="utf-8") as fh:
        fh.write("\n".join(lines) + "\n")
    assert stored.uncertainty() is None
    assert stored.system().size == 7
    assert {x.distribution for x in stored.links()} == {""}


def test_damaged_uncertainty_file_is_a_clear_error(tmp_path: Path) -> None:
    stored = _import("jsonld", _jsonld_copy(tmp_path), tmp_path)
    (stored.path / "uncertainty.npz").write_bytes(b"not a zip")
    with pytest.raises(DatabaseDamagedError, match=r"uncertainty\.npz"):
        stored.uncertainty()


def test_no_uncertainty_no_file(tmp_path: Path) -> None:
    """The shared fixture carries none: nothing is written, the report counts none."""
    stored = _import("jsonld", FIXTURES / "jsonld_small", tmp_path)
    assert stored.uncertainty() is None
    assert not (stored.path / "uncertainty.npz").exists()
    assert set(stored.report()["uncertainty"]["exchanges"]) == {"none"}


# --- ecospold2 ----------------------------------------------------------------------------


def test_ecospold2_keeps_the_pedigree_variance(tmp_path: Path) -> None:
    """ecospold2_small's widget (a3) takes 0.2 kg steel from a1 and 3 kWh from a2 (columns
    found by product).

    - steel, rewritten as 200 g (the same amount), lognormal variance 0.01 and
      varianceWithPedigreeUncertainty 0.04: σ = √0.04 = 0.2 (the pedigree one);
      ``A[a1, a3] = -0.2`` kg -> loc = ln 0.2, scale 0.2, negative;
    - electricity, normal meanValue 3, variance 0.09, with pedigree 0.25: ``A[a2, a3] = -3``
      -> loc = -3, scale = √0.25 = 0.5;
    - scrap, uniform [5, 1]: minimum above maximum, reported and dropped.
    """
    root = tmp_path / "ecospold2"
    shutil.copytree(FIXTURES / "ecospold2_small", root)
    path = root / "datasets" / "a3000000-0000-4000-8000-000000000003.spold"
    text = path.read_text("utf-8")
    steel = 'intermediateExchangeId="5e000000-0000-4000-8000-000000000001" amount="0.2"'
    assert steel in text
    text = text.replace(steel, steel.replace('"0.2"', '"200"'))
    text = text.replace(
        '<name xml:lang="en">steel</name>\n        <unitName xml:lang="en">kg</unitName>',
        '<name xml:lang="en">steel</name>\n        <unitName xml:lang="en">g</unitName>'
        '<uncertainty><lognormal meanValue="200" mu="5.3" variance="0.01" '
        'varianceWithPedigreeUncertainty="0.04"/></uncertainty>',
    )
    text = text.replace(
        '<unitName xml:lang="en">kWh</unitName>',
        '<unitName xml:lang="en">kWh</unitName><uncertainty><normal meanValue="3" '
        'variance="0.09" varianceWithPedigreeUncertainty="0.25"/></uncertainty>',
    )
    text = text.replace(
        '<name xml:lang="en">scrap steel</name>',
        '<name xml:lang="en">scrap steel</name><uncertainty><uniform minValue="5" '
        'maxValue="1"/></uncertainty>',
    )
    path.write_text(text, encoding="utf-8")
    stored = _import("ecospold2", root, tmp_path)
    steel, power, widget = (
        _column(stored, f"5e000000-0000-4000-8000-00000000000{i}") for i in (1, 3, 4)
    )
    _check(_entry(stored, "A", steel, widget), 2, loc=math.log(0.2), scale=0.2, negative=True)
    _check(_entry(stored, "A", power, widget), 3, loc=-3.0, scale=0.5)
    report = stored.report()["uncertainty"]
    assert report["dropped"]["count"] == 1
    assert "uniform needs min < max (got min 5, max 1)" in report["dropped"]["examples"][0]


# --- ILCD ---------------------------------------------------------------------------------


def test_ilcd_relative_standard_deviation(tmp_path: Path) -> None:
    """ilcd_small's widget assembly (process 3), as the ILCD format documents the field:

    - reference output 1 widget, normal, relativeStandardDeviation95In 10 (%, = 2 SD):
      SD = 0.10 x 1 / 2 = 0.05 -> ``A[3, 3]`` loc 1, scale 0.05;
    - steel input 0.2, log-normal, SDg² = 1.44 -> SDg = 1.2, σ = ln 1.2:
      ``A[steel, 3] = -0.2`` -> loc ln 0.2, scale ln 1.2, negative;
    - consulting 3, triangular [4, 5]: the mode (the amount, 3) is outside, dropped.
    """
    root = tmp_path / "ilcd"
    shutil.copytree(FIXTURES / "ilcd_small", root)
    path = root / "ILCD" / "processes" / "11111111-0000-4000-8000-000000000003.xml"
    text = path.read_text("utf-8")

    def after(amount: str, xml: str, nth: int) -> str:
        parts = text.split(f"<resultingAmount>{amount}</resultingAmount>")
        assert len(parts) > nth
        marker = f"<resultingAmount>{amount}</resultingAmount>"
        return marker.join(parts[:nth]) + marker + xml + marker.join(parts[nth:])

    text = after(
        "1",
        "<uncertaintyDistributionType>normal</uncertaintyDistributionType>"
        "<relativeStandardDeviation95In>10</relativeStandardDeviation95In>",
        1,
    )
    text = after(
        "0.2",
        "<uncertaintyDistributionType>log-normal</uncertaintyDistributionType>"
        "<relativeStandardDeviation95In>1.44</relativeStandardDeviation95In>",
        1,
    )
    text = after(
        "3",
        "<minimumAmount>4</minimumAmount><maximumAmount>5</maximumAmount>"
        "<uncertaintyDistributionType>triangular</uncertaintyDistributionType>",
        1,
    )
    path.write_text(text, encoding="utf-8")
    stored = _import("ilcd", root, tmp_path)
    widget = "11111111-0000-4000-8000-000000000003"
    _check(_entry(stored, "A", widget, widget), 3, loc=1.0, scale=0.05)
    steel = _column(stored, "cccccccc-0000-4000-8000-000000000001")
    _check(
        _entry(stored, "A", steel, widget),
        2,
        loc=math.log(0.2),
        scale=math.log(1.2),
        negative=True,
    )
    report = stored.report()["uncertainty"]
    assert report["exchanges"]["normal"] == 1
    assert report["exchanges"]["lognormal"] == 1
    assert report["dropped"]["count"] == 1
    assert (
        "exchange 2: triangular mode 3 is outside the range [4, 5]"
        in report["dropped"]["examples"][0]
    )


# --- real data ----------------------------------------------------------------------------


@pytest.mark.realdata
def test_uslci_uncertainty_counts(tmp_path: Path) -> None:
    """USLCI (openLCA 1.5 JSON-LD): how many exchanges carry a distribution.

    Counted with this importer (2026-12): 358 triangular, 18 uniform, 12 lognormal and 307
    lognormal with geomSd 1 (σ = 0: type 1, no uncertainty); 4,811 lognormal with geomSd 0
    (openLCA's empty value) and 27 triangular with the mode outside the range are impossible,
    and 6 uniform distributions are far from their amounts (e.g. [-9.68, 0] around -1.07e-6):
    all reported and dropped.
    """
    if not USLCI.exists():
        pytest.skip(f"{USLCI} is not there")
    report = _import("jsonld", USLCI, tmp_path).report()["uncertainty"]
    exchanges = report["exchanges"]
    assert {k: v for k, v in exchanges.items() if k != "none"} == {
        "lognormal": 12,
        "no uncertainty": 307,
        "triangular": 358,
        "uniform": 18,
    }
    assert report["dropped"]["count"] == 4811 + 27 + 6


# --- distributions that do not describe their amount ----------------------------------------


def test_a_distribution_far_from_its_amount_is_dropped() -> None:
    """USLCI's uniform [-9.68, 0] around -1.07e-6 has mean -4.84, 4.5 million times the
    amount: dropped with the reason. A uniform [0.5, 1.5] around 1 (mean 1), a triangular
    (1, 2, 12) around 2 (mean 5, 2.5 times) and a lognormal (its median is the amount) are
    kept; a normal whose mean has the other sign is dropped."""
    from openpcf.io.uncertainty import checked

    far = checked(uniform, -9.68, 0.0, amount=-1.07e-6)
    assert isinstance(far, str)
    assert "mean -4.84 is far from the amount -1.07e-06" in far
    assert isinstance(checked(uniform, 0.5, 1.5, amount=1.0), Distribution)
    assert isinstance(checked(triangular, 1.0, 2.0, 12.0, amount=2.0), Distribution)
    assert isinstance(checked(lognormal, 1e-6, 3.0, amount=1e-6), Distribution)
    assert isinstance(checked(normal, -1.0, 0.1, amount=1.0), str)


# --- the conversion itself --------------------------------------------------------------------


def test_scaling_by_a_negative_factor() -> None:
    """c = -0.5: lognormal(amount 2, σ 0.3) -> loc ln 2 + ln 0.5 = 0, σ 0.3, negative;
    normal(4, 1) -> (-2, 0.5); uniform [1, 3] -> [-1.5, -0.5]; triangular (1, 2, 3) ->
    (-1.5, -1, -0.5); c = 0 leaves no distribution."""
    log = lognormal(2.0, 0.3)
    assert isinstance(log, Distribution)
    scaled = log.scaled(-0.5)
    assert scaled is not None
    assert (scaled.loc, scaled.scale, scaled.negative) == (0.0, 0.3, True)
    norm = normal(4.0, 1.0)
    assert isinstance(norm, Distribution)
    assert norm.scaled(-0.5) == Distribution(uncertainty_type=3, loc=-2.0, scale=0.5)
    uni = uniform(1.0, 3.0)
    assert isinstance(uni, Distribution)
    got = uni.scaled(-0.5)
    assert got is not None
    assert (got.minimum, got.maximum) == (-1.5, -0.5)
    tri = triangular(1.0, 2.0, 3.0)
    assert isinstance(tri, Distribution)
    got = tri.scaled(-0.5)
    assert got is not None
    assert (got.minimum, got.loc, got.maximum) == (-1.5, -1.0, -0.5)
    assert tri.scaled(0.0) is None
    # impossible parameters: the reason, for the import report; a zero amount has no spread
    assert checked(normal, 1.0, -0.1) == "normal sd -0.1 must be a finite number >= 0"
    assert checked(lognormal, 0.0, 0.1) == Distribution(uncertainty_type=1, loc=0.0)


def test_an_entry_summed_from_two_exchanges_has_no_distribution() -> None:
    """Q takes p twice (1 and 2 kg, each lognormal): ``A[P, Q] = -3`` is a sum, stored as
    type 0 with loc -3 and counted as merged; ``A[P, P] = 1`` (no distribution) is type 0."""
    p = Flow(id="p", name="p", kind="product", unit="kg")
    q = Flow(id="q", name="q", kind="product", unit="kg")
    dist = lognormal(1.0, 0.1)
    assert isinstance(dist, Distribution)
    reference = Exchange(flow="q", amount=1.0, is_input=False, is_reference=True)
    inputs = tuple(
        Exchange(flow="p", amount=x, is_input=True, uncertainty=dist.scaled(x)) for x in (1.0, 2.0)
    )
    inv = Inventory(
        format="jsonld",
        name="t",
        flows={"p": p, "q": q},
        processes=(
            Process(
                id="P",
                name="P",
                exchanges=(Exchange(flow="p", amount=1.0, is_input=False, is_reference=True),),
            ),
            Process(
                id="Q",
                name="Q",
                exchanges=(reference, *inputs),
            ),
        ),
    )
    linked = link(inv)
    assert linked.uncertainty is not None
    assert linked.uncertainty_merged == 1
    table = linked.uncertainty.A
    assert list(
        zip(table["row"], table["col"], table["uncertainty_type"], table["loc"], strict=True)
    ) == [
        (0, 0, 0, 1.0),
        (0, 1, 0, -3.0),
        (1, 1, 0, 1.0),
    ]
