"""Single-use invitation links to the web pages: ``web_invitation``.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-05 01:45:00

An owner invites a person by a link instead of typing a password for them
(:mod:`openpcf.db.web_invitation_models`): only the SHA-256 of the link's token is stored,
with the email, organisation, role, expiry and when it was used or withdrawn.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "web_invitation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("invited_by", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("email = lower(email)", name=op.f("ck_web_invitation_email_lower")),
        sa.CheckConstraint(
            "role IN ('owner', 'engineer', 'supplier', 'verifier')",
            name=op.f("ck_web_invitation_role"),
        ),
        sa.ForeignKeyConstraint(
            ["invited_by"],
            ["web_user.id"],
            name=op.f("fk_web_invitation_invited_by_web_user"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisation.id"],
            name=op.f("fk_web_invitation_organisation_id_organisation"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_web_invitation")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_web_invitation_token_hash")),
    )
    op.create_index(
        op.f("ix_web_invitation_organisation_id"),
        "web_invitation",
        ["organisation_id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_web_invitation_organisation_id"), table_name="web_invitation")
    op.drop_table("web_invitation")
