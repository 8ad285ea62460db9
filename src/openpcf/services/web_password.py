"""Changing one's own password on ``/account``, and the password policy of the web forms.

:func:`password_errors` is the one policy check of every form that sets a password (the
account page, an invitation): at least
:data:`~openpcf.db.repositories.MIN_PASSWORD_LENGTH` characters (NIST SP 800-63B asks for at
least 8; the accounts ask for 12, as ``openpcf web user add`` does), typed the same twice.
Hashing is the accounts' Argon2id (:func:`~openpcf.db.repositories.hash_password`).

:func:`change_password` checks the current password, stores the new one, ends every session
of the person (another browser signed in with the old password is signed out) and starts a
new session for the browser that asked, so its cookie changes too. The caller limits the
attempts (the sign-in limiter, :class:`~openpcf.web.auth.LoginLimiter`) before calling.

The web has no audit trail of accounts (the audit trail records calculations); a change is
written to the ``openpcf.web.security`` logger (the server's log), without the password.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from openpcf.db.engine import session_scope
from openpcf.db.repositories import MIN_PASSWORD_LENGTH
from openpcf.db.repositories import web_invitations as invitations_repo

if TYPE_CHECKING:
    from sqlalchemy import Engine

SECURITY_LOG = logging.getLogger("openpcf.web.security")


@dataclass(frozen=True, slots=True, kw_only=True)
class PasswordOutcome:
    """``errors`` (field → message keys), else the new session's token for the cookie."""

    errors: dict[str, list[str]] = field(default_factory=dict)
    session_token: str = ""


def password_errors(password: str, again: str) -> list[str]:
    """Message keys of what is wrong with a new password typed twice ([] when it is fine)."""
    if not password:
        return ["password.error.required"]
    if len(password) < MIN_PASSWORD_LENGTH:
        return ["password.error.short"]
    if password != again:
        return ["password.error.mismatch"]
    return []


def change_password(
    engine: Engine,
    *,
    user_id: int,
    organisation_id: int,
    current: str,
    new: str,
    again: str,
    now: dt.datetime,
) -> PasswordOutcome:
    """Give the person ``new`` as password if ``current`` is right; end their other sessions.

    Nothing changes when a field has an error: ``current`` empty or wrong (the field
    ``current``), ``new`` breaking the policy or differing from ``again`` (``new``).
    """
    errors: dict[str, list[str]] = {}
    if not current:
        errors["current"] = ["password.error.current_required"]
    if policy := password_errors(new, again):
        errors["new"] = policy
    elif new == current:
        errors["new"] = ["password.error.same"]
    if errors:
        return PasswordOutcome(errors=errors)
    with session_scope(engine, write=True) as session:
        if not invitations_repo.change_password(session, user_id=user_id, current=current, new=new):
            return PasswordOutcome(errors={"current": ["password.error.current_wrong"]})
        token = invitations_repo.restart_session(
            session, user_id=user_id, organisation_id=organisation_id, now=now
        )
    SECURITY_LOG.info("web user %d changed their password; their other sessions ended", user_id)
    return PasswordOutcome(session_token=token)
