"""Calculate a product model: load → compile → solve → frozen :class:`FootprintResult`."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from openpcf.core.results import FootprintResult
from openpcf.core.solver import Backend
from openpcf.factors import FactorSet, bundled_factor_set
from openpcf.model.compiler import CompiledModel, compile_model
from openpcf.model.loading import load_model
from openpcf.model.parameters import Value
from openpcf.model.result import solve_compiled
from openpcf.services.databases import background_factor
from openpcf.settings import get_settings


@dataclass(frozen=True, slots=True)
class Calculation:
    compiled: CompiledModel
    result: FootprintResult


def calculate(
    path: Path | str,
    *,
    overrides: Mapping[str, Value] | None = None,
    gwp: str | None = None,
    factors: FactorSet | None = None,
    backend: Backend = "auto",
) -> Calculation:
    """Footprint of the product described by the model file at ``path``."""
    loaded = load_model(path)
    compiled = compile_model(
        loaded,
        factors=factors or bundled_factor_set(),
        overrides=overrides,
        gwp=gwp,
        background=background_factor,
        supplier_store=get_settings().home / "supplier_footprints",
    )
    return Calculation(compiled=compiled, result=solve_compiled(compiled, backend=backend))
