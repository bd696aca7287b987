"""Staff-recorded proposals keep their channel's record number (12345 工单号, unique per cycle),
the proposer's phone (staff only) and when the channel received them.

Revision ID: 3c1e7a9b5d20
Revises: 6b6ba6e508b2
Create Date: 2026-12-07 05:40:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "3c1e7a9b5d20"
down_revision: str | None = "6b6ba6e508b2"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# Plain ADD COLUMN and a unique index: on SQLite a batch_alter_table would copy the table and
# drop the full-text triggers (see 2026-11-22-1907_proposals.py).
def upgrade() -> None:
    op.add_column("proposal", sa.Column("proposer_phone", sa.String(length=32),
                                        server_default="", nullable=False))
    op.add_column("proposal", sa.Column("source_ref", sa.String(length=64), nullable=True))
    op.add_column("proposal", sa.Column("received_at", sa.DateTime(timezone=True),
                                        nullable=True))
    op.create_index("uq_proposal_cycle_source_ref", "proposal", ["cycle_id", "source_ref"],
                    unique=True)


def downgrade() -> None:
    op.drop_index("uq_proposal_cycle_source_ref", table_name="proposal")
    for column in ("received_at", "source_ref", "proposer_phone"):  # SQLite 3.35+ and PostgreSQL
        op.execute(f"ALTER TABLE proposal DROP COLUMN {column}")
