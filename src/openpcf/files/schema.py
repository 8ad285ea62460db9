"""The strict pydantic base class of every user-file schema (models, shipments, claims, CBAM)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Strict(BaseModel):
    """Unknown keys are errors, values are frozen and strings are stripped of outer spaces."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)
