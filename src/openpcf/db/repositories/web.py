"""People of the web application: accounts, memberships, password checks and sessions.

Passwords are hashed with Argon2id (argon2-cffi's :class:`~argon2.PasswordHasher` at its
default, RFC 9106 "low memory" cost: 64 MiB, 3 passes, about 50 ms a hash); the hash is never
returned by a web page or written to a log. :func:`authenticate_web_user` spends the same
work on an unknown email as on a wrong password (it verifies against a dummy hash), so the
answer's timing does not say which emails have accounts.

Sessions: :func:`create_web_session` returns the random token for the cookie and stores only
its SHA-256. :func:`get_web_session` ends (deletes) a session idle for more than
:data:`SESSION_IDLE` or older than :data:`SESSION_MAX`, and otherwise records the request
(``last_seen_at``, to the minute). Every function takes ``now`` where time matters, so
tests inject a clock.

Owners manage their organisation's people (:func:`set_membership_role`,
:func:`remove_membership`). An organisation keeps at least one owner whose account is
enabled: each change first locks the organisation's row (PostgreSQL ``SELECT … FOR UPDATE``;
on SQLite the caller's write transaction, ``session_scope(write=True)``, holds the database),
then counts the other owners and refuses with :class:`LastOwnerError`. Two owners demoting
each other at the same moment therefore run one after the other, and the second sees the
first's change (``tests/test_web_people.py`` runs them on two connections).
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import secrets
from typing import NamedTuple

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from openpcf.db.errors import DuplicateError, NotFoundError, StorageError
from openpcf.db.models import Organisation
from openpcf.db.repositories.owners import lock_organisation
from openpcf.db.web_models import WEB_LANGS, WEB_ROLES, WebAccount, WebMembership, WebSession
from openpcf.errors import InputError

#: A session ends after this long without a request ...
SESSION_IDLE = dt.timedelta(hours=8)
#: ... and at the latest this long after signing in.
SESSION_MAX = dt.timedelta(days=7)
#: ``last_seen_at`` is written at most this often (not one write per page view).
_TOUCH_EVERY = dt.timedelta(minutes=1)
#: Shortest password accepted (NIST SP 800-63B asks for at least 8; we ask for 12).
MIN_PASSWORD_LENGTH = 12

#: The hasher (tests swap in a cheaper one; each hash records its own parameters).
_HASHER = PasswordHasher()


class WebLogin(NamedTuple):
    """A person with their role in the organisation a session is bound to."""

    account: WebAccount
    membership: WebMembership
    organisation: Organisation


def normalise_email(email: str) -> str:
    """``email`` stripped and lower-cased; :class:`InputError` unless it looks like one."""
    cleaned = email.strip().lower()
    local, _, domain = cleaned.partition("@")
    if not local or "." not in domain or any(c.isspace() for c in cleaned) or len(cleaned) > 320:
        raise InputError(f"{email!r} is not an email address (name@example.com)")
    return cleaned


def hash_password(password: str) -> str:
    """The Argon2id hash of ``password`` (:class:`InputError` if shorter than 12 characters)."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InputError(
            f"a password needs at least {MIN_PASSWORD_LENGTH} characters; a passphrase of a "
            "few words is easiest to remember"
        )
    return _HASHER.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """Whether ``password`` matches ``password_hash`` (False for a malformed hash)."""
    try:
        return _HASHER.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


@functools.cache
def _dummy_hash(hasher: PasswordHasher) -> str:
    return hasher.hash(secrets.token_urlsafe(16))


def create_web_user(
    session: Session, *, email: str, name: str, password: str, lang: str = "en"
) -> WebAccount:
    """A new person; :class:`DuplicateError` if the email has an account already."""
    email = normalise_email(email)
    if lang not in WEB_LANGS:
        raise InputError(f"language {lang!r}: choose one of {', '.join(WEB_LANGS)}")
    if session.scalar(select(WebAccount).where(WebAccount.email == email)) is not None:
        raise DuplicateError(f"a web user {email} exists already")
    account = WebAccount(
        email=email,
        name=name.strip() or email,
        password_hash=hash_password(password),
        lang=lang,
    )
    session.add(account)
    session.flush()
    return account


def find_web_user(session: Session, *, email: str) -> WebAccount | None:
    return session.scalar(select(WebAccount).where(WebAccount.email == email.strip().lower()))


def get_web_user(session: Session, *, user_id: int) -> WebAccount:
    account = session.get(WebAccount, user_id)
    if account is None:
        raise NotFoundError(f"no web user {user_id}")
    return account


def add_membership(
    session: Session, *, user: WebAccount, organisation: Organisation, role: str
) -> WebMembership:
    """Give ``user`` ``role`` in ``organisation`` (one role per organisation)."""
    if role not in WEB_ROLES:
        raise InputError(f"role {role!r}: choose one of {', '.join(WEB_ROLES)}")
    existing = session.scalar(
        select(WebMembership).where(
            WebMembership.user_id == user.id, WebMembership.organisation_id == organisation.id
        )
    )
    if existing is not None:
        raise DuplicateError(f"{user.email} is {existing.role} in {organisation.name} already")
    membership = WebMembership(user_id=user.id, organisation_id=organisation.id, role=role)
    session.add(membership)
    session.flush()
    return membership


def list_web_users(session: Session, *, organisation: Organisation) -> list[tuple[WebAccount, str]]:
    """The people of ``organisation`` with their roles, by email."""
    rows = session.execute(
        select(WebAccount, WebMembership.role)
        .join(WebMembership, WebMembership.user_id == WebAccount.id)
        .where(WebMembership.organisation_id == organisation.id)
        .order_by(WebAccount.email)
    )
    return [(account, role) for account, role in rows]


def set_web_user_lang(session: Session, *, user_id: int, lang: str) -> None:
    if lang not in WEB_LANGS:
        raise InputError(f"language {lang!r}: choose one of {', '.join(WEB_LANGS)}")
    get_web_user(session, user_id=user_id).lang = lang
    session.flush()


def _login_of(
    session: Session, account: WebAccount, organisation_id: int | None
) -> WebLogin | None:
    query = (
        select(WebMembership, Organisation)
        .join(Organisation, Organisation.id == WebMembership.organisation_id)
        .where(WebMembership.user_id == account.id)
        .order_by(WebMembership.id)
    )
    if organisation_id is not None:
        query = query.where(WebMembership.organisation_id == organisation_id)
    row = session.execute(query.limit(1)).first()
    if row is None:
        return None
    return WebLogin(account, row[0], row[1])


def authenticate_web_user(session: Session, *, email: str, password: str) -> WebLogin | None:
    """The person and their first membership if ``password`` is right, else None.

    None alike for an unknown email, a wrong password, a disabled account or an account
    without any organisation; an unknown email costs one Argon2 verification too.
    """
    account = find_web_user(session, email=email)
    if account is None:
        verify_password(_dummy_hash(_HASHER), password)
        return None
    if not verify_password(account.password_hash, password) or account.disabled:
        return None
    if _HASHER.check_needs_rehash(account.password_hash):
        account.password_hash = _HASHER.hash(password)
        session.flush()
    return _login_of(session, account, None)


def _token_id(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_web_session(
    session: Session, *, login: WebLogin, now: dt.datetime
) -> tuple[str, WebSession]:
    """A new session for ``login``: (the cookie's token, the stored row)."""
    token = secrets.token_urlsafe(32)
    row = WebSession(
        id=_token_id(token),
        user_id=login.account.id,
        organisation_id=login.organisation.id,
        csrf_token=secrets.token_urlsafe(32),
        created_at=now,
        expires_at=now + SESSION_MAX,
        last_seen_at=now,
        organisation_chosen=count_memberships(session, user_id=login.account.id) <= 1,
    )
    session.add(row)
    session.flush()
    return token, row


def get_web_session(
    session: Session, *, token: str, now: dt.datetime
) -> tuple[WebSession, WebLogin] | None:
    """The live session of ``token`` and its person, or None (expired sessions are deleted).

    None also when the account was disabled or lost its membership in the session's
    organisation since signing in.
    """
    row = session.get(WebSession, _token_id(token))
    if row is None:
        return None
    if now >= row.expires_at or now - row.last_seen_at >= SESSION_IDLE:
        session.delete(row)
        session.flush()
        return None
    account = session.get(WebAccount, row.user_id)
    login = None if account is None else _login_of(session, account, row.organisation_id)
    if login is None or login.account.disabled:
        session.delete(row)
        session.flush()
        return None
    if now - row.last_seen_at >= _TOUCH_EVERY:
        row.last_seen_at = now
        session.flush()
    return row, login


def delete_web_session(session: Session, *, token: str) -> bool:
    """End the session of ``token``; whether there was one."""
    result = session.execute(delete(WebSession).where(WebSession.id == _token_id(token)))
    return bool(result.rowcount)  # type: ignore[attr-defined]


def delete_expired_web_sessions(session: Session, *, now: dt.datetime) -> int:
    """Delete every session past its maximum age or idle too long; how many."""
    result = session.execute(
        delete(WebSession).where(
            (WebSession.expires_at <= now) | (WebSession.last_seen_at <= now - SESSION_IDLE)
        )
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


class LastOwnerError(StorageError, ValueError):
    """The change would leave an organisation without an owner who can sign in."""


def count_memberships(session: Session, *, user_id: int) -> int:
    """In how many organisations the person has a role."""
    query = select(func.count()).select_from(WebMembership).where(WebMembership.user_id == user_id)
    return int(session.scalar(query) or 0)


def memberships_of(session: Session, *, user_id: int) -> list[tuple[WebMembership, Organisation]]:
    """The person's roles with their organisations, by organisation name."""
    rows = session.execute(
        select(WebMembership, Organisation)
        .join(Organisation, Organisation.id == WebMembership.organisation_id)
        .where(WebMembership.user_id == user_id)
        .order_by(Organisation.name, Organisation.id)
    )
    return [(membership, organisation) for membership, organisation in rows]


def organisation_members(
    session: Session, *, organisation_id: int
) -> list[tuple[WebMembership, WebAccount, dt.datetime | None]]:
    """The organisation's memberships with their accounts and the latest request of a live
    session in this organisation (None without one), by email."""
    last_seen = (
        select(WebSession.user_id, func.max(WebSession.last_seen_at).label("last_seen"))
        .where(WebSession.organisation_id == organisation_id)
        .group_by(WebSession.user_id)
        .subquery()
    )
    rows = session.execute(
        select(WebMembership, WebAccount, last_seen.c.last_seen)
        .join(WebAccount, WebAccount.id == WebMembership.user_id)
        .outerjoin(last_seen, last_seen.c.user_id == WebMembership.user_id)
        .where(WebMembership.organisation_id == organisation_id)
        .order_by(WebAccount.email)
    )
    return [(membership, account, seen) for membership, account, seen in rows]


def _locked_membership(
    session: Session, *, organisation_id: int, membership_id: int
) -> WebMembership:
    """The membership ``membership_id`` of ``organisation_id``, with the organisation locked;
    :class:`NotFoundError` for another organisation's membership, as for none."""
    organisation = session.get(Organisation, organisation_id)
    if organisation is None:
        raise NotFoundError(f"no organisation {organisation_id}")
    lock_organisation(session, organisation=organisation)
    membership = session.scalar(
        select(WebMembership).where(
            WebMembership.id == membership_id, WebMembership.organisation_id == organisation_id
        )
    )
    if membership is None:
        raise NotFoundError(f"no membership {membership_id} in this organisation")
    return membership


def _keep_an_owner(session: Session, membership: WebMembership) -> None:
    """Refuse to take ``membership`` away from the owners if no other enabled owner remains."""
    if membership.role != "owner":
        return
    others = session.scalar(
        select(func.count())
        .select_from(WebMembership)
        .join(WebAccount, WebAccount.id == WebMembership.user_id)
        .where(
            WebMembership.organisation_id == membership.organisation_id,
            WebMembership.role == "owner",
            WebMembership.id != membership.id,
            WebAccount.disabled.is_(False),
        )
    )
    if not others:
        raise LastOwnerError(
            "the organisation's last owner cannot be removed or given another role; make "
            "another person owner first"
        )


def set_membership_role(
    session: Session, *, organisation_id: int, membership_id: int, role: str
) -> WebMembership:
    """Give the membership ``membership_id`` of ``organisation_id`` the role ``role``.

    Call inside ``session_scope(write=True)``. :class:`LastOwnerError` if it would leave no
    enabled owner; :class:`NotFoundError` for another organisation's membership.
    """
    if role not in WEB_ROLES:
        raise InputError(f"role {role!r}: choose one of {', '.join(WEB_ROLES)}")
    membership = _locked_membership(
        session, organisation_id=organisation_id, membership_id=membership_id
    )
    if role != "owner":
        _keep_an_owner(session, membership)
    membership.role = role
    session.flush()
    return membership


def remove_membership(session: Session, *, organisation_id: int, membership_id: int) -> WebAccount:
    """Take the person of ``membership_id`` out of ``organisation_id``; their account stays
    (it may have roles elsewhere), their sessions in this organisation end at once.

    Call inside ``session_scope(write=True)``. :class:`LastOwnerError` if it would leave no
    enabled owner; :class:`NotFoundError` for another organisation's membership.
    """
    membership = _locked_membership(
        session, organisation_id=organisation_id, membership_id=membership_id
    )
    _keep_an_owner(session, membership)
    account = get_web_user(session, user_id=membership.user_id)
    session.execute(
        delete(WebSession).where(
            WebSession.user_id == membership.user_id,
            WebSession.organisation_id == organisation_id,
        )
    )
    session.delete(membership)
    session.flush()
    return account


def choose_session_organisation(session: Session, *, token: str, organisation_id: int) -> None:
    """Bind the session of ``token`` to ``organisation_id``, where its person has a role;
    :class:`NotFoundError` otherwise (an organisation of someone else reads as none)."""
    row = session.get(WebSession, _token_id(token))
    if row is None:
        raise NotFoundError("no such session")
    membership = session.scalar(
        select(WebMembership).where(
            WebMembership.user_id == row.user_id,
            WebMembership.organisation_id == organisation_id,
        )
    )
    if membership is None:
        raise NotFoundError(f"no organisation {organisation_id} for this person")
    row.organisation_id = organisation_id
    row.organisation_chosen = True
    session.flush()
