"""Invitation links: an owner invites a person, the person opens the link and joins.

The functions behind ``/people`` (invite, list pending invitations, withdraw one), the
public page ``/invite/<token>`` (look the link up, accept it) and ``openpcf web invite``.

* :func:`invite` checks the owner's form (the same checks as
  :func:`openpcf.services.web_people.add_person`) and makes a single-use link, valid for
  :data:`~openpcf.db.repositories.web_invitations.INVITATION_VALID`, bound to the email, the
  organisation and the role. The token is returned once, to be shown once; only its SHA-256
  is stored.
* :func:`accept` uses the link up in the same write transaction that creates the account (a
  new email: name and password, :func:`~openpcf.services.web_password.password_errors`) or
  checks the existing account's password (an email with an account: the person signs in with
  their own password), adds the role and starts a session. Two tabs posting the same link at
  once get one success and one ``gone`` (the conditional update of
  :func:`~openpcf.db.repositories.web_invitations.consume_invitation`).

An unknown, used, withdrawn or expired token reads the same (``None`` / ``gone``), so a
page cannot tell which tokens ever existed.

Design note: the people page used to offer only a password typed by the owner, who then had
to pass it on; an invitation link lets the person choose their own password and never
travels with it. The typed password stays as a second way for a person sitting with the
owner (no email at hand); see ``docs/web.md``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from openpcf.db import repositories as repo
from openpcf.db.engine import session_scope
from openpcf.db.repositories import web as web_repo
from openpcf.db.repositories import web_invitations as invitations_repo
from openpcf.services.web_password import SECURITY_LOG, password_errors
from openpcf.services.web_people import MAX_NAME, is_member, locked_organisation, person_fields

if TYPE_CHECKING:
    from sqlalchemy import Engine
    from sqlalchemy.orm import Session

#: The path of an invitation link (the token follows).
INVITE_PATH = "/invite/"


@dataclass(frozen=True, slots=True, kw_only=True)
class Invited:
    """What inviting did: ``errors`` (field → message keys), else the link's token (shown
    once) and when it ends."""

    errors: dict[str, list[str]] = field(default_factory=dict)
    token: str = ""
    email: str = ""
    role: str = ""
    expires_at: dt.datetime | None = None
    existing: bool = False
    """The email has an account already: the person joins with their own password."""

    @property
    def path(self) -> str:
        """The link's path (``/invite/<token>``)."""
        return INVITE_PATH + self.token


@dataclass(frozen=True, slots=True, kw_only=True)
class PendingInvitation:
    """One row of the owners' list of invitations not used yet."""

    invitation_id: int
    email: str
    name: str
    role: str
    created_at: dt.datetime
    expires_at: dt.datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class Invitation:
    """What the invitation page shows to the person who opened the link."""

    email: str
    name: str
    role: str
    organisation: str
    expires_at: dt.datetime
    existing: bool
    """The email has an account: the page asks for its password, not for a new one."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Accepted:
    """What accepting did: ``gone`` (the link cannot be used), ``errors`` (field → message
    keys), else the new session's token for the cookie."""

    gone: bool = False
    errors: dict[str, list[str]] = field(default_factory=dict)
    session_token: str = ""


def invite(
    engine: Engine,
    *,
    organisation_id: int,
    email: str,
    name: str,
    role: str,
    now: dt.datetime,
    invited_by: int | None = None,
) -> Invited:
    """Invite ``email`` to ``role`` in the organisation. Nothing is stored when a field has
    an error (not an email, an unknown role, a name too long, a member already)."""
    address, errors = person_fields(email=email, name=name, role=role)
    if errors:
        return Invited(errors=errors)
    with session_scope(engine, write=True) as session:
        organisation = locked_organisation(session, organisation_id)
        account = repo.find_web_user(session, email=address)
        if account is not None and is_member(
            session, user_id=account.id, organisation_id=organisation_id
        ):
            return Invited(errors={"email": ["people.error.member"]})
        token, row = invitations_repo.create_invitation(
            session,
            organisation=organisation,
            email=address,
            role=role,
            name=name,
            now=now,
            invited_by=invited_by,
        )
        return Invited(
            token=token,
            email=address,
            role=role,
            expires_at=row.expires_at,
            existing=account is not None,
        )


def pending(engine: Engine, *, organisation_id: int, now: dt.datetime) -> list[PendingInvitation]:
    """The organisation's invitations that can still be used, newest first."""
    with session_scope(engine) as session:
        return [
            PendingInvitation(
                invitation_id=row.id,
                email=row.email,
                name=row.name,
                role=row.role,
                created_at=row.created_at,
                expires_at=row.expires_at,
            )
            for row in invitations_repo.pending_invitations(
                session, organisation_id=organisation_id, now=now
            )
        ]


def revoke(engine: Engine, *, organisation_id: int, invitation_id: int, now: dt.datetime) -> None:
    """Withdraw an open invitation (:class:`NotFoundError` for another organisation's, or one
    used, ended or unknown)."""
    with session_scope(engine, write=True) as session:
        invitations_repo.revoke_invitation(
            session, organisation_id=organisation_id, invitation_id=invitation_id, now=now
        )


def look_up(engine: Engine, *, token: str, now: dt.datetime) -> Invitation | None:
    """The invitation of ``token`` while it can be used, else None (whatever the reason)."""
    with session_scope(engine) as session:
        found = invitations_repo.open_invitation(session, token=token, now=now)
        if found is None:
            return None
        row, organisation = found
        return Invitation(
            email=row.email,
            name=row.name,
            role=row.role,
            organisation=organisation.name,
            expires_at=row.expires_at,
            existing=repo.find_web_user(session, email=row.email) is not None,
        )


def accept(
    engine: Engine,
    *,
    token: str,
    now: dt.datetime,
    password: str,
    again: str = "",
    name: str = "",
) -> Accepted:
    """Use the invitation of ``token``: create the account (a new email: ``name``,
    ``password`` typed twice) or check the existing account's ``password``, add the role and
    start a session bound to the invitation's organisation.

    ``gone`` when the link cannot be used (also when another request used it a moment
    earlier); ``errors`` leave the invitation open.
    """
    invitation = look_up(engine, token=token, now=now)
    if invitation is None:
        return Accepted(gone=True)
    if invitation.existing:
        if not password:
            return Accepted(errors={"password": ["password.error.required"]})
        with session_scope(engine) as session:
            login = web_repo.authenticate_web_user(
                session, email=invitation.email, password=password
            )
        if login is None:
            return Accepted(errors={"password": ["invite.error.password_wrong"]})
    else:
        errors: dict[str, list[str]] = {}
        if policy := password_errors(password, again):
            errors["password"] = policy
        if len(name.strip()) > MAX_NAME:
            errors["name"] = ["people.error.name"]
        if errors:
            return Accepted(errors=errors)
    try:
        with session_scope(engine, write=True) as session:
            session_token = _join(
                session,
                token=token,
                now=now,
                existing=invitation.existing,
                name=name,
                password=password,
            )
    except _Gone:
        return Accepted(gone=True)
    return Accepted(session_token=session_token)


class _Gone(Exception):  # noqa: N818 - a signal to roll the transaction back
    """The invitation cannot be used (any more): undo what the transaction did."""


def _join(
    session: Session, *, token: str, now: dt.datetime, existing: bool, name: str, password: str
) -> str:
    """Use the invitation up, create the account if new, add the role, start a session:
    the session's token. :class:`_Gone` when another request used the link first, or the
    account appeared (or went) since the form was shown."""
    found = invitations_repo.open_invitation(session, token=token, now=now)
    if found is None:
        raise _Gone
    row, organisation = found
    if not invitations_repo.consume_invitation(session, invitation_id=row.id, now=now):
        raise _Gone
    account = repo.find_web_user(session, email=row.email)
    if (account is not None) != existing:
        raise _Gone
    if account is None:
        account = repo.create_web_user(
            session, email=row.email, name=name.strip() or row.name, password=password
        )
    if not is_member(session, user_id=account.id, organisation_id=organisation.id):
        repo.add_membership(session, user=account, organisation=organisation, role=row.role)
    SECURITY_LOG.info("web user %d accepted invitation %d", account.id, row.id)
    return invitations_repo.restart_session(
        session, user_id=account.id, organisation_id=organisation.id, now=now
    )
