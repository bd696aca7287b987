"""progress_reports: what a project's responsible unit reports (监督).

`progress_report` keeps every report — physical percent, money spent to date (万元, by source),
milestones met, a note — public at once and never deleted; a correction is a new report naming
the one it corrects. Each keeps the planned progress (序时进度) and the status colour of the day
it was filed.

Revision ID: 8e3c1f7a2d64
Revises: 6d2b9e4a8c51
Create Date: 2026-12-07 07:59:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "8e3c1f7a2d64"
down_revision: str | None = "6d2b9e4a8c51"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "progress_report",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("project_id", sa.String(length=32), nullable=False),
        sa.Column("percent", sa.Integer(), nullable=False),
        sa.Column("spent_wan", sa.Numeric(12, 2), nullable=False),
        sa.Column("spent_by_source", sa.JSON(), nullable=False),
        sa.Column("milestones_met", sa.JSON(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("corrects", sa.String(length=32), nullable=True),
        sa.Column("reported_on", sa.Date(), nullable=False),
        sa.Column("planned_percent", sa.Float(), nullable=False),
        sa.Column("status", sa.String(length=8), nullable=True),
        sa.Column("filed_by", sa.String(length=64), nullable=False),
        sa.Column("filed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["project_id"], ["project.id"],
                                name=op.f("fk_progress_report_project_id_project")),
        sa.ForeignKeyConstraint(["corrects"], ["progress_report.id"],
                                name=op.f("fk_progress_report_corrects_progress_report")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_progress_report")),
    )
    with op.batch_alter_table("progress_report", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_progress_report_project_id"), ["project_id"],
                              unique=False)


def downgrade() -> None:
    with op.batch_alter_table("progress_report", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_progress_report_project_id"))
    op.drop_table("progress_report")
