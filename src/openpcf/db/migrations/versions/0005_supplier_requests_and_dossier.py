"""Supplier data requests, SKUs and their compliance evidence; two more supplier-data origins.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-04 19:30:00

Issue 15: ``supplier_request`` holds the requests for primary data sent to suppliers (at most
one open request per organisation, product and input: a partial unique index on both
backends); ``sku`` and ``evidence`` the products an organisation sells and the documents held
for each against the requirement catalogue. ``supplier_footprint.origin`` admits
``questionnaire`` (an accepted questionnaire answer) and ``epd`` (a supplier's EPD).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OPEN = sa.text("status IN ('sent', 'answered')")
ORIGINS_OLD = "origin IN ('pulled', 'answered', 'imported')"
ORIGINS_NEW = "origin IN ('pulled', 'answered', 'imported', 'questionnaire', 'epd')"


def _origins(condition: str) -> None:
    with op.batch_alter_table("supplier_footprint") as batch:
        batch.drop_constraint(op.f("ck_supplier_footprint_origin"), type_="check")
        batch.create_check_constraint("origin", condition)


def upgrade() -> None:
    _origins(ORIGINS_NEW)
    op.create_table(
        "supplier_request",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Uuid(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.String(length=500), nullable=False),
        sa.Column("product_name", sa.String(length=500), nullable=False),
        sa.Column("model_sha256", sa.String(length=64), nullable=False),
        sa.Column("process_id", sa.String(length=255), nullable=False),
        sa.Column("input_key", sa.String(length=1000), nullable=False),
        sa.Column("input_kind", sa.String(length=32), nullable=False),
        sa.Column("material", sa.String(length=1000), nullable=False),
        sa.Column("material_name", sa.String(length=1000), nullable=False),
        sa.Column("amount", sa.Double(), nullable=False),
        sa.Column("unit", sa.String(length=64), nullable=False),
        sa.Column("supplier", sa.String(length=500), nullable=False),
        sa.Column("supplier_url", sa.String(length=2048), nullable=True),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("due", sa.Date(), nullable=False),
        sa.Column("token_sha256", sa.String(length=64), nullable=False),
        sa.Column("template_version", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decision_note", sa.String(length=2000), nullable=False),
        sa.Column("supplier_footprint_id", sa.Uuid(), nullable=True),
        sa.Column("pact_event_id", sa.String(length=255), nullable=True),
        sa.CheckConstraint(
            "channel IN ('pact', 'questionnaire')", name=op.f("ck_supplier_request_channel")
        ),
        sa.CheckConstraint(
            "status IN ('sent', 'answered', 'accepted', 'rejected', 'cancelled')",
            name=op.f("ck_supplier_request_status"),
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisation.id"],
            name=op.f("fk_supplier_request_organisation_id_organisation"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_supplier_request")),
        sa.UniqueConstraint("request_id", name=op.f("uq_supplier_request_request_id")),
    )
    op.create_index(
        op.f("ix_supplier_request_organisation_id"),
        "supplier_request",
        ["organisation_id"],
        unique=False,
    )
    op.create_index(
        "uq_supplier_request_open_input",
        "supplier_request",
        ["organisation_id", "product_id", "input_key"],
        unique=True,
        sqlite_where=OPEN,
        postgresql_where=OPEN,
    )
    op.create_table(
        "sku",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("sku", sa.String(length=255), nullable=False),
        sa.Column("name", sa.String(length=500), nullable=False),
        sa.Column("cn_code", sa.String(length=16), nullable=False),
        sa.Column("rules", sa.String(length=100), nullable=True),
        sa.Column("product_urn", sa.String(length=500), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisation.id"],
            name=op.f("fk_sku_organisation_id_organisation"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sku")),
        sa.UniqueConstraint("organisation_id", "sku", name=op.f("uq_sku_organisation_id_sku")),
    )
    op.create_table(
        "evidence",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sku_id", sa.Integer(), nullable=False),
        sa.Column("requirement_id", sa.String(length=100), nullable=False),
        sa.Column("document", sa.String(length=500), nullable=False),
        sa.Column("issuer", sa.String(length=500), nullable=False),
        sa.Column("accreditation", sa.String(length=500), nullable=False),
        sa.Column("issued", sa.Date(), nullable=False),
        sa.Column("expires", sa.Date(), nullable=True),
        sa.Column("file_name", sa.String(length=500), nullable=False),
        sa.Column("file_sha256", sa.String(length=64), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["sku_id"], ["sku.id"], name=op.f("fk_evidence_sku_id_sku"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_evidence")),
        sa.UniqueConstraint(
            "sku_id",
            "requirement_id",
            "file_sha256",
            name=op.f("uq_evidence_sku_id_requirement_id_file_sha256"),
        ),
    )
    op.create_index(op.f("ix_evidence_sku_id"), "evidence", ["sku_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_evidence_sku_id"), table_name="evidence")
    op.drop_table("evidence")
    op.drop_table("sku")
    op.drop_index("uq_supplier_request_open_input", table_name="supplier_request")
    op.drop_index(op.f("ix_supplier_request_organisation_id"), table_name="supplier_request")
    op.drop_table("supplier_request")
    _origins(ORIGINS_OLD)
