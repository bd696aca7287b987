"""SMS codes know what they are for and where: `sms_code.purpose` ('register' or 'login') and
`sms_code.jurisdiction_code`; `sms_outbox.jurisdiction_code` lets staff read only the messages
of their own jurisdictions.

Existing codes were registration codes; existing outbox messages belong to no jurisdiction
(admins read them).

Revision ID: 7a3f9c2e6b18
Revises: 8d4f2a6c1e93
Create Date: 2026-12-07 06:10:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "7a3f9c2e6b18"
down_revision: str | None = "8d4f2a6c1e93"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("sms_code") as batch:
        batch.add_column(sa.Column("purpose", sa.String(length=16), nullable=False,
                                   server_default="register"))
        batch.add_column(sa.Column("jurisdiction_code", sa.String(length=32), nullable=True))
        batch.create_foreign_key(batch.f("fk_sms_code_jurisdiction_code_jurisdiction"),
                                 "jurisdiction", ["jurisdiction_code"], ["code"])
    with op.batch_alter_table("sms_outbox") as batch:
        batch.add_column(sa.Column("jurisdiction_code", sa.String(length=32), nullable=True))
        batch.create_foreign_key(batch.f("fk_sms_outbox_jurisdiction_code_jurisdiction"),
                                 "jurisdiction", ["jurisdiction_code"], ["code"])
        batch.create_index(batch.f("ix_sms_outbox_jurisdiction_code"), ["jurisdiction_code"],
                           unique=False)


def downgrade() -> None:
    with op.batch_alter_table("sms_outbox") as batch:
        batch.drop_index(batch.f("ix_sms_outbox_jurisdiction_code"))
        batch.drop_constraint(batch.f("fk_sms_outbox_jurisdiction_code_jurisdiction"),
                              type_="foreignkey")
        batch.drop_column("jurisdiction_code")
    with op.batch_alter_table("sms_code") as batch:
        batch.drop_constraint(batch.f("fk_sms_code_jurisdiction_code_jurisdiction"),
                              type_="foreignkey")
        batch.drop_column("jurisdiction_code")
        batch.drop_column("purpose")
