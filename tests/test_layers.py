"""Configuration is read at the edges only (ARCHITECTURE.md, "ground" layer).

import-linter (``make lint``) keeps the domain and core from importing ``openpcf.settings`` at
all; services may name the :class:`~openpcf.settings.Settings` type they are handed, but only
the edges (CLI, API, demo) and the storage engine may call ``get_settings()``.
"""

from __future__ import annotations

from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src" / "openpcf"
EDGES = ("cli/", "api/", "demo.py", "settings.py", "db/engine.py")


def test_only_the_edges_read_the_settings() -> None:
    readers = sorted(
        str(path.relative_to(SRC))
        for path in SRC.rglob("*.py")
        if "get_settings(" in path.read_text(encoding="utf-8")
    )
    assert readers, "get_settings() should be read somewhere"
    assert [r for r in readers if not r.startswith(EDGES)] == []


def test_one_declared_unit_vocabulary() -> None:
    """Model files, unit conversion and PACT exports name the same declared units."""
    from typing import get_args

    from openpcf.core.units import PACT_UNITS, DeclaredUnit
    from openpcf.exchange.vocabulary import V2_UNITS, V3_UNITS

    assert tuple(PACT_UNITS) == get_args(DeclaredUnit)
    assert set(V2_UNITS) | {"piece"} == set(PACT_UNITS)
    assert set(PACT_UNITS) < set(V3_UNITS)
