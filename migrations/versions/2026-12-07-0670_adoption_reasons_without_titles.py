"""Proposal histories name no draft candidate: the reasons written when a candidate was built
from a proposal (列入候选项目“<title>”) or let it go (不再列入候选项目“<title>”，回到储备库) named the
candidate's title while it was still a draft, which is the staff's until the list is public
(公示). They become the same reasons without the title (app/candidates/service.py writes them so
now); the proposal's page links the candidate by name once it is public. The audit log keeps
what was recorded.

Revision ID: 7a4d2e9c1b60
Revises: 7a3f9c2e6b18
Create Date: 2026-12-07 06:40:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "7a4d2e9c1b60"
down_revision: str | None = "7a3f9c2e6b18"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_REWRITES = [
    ("adopted", "列入候选项目“%", "列入候选项目"),
    ("accepted", "不再列入候选项目“%", "不再列入候选项目，回到储备库"),
]


def upgrade() -> None:
    for to_state, pattern, reason in _REWRITES:
        op.execute(sa.text(
            "UPDATE state_transition SET reason = :reason WHERE entity_type = 'proposal' "
            "AND to_state = :to_state AND reason LIKE :pattern"
        ).bindparams(reason=reason, to_state=to_state, pattern=pattern))


def downgrade() -> None:
    # The titles are not restored: they were never meant to be public.
    pass
