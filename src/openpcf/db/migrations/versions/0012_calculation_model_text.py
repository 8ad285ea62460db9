"""The model's own text kept with a published calculation: ``calculation_record.model_text``.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-04 23:00:00

Issue 16, item 1. A calculation record kept the result and the model's SHA-256, not the model,
so the product page could not show the model's uncertainty and its report needed the model
file uploaded again. The new nullable column holds the model's YAML exactly as loaded when it
is self-contained and at most the editor's size
(:func:`openpcf.services.publishing.kept_model_text`); records stored before stay NULL and
keep the upload path.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("calculation_record") as batch:
        batch.add_column(sa.Column("model_text", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("calculation_record") as batch:
        batch.drop_column("model_text")
