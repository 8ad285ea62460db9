"""Repositories on SQLite and PostgreSQL: access isolation, v3 filters, immutability, events.

Every test here runs twice through the ``engine`` fixture (tests/db_fixtures.py): on a SQLite
file and on a throwaway PostgreSQL cluster (marked ``postgres``).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.exc import IntegrityError, StatementError
from sqlalchemy.orm import Session

from openpcf.db import repositories as repo
from openpcf.db.engine import session_scope
from openpcf.db.errors import (
    DuplicateError,
    FootprintDocumentError,
    ImmutableFootprintError,
    NotFoundError,
    ReplayedEventError,
    StorageError,
)
from openpcf.db.models import (
    ACTIVE,
    DEPRECATED,
    ApiClient,
    Event,
    Footprint,
    Organisation,
    OutboxEvent,
    Product,
)
from openpcf.db.repositories import owners
from openpcf.exchange.criteria import FootprintFilter

UTC = dt.UTC


def t(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=UTC)


def make_doc(product_ids: list[str], **changes: Any) -> dict[str, Any]:
    """A small PACT v3 ProductFootprint; ``pcf__x=...`` changes ``pcf.x``."""
    doc: dict[str, Any] = {
        "id": str(uuid.uuid4()),
        "specVersion": "3.0.0",
        "created": "2025-01-10T00:00:00Z",
        "status": "Active",
        "companyName": "Acme",
        "companyIds": ["urn:pact:acme.example:company-id:1"],
        "productDescription": "A product",
        "productIds": product_ids,
        "productNameCompany": "Product",
        "pcf": {
            "declaredUnitOfMeasurement": "kilogram",
            "declaredUnitAmount": "1",
            "productMassPerDeclaredUnit": "1",
            "referencePeriodStart": "2023-01-01T00:00:00Z",
            "referencePeriodEnd": "2024-01-01T00:00:00Z",
            "pcfExcludingBiogenicUptake": "1.5",
            "pcfIncludingBiogenicUptake": "1.5",
            "fossilGhgEmissions": "1.5",
            "fossilCarbonContent": "0",
            "ipccCharacterizationFactors": ["AR6"],
            "crossSectoralStandards": ["ISO14067"],
            "exemptedEmissionsPercent": "0",
        },
    }
    for key, value in changes.items():
        if key.startswith("pcf__"):
            doc["pcf"][key[5:]] = value
        elif value is None:
            doc.pop(key, None)
        else:
            doc[key] = value
    return doc


@pytest.fixture(autouse=True)
def cheap_secret_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """scrypt with n = 2**10 instead of 2**14 here: the hash records n, so checks still work."""
    monkeypatch.setattr(owners, "_SCRYPT_N", 2**10)


@dataclass
class World:
    """Two data owners; Acme has three products and two clients, Other one of each.

    ========  =======================  ===========================================
    ref       product ids              document
    ========  =======================  ===========================================
    f1        urn:acme:p1              country CN, classification urn:cpc:41231,
                                       company urn:…:company-id:1, ref end 2024-01-01
    f2        urn:acme:p2, urn:gtin:2  subdivision DE-BY, classification urn:cpc:999,
                                       company urn:…:company-id:2, ref end 2025-01-01
    f3        urn:acme:p3              region Eastern Asia, explicit validity
                                       2024-06-01 … 2025-06-01, created later
    fb        urn:other:p              Other's footprint, country CN
    ========  =======================  ===========================================

    Grants: ``a_all`` sees p1, p2, p3; ``a_one`` sees p1 only; ``b`` sees Other's product.
    """

    acme: Organisation
    other: Organisation
    products: dict[str, Product]
    a_all: ApiClient
    a_one: ApiClient
    b: ApiClient
    f: dict[str, Footprint]


@pytest.fixture
def world(engine: Engine) -> World:
    with session_scope(engine) as s:
        acme = repo.create_organisation(s, name="Acme")
        other = repo.create_organisation(s, name="Other")
        p = {
            "p1": repo.upsert_product(s, organisation=acme, product_ids=["urn:acme:p1"], name="1"),
            "p2": repo.upsert_product(
                s, organisation=acme, product_ids=["urn:acme:p2", "urn:gtin:2"], name="2"
            ),
            "p3": repo.upsert_product(s, organisation=acme, product_ids=["urn:acme:p3"], name="3"),
            "pb": repo.upsert_product(s, organisation=other, product_ids=["urn:other:p"], name="b"),
        }
        docs = {
            "f1": make_doc(
                ["urn:acme:p1"],
                pcf__geographyCountry="CN",
                productClassifications=["urn:cpc:41231"],
            ),
            "f2": make_doc(
                ["urn:acme:p2", "urn:gtin:2"],
                created="2025-01-11T00:00:00Z",
                companyIds=["urn:pact:acme.example:company-id:2"],
                productClassifications=["urn:cpc:999"],
                pcf__geographyCountrySubdivision="DE-BY",
                pcf__referencePeriodStart="2024-01-01T00:00:00Z",
                pcf__referencePeriodEnd="2025-01-01T00:00:00Z",
            ),
            "f3": make_doc(
                ["urn:acme:p3"],
                created="2025-01-12T00:00:00Z",
                validityPeriodStart="2024-06-01T00:00:00Z",
                validityPeriodEnd="2025-06-01T00:00:00Z",
                pcf__geographyRegionOrSubregion="Eastern Asia",
            ),
            "fb": make_doc(["urn:other:p"], pcf__geographyCountry="CN"),
        }
        owners = {"f1": "p1", "f2": "p2", "f3": "p3", "fb": "pb"}
        f = {
            k: repo.publish_footprint(
                s,
                organisation=other if k == "fb" else acme,
                product=p[owners[k]],
                document=doc,
            )
            for k, doc in docs.items()
        }
        a_all = repo.create_client(s, organisation=acme).client
        a_one = repo.create_client(s, organisation=acme).client
        b = repo.create_client(s, organisation=other).client
        for key in ("p1", "p2", "p3"):
            repo.grant_access(s, client=a_all, product=p[key])
        repo.grant_access(s, client=a_one, product=p["p1"])
        repo.grant_access(s, client=b, product=p["pb"])
    return World(acme, other, p, a_all, a_one, b, f)


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    with session_scope(engine) as s:
        yield s


def ids(page: repo.FootprintPage, world: World) -> set[str]:
    names = {fp.id: name for name, fp in world.f.items()}
    return {names[fp.id] for fp in page.items}


# --------------------------------------------------------------------------------------------
# clients


def test_client_secret_is_hashed_and_checked(engine: Engine) -> None:
    with session_scope(engine) as s:
        org = repo.create_organisation(s, name="Acme")
        issued = repo.create_client(s, organisation=org, scopes=["footprint:list"], name="Buyer")
    with session_scope(engine) as s:
        stored = repo.get_client(s, client_id=issued.client_id)
        assert stored.secret_hash.startswith("scrypt$1024$8$1$")
        assert issued.secret not in stored.secret_hash
        assert stored.scopes == ["footprint:list"]
        ok = repo.authenticate_client(s, client_id=issued.client_id, secret=issued.secret)
        assert ok is not None
        assert ok.id == stored.id
        assert repo.authenticate_client(s, client_id=issued.client_id, secret="wrong") is None
        assert repo.authenticate_client(s, client_id="opcf-unknown", secret=issued.secret) is None
        repo.disable_client(s, client=stored)
        assert repo.authenticate_client(s, client_id=issued.client_id, secret=issued.secret) is None


def test_secret_hash_uses_the_production_cost(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.undo()
    encoded = repo.hash_secret("s3cret")
    assert encoded.startswith("scrypt$16384$8$1$")
    assert repo.verify_secret("s3cret", encoded)
    assert not repo.verify_secret("s3cret!", encoded)
    assert not repo.verify_secret("s3cret", "plaintext")


def test_two_clients_get_different_salts(engine: Engine) -> None:
    with session_scope(engine) as s:
        org = repo.create_organisation(s, name="Acme")
        a, b = (repo.create_client(s, organisation=org).client for _ in range(2))
        assert a.secret_hash.split("$")[4] != b.secret_hash.split("$")[4]
        assert a.client_id != b.client_id


def test_unknown_scope_is_refused(session: Session) -> None:
    org = repo.create_organisation(session, name="Acme")
    with pytest.raises(ValueError, match="footprint:write"):
        repo.create_client(session, organisation=org, scopes=["footprint:write"])


def test_grant_across_organisations_is_refused(world: World, session: Session) -> None:
    client = session.get(ApiClient, world.a_all.id)
    product = session.get(Product, world.products["pb"].id)
    assert client is not None
    assert product is not None
    with pytest.raises(StorageError, match="another organisation"):
        repo.grant_access(session, client=client, product=product)


# --------------------------------------------------------------------------------------------
# isolation


def test_client_sees_only_what_was_shared_with_it(world: World, session: Session) -> None:
    assert ids(repo.list_footprints(session, client=world.a_all), world) == {"f1", "f2", "f3"}
    assert ids(repo.list_footprints(session, client=world.a_one), world) == {"f1"}
    assert ids(repo.list_footprints(session, client=world.b), world) == {"fb"}


@pytest.mark.parametrize(
    ("client", "footprint"),
    [("a_one", "f2"), ("a_one", "f3"), ("a_all", "fb"), ("b", "f1")],
)
def test_get_never_reveals_a_footprint_not_shared(
    world: World, session: Session, client: str, footprint: str
) -> None:
    who = getattr(world, client)
    hidden = world.f[footprint].id
    with pytest.raises(NotFoundError) as shared_elsewhere:
        repo.get_footprint(session, client=who, pf_id=hidden)
    unknown = uuid.uuid4()
    with pytest.raises(NotFoundError) as missing:
        repo.get_footprint(session, client=who, pf_id=unknown)
    # same message for "exists but not yours" and "does not exist"
    assert str(shared_elsewhere.value).replace(str(hidden), "?") == str(missing.value).replace(
        str(unknown), "?"
    )


def test_filters_never_reach_footprints_shared_with_another_client(
    world: World, session: Session
) -> None:
    for f in (
        FootprintFilter(product_ids=("urn:acme:p2", "urn:other:p")),
        FootprintFilter(geographies=("DE-BY", "cn")),
        FootprintFilter(classifications=("urn:cpc:999",)),
        FootprintFilter(statuses=("Active",)),
    ):
        assert ids(repo.list_footprints(session, client=world.a_one, filters=f), world) <= {"f1"}


def test_get_returns_a_shared_footprint(world: World, session: Session) -> None:
    got = repo.get_footprint(session, client=world.a_all, pf_id=str(world.f["f2"].id))
    assert got.document["productIds"] == ["urn:acme:p2", "urn:gtin:2"]
    with pytest.raises(NotFoundError):
        repo.get_footprint(session, client=world.a_all, pf_id="not-a-uuid")


def test_disabled_or_revoked_client_sees_nothing(world: World, session: Session) -> None:
    client = session.get(ApiClient, world.a_all.id)
    product = session.get(Product, world.products["p1"].id)
    assert client is not None
    assert product is not None
    assert repo.revoke_access(session, client=client, product=product)
    assert ids(repo.list_footprints(session, client=client), world) == {"f2", "f3"}
    repo.disable_client(session, client=client)
    assert repo.list_footprints(session, client=client).items == []


# --------------------------------------------------------------------------------------------
# v3 filters


V3_FILTER_CASES: list[tuple[dict[str, Any], set[str]]] = [
    ({}, {"f1", "f2", "f3"}),
    ({"productId": "urn:acme:p1"}, {"f1"}),
    ({"productId": "URN:GTIN:2"}, {"f2"}),  # any of the ids, case-insensitive
    ({"productId": ["urn:acme:p1", "urn:acme:p3", "urn:bogus"]}, {"f1", "f3"}),  # ORed
    ({"productId": "urn:other:p"}, set()),  # another owner's product
    ({"companyId": "urn:pact:acme.example:company-id:2"}, {"f2"}),
    ({"companyId": ["urn:bogus:1", "urn:bogus:2"]}, set()),
    ({"geography": "cn"}, {"f1"}),  # country
    ({"geography": "de-by"}, {"f2"}),  # subdivision
    ({"geography": "EASTERN ASIA"}, {"f3"}),  # region
    ({"geography": ["CN", "DE-BY"]}, {"f1", "f2"}),
    ({"geography": "XX"}, set()),
    ({"classification": "URN:CPC:41231"}, {"f1"}),
    ({"classification": ["urn:cpc:41231", "urn:cpc:999"]}, {"f1", "f2"}),
    ({"status": "active"}, {"f1", "f2", "f3"}),
    ({"status": "Deprecated"}, set()),
    ({"status": "BogusStatus"}, set()),  # unknown status: empty, not an error
    # parameters are ANDed
    ({"productId": ["urn:acme:p1", "urn:acme:p2"], "geography": "DE-BY"}, {"f2"}),
    (
        {"companyId": "urn:pact:acme.example:company-id:1", "classification": "urn:cpc:999"},
        set(),
    ),
    ({"status": "Active", "productId": "urn:acme:p3"}, {"f3"}),
]


def test_v3_filters(world: World, session: Session) -> None:
    """Each query of :data:`V3_FILTER_CASES` finds exactly the footprints listed with it."""
    wrong = []
    for query, expected in V3_FILTER_CASES:
        f = FootprintFilter.from_query(query)
        found = ids(repo.list_footprints(session, client=world.a_all, filters=f), world)
        if found != expected:
            wrong.append((query, found, expected))
    assert wrong == []


VALIDITY_CASES: list[tuple[str, str, set[str]]] = [
    # f1: no validity period, reference period end 2024-01-01 → valid 2024-01-01 … 2027-01-01
    # f2: reference period end 2025-01-01 → valid 2025-01-01 … 2028-01-01
    # f3: explicit validity 2024-06-01 … 2025-06-01
    ("validOn", "2024-01-01T00:00:00Z", {"f1"}),  # f1's start, inclusive
    ("validOn", "2027-01-01T00:00:00Z", {"f1", "f2"}),  # f1's end, inclusive
    ("validOn", "2027-01-01T00:00:01Z", {"f2"}),
    ("validOn", "2025-03-01T00:00:00Z", {"f1", "f2", "f3"}),
    ("validOn", "1900-01-01T00:00:00Z", set()),
    ("validAfter", "2023-12-31T00:00:00Z", {"f1", "f2", "f3"}),  # start > value
    ("validAfter", "2024-01-01T00:00:00Z", {"f2", "f3"}),  # strict: f1 starts then
    ("validAfter", "2099-12-31T23:59:59Z", set()),
    ("validBefore", "2027-01-01T00:00:01Z", {"f1", "f3"}),  # end < value
    ("validBefore", "2027-01-01T00:00:00Z", {"f3"}),  # strict
    ("validBefore", "2025-06-01T00:00:00-02:00", {"f3"}),  # 02:00Z, after f3's end
    ("validBefore", "1900-01-01T00:00:00Z", set()),
]


def test_validity_filters_with_default_validity(world: World, session: Session) -> None:
    """Each filter of :data:`VALIDITY_CASES` finds exactly the footprints listed with it."""
    wrong = []
    for name, moment, expected in VALIDITY_CASES:
        f = FootprintFilter.from_query({name: moment})
        found = ids(repo.list_footprints(session, client=world.a_all, filters=f), world)
        if found != expected:
            wrong.append((name, moment, found, expected))
    assert wrong == []


def test_default_validity_is_three_calendar_years() -> None:
    assert repo.add_years(t("2024-02-29T00:00:00"), 3) == t("2027-02-28T00:00:00")
    facts = repo.footprint_facts(make_doc(["urn:x"]))
    assert facts.validity == (t("2024-01-01T00:00:00"), t("2027-01-01T00:00:00"))


def test_bad_filter_date_is_an_input_error() -> None:
    with pytest.raises(ValueError, match="validOn"):
        FootprintFilter.from_query({"validOn": "yesterday"})
    with pytest.raises(ValueError, match="time zone"):
        FootprintFilter.from_query({"validOn": "2024-01-01T00:00:00"})


def test_pages_are_stable_and_in_publishing_order(world: World, session: Session) -> None:
    first = repo.list_footprints(session, client=world.a_all, limit=2)
    assert ids(first, world) == {"f1", "f2"}
    assert first.next_key is not None
    assert first.next_key.id == first.items[-1].id
    again = repo.list_footprints(session, client=world.a_all, limit=2)
    assert [fp.id for fp in again.items] == [fp.id for fp in first.items]
    last = repo.list_footprints(session, client=world.a_all, limit=2, after=first.next_key)
    assert ids(last, world) == {"f3"}
    assert last.next_key is None
    with pytest.raises(ValueError, match="limit"):
        repo.list_footprints(session, client=world.a_all, limit=0)


# --------------------------------------------------------------------------------------------
# immutability (PACT v3 ADR-41)


def test_replacing_deprecates_the_old_footprint(world: World, engine: Engine) -> None:
    old_id = world.f["f1"].id
    original = dict(world.f["f1"].document)
    with session_scope(engine) as s:
        org = s.get(Organisation, world.acme.id)
        product = s.get(Product, world.products["p1"].id)
        old = s.get(Footprint, old_id)
        assert org is not None
        assert product is not None
        assert old is not None
        doc = make_doc(
            ["urn:acme:p1"], created="2025-02-01T00:00:00Z", pcf__pcfExcludingBiogenicUptake="1.6"
        )
        new = repo.publish_footprint(
            s,
            organisation=org,
            product=product,
            document=doc,
            preceding=[old],
            now=t("2025-02-01T00:00:00"),
        )
        new_id = new.id
        assert "precedingPfIds" not in doc  # the caller's document is not modified
    with session_scope(engine) as s:  # what was committed
        stored_old, stored_new = s.get(Footprint, old_id), s.get(Footprint, new_id)
        assert stored_old is not None
        assert stored_new is not None
        assert stored_old.status == DEPRECATED
        assert stored_old.document["status"] == "Deprecated"
        assert stored_old.status_changed_at == t("2025-02-01T00:00:00")
        assert {k: v for k, v in stored_old.document.items() if k != "status"} == {
            k: v for k, v in original.items() if k != "status"
        }
        assert stored_new.status == ACTIVE
        assert stored_new.document["precedingPfIds"] == [str(old_id)]
        assert stored_new.preceding_pf_ids == [str(old_id)]
        client = s.get(ApiClient, world.a_one.id)
        assert client is not None
        listed = repo.list_footprints(s, client=client)
        assert [fp.id for fp in listed.items] == [old_id, new_id]  # deprecated ones stay listed
        active = repo.list_footprints(
            s, client=client, filters=FootprintFilter(statuses=("Active",))
        )
        assert [fp.id for fp in active.items] == [new_id]


def test_deprecated_footprint_cannot_be_replaced_again(world: World, session: Session) -> None:
    org = session.get(Organisation, world.acme.id)
    product = session.get(Product, world.products["p1"].id)
    old = session.get(Footprint, world.f["f1"].id)
    assert org is not None
    assert product is not None
    assert old is not None
    repo.publish_footprint(
        session,
        organisation=org,
        product=product,
        document=make_doc(["urn:acme:p1"]),
        preceding=[old],
    )
    with pytest.raises(ImmutableFootprintError, match="Deprecated already"):
        repo.publish_footprint(
            session,
            organisation=org,
            product=product,
            document=make_doc(["urn:acme:p1"]),
            preceding=[old],
        )


def test_ids_listed_in_the_document_are_deprecated_too(world: World, session: Session) -> None:
    org = session.get(Organisation, world.acme.id)
    product = session.get(Product, world.products["p1"].id)
    assert org is not None
    assert product is not None
    doc = make_doc(["urn:acme:p1"], precedingPfIds=[str(world.f["f1"].id)])
    repo.publish_footprint(session, organisation=org, product=product, document=doc)
    old = session.get(Footprint, world.f["f1"].id)
    assert old is not None
    assert old.status == DEPRECATED


@pytest.mark.parametrize(
    "change",
    [
        lambda fp: setattr(fp, "document", {**fp.document, "companyName": "Someone else"}),
        lambda fp: setattr(fp, "document", {**fp.document, "status": "Deprecated"}),  # row Active
        lambda fp: setattr(fp, "geography_country", "FR"),
        lambda fp: setattr(fp, "created", t("2020-01-01T00:00:00")),
    ],
)
def test_stored_footprint_cannot_be_edited(world: World, engine: Engine, change: Any) -> None:
    with session_scope(engine) as s:
        fp = s.get(Footprint, world.f["f2"].id)
        change(fp)
        with pytest.raises(ImmutableFootprintError):
            s.flush()
        s.rollback()
    with session_scope(engine) as s:
        fp = s.get(Footprint, world.f["f2"].id)
        assert fp is not None
        assert fp.document == world.f["f2"].document


def test_deprecated_footprint_never_changes_again(world: World, session: Session) -> None:
    fp = session.get(Footprint, world.f["f1"].id)
    assert fp is not None
    repo.deprecate_footprint(session, footprint=fp)
    repo.deprecate_footprint(session, footprint=fp)  # idempotent
    fp.status = ACTIVE
    fp.document = {**fp.document, "status": "Active"}
    with pytest.raises(ImmutableFootprintError, match="can never change again"):
        session.flush()


def test_v2_document_gets_a_new_version_when_deprecated(world: World, session: Session) -> None:
    org = session.get(Organisation, world.acme.id)
    product = session.get(Product, world.products["p1"].id)
    assert org is not None
    assert product is not None
    doc = make_doc(  # another reference period than f1's: one Active footprint per period
        ["urn:acme:p1"],
        specVersion="2.3.0",
        version=1,
        pcf__referencePeriodStart="2024-01-01T00:00:00Z",
        pcf__referencePeriodEnd="2025-01-01T00:00:00Z",
    )
    fp = repo.publish_footprint(session, organisation=org, product=product, document=doc)
    repo.deprecate_footprint(session, footprint=fp, now=t("2025-03-01T12:00:00"))
    assert fp.document["version"] == 2
    assert fp.document["updated"] == "2025-03-01T12:00:00Z"
    assert fp.document["status"] == "Deprecated"


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"status": "Deprecated"}, "status 'Active'"),
        ({"id": "42"}, "not a UUID"),
        ({"specVersion": "1.0.0"}, "specVersion"),
        ({"productIds": ["urn:acme:p2"]}, "none of its productIds"),
        ({"created": "2025-01-10"}, "created"),
        ({"pcf__referencePeriodEnd": "2024-01-01T00:00:00"}, "time zone"),
        ({"precedingPfIds": ["urn:x"]}, "not a UUID"),
    ],
)
def test_bad_documents_are_refused(
    world: World, session: Session, changes: dict[str, Any], message: str
) -> None:
    org = session.get(Organisation, world.acme.id)
    product = session.get(Product, world.products["p1"].id)
    assert org is not None
    assert product is not None
    doc = make_doc(["urn:acme:p1"], **changes)
    with pytest.raises(FootprintDocumentError, match=message):
        repo.publish_footprint(session, organisation=org, product=product, document=doc)


def test_the_same_id_cannot_be_published_twice(world: World, session: Session) -> None:
    org = session.get(Organisation, world.acme.id)
    product = session.get(Product, world.products["p1"].id)
    assert org is not None
    assert product is not None
    doc = make_doc(["urn:acme:p1"], id=str(world.f["f1"].id))
    with pytest.raises(DuplicateError, match="needs a new id"):
        repo.publish_footprint(session, organisation=org, product=product, document=doc)


# --------------------------------------------------------------------------------------------
# products, organisations


def test_products_are_found_by_any_id_ignoring_case(session: Session) -> None:
    org = repo.create_organisation(session, name="Acme", company_ids=["urn:acme"])
    made = repo.upsert_product(session, organisation=org, product_ids=["urn:a:1"], name="A")
    again = repo.upsert_product(
        session, organisation=org, product_ids=["URN:A:1", "urn:gtin:5"], name="A v2"
    )
    assert again.id == made.id
    assert again.product_ids == ["urn:a:1", "urn:gtin:5"]
    assert repo.get_product(session, organisation=org, product_id="urn:GTIN:5").name == "A v2"
    repo.upsert_product(session, organisation=org, product_ids=["urn:b:1"], name="B")
    with pytest.raises(DuplicateError, match="2 different products"):
        repo.find_product(session, organisation=org, product_ids=["urn:a:1", "urn:b:1"])
    with pytest.raises(DuplicateError):
        repo.create_organisation(session, name="Acme")
    assert repo.ensure_organisation(session, name="Acme").id == org.id


# --------------------------------------------------------------------------------------------
# inbound events and the outbox


def test_replayed_event_is_refused(engine: Engine) -> None:
    payload = {"specversion": "1.0", "data": {"pfIds": [str(uuid.uuid4())]}}
    kind = "org.wbcsd.pact.ProductFootprint.PublishedEvent.3"
    with session_scope(engine) as s:
        repo.record_event(s, event_id="e-1", source="//buyer.example/3", type=kind, payload=payload)
    with session_scope(engine) as s:
        with pytest.raises(ReplayedEventError, match="received before"):
            repo.record_event(
                s, event_id="e-1", source="//buyer.example/3", type=kind, payload=payload
            )
        # the transaction is still usable: same id from another source is another event
        repo.record_event(s, event_id="e-1", source="//other.example/3", type=kind, payload={})
    with session_scope(engine) as s:
        assert s.scalar(select(func.count()).select_from(Event)) == 2


def test_outbox_backoff_schedule(engine: Engine) -> None:
    """Every attempt fails; the waits double from 1 min and are capped at 12 h.

    Enqueued at t0. The k-th failure schedules the next attempt after ``min(2**(k-1), 720)``
    minutes, so the attempts happen at (minutes after t0)::

        attempt   1  2  3  4   5   6   7    8    9    10    11    12    13    14    15
        at        0  1  3  7  15  31  63  127  255  511  1023  1743  2463  3183  3903

    (2**k − 1 while the wait is below 512 min; then +720 each time.) After the 15th failure
    (at 3903 min = 65 h 03 min) the next attempt would be at 4623 min = 77 h 03 min, later
    than 72 h (4320 min) after t0: the event is abandoned at 3903 min, after 15 attempts.
    """
    t0 = t("2025-01-01T00:00:00")
    expected = [0, 1, 3, 7, 15, 31, 63, 127, 255, 511, 1023, 1743, 2463, 3183, 3903]
    with session_scope(engine) as s:
        item_id = repo.enqueue_outbox(
            s, target_url="https://buyer.example/3/events", payload={"type": "x"}, now=t0
        ).id
    seen = []
    now = t0
    while True:
        with session_scope(engine) as s:
            due = repo.due_outbox(s, now=now)
            assert [d.id for d in due] == [item_id]
            assert repo.due_outbox(s, now=now - dt.timedelta(seconds=1)) == [] or now == t0
            seen.append(round((now - t0).total_seconds() / 60))
            item = repo.mark_failed(s, event=due[0], error="HTTP 503", now=now)
            if item.next_attempt_at is None:
                break
            now = item.next_attempt_at
    assert seen == expected
    with session_scope(engine) as s:
        stored = s.get(OutboxEvent, item_id)
        assert stored is not None
        assert stored.attempts == 15
        assert stored.last_error == "HTTP 503"
        assert stored.abandoned_at == t0 + dt.timedelta(minutes=3903)
        assert repo.due_outbox(s, now=t0 + dt.timedelta(days=30)) == []


def test_outbox_delivery(engine: Engine) -> None:
    t0 = t("2025-01-01T00:00:00")
    with session_scope(engine) as s:
        a = repo.enqueue_outbox(s, target_url="https://a.example/3/events", payload={}, now=t0)
        b = repo.enqueue_outbox(
            s, target_url="https://b.example/3/events", payload={}, now=t0 + dt.timedelta(hours=1)
        )
    with session_scope(engine) as s:
        assert [e.id for e in repo.due_outbox(s, now=t0)] == [a.id]
        due = repo.due_outbox(s, now=t0 + dt.timedelta(hours=2))
        assert [e.id for e in due] == [a.id, b.id]
        repo.mark_delivered(s, event=due[0], now=t0 + dt.timedelta(hours=2))
    with session_scope(engine) as s:
        assert [e.id for e in repo.due_outbox(s, now=t0 + dt.timedelta(days=1))] == [b.id]
        delivered = s.get(OutboxEvent, a.id)
        assert delivered is not None
        assert delivered.attempts == 1
        assert delivered.delivered_at == t0 + dt.timedelta(hours=2)


def test_backoff_delay() -> None:
    minute = dt.timedelta(minutes=1)
    assert [repo.backoff_delay(k) / minute for k in (1, 2, 3, 10, 11, 100)] == [
        1,
        2,
        4,
        512,
        720,
        720,
    ]
    with pytest.raises(ValueError, match="attempts"):
        repo.backoff_delay(0)


# --------------------------------------------------------------------------------------------
# engine, transactions, types


def test_failed_transaction_stores_nothing(engine: Engine) -> None:
    def work() -> None:
        with session_scope(engine) as s:
            org = repo.create_organisation(s, name="Acme")
            repo.upsert_product(s, organisation=org, product_ids=["urn:a"], name="A")
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        work()
    with session_scope(engine) as s:
        assert s.scalar(select(func.count()).select_from(Organisation)) == 0
        assert s.scalar(select(func.count()).select_from(Product)) == 0


def test_foreign_keys_are_enforced(engine: Engine) -> None:
    with pytest.raises(IntegrityError), session_scope(engine) as s:
        s.add(Product(organisation_id=999, product_ids=["urn:x"], name="orphan"))


def test_timestamps_are_utc(engine: Engine) -> None:
    moment = dt.datetime(2025, 1, 1, 8, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))
    with session_scope(engine) as s:
        org = Organisation(name="Acme", created=moment)
        s.add(org)
    with session_scope(engine) as s:
        stored = s.scalar(select(Organisation))
        assert stored is not None
        assert stored.created == t("2025-01-01T00:00:00")
        assert stored.created.tzinfo == UTC
    with pytest.raises(StatementError, match="naive"), session_scope(engine) as s:
        s.add(Organisation(name="Naive", created=dt.datetime(2025, 1, 1)))
