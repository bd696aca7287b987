"""Implementation plans (实施方案): the current plan per project and every saved version.

Revision ID: b62d1f0e9a31
Revises: a51c0e7d2b64
Create Date: 2026-11-23 02:00:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "b62d1f0e9a31"
down_revision: str | None = "a51c0e7d2b64"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "project_plan",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("project_id", sa.String(length=32), nullable=False),
        sa.Column("milestones", sa.JSON(), nullable=False),
        sa.Column("funding", sa.JSON(), nullable=False),
        sa.Column("targets", sa.JSON(), nullable=False),
        sa.Column("stage_targets", sa.JSON(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("published_by", sa.String(length=64), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(["project_id"], ["project.id"],
                                name=op.f("fk_project_plan_project_id_project")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_project_plan")),
        sa.UniqueConstraint("project_id", name=op.f("uq_project_plan_project_id")),
    )
    op.create_table(
        "project_plan_version",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("project_id", sa.String(length=32), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("saved_by", sa.String(length=64), nullable=False),
        sa.Column("saved_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["project_id"], ["project.id"],
                                name=op.f("fk_project_plan_version_project_id_project")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_project_plan_version")),
        sa.UniqueConstraint("project_id", "version",
                            name=op.f("uq_project_plan_version_project_id_version")),
    )
    with op.batch_alter_table("project_plan_version", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_project_plan_version_project_id"), ["project_id"],
                              unique=False)


def downgrade() -> None:
    with op.batch_alter_table("project_plan_version", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_project_plan_version_project_id"))
    op.drop_table("project_plan_version")
    op.drop_table("project_plan")
