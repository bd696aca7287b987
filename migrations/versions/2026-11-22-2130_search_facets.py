"""Search index with facets: a search's total without visiting every matching proposal row.

SQLite: a contentless FTS5 table proposal_fts(search_text, facets) keyed by proposal.rowid, kept
in step by triggers (delete needs the old values, which the triggers have). The facets — 'cy' +
cycle id, 'st' + state, 'ca' / 'lo' + the UTF-8 hex of category / location code — let the index
alone count "道路 in this cycle, live, 交通出行"; the column filter keeps residents' words from
posing as facets.

PostgreSQL counts a GIN match only after visiting each matching row for visibility, so the rows
it visits are made small: proposal_search holds the words (a tsvector, positions stripped), the
facets and the two sort keys, kept in step by a trigger; one bitmap scan gives a search's total
and its page. proposal.search_vector (a 1 kB column in every proposal row) goes.

Revision ID: 5e1f0a7c2b9d
Revises: cfee99a909a8
Create Date: 2026-11-22 21:30:00
"""
from collections.abc import Sequence

from alembic import op

revision: str = '5e1f0a7c2b9d'
down_revision: str | None = 'cfee99a909a8'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_SQLITE_FACETS = ("'cy' || {r}.cycle_id || ' st' || {r}.state || ' ca' || hex({r}.category) "
                  "|| ' lo' || hex({r}.location_code)")


def _sqlite_values(r: str) -> str:
    return f"{r}.rowid, {r}.search_text, " + _SQLITE_FACETS.format(r=r)


SQLITE_UP = [
    "DROP TRIGGER IF EXISTS proposal_fts_ai",
    "DROP TRIGGER IF EXISTS proposal_fts_ad",
    "DROP TRIGGER IF EXISTS proposal_fts_au",
    "DROP TABLE IF EXISTS proposal_fts",
    "CREATE VIRTUAL TABLE proposal_fts USING fts5(search_text, facets, content='', "
    "tokenize='unicode61 remove_diacritics 0')",
    "CREATE TRIGGER proposal_fts_ai AFTER INSERT ON proposal BEGIN "
    f"INSERT INTO proposal_fts(rowid, search_text, facets) VALUES ({_sqlite_values('new')}); END",
    "CREATE TRIGGER proposal_fts_ad AFTER DELETE ON proposal BEGIN "
    "INSERT INTO proposal_fts(proposal_fts, rowid, search_text, facets) "
    f"VALUES ('delete', {_sqlite_values('old')}); END",
    "CREATE TRIGGER proposal_fts_au AFTER UPDATE OF search_text, state, category, location_code, "
    "cycle_id ON proposal BEGIN "
    "INSERT INTO proposal_fts(proposal_fts, rowid, search_text, facets) "
    f"VALUES ('delete', {_sqlite_values('old')}); "
    f"INSERT INTO proposal_fts(rowid, search_text, facets) VALUES ({_sqlite_values('new')}); END",
    "INSERT INTO proposal_fts(rowid, search_text, facets) SELECT "
    + _sqlite_values("proposal") + " FROM proposal",
]

POSTGRES_UP = [
    "DROP INDEX IF EXISTS ix_proposal_search_vector",
    "ALTER TABLE proposal DROP COLUMN IF EXISTS search_vector",
    "CREATE TABLE proposal_search ("
    " proposal_id varchar(32) PRIMARY KEY REFERENCES proposal(id) ON DELETE CASCADE,"
    " cycle_id varchar(32) NOT NULL, state varchar(16) NOT NULL, category varchar(32) NOT NULL,"
    " location_code varchar(32) NOT NULL, created_at timestamptz NOT NULL,"
    " endorsement_count integer NOT NULL, vector tsvector NOT NULL)",
    "CREATE INDEX ix_proposal_search_vector ON proposal_search USING gin (vector)",
    """CREATE FUNCTION proposal_search_sync() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF TG_OP = 'UPDATE' AND NEW.search_text = OLD.search_text THEN
        UPDATE proposal_search SET cycle_id = NEW.cycle_id, state = NEW.state,
          category = NEW.category, location_code = NEW.location_code,
          created_at = NEW.created_at, endorsement_count = NEW.endorsement_count
        WHERE proposal_id = NEW.id;
      ELSE
        INSERT INTO proposal_search VALUES (NEW.id, NEW.cycle_id, NEW.state, NEW.category,
          NEW.location_code, NEW.created_at, NEW.endorsement_count,
          strip(to_tsvector('simple', NEW.search_text)))
        ON CONFLICT (proposal_id) DO UPDATE SET cycle_id = EXCLUDED.cycle_id,
          state = EXCLUDED.state, category = EXCLUDED.category,
          location_code = EXCLUDED.location_code, created_at = EXCLUDED.created_at,
          endorsement_count = EXCLUDED.endorsement_count, vector = EXCLUDED.vector;
      END IF;
      RETURN NULL;
    END $$""",
    "CREATE TRIGGER proposal_search_ai AFTER INSERT ON proposal "
    "FOR EACH ROW EXECUTE FUNCTION proposal_search_sync()",
    "CREATE TRIGGER proposal_search_au AFTER UPDATE OF search_text, state, category, "
    "location_code, cycle_id, created_at, endorsement_count ON proposal "
    "FOR EACH ROW EXECUTE FUNCTION proposal_search_sync()",
    "INSERT INTO proposal_search SELECT id, cycle_id, state, category, location_code, "
    "created_at, endorsement_count, strip(to_tsvector('simple', search_text)) FROM proposal",
]

SQLITE_DOWN = [
    "DROP TRIGGER IF EXISTS proposal_fts_ai",
    "DROP TRIGGER IF EXISTS proposal_fts_ad",
    "DROP TRIGGER IF EXISTS proposal_fts_au",
    "DROP TABLE IF EXISTS proposal_fts",
    "CREATE VIRTUAL TABLE proposal_fts USING fts5(search_text, content='proposal', "
    "content_rowid='rowid', tokenize='unicode61 remove_diacritics 0')",
    "CREATE TRIGGER proposal_fts_ai AFTER INSERT ON proposal BEGIN "
    "INSERT INTO proposal_fts(rowid, search_text) VALUES (new.rowid, new.search_text); END",
    "CREATE TRIGGER proposal_fts_ad AFTER DELETE ON proposal BEGIN "
    "INSERT INTO proposal_fts(proposal_fts, rowid, search_text) "
    "VALUES ('delete', old.rowid, old.search_text); END",
    "CREATE TRIGGER proposal_fts_au AFTER UPDATE OF search_text ON proposal BEGIN "
    "INSERT INTO proposal_fts(proposal_fts, rowid, search_text) "
    "VALUES ('delete', old.rowid, old.search_text); "
    "INSERT INTO proposal_fts(rowid, search_text) VALUES (new.rowid, new.search_text); END",
    "INSERT INTO proposal_fts(proposal_fts) VALUES ('rebuild')",
]

POSTGRES_DOWN = [
    "DROP TRIGGER IF EXISTS proposal_search_au ON proposal",
    "DROP TRIGGER IF EXISTS proposal_search_ai ON proposal",
    "DROP FUNCTION IF EXISTS proposal_search_sync()",
    "DROP TABLE IF EXISTS proposal_search",
    "ALTER TABLE proposal ADD COLUMN search_vector tsvector "
    "GENERATED ALWAYS AS (to_tsvector('simple', search_text)) STORED",
    "CREATE INDEX ix_proposal_search_vector ON proposal USING gin (search_vector)",
]


def _run(sqlite: list[str], postgres: list[str]) -> None:
    for statement in sqlite if op.get_bind().dialect.name == "sqlite" else postgres:
        op.execute(statement)


def upgrade() -> None:
    op.create_index("ix_proposal_cycle_facets", "proposal",
                    ["cycle_id", "state", "category", "location_code"])
    # NOTE: a later batch_alter_table('proposal') on SQLite copies the table (new rowids) and
    # drops the triggers: run SQLITE_UP again after it.
    _run(SQLITE_UP, POSTGRES_UP)


def downgrade() -> None:
    _run(SQLITE_DOWN, POSTGRES_DOWN)
    op.drop_index("ix_proposal_cycle_facets", "proposal")
