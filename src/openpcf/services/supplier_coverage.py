"""The primary-data coverage of one product model (``openpcf suppliers coverage MODEL``).

It calculates the model as ``calc`` does with the user's data (accepted supplier figures
substituted), then measures each accepted figure by calculating again without it:
``change = total with all figures - total with all but this one`` per figure, and once more
without any for the combined change (``total with all - total with none``). With several
figures the per-figure changes add up to the combined one for inputs that do not feed each
other (the footprint is linear in each factor row), which is every model whose substituted
inputs are distinct exchanges; the combined change is stated separately all the same.
The requests of the model's organisation and product come with it: counts by status, the
overdue ones and their suppliers.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from openpcf.db import repositories as repo
from openpcf.db.engine import session_scope
from openpcf.db.errors import NotFoundError
from openpcf.db.models import Organisation
from openpcf.errors import InputError
from openpcf.model.calculation import Calculation
from openpcf.model.loading import LoadedModel, load_model
from openpcf.services.calculate import accepted_supplier_data, calculate
from openpcf.services.supplier_requests import RequestView, list_requests, summarise
from openpcf.settings import Settings
from openpcf.suppliers.coverage import MassCoverage, SubstitutionEffect, mass_coverage
from openpcf.suppliers.substitution import Substitution

if TYPE_CHECKING:
    from sqlalchemy import Engine


@dataclass(frozen=True, slots=True, kw_only=True)
class Coverage:
    """The coverage of one product model (totals in kg CO2e per declared unit)."""

    product_id: str
    organisation: str
    footprint_id: str
    total: float
    total_without_supplier_data: float
    primary_share_by_emissions: float  # percent
    primary_share_without_supplier_data: float  # percent
    by_mass: MassCoverage
    substitutions: tuple[SubstitutionEffect, ...]
    requests: tuple[RequestView, ...]

    @property
    def combined_change(self) -> float:
        return self.total - self.total_without_supplier_data

    def to_dict(self) -> dict[str, Any]:
        return {
            "product_id": self.product_id,
            "organisation": self.organisation,
            "footprint_id": self.footprint_id,
            "total": self.total,
            "total_without_supplier_data": self.total_without_supplier_data,
            "combined_change": self.combined_change,
            "primary_share_by_emissions_percent": self.primary_share_by_emissions,
            "primary_share_without_supplier_data_percent": (
                self.primary_share_without_supplier_data
            ),
            "by_mass": self.by_mass.to_dict(),
            "substitutions": [s.to_dict() for s in self.substitutions],
            "requests": summarise(self.requests),
        }


def coverage(
    model: Path | str | LoadedModel,
    *,
    settings: Settings,
    engine: Engine,
    today: dt.date,
    factor_files: Sequence[Path] = (),
) -> Coverage:
    """The coverage of ``model`` for its organisation (named like ``product.company_name``)."""
    loaded = model if isinstance(model, LoadedModel) else load_model(model)
    product = loaded.model.product
    accepted = accepted_supplier_data(settings, loaded)

    def run(figures: Sequence[Substitution]) -> Calculation:
        return calculate(
            loaded, settings=settings, factor_files=factor_files, supplier_data=tuple(figures)
        )

    full = run(accepted)
    used = {s.request_id for s in _applied(full, accepted)}
    applied = [s for s in accepted if s.request_id in used]
    none = run(()) if applied else full
    effects = []
    for s in applied:
        rest = [t for t in applied if t.request_id != s.request_id]
        without = run(rest) if rest else none
        effects.append(
            SubstitutionEffect(
                substitution=s, total_with=full.result.total, total_without=without.result.total
            )
        )
    return Coverage(
        product_id=product.ids[0],
        organisation=product.company_name,
        footprint_id=str(full.footprint_id),
        total=full.result.total,
        total_without_supplier_data=none.result.total,
        primary_share_by_emissions=full.result.primary_data_share,
        primary_share_without_supplier_data=none.result.primary_data_share,
        by_mass=mass_coverage(full),
        substitutions=tuple(effects),
        requests=tuple(_requests(engine, product.company_name, product.ids[0], today)),
    )


def _applied(calculation: Calculation, accepted: Sequence[Substitution]) -> list[Substitution]:
    """The accepted figures the calculation used (its notes name the ones it used)."""
    notes = set(calculation.result.notes)
    return [s for s in accepted if s.note() in notes]


def _requests(
    engine: Engine, organisation: str, product_id: str, today: dt.date
) -> list[RequestView]:
    with session_scope(engine) as session:
        try:
            org_id = repo.get_organisation(session, name=organisation).id
        except NotFoundError:
            return []
    return list_requests(engine, today=today, organisation_id_=org_id, product_id=product_id)


def organisation_coverage(
    loaded: LoadedModel, *, organisation_id: int, home: Path, engine: Engine, today: dt.date
) -> Coverage:
    """:func:`coverage` of a model sent by an organisation's integration (the HTTP route): the
    model's ``product.company_name`` must be that organisation, so its numbers never read
    another organisation's supplier data; calculated with the host's data folder ``home``.

    Raises
    ------
    InputError
        The model names another company.
    """
    with session_scope(engine) as session:
        own = session.get(Organisation, organisation_id)
        name = own.name if own is not None else ""
    if loaded.model.product.company_name != name:
        raise InputError(
            f"{loaded.where('product', 'company_name')}: the model's company_name "
            f"{loaded.model.product.company_name!r} is not this token's organisation"
        )
    url = engine.url.render_as_string(hide_password=False)
    return coverage(
        loaded, settings=Settings(home=home, database_url=url), engine=engine, today=today
    )
