"""Candidate projects (初定): responsible units, candidates, their sources and revisions; comments on candidates; the 公示 period.

Revision ID: cfee99a909a8
Revises: d9039a2d4e08
Create Date: 2026-11-22 19:52:22.475085
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = 'cfee99a909a8'
down_revision: str | None = 'd9039a2d4e08'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('responsible_unit',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('jurisdiction_code', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['jurisdiction_code'], ['jurisdiction.code'], name=op.f('fk_responsible_unit_jurisdiction_code_jurisdiction')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_responsible_unit')),
    sa.UniqueConstraint('jurisdiction_code', 'name', name=op.f('uq_responsible_unit_jurisdiction_code_name'))
    )
    with op.batch_alter_table('responsible_unit', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_responsible_unit_jurisdiction_code'), ['jurisdiction_code'], unique=False)

    op.create_table('candidate',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('cycle_id', sa.String(length=32), nullable=False),
    sa.Column('title', sa.String(length=100), nullable=False),
    sa.Column('summary', sa.Text(), nullable=False),
    sa.Column('responsible_unit_id', sa.String(length=32), nullable=False),
    sa.Column('budget_wan', sa.Numeric(precision=12, scale=2), nullable=False),
    sa.Column('funding', sa.JSON(), nullable=False),
    sa.Column('targets', sa.JSON(), nullable=False),
    sa.Column('deadline', sa.Date(), nullable=False),
    sa.Column('feasibility', sa.Text(), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_by', sa.String(length=32), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['created_by'], ['user_account.id'], name=op.f('fk_candidate_created_by_user_account')),
    sa.ForeignKeyConstraint(['cycle_id'], ['cycle.id'], name=op.f('fk_candidate_cycle_id_cycle')),
    sa.ForeignKeyConstraint(['responsible_unit_id'], ['responsible_unit.id'], name=op.f('fk_candidate_responsible_unit_id_responsible_unit')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_candidate'))
    )
    with op.batch_alter_table('candidate', schema=None) as batch_op:
        batch_op.create_index('ix_candidate_cycle_state', ['cycle_id', 'state'], unique=False)

    op.create_table('candidate_revision',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('candidate_id', sa.String(length=32), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('data', sa.JSON(), nullable=False),
    sa.Column('edited_by', sa.String(length=64), nullable=False),
    sa.Column('edited_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['candidate_id'], ['candidate.id'], name=op.f('fk_candidate_revision_candidate_id_candidate')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_candidate_revision')),
    sa.UniqueConstraint('candidate_id', 'version', name=op.f('uq_candidate_revision_candidate_id_version'))
    )
    with op.batch_alter_table('candidate_revision', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_candidate_revision_candidate_id'), ['candidate_id'], unique=False)

    op.create_table('candidate_source',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('candidate_id', sa.String(length=32), nullable=False),
    sa.Column('proposal_id', sa.String(length=32), nullable=False),
    sa.ForeignKeyConstraint(['candidate_id'], ['candidate.id'], name=op.f('fk_candidate_source_candidate_id_candidate')),
    sa.ForeignKeyConstraint(['proposal_id'], ['proposal.id'], name=op.f('fk_candidate_source_proposal_id_proposal')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_candidate_source')),
    sa.UniqueConstraint('proposal_id', name=op.f('uq_candidate_source_proposal_id'))
    )
    with op.batch_alter_table('candidate_source', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_candidate_source_candidate_id'), ['candidate_id'], unique=False)

    with op.batch_alter_table('comment', schema=None) as batch_op:
        batch_op.add_column(sa.Column('candidate_id', sa.String(length=32), nullable=True))
        batch_op.alter_column('proposal_id',
               existing_type=sa.VARCHAR(length=32),
               nullable=True)
        batch_op.create_index('ix_comment_candidate_created', ['candidate_id', 'created_at'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_comment_candidate_id_candidate'), 'candidate', ['candidate_id'], ['id'])
        batch_op.create_check_constraint('one_subject', '(proposal_id IS NULL) <> (candidate_id IS NULL)')

    with op.batch_alter_table('cycle', schema=None) as batch_op:
        batch_op.add_column(sa.Column('publicity_start', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('publicity_end', sa.Date(), nullable=True))



def downgrade() -> None:
    with op.batch_alter_table('cycle', schema=None) as batch_op:
        batch_op.drop_column('publicity_end')
        batch_op.drop_column('publicity_start')

    with op.batch_alter_table('comment', schema=None) as batch_op:
        batch_op.drop_constraint('ck_comment_one_subject', type_='check')
        batch_op.drop_constraint(batch_op.f('fk_comment_candidate_id_candidate'), type_='foreignkey')
        batch_op.drop_index('ix_comment_candidate_created')
        batch_op.alter_column('proposal_id',
               existing_type=sa.VARCHAR(length=32),
               nullable=False)
        batch_op.drop_column('candidate_id')

    with op.batch_alter_table('candidate_source', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_candidate_source_candidate_id'))

    op.drop_table('candidate_source')
    with op.batch_alter_table('candidate_revision', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_candidate_revision_candidate_id'))

    op.drop_table('candidate_revision')
    with op.batch_alter_table('candidate', schema=None) as batch_op:
        batch_op.drop_index('ix_candidate_cycle_state')

    op.drop_table('candidate')
    with op.batch_alter_table('responsible_unit', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_responsible_unit_jurisdiction_code'))

    op.drop_table('responsible_unit')
