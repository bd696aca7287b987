"""The congress session (人代会会议) that decides a cycle, quoted by its 公告.

Revision ID: d8f3b61a0c27
Revises: c7e4a9d25f10
Create Date: 2026-11-23 04:00:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "d8f3b61a0c27"
down_revision: str | None = "c7e4a9d25f10"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("cycle") as batch:
        batch.add_column(sa.Column("congress_session", sa.String(length=100), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("cycle") as batch:
        batch.drop_column("congress_session")
