"""Which products a verifier may see, granted by the products' owners.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-04 21:45:00

Issue 16: ``web_verifier_grant`` (an owner of organisation O lets one verifier membership, a
person acting for a verification body V, see one product of O read-only; unique per
membership and product); see :mod:`openpcf.db.web_grants_models`.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "web_verifier_grant",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("membership_id", sa.Integer(), nullable=False),
        sa.Column("granted_by_id", sa.Integer(), nullable=True),
        sa.Column("granted_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["granted_by_id"],
            ["web_user.id"],
            name=op.f("fk_web_verifier_grant_granted_by_id_web_user"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["membership_id"],
            ["web_membership.id"],
            name=op.f("fk_web_verifier_grant_membership_id_web_membership"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisation.id"],
            name=op.f("fk_web_verifier_grant_organisation_id_organisation"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["product.id"],
            name=op.f("fk_web_verifier_grant_product_id_product"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_web_verifier_grant")),
        sa.UniqueConstraint(
            "membership_id",
            "product_id",
            name=op.f("uq_web_verifier_grant_membership_id_product_id"),
        ),
    )
    op.create_index(
        op.f("ix_web_verifier_grant_organisation_id"),
        "web_verifier_grant",
        ["organisation_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_web_verifier_grant_product_id"),
        "web_verifier_grant",
        ["product_id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_web_verifier_grant_product_id"), table_name="web_verifier_grant")
    op.drop_index(op.f("ix_web_verifier_grant_organisation_id"), table_name="web_verifier_grant")
    op.drop_table("web_verifier_grant")
