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
  the database (``settings.database_url``) for the organisation ``organisation`` names,
  by default the one named like the model's ``product.company_name`` (all organisations
  when none is; see :mod:`openpcf.services.suppliers`); shipments and files referred to by
  path are read relative to the model file;
* **GWP set, parameters, solver and ``background_electricity``** (``--background-electricity``,
  replacing the model's) as given;
* **rule sets** (``rules``, else the model's ``rules:``; bundled, the user's in
  ``$OPENPCF_HOME/rules`` and ``rule_files``): the choices of the clauses that apply
  (allocation, electricity method, recycled content, cut-off) act on the model, the model is
  checked against every clause, and the calculation carries that :class:`Conformance` and the
  rule set's hash in its provenance (and so in its footprint id); ``methodology`` adds or
  overrides choices (``openpcf compare``);
* **primary data from suppliers**: with ``settings``, the organisation's *accepted* data
  requests for the model's product (``product.ids[0]``; the organisation ``organisation``,
  by default the one named like ``product.company_name``) re-point their inputs to the
  supplier's footprint before the model is compiled (:mod:`openpcf.suppliers.substitution`);
  the result's notes say which figure replaced which material and its provenance carries
  ``supplier_substitutions``.
  Without settings, or without accepted requests, nothing changes;
* **the audit record**: with ``audit=`` (a context such as ``{"command": "calc"}``) the
  calculation is appended to the trail in ``settings.home``.

``settings`` is the user's data folder, read by the edge (:func:`openpcf.settings.get_settings`)
and passed down; without it only bundled and explicitly given data are used and nothing is
recorded, which is what library users and tests that want isolation get.

Design note, whose data a calculation reads. On the command line the model's
``product.company_name`` names the data owner, which is the host operator's own choice. A
model that arrives from elsewhere (the web editor) must never reach another organisation's
supplier data by naming its company: its edge passes ``organisation=`` (the signed-in
person's), and then only that organisation's accepted requests and received footprints are
read, whatever the model names.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import fields, replace
from functools import partial
from pathlib import Path
from typing import TypedDict

from sqlalchemy import inspect
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import SQLAlchemyError

from openpcf.audit import record_calculation
from openpcf.core.results import frozen_map
from openpcf.core.solver import Backend
from openpcf.db import repositories as repo
from openpcf.db.engine import make_engine, session_scope
from openpcf.db.errors import NotFoundError
from openpcf.electricity import CertificateRegistry, electricity_factor, with_scope_notes
from openpcf.errors import InputError, ModelFileError
from openpcf.exchange.supplier import supplier_factor
from openpcf.factors import FactorSet, bundled_factor_set, load_factor_set
from openpcf.io.store import DatabaseStore
from openpcf.logistics import shipment_factor
from openpcf.model.background import BackgroundDatabase
from openpcf.model.calculation import Calculation
from openpcf.model.compiler import Resolvers, compile_model
from openpcf.model.database_uncertainty import stored_uncertainty
from openpcf.model.loading import LoadedModel, load_model
from openpcf.model.parameters import Value
from openpcf.model.result import solve_compiled
from openpcf.model.schema import BackgroundElectricity
from openpcf.rules.apply import Methodology, RuleChoices, apply, cut_inputs, from_rules
from openpcf.rules.check import check, check_product_class
from openpcf.rules.loading import LoadedRuleSet, RuleBook
from openpcf.services.databases import background_factor
from openpcf.services.suppliers import SupplierStore
from openpcf.settings import Settings
from openpcf.suppliers.substitution import Substitution, provenance_text, substitute

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
    rules: str | None
    rule_files: Sequence[Path]


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
    rules: str | None = None,
    rule_files: Sequence[Path] = (),
    methodology: Methodology | None = None,
    supplier_data: Sequence[Substitution] | None = None,
    organisation: str | None = None,
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
    rules, rule_files, methodology
        The rule set to calculate under (``id`` or ``id@version``; default the model's
        ``rules:``), extra rule-set files, and modelling choices added to the rule set's.
    supplier_data
        The accepted supplier figures to substitute (coverage leaves some out to measure
        them); default: those of the database in ``settings`` (none without settings).
    organisation
        The data owner whose accepted supplier data and received supplier footprints are
        read; default: the organisation named like the model's ``product.company_name``
        (see the module's design note).
    """
    original = model if isinstance(model, LoadedModel) else load_model(model)
    if supplier_data is None:
        supplier_data = (
            accepted_supplier_data(settings, original, organisation=organisation)
            if settings
            else ()
        )
    substituted = substitute(original, supplier_data)
    original = substituted.loaded
    if resolvers is None:
        owner = organisation or original.model.product.company_name
        resolvers = user_resolvers(settings, organisation=owner)
    ruleset = rule_set_for(original, rules, rule_files=rule_files, settings=settings)
    choices = from_rules(ruleset, original) if ruleset is not None else None
    chosen = merged(choices.methodology if choices else Methodology(), methodology)
    loaded = apply(original, chosen)
    active = with_model_sets(
        loaded,
        active_factor_set(
            base=factors,
            factor_files=[*factor_files, *map(Path, chosen.factor_files)],
            settings=settings,
        ),
    )

    def solved(current: LoadedModel) -> Calculation:
        compiled = compile_model(
            current,
            factors=active,
            overrides=overrides,
            gwp=chosen.gwp or gwp,
            resolvers=resolvers,
            background_electricity=background_electricity,
        )
        return Calculation(compiled=compiled, result=solve_compiled(compiled, backend=backend))

    calculation = solved(loaded)
    cut: tuple[str, ...] = ()
    if chosen.cutoff_percent is not None:
        loaded, cut = cut_inputs(
            loaded,
            calculation.result.exchanges,
            chosen.cutoff_percent,
            chosen.cutoff_total_percent,
        )
        if cut:
            calculation = solved(loaded)
    if ruleset is not None or not chosen.empty:
        calculation = _under_rules(calculation, ruleset, chosen, choices, cut, loaded)
    if substituted.applied or substituted.unmatched:
        calculation = _with_supplier_data(calculation, substituted.applied, substituted.unmatched)
    calculation = with_scope_notes(calculation)  # generation-only grid CO2 factors, named
    if audit is not None and settings is not None:
        record_calculation(calculation, trail=settings.audit_trail, kind=audit_kind, context=audit)
    return calculation


def rule_book(settings: Settings | None, rule_files: Sequence[Path] = ()) -> RuleBook:
    """The bundled rule sets, the user's (``$OPENPCF_HOME/rules``) and ``rule_files``."""
    return RuleBook(folders=[settings.rules_dir] if settings else [], paths=rule_files)


def rule_set_for(
    loaded: LoadedModel,
    rules: str | None,
    *,
    rule_files: Sequence[Path] = (),
    settings: Settings | None = None,
) -> LoadedRuleSet | None:
    """The rule set ``rules`` names, else the model's ``rules:``; None when neither does.

    Raises
    ------
    RuleSetError
        Unknown id or version (with the model line when the model names it), a rule set for
        another product class.
    """
    ref = rules or loaded.model.rules
    if ref is None:
        return None
    where = "" if rules else loaded.where("rules")
    found = rule_book(settings, rule_files).get(ref, where=where)
    check_product_class(found, loaded)
    return found


def merged(base: Methodology, extra: Methodology | None) -> Methodology:
    """``base`` with the choices ``extra`` makes (allocation per process merged)."""
    if extra is None:
        return base
    changes = {
        f.name: getattr(extra, f.name)
        for f in fields(extra)
        if getattr(extra, f.name) not in (None, (), {})
    }
    changes["allocation"] = {**base.allocation, **extra.allocation}
    return replace(base, **changes)


def _under_rules(
    calculation: Calculation,
    ruleset: LoadedRuleSet | None,
    chosen: Methodology,
    choices: RuleChoices | None,
    cut: tuple[str, ...],
    loaded: LoadedModel,
) -> Calculation:
    """The calculation with its conformance, and its provenance and notes saying which
    modelling choices came from the rule set (or ``methodology``)."""
    result = calculation.result
    provenance = dict(result.provenance)
    notes = list(result.notes)
    conformance = None
    if ruleset is not None:
        provenance["rules"] = ruleset.ref
        provenance["rules_sha256"] = ruleset.sha256
        conformance = check(
            ruleset, loaded, calculation, applied=choices.by_clause if choices else None
        )
        notes += [f"rule set {ruleset.ref}: {c}" for c in conformance.choices]
    if not chosen.empty:
        provenance["methodology"] = "; ".join(chosen.describe())
        provenance["methodology_sha256"] = chosen.sha256()
    notes += [f"cut off (under the cut-off criterion): {line}" for line in cut]
    result = replace(result, provenance=frozen_map(provenance), notes=tuple(notes))
    return replace(calculation, result=result, conformance=conformance)


def accepted_supplier_data(
    settings: Settings,
    loaded: LoadedModel,
    *,
    organisation: str | None = None,
    engine: Engine | None = None,
) -> tuple[Substitution, ...]:
    """The accepted data requests of ``organisation`` (by default the one named like the
    model's ``product.company_name``) for the model's product (``product.ids[0]``), as
    substitutions, read through ``engine`` (a long-lived one, such as the web application's,
    left open) or else through an engine on ``settings.database_url`` made for this call.

    None when the database does not exist yet (a SQLite file never created) or predates data
    requests (not migrated to them: nothing can have been accepted).

    Raises
    ------
    InputError
        The database cannot be read (e.g. a PostgreSQL server that does not answer): a
        calculation that silently left accepted supplier data out would be a different
        footprint.
    """
    own_engine = engine is None
    if engine is None:
        url = make_url(settings.database_url)
        local = url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:")
        if local and not Path(str(url.database)).expanduser().exists():
            return ()
        engine = make_engine(settings.database_url)
    product = loaded.model.product
    owner = organisation or product.company_name
    try:
        if not inspect(engine).has_table("supplier_request"):
            return ()
        with session_scope(engine) as session:
            try:
                org = repo.get_organisation(session, name=owner)
            except NotFoundError:
                return ()
            rows = repo.list_supplier_requests(
                session, organisation_id=org.id, product_id=product.ids[0], statuses=["accepted"]
            )
            return tuple(
                Substitution(
                    request_id=str(r.request_id),
                    input_key=r.input_key,
                    supplier=r.supplier,
                    material=r.material,
                    material_name=r.material_name,
                    footprint_id=str(r.supplier_footprint_id),
                    accepted=(r.decided_at or r.created_at).date(),
                )
                for r in rows
                if r.supplier_footprint_id is not None
            )
    except SQLAlchemyError as e:
        raise InputError(
            f"the accepted supplier data of {owner!r} cannot be read from the "
            f"database ({type(e).__name__}); check OPENPCF_DATABASE_URL and that it is migrated "
            "(`openpcf storage upgrade`)"
        ) from None
    finally:
        if own_engine:
            engine.dispose()


def _with_supplier_data(
    calculation: Calculation, applied: Sequence[Substitution], unmatched: Sequence[str]
) -> Calculation:
    """The calculation with notes on the supplier figures used (and accepted ones the model
    no longer has) and their provenance (``supplier_substitutions``)."""
    result = calculation.result
    provenance = dict(result.provenance)
    if applied:
        provenance["supplier_substitutions"] = provenance_text(applied)
    notes = [*result.notes, *(s.note() for s in applied), *unmatched]
    result = replace(result, provenance=frozen_map(provenance), notes=tuple(notes))
    return replace(calculation, result=result)


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
        uncertainty=stored_uncertainty(stored),
    )
    _DATABASES[key] = database
    while len(_DATABASES) > DATABASES_KEPT:
        _DATABASES.popitem(last=False)
    return database
