"""Which products a verifier may see, granted by their owners (``web_verifier_grant``).

A verifier of a verification body V sees a product of organisation O only when every one of
these holds (see :mod:`openpcf.db.web_grants_models` for the model and its design note):

* the session is bound to V and the person's membership in V has the role ``verifier``;
* a grant names that membership and the product;
* the product belongs to O, the grant's organisation.

:func:`granted_footprint` answers anything else with :class:`~openpcf.db.errors.NotFoundError`,
the same as an id that does not exist, so the ids of products nobody granted cannot be probed.
Owners manage the grants of their own organisation only: every function that changes or lists
them takes the owner's organisation and never touches another's rows.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import NamedTuple

from sqlalchemy import Select, delete, select
from sqlalchemy.orm import Session

from openpcf.db.errors import NotFoundError
from openpcf.db.models import Footprint, Organisation, Product
from openpcf.db.web_grants_models import WebVerifierGrant
from openpcf.db.web_models import WebAccount, WebMembership
from openpcf.errors import InputError


class GrantRow(NamedTuple):
    """A grant as the owner's page lists it."""

    id: int
    product_id: int
    product_name: str
    product_ids: tuple[str, ...]
    email: str
    verifier_organisation: str
    granted_at: dt.datetime


class GrantedProduct(NamedTuple):
    """A product as the verifier's list shows it, with its stored footprints (newest first)."""

    organisation: str
    name: str
    product_ids: tuple[str, ...]
    footprints: tuple[tuple[str, str, dt.datetime, dt.datetime], ...]  # id, status, period


def find_org_product(session: Session, *, organisation: Organisation, ref: str) -> Product:
    """The organisation's product named by ``ref``: one of its PACT product ids (URN, any
    case) or the id of one of its footprints.

    Raises
    ------
    NotFoundError
        No product of the organisation answers to ``ref``.
    """
    text = ref.strip()
    try:
        footprint_id = uuid.UUID(text)
    except ValueError:
        footprint_id = None
    if footprint_id is not None:
        footprint = session.get(Footprint, footprint_id)
        if footprint is not None and footprint.organisation_id == organisation.id:
            return footprint.product
    wanted = text.lower()
    products = session.scalars(
        select(Product).where(Product.organisation_id == organisation.id).order_by(Product.id)
    )
    for product in products:
        if wanted in {i.lower() for i in product.product_ids}:
            return product
    raise NotFoundError(
        f"{organisation.name} has no product {text[:200]!r} (give one of its product ids, "
        "e.g. urn:..., or a footprint id)"
    )


def verifier_membership(
    session: Session, *, account: WebAccount, verifier_organisation: str | None = None
) -> WebMembership:
    """The person's ``verifier`` membership a grant names.

    ``verifier_organisation`` (the verification body's name) is needed only when the person
    is a verifier in more than one organisation.

    Raises
    ------
    InputError
        The person is no verifier (in that organisation), or is one in several and none was
        named.
    """
    query = (
        select(WebMembership, Organisation.name)
        .join(Organisation, Organisation.id == WebMembership.organisation_id)
        .where(WebMembership.user_id == account.id, WebMembership.role == "verifier")
        .order_by(Organisation.name)
    )
    if verifier_organisation:
        query = query.where(Organisation.name == verifier_organisation.strip())
    found = list(session.execute(query))
    if not found:
        where = f" in {verifier_organisation.strip()!r}" if verifier_organisation else ""
        raise InputError(
            f"{account.email} is not a verifier{where}: add the role first with "
            f"`openpcf web user add {account.email} --org VERIFICATION_BODY --role verifier`"
        )
    if len(found) > 1:
        names = ", ".join(name for _, name in found)
        raise InputError(
            f"{account.email} is a verifier in several organisations ({names}): name the "
            "verification body the grant is for"
        )
    membership: WebMembership = found[0][0]
    return membership


def grant_verifier(
    session: Session,
    *,
    organisation: Organisation,
    product: Product,
    membership: WebMembership,
    granted_by_id: int | None = None,
) -> tuple[WebVerifierGrant, bool]:
    """Let ``membership`` (a verifier) see ``product`` of ``organisation``: (grant, is new).

    Raises
    ------
    NotFoundError
        The product is not the organisation's.
    InputError
        The membership's role is not ``verifier``.
    """
    if product.organisation_id != organisation.id:
        raise NotFoundError(f"{organisation.name} has no product {product.id}")
    if membership.role != "verifier":
        raise InputError(f"the membership {membership.id} is {membership.role}, not verifier")
    existing = session.scalar(
        select(WebVerifierGrant).where(
            WebVerifierGrant.membership_id == membership.id,
            WebVerifierGrant.product_id == product.id,
        )
    )
    if existing is not None:
        return existing, False
    grant = WebVerifierGrant(
        organisation_id=organisation.id,
        product_id=product.id,
        membership_id=membership.id,
        granted_by_id=granted_by_id,
    )
    session.add(grant)
    session.flush()
    return grant, True


def revoke_grant(session: Session, *, organisation_id: int, grant_id: int) -> bool:
    """Delete the organisation's grant ``grant_id``; False when it has no such grant."""
    result = session.execute(
        delete(WebVerifierGrant).where(
            WebVerifierGrant.id == grant_id, WebVerifierGrant.organisation_id == organisation_id
        )
    )
    session.flush()
    return bool(result.rowcount)  # type: ignore[attr-defined]


def revoke_verifier(
    session: Session, *, organisation: Organisation, product: Product, account: WebAccount
) -> int:
    """Delete every grant of the person's memberships on the organisation's ``product``;
    the number deleted."""
    if product.organisation_id != organisation.id:
        raise NotFoundError(f"{organisation.name} has no product {product.id}")
    memberships = select(WebMembership.id).where(WebMembership.user_id == account.id)
    result = session.execute(
        delete(WebVerifierGrant).where(
            WebVerifierGrant.organisation_id == organisation.id,
            WebVerifierGrant.product_id == product.id,
            WebVerifierGrant.membership_id.in_(memberships),
        )
    )
    session.flush()
    return int(result.rowcount)  # type: ignore[attr-defined]


def list_grants(session: Session, *, organisation_id: int) -> list[GrantRow]:
    """The organisation's grants, by product name and email."""
    verifier_org = Organisation.__table__.alias("verifier_org")
    rows = session.execute(
        select(WebVerifierGrant, Product, WebAccount.email, verifier_org.c.name)
        .join(Product, Product.id == WebVerifierGrant.product_id)
        .join(WebMembership, WebMembership.id == WebVerifierGrant.membership_id)
        .join(WebAccount, WebAccount.id == WebMembership.user_id)
        .join(verifier_org, verifier_org.c.id == WebMembership.organisation_id)
        .where(WebVerifierGrant.organisation_id == organisation_id)
        .order_by(Product.name, WebAccount.email, WebVerifierGrant.id)
    )
    return [
        GrantRow(
            id=grant.id,
            product_id=product.id,
            product_name=product.name,
            product_ids=tuple(product.product_ids),
            email=email,
            verifier_organisation=org_name,
            granted_at=grant.granted_at,
        )
        for grant, product, email, org_name in rows
    ]


def _verifier_grants(user_id: int, organisation_id: int) -> Select[WebVerifierGrant]:
    """The grants of the person's ``verifier`` membership in the session's organisation
    (every condition in SQL; the caller joins the product on ``product_id``)."""
    return (
        select(WebVerifierGrant)
        .join(WebMembership, WebMembership.id == WebVerifierGrant.membership_id)
        .where(
            WebMembership.user_id == user_id,
            WebMembership.organisation_id == organisation_id,
            WebMembership.role == "verifier",
        )
    )


def granted_products(
    session: Session, *, user_id: int, organisation_id: int
) -> list[GrantedProduct]:
    """The products granted to the person signed in to ``organisation_id`` as a verifier,
    by owner and product name, each with its stored footprints (newest period first)."""
    grants = _verifier_grants(user_id, organisation_id).subquery()
    query = (
        select(Product, Organisation)
        .join(grants, grants.c.product_id == Product.id)
        .join(Organisation, Organisation.id == grants.c.organisation_id)
        .where(Product.organisation_id == grants.c.organisation_id)
    )
    rows = list(session.execute(query))
    product_ids = [product.id for product, _ in rows]
    footprints: dict[int, list[tuple[str, str, dt.datetime, dt.datetime]]] = {}
    if product_ids:
        stored = (
            select(Footprint)
            .where(Footprint.product_id.in_(product_ids))
            .order_by(Footprint.reference_period_start.desc(), Footprint.stored_at.desc())
        )
        for fp in session.scalars(stored):
            footprints.setdefault(fp.product_id, []).append(
                (str(fp.id), fp.status, fp.reference_period_start, fp.reference_period_end)
            )
    listed = [
        GrantedProduct(
            organisation=org.name,
            name=product.name,
            product_ids=tuple(product.product_ids),
            footprints=tuple(footprints.get(product.id, ())),
        )
        for product, org in rows
    ]
    return sorted(listed, key=lambda p: (p.organisation, p.name, p.product_ids))


def granted_footprint(
    session: Session, *, user_id: int, organisation_id: int, footprint_id: str
) -> Footprint:
    """The footprint ``footprint_id`` if its product is granted to the person signed in to
    ``organisation_id`` as a verifier.

    Raises
    ------
    NotFoundError
        Not a footprint id, no such footprint, or its product not granted (the same answer).
    """
    try:
        key = uuid.UUID(footprint_id)
    except ValueError:
        raise NotFoundError(f"no footprint {footprint_id[:64]!r}") from None
    grants = _verifier_grants(user_id, organisation_id).subquery()
    found = session.scalar(
        select(Footprint)
        .join(Product, Product.id == Footprint.product_id)
        .join(grants, grants.c.product_id == Product.id)
        .where(
            Footprint.id == key,
            Product.organisation_id == grants.c.organisation_id,
            Footprint.organisation_id == grants.c.organisation_id,
        )
    )
    if found is None:
        raise NotFoundError(f"no footprint {key}")
    return found


__all__ = [
    "GrantRow",
    "GrantedProduct",
    "find_org_product",
    "grant_verifier",
    "granted_footprint",
    "granted_products",
    "list_grants",
    "revoke_grant",
    "revoke_verifier",
    "verifier_membership",
]
