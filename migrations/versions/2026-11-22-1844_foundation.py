"""Foundation: jurisdictions, accounts, grants, cycles, proposals, state history, audit chain.

Revision ID: 7720df099409
Revises:
Create Date: 2026-11-22 18:49:38.770444
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '7720df099409'
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('audit_entry',
    sa.Column('seq', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor', sa.String(length=64), nullable=False),
    sa.Column('action', sa.String(length=64), nullable=False),
    sa.Column('entity_type', sa.String(length=32), nullable=False),
    sa.Column('entity_id', sa.String(length=64), nullable=False),
    sa.Column('data', sa.Text(), nullable=False),
    sa.Column('prev_hash', sa.String(length=64), nullable=False),
    sa.Column('hash', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('seq', name=op.f('pk_audit_entry')),
    sa.UniqueConstraint('hash', name=op.f('uq_audit_entry_hash'))
    )
    op.create_table('jurisdiction',
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('level', sa.String(length=16), nullable=False),
    sa.Column('parent_code', sa.String(length=32), nullable=True),
    sa.Column('settings', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['parent_code'], ['jurisdiction.code'], name=op.f('fk_jurisdiction_parent_code_jurisdiction')),
    sa.PrimaryKeyConstraint('code', name=op.f('pk_jurisdiction'))
    )
    with op.batch_alter_table('jurisdiction', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_jurisdiction_parent_code'), ['parent_code'], unique=False)

    op.create_table('state_transition',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('entity_type', sa.String(length=32), nullable=False),
    sa.Column('entity_id', sa.String(length=32), nullable=False),
    sa.Column('from_state', sa.String(length=32), nullable=True),
    sa.Column('to_state', sa.String(length=32), nullable=False),
    sa.Column('actor_id', sa.String(length=32), nullable=True),
    sa.Column('actor_username', sa.String(length=64), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_state_transition'))
    )
    with op.batch_alter_table('state_transition', schema=None) as batch_op:
        batch_op.create_index('ix_state_transition_entity', ['entity_type', 'entity_id', 'at'], unique=False)

    op.create_table('cycle',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('jurisdiction_code', sa.String(length=32), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('seats', sa.Integer(), nullable=False),
    sa.Column('categories', sa.JSON(), nullable=False),
    sa.Column('phase', sa.String(length=32), nullable=False),
    sa.Column('phase_since', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.String(length=32), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['jurisdiction_code'], ['jurisdiction.code'], name=op.f('fk_cycle_jurisdiction_code_jurisdiction')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cycle')),
    sa.UniqueConstraint('jurisdiction_code', 'year', name=op.f('uq_cycle_jurisdiction_code_year'))
    )
    with op.batch_alter_table('cycle', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_cycle_jurisdiction_code'), ['jurisdiction_code'], unique=False)
        batch_op.create_index(batch_op.f('ix_cycle_phase'), ['phase'], unique=False)

    op.create_table('user_account',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('username', sa.String(length=64), nullable=False),
    sa.Column('display_name', sa.String(length=100), nullable=False),
    sa.Column('role', sa.String(length=32), nullable=False),
    sa.Column('jurisdiction_code', sa.String(length=32), nullable=False),
    sa.Column('password_hash', sa.String(length=255), nullable=False),
    sa.Column('must_change_password', sa.Boolean(), nullable=False),
    sa.Column('is_active', sa.Boolean(), nullable=False),
    sa.Column('token_version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['jurisdiction_code'], ['jurisdiction.code'], name=op.f('fk_user_account_jurisdiction_code_jurisdiction')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_user_account')),
    sa.UniqueConstraint('username', name=op.f('uq_user_account_username'))
    )
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_user_account_jurisdiction_code'), ['jurisdiction_code'], unique=False)
        batch_op.create_index(batch_op.f('ix_user_account_role'), ['role'], unique=False)

    op.create_table('jurisdiction_grant',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('user_id', sa.String(length=32), nullable=False),
    sa.Column('jurisdiction_code', sa.String(length=32), nullable=False),
    sa.Column('granted_by', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['jurisdiction_code'], ['jurisdiction.code'], name=op.f('fk_jurisdiction_grant_jurisdiction_code_jurisdiction')),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_jurisdiction_grant_user_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_jurisdiction_grant')),
    sa.UniqueConstraint('user_id', 'jurisdiction_code', name=op.f('uq_jurisdiction_grant_user_id_jurisdiction_code'))
    )
    with op.batch_alter_table('jurisdiction_grant', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_jurisdiction_grant_user_id'), ['user_id'], unique=False)

    op.create_table('proposal',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('cycle_id', sa.String(length=32), nullable=False),
    sa.Column('title', sa.String(length=100), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('category', sa.String(length=32), nullable=False),
    sa.Column('location_code', sa.String(length=32), nullable=False),
    sa.Column('place', sa.String(length=100), nullable=False),
    sa.Column('estimated_cost_wan', sa.Numeric(precision=12, scale=2), nullable=True),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('proposer_id', sa.String(length=32), nullable=True),
    sa.Column('recorded_by', sa.String(length=32), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['cycle_id'], ['cycle.id'], name=op.f('fk_proposal_cycle_id_cycle')),
    sa.ForeignKeyConstraint(['location_code'], ['jurisdiction.code'], name=op.f('fk_proposal_location_code_jurisdiction')),
    sa.ForeignKeyConstraint(['proposer_id'], ['user_account.id'], name=op.f('fk_proposal_proposer_id_user_account')),
    sa.ForeignKeyConstraint(['recorded_by'], ['user_account.id'], name=op.f('fk_proposal_recorded_by_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_proposal'))
    )
    with op.batch_alter_table('proposal', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_proposal_cycle_id'), ['cycle_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_proposal_state'), ['state'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('proposal', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_proposal_state'))
        batch_op.drop_index(batch_op.f('ix_proposal_cycle_id'))

    op.drop_table('proposal')
    with op.batch_alter_table('jurisdiction_grant', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_jurisdiction_grant_user_id'))

    op.drop_table('jurisdiction_grant')
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_user_account_role'))
        batch_op.drop_index(batch_op.f('ix_user_account_jurisdiction_code'))

    op.drop_table('user_account')
    with op.batch_alter_table('cycle', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_cycle_phase'))
        batch_op.drop_index(batch_op.f('ix_cycle_jurisdiction_code'))

    op.drop_table('cycle')
    with op.batch_alter_table('state_transition', schema=None) as batch_op:
        batch_op.drop_index('ix_state_transition_entity')

    op.drop_table('state_transition')
    with op.batch_alter_table('jurisdiction', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_jurisdiction_parent_code'))

    op.drop_table('jurisdiction')
    op.drop_table('audit_entry')
