"""Which products a verifier may see (table ``web_verifier_grant``).

Verifiers are third parties: a person signs in to their own verification body V with the role
``verifier`` (a :class:`~openpcf.db.web_models.WebMembership` in V), and an owner of the
organisation O that makes a product grants that membership read-only access to one product of
O (``openpcf web grant EMAIL --org O --product ID``, or the owner's grants page). The
verifier pages show a product only when all of these hold at the time of the request:

* the session's membership has the role ``verifier``;
* a grant row names that membership and the product;
* the product belongs to the grant's ``organisation_id`` (the repository checks this when
  granting and again when reading).

Anything else answers 404, like an id that does not exist. Revoking deletes the row, so the
next request answers 404. Deleting the membership (the person leaves V), the product or
organisation O deletes the grants too; deleting the owner who granted keeps the grant
(``granted_by_id`` becomes null, as for grants made from the command line).

Design note: the grant names the *membership*, not the person, so that a person who is an
engineer in one organisation and a verifier in another sees granted products only while
signed in as the verifier, and the grant ends with the verifier's membership. Like
:mod:`openpcf.db.web_models`, this module imports the declarative base only and names the
other tables by their table names, so the models module can import it without a cycle.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from openpcf.db.base import Base, utcnow


class WebVerifierGrant(Base):
    """A verifier membership may see one product of one organisation, read-only."""

    __tablename__ = "web_verifier_grant"
    __table_args__ = (UniqueConstraint("membership_id", "product_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    #: the organisation that owns the product and granted access (O)
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisation.id", ondelete="CASCADE"), index=True
    )
    product_id: Mapped[int] = mapped_column(
        ForeignKey("product.id", ondelete="CASCADE"), index=True
    )
    #: the verifier's membership (a person acting for a verification body V)
    membership_id: Mapped[int] = mapped_column(ForeignKey("web_membership.id", ondelete="CASCADE"))
    #: the owner who granted it; null when granted from the command line
    granted_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("web_user.id", ondelete="SET NULL")
    )
    granted_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
