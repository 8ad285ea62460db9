"""Which supplier requests a supplier's web account may see (table ``web_request_access``).

A supplier is invited per request (``openpcf suppliers invite REQUEST_ID --email ...``): the
person gets the role ``supplier`` in the requesting organisation and one row here per request
they may see and answer. The inbox lists these requests only; any other request id answers
404, like an id that does not exist.

Design note: like :mod:`openpcf.db.web_models`, this module imports the declarative base only
and names the other tables by their table names, so the models module can import it without
an import cycle.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from openpcf.db.base import Base, utcnow


class WebRequestAccess(Base):
    """A person may see and answer one supplier request."""

    __tablename__ = "web_request_access"
    __table_args__ = (UniqueConstraint("user_id", "request_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("web_user.id", ondelete="CASCADE"))
    #: ``supplier_request.id`` (the row id, not the public ``request_id``)
    request_id: Mapped[int] = mapped_column(
        ForeignKey("supplier_request.id", ondelete="CASCADE"), index=True
    )
    granted_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
