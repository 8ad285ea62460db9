"""Initial schema: organisations, API clients, products, calculations, footprints, events.

Revision ID: 0001
Revises:
Create Date: 2026-12-02 18:36:01.192733

Generated with ``alembic revision --autogenerate`` from :mod:`openpcf.db.models`, then
reviewed: timestamps are written as ``DateTime(timezone=True)`` (what the models'
``UTCDateTime`` stores) so the migration does not import application code, and the indexes of
the new tables are created directly rather than in SQLite batch blocks.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "organisation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("company_ids", sa.JSON(), nullable=False),
        sa.Column("created", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_organisation")),
        sa.UniqueConstraint("name", name=op.f("uq_organisation_name")),
    )
    op.create_table(
        "api_client",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("client_id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("secret_hash", sa.String(length=255), nullable=False),
        sa.Column("scopes", sa.JSON(), nullable=False),
        sa.Column("created", sa.DateTime(timezone=True), nullable=False),
        sa.Column("disabled", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisation.id"],
            name=op.f("fk_api_client_organisation_id_organisation"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_client")),
        sa.UniqueConstraint("client_id", name=op.f("uq_api_client_client_id")),
    )
    op.create_index(
        op.f("ix_api_client_organisation_id"), "api_client", ["organisation_id"], unique=False
    )

    op.create_table(
        "outbox_event",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=True),
        sa.Column("target_url", sa.String(length=2048), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("created", sa.DateTime(timezone=True), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("abandoned_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisation.id"],
            name=op.f("fk_outbox_event_organisation_id_organisation"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox_event")),
    )
    op.create_index(
        op.f("ix_outbox_event_next_attempt_at"), "outbox_event", ["next_attempt_at"], unique=False
    )

    op.create_table(
        "product",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("product_ids", sa.JSON(), nullable=False),
        sa.Column("name", sa.String(length=500), nullable=False),
        sa.Column("cn_code", sa.String(length=16), nullable=True),
        sa.Column("cpc", sa.String(length=16), nullable=True),
        sa.Column("created", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisation.id"],
            name=op.f("fk_product_organisation_id_organisation"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_product")),
    )
    op.create_index(
        op.f("ix_product_organisation_id"), "product", ["organisation_id"], unique=False
    )

    op.create_table(
        "calculation_record",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("model_sha256", sa.String(length=64), nullable=False),
        sa.Column("result", sa.JSON(), nullable=False),
        sa.Column("provenance", sa.JSON(), nullable=False),
        sa.Column("created", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["product_id"], ["product.id"], name=op.f("fk_calculation_record_product_id_product")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_calculation_record")),
    )
    op.create_index(
        op.f("ix_calculation_record_product_id"), "calculation_record", ["product_id"], unique=False
    )

    op.create_table(
        "event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.String(length=255), nullable=False),
        sa.Column("source", sa.String(length=1024), nullable=False),
        sa.Column("type", sa.String(length=255), nullable=False),
        sa.Column("client_id", sa.Integer(), nullable=True),
        sa.Column("received", sa.DateTime(timezone=True), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["client_id"],
            ["api_client.id"],
            name=op.f("fk_event_client_id_api_client"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_event")),
        sa.UniqueConstraint("source", "event_id", name=op.f("uq_event_source_event_id")),
    )
    op.create_table(
        "footprint_access",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("client_id", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("granted", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["client_id"],
            ["api_client.id"],
            name=op.f("fk_footprint_access_client_id_api_client"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["product.id"],
            name=op.f("fk_footprint_access_product_id_product"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_footprint_access")),
        sa.UniqueConstraint(
            "client_id", "product_id", name=op.f("uq_footprint_access_client_id_product_id")
        ),
    )
    op.create_index(
        op.f("ix_footprint_access_product_id"), "footprint_access", ["product_id"], unique=False
    )

    op.create_table(
        "footprint",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("calculation_id", sa.Integer(), nullable=True),
        sa.Column("spec_version", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("status_changed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created", sa.DateTime(timezone=True), nullable=False),
        sa.Column("stored_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("document", sa.JSON(), nullable=False),
        sa.Column("preceding_pf_ids", sa.JSON(), nullable=False),
        sa.Column("reference_period_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reference_period_end", sa.DateTime(timezone=True), nullable=False),
        sa.Column("validity_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("validity_end", sa.DateTime(timezone=True), nullable=False),
        sa.Column("geography_region", sa.String(length=64), nullable=True),
        sa.Column("geography_country", sa.String(length=2), nullable=True),
        sa.Column("geography_subdivision", sa.String(length=8), nullable=True),
        sa.CheckConstraint("status IN ('Active', 'Deprecated')", name=op.f("ck_footprint_status")),
        sa.ForeignKeyConstraint(
            ["calculation_id"],
            ["calculation_record.id"],
            name=op.f("fk_footprint_calculation_id_calculation_record"),
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisation.id"],
            name=op.f("fk_footprint_organisation_id_organisation"),
        ),
        sa.ForeignKeyConstraint(
            ["product_id"], ["product.id"], name=op.f("fk_footprint_product_id_product")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_footprint")),
    )
    op.create_index(
        "ix_footprint_organisation_stored",
        "footprint",
        ["organisation_id", "stored_at", "id"],
        unique=False,
    )
    op.create_index(
        "ix_footprint_product_status", "footprint", ["product_id", "status"], unique=False
    )
    op.create_index(op.f("ix_footprint_validity_end"), "footprint", ["validity_end"], unique=False)
    op.create_index(
        op.f("ix_footprint_validity_start"), "footprint", ["validity_start"], unique=False
    )

    op.create_table(
        "footprint_key",
        sa.Column("footprint_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("value", sa.String(length=500), nullable=False),
        sa.CheckConstraint(
            "kind IN ('productId', 'companyId', 'classification', 'geography')",
            name=op.f("ck_footprint_key_kind"),
        ),
        sa.ForeignKeyConstraint(
            ["footprint_id"],
            ["footprint.id"],
            name=op.f("fk_footprint_key_footprint_id_footprint"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("footprint_id", "kind", "value", name=op.f("pk_footprint_key")),
    )
    op.create_index("ix_footprint_key_kind_value", "footprint_key", ["kind", "value"], unique=False)


def downgrade() -> None:
    op.drop_table("footprint_key")
    op.drop_table("footprint")
    op.drop_table("footprint_access")
    op.drop_table("event")
    op.drop_table("calculation_record")
    op.drop_table("product")
    op.drop_table("outbox_event")
    op.drop_table("api_client")
    op.drop_table("organisation")
