"""Scenario footprints in a table of their own, never served and never live.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-06 10:00:00

``openpcf publish --param ...`` stored a what-if as the product's new Active footprint, which
deprecated the live one that buyers pull (issue 13). What-ifs published with ``--scenario
NAME`` go into ``scenario_footprint``; the PACT host reads only ``footprint``, so a scenario is
never served, never Active and never deprecates anything (see
:class:`openpcf.db.models.ScenarioFootprint`).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "scenario_footprint",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("calculation_id", sa.Integer(), nullable=True),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("footprint_id", sa.Uuid(), nullable=False),
        sa.Column("document", sa.JSON(), nullable=False),
        sa.Column("parameters", sa.JSON(), nullable=False),
        sa.Column("stored_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["calculation_id"],
            ["calculation_record.id"],
            name=op.f("fk_scenario_footprint_calculation_id_calculation_record"),
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisation.id"],
            name=op.f("fk_scenario_footprint_organisation_id_organisation"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["product.id"],
            name=op.f("fk_scenario_footprint_product_id_product"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scenario_footprint")),
        sa.UniqueConstraint(
            "product_id",
            "name",
            "footprint_id",
            name=op.f("uq_scenario_footprint_product_id_name_footprint_id"),
        ),
    )
    op.create_index(
        op.f("ix_scenario_footprint_organisation_id"),
        "scenario_footprint",
        ["organisation_id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_scenario_footprint_organisation_id"), table_name="scenario_footprint")
    op.drop_table("scenario_footprint")
