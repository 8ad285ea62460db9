"""Supplier footprints in the database, and the requests this host sent.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-05 10:00:00

Until now received supplier footprints were files in ``$OPENPCF_HOME/supplier_footprints``
that any authenticated API client could overwrite with an unsolicited RequestFulfilled event.
``pact_request`` records each RequestCreated this host sends, so that only the peer it was sent
to can answer it, once; ``supplier_footprint`` holds the received footprints per organisation
with their origin, unique by ``(organisation_id, footprint_id)`` and never rewritten;
``supplier_footprint_product`` holds their lower-cased product ids, so a ``supplier_footprint:
urn:…`` input is found in SQL on both backends. The old file inbox is not migrated: it may hold
injected data, so its files are imported only by hand (``openpcf pact import``) after a check.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "pact_request",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.String(length=255), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("client_id", sa.Integer(), nullable=True),
        sa.Column("target_url", sa.String(length=2048), nullable=False),
        sa.Column("version", sa.String(length=1), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("answer_type", sa.String(length=255), nullable=True),
        sa.Column("answer_event_id", sa.String(length=255), nullable=True),
        sa.ForeignKeyConstraint(
            ["client_id"],
            ["api_client.id"],
            name=op.f("fk_pact_request_client_id_api_client"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisation.id"],
            name=op.f("fk_pact_request_organisation_id_organisation"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pact_request")),
        sa.UniqueConstraint("event_id", name=op.f("uq_pact_request_event_id")),
    )
    op.create_index(
        op.f("ix_pact_request_organisation_id"), "pact_request", ["organisation_id"], unique=False
    )
    op.create_table(
        "supplier_footprint",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("footprint_id", sa.Uuid(), nullable=False),
        sa.Column("spec_version", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=True),
        sa.Column("created", sa.DateTime(timezone=True), nullable=True),
        sa.Column("document", sa.JSON(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("origin", sa.String(length=16), nullable=False),
        sa.Column("source", sa.String(length=2048), nullable=False),
        sa.Column("client_id", sa.Integer(), nullable=True),
        sa.Column("request_event_id", sa.String(length=255), nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "origin IN ('pulled', 'answered', 'imported')",
            name=op.f("ck_supplier_footprint_origin"),
        ),
        sa.ForeignKeyConstraint(
            ["client_id"],
            ["api_client.id"],
            name=op.f("fk_supplier_footprint_client_id_api_client"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisation.id"],
            name=op.f("fk_supplier_footprint_organisation_id_organisation"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_supplier_footprint")),
        sa.UniqueConstraint(
            "organisation_id",
            "footprint_id",
            name=op.f("uq_supplier_footprint_organisation_id_footprint_id"),
        ),
    )
    op.create_index(
        op.f("ix_supplier_footprint_footprint_id"),
        "supplier_footprint",
        ["footprint_id"],
        unique=False,
    )
    op.create_table(
        "supplier_footprint_product",
        sa.Column("supplier_footprint_id", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.String(length=500), nullable=False),
        sa.ForeignKeyConstraint(
            ["supplier_footprint_id"],
            ["supplier_footprint.id"],
            name="fk_supplier_footprint_product_row",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "supplier_footprint_id", "product_id", name=op.f("pk_supplier_footprint_product")
        ),
    )
    op.create_index(
        op.f("ix_supplier_footprint_product_product_id"),
        "supplier_footprint_product",
        ["product_id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(
        op.f("ix_supplier_footprint_product_product_id"), table_name="supplier_footprint_product"
    )
    op.drop_table("supplier_footprint_product")
    op.drop_index(op.f("ix_supplier_footprint_footprint_id"), table_name="supplier_footprint")
    op.drop_table("supplier_footprint")
    op.drop_index(op.f("ix_pact_request_organisation_id"), table_name="pact_request")
    op.drop_table("pact_request")
