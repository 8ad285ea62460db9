"""What the verifiers' pages show, and the owners' grants that decide it.

Verifiers are third parties: a person signs in to their verification body V with the role
``verifier`` and sees the products that owners of other organisations granted to that
membership (:mod:`openpcf.db.repositories.web_grants`), read-only:

* :func:`granted_list`: the granted products and their stored footprints;
* :func:`granted_product_view` / :func:`granted_pact_json`: the product page and PACT document
  of one footprint of a granted product (the engineers' view,
  :func:`openpcf.services.web_products.product_view`, nothing recalculated);
* :func:`product_audit`: the audit trail of the calculations behind the product's footprints;
* :func:`package_contents`: an uploaded verification package's files, sizes and digests, the
  manifest check and the signature, before reproducing it (``/packages``).

Anything not granted is :class:`~openpcf.db.errors.NotFoundError` (404), as an unknown id.

Owners grant and revoke from the web page or the command line: :func:`grant`,
:func:`revoke` (by grant id, on the page), :func:`revoke_person` (by email, the CLI).

Design note, which audit records belong to a product. The host's trail
(``$OPENPCF_HOME/audit/trail.jsonl``) is one hash chain for every organisation on the host, and
its records name products by name and URN, which two organisations could share. A record is
shown for a product only when its ``result_sha256`` equals the SHA-256 of the canonical JSON
(RFC 8785) of a calculation result stored for one of the product's footprints: the same
digest :func:`openpcf.audit.calculation_record` writes. So a record is shown only when it
recorded exactly that result (a ``publish``, and a ``package`` or ``certificate`` run of the
same inputs), never another organisation's calculation. The chain's verdict is about the whole
trail (:func:`openpcf.audit.verify_trail`, the check of ``openpcf audit verify``); the page
says how many records the chain holds and its head, and shows no other record's content.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import rfc8785
from sqlalchemy import select

from openpcf.audit import AuditError, TrailTamperedError, list_records, verify_trail
from openpcf.db import repositories as repo
from openpcf.db.engine import session_scope
from openpcf.db.errors import NotFoundError
from openpcf.db.models import CalculationRecord, Footprint, Organisation, Product
from openpcf.db.repositories import web_grants
from openpcf.errors import InputError
from openpcf.package.archive import read_zip
from openpcf.package.format import MANIFEST, SIGNATURE, sha256
from openpcf.package.manifest import check_files, read_manifest
from openpcf.package.results import Findings
from openpcf.package.signature import check_signature
from openpcf.services.web_products import (
    PROVENANCE_KEYS,
    ProductView,
    pact_json,
    product_view,
)

if TYPE_CHECKING:
    from sqlalchemy import Engine

#: Longest email or product reference read from the grants form.
MAX_FIELD = 320

# --------------------------------------------------------------------------------------------
# the verifier's list and product page


@dataclass(frozen=True, slots=True, kw_only=True)
class GrantedFootprint:
    footprint_id: str
    status: str
    period_start: dt.date
    period_end: dt.date  # inclusive (PACT's end is exclusive)


@dataclass(frozen=True, slots=True, kw_only=True)
class GrantedProductRow:
    """A product granted to the verifier, with the organisation that granted it."""

    organisation: str
    name: str
    product_ids: tuple[str, ...]
    footprints: tuple[GrantedFootprint, ...]


def _inclusive(end: dt.datetime) -> dt.date:
    return (end - dt.timedelta(microseconds=1)).date()


def granted_list(engine: Engine, *, user_id: int, organisation_id: int) -> list[GrantedProductRow]:
    """The products granted to the person signed in to ``organisation_id`` as a verifier."""
    with session_scope(engine) as session:
        rows = web_grants.granted_products(
            session, user_id=user_id, organisation_id=organisation_id
        )
    return [
        GrantedProductRow(
            organisation=r.organisation,
            name=r.name,
            product_ids=r.product_ids,
            footprints=tuple(
                GrantedFootprint(
                    footprint_id=fid,
                    status=status,
                    period_start=start.date(),
                    period_end=_inclusive(end),
                )
                for fid, status, start, end in r.footprints
            ),
        )
        for r in rows
    ]


def _owner_of(engine: Engine, user_id: int, organisation_id: int, footprint_id: str) -> int:
    """The organisation owning ``footprint_id`` if its product is granted, else NotFound."""
    with session_scope(engine) as session:
        found = web_grants.granted_footprint(
            session, user_id=user_id, organisation_id=organisation_id, footprint_id=footprint_id
        )
        return found.organisation_id


def granted_product_view(
    engine: Engine, *, user_id: int, organisation_id: int, footprint_id: str
) -> tuple[str, ProductView]:
    """(the owner's name, the product page) of a footprint of a granted product.

    Raises
    ------
    NotFoundError
        No such footprint, or its product not granted to this verifier.
    """
    owner = _owner_of(engine, user_id, organisation_id, footprint_id)
    with session_scope(engine) as session:
        name = session.get_one(Organisation, owner).name
    return name, product_view(engine, organisation_id=owner, footprint_id=footprint_id)


def granted_pact_json(
    engine: Engine, *, user_id: int, organisation_id: int, footprint_id: str
) -> dict[str, Any]:
    """The stored PACT document of a footprint of a granted product (NotFound otherwise)."""
    owner = _owner_of(engine, user_id, organisation_id, footprint_id)
    return pact_json(engine, organisation_id=owner, footprint_id=footprint_id)


# --------------------------------------------------------------------------------------------
# the audit trail of a product's calculations

ChainState = Literal["intact", "tampered", "unreadable"]


@dataclass(frozen=True, slots=True, kw_only=True)
class TrailEntry:
    """One record of the hash chain that recorded a calculation of the product."""

    seq: int
    time: str
    kind: str
    hash: str
    prev: str
    actor: str
    context: tuple[tuple[str, str], ...]
    inputs: tuple[tuple[str, str], ...]  # the record's input digests and identities
    databases: tuple[tuple[str, str, str], ...]  # name, rows used, rows' SHA-256


@dataclass(frozen=True, slots=True, kw_only=True)
class CalculationAudit:
    """A calculation stored for the product's footprints, with the records of its result."""

    created: dt.datetime
    footprint_ids: tuple[str, ...]
    kg_co2e: float | None  # the stored result's total, kg CO2e per declared unit
    result_sha256: str
    provenance: tuple[tuple[str, str], ...]
    records: tuple[TrailEntry, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class AuditView:
    footprint_id: str
    name: str
    organisation: str
    product_ids: tuple[str, ...]
    chain: ChainState
    chain_records: int
    chain_head: str
    chain_message: str  # what is wrong when not intact, or an interrupted append's note
    calculations: tuple[CalculationAudit, ...]


#: The input identities of a record, in the order the page lists them.
RECORD_INPUTS = (
    "model_sha256",
    "parameters_sha256",
    "factor_rows_sha256",
    "factor_rows",
    "factor_set",
    "factor_set_sha256",
    "factor_sets_loaded",
    "rules",
    "gwp_set",
    "gwp_source",
    "solver",
    "openpcf_version",
)


def result_sha256(result: Mapping[str, Any]) -> str:
    """The digest the audit trail keeps of a result: SHA-256 of its RFC 8785 JSON."""
    return hashlib.sha256(rfc8785.dumps(dict(result))).hexdigest()


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) else None


def _hide(text: str, home: Path) -> str:
    """``text`` with the host's folder written ``$OPENPCF_HOME`` (verifiers are outsiders)."""
    return text.replace(str(home), "$OPENPCF_HOME")


def _text(value: Any) -> str:
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value)
    return "" if value is None else str(value)


def _entry(record: Any, home: Path) -> TrailEntry:
    data: Mapping[str, Any] = record.data
    context = data.get("context")
    databases = data.get("databases")
    return TrailEntry(
        seq=record.seq,
        time=record.time,
        kind=record.kind,
        hash=record.hash,
        prev=record.prev,
        actor=str(data.get("actor", "")),
        context=tuple((str(k), _hide(str(v), home)) for k, v in sorted(context.items()))
        if isinstance(context, dict)
        else (),
        inputs=tuple(
            (key, _hide(_text(data.get(key)), home))
            for key in RECORD_INPUTS
            if data.get(key) not in (None, "", [])
        ),
        databases=tuple(
            (str(d.get("name", "")), str(d.get("rows_used", "")), str(d.get("rows_sha256", "")))
            for d in databases
            if isinstance(d, dict)
        )
        if isinstance(databases, list)
        else (),
    )


def _chain(trail: Path, home: Path) -> tuple[ChainState, int, str, str, list[Any]]:
    """The chain's verdict, size, head and note, and its records (empty when not intact)."""
    try:
        report = verify_trail(trail)
        records = list_records(trail)
    except TrailTamperedError as e:
        return "tampered", 0, "", _hide(str(e), home), []
    except (AuditError, OSError) as e:
        return "unreadable", 0, "", _hide(str(e), home), []
    note = "" if report.artefact is None else _hide(str(report.artefact), home)
    return "intact", report.records, report.head, note, records


def product_audit(
    engine: Engine,
    *,
    trail: Path,
    home: Path,
    user_id: int,
    organisation_id: int,
    footprint_id: str,
) -> AuditView:
    """The audit trail of the calculations behind the footprints of a granted product.

    ``trail`` is the host's trail file (``settings.audit_trail``); ``home`` the host's folder,
    written ``$OPENPCF_HOME`` in what the page shows. See the module's design note for which
    records are shown.

    Raises
    ------
    NotFoundError
        No such footprint, or its product not granted to this verifier.
    """
    with session_scope(engine) as session:
        fp = web_grants.granted_footprint(
            session, user_id=user_id, organisation_id=organisation_id, footprint_id=footprint_id
        )
        product: Product = fp.product
        owner = session.get_one(Organisation, fp.organisation_id).name
        stored = session.execute(
            select(CalculationRecord, Footprint.id)
            .join(Footprint, Footprint.calculation_id == CalculationRecord.id)
            .where(
                Footprint.product_id == product.id,
                Footprint.organisation_id == fp.organisation_id,
            )
            .order_by(CalculationRecord.created, CalculationRecord.id)
        )
        calculations: dict[int, tuple[CalculationRecord, list[str]]] = {}
        for record, fid in stored:
            calculations.setdefault(record.id, (record, []))[1].append(str(fid))
        name, product_ids = product.name, tuple(product.product_ids)
        digests = {cid: result_sha256(r.result) for cid, (r, _) in calculations.items()}
    state, count, head, message, records = _chain(trail, home)
    by_digest: dict[str, list[TrailEntry]] = {}
    wanted = set(digests.values())
    for record in records:
        digest = record.data.get("result_sha256")
        if isinstance(digest, str) and digest in wanted:
            by_digest.setdefault(digest, []).append(_entry(record, home))
    return AuditView(
        footprint_id=str(fp.id),
        name=name,
        organisation=owner,
        product_ids=product_ids,
        chain=state,
        chain_records=count,
        chain_head=head,
        chain_message=message,
        calculations=tuple(
            CalculationAudit(
                created=record.created,
                footprint_ids=tuple(fids),
                kg_co2e=_number(record.result.get("kg_co2e")),
                result_sha256=digests[cid],
                provenance=tuple(
                    (k, str(record.provenance[k]))
                    for k in PROVENANCE_KEYS
                    if record.provenance.get(k)
                ),
                records=tuple(by_digest.get(digests[cid], ())),
            )
            for cid, (record, fids) in calculations.items()
        ),
    )


# --------------------------------------------------------------------------------------------
# a package's contents, before reproducing it

FileState = Literal["matches", "differs", "unlisted", "manifest", "signature"]


@dataclass(frozen=True, slots=True, kw_only=True)
class ContentFile:
    name: str
    size: int
    sha256: str
    state: FileState


@dataclass(frozen=True, slots=True, kw_only=True)
class PackageContents:
    """The files of a package as uploaded, checked against its manifest."""

    files: tuple[ContentFile, ...]
    missing: tuple[str, ...]  # listed in the manifest, not in the zip
    total_bytes: int
    facts: tuple[tuple[str, str], ...]  # the manifest's own statements
    intact: bool  # every listed file present with its digest, nothing unlisted
    problems: tuple[str, ...]
    notes: tuple[str, ...]
    signature: str


#: The manifest members the contents page states, in this order.
MANIFEST_FACTS = ("format", "created", "openpcf_version", "model", "gwp", "rules", "certificate")


def package_contents(path: Path, *, name: str = "package.zip") -> PackageContents:
    """The files of the package at ``path``, each with its size, SHA-256 and whether it
    matches the manifest, and the manifest signature checked with the keys inside the
    package (integrity, not origin; ``/packages`` reproduces it).

    Uses the checks of :func:`openpcf.services.packaging.reproduce_package`: the zip read
    within the package bounds (:func:`openpcf.package.archive.read_zip`), the manifest
    (:func:`~openpcf.package.manifest.read_manifest`), every digest
    (:func:`~openpcf.package.manifest.check_files`) and the signature
    (:func:`~openpcf.package.signature.check_signature`). Nothing is extracted or stored.

    Raises
    ------
    PackageError
        Not a zip, too costly to read, or no readable manifest (messages name ``name``).
    """
    contents = read_zip(path)
    manifest = read_manifest(contents, Path(name))
    found = Findings()
    check_files(contents, manifest, found)
    check_signature(contents, None, found)
    listed: Mapping[str, Any] = manifest.get("files") or {}
    files = []
    for member, data in sorted(contents.items()):
        digest = sha256(data)
        state: FileState
        if member == MANIFEST:
            state = "manifest"
        elif member == SIGNATURE:
            state = "signature"
        elif member not in listed:
            state = "unlisted"
        else:
            state = "matches" if listed[member] == digest else "differs"
        files.append(ContentFile(name=member, size=len(data), sha256=digest, state=state))
    result = manifest.get("result")
    facts = [(key, _text(manifest[key])) for key in MANIFEST_FACTS if manifest.get(key)]
    if isinstance(result, dict):
        facts.append(("kg_co2e", f"{result.get('kg_co2e')} / {result.get('declared_unit')}"))

    def hide(texts: list[str]) -> tuple[str, ...]:
        return tuple(t.replace(str(path), name) for t in texts)

    missing = tuple(sorted(str(m) for m in listed if m not in contents))
    intact = not missing and all(f.state not in ("differs", "unlisted") for f in files)
    return PackageContents(
        files=tuple(files),
        missing=missing,
        total_bytes=sum(f.size for f in files),
        facts=tuple(facts),
        intact=intact,
        problems=hide(found.problems),
        notes=hide(found.notes),
        signature=found.signature.replace(str(path), name),
    )


# --------------------------------------------------------------------------------------------
# the owners' grants


@dataclass(frozen=True, slots=True, kw_only=True)
class ProductChoice:
    """A product the owner may grant: ``ref`` is its first product id (the form's value)."""

    ref: str
    name: str


@dataclass(frozen=True, slots=True, kw_only=True)
class GrantsPage:
    grants: tuple[web_grants.GrantRow, ...]
    products: tuple[ProductChoice, ...]


def grants_page(engine: Engine, *, organisation_id: int) -> GrantsPage:
    """The organisation's grants and the products it may grant."""
    with session_scope(engine) as session:
        grants = web_grants.list_grants(session, organisation_id=organisation_id)
        products = session.scalars(
            select(Product)
            .where(Product.organisation_id == organisation_id)
            .order_by(Product.name, Product.id)
        )
        choices = tuple(
            ProductChoice(ref=p.product_ids[0], name=p.name) for p in products if p.product_ids
        )
    return GrantsPage(grants=tuple(grants), products=choices)


def _checked(value: str, what: str) -> str:
    text = value.strip()
    if not text:
        raise InputError(f"{what}: required")
    if len(text) > MAX_FIELD:
        raise InputError(f"{what}: at most {MAX_FIELD} characters")
    return text


def grant(
    engine: Engine,
    *,
    organisation_id: int,
    email: str,
    product: str,
    verifier_organisation: str = "",
    granted_by_id: int | None = None,
) -> tuple[str, bool]:
    """Let the verifier ``email`` see the organisation's ``product`` (a product id or a
    footprint id): (a sentence saying what was granted, whether the grant is new).

    Raises
    ------
    InputError
        No such person, not a verifier (in ``verifier_organisation``), or a verifier in several
        organisations and none named; an empty or overlong field.
    NotFoundError
        The organisation has no such product.
    """
    address = repo.normalise_email(_checked(email, "email"))
    ref = _checked(product, "product")
    with session_scope(engine, write=True) as session:
        organisation = session.get_one(Organisation, organisation_id)
        found = web_grants.find_org_product(session, organisation=organisation, ref=ref)
        account = repo.find_web_user(session, email=address)
        if account is None:
            raise InputError(
                f"no web user {address}: add them first with `openpcf web user add {address} "
                "--org VERIFICATION_BODY --role verifier`"
            )
        membership = web_grants.verifier_membership(
            session, account=account, verifier_organisation=verifier_organisation or None
        )
        body = session.get_one(Organisation, membership.organisation_id).name
        _, new = web_grants.grant_verifier(
            session,
            organisation=organisation,
            product=found,
            membership=membership,
            granted_by_id=granted_by_id,
        )
        said = "granted" if new else "was granted already"
        return f"{address} (verifier of {body}) {said}: {found.name} of {organisation.name}", new


def revoke(engine: Engine, *, organisation_id: int, grant_id: int) -> None:
    """Delete the organisation's grant ``grant_id`` (NotFound when it has none such)."""
    with session_scope(engine, write=True) as session:
        if not web_grants.revoke_grant(session, organisation_id=organisation_id, grant_id=grant_id):
            raise NotFoundError(f"no grant {grant_id}")


def revoke_person(engine: Engine, *, organisation_id: int, email: str, product: str) -> int:
    """Delete every grant of the person ``email`` on the organisation's ``product``; how
    many were deleted (0 when none existed).

    Raises
    ------
    NotFoundError
        The organisation has no such product.
    """
    address = repo.normalise_email(_checked(email, "email"))
    with session_scope(engine, write=True) as session:
        organisation = session.get_one(Organisation, organisation_id)
        found = web_grants.find_org_product(
            session, organisation=organisation, ref=_checked(product, "product")
        )
        account = repo.find_web_user(session, email=address)
        if account is None:
            return 0
        return web_grants.revoke_verifier(
            session, organisation=organisation, product=found, account=account
        )


__all__ = [
    "MANIFEST_FACTS",
    "RECORD_INPUTS",
    "AuditView",
    "CalculationAudit",
    "ContentFile",
    "GrantedProductRow",
    "GrantsPage",
    "PackageContents",
    "TrailEntry",
    "grant",
    "granted_list",
    "granted_pact_json",
    "granted_product_view",
    "grants_page",
    "package_contents",
    "product_audit",
    "result_sha256",
    "revoke",
    "revoke_person",
]
