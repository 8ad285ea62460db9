"""The export compliance dossier's use cases: SKUs, evidence, the dossier of a SKU, the gaps.

Every function acts for one organisation: its id (HTTP: the token's own organisation,
:func:`~openpcf.services.pact.host.acting_organisation`) or its name (CLI ``--org``; adding a
SKU creates the organisation when it is new, reading never does). The requirement catalogue
is the bundled one unless a caller passes another (tests).

Evidence files are untrusted: at most :data:`MAX_EVIDENCE_BYTES` are read, only their
SHA-256 and name are stored (the document itself stays with its owner), and a document is
refused unless its requirement exists and covers the SKU's product. Writes run in
:func:`~openpcf.db.concurrency.write_transaction`, so recording the same file twice at once
leaves one row.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from openpcf.cbam.cn import normalise_cn
from openpcf.db import repositories as repo
from openpcf.db.concurrency import write_transaction
from openpcf.db.engine import session_scope
from openpcf.db.errors import NotFoundError
from openpcf.db.models import Evidence, Sku
from openpcf.db.models import Organisation as OrganisationRow
from openpcf.errors import InputError
from openpcf.files.bounded import read_bounded
from openpcf.model.loading import load_model
from openpcf.suppliers.dossier import (
    DEFAULT_WINDOW_DAYS,
    MARKETS,
    Catalogue,
    Dossier,
    EvidenceFact,
    SkuGaps,
    bundled_catalogue,
    check_market,
    dossier_rows,
    gaps_of,
    rank_gaps,
)

#: Largest evidence file read (a scanned certificate or test report is a few MB).
MAX_EVIDENCE_BYTES = 32 * 1024 * 1024
Organisation = int | str


@dataclass(frozen=True, slots=True, kw_only=True)
class SkuFields:
    """What a SKU is: its id, name, CN code (digits), rule-set or class id, product URN."""

    sku: str
    name: str
    cn_code: str
    rules: str | None = None
    product_urn: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Recorded:
    sku: str
    requirement_id: str
    file_sha256: str
    created: bool  # False: the same file was held for this requirement (no-op)


def sku_fields(
    *,
    sku: str,
    name: str | None,
    cn: str | None,
    rules: str | None = None,
    model: Path | None = None,
) -> SkuFields:
    """The SKU from flags, or from a product model (its ``product.ids[0]``, name, ``cn_code``
    and ``rules``), flags winning.

    Raises
    ------
    InputError
        No name or CN code, an invalid CN code, an empty SKU id.
    """
    urn = None
    if model is not None:
        loaded = load_model(model).model
        urn = loaded.product.ids[0]
        name = name or loaded.product.name
        cn = cn or loaded.product.cn_code
        rules = rules or (loaded.rules.partition("@")[0] if loaded.rules else None)
    sku = sku.strip()
    if not sku or len(sku) > 255:
        raise InputError("a SKU id is 1 to 255 characters")
    if not name or not name.strip():
        raise InputError(f"SKU {sku!r}: give its name (--name, or a model with product.name)")
    if not cn:
        raise InputError(f"SKU {sku!r}: give its CN code (--cn, or a model with product.cn_code)")
    return SkuFields(
        sku=sku,
        name=name.strip()[:500],
        cn_code=normalise_cn(cn, field=f"SKU {sku!r}: CN code"),
        rules=rules.strip() if rules else None,
        product_urn=urn,
    )


def _organisation_id(session: Session, organisation: Organisation, *, create: bool) -> int:
    if isinstance(organisation, int):
        return organisation
    if create:
        return repo.ensure_organisation(session, name=organisation).id
    return repo.get_organisation(session, name=organisation).id


def add_sku(engine: Engine, *, organisation: Organisation, fields: SkuFields) -> bool:
    """Add a SKU; ``False`` when it was held with the same data (a no-op)."""

    def work(session: Session) -> bool:
        org = _organisation_id(session, organisation, create=True)
        return repo.add_sku(
            session,
            organisation_id=org,
            sku=fields.sku,
            name=fields.name,
            cn_code=fields.cn_code,
            rules=fields.rules,
            product_urn=fields.product_urn,
        )[1]

    return write_transaction(engine, work, what=f"adding SKU {fields.sku}")


def list_skus(engine: Engine, *, organisation: Organisation) -> list[SkuFields]:
    with session_scope(engine) as session:
        try:
            org = _organisation_id(session, organisation, create=False)
        except NotFoundError:
            return []
        return [_fields(row) for row in repo.list_skus(session, organisation_id=org)]


def _fields(row: Sku) -> SkuFields:
    return SkuFields(
        sku=row.sku,
        name=row.name,
        cn_code=row.cn_code,
        rules=row.rules,
        product_urn=row.product_urn,
    )


def record_evidence(
    engine: Engine,
    *,
    organisation: Organisation,
    sku: str,
    requirement_id: str,
    content: bytes,
    file_name: str,
    issuer: str,
    issued: dt.date,
    expires: dt.date | None = None,
    accreditation: str = "",
    document: str | None = None,
    catalogue: Catalogue | None = None,
) -> Recorded:
    """Record a document held for a SKU against one requirement.

    Raises
    ------
    NotFoundError
        No such SKU for this organisation.
    InputError
        Unknown requirement, one that does not cover the SKU's product, an empty file or
        issuer, an expiry before the issue date.
    """
    catalogue = catalogue or bundled_catalogue()
    requirement = catalogue.get(requirement_id)
    if not content:
        raise InputError(f"{file_name}: the evidence file is empty")
    if len(content) > MAX_EVIDENCE_BYTES:
        raise InputError(
            f"{file_name}: the evidence file is larger than {MAX_EVIDENCE_BYTES} bytes"
        )
    if not issuer.strip():
        raise InputError("give the document's issuer")
    if expires is not None and expires < issued:
        raise InputError(f"expiry {expires} is before the issue date {issued}")
    digest = hashlib.sha256(content).hexdigest()
    name = Path(file_name).name[:500] or "evidence"

    def work(session: Session) -> Recorded:
        org = _organisation_id(session, organisation, create=False)
        row = repo.get_sku(session, organisation_id=org, sku=sku)
        if not requirement.applies(cn=row.cn_code, rules=row.rules):
            raise InputError(
                f"requirement {requirement.id} does not apply to SKU {sku} (CN {row.cn_code}, "
                f"rules {row.rules or 'none'}); openpcf dossier show {sku} lists the ones "
                "that do"
            )
        _, created = repo.add_evidence(
            session,
            sku=row,
            requirement_id=requirement.id,
            document=(document or requirement.document.en).strip()[:500],
            issuer=issuer.strip()[:500],
            accreditation=accreditation.strip()[:500],
            issued=issued,
            expires=expires,
            file_name=name,
            file_sha256=digest,
        )
        return Recorded(sku=sku, requirement_id=requirement.id, file_sha256=digest, created=created)

    return write_transaction(engine, work, what=f"recording evidence for SKU {sku}")


def record_evidence_file(engine: Engine, *, path: Path, **kwargs: object) -> Recorded:
    """:func:`record_evidence` of a file read within :data:`MAX_EVIDENCE_BYTES`."""
    content = read_bounded(path, limit=MAX_EVIDENCE_BYTES, error=InputError)
    return record_evidence(engine, content=content, file_name=path.name, **kwargs)  # type: ignore[arg-type]


def _facts(rows: list[Evidence]) -> list[EvidenceFact]:
    return [
        EvidenceFact(
            requirement_id=e.requirement_id,
            document=e.document,
            issuer=e.issuer,
            accreditation=e.accreditation,
            issued=e.issued,
            expires=e.expires,
            file_name=e.file_name,
            file_sha256=e.file_sha256,
        )
        for e in rows
    ]


def sku_dossier(
    engine: Engine,
    *,
    organisation: Organisation,
    sku: str,
    market: str | None,
    on: dt.date,
    window_days: int = DEFAULT_WINDOW_DAYS,
    catalogue: Catalogue | None = None,
) -> Dossier:
    """The dossier of one SKU for ``market`` on ``on``.

    Raises
    ------
    NotFoundError
        No such SKU for this organisation.
    """
    check_market(market)
    catalogue = catalogue or bundled_catalogue()
    with session_scope(engine) as session:
        org = _organisation_id(session, organisation, create=False)
        row = repo.get_sku(session, organisation_id=org, sku=sku)
        owner = session.get(OrganisationRow, org)
        org_name = owner.name if owner is not None else str(organisation)
        facts = _facts(repo.list_evidence(session, sku=row))
        rows = dossier_rows(
            catalogue,
            cn=row.cn_code,
            rules=row.rules,
            market=market,
            on=on,
            evidence=facts,
            window_days=window_days,
        )
        return Dossier(
            organisation=org_name,
            sku=row.sku,
            name=row.name,
            cn_code=row.cn_code,
            rules=row.rules,
            market=market,
            on=on,
            window_days=window_days,
            rows=tuple(rows),
        )


def gaps(
    engine: Engine,
    *,
    organisation: Organisation,
    market: str | None,
    on: dt.date,
    window_days: int = DEFAULT_WINDOW_DAYS,
    catalogue: Catalogue | None = None,
) -> list[SkuGaps]:
    """The organisation's SKUs with gaps, most urgent first
    (:func:`~openpcf.suppliers.dossier.rank_gaps` states the rule)."""
    check_market(market)
    catalogue = catalogue or bundled_catalogue()
    items = []
    with session_scope(engine) as session:
        try:
            org = _organisation_id(session, organisation, create=False)
        except NotFoundError:
            return []
        for row in repo.list_skus(session, organisation_id=org):
            rows = dossier_rows(
                catalogue,
                cn=row.cn_code,
                rules=row.rules,
                market=market,
                on=on,
                evidence=_facts(repo.list_evidence(session, sku=row)),
                window_days=window_days,
            )
            items.append(gaps_of(row.sku, row.name, market or "all", rows))
    return rank_gaps(items)


__all__ = [
    "MARKETS",
    "MAX_EVIDENCE_BYTES",
    "Recorded",
    "SkuFields",
    "add_sku",
    "gaps",
    "list_skus",
    "record_evidence",
    "record_evidence_file",
    "sku_dossier",
    "sku_fields",
]
