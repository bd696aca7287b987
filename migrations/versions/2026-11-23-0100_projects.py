"""Decided projects (公开): one row per selected candidate, made when a cycle is announced.

Revision ID: a51c0e7d2b64
Revises: 7a1e5c3b9d20
Create Date: 2026-11-23 01:00:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "a51c0e7d2b64"
down_revision: str | None = "7a1e5c3b9d20"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "project",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("cycle_id", sa.String(length=32), nullable=False),
        sa.Column("candidate_id", sa.String(length=32), nullable=False),
        sa.Column("title", sa.String(length=100), nullable=False),
        sa.Column("responsible_unit", sa.String(length=100), nullable=False),
        sa.Column("responsible_unit_id", sa.String(length=32), nullable=False),
        sa.Column("budget_wan", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("deadline", sa.Date(), nullable=False),
        sa.Column("yes", sa.Integer(), nullable=False),
        sa.Column("ballot_id", sa.String(length=32), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["ballot_id"], ["ballot_round.id"],
                                name=op.f("fk_project_ballot_id_ballot_round")),
        sa.ForeignKeyConstraint(["candidate_id"], ["candidate.id"],
                                name=op.f("fk_project_candidate_id_candidate")),
        sa.ForeignKeyConstraint(["cycle_id"], ["cycle.id"],
                                name=op.f("fk_project_cycle_id_cycle")),
        sa.ForeignKeyConstraint(["responsible_unit_id"], ["responsible_unit.id"],
                                name=op.f("fk_project_responsible_unit_id_responsible_unit")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_project")),
        sa.UniqueConstraint("candidate_id", name=op.f("uq_project_candidate_id")),
    )
    with op.batch_alter_table("project", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_project_cycle_id"), ["cycle_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("project", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_project_cycle_id"))
    op.drop_table("project")
