"""Publish a product model's footprint: calculate, build the PACT v3 document, store it.

Everything is stored in one transaction: the organisation (created on first use), the product
(found by any of its product ids, else created), the calculation record and the footprint.
If anything fails, nothing is stored.

Republishing follows PACT v3 ADR-41 (footprints are immutable). For the Active footprint of
the same product and the same reference period:

* if the new document has the same content, nothing is stored and that footprint is returned
  (``PublishedFootprint.new`` is ``False``);
* otherwise the new footprint names it in ``precedingPfIds`` and it becomes Deprecated.

**What is kept.** The calculation record keeps the result, its provenance and, for a
self-contained model of at most the editor's size, the model's own text
(:func:`kept_model_text`), from which the web product page recalculates its uncertainty and
report.

**What is published.** The PACT document is :func:`pact_document`: the cradle-to-gate part of
the model by default (``pact_boundary``, see :func:`openpcf.exchange.pact.product_footprint`),
refused when its numbers use illustrative (placeholder) factor rows unless
``allow_illustrative`` (then its ``comment`` says so). :func:`deliverable_footprint`, which
``certificate issue`` and ``package`` carry, applies the same rules.

**What-ifs never replace the live footprint.** Publishing with changed parameters
(``overrides``) must say what it is: ``scenario="NAME"`` stores the document in the
``scenario_footprint`` table, which the PACT host never reads, so a scenario is never served
to buyers and never deprecates anything; ``replace_live=True`` publishes it as the new live
footprint. Neither is refused (:class:`~openpcf.exchange.errors.ScenarioChoiceError`).

**Dry runs** (``dry_run=True``) return the document that would be stored, with the id,
``precedingPfIds`` and the footprint it would deprecate, and store nothing: they only read the
database. The calculation is recorded in the audit trail, as ``calc`` records its own, with
the context ``{"command": "publish", "dry_run": "true"}``, so the trail shows that a dry run
happened and that nothing was published.

"Same content" compares every member of the document except those that differ on every run
or say nothing about the footprint: ``id``, ``created``, ``status``, ``precedingPfIds`` and
``comment`` (which carries the model file's hash and the software version, so a reformatted
model file or a new OpenPCF release with equal numbers does not make a new footprint). A
footprint for a different reference period is a new footprint and deprecates nothing.

The stored footprint's id is the calculation's own
(:attr:`~openpcf.model.calculation.Calculation.footprint_id`), so ``calc --format pact``,
``certificate issue``, ``package`` and the audit trail name the same footprint. Two cases
keep an older id: an unchanged republish returns the footprint already stored, and a
calculation whose id was published before and has since been superseded (a model changed
and changed back) is a new footprint with an id derived from the calculation's and its
predecessor's. :func:`find_published` finds the stored footprint of a calculation in every
case, which is how a certificate binds exactly the document the host serves.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Unpack

from openpcf.db import repositories as repo
from openpcf.db.concurrency import write_transaction
from openpcf.db.engine import session_scope
from openpcf.db.errors import NotFoundError
from openpcf.db.models import ACTIVE, Footprint
from openpcf.errors import InputError
from openpcf.exchange.errors import IllustrativeFactorsError, ScenarioChoiceError
from openpcf.exchange.pact import (
    DEFAULT_PACT_BOUNDARY,
    illustrative_factors,
    pact_part,
    product_footprint,
)
from openpcf.model.loading import LoadedModel
from openpcf.model.result_json import result_to_dict
from openpcf.services.calculate import CalculationOptions, calculate
from openpcf.services.rules import outside_references
from openpcf.services.web_rules import MAX_MODEL_BYTES

if TYPE_CHECKING:
    from sqlalchemy import Engine
    from sqlalchemy.orm import Session

    from openpcf.model.calculation import Calculation

#: Document members left out when deciding whether a republished footprint changed.
VOLATILE_MEMBERS = frozenset({"id", "created", "status", "precedingPfIds", "comment"})
#: A scenario's name: letters, digits, space, ``. _ -``; at most 100 characters.
SCENARIO_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 ._-]{0,99}$")


@dataclass(frozen=True, slots=True)
class PublishedFootprint:
    """What :func:`publish` stored, or found already stored."""

    id: uuid.UUID
    organisation: str
    product_ids: tuple[str, ...]
    document: dict[str, Any]
    new: bool
    """``False`` when an identical footprint was published before and is returned instead."""
    deprecated: uuid.UUID | None
    """The footprint this one replaced (now Deprecated), if any; for a dry run, the one it
    would replace."""
    scenario: str | None = None
    """The scenario's name when the document was stored as a scenario (never served)."""
    dry_run: bool = False
    """``True`` when nothing was stored: ``new`` and ``deprecated`` say what would happen."""


def publish(
    model_path: Path | str | LoadedModel,
    *,
    engine: Engine,
    organisation: str | None = None,
    now: dt.datetime | None = None,
    scenario: str | None = None,
    replace_live: bool = False,
    dry_run: bool = False,
    pact_boundary: str = DEFAULT_PACT_BOUNDARY,
    allow_illustrative: bool = False,
    audit: Mapping[str, str] | None = None,
    **options: Unpack[CalculationOptions],
) -> PublishedFootprint:
    """Calculate the model at ``model_path`` (or the model already loaded: the web editor's)
    and publish its PACT v3 footprint.

    ``organisation`` is the data owner's name, by default the model's
    ``product.company_name``: the footprint is stored under it and the calculation reads its
    accepted supplier data and received supplier footprints
    (:func:`~openpcf.services.calculate.calculate`'s ``organisation``).
    ``scenario``, ``replace_live`` and ``dry_run``: see the module docstring;
    ``pact_boundary`` and ``allow_illustrative``: see :func:`pact_document`; ``audit``: more
    context for the audit record (who published, from where), over ``{"command": "publish"}``.
    ``options`` are those of :func:`~openpcf.services.calculate.calculate`. The database must
    be migrated (:func:`openpcf.db.migrate.upgrade`).

    Safe to run in parallel (processes, threads, hosts on one PostgreSQL): the storing runs
    in :func:`~openpcf.db.concurrency.write_transaction`. A publisher that loses a race (the
    database refuses a second Active footprint of the product and period, or a second new
    organisation of the same name) is rolled back and runs again from reading the Active
    footprint, so concurrent publishes of one product leave exactly one Active footprint and
    one linear chain of ``precedingPfIds``. The calculation itself runs once, outside the
    transaction.

    Raises
    ------
    ScenarioChoiceError
        ``overrides`` without ``scenario`` or ``replace_live``, both at once, or a scenario
        name that is not :data:`SCENARIO_NAME`.
    IllustrativeFactorsError, PactBoundaryError
        See :func:`pact_document`.
    """
    _check_choice(model_path, options.get("overrides"), scenario, replace_live=replace_live)
    context = {"command": "publish", **({"dry_run": "true"} if dry_run else {})}
    if scenario is not None:
        context["scenario"] = scenario
    calculation = calculate(
        model_path, audit={**context, **(audit or {})}, organisation=organisation, **options
    )
    document = pact_document(
        calculation,
        pact_boundary=pact_boundary,
        allow_illustrative=allow_illustrative,
        created=now,
    )
    product_model = calculation.compiled.model.product
    owner = organisation or product_model.company_name
    period = repo.footprint_facts(document).reference_period
    if scenario is not None:
        document = _as_scenario(document, scenario, calculation)
        if dry_run:
            return PublishedFootprint(
                id=calculation.footprint_id,
                organisation=owner,
                product_ids=tuple(document["productIds"]),
                document=document,
                new=True,
                deprecated=None,
                scenario=scenario,
                dry_run=True,
            )

    def store_scenario(session: Session) -> PublishedFootprint:
        assert scenario is not None
        doc = dict(document)
        org = repo.ensure_organisation(session, name=owner, company_ids=doc["companyIds"])
        product = _product(session, org, doc, calculation)
        stored = repo.find_scenario(
            session, product=product, name=scenario, footprint_id=calculation.footprint_id
        )
        new = stored is None
        if stored is None:
            stored = repo.store_scenario(
                session,
                organisation=org,
                product=product,
                name=scenario,
                document=doc,
                parameters=dict(calculation.compiled.parameters),
                calculation=_record(session, product, calculation),
            )
        return PublishedFootprint(
            id=stored.footprint_id,
            organisation=org.name,
            product_ids=tuple(stored.document["productIds"]),
            document=dict(stored.document),
            new=new,
            deprecated=None,
            scenario=scenario,
        )

    def preview(session: Session) -> PublishedFootprint:
        doc = dict(document)
        current = _live(session, owner, doc, period)
        if current is not None and same_content(current.document, doc):
            return _published(current, owner, new=False, deprecated=None, dry_run=True)
        doc = _successor(session, calculation, doc, current)
        if current is not None:
            doc["precedingPfIds"] = [str(current.id)]
        return PublishedFootprint(
            id=uuid.UUID(doc["id"]),
            organisation=owner,
            product_ids=tuple(doc["productIds"]),
            document=doc,
            new=True,
            deprecated=current.id if current is not None else None,
            dry_run=True,
        )

    def store(session: Session) -> PublishedFootprint:
        doc = dict(document)  # this attempt's copy: a retry starts from the calculation's id
        org = repo.ensure_organisation(session, name=owner, company_ids=doc["companyIds"])
        product = _product(session, org, doc, calculation)
        current = repo.find_active_footprint(session, product=product, reference_period=period)
        if current is not None and same_content(current.document, doc):
            return _published(current, org.name, new=False, deprecated=None)
        doc = _successor(session, calculation, doc, current)
        footprint = repo.publish_footprint(
            session,
            organisation=org,
            product=product,
            document=doc,
            preceding=[current] if current is not None else None,
            calculation=_record(session, product, calculation),
            now=now,
        )
        return _published(footprint, org.name, new=True, deprecated=current.id if current else None)

    if dry_run:
        with session_scope(engine) as session:
            return preview(session)
    what = f"publishing {document['productIds'][0]} for {owner}"
    if scenario is not None:
        return write_transaction(engine, store_scenario, what=f"{what} as scenario {scenario!r}")
    return write_transaction(engine, store, what=what)


def pact_document(
    calculation: Calculation,
    *,
    pact_boundary: str = DEFAULT_PACT_BOUNDARY,
    allow_illustrative: bool = False,
    created: dt.datetime | None = None,
) -> dict[str, Any]:
    """The PACT v3 document of ``calculation`` that may be published or certified.

    ``pact_boundary``: ``"cradle-to-gate"`` (the cradle-to-gate part, the default) or
    ``"model"`` (:func:`openpcf.exchange.pact.product_footprint`).

    Raises
    ------
    IllustrativeFactorsError
        The document's numbers use factor rows flagged illustrative (placeholders without an
        open published source) and ``allow_illustrative`` is false. With it, the document's
        ``comment`` starts with a statement naming them.
    PactBoundaryError
        ``pact_boundary="model"`` for a boundary PACT cannot carry.
    """
    rows = illustrative_factors(pact_part(calculation, pact_boundary))
    if rows and not allow_illustrative:
        ids = ", ".join(f.id for f in rows)
        raise IllustrativeFactorsError(
            f"{calculation.compiled.loaded.path}: the footprint uses {len(rows)} illustrative "
            f"factor(s), placeholders without an open published source: {ids}. Replace them "
            "with supplier or database data (`openpcf factors search`), or pass "
            "--allow-illustrative to publish or certify it with a statement in its comment "
            "that it is illustrative"
        )
    return product_footprint(calculation, version="3", created=created, boundary=pact_boundary)


def _check_choice(
    model_path: Path | str | LoadedModel,
    overrides: Mapping[str, Any] | None,
    scenario: str | None,
    *,
    replace_live: bool,
) -> None:
    """Refuse a what-if without a choice between a scenario and the live footprint."""
    if scenario is not None and replace_live:
        raise ScenarioChoiceError(
            "--scenario and --replace-live exclude each other: store a scenario, or replace "
            "the live footprint"
        )
    if scenario is not None and not SCENARIO_NAME.match(scenario):
        raise ScenarioChoiceError(
            f"scenario name {scenario[:120]!r}: use 1 to 100 letters, digits, spaces, dots, "
            "underscores or hyphens, starting with a letter or digit"
        )
    if overrides and scenario is None and not replace_live:
        changed = ", ".join(sorted(overrides))
        where = model_path.path if isinstance(model_path, LoadedModel) else model_path
        raise ScenarioChoiceError(
            f"{where}: publishing with changed parameters ({changed}) would replace the "
            "live footprint that buyers pull. Choose: --scenario NAME stores it as a scenario "
            "that is never served and replaces nothing; --replace-live makes it the new live "
            "footprint (the current one becomes Deprecated); --dry-run shows the document"
        )


def _as_scenario(
    document: Mapping[str, Any], name: str, calculation: Calculation
) -> dict[str, Any]:
    """The document stored for scenario ``name``: its comment says it is one."""
    params = ", ".join(f"{k}={v:g}" for k, v in sorted(calculation.compiled.parameters.items()))
    note = (
        f"SCENARIO {name!r} (parameters {params or 'as in the model'}): a what-if stored by "
        "OpenPCF, not the product's published footprint."
    )
    doc = dict(document)
    doc["comment"] = f"{note}\n{doc['comment']}" if doc.get("comment") else note
    return doc


def _product(session: Session, org: Any, doc: Mapping[str, Any], calculation: Calculation) -> Any:
    product_model = calculation.compiled.model.product
    return repo.upsert_product(
        session,
        organisation=org,
        product_ids=doc["productIds"],
        name=product_model.name,
        cn_code=product_model.cn_code,
        cpc=product_model.cpc,
    )


def _record(session: Session, product: Any, calculation: Calculation) -> Any:
    return repo.record_calculation(
        session,
        product=product,
        result=result_to_dict(calculation.result),
        provenance=dict(calculation.result.provenance),
        model_text=kept_model_text(calculation.compiled.loaded),
    )


def kept_model_text(loaded: LoadedModel) -> str | None:
    """The model text stored with a published calculation, or None when it is not kept.

    Kept: the model's YAML exactly as loaded (its SHA-256 is the provenance's
    ``model_sha256``), when it is at most the editor's
    :data:`~openpcf.services.web_rules.MAX_MODEL_BYTES` and self-contained: it names no file
    (factor set, shipment, electricity claim, supplier footprint file) and no imported database
    (:func:`~openpcf.services.rules.outside_references`), as every model published from the web
    editor. Such a text recalculates on its own wherever it is read (the product page's
    uncertainty and report); a model with side files would not, and keeping their paths would
    store the server's folders, so none of it is kept and its report still takes the file.
    """
    text = loaded.doc.text
    if len(text.encode("utf-8")) > MAX_MODEL_BYTES or outside_references(loaded):
        return None
    return text


def _live(
    session: Session, owner: str, doc: Mapping[str, Any], period: tuple[dt.datetime, dt.datetime]
) -> Footprint | None:
    """The Active footprint ``doc`` would replace, read only (no organisation or product is
    created)."""
    try:
        org = repo.get_organisation(session, name=owner)
    except NotFoundError:
        return None
    product = repo.find_product(session, organisation=org, product_ids=doc["productIds"])
    if product is None:
        return None
    return repo.find_active_footprint(session, product=product, reference_period=period)


def _successor(
    session: Session, calculation: Calculation, doc: dict[str, Any], current: Footprint | None
) -> dict[str, Any]:
    """``doc`` under the id it is stored with: the calculation's, unless that id was published
    before and has since been superseded (a model changed and changed back): PACT footprints
    are immutable, so the same numbers come back under a new id, derived so that
    :func:`find_published` still finds it."""
    if session.get(Footprint, calculation.footprint_id) is not None:
        after = str(current.id) if current is not None else "republished"
        doc = {**doc, "id": str(uuid.uuid5(calculation.footprint_id, after))}
    return doc


def find_published(
    engine: Engine,
    calculation: Calculation,
    *,
    document: Mapping[str, Any] | None = None,
    organisation: str | None = None,
) -> dict[str, Any] | None:
    """The stored PACT v3 document of ``calculation``'s footprint, or None if not published.

    That is the Active footprint stored under the calculation's id, else the Active footprint
    of its product and reference period (for ``organisation``, by default the model's
    ``product.company_name``) with the same content as ``document`` (the calculation's own
    PACT v3 document, made here when not given): what :func:`publish` returned for it.
    """
    document = document or product_footprint(calculation, version="3")
    owner = organisation or calculation.compiled.model.product.company_name
    with session_scope(engine) as session:
        stored = session.get(Footprint, calculation.footprint_id)
        if stored is not None and stored.status == ACTIVE:
            return dict(stored.document)
        try:
            org = repo.get_organisation(session, name=owner)
        except NotFoundError:
            return None
        product = repo.find_product(session, organisation=org, product_ids=document["productIds"])
        if product is None:
            return None
        period = repo.footprint_facts(document).reference_period
        current = repo.find_active_footprint(session, product=product, reference_period=period)
        if current is not None and same_content(current.document, document):
            return dict(current.document)
    return None


def same_content(a: Mapping[str, Any], b: Mapping[str, Any]) -> bool:
    """Whether two PACT documents agree on everything but :data:`VOLATILE_MEMBERS`."""
    keys = (set(a) | set(b)) - VOLATILE_MEMBERS
    return all(a.get(k) == b.get(k) for k in keys)


def _published(
    footprint: Footprint,
    organisation: str,
    *,
    new: bool,
    deprecated: uuid.UUID | None,
    dry_run: bool = False,
) -> PublishedFootprint:
    doc = dict(footprint.document)
    return PublishedFootprint(
        id=footprint.id,
        organisation=organisation,
        product_ids=tuple(doc["productIds"]),
        document=doc,
        new=new,
        deprecated=deprecated,
        dry_run=dry_run,
    )


def deliverable_footprint(
    calculation: Calculation,
    *,
    engine: Engine | None,
    pact_boundary: str = DEFAULT_PACT_BOUNDARY,
    allow_illustrative: bool = False,
) -> dict[str, Any]:
    """The PACT v3 document every deliverable of ``calculation`` carries.

    When the calculation is published, that is the stored document, exactly as
    ``GET /3/footprints/{id}`` serves it; otherwise the calculation's own document under its
    :attr:`~openpcf.model.calculation.Calculation.footprint_id`. Either way the rules of
    :func:`pact_document` apply first (``pact_boundary``, ``allow_illustrative``): a
    calculation that uses illustrative factors is not certified unless allowed.
    """
    own = pact_document(
        calculation, pact_boundary=pact_boundary, allow_illustrative=allow_illustrative
    )
    stored = find_published(engine, calculation, document=own) if engine is not None else None
    return stored if stored is not None else own


def stored_footprint(engine: Engine, footprint_id: str) -> dict[str, Any]:
    """The stored PACT v3 document with this id (any status).

    Raises
    ------
    InputError
        When ``footprint_id`` is not a UUID; :class:`NotFoundError` when nothing is stored
        under it.
    """
    try:
        key = uuid.UUID(footprint_id)
    except ValueError:
        raise InputError(f"{footprint_id!r} is not a footprint id (a UUID)") from None
    with session_scope(engine) as session:
        stored = session.get(Footprint, key)
        if stored is None:
            raise NotFoundError(f"no footprint {key} is stored in this database")
        return dict(stored.document)
