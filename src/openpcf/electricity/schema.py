"""The electricity claims file: a site's consumption for a period and its instruments.

Example (see ``docs/electricity.md``)::

    claim: suzhou-2024
    site: Suzhou plant
    geography: CN-JS
    period: {start: 2024-01-01, end: 2024-12-31}
    grid_year: 2023
    consumption_kwh: 1000000
    instruments:
      - {type: GEC, id: GEC-2024-000123, mwh: 300, technology: wind, site: Suzhou plant,
         period: {start: 2024-01-01, end: 2024-06-30}}
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import Field, field_validator, model_validator

from openpcf.files.schema import Strict

InstrumentType = Literal["GEC", "I-REC", "PPA", "onsite"]
Technology = Literal["wind", "solar", "hydro", "nuclear", "biomass", "other"]


class Period(Strict):
    """A closed date interval ``[start, end]``."""

    start: dt.date
    end: dt.date

    @model_validator(mode="after")
    def _order(self) -> Period:
        if self.end < self.start:
            raise ValueError(f"period end {self.end} is before its start {self.start}")
        return self

    def within(self, other: Period) -> bool:
        return other.start <= self.start and self.end <= other.end

    def __str__(self) -> str:
        return f"{self.start}/{self.end}"


class Instrument(Strict):
    """A contractual instrument: certificate (GEC, I-REC), PPA or on-site generation.

    ``mwh`` is the electricity it covers; ``period`` the generation period; ``site`` the
    beneficiary named on it. ``factor_kg_per_kwh`` (with ``factor_source``) overrides the
    generation factor derived from ``technology``.
    """

    type: InstrumentType
    id: str = Field(min_length=1)
    mwh: float
    technology: Technology
    period: Period
    site: str | None = None
    factor_kg_per_kwh: float | None = Field(None, ge=0)
    factor_source: str = ""

    @field_validator("mwh")
    @classmethod
    def _positive(cls, v: float) -> float:
        if not v > 0:
            raise ValueError(f"an instrument covers a positive amount, got {v:g} MWh")
        return v

    @model_validator(mode="after")
    def _sourced(self) -> Instrument:
        if self.factor_kg_per_kwh is not None and not self.factor_source:
            raise ValueError("'factor_kg_per_kwh' needs its 'factor_source'")
        return self


class Residual(Strict):
    """A residual-mix factor the user gives, with its source."""

    factor_kg_per_kwh: float = Field(ge=0)
    source: str = Field(min_length=1)


class Claims(Strict):
    """One site's electricity for one period, with the instruments claimed against it."""

    claim: str = Field(min_length=1)
    site: str = Field(min_length=1)
    geography: str
    period: Period
    grid_year: int | None = Field(None, ge=1990, le=2100)
    basis: Literal["co2", "footprint"] = "co2"
    consumption_kwh: float
    residual: Residual | None = None
    instruments: tuple[Instrument, ...] = ()

    @field_validator("consumption_kwh")
    @classmethod
    def _consumption(cls, v: float) -> float:
        if v < 0:
            raise ValueError(f"consumption must be >= 0 kWh, got {v:g}")
        return v

    @property
    def year(self) -> int:
        """Grid-factor year: ``grid_year`` or the year the period starts."""
        return self.grid_year if self.grid_year is not None else self.period.start.year
