"""Lists decided by the government (政府研究确定): how each cycle's list is decided, the adopting
meeting's record, comments on the draft list with the government's answers, and projects
without a ballot.

Existing cycles were balloted (`decided_by` = 'ballot').

Revision ID: 5e2b7c9d1a40
Revises: 3c1e7a9b5d20
Create Date: 2026-12-07 05:50:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "5e2b7c9d1a40"
down_revision: str | None = "3c1e7a9b5d20"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_OLD_SUBJECT = "(proposal_id IS NULL) <> (candidate_id IS NULL)"
_NEW_SUBJECT = "(proposal_id IS NULL) <> (candidate_id IS NULL AND cycle_id IS NULL)"


def upgrade() -> None:
    with op.batch_alter_table("cycle") as batch:
        batch.add_column(sa.Column("decided_by", sa.String(length=16), nullable=False,
                                   server_default="ballot"))
        batch.add_column(sa.Column("adoption_meeting", sa.String(length=100), nullable=True))
        batch.add_column(sa.Column("adoption_date", sa.Date(), nullable=True))
        batch.add_column(sa.Column("adoption_document_number", sa.String(length=60),
                                   nullable=True))
        batch.add_column(sa.Column("adoption_left_out", sa.JSON(), nullable=False,
                                   server_default="[]"))
        batch.add_column(sa.Column("adoption_recorded_by", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("adoption_recorded_at", sa.DateTime(timezone=True),
                                   nullable=True))

    with op.batch_alter_table("comment") as batch:
        batch.add_column(sa.Column("cycle_id", sa.String(length=32), nullable=True))
        batch.add_column(sa.Column("answer_kind", sa.String(length=8), nullable=True))
        batch.add_column(sa.Column("answer_text", sa.Text(), nullable=False, server_default=""))
        batch.add_column(sa.Column("answered_by", sa.String(length=100), nullable=True))
        batch.add_column(sa.Column("answered_by_id", sa.String(length=32), nullable=True))
        batch.add_column(sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True))
        batch.create_foreign_key(batch.f("fk_comment_cycle_id_cycle"), "cycle", ["cycle_id"],
                                 ["id"])
        batch.create_foreign_key(batch.f("fk_comment_answered_by_id_user_account"),
                                 "user_account", ["answered_by_id"], ["id"])
        batch.create_index("ix_comment_cycle_created", ["cycle_id", "created_at"], unique=False)
        batch.drop_constraint(batch.f("ck_comment_one_subject"), type_="check")
        batch.create_check_constraint("one_subject", _NEW_SUBJECT)
        batch.create_check_constraint(
            "answer_kind", "answer_kind IS NULL OR answer_kind IN ('answered', 'noted')")

    with op.batch_alter_table("project") as batch:
        batch.alter_column("yes", existing_type=sa.Integer(), nullable=True)
        batch.alter_column("ballot_id", existing_type=sa.String(length=32), nullable=True)


def downgrade() -> None:
    # Projects and comments of government lists have no place in the older schema.
    op.execute("DELETE FROM comment_report WHERE comment_id IN "
               "(SELECT id FROM comment WHERE cycle_id IS NOT NULL AND candidate_id IS NULL)")
    op.execute("DELETE FROM comment WHERE cycle_id IS NOT NULL AND candidate_id IS NULL")
    op.execute("DELETE FROM project_plan_version WHERE project_id IN "
               "(SELECT id FROM project WHERE ballot_id IS NULL)")
    op.execute("DELETE FROM project_plan WHERE project_id IN "
               "(SELECT id FROM project WHERE ballot_id IS NULL)")
    op.execute("DELETE FROM project WHERE ballot_id IS NULL")
    with op.batch_alter_table("project") as batch:
        batch.alter_column("ballot_id", existing_type=sa.String(length=32), nullable=False)
        batch.alter_column("yes", existing_type=sa.Integer(), nullable=False)

    with op.batch_alter_table("comment") as batch:
        batch.drop_constraint(batch.f("ck_comment_answer_kind"), type_="check")
        batch.drop_constraint(batch.f("ck_comment_one_subject"), type_="check")
        batch.create_check_constraint("one_subject", _OLD_SUBJECT)
        batch.drop_index("ix_comment_cycle_created")
        batch.drop_constraint(batch.f("fk_comment_answered_by_id_user_account"),
                              type_="foreignkey")
        batch.drop_constraint(batch.f("fk_comment_cycle_id_cycle"), type_="foreignkey")
        for column in ("answered_at", "answered_by_id", "answered_by", "answer_text",
                       "answer_kind", "cycle_id"):
            batch.drop_column(column)

    with op.batch_alter_table("cycle") as batch:
        for column in ("adoption_recorded_at", "adoption_recorded_by", "adoption_left_out",
                       "adoption_document_number", "adoption_date", "adoption_meeting",
                       "decided_by"):
            batch.drop_column(column)
