"""Importer view: the 50-tonne threshold, electricity/hydrogen always in scope, bad CSV rows."""

from __future__ import annotations

from pathlib import Path

import pytest

from openpcf.cbam import ImportLine, assess_imports, read_imports_csv
from openpcf.cbam.errors import CbamError, NoDefaultValueError


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
