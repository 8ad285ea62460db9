"""ListFootprints pages from the index alone: ``product_id`` added to the listing index.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-04 22:40:00

Issue 17, item 5. A ListFootprints page is an offset into the client's footprints ordered by
``(stored_at, id)`` (:func:`openpcf.db.repositories.footprints.list_document_texts`). Each
row the offset skips must be checked against the client's grants, which needs its
``product_id``: with ``ix_footprint_organisation_stored`` (``organisation_id, stored_at,
id``) PostgreSQL read every skipped row from the table. With ``product_id`` as a fourth
column the page's ids come from an index-only scan, and only the page's own documents are
read: a random page of 10,000 footprints took PostgreSQL 15 about half the time (6.8 to 3.9
ms and 10.9 to 5.0 ms in two comparisons back to back on the busy 2-core development machine;
docs/pact-host.md, "Throughput"). The new index replaces the old one, whose columns are its
prefix, so it also serves the ordering of every other listing.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_footprint_organisation_stored_product",
        "footprint",
        ["organisation_id", "stored_at", "id", "product_id"],
    )
    op.drop_index("ix_footprint_organisation_stored", table_name="footprint")


def downgrade() -> None:
    op.create_index(
        "ix_footprint_organisation_stored", "footprint", ["organisation_id", "stored_at", "id"]
    )
    op.drop_index("ix_footprint_organisation_stored_product", table_name="footprint")
