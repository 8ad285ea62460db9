"""The one calculation entry point: load → choose factors → compile → solve → record.

Every command that calculates (``calc``, ``validate``, ``report``, ``publish``, ``certificate
issue``, ``package``, the API and the demo) calls :func:`calculate`, so the policy of a
calculation lives here and nowhere else:

* **factor sets**: the bundled set (or ``factors`` given by the caller), then the user's sets in
  ``$OPENPCF_HOME/factors`` (when ``settings`` is given), then ``factor_files`` (``--factors``),
  then the model's own ``factor_sets``; an id defined twice is an error naming both sets;
* **inputs outside the model file**: ``background:`` from the imported LCI databases (as
  stored rows, or, for a linked model, the stored systems themselves: :func:`background_database`,
  read once per process and version) and
  electricity claims checked against the certificate registry, under ``settings.home``;
  ``supplier_footprint:`` ids and URNs from the supplier footprints received over PACT, held in
  the database (``settings.database_url``) for the organisation named like the model's
  ``product.company_name`` (all organisations when none is; see
  :mod:`openpcf.services.suppliers`); shipments and files referred to by path are read relative
  to the model file;
* **GWP set, parameters, solver and ``background_electricity``** (``--background-electricity``,
  replacing the model's) as given;
* **the audit record**: with ``audit=`` (a context such as ``{"command": "calc"}``) the
  calculation is appended to the trail in ``settings.home``.

``settings`` is the user's data folder, read by the edge (:func:`openpcf.settings.get_settings`)
and passed down; without it only bundled and explicitly given data are used and nothing is
recorded, which is what library users and tests that want isolation get.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping, Sequence
from functools import partial
from pathlib import Path
from typing import TypedDict

from openpcf.audit import record_calculation
from openpcf.core.solver import Backend
from openpcf.electricity import CertificateRegistry, electricity_factor
from openpcf.errors import ModelFileError
from openpcf.exchange.supplier import supplier_factor
from openpcf.factors import FactorSet, bundled_factor_set, load_factor_set
from openpcf.io.store import DatabaseStore
from openpcf.logistics import shipment_factor
from openpcf.model.background import BackgroundDatabase
from openpcf.model.calculation import Calculation
from openpcf.model.compiler import Resolvers, compile_model
from openpcf.model.loading import LoadedModel, load_model
from openpcf.model.parameters import Value
from openpcf.model.result import solve_compiled
from openpcf.model.schema import BackgroundElectricity
from openpcf.services.databases import background_factor
from openpcf.services.suppliers import SupplierStore
from openpcf.settings import Settings

#: File types read as user factor sets from ``$OPENPCF_HOME/factors``.
FACTOR_SUFFIXES = frozenset({".csv", ".yaml", ".yml"})


class CalculationOptions(TypedDict, total=False):
    """The options every calculating use case accepts and hands to :func:`calculate`."""

    overrides: Mapping[str, Value] | None
    gwp: str | None
    factor_files: Sequence[Path]
    factors: FactorSet | None
    backend: Backend
    settings: Settings | None
    background_electricity: BackgroundElectricity | None


def calculate(
    model: Path | str | LoadedModel,
    *,
    overrides: Mapping[str, Value] | None = None,
    gwp: str | None = None,
    factor_files: Sequence[Path] = (),
    factors: FactorSet | None = None,
    backend: Backend = "auto",
    settings: Settings | None = None,
    audit: Mapping[str, str] | None = None,
    audit_kind: str = "calculation",
    resolvers: Resolvers | None = None,
    background_electricity: BackgroundElectricity | None = None,
) -> Calculation:
    """Footprint of the product described by the model file ``model``.

    Parameters
    ----------
    model
        The model file, or a model already loaded from one.
    overrides
        Parameter values replacing the model's (``--param name=value``).
    gwp
        GWP set id (AR6, AR5, AR5-CCF, AR4); the model's ``gwp`` by default.
    factor_files
        Extra factor sets (CSV or YAML) added to the active ones (``--factors``).
    factors
        The base factor set instead of the bundled one (tests, packages being reproduced).
    backend
        Sparse solver: ``auto``, ``superlu`` or ``pardiso``.
    settings
        The user's data folders; see the module docstring.
    audit, audit_kind
        Record the calculation in the audit trail with this context and record kind
        (needs ``settings``).
    resolvers
        How inputs outside the model file are resolved, instead of from ``settings``
        (a verification package being reproduced resolves them from its own files).
    background_electricity
        Re-points the electricity of the background databases, replacing the model's
        ``background_electricity:`` and linking its background inputs.
    """
    loaded = model if isinstance(model, LoadedModel) else load_model(model)
    if resolvers is None:
        resolvers = user_resolvers(settings, organisation=loaded.model.product.company_name)
    active = with_model_sets(
        loaded, active_factor_set(base=factors, factor_files=factor_files, settings=settings)
    )
    compiled = compile_model(
        loaded,
        factors=active,
        overrides=overrides,
        gwp=gwp,
        resolvers=resolvers,
        background_electricity=background_electricity,
    )
    calculation = Calculation(compiled=compiled, result=solve_compiled(compiled, backend=backend))
    if audit is not None and settings is not None:
        record_calculation(calculation, trail=settings.audit_trail, kind=audit_kind, context=audit)
    return calculation


def active_factor_set(
    *,
    base: FactorSet | None = None,
    factor_files: Sequence[Path] = (),
    settings: Settings | None = None,
) -> FactorSet:
    """The bundled set (or ``base``), the user's sets and ``factor_files``, merged.

    This is also what ``openpcf factors search`` and ``show`` browse.
    """
    result = base or bundled_factor_set()
    user = user_factor_files(settings.factor_dir) if settings is not None else []
    for path in [*user, *factor_files]:
        result = result.merged(load_factor_set(path))
    return result


def with_model_sets(loaded: LoadedModel, factors: FactorSet) -> FactorSet:
    """``factors`` plus the factor sets the model names (paths relative to the model file)."""
    result = factors
    for k, name in enumerate(loaded.model.factor_sets):
        path = (loaded.path.parent / name).resolve()
        if not path.exists():
            raise ModelFileError(f"{loaded.where('factor_sets', k)}: factor set {name!r} not found")
        result = result.merged(load_factor_set(path))
    return result


def user_factor_files(folder: Path) -> list[Path]:
    """Factor sets the user keeps in ``folder`` (``$OPENPCF_HOME/factors``), sorted by name."""
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.suffix.lower() in FACTOR_SUFFIXES)


def user_resolvers(settings: Settings | None, *, organisation: str | None = None) -> Resolvers:
    """How a model's inputs outside its file are resolved, from the user's data.

    ``organisation`` is the data owner whose received supplier footprints the model reads
    (normally its ``product.company_name``); without ``settings`` only files named by path can
    be supplier footprints.
    """
    if settings is None:
        return Resolvers(
            shipment=shipment_factor,
            electricity_claim=electricity_factor,
            supplier_footprint=supplier_factor,
        )
    return Resolvers(
        background=partial(background_factor, store=DatabaseStore(settings.databases_dir)),
        background_database=partial(
            background_database, store=DatabaseStore(settings.databases_dir)
        ),
        shipment=shipment_factor,
        electricity_claim=partial(
            electricity_factor, registry=CertificateRegistry(settings.registry_file)
        ),
        supplier_footprint=partial(
            supplier_factor, store=supplier_store(settings, organisation=organisation)
        ),
    )


def supplier_store(settings: Settings, *, organisation: str | None = None) -> SupplierStore:
    """The received supplier footprints a model of ``organisation`` reads (see
    :func:`user_resolvers`)."""
    return SupplierStore(
        settings.database_url, organisation=organisation, legacy_folder=settings.supplier_dir
    )


#: Stored systems read by :func:`background_database`, by folder and content hash (LRU).
_DATABASES: OrderedDict[tuple[str, str], BackgroundDatabase] = OrderedDict()
DATABASES_KEPT = 4


def background_database(ref: str, *, store: DatabaseStore) -> BackgroundDatabase:
    """The stored system of ``"<name>@<version>"`` for a linked model (see
    :mod:`openpcf.model.background`), read once per process: the last few are kept by the
    version's folder and the content hash of its source, so a re-import under the same folder
    is read again."""
    stored = store.get(ref)
    key = (str(stored.path), str(stored.meta.get("content_sha256", "")))
    if key in _DATABASES:
        _DATABASES.move_to_end(key)
        return _DATABASES[key]
    columns = stored.columns()
    database = BackgroundDatabase(
        ref=stored.ref,
        system=stored.system(),
        names=tuple(c.name for c in columns),
        products=tuple(c.product for c in columns),
        product_ids=tuple(c.product_id for c in columns),
        units=tuple(c.unit for c in columns),
        locations=tuple(c.location for c in columns),
    )
    _DATABASES[key] = database
    while len(_DATABASES) > DATABASES_KEPT:
        _DATABASES.popitem(last=False)
    return database
