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
