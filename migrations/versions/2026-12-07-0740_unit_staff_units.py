"""unit_staff_units: a responsible unit's staff account belongs to that unit.

`user_account.unit_id` names the responsible unit (责任单位) of a `unit_staff` account (None for
every other role); such an account acts on its unit's projects only (监督). Accounts made before
have no unit: an administrator gives them one.

Revision ID: 3f8a6c2e9b17
Revises: 9c4e2a7d1f35
Create Date: 2026-12-07 07:40:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "3f8a6c2e9b17"
down_revision: str | None = "9c4e2a7d1f35"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("user_account", schema=None) as batch_op:
        batch_op.add_column(sa.Column("unit_id", sa.String(length=32), nullable=True))
        batch_op.create_index(batch_op.f("ix_user_account_unit_id"), ["unit_id"], unique=False)
        batch_op.create_foreign_key(batch_op.f("fk_user_account_unit_id_responsible_unit"),
                                    "responsible_unit", ["unit_id"], ["id"])


def downgrade() -> None:
    with op.batch_alter_table("user_account", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_user_account_unit_id_responsible_unit"),
                                 type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_user_account_unit_id"))
        batch_op.drop_column("unit_id")
