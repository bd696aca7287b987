"""proposal_tally: the public list's totals without counting the cycle's proposals, and a version
of what a search can find; ix_proposal_cycle_facets ends with created_at.

Counting the live proposals of a cycle of 100,000 read 88,000 index entries for every page of the
list (12 ms on SQLite, 15–25 ms on PostgreSQL). proposal_tally keeps, per cycle, state, category
and place, how many proposals there are, kept in step by triggers in the transaction that changes
them; a total sums a few dozen rows. Its `changes` grow with every proposal added, removed or
changed in state, category, place, words or time: their sum over a cycle is the version the
search memo is keyed by (app/proposals/search.py).

ix_proposal_cycle_facets gains created_at, so a list filtered by state, category and place walks
it newest first and stops at the page instead of sorting every match (7–35 ms on SQLite).

NOTE: like the full-text triggers (2026-11-22-2130_search_facets.py), a later
batch_alter_table('proposal') on SQLite copies the table and drops these triggers: create
SQLITE_TRIGGERS again after it.

Revision ID: 07456cab6fda
Revises: 7a4d2e9c1b60
Create Date: 2026-12-07 07:10:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "07456cab6fda"
down_revision: str | None = "7a4d2e9c1b60"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_KEY = "cycle_id, state, category, location_code"


def _bucket(row: str) -> str:
    return " AND ".join(f"{c} = {row}.{c}" for c in _KEY.split(", "))


def _values(row: str) -> str:
    return ", ".join(f"{row}.{c}" for c in _KEY.split(", "))


_SQLITE_ADD = (f"INSERT INTO proposal_tally ({_KEY}, proposals, changes) "
               f"VALUES ({_values('new')}, 1, 1) ON CONFLICT ({_KEY}) "
               "DO UPDATE SET proposals = proposals + 1, changes = changes + 1;")
_SQLITE_REMOVE = ("UPDATE proposal_tally SET proposals = proposals - 1, changes = changes + 1 "
                  f"WHERE {_bucket('old')};")
# What a search finds and how the list orders it (not endorsements: they change too often).
_WATCHED = "cycle_id, state, category, location_code, search_text, created_at"

SQLITE_TRIGGERS = [
    f"CREATE TRIGGER proposal_tally_ai AFTER INSERT ON proposal BEGIN {_SQLITE_ADD} END",
    f"CREATE TRIGGER proposal_tally_ad AFTER DELETE ON proposal BEGIN {_SQLITE_REMOVE} END",
    f"CREATE TRIGGER proposal_tally_au AFTER UPDATE OF {_WATCHED} ON proposal BEGIN "
    f"{_SQLITE_REMOVE} {_SQLITE_ADD} END",
]

POSTGRES_TRIGGERS = [
    f"""CREATE FUNCTION proposal_tally_sync() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF TG_OP <> 'INSERT' THEN
        UPDATE proposal_tally SET proposals = proposals - 1, changes = changes + 1
        WHERE {_bucket('OLD')};
      END IF;
      IF TG_OP <> 'DELETE' THEN
        INSERT INTO proposal_tally AS t ({_KEY}, proposals, changes)
        VALUES ({_values('NEW')}, 1, 1)
        ON CONFLICT ({_KEY})
        DO UPDATE SET proposals = t.proposals + 1, changes = t.changes + 1;
      END IF;
      RETURN NULL;
    END $$""",
    "CREATE TRIGGER proposal_tally_aid AFTER INSERT OR DELETE ON proposal "
    "FOR EACH ROW EXECUTE FUNCTION proposal_tally_sync()",
    f"CREATE TRIGGER proposal_tally_au AFTER UPDATE OF {_WATCHED} ON proposal "
    "FOR EACH ROW EXECUTE FUNCTION proposal_tally_sync()",
]


def upgrade() -> None:
    op.create_table(
        "proposal_tally",
        sa.Column("cycle_id", sa.String(length=32), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("category", sa.String(length=32), nullable=False),
        sa.Column("location_code", sa.String(length=32), nullable=False),
        sa.Column("proposals", sa.Integer(), nullable=False),
        sa.Column("changes", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("cycle_id", "state", "category", "location_code"),
    )
    op.execute(f"INSERT INTO proposal_tally ({_KEY}, proposals, changes) "
               f"SELECT {_KEY}, count(*), count(*) FROM proposal GROUP BY {_KEY}")
    postgres = op.get_bind().dialect.name == "postgresql"
    for statement in POSTGRES_TRIGGERS if postgres else SQLITE_TRIGGERS:
        op.execute(statement)
    op.drop_index("ix_proposal_cycle_facets", table_name="proposal")
    op.create_index("ix_proposal_cycle_facets", "proposal",
                    ["cycle_id", "state", "category", "location_code", "created_at"])
    _restat()


def _restat() -> None:
    """SQLite plans with the statistics ANALYZE left (if it ever ran): without a line for the
    new index it takes that index for the best, and sorts the whole cycle for a page."""
    bind = op.get_bind()
    if bind.dialect.name == "sqlite" and bind.exec_driver_sql(
            "SELECT 1 FROM sqlite_master WHERE name = 'sqlite_stat1'").first():
        op.execute("ANALYZE proposal")


def downgrade() -> None:
    op.drop_index("ix_proposal_cycle_facets", table_name="proposal")
    op.create_index("ix_proposal_cycle_facets", "proposal",
                    ["cycle_id", "state", "category", "location_code"])
    _restat()
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS proposal_tally_au ON proposal")
        op.execute("DROP TRIGGER IF EXISTS proposal_tally_aid ON proposal")
        op.execute("DROP FUNCTION IF EXISTS proposal_tally_sync()")
    else:
        for name in ("proposal_tally_au", "proposal_tally_ad", "proposal_tally_ai"):
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    op.drop_table("proposal_tally")
