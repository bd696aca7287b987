"""Endorsements (附议) and comments, with report → hide by staff (nothing is deleted)."""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit import service as audit
from app.auth.deps import ensure_scope, in_scope
from app.auth.roles import Role
from app.candidates.service import in_publicity
from app.errors import Conflict, Forbidden, NotFound
from app.models import (
    Candidate,
    Comment,
    CommentReport,
    Cycle,
    Endorsement,
    Proposal,
    User,
    utcnow,
)
from app.timeutil import china_today
from app.workflows.cycle import CyclePhase
from app.workflows.proposal import ProposalState

OPEN_STATES = (ProposalState.submitted, ProposalState.accepted)
MODERATORS = (Role.gov_staff, Role.congress_staff, Role.admin)


async def moderates(session: AsyncSession, user: User | None, jurisdiction_code: str) -> bool:
    """Whether `user` moderates comments in `jurisdiction_code` — and so reads hidden comments'
    text there: staff of that jurisdiction (or granted it) and admins; nobody else."""
    return (user is not None and user.role in MODERATORS
            and await in_scope(session, user, jurisdiction_code))


async def cycle_of(session: AsyncSession, comment: Comment) -> Cycle:
    """The cycle a comment belongs to: its draft list's, its proposal's or its candidate's."""
    if comment.cycle_id:  # on a government's draft list (or one of its items)
        return await session.get(Cycle, comment.cycle_id)
    subject = (await session.get(Proposal, comment.proposal_id) if comment.proposal_id
               else await session.get(Candidate, comment.candidate_id))
    return await session.get(Cycle, subject.cycle_id)


async def endorse(session: AsyncSession, *, actor: User, proposal: Proposal) -> Proposal:
    """Back a proposal once; a merged proposal's endorsement goes to the one it joined."""
    if actor.role not in (Role.resident, Role.deputy):
        raise Forbidden("Residents and deputies endorse proposals.", code="permission_denied",
                        zh="只有群众和人大代表可以附议。")
    if proposal.state == ProposalState.merged and proposal.merged_into_id:
        raise Conflict("This proposal was merged; endorse the one it joined instead "
                       f"({proposal.merged_into_id}).", code="proposal_merged",
                       zh="该建议已合并，请附议合并后的建议。")
    if proposal.state not in OPEN_STATES:
        raise Conflict("This proposal is no longer open for endorsement.", code="not_open",
                       zh="该建议已不再接受附议。")
    cycle = await session.get(Cycle, proposal.cycle_id)
    if cycle.phase != CyclePhase.soliciting:
        raise Conflict("Endorsements are taken only while the cycle is soliciting (征集).",
                       code="not_soliciting", zh="征集阶段已结束，不能再附议。")
    if proposal.proposer_id == actor.id:
        raise Conflict("You made this proposal; it counts you already.", code="own_proposal",
                       zh="这是您本人提出的建议，无需附议。")
    try:
        async with session.begin_nested():
            session.add(Endorsement(proposal_id=proposal.id, user_id=actor.id))
    except IntegrityError:
        raise Conflict("You have endorsed this proposal already.", code="already_endorsed",
                       zh="您已经附议过这条建议。") from None
    # Counted in the database, so concurrent endorsements cannot lose one another.
    await session.execute(update(Proposal).where(Proposal.id == proposal.id)
                          .values(endorsement_count=Proposal.endorsement_count + 1))
    await session.refresh(proposal, ["endorsement_count"])
    return proposal


async def has_endorsed(session: AsyncSession, user: User | None, proposal_id: str) -> bool:
    if user is None:
        return False
    return await session.scalar(select(Endorsement.id).where(
        Endorsement.proposal_id == proposal_id, Endorsement.user_id == user.id)) is not None


async def add_comment(session: AsyncSession, *, actor: User, body: str,
                      proposal: Proposal | None = None,
                      candidate: Candidate | None = None) -> Comment:
    """Comment on a proposal until the cycle is archived, or on a published candidate during
    its 公示 period (any logged-in person)."""
    cycle = await session.get(Cycle, (proposal or candidate).cycle_id)
    if cycle.phase == CyclePhase.closed:
        raise Conflict("This cycle is archived; comments are closed.", code="cycle_closed",
                       zh="本年度已归档，不能再评论。")
    if candidate is not None and not (candidate.state == "reviewed" and in_publicity(
            cycle, china_today())):
        raise Conflict("Candidates take comments during their 公示 period only.",
                       code="not_in_publicity", zh="候选项目只在公示期内接受评论。")
    comment = Comment(proposal_id=proposal and proposal.id,
                      candidate_id=candidate and candidate.id, author_id=actor.id, body=body)
    session.add(comment)
    await session.flush()
    return comment


async def get_comment(session: AsyncSession, comment_id: str) -> Comment:
    comment = await session.get(Comment, comment_id)
    if comment is None:
        raise NotFound("There is no such comment.", code="unknown_comment", zh="找不到该评论。")
    return comment


async def report(session: AsyncSession, *, actor: User, comment: Comment, reason: str) -> None:
    """Flag a comment for staff; once per person."""
    try:
        async with session.begin_nested():
            session.add(CommentReport(comment_id=comment.id, reporter_id=actor.id,
                                      reason=reason.strip()))
    except IntegrityError:
        raise Conflict("You have reported this comment already.", code="already_reported",
                       zh="您已经举报过这条评论。") from None
    await session.execute(update(Comment).where(Comment.id == comment.id)
                          .values(report_count=Comment.report_count + 1))


async def hide(session: AsyncSession, *, actor: User, comment: Comment, reason: str) -> Comment:
    """Hide a comment from the public; it stays stored with who hid it and why."""
    if actor.role not in MODERATORS:
        raise Forbidden("Staff hide comments.", code="permission_denied",
                        zh="只有工作人员可以隐藏评论。")
    cycle = await cycle_of(session, comment)
    await ensure_scope(session, actor, cycle.jurisdiction_code)
    if comment.hidden_at is not None:
        raise Conflict("This comment is hidden already.", code="already_hidden",
                       zh="该评论已被隐藏。")
    comment.hidden_at, comment.hidden_by, comment.hidden_reason = utcnow(), actor.username, reason
    session.add(comment)
    await session.flush()
    await audit.record(session, actor=actor.username, action="comment.hide",
                       entity_type="comment", entity_id=comment.id, data={"reason": reason})
    return comment


async def comments(session: AsyncSession, proposal_id: str | None = None,
                   candidate_id: str | None = None) -> list[tuple[Comment, str]]:
    """A proposal's (or candidate's) comments, oldest first, with each author's name."""
    subject = (Comment.proposal_id == proposal_id if proposal_id
               else Comment.candidate_id == candidate_id)
    rows = await session.execute(
        select(Comment, User.display_name).join(User, User.id == Comment.author_id)
        .where(subject).order_by(Comment.created_at, Comment.id))
    return [(c, name) for c, name in rows.all()]


async def reported_comments(session: AsyncSession, jurisdiction_code: str) -> list[Comment]:
    """Comments reported and not yet hidden, in a jurisdiction's cycles (staff queue)."""
    rows = await session.scalars(
        select(Comment).join(Proposal, Proposal.id == Comment.proposal_id)
        .join(Cycle, Cycle.id == Proposal.cycle_id)
        .where(Cycle.jurisdiction_code == jurisdiction_code, Comment.report_count > 0,
               Comment.hidden_at.is_(None))
        .order_by(Comment.report_count.desc(), Comment.created_at))
    return list(rows)
