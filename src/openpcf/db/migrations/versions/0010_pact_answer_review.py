"""Received PACT requests answered by a person: the organisation's answer mode, the request's state.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-04 22:20:00

Issue 16, item 4. ``organisation.pact_answer_mode`` is ``auto`` (the host answers each
RequestCreated event at once, as before; every existing organisation) or ``review`` (the
request is held until an owner or engineer fulfils or rejects it). A held request is an
``event`` row with ``answer_state`` ``pending``, later ``answered`` (with ``answered_at``
and ``answered_by``); ``answer_source`` is the CloudEvents source its answer carries. A
partial index finds the pending requests of a client.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PENDING = sa.text("answer_state = 'pending'")


def upgrade() -> None:
    with op.batch_alter_table("organisation") as batch:
        batch.add_column(
            sa.Column(
                "pact_answer_mode", sa.String(length=8), server_default="auto", nullable=False
            )
        )
        batch.create_check_constraint("pact_answer_mode", "pact_answer_mode IN ('auto', 'review')")
    with op.batch_alter_table("event") as batch:
        batch.add_column(sa.Column("answer_state", sa.String(length=16), nullable=True))
        batch.add_column(sa.Column("answer_source", sa.String(length=1024), nullable=True))
        batch.add_column(sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("answered_by", sa.String(length=320), nullable=True))
        batch.create_check_constraint("answer_state", "answer_state IN ('pending', 'answered')")
    op.create_index(
        "ix_event_pending_client",
        "event",
        ["client_id"],
        sqlite_where=PENDING,
        postgresql_where=PENDING,
    )


def downgrade() -> None:
    op.drop_index("ix_event_pending_client", table_name="event")
    with op.batch_alter_table("event") as batch:
        batch.drop_constraint(op.f("ck_event_answer_state"), type_="check")
        for column in ("answered_by", "answered_at", "answer_source", "answer_state"):
            batch.drop_column(column)
    with op.batch_alter_table("organisation") as batch:
        batch.drop_constraint(op.f("ck_organisation_pact_answer_mode"), type_="check")
        batch.drop_column("pact_answer_mode")
