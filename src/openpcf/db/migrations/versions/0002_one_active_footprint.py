"""One Active footprint per product and reference period, enforced by the database.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-04 14:30:00

A partial unique index (``WHERE status = 'Active'``; SQLite and PostgreSQL both support it)
makes a second Active footprint of the same product and period a constraint violation, so
concurrent publishers cannot both win a read-then-write race.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ACTIVE_ONLY = sa.text("status = 'Active'")


def upgrade() -> None:
    op.create_index(
        "uq_footprint_one_active",
        "footprint",
        ["product_id", "reference_period_start", "reference_period_end"],
        unique=True,
        sqlite_where=ACTIVE_ONLY,
        postgresql_where=ACTIVE_ONLY,
    )


def downgrade() -> None:
    op.drop_index("uq_footprint_one_active", table_name="footprint")
