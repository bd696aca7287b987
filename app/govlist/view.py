"""The draft list as the public reads it (征求意见稿): its items with their units, the proposals
they answer and their comment counts, the comment period and the adopting meeting's record.

`draft_list` reads it with a fixed number of queries whatever the number of items or comments:
the jurisdiction, the phase history, the items, their units, their source proposals and the
comments counted per item.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.candidates.service import sources_of, unit_names
from app.govlist import comments, draft
from app.models import Candidate, Comment, Cycle, Jurisdiction, Proposal
from app.workflows.cycle import CYCLE_WORKFLOW
from app.workflows.engine import history


@dataclass
class DraftItem:
    """DraftItem — 征求意见稿事项: a candidate on the draft list."""

    candidate: Candidate
    unit: str
    sources: list[Proposal]
    comments: int
    left_out_reason: str | None = None

    @property
    def left_out(self) -> bool:
        return self.left_out_reason is not None


@dataclass
class DraftList:
    """DraftList — 征求意见稿: the published draft of a government-decided list."""

    cycle: Cycle
    jurisdiction: Jurisdiction
    period: draft.CommentPeriod | None
    items: list[DraftItem]
    figures: comments.CommentFigures
    adoption: dict | None
    by_item: Counter = field(default_factory=Counter)


async def draft_list(session: AsyncSession, cycle: Cycle) -> DraftList:
    """The draft list of `cycle`; 409 for a balloted cycle or before it is published."""
    draft.ensure_published(cycle)
    jurisdiction = await session.get(Jurisdiction, cycle.jurisdiction_code)
    moves = await history(session, CYCLE_WORKFLOW.entity_type, cycle.id)
    items = await draft.draft_items(session, cycle)
    names = await unit_names(session, {c.responsible_unit_id for c in items})
    sources = await sources_of(session, [c.id for c in items])
    counted = Counter(dict((await session.execute(
        select(Comment.candidate_id, func.count()).where(
            Comment.cycle_id == cycle.id, Comment.hidden_at.is_(None))
        .group_by(Comment.candidate_id))).all()))
    figures = await comments.figures(session, cycle.id)
    dropped = {r["candidate_id"]: r["reason"] for r in cycle.adoption_left_out or []}
    return DraftList(
        cycle=cycle, jurisdiction=jurisdiction,
        period=draft.comment_period(cycle, jurisdiction, moves),
        items=[DraftItem(c, names.get(c.responsible_unit_id, ""), sources.get(c.id, []),
                         counted.get(c.id, 0), dropped.get(c.id)) for c in items],
        figures=figures, adoption=draft.adoption_of(cycle), by_item=counted)
