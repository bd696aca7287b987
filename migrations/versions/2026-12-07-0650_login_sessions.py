"""Server-side page sessions (登录会话): logging out, or out everywhere, ends them for good.

Cookies issued before this revision hold no session id: those browsers log in once more.

Revision ID: 8d4f2a6c1e93
Revises: 8a4f2c6e1b37
Create Date: 2026-12-07 06:00:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "8d4f2a6c1e93"
down_revision: str | None = "8a4f2c6e1b37"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "login_session",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("device", sa.String(length=120), nullable=False),
        sa.Column("address", sa.String(length=64), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ended_reason", sa.String(length=20), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["user_account.id"],
                                name=op.f("fk_login_session_user_id_user_account")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_login_session")),
    )
    with op.batch_alter_table("login_session") as batch:
        batch.create_index("ix_login_session_user_ended", ["user_id", "ended_at"], unique=False)
        batch.create_index("ix_login_session_expires", ["expires_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("login_session") as batch:
        batch.drop_index("ix_login_session_expires")
        batch.drop_index("ix_login_session_user_ended")
    op.drop_table("login_session")
