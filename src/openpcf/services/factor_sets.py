"""Which factors a calculation may use: the bundled set, the user's, and any given."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from openpcf.factors import FactorSet, bundled_factor_set, load_factor_set
from openpcf.settings import get_settings


def user_factor_files() -> list[Path]:
    """Factor sets the user keeps in ``$OPENPCF_HOME/factors`` (CSV or YAML)."""
    folder = get_settings().factor_dir
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.suffix.lower() in {".csv", ".yaml", ".yml"})


def active_factor_set(extra: Sequence[Path] = ()) -> FactorSet:
    """Bundled factors plus the user's folder plus ``extra`` files (ids must not collide)."""
    result = bundled_factor_set()
    for path in [*user_factor_files(), *extra]:
        result = result.merged(load_factor_set(path))
    return result
