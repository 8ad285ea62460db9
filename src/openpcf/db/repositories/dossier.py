"""The compliance dossier's storage: SKUs (:class:`~openpcf.db.models.Sku`) and the evidence
held for them (:class:`~openpcf.db.models.Evidence`).

Both are per organisation: every lookup takes the organisation, and a SKU of another
organisation is not found (the same answer as a SKU that does not exist). The unique keys
are the database's: one ``(organisation, sku)``, one ``(sku, requirement, file digest)``.
Run the writers in :func:`~openpcf.db.concurrency.write_transaction`: when two processes add
the same row at once, the loser's unique violation is retried and finds the winner's row.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from openpcf.db.errors import DuplicateError, NotFoundError
from openpcf.db.models import Evidence, Sku


def find_sku(session: Session, *, organisation_id: int, sku: str) -> Sku | None:
    return session.scalars(
        select(Sku).where(Sku.organisation_id == organisation_id, Sku.sku == sku)
    ).one_or_none()


def get_sku(session: Session, *, organisation_id: int, sku: str) -> Sku:
    """The organisation's SKU.

    Raises
    ------
    NotFoundError
        No such SKU, or it belongs to another organisation (the same answer).
    """
    row = find_sku(session, organisation_id=organisation_id, sku=sku)
    if row is None:
        raise NotFoundError(f"no SKU {sku!r}; openpcf dossier sku add creates it")
    return row


def list_skus(session: Session, *, organisation_id: int) -> list[Sku]:
    """The organisation's SKUs, by SKU id."""
    return list(
        session.scalars(select(Sku).where(Sku.organisation_id == organisation_id).order_by(Sku.sku))
    )


def add_sku(
    session: Session,
    *,
    organisation_id: int,
    sku: str,
    name: str,
    cn_code: str,
    rules: str | None = None,
    product_urn: str | None = None,
) -> tuple[Sku, bool]:
    """The SKU, added (``True``) or, when held with the same data, the row held (``False``).

    Raises
    ------
    DuplicateError
        The organisation holds this SKU with another name, CN code, rules or product.
    """
    held = find_sku(session, organisation_id=organisation_id, sku=sku)
    if held is not None:
        if (held.name, held.cn_code, held.rules, held.product_urn) != (
            name,
            cn_code,
            rules,
            product_urn,
        ):
            raise DuplicateError(
                f"SKU {sku!r} is held with other data (name {held.name!r}, CN {held.cn_code}, "
                f"rules {held.rules}); choose another SKU id"
            )
        return held, False
    row = Sku(
        organisation_id=organisation_id,
        sku=sku,
        name=name,
        cn_code=cn_code,
        rules=rules,
        product_urn=product_urn,
    )
    session.add(row)
    session.flush()
    return row, True


def list_evidence(session: Session, *, sku: Sku) -> list[Evidence]:
    """The evidence of a SKU in the order it was recorded."""
    return list(
        session.scalars(select(Evidence).where(Evidence.sku_id == sku.id).order_by(Evidence.id))
    )


def add_evidence(
    session: Session,
    *,
    sku: Sku,
    requirement_id: str,
    document: str,
    issuer: str,
    accreditation: str,
    issued: dt.date,
    expires: dt.date | None,
    file_name: str,
    file_sha256: str,
) -> tuple[Evidence, bool]:
    """Record a document; the same file for the same requirement again is a no-op (the row
    held is returned with ``False``)."""
    held = session.scalars(
        select(Evidence).where(
            Evidence.sku_id == sku.id,
            Evidence.requirement_id == requirement_id,
            Evidence.file_sha256 == file_sha256,
        )
    ).one_or_none()
    if held is not None:
        return held, False
    row = Evidence(
        sku_id=sku.id,
        requirement_id=requirement_id,
        document=document,
        issuer=issuer,
        accreditation=accreditation,
        issued=issued,
        expires=expires,
        file_name=file_name,
        file_sha256=file_sha256,
    )
    session.add(row)
    session.flush()
    return row, True
