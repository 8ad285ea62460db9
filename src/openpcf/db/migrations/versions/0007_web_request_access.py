"""Which supplier requests a supplier's web account may see.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04 20:15:00

Issue 16: ``web_request_access`` (a web user may see and answer one supplier request; unique
per user and request); see :mod:`openpcf.db.web_access_models`.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "web_request_access",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("granted_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["supplier_request.id"],
            name=op.f("fk_web_request_access_request_id_supplier_request"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["web_user.id"],
            name=op.f("fk_web_request_access_user_id_web_user"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_web_request_access")),
        sa.UniqueConstraint(
            "user_id", "request_id", name=op.f("uq_web_request_access_user_id_request_id")
        ),
    )
    op.create_index(
        op.f("ix_web_request_access_request_id"),
        "web_request_access",
        ["request_id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_web_request_access_request_id"), table_name="web_request_access")
    op.drop_table("web_request_access")
