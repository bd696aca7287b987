"""Proposals (征集): endorsements, photos, comments and reports, inbox, SMS codes; full-text search.

Revision ID: d9039a2d4e08
Revises: 7720df099409
Create Date: 2026-11-22 19:07:50.880627
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = 'd9039a2d4e08'
down_revision: str | None = '7720df099409'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('sms_code',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('phone', sa.String(length=20), nullable=False),
    sa.Column('code_hash', sa.String(length=64), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('consumed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sms_code'))
    )
    with op.batch_alter_table('sms_code', schema=None) as batch_op:
        batch_op.create_index('ix_sms_code_phone_created', ['phone', 'created_at'], unique=False)

    op.create_table('sms_outbox',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('phone', sa.String(length=20), nullable=False),
    sa.Column('body', sa.String(length=500), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sms_outbox'))
    )
    with op.batch_alter_table('sms_outbox', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sms_outbox_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_sms_outbox_phone'), ['phone'], unique=False)

    op.create_table('comment',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('proposal_id', sa.String(length=32), nullable=False),
    sa.Column('author_id', sa.String(length=32), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('report_count', sa.Integer(), nullable=False),
    sa.Column('hidden_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('hidden_by', sa.String(length=64), nullable=True),
    sa.Column('hidden_reason', sa.String(length=500), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['author_id'], ['user_account.id'], name=op.f('fk_comment_author_id_user_account')),
    sa.ForeignKeyConstraint(['proposal_id'], ['proposal.id'], name=op.f('fk_comment_proposal_id_proposal')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_comment'))
    )
    with op.batch_alter_table('comment', schema=None) as batch_op:
        batch_op.create_index('ix_comment_proposal_created', ['proposal_id', 'created_at'], unique=False)

    op.create_table('endorsement',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('proposal_id', sa.String(length=32), nullable=False),
    sa.Column('user_id', sa.String(length=32), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['proposal_id'], ['proposal.id'], name=op.f('fk_endorsement_proposal_id_proposal')),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_endorsement_user_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_endorsement')),
    sa.UniqueConstraint('proposal_id', 'user_id', name=op.f('uq_endorsement_proposal_id_user_id'))
    )
    with op.batch_alter_table('endorsement', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_endorsement_proposal_id'), ['proposal_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_endorsement_user_id'), ['user_id'], unique=False)

    op.create_table('notification',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('user_id', sa.String(length=32), nullable=False),
    sa.Column('proposal_id', sa.String(length=32), nullable=True),
    sa.Column('message', sa.Text(), nullable=False),
    sa.Column('read_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['proposal_id'], ['proposal.id'], name=op.f('fk_notification_proposal_id_proposal')),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_notification_user_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notification'))
    )
    with op.batch_alter_table('notification', schema=None) as batch_op:
        batch_op.create_index('ix_notification_user_created', ['user_id', 'created_at'], unique=False)

    op.create_table('proposal_photo',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('proposal_id', sa.String(length=32), nullable=False),
    sa.Column('filename', sa.String(length=64), nullable=False),
    sa.Column('width', sa.Integer(), nullable=False),
    sa.Column('height', sa.Integer(), nullable=False),
    sa.Column('bytes', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['proposal_id'], ['proposal.id'], name=op.f('fk_proposal_photo_proposal_id_proposal')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_proposal_photo'))
    )
    with op.batch_alter_table('proposal_photo', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_proposal_photo_proposal_id'), ['proposal_id'], unique=False)

    op.create_table('comment_report',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('comment_id', sa.String(length=32), nullable=False),
    sa.Column('reporter_id', sa.String(length=32), nullable=False),
    sa.Column('reason', sa.String(length=500), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['comment_id'], ['comment.id'], name=op.f('fk_comment_report_comment_id_comment')),
    sa.ForeignKeyConstraint(['reporter_id'], ['user_account.id'], name=op.f('fk_comment_report_reporter_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_comment_report')),
    sa.UniqueConstraint('comment_id', 'reporter_id', name=op.f('uq_comment_report_comment_id_reporter_id'))
    )
    with op.batch_alter_table('comment_report', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_comment_report_comment_id'), ['comment_id'], unique=False)

    with op.batch_alter_table('proposal', schema=None) as batch_op:
        batch_op.add_column(sa.Column('proposer_name', sa.String(length=100), server_default='', nullable=False))
        batch_op.add_column(sa.Column('endorsement_count', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('merged_into_id', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('carried_from_id', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('search_text', sa.Text(), server_default='', nullable=False))
        batch_op.drop_index(batch_op.f('ix_proposal_cycle_id'))
        batch_op.drop_index(batch_op.f('ix_proposal_state'))
        batch_op.create_index('ix_proposal_cycle_category', ['cycle_id', 'category', 'created_at'], unique=False)
        batch_op.create_index('ix_proposal_cycle_created', ['cycle_id', 'created_at'], unique=False)
        batch_op.create_index('ix_proposal_cycle_endorsed', ['cycle_id', 'endorsement_count', 'created_at'], unique=False)
        batch_op.create_index('ix_proposal_cycle_location', ['cycle_id', 'location_code', 'created_at'], unique=False)
        batch_op.create_index('ix_proposal_cycle_state', ['cycle_id', 'state', 'created_at'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_proposal_carried_from_id_proposal'), 'proposal', ['carried_from_id'], ['id'])
        batch_op.create_foreign_key(batch_op.f('fk_proposal_merged_into_id_proposal'), 'proposal', ['merged_into_id'], ['id'])

    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.add_column(sa.Column('phone', sa.String(length=20), nullable=True))
        batch_op.create_unique_constraint(batch_op.f('uq_user_account_phone'), ['phone'])

    create_search_index()
    backfill_search_text()


# Full-text search differs per database and stays out of the models (migrations/env.py skips it).
# SQLite: an external-content FTS5 table over proposal.rowid, kept in step by triggers.
# NOTE: a later batch_alter_table('proposal') on SQLite copies the table (new rowids) and drops
# the triggers: call create_search_index() again after it.
SQLITE_FTS = [
    "DROP TABLE IF EXISTS proposal_fts",
    "CREATE VIRTUAL TABLE proposal_fts USING fts5(search_text, content='proposal', "
    "content_rowid='rowid', tokenize='unicode61 remove_diacritics 0')",
    "DROP TRIGGER IF EXISTS proposal_fts_ai",
    "CREATE TRIGGER proposal_fts_ai AFTER INSERT ON proposal BEGIN "
    "INSERT INTO proposal_fts(rowid, search_text) VALUES (new.rowid, new.search_text); END",
    "DROP TRIGGER IF EXISTS proposal_fts_ad",
    "CREATE TRIGGER proposal_fts_ad AFTER DELETE ON proposal BEGIN "
    "INSERT INTO proposal_fts(proposal_fts, rowid, search_text) "
    "VALUES ('delete', old.rowid, old.search_text); END",
    "DROP TRIGGER IF EXISTS proposal_fts_au",
    "CREATE TRIGGER proposal_fts_au AFTER UPDATE OF search_text ON proposal BEGIN "
    "INSERT INTO proposal_fts(proposal_fts, rowid, search_text) "
    "VALUES ('delete', old.rowid, old.search_text); "
    "INSERT INTO proposal_fts(rowid, search_text) VALUES (new.rowid, new.search_text); END",
    "INSERT INTO proposal_fts(proposal_fts) VALUES ('rebuild')",
]
# PostgreSQL: a generated tsvector column ('simple': the words are segmented already) + GIN.
POSTGRES_FTS = [
    "ALTER TABLE proposal ADD COLUMN search_vector tsvector "
    "GENERATED ALWAYS AS (to_tsvector('simple', search_text)) STORED",
    "CREATE INDEX ix_proposal_search_vector ON proposal USING gin (search_vector)",
]


def create_search_index() -> None:
    for statement in SQLITE_FTS if op.get_bind().dialect.name == "sqlite" else POSTGRES_FTS:
        op.execute(statement)


def drop_search_index() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for name in ("proposal_fts_ai", "proposal_fts_ad", "proposal_fts_au"):
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
        op.execute("DROP TABLE IF EXISTS proposal_fts")
    else:
        op.execute("DROP INDEX IF EXISTS ix_proposal_search_vector")
        op.execute("ALTER TABLE proposal DROP COLUMN IF EXISTS search_vector")


def backfill_search_text() -> None:
    from app.search.text import index_text

    bind = op.get_bind()
    rows = bind.execute(sa.text("SELECT id, title, description, place FROM proposal")).all()
    for row in rows:
        bind.execute(sa.text("UPDATE proposal SET search_text = :t WHERE id = :id"),
                     {"t": index_text(row.title, row.description, row.place), "id": row.id})



def downgrade() -> None:
    drop_search_index()
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_user_account_phone'), type_='unique')
        batch_op.drop_column('phone')

    with op.batch_alter_table('proposal', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_proposal_merged_into_id_proposal'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_proposal_carried_from_id_proposal'), type_='foreignkey')
        batch_op.drop_index('ix_proposal_cycle_state')
        batch_op.drop_index('ix_proposal_cycle_location')
        batch_op.drop_index('ix_proposal_cycle_endorsed')
        batch_op.drop_index('ix_proposal_cycle_created')
        batch_op.drop_index('ix_proposal_cycle_category')
        batch_op.create_index(batch_op.f('ix_proposal_state'), ['state'], unique=False)
        batch_op.create_index(batch_op.f('ix_proposal_cycle_id'), ['cycle_id'], unique=False)
        batch_op.drop_column('search_text')
        batch_op.drop_column('carried_from_id')
        batch_op.drop_column('merged_into_id')
        batch_op.drop_column('endorsement_count')
        batch_op.drop_column('proposer_name')

    with op.batch_alter_table('comment_report', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_comment_report_comment_id'))

    op.drop_table('comment_report')
    with op.batch_alter_table('proposal_photo', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_proposal_photo_proposal_id'))

    op.drop_table('proposal_photo')
    with op.batch_alter_table('notification', schema=None) as batch_op:
        batch_op.drop_index('ix_notification_user_created')

    op.drop_table('notification')
    with op.batch_alter_table('endorsement', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_endorsement_user_id'))
        batch_op.drop_index(batch_op.f('ix_endorsement_proposal_id'))

    op.drop_table('endorsement')
    with op.batch_alter_table('comment', schema=None) as batch_op:
        batch_op.drop_index('ix_comment_proposal_created')

    op.drop_table('comment')
    with op.batch_alter_table('sms_outbox', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sms_outbox_phone'))
        batch_op.drop_index(batch_op.f('ix_sms_outbox_created_at'))

    op.drop_table('sms_outbox')
    with op.batch_alter_table('sms_code', schema=None) as batch_op:
        batch_op.drop_index('ix_sms_code_phone_created')

    op.drop_table('sms_code')
