"""ballot_items: one box for 票决 and 测评 — a round says its form, and its ballot paper lists
items, not only candidates.

`ballot_round.form` names the ballot form a round is cast on (app/ballotbox/forms.py):
`deputies_ballot` (票决, every round so far) or `evaluation` (测评); rounds are numbered per
cycle and form (the first 测评 round is round 1, API.md). `ballot_item` takes the place
of `ballot_candidate`: the items on a round's ballot paper in their places, candidates for 票决,
projects for 测评. `item_id` has no foreign key, as it names a row of the table the form says;
the stage that makes the round checks it (app/ballots/service.py `create`).

Revision ID: 9c4e2a7d1f35
Revises: 5e1b7c3a9d24
Create Date: 2026-12-07 07:30:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "9c4e2a7d1f35"
down_revision: str | None = "5e1b7c3a9d24"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("ballot_round", schema=None) as batch_op:
        batch_op.add_column(sa.Column("form", sa.String(length=24), nullable=False,
                                      server_default="deputies_ballot"))
        batch_op.drop_constraint("uq_ballot_round_cycle_id_round", type_="unique")
        batch_op.create_unique_constraint("uq_ballot_round_cycle_id_form_round",
                                          ["cycle_id", "form", "round"])
    op.create_table(
        "ballot_item",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("round_id", sa.String(length=32), nullable=False),
        sa.Column("item_id", sa.String(length=32), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["round_id"], ["ballot_round.id"],
                                name=op.f("fk_ballot_item_round_id_ballot_round")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ballot_item")),
        sa.UniqueConstraint("round_id", "item_id", name=op.f("uq_ballot_item_round_id_item_id")),
    )
    with op.batch_alter_table("ballot_item", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_ballot_item_round_id"), ["round_id"], unique=False)
    op.execute("INSERT INTO ballot_item (id, round_id, item_id, position) "
               "SELECT id, round_id, candidate_id, position FROM ballot_candidate")
    with op.batch_alter_table("ballot_candidate", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ballot_candidate_round_id"))
    op.drop_table("ballot_candidate")


def downgrade() -> None:
    if op.get_bind().scalar(sa.text("SELECT count(*) FROM ballot_round "
                                     "WHERE form <> 'deputies_ballot'")):
        raise RuntimeError("rounds of another form than deputies_ballot exist (测评); "
                           "a database before ballot_items cannot hold them")
    op.create_table(
        "ballot_candidate",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("round_id", sa.String(length=32), nullable=False),
        sa.Column("candidate_id", sa.String(length=32), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["candidate_id"], ["candidate.id"],
                                name=op.f("fk_ballot_candidate_candidate_id_candidate")),
        sa.ForeignKeyConstraint(["round_id"], ["ballot_round.id"],
                                name=op.f("fk_ballot_candidate_round_id_ballot_round")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ballot_candidate")),
        sa.UniqueConstraint("round_id", "candidate_id",
                            name=op.f("uq_ballot_candidate_round_id_candidate_id")),
    )
    with op.batch_alter_table("ballot_candidate", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_ballot_candidate_round_id"), ["round_id"],
                              unique=False)
    op.execute("INSERT INTO ballot_candidate (id, round_id, candidate_id, position) "
               "SELECT id, round_id, item_id, position FROM ballot_item")
    with op.batch_alter_table("ballot_item", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ballot_item_round_id"))
    op.drop_table("ballot_item")
    with op.batch_alter_table("ballot_round", schema=None) as batch_op:
        batch_op.drop_constraint("uq_ballot_round_cycle_id_form_round", type_="unique")
        batch_op.create_unique_constraint("uq_ballot_round_cycle_id_round", ["cycle_id", "round"])
        batch_op.drop_column("form")
