"""Whether a signed-in person has chosen the organisation their session acts for.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-04 22:00:00

Issue 16: ``web_session.organisation_chosen``. A person with roles in several organisations
chooses one after signing in (``/organisation``); until then the session is bound to the
first of them but no page opens. Existing sessions count as chosen (they were made when a
session could only hold the first organisation).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("web_session") as batch:
        batch.add_column(
            sa.Column("organisation_chosen", sa.Boolean(), server_default=sa.true(), nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("web_session") as batch:
        batch.drop_column("organisation_chosen")
