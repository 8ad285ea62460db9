"""Tables of the web application's accounts: people, their roles per organisation, sessions.

These are for people signing in to the web pages (``openpcf web``); they are separate from
the PACT host's OAuth2 client credentials (:class:`~openpcf.db.models.ApiClient`), which
are for machines.

* ``web_user``: one person. ``email`` is stored lower-cased (a CHECK keeps it so on both
  backends) and is unique; ``password_hash`` is an Argon2id PHC string
  (``$argon2id$v=19$m=…,t=…,p=…$salt$hash``, argon2-cffi's :class:`PasswordHasher`): the
  parameters travel with each hash, so raising the cost later still verifies old hashes.
* ``web_membership``: the person's role in one organisation (owner, engineer, supplier or
  verifier); one row per person and organisation.
* ``web_session``: a signed-in browser. The cookie holds a random token; the row's ``id`` is
  the token's SHA-256, so a copy of the database cannot be replayed as cookies. A session is
  bound to one organisation (a person with several chooses one after signing in:
  ``organisation_chosen`` is False until then, migration 0009) and ends after
  :data:`~openpcf.db.repositories.web.SESSION_IDLE`
  without a request or :data:`~openpcf.db.repositories.web.SESSION_MAX` after sign-in
  (``expires_at``), whichever comes first.

Design note: this module imports the declarative base only and names ``organisation`` by its
table name, so that :mod:`openpcf.db.models` can import it (to put these tables on the one
metadata) without an import cycle.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, String, UniqueConstraint, true
from sqlalchemy.orm import Mapped, mapped_column

from openpcf.db.base import Base, utcnow

#: Roles of a person in an organisation (the web pages and their checks name these).
WEB_ROLES = ("owner", "engineer", "supplier", "verifier")
#: Languages of the web pages.
WEB_LANGS = ("en", "zh")


class WebAccount(Base):
    """A person who signs in to the web pages (table ``web_user``)."""

    __tablename__ = "web_user"
    __table_args__ = (
        CheckConstraint("email = lower(email)", name="email_lower"),
        CheckConstraint("lang IN ('en', 'zh')", name="lang"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(255))
    lang: Mapped[str] = mapped_column(String(2), default="en")
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)


class WebMembership(Base):
    """A person's role in one organisation."""

    __tablename__ = "web_membership"
    __table_args__ = (
        UniqueConstraint("user_id", "organisation_id"),
        CheckConstraint("role IN ('owner', 'engineer', 'supplier', 'verifier')", name="role"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("web_user.id", ondelete="CASCADE"))
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisation.id", ondelete="CASCADE"), index=True
    )
    role: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class WebSession(Base):
    """A signed-in browser: ``id`` is the SHA-256 (hex) of the token in its cookie."""

    __tablename__ = "web_session"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("web_user.id", ondelete="CASCADE"), index=True)
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisation.id", ondelete="CASCADE"), index=True
    )
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    #: the latest moment the session may be used: created_at + SESSION_MAX
    expires_at: Mapped[dt.datetime] = mapped_column()
    last_seen_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    #: False while a person with several organisations has not chosen one (``/organisation``)
    organisation_chosen: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())


from openpcf.db import web_access_models as web_access_models  # noqa: E402
from openpcf.db import web_grants_models as web_grants_models  # noqa: E402
from openpcf.db import web_invitation_models as web_invitation_models  # noqa: E402
