"""Organisations (data owners), their API clients and access grants, products, calculations."""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import secrets
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, NamedTuple

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from openpcf.db.engine import begin_write
from openpcf.db.errors import DuplicateError, NotFoundError, StorageError
from openpcf.db.models import (
    ApiClient,
    CalculationRecord,
    FootprintAccess,
    Organisation,
    Product,
)
from openpcf.errors import InputError

#: OAuth2 scopes of the PACT v3 OpenAPI (``securitySchemes``).
KNOWN_SCOPES: tuple[str, ...] = ("footprint:list", "footprint:read")
#: Scopes for the data owner's own integrations (the web application's back end, scripts):
#: manage its supplier data requests and answers, and its compliance dossier. Never granted by
#: default: a recipient's client gets :data:`KNOWN_SCOPES` only.
MANAGE_SCOPES: tuple[str, ...] = ("suppliers:manage", "dossier:manage")
GRANTABLE_SCOPES: tuple[str, ...] = KNOWN_SCOPES + MANAGE_SCOPES

# --------------------------------------------------------------------------------------------
# organisations


def create_organisation(
    session: Session, *, name: str, company_ids: Sequence[str] = ()
) -> Organisation:
    """A new data owner; the name is unique."""
    name = name.strip()
    if not name:
        raise InputError("an organisation needs a non-empty name")
    if session.scalar(select(Organisation).where(Organisation.name == name)) is not None:
        raise DuplicateError(f"organisation {name!r} exists already")
    org = Organisation(name=name, company_ids=list(company_ids))
    session.add(org)
    session.flush()
    return org


def get_organisation(session: Session, *, name: str) -> Organisation:
    org = session.scalar(select(Organisation).where(Organisation.name == name.strip()))
    if org is None:
        raise NotFoundError(
            f"no organisation {name!r}; publish a footprint for it first or create it"
        )
    return org


def ensure_organisation(
    session: Session, *, name: str, company_ids: Sequence[str] = ()
) -> Organisation:
    """The organisation called ``name``, created (with ``company_ids``) if it does not exist.

    Safe when several processes create the same new organisation at once: the insert runs in
    a SAVEPOINT, so when a concurrent transaction committed the name first and the unique
    constraint refuses ours, only the savepoint is rolled back and the winner's row is read
    (PostgreSQL's READ COMMITTED shows it to the next statement). On SQLite the savepoint
    is opened inside a write transaction (:func:`~openpcf.db.engine.begin_write`): Python's
    sqlite3 driver would run a SAVEPOINT outside a transaction as a transaction of its own,
    committed at its release.
    """
    try:
        return get_organisation(session, name=name)
    except NotFoundError:
        pass
    begin_write(session.connection())  # SQLite: a savepoint needs an open transaction
    try:
        with session.begin_nested():
            return create_organisation(session, name=name, company_ids=company_ids)
    except (IntegrityError, DuplicateError):
        # created by a concurrent transaction after our read: use theirs
        return get_organisation(session, name=name)


# --------------------------------------------------------------------------------------------
# API clients

#: scrypt parameters of new secret hashes. ``_SCRYPT_N`` (the cost: 2**14, 16 MiB and 50 to
#: 70 ms a hash) is read at each call, so the test suite lowers it for speed (tests/conftest.py);
#: every hash records its own n, r and p, so verification works whatever the cost of the day.
_SCRYPT_N, _SCRYPT_R, _SCRYPT_P, _SCRYPT_LEN = 2**14, 8, 1, 32


def hash_secret(secret: str, *, salt: bytes | None = None, n: int | None = None) -> str:
    """``scrypt$n$r$p$salt$hash`` of a client secret, with a random 16-byte salt.

    ``n`` is the scrypt cost (a power of two); the default is the module's ``_SCRYPT_N``.
    """
    salt = salt if salt is not None else secrets.token_bytes(16)
    n = _SCRYPT_N if n is None else n
    digest = _scrypt(secret, salt, n, _SCRYPT_R, _SCRYPT_P)
    b64 = base64.b64encode
    return f"scrypt${n}${_SCRYPT_R}${_SCRYPT_P}${b64(salt).decode()}${b64(digest).decode()}"


def verify_secret(secret: str, encoded: str) -> bool:
    """Whether ``secret`` matches ``encoded`` (a :func:`hash_secret` value), in constant time."""
    try:
        scheme, n, r, p, salt, digest = encoded.split("$")
        if scheme != "scrypt":
            return False
        expected = base64.b64decode(digest)
        actual = _scrypt(secret, base64.b64decode(salt), int(n), int(r), int(p))
    except ValueError:
        return False
    return hmac.compare_digest(actual, expected)


def _scrypt(secret: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(secret.encode(), salt=salt, n=n, r=r, p=p, dklen=_SCRYPT_LEN)


@functools.lru_cache(maxsize=4)
def _dummy_hash(n: int) -> str:
    """Compared against when the client id is unknown, so that both cases take the same time
    (at the cost new hashes are made with)."""
    return hash_secret("openpcf-dummy-secret", salt=b"\0" * 16, n=n)


class IssuedCredentials(NamedTuple):
    """A new client and its secret; the secret is shown once and never stored."""

    client: ApiClient
    secret: str

    @property
    def client_id(self) -> str:
        return self.client.client_id


def create_client(
    session: Session,
    *,
    organisation: Organisation,
    scopes: Iterable[str] = KNOWN_SCOPES,
    name: str = "",
) -> IssuedCredentials:
    """Issue OAuth2 client credentials for a recipient of ``organisation``'s footprints."""
    scopes = list(dict.fromkeys(scopes))
    unknown = [s for s in scopes if s not in GRANTABLE_SCOPES]
    if unknown:
        raise InputError(
            f"unknown scope(s) {', '.join(map(repr, unknown))}; use {', '.join(GRANTABLE_SCOPES)}"
        )
    secret = secrets.token_urlsafe(32)
    client = ApiClient(
        organisation_id=organisation.id,
        client_id=f"opcf-{secrets.token_hex(8)}",
        name=name,
        secret_hash=hash_secret(secret),
        scopes=scopes,
    )
    session.add(client)
    session.flush()
    return IssuedCredentials(client, secret)


def get_client(session: Session, *, client_id: str) -> ApiClient:
    client = session.scalar(select(ApiClient).where(ApiClient.client_id == client_id))
    if client is None:
        raise NotFoundError(f"no API client {client_id!r}")
    return client


def authenticate_client(session: Session, *, client_id: str, secret: str) -> ApiClient | None:
    """The enabled client with these credentials, or ``None`` (unknown id, wrong secret)."""
    client = session.scalar(select(ApiClient).where(ApiClient.client_id == client_id))
    ok = verify_secret(secret, client.secret_hash if client else _dummy_hash(_SCRYPT_N))
    if client is None or not ok or client.disabled:
        return None
    return client


def disable_client(session: Session, *, client: ApiClient) -> None:
    """Revoke a client's credentials (it authenticates and sees nothing any more)."""
    client.disabled = True
    session.flush()


def rotate_client(session: Session, *, client: ApiClient) -> IssuedCredentials:
    """New credentials for ``client``'s recipient; the old ones stop working at once.

    Design note: the new credentials are a new client (new id, new secret) with the same name,
    scopes and grants, and the old client is disabled. Access tokens are signed with the
    installation's secret, not the client's, so changing only the secret would leave tokens
    already issued with a leaked secret valid for up to an hour; disabling the old client
    stops them at the next request (every request loads the client).
    """
    if client.disabled:
        raise StorageError(f"client {client.client_id} is disabled; create a new client instead")
    issued = create_client(
        session,
        organisation=client.organisation,
        scopes=client.scopes,
        name=client.name,
    )
    granted = session.scalars(
        select(FootprintAccess.product_id).where(FootprintAccess.client_id == client.id)
    )
    for product_id in list(granted):
        session.add(FootprintAccess(client_id=issued.client.id, product_id=product_id))
    disable_client(session, client=client)
    return issued


def grant_access(session: Session, *, client: ApiClient, product: Product) -> FootprintAccess:
    """Let ``client`` see every footprint of ``product`` (idempotent)."""
    if product.organisation_id != client.organisation_id:
        raise StorageError(
            f"client {client.client_id} belongs to another organisation than product "
            f"{product.product_ids[0]}; a data owner can only share its own products"
        )
    grant = session.scalar(
        select(FootprintAccess).where(
            FootprintAccess.client_id == client.id, FootprintAccess.product_id == product.id
        )
    )
    if grant is None:
        grant = FootprintAccess(client_id=client.id, product_id=product.id)
        session.add(grant)
        session.flush()
    return grant


def revoke_access(session: Session, *, client: ApiClient, product: Product) -> bool:
    """Withdraw a grant; ``False`` when there was none."""
    grant = session.scalar(
        select(FootprintAccess).where(
            FootprintAccess.client_id == client.id, FootprintAccess.product_id == product.id
        )
    )
    if grant is None:
        return False
    session.delete(grant)
    session.flush()
    return True


# --------------------------------------------------------------------------------------------
# products and calculations


def find_product(
    session: Session, *, organisation: Organisation, product_ids: Iterable[str]
) -> Product | None:
    """The organisation's product known by any of ``product_ids`` (ignoring case), if any.

    Raises :class:`DuplicateError` when the ids name more than one product.
    """
    wanted = {p.strip().lower() for p in product_ids}
    products = session.scalars(
        select(Product).where(Product.organisation_id == organisation.id).order_by(Product.id)
    )
    found = [p for p in products if wanted & {i.lower() for i in p.product_ids}]
    if len(found) > 1:
        raise DuplicateError(
            f"product ids {', '.join(sorted(wanted))} name {len(found)} different products of "
            f"{organisation.name}; a product id must identify one product"
        )
    return found[0] if found else None


def get_product(session: Session, *, organisation: Organisation, product_id: str) -> Product:
    """The organisation's product with this product id (a URN, case-insensitive)."""
    product = find_product(session, organisation=organisation, product_ids=[product_id])
    if product is None:
        raise NotFoundError(f"{organisation.name} has no product {product_id!r}")
    return product


def upsert_product(
    session: Session,
    *,
    organisation: Organisation,
    product_ids: Sequence[str],
    name: str,
    cn_code: str | None = None,
    cpc: str | None = None,
) -> Product:
    """The product known by any of ``product_ids``, updated; or a new product.

    Product ids only accumulate: ids the product had before stay valid for recipients.

    Design note: a product has no unique key the database could check (its ids are a JSON
    list matched ignoring case), so two transactions could both find no product and create
    two, or both add ids and lose one of the updates. The organisation's row is locked first
    (:func:`lock_organisation`) so that product changes of one organisation happen one after
    the other and each reads what the previous one committed.
    """
    if not product_ids:
        raise InputError(f"product {name!r} needs at least one product id (a URN)")
    lock_organisation(session, organisation=organisation)
    product = find_product(session, organisation=organisation, product_ids=product_ids)
    if product is None:
        product = Product(organisation_id=organisation.id, product_ids=list(product_ids))
        session.add(product)
    else:
        known = {i.lower() for i in product.product_ids}
        product.product_ids = product.product_ids + [
            i for i in product_ids if i.lower() not in known
        ]
    product.name, product.cn_code, product.cpc = name, cn_code, cpc
    session.flush()
    return product


def lock_organisation(session: Session, *, organisation: Organisation) -> None:
    """Hold ``organisation``'s row locked until the transaction ends.

    PostgreSQL: ``SELECT … FOR UPDATE`` (a second locker waits for the first to commit).
    SQLite ignores the clause; a write transaction (``BEGIN IMMEDIATE``) already holds the
    whole database.
    """
    session.execute(
        select(Organisation.id).where(Organisation.id == organisation.id).with_for_update()
    )


def record_calculation(
    session: Session,
    *,
    product: Product,
    result: Mapping[str, Any],
    provenance: Mapping[str, Any],
    model_text: str | None = None,
) -> CalculationRecord:
    """Store the result (JSON-ready data) and provenance a footprint is made from, and the
    model's own text when the caller keeps it (``CalculationRecord.model_text``)."""
    record = CalculationRecord(
        product_id=product.id,
        model_sha256=str(provenance.get("model_sha256", "")),
        result=dict(result),
        provenance=dict(provenance),
        model_text=model_text,
    )
    session.add(record)
    session.flush()
    return record
