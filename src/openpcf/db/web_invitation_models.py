"""Invitations to the web pages: a single-use link an owner gives a new person (``web_invitation``).

An owner invites an email to a role in their organisation (``/people``, ``openpcf web
invite``). The link carries a random token of 256 bits (``secrets.token_urlsafe(32)``); the
row keeps only its SHA-256 (``token_hash``), like :class:`~openpcf.db.web_models.WebSession`,
so a copy of the database cannot be replayed as links. The invitation is bound to the email,
the organisation and the role; it can be used once (``used_at``), withdrawn by an owner
(``revoked_at``) and ends at ``expires_at``
(:data:`~openpcf.db.repositories.web_invitations.INVITATION_VALID`, 72 hours).

Design note: like :mod:`openpcf.db.web_access_models`, this module imports the declarative
base only and names the other tables by their table names, so :mod:`openpcf.db.web_models`
can import it without an import cycle.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from openpcf.db.base import Base, utcnow


class WebInvitation(Base):
    """A single-use invitation of ``email`` to ``role`` in one organisation."""

    __tablename__ = "web_invitation"
    __table_args__ = (
        CheckConstraint("email = lower(email)", name="email_lower"),
        CheckConstraint("role IN ('owner', 'engineer', 'supplier', 'verifier')", name="role"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: SHA-256 (hex) of the token in the link; the token itself is never stored
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisation.id", ondelete="CASCADE"), index=True
    )
    email: Mapped[str] = mapped_column(String(320))
    name: Mapped[str] = mapped_column(String(200), default="")
    role: Mapped[str] = mapped_column(String(16))
    #: the owner who invited (None when made with the CLI, or when that account is gone)
    invited_by: Mapped[int | None] = mapped_column(
        ForeignKey("web_user.id", ondelete="SET NULL"), nullable=True
    )
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column()
    used_at: Mapped[dt.datetime | None] = mapped_column(nullable=True)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(nullable=True)
