"""project_decisions: the congress decisions that move a project to a side state or back.

A major adjustment (重大调整), a suspension (暂缓), a termination (终止) and resuming a suspended
project need a decision of the congress standing committee, with its document number and date
(DOMAIN.md 监督); `project_decision` keeps each with the move it made, and whether the next
session has been told (`reported_at`).

Revision ID: 6d2b9e4a8c51
Revises: 3f8a6c2e9b17
Create Date: 2026-12-07 07:50:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "6d2b9e4a8c51"
down_revision: str | None = "3f8a6c2e9b17"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "project_decision",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("project_id", sa.String(length=32), nullable=False),
        sa.Column("from_state", sa.String(length=16), nullable=False),
        sa.Column("to_state", sa.String(length=16), nullable=False),
        sa.Column("number", sa.String(length=100), nullable=False),
        sa.Column("decided_on", sa.Date(), nullable=False),
        sa.Column("reason", sa.String(length=1000), nullable=False),
        sa.Column("recorded_by", sa.String(length=64), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reported_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["project_id"], ["project.id"],
                                name=op.f("fk_project_decision_project_id_project")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_project_decision")),
    )
    with op.batch_alter_table("project_decision", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_project_decision_project_id"), ["project_id"],
                              unique=False)


def downgrade() -> None:
    with op.batch_alter_table("project_decision", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_project_decision_project_id"))
    op.drop_table("project_decision")
