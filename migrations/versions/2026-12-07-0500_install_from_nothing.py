"""Install from nothing: an admin belongs to no jurisdiction; a jurisdiction's 行政区划代码.

`user_account.jurisdiction_code` becomes nullable (NULL only for administrators, whom
`minsheng create-admin` makes on an empty database); `jurisdiction.division_code` holds the
optional 6- or 9-digit division code, unique when given. Existing admins keep their
jurisdiction.

Revision ID: e1a7c3d90b52
Revises: d8f3b61a0c27
Create Date: 2026-12-07 05:00:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "e1a7c3d90b52"
down_revision: str | None = "d8f3b61a0c27"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("user_account") as batch:
        batch.alter_column("jurisdiction_code", existing_type=sa.String(length=32), nullable=True)
    with op.batch_alter_table("jurisdiction") as batch:
        batch.add_column(sa.Column("division_code", sa.String(length=9), nullable=True))
        batch.create_unique_constraint(batch.f("uq_jurisdiction_division_code"),
                                       ["division_code"])


def downgrade() -> None:
    with op.batch_alter_table("jurisdiction") as batch:
        batch.drop_constraint(batch.f("uq_jurisdiction_division_code"), type_="unique")
        batch.drop_column("division_code")
    # An admin without a jurisdiction cannot be kept by the older schema: give each the first
    # top-level jurisdiction (there must be one, or the downgrade stops here).
    op.execute("UPDATE user_account SET jurisdiction_code = (SELECT code FROM jurisdiction "
               "WHERE parent_code IS NULL ORDER BY code LIMIT 1) "
               "WHERE jurisdiction_code IS NULL")
    with op.batch_alter_table("user_account") as batch:
        batch.alter_column("jurisdiction_code", existing_type=sa.String(length=32), nullable=False)
