"""Whose data a web calculation reads, and how it goes on the record.

Every calculation the web pages make (the editor's live result, its scenarios and Monte Carlo
run, publishing, the report and the package) passes :func:`web_options` to
:func:`openpcf.services.calculate.calculate`, so the editor shows the numbers that publishing
then stores, and those are the numbers ``openpcf publish`` gives on the host:

* the bundled factor set plus the host's own sets (``$OPENPCF_HOME/factors``) and rule sets
  (``$OPENPCF_HOME/rules``), as on the command line;
* the **accepted supplier data** and the received supplier footprints of the signed-in
  person's organisation, pinned with ``organisation=``: a model that names another
  organisation as its ``company_name`` never reaches that organisation's data;
* nothing a model names by path or from the imported databases: the editor refuses such a
  model before anything is calculated (:func:`openpcf.services.web_rules.files_named`).

Deliverables go on the host's audit trail (``settings.audit_trail`` of the web's home) as the
matching CLI command records them, with a context naming the command, the person and the
organisation (:meth:`WebCaller.audit`): ``web publish`` (as ``publish``), ``web report`` (as
``report``) and ``web package`` (a ``package`` record, as ``package``). The editor's live
result is never recorded: it recalculates on every keystroke.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Unpack

from openpcf.factors import FactorSet, bundled_factor_set
from openpcf.services.calculate import CalculationOptions, accepted_supplier_data, calculate
from openpcf.settings import Settings

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from openpcf.model.calculation import Calculation
    from openpcf.model.loading import LoadedModel

__all__ = ["WebCaller", "bundled", "owner", "web_calculate", "web_options"]


@cache
def bundled() -> FactorSet:
    """The bundled factor set, read once per process."""
    return bundled_factor_set()


@dataclass(frozen=True, slots=True, kw_only=True)
class WebCaller:
    """The signed-in person a web calculation is made for, on the web's database and home."""

    engine: Engine
    home: Path
    email: str
    organisation: str

    @property
    def settings(self) -> Settings:
        """The host's settings as the CLI builds them: this home and this database."""
        url = self.engine.url.render_as_string(hide_password=False)
        return Settings(home=self.home, database_url=url)

    def audit(self, command: str) -> dict[str, str]:
        """The audit record's context: the command, the person and the organisation."""
        return {"command": command, "email": self.email, "organisation": self.organisation}


def web_options(
    caller: WebCaller | None, **given: Unpack[CalculationOptions]
) -> CalculationOptions:
    """The calculation options ``given`` plus those of a web calculation: the bundled factors
    and, with a caller, the host's settings (see the module docstring). Pass
    :func:`owner` as ``organisation=`` with them; without a caller (a library user, a test)
    bundled factors only, nothing from the host."""
    if caller is None:
        return {**given, "factors": bundled()}
    return {**given, "factors": bundled(), "settings": caller.settings}


def owner(caller: WebCaller | None) -> str | None:
    """The organisation whose data a web calculation reads: the caller's (None: no host data)."""
    return caller.organisation if caller is not None else None


def web_calculate(
    loaded: LoadedModel,
    caller: WebCaller | None,
    *,
    overrides: Mapping[str, float],
    command: str | None = None,
) -> Calculation:
    """``loaded`` calculated for ``caller`` with the parameter values ``overrides``; recorded
    on the host's audit trail as ``command`` (``"web report"``) when given, never without.

    Raises
    ------
    OpenPCFError
        As :func:`~openpcf.services.calculate.calculate`.
    """
    audit = caller.audit(command) if caller is not None and command else None
    # the organisation's accepted supplier data through the web's own engine: this runs on
    # every change in the editor, where an engine made per call cost a connection each time
    supplier_data = (
        accepted_supplier_data(
            caller.settings, loaded, organisation=caller.organisation, engine=caller.engine
        )
        if caller is not None
        else None
    )
    return calculate(
        loaded,
        audit=audit,
        organisation=owner(caller),
        supplier_data=supplier_data,
        **web_options(caller, overrides=overrides),
    )
