"""People of an organisation, managed by its owners, and the organisations a person acts for.

The functions behind the web pages ``/people`` (owners add a person, change a role, remove a
person from the organisation) and ``/organisation`` (a person with roles in several
organisations chooses the one their session acts for). They reuse what ``openpcf web user
add`` does (:func:`~openpcf.db.repositories.create_web_user`,
:func:`~openpcf.db.repositories.add_membership`), and the storage rules of
:mod:`openpcf.db.repositories.web`: an organisation keeps at least one enabled owner (checked
under a lock of the organisation's row, :class:`~openpcf.db.repositories.web.LastOwnerError`).

Every function is scoped to the caller's organisation: a membership id of another
organisation raises :class:`~openpcf.db.errors.NotFoundError`, like one that does not exist.
Problems with what the owner typed come back as message keys per form field (the pages'
catalogue ``messages/people.*.yaml``), never as exceptions.

Design note: the people page's first way to add a person is an invitation link
(:mod:`openpcf.services.web_invitations`): the person chooses their own password.
:func:`add_person` (an initial password typed by the owner) stays as the second way, for a
person sitting with the owner. An email that has an account already (in another
organisation) gets a role here and keeps its password; the page says so, which tells an
owner that the address has an account somewhere (the same as ``openpcf web user add``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from openpcf.db import repositories as repo
from openpcf.db.engine import session_scope
from openpcf.db.errors import NotFoundError
from openpcf.db.models import Organisation
from openpcf.db.repositories import web as web_repo
from openpcf.db.repositories.owners import lock_organisation
from openpcf.db.web_models import WEB_ROLES
from openpcf.errors import InputError

if TYPE_CHECKING:
    from sqlalchemy import Engine
    from sqlalchemy.orm import Session

#: Longest name accepted (the ``web_user.name`` column).
MAX_NAME = 200


@dataclass(frozen=True, slots=True, kw_only=True)
class Person:
    """One row of the people page."""

    membership_id: int
    user_id: int
    name: str
    email: str
    role: str
    disabled: bool
    last_active: dt.datetime | None
    """The latest request of a live session in this organisation (None without one)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class AddOutcome:
    """What adding a person did: ``errors`` (field → message keys), else who was added."""

    errors: dict[str, list[str]] = field(default_factory=dict)
    email: str = ""
    existing: bool = False
    """The email had an account already; it keeps its own password."""


@dataclass(frozen=True, slots=True, kw_only=True)
class OrganisationChoice:
    """An organisation the person has a role in."""

    organisation_id: int
    name: str
    role: str


def list_people(engine: Engine, *, organisation_id: int) -> list[Person]:
    """The people of the organisation with their roles, by email."""
    with session_scope(engine) as session:
        rows = web_repo.organisation_members(session, organisation_id=organisation_id)
        return [
            Person(
                membership_id=membership.id,
                user_id=account.id,
                name=account.name,
                email=account.email,
                role=membership.role,
                disabled=account.disabled,
                last_active=seen,
            )
            for membership, account, seen in rows
        ]


def add_person(
    engine: Engine, *, organisation_id: int, email: str, name: str, role: str, password: str
) -> AddOutcome:
    """Give ``email`` the role ``role`` in the organisation, creating the account (with
    ``password``) if the email has none. Nothing is stored when any field has an error."""
    address, errors = person_fields(email=email, name=name, role=role)
    if errors:
        return AddOutcome(errors=errors)
    with session_scope(engine, write=True) as session:
        organisation = locked_organisation(session, organisation_id)
        account = repo.find_web_user(session, email=address)
        if account is None:
            if len(password) < repo.MIN_PASSWORD_LENGTH:
                key = "people.error.password_short" if password else "people.error.password"
                return AddOutcome(errors={"password": [key]})
            account = repo.create_web_user(
                session, email=address, name=name.strip(), password=password
            )
            existing = False
        else:
            if is_member(session, user_id=account.id, organisation_id=organisation_id):
                return AddOutcome(errors={"email": ["people.error.member"]})
            existing = True
        repo.add_membership(session, user=account, organisation=organisation, role=role)
        return AddOutcome(email=address, existing=existing)


def change_role(engine: Engine, *, organisation_id: int, membership_id: int, role: str) -> str:
    """Give the person of ``membership_id`` the role ``role``; "" when done, else the message
    key of the refusal (an unknown role, the last owner)."""
    if role not in WEB_ROLES:
        return "people.error.role"
    try:
        with session_scope(engine, write=True) as session:
            web_repo.set_membership_role(
                session, organisation_id=organisation_id, membership_id=membership_id, role=role
            )
    except web_repo.LastOwnerError:
        return "people.error.last_owner"
    return ""


def remove_person(engine: Engine, *, organisation_id: int, membership_id: int) -> str:
    """Take the person of ``membership_id`` out of the organisation; "" when done, else the
    message key of the refusal (the last owner)."""
    try:
        with session_scope(engine, write=True) as session:
            web_repo.remove_membership(
                session, organisation_id=organisation_id, membership_id=membership_id
            )
    except web_repo.LastOwnerError:
        return "people.error.last_owner"
    return ""


def organisations_of(engine: Engine, *, user_id: int) -> list[OrganisationChoice]:
    """The organisations the person has a role in, by name."""
    with session_scope(engine) as session:
        return [
            OrganisationChoice(
                organisation_id=organisation.id, name=organisation.name, role=membership.role
            )
            for membership, organisation in web_repo.memberships_of(session, user_id=user_id)
        ]


def choose_organisation(engine: Engine, *, token: str, organisation_id: int) -> None:
    """Bind the session of ``token`` to ``organisation_id`` (:class:`NotFoundError` unless
    its person has a role there)."""
    with session_scope(engine) as session:
        web_repo.choose_session_organisation(session, token=token, organisation_id=organisation_id)


def person_fields(*, email: str, name: str, role: str) -> tuple[str, dict[str, list[str]]]:
    """The normalised email of a person an owner adds or invites, and the fields in error
    (field → message keys): not an email, an unknown role, a name too long."""
    errors: dict[str, list[str]] = {}
    try:
        address = repo.normalise_email(email)
    except InputError:
        address = ""
        errors["email"] = ["people.error.email"]
    if role not in WEB_ROLES:
        errors["role"] = ["people.error.role"]
    if len(name.strip()) > MAX_NAME:
        errors["name"] = ["people.error.name"]
    return address, errors


def locked_organisation(session: Session, organisation_id: int) -> Organisation:
    """The organisation, its row locked: who joins it is decided under the lock."""
    organisation = session.get(Organisation, organisation_id)
    if organisation is None:
        raise NotFoundError(f"no organisation {organisation_id}")
    lock_organisation(session, organisation=organisation)
    return organisation


def is_member(session: Session, *, user_id: int, organisation_id: int) -> bool:
    """Whether the account ``user_id`` has a role in the organisation."""
    return any(
        m.organisation_id == organisation_id
        for m, _ in web_repo.memberships_of(session, user_id=user_id)
    )
