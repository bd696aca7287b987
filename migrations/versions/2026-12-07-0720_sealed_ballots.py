"""Sealed ballots: ballot_envelope and ballot_box_key; on PostgreSQL minsheng_cast_sealed takes
the place of minsheng_cast.

A cast no longer fills a content slot and stores its receipt in the transaction that records
the deputy's participation (the shared transaction id linked the two in the stored rows, their
dead versions and the WAL). It stores an envelope instead, the content and receipt hash
encrypted under the round's key (app/ballotbox/envelopes.py); the close opens them all and
writes contents and receipts in one transaction (app/ballots/service.py `open_box`).

minsheng_cast_sealed checks every refusal of minsheng_cast except the marks (checked before the
call, in Python, which must see them to seal them: the database never does), then claims the
deputy's one participation row and stores the envelope. Ballots a round holds from before this
revision stay where they are and are counted as before.

Revision ID: 5e1b7c3a9d24
Revises: 07456cab6fda
Create Date: 2026-12-07 07:20:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "5e1b7c3a9d24"
down_revision: str | None = "07456cab6fda"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CAST_SEALED = r"""
CREATE OR REPLACE FUNCTION minsheng_cast_sealed(
    p_round text, p_user text, p_token_version integer, p_participation_id text,
    p_envelope_id text, p_sealed bytea, p_lock_class integer)
RETURNS text LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    r record;
    u record;
BEGIN
    PERFORM pg_advisory_xact_lock_shared(p_lock_class, hashtext(p_round));
    SELECT b.state, c.jurisdiction_code INTO r
      FROM ballot_round b JOIN cycle c ON c.id = b.cycle_id WHERE b.id = p_round;
    IF NOT FOUND THEN RETURN 'unknown_ballot'; END IF;
    SELECT a.role, a.jurisdiction_code, a.is_active, a.token_version, a.must_change_password
      INTO u FROM user_account a WHERE a.id = p_user;
    IF p_token_version IS NOT NULL THEN
        IF NOT FOUND OR NOT u.is_active OR u.token_version <> p_token_version THEN
            RETURN 'invalid_token';
        END IF;
        IF u.must_change_password THEN RETURN 'password_change_required'; END IF;
    END IF;
    IF u.role IS DISTINCT FROM 'deputy' THEN RETURN 'not_a_deputy'; END IF;
    IF u.jurisdiction_code <> r.jurisdiction_code THEN RETURN 'outside_jurisdiction'; END IF;
    IF r.state <> 'open' THEN RETURN 'round_not_open'; END IF;
    PERFORM 1 FROM ballot_attendance WHERE round_id = p_round AND user_id = p_user;
    IF NOT FOUND THEN RETURN 'not_checked_in'; END IF;
    INSERT INTO ballot_participation (id, round_id, user_id)
      VALUES (p_participation_id, p_round, p_user)
      ON CONFLICT (round_id, user_id) DO NOTHING;
    IF NOT FOUND THEN RETURN 'already_voted'; END IF;
    INSERT INTO ballot_envelope (round_id, id, sealed) VALUES (p_round, p_envelope_id, p_sealed);
    RETURN 'ok';
END
$$"""


def upgrade() -> None:
    op.create_table(
        "ballot_envelope",
        sa.Column("round_id", sa.String(length=32), sa.ForeignKey("ballot_round.id"),
                  nullable=False),
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("sealed", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("round_id", "id"),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "ballot_box_key",
        sa.Column("round_id", sa.String(length=32), sa.ForeignKey("ballot_round.id"),
                  nullable=False),
        sa.Column("wrapped", sa.LargeBinary(), nullable=False),
        sa.Column("key_id", sa.String(length=16), nullable=False),
        sa.PrimaryKeyConstraint("round_id"),
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(CAST_SEALED)
        op.execute("DROP FUNCTION IF EXISTS minsheng_cast(text, text, integer, jsonb, text, text, "
                   "text, integer)")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        import importlib.util
        from pathlib import Path

        spec = importlib.util.spec_from_file_location(
            "cast_function", Path(__file__).with_name("2026-11-23-0300_cast_function.py"))
        cast = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(cast)
        op.execute(cast.CAST_FUNCTION)
        op.execute("DROP FUNCTION IF EXISTS minsheng_cast_sealed(text, text, integer, text, text, "
                   "bytea, integer)")
    op.drop_table("ballot_box_key")
    op.drop_table("ballot_envelope")
