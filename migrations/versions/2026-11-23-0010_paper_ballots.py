"""Paper ballots and hall voting devices (票决).

Double entry of paper sheets (ballot_paper_entry), the number of voting devices issued
(ballot_round.device_issued) and which content rows came from a device import
(ballot_device_ballot, WITHOUT ROWID on SQLite).

Revision ID: 7a1e5c3b9d20
Revises: 3c9d2e71a4f0
Create Date: 2026-11-23 00:10:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "7a1e5c3b9d20"
down_revision: str | None = "3c9d2e71a4f0"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("ballot_round", schema=None) as batch_op:
        batch_op.add_column(sa.Column("device_issued", sa.Integer(), nullable=True))

    op.create_table(
        "ballot_paper_entry",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("round_id", sa.String(length=32), nullable=False),
        sa.Column("sheet", sa.Integer(), nullable=False),
        sa.Column("entered_by", sa.String(length=32), nullable=False),
        sa.Column("marks", sa.Text(), nullable=False),
        sa.Column("spoilt", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("corrected_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["entered_by"], ["user_account.id"],
                                name=op.f("fk_ballot_paper_entry_entered_by_user_account")),
        sa.ForeignKeyConstraint(["round_id"], ["ballot_round.id"],
                                name=op.f("fk_ballot_paper_entry_round_id_ballot_round")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ballot_paper_entry")),
        sa.UniqueConstraint("round_id", "sheet", "entered_by",
                            name=op.f("uq_ballot_paper_entry_round_id_sheet_entered_by")),
    )
    with op.batch_alter_table("ballot_paper_entry", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_ballot_paper_entry_round_id"), ["round_id"],
                              unique=False)

    op.create_table(
        "ballot_device_ballot",
        sa.Column("content_id", sa.String(length=32), nullable=False),
        sa.Column("round_id", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(["content_id"], ["ballot_content.id"],
                                name=op.f("fk_ballot_device_ballot_content_id_ballot_content")),
        sa.ForeignKeyConstraint(["round_id"], ["ballot_round.id"],
                                name=op.f("fk_ballot_device_ballot_round_id_ballot_round")),
        sa.PrimaryKeyConstraint("content_id", name=op.f("pk_ballot_device_ballot")),
        sqlite_with_rowid=False,
    )
    with op.batch_alter_table("ballot_device_ballot", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_ballot_device_ballot_round_id"), ["round_id"],
                              unique=False)


def downgrade() -> None:
    with op.batch_alter_table("ballot_device_ballot", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ballot_device_ballot_round_id"))
    op.drop_table("ballot_device_ballot")
    with op.batch_alter_table("ballot_paper_entry", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ballot_paper_entry_round_id"))
    op.drop_table("ballot_paper_entry")
    with op.batch_alter_table("ballot_round", schema=None) as batch_op:
        batch_op.drop_column("device_issued")
