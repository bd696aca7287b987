"""An index on the audit log by entity, so one record's history (a jurisdiction's changes of
settings, shown on its settings page) is read without scanning the whole log.

Revision ID: 6b6ba6e508b2
Revises: e1a7c3d90b52
Create Date: 2026-12-07 05:30:00
"""
from collections.abc import Sequence

from alembic import op

revision: str = "6b6ba6e508b2"
down_revision: str | None = "e1a7c3d90b52"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_audit_entry_entity", "audit_entry", ["entity_type", "entity_id", "seq"])


def downgrade() -> None:
    op.drop_index("ix_audit_entry_entity", table_name="audit_entry")
