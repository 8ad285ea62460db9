"""Invitation links and password changes of web accounts.

Invitations (:class:`~openpcf.db.web_invitation_models.WebInvitation`):
:func:`create_invitation` returns the link's random token once (256 bits) and stores its
SHA-256 only; :func:`open_invitation` finds a token's invitation while it can still be used;
:func:`consume_invitation` uses it up with one conditional ``UPDATE … WHERE used_at IS NULL
AND revoked_at IS NULL AND expires_at > now``. Two browsers posting the same link at once
both may read it as open, but the database runs the two updates one after the other (on
PostgreSQL the second waits for the first's row lock, then re-checks the condition and
matches no row; SQLite's write transaction holds the whole database), so exactly one of them
changes a row: the other caller gets False and must roll back
(``tests/test_web_invitations.py`` runs both on two connections).

Passwords: :func:`change_password` checks the current password, stores the new hash (the
same Argon2id hasher and 12-character policy as :mod:`openpcf.db.repositories.web`) and ends
every session of the person, so a stolen session cannot outlive the change; the caller starts
a fresh one for the browser that asked (:func:`restart_session`).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from openpcf.db.errors import NotFoundError
from openpcf.db.models import Organisation
from openpcf.db.repositories import web
from openpcf.db.web_invitation_models import WebInvitation
from openpcf.db.web_models import WEB_ROLES, WebMembership, WebSession
from openpcf.errors import InputError

#: An invitation link can be used for this long after it was made.
INVITATION_VALID = dt.timedelta(hours=72)
#: Longest token accepted from a link (``token_urlsafe(32)`` is 43 characters).
MAX_TOKEN = 100


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_invitation(
    session: Session,
    *,
    organisation: Organisation,
    email: str,
    role: str,
    now: dt.datetime,
    name: str = "",
    invited_by: int | None = None,
) -> tuple[str, WebInvitation]:
    """A new invitation of ``email`` to ``role`` in ``organisation``: (the link's token, the
    row). Older open invitations of the same email to the same organisation are withdrawn, so
    only the newest link works."""
    address = web.normalise_email(email)
    if role not in WEB_ROLES:
        raise InputError(f"role {role!r}: choose one of {', '.join(WEB_ROLES)}")
    session.execute(
        update(WebInvitation)
        .where(
            WebInvitation.organisation_id == organisation.id,
            WebInvitation.email == address,
            WebInvitation.used_at.is_(None),
            WebInvitation.revoked_at.is_(None),
        )
        .values(revoked_at=now)
    )
    token = secrets.token_urlsafe(32)
    row = WebInvitation(
        token_hash=_token_hash(token),
        organisation_id=organisation.id,
        email=address,
        name=name.strip(),
        role=role,
        invited_by=invited_by,
        created_at=now,
        expires_at=now + INVITATION_VALID,
    )
    session.add(row)
    session.flush()
    return token, row


def pending_invitations(
    session: Session, *, organisation_id: int, now: dt.datetime
) -> list[WebInvitation]:
    """The organisation's invitations that can still be used, newest first."""
    return list(
        session.scalars(
            select(WebInvitation)
            .where(
                WebInvitation.organisation_id == organisation_id,
                WebInvitation.used_at.is_(None),
                WebInvitation.revoked_at.is_(None),
                WebInvitation.expires_at > now,
            )
            .order_by(WebInvitation.created_at.desc(), WebInvitation.id.desc())
        )
    )


def revoke_invitation(
    session: Session, *, organisation_id: int, invitation_id: int, now: dt.datetime
) -> WebInvitation:
    """Withdraw the open invitation ``invitation_id`` of ``organisation_id``;
    :class:`NotFoundError` for another organisation's, a used or an ended one, as for none."""
    row = session.scalar(
        select(WebInvitation).where(
            WebInvitation.id == invitation_id,
            WebInvitation.organisation_id == organisation_id,
            WebInvitation.used_at.is_(None),
            WebInvitation.revoked_at.is_(None),
            WebInvitation.expires_at > now,
        )
    )
    if row is None:
        raise NotFoundError(f"no open invitation {invitation_id} in this organisation")
    row.revoked_at = now
    session.flush()
    return row


def open_invitation(
    session: Session, *, token: str, now: dt.datetime
) -> tuple[WebInvitation, Organisation] | None:
    """The invitation of ``token`` and its organisation while it can be used; None for an
    unknown, used, withdrawn or expired one alike."""
    if not token or len(token) > MAX_TOKEN:
        return None
    row = session.execute(
        select(WebInvitation, Organisation)
        .join(Organisation, Organisation.id == WebInvitation.organisation_id)
        .where(
            WebInvitation.token_hash == _token_hash(token),
            WebInvitation.used_at.is_(None),
            WebInvitation.revoked_at.is_(None),
            WebInvitation.expires_at > now,
        )
    ).first()
    return None if row is None else (row[0], row[1])


def consume_invitation(session: Session, *, invitation_id: int, now: dt.datetime) -> bool:
    """Mark the invitation used if it still can be; whether this call did (module docstring).

    On False the caller must not act on the invitation: another request used it first, or
    it was withdrawn or expired meanwhile.
    """
    result = session.execute(
        update(WebInvitation)
        .where(
            WebInvitation.id == invitation_id,
            WebInvitation.used_at.is_(None),
            WebInvitation.revoked_at.is_(None),
            WebInvitation.expires_at > now,
        )
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount) == 1  # type: ignore[attr-defined]


def change_password(session: Session, *, user_id: int, current: str, new: str) -> bool:
    """Give the person the password ``new`` if ``current`` is theirs, and end all their
    sessions; False (nothing changed) for a wrong current password. :class:`InputError` if
    ``new`` breaks the password policy."""
    account = web.get_web_user(session, user_id=user_id)
    if not web.verify_password(account.password_hash, current):
        return False
    account.password_hash = web.hash_password(new)
    session.execute(delete(WebSession).where(WebSession.user_id == user_id))
    session.flush()
    return True


def restart_session(
    session: Session, *, user_id: int, organisation_id: int, now: dt.datetime
) -> str:
    """A new session for the person in ``organisation_id`` (already chosen): the cookie's
    token. :class:`NotFoundError` if they have no role there."""
    account = web.get_web_user(session, user_id=user_id)
    membership = session.scalar(
        select(WebMembership).where(
            WebMembership.user_id == user_id,
            WebMembership.organisation_id == organisation_id,
        )
    )
    organisation = session.get(Organisation, organisation_id)
    if membership is None or organisation is None:
        raise NotFoundError(f"no role in organisation {organisation_id} for this person")
    token, row = web.create_web_session(
        session, login=web.WebLogin(account, membership, organisation), now=now
    )
    row.organisation_chosen = True
    session.flush()
    return token
