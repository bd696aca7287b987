"""Audit anchors (审计锚点): the audit chain's head, signed at intervals with a key kept outside
the database, and published.

Revision ID: 8a4f2c6e1b37
Revises: 5e2b7c9d1a40
Create Date: 2026-12-07 06:20:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "8a4f2c6e1b37"
down_revision: str | None = "5e2b7c9d1a40"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "audit_anchor",
        sa.Column("seq", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.Column("count", sa.BigInteger(), nullable=False),
        sa.Column("signed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("key_id", sa.String(length=16), nullable=False),
        sa.Column("signature", sa.String(length=88), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_audit_anchor")),
    )


def downgrade() -> None:
    # The anchors stay in the anchor file (MINSHENG_AUDIT_ANCHOR_FILE) and in auditors' copies.
    op.drop_table("audit_anchor")
