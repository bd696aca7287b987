"""Comments (评论) on proposals, candidates and a government's draft list, with report → hide by
staff (nothing is deleted).

Shared by every domain that takes comments; what is special to one kind stays with it (the
draft list's answers: app/govlist/comments.py).
"""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit import service as audit
from app.auth.deps import ensure_scope, in_scope
from app.auth.roles import Role
from app.candidates.service import in_publicity
from app.errors import Conflict, Forbidden, NotFound
from app.models import Candidate, Comment, CommentReport, Cycle, Proposal, User, utcnow
from app.timeutil import china_today
from app.workflows.cycle import CyclePhase

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
    return await store(session, Comment(proposal_id=proposal and proposal.id,
                                        candidate_id=candidate and candidate.id,
                                        author_id=actor.id, body=body))


async def store(session: AsyncSession, comment: Comment) -> Comment:
    """Keep a new comment whose subject's own rules have been checked; public at once."""
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


async def comments_on(session: AsyncSession, proposal_id: str | None = None,
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
