"""Importer view: the 50-tonne threshold, electricity/hydrogen always in scope, bad CSV rows;
gross and net certificates (free-allocation adjustment), unknown years, missing benchmarks."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import replace
from importlib import resources
from pathlib import Path

import pytest

from fixtures.in_process import openpcf as openpcf_in_process
from openpcf.cbam import Factor, ImportLine, assess_imports, cbam_factor, cscf, read_imports_csv
from openpcf.cbam.defaults import sources
from openpcf.cbam.errors import (
    CbamError,
    MissingBenchmarkError,
    NoDefaultValueError,
    UnknownYearError,
)


def test_below_50_tonnes_is_exempt_but_hydrogen_is_not() -> None:
    """30 t steel + 15 t cement = 45 t <= 50 t: exempt. 2 t hydrogen is never exempt:
    2 x 26.64 x 1.1 = 58.608 certificates in 2026."""
    lines = [
        ImportLine(cn="7208 39 00", country="CN", quantity=30),
        ImportLine(cn="2523 29 00", country="CN", quantity=15),
        ImportLine(cn="2804 10 00", country="CN", quantity=2),
    ]
    a = assess_imports(lines, price_eur=80, year=2026)
    assert a.threshold_mass_t == 45
    assert a.de_minimis_exempt
    assert [r.in_scope for r in a.lines] == [False, False, True]
    assert a.certificates == pytest.approx(2 * 26.64 * 1.1, rel=1e-12)
    assert a.cost_eur == pytest.approx(2 * 26.64 * 1.1 * 80, rel=1e-12)


def test_above_50_tonnes_everything_counts() -> None:
    lines = [
        ImportLine(cn="7208 39 00", country="CN", quantity=40),
        ImportLine(cn="2523 29 00", country="CN", quantity=15),
    ]
    a = assess_imports(lines, price_eur=80, year=2028)
    assert not a.de_minimis_exempt
    expected = 40 * 3.187 * 1.3 + 15 * 1.42 * 1.3
    assert a.certificates == pytest.approx(expected, rel=1e-12)


def test_electricity_needs_actual_data() -> None:
    with pytest.raises(NoDefaultValueError):
        assess_imports(
            [ImportLine(cn="2716 00 00", country="CN", quantity=10)], price_eur=80, year=2026
        )
    a = assess_imports(
        [ImportLine(cn="2716 00 00", country="CN", quantity=10, see_direct=0.6)],
        price_eur=80,
        year=2026,
    )
    assert a.certificates == pytest.approx(6.0)
    assert a.lines[0].unit == "MWh"


def test_bad_rows_name_the_line(tmp_path: Path) -> None:
    path = tmp_path / "imports.csv"
    path.write_text("cn,country,tonnes\n7208 39 00,CN,10\n7208 39 00,CN,ten\n", encoding="utf-8")
    with pytest.raises(CbamError, match=r"imports\.csv:3: tonnes 'ten' is not a number"):
        read_imports_csv(path)
    path.write_text("cn,country,tonnes\n3901 10 10,CN,10\n", encoding="utf-8")
    with pytest.raises(CbamError, match=r"imports\.csv:2: .*not a CBAM good"):
        assess_imports(read_imports_csv(path), price_eur=1, year=2026)
    path.write_text("cn,origin,tonnes\n", encoding="utf-8")
    with pytest.raises(CbamError, match="missing column"):
        read_imports_csv(path)


# -- net of the free-allocation adjustment (Regulation (EU) 2023/956 Art. 31) ----------------

HRC_BENCHMARK = 1.370  # IR (EU) 2025/2620 Annex 5.3, Column B, CN 7208, (C) carbon steel BF/BOF
HRC_SOURCE = "IR (EU) 2025/2620 Annex point 5.3, Column B, CN 7208 (C) BF/BOF, 2026-27"


def test_net_of_free_allocation_by_hand() -> None:
    """1 000 t of hot-rolled coil (CN 7208 39 00) from China in 2026, no actual data.

    Embedded emissions E: China default 3.187 t CO2e/t (IR 2025/2621 Annex I) x 1.10 (2026
    mark-up) = 3.5057 t CO2e/t -> gross certificates = 1 000 x 3.5057 = 3 505.7.
    Benchmark B (default values, so Column B of IR 2025/2620 Annex point 5.3, carbon steel
    BF/BOF, the route the default-value table gives China) = 1.370 t CO2e/t.
    CBAM factor 2026 = 97.5 % (Directive 2003/87/EC Art. 10a(1a)); CSCF 2026 = 1.
    SEFA = 0.975 x 1 x 1.370 = 1.33575 t CO2e/t; FAA = 1 000 x 1.33575 = 1 335.75 t CO2e.
    Net certificates = 3 505.7 - 1 335.75 = 2 169.95; at EUR 75.36: gross EUR 264 189.552,
    net EUR 163 527.432."""
    line = ImportLine(
        cn="7208 39 00",
        country="CN",
        quantity=1000,
        benchmark=HRC_BENCHMARK,
        benchmark_source=HRC_SOURCE,
    )
    a = assess_imports([line], price_eur=75.36, year=2026)
    assert a.certificates == pytest.approx(3505.7, rel=1e-12)
    assert a.adjustment is not None
    assert (a.adjustment.cbam_factor.value, a.adjustment.cscf.value) == (0.975, 1.0)
    assert a.lines[0].sefa == pytest.approx(1.33575, rel=1e-12)
    assert a.free_allocation_t == pytest.approx(1335.75, rel=1e-12)
    assert a.certificates_net == pytest.approx(2169.95, rel=1e-12)
    assert a.cost_eur == pytest.approx(264189.552, rel=1e-12)
    assert a.cost_net_eur == pytest.approx(163527.432, rel=1e-12)
    data = a.as_json()
    assert data["certificates"] == pytest.approx(3505.7)
    assert data["certificates_net"] == pytest.approx(2169.95)
    assert "10a(1a)" in str(data["cbam_factor_source"])
    assert "2026/1862" in str(data["cscf_source"])
    assert "2025/2620" in str(data["net_method"])
    assert data["lines"][0]["benchmark_source"] == HRC_SOURCE


def test_cbam_factor_schedule_and_sources() -> None:
    """Directive 2003/87/EC Art. 10a(1a): 97.5 % 2026 ... 14 % 2033; from 2034 none (0)."""
    schedule = {2026: 0.975, 2027: 0.95, 2028: 0.90, 2029: 0.775, 2030: 0.515,
                2031: 0.39, 2032: 0.265, 2033: 0.14, 2034: 0.0, 2040: 0.0}  # fmt: skip
    assert {y: cbam_factor(y).value for y in schedule} == schedule
    cited = sources()
    text = resources.files("openpcf.cbam").joinpath("data/free_allocation.csv").read_text("utf-8")
    for row in csv.DictReader(io.StringIO(text)):
        assert row["cbam_factor_source"] in cited, row
        assert not row["cscf"] or row["cscf_source"] in cited, row
    assert [cscf(y).value for y in range(2026, 2031)] == [1.0] * 5
    assert cscf(2031) is None


def test_net_lines_electricity_exempt_and_floor() -> None:
    """Electricity: no adjustment (IR 2025/2620 Art. 1(2)). A benchmark above the SEE gives 0
    net certificates, never a negative number. 2034: factor 0, net = gross."""
    lines = [
        ImportLine(cn="2716 00 00", country="CN", quantity=10, see_direct=0.6),
        ImportLine(cn="2523 29 00", country="CN", quantity=100, see_direct=0.5, see_indirect=0.0,
                   benchmark=0.7, benchmark_source="test value"),
    ]  # fmt: skip
    a = assess_imports(lines, price_eur=80, year=2026)
    assert [r.free_allocation_t for r in a.lines] == [0.0, pytest.approx(100 * 0.975 * 0.7)]
    assert [r.certificates_net for r in a.lines] == [pytest.approx(6.0), 0.0]
    assert a.certificates_net == pytest.approx(6.0)
    later = assess_imports(lines, price_eur=80, year=2034)
    assert later.free_allocation_t == 0
    assert later.certificates_net == pytest.approx(later.certificates)


def test_exempt_lines_need_no_benchmark() -> None:
    lines = [
        ImportLine(cn="7208 39 00", country="CN", quantity=20),
        ImportLine(cn="2804 10 00", country="CN", quantity=1, benchmark=5.089,
                   benchmark_source="IR 2025/2620 Annex 5.3 Column B, 2804 10 00"),
    ]  # fmt: skip
    a = assess_imports(lines, price_eur=80, year=2026)
    assert a.de_minimis_exempt
    assert a.certificates_net == pytest.approx(max(0.0, 26.64 * 1.1 - 0.975 * 5.089))


def test_unknown_year() -> None:
    line = ImportLine(cn="7208 39 00", country="CN", quantity=100, see_direct=1.9)
    with pytest.raises(UnknownYearError, match=r"year 2025: .*from 2026"):
        assess_imports([line], price_eur=80, year=2025)
    priced = replace(line, benchmark=1.37, benchmark_source="x")
    with pytest.raises(UnknownYearError, match=r"2031: the cross-sectoral correction factor"):
        assess_imports([priced], price_eur=80, year=2031)
    given = Factor(0.9, "a published decision")
    a = assess_imports([priced], price_eur=80, year=2031, cscf=given)
    assert a.free_allocation_t == pytest.approx(100 * 0.39 * 0.9 * 1.37)


def test_missing_benchmark_names_the_lines(tmp_path: Path) -> None:
    path = tmp_path / "imports.csv"
    path.write_text(
        "cn,country,tonnes,benchmark,benchmark_source\n"
        "7208 39 00,CN,100,1.37,IR 2025/2620\n"
        "7601 10 90,CN,100,,\n",
        encoding="utf-8",
    )
    with pytest.raises(MissingBenchmarkError, match=r"imports\.csv:3: benchmark is empty"):
        assess_imports(read_imports_csv(path), price_eur=80, year=2026)
    path.write_text("cn,country,tonnes,benchmark\n7208 39 00,CN,100,1.37\n", encoding="utf-8")
    with pytest.raises(MissingBenchmarkError, match=r"imports\.csv:2: benchmark_source is empty"):
        assess_imports(read_imports_csv(path), price_eur=80, year=2026)
    path.write_text("cn,country,tonnes,see_direct,benchmark,benchmark_source\n"
                    "2716 00 00,CN,10,0.6,0.1,x\n", encoding="utf-8")  # fmt: skip
    with pytest.raises(CbamError, match=r"electricity has no free-allocation adjustment"):
        assess_imports(read_imports_csv(path), price_eur=80, year=2026)


def test_cli_net_and_bad_input_without_traceback(tmp_path: Path) -> None:
    path = tmp_path / "imports.csv"
    path.write_text(
        "cn,country,tonnes,benchmark,benchmark_source\n"
        f'7208 39 00,CN,1000,{HRC_BENCHMARK},"{HRC_SOURCE}"\n',
        encoding="utf-8",
    )
    out = openpcf_in_process("cbam", "imports", str(path), "--price", "75.36", "-f", "json")
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["certificates_net"] == pytest.approx(2169.95)
    out = openpcf_in_process("cbam", "imports", str(path), "--price", "75.36")
    assert out.returncode == 0, out.stderr
    assert "net certificates" in out.stdout
    for args, message in (
        (["--year", "2025"], "from 2026"),
        (["--year", "2032"], "--cscf VALUE --cscf-source"),
        (["--year", "2032", "--cscf", "0.9"], "--cscf and --cscf-source go together"),
    ):
        out = openpcf_in_process("cbam", "imports", str(path), "--price", "75", *args)
        assert out.returncode == 2, (args, out.stdout)
        assert message in out.stderr
        assert "Traceback" not in out.stderr
    path.write_text("cn,country,tonnes,benchmark\n7208 39 00,CN,1000,\n", encoding="utf-8")
    out = openpcf_in_process("cbam", "imports", str(path), "--price", "75")
    assert out.returncode == 0  # a benchmark column without values: gross view only
    assert "give each line's CBAM benchmark" in out.stdout
