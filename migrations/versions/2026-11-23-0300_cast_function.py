"""Casting in one call on PostgreSQL (投票), and an index of the empty ballot slots.

PostgreSQL's `ix_ballot_content_empty` (round_id, id) over the empty electronic slots: casting
takes the first one at or after a random id. Without it the function's generic plan for that
query read every empty slot of the round through (round_id, filled) and sorted them, per cast.
SQLite needs none: its ballot_content is WITHOUT ROWID, so (round_id, filled) already ends in id.

`minsheng_cast`, the function app/ballots/casting.py calls on PostgreSQL:

Every refusal is checked before anything is written; a refused cast returns its code and writes
nothing. A cast that is taken claims the deputy's one participation row, fills a random empty
slot (the first empty one at or after a random id, wrapping round) with the canonical JSON of the
marks (every candidate on the paper, keys sorted, left-out candidates `abstain`: exactly
app/ballots/casting.canonical) and stores the receipt's hash. The round's advisory lock is taken
shared first, so closing the round (which takes it exclusively) waits for casts under way; each
statement below reads a snapshot taken after it (READ COMMITTED, a VOLATILE function).
SQLite has no stored functions: the same steps run in Python there.

Revision ID: c7e4a9d25f10
Revises: b62d1f0e9a31
Create Date: 2026-11-23 03:00:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "c7e4a9d25f10"
down_revision: str | None = "b62d1f0e9a31"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CAST_FUNCTION = r"""
CREATE OR REPLACE FUNCTION minsheng_cast(
    p_round text, p_user text, p_token_version integer, p_marks jsonb, p_participation_id text,
    p_start text, p_digest text, p_lock_class integer)
RETURNS text LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    r record;
    u record;
    v_unknown integer;
    v_yes integer;
    v_content text;
    v_slot text;
BEGIN
    PERFORM pg_advisory_xact_lock_shared(p_lock_class, hashtext(p_round));
    SELECT b.state, b.seats, b.secret, c.jurisdiction_code INTO r
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
    SELECT count(*) FILTER (WHERE bc.candidate_id IS NULL),
           count(*) FILTER (WHERE m.value = 'yes')
      INTO v_unknown, v_yes
      FROM jsonb_each_text(p_marks) m
      LEFT JOIN ballot_candidate bc ON bc.round_id = p_round AND bc.candidate_id = m.key;
    IF v_unknown > 0 THEN RETURN 'unknown_candidate'; END IF;
    IF v_yes > r.seats THEN RETURN 'too_many_yes'; END IF;

    INSERT INTO ballot_participation (id, round_id, user_id)
      VALUES (p_participation_id, p_round, p_user)
      ON CONFLICT (round_id, user_id) DO NOTHING;
    IF NOT FOUND THEN RETURN 'already_voted'; END IF;
    SELECT '{' || string_agg(format('"%s":"%s"', bc.candidate_id, coalesce(p_marks ->> bc.candidate_id, 'abstain')),
                             ',' ORDER BY bc.candidate_id COLLATE "C") || '}'
      INTO v_content FROM ballot_candidate bc WHERE bc.round_id = p_round;
    SELECT id INTO v_slot FROM ballot_content
      WHERE round_id = p_round AND NOT filled AND NOT paper AND id >= p_start
      ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED;
    IF v_slot IS NULL THEN
        SELECT id INTO v_slot FROM ballot_content
          WHERE round_id = p_round AND NOT filled AND NOT paper
          ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED;
    END IF;
    IF v_slot IS NULL THEN  -- cannot happen: one slot per attendance, one ballot per attendance
        RAISE EXCEPTION 'no ballot left to fill' USING ERRCODE = 'P0001', HINT = 'no_ballot_left';
    END IF;
    UPDATE ballot_content SET filled = true, marks = v_content,
                              voter_id = CASE WHEN r.secret THEN NULL ELSE p_user END
      WHERE id = v_slot;
    INSERT INTO ballot_receipt (round_id, digest) VALUES (p_round, p_digest);
    RETURN 'ok';
END
$$"""


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.create_index("ix_ballot_content_empty", "ballot_content", ["round_id", "id"],
                        postgresql_where=sa.text("NOT filled AND NOT paper"))
        op.execute(CAST_FUNCTION)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS minsheng_cast(text, text, integer, jsonb, text, text, "
                   "text, integer)")
        op.drop_index("ix_ballot_content_empty", table_name="ballot_content")
