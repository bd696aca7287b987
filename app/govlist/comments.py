"""Public comments on a government's draft list (征求意见) and the government's answers.

Anyone logged in comments on the list as a whole or on one item while the period runs; a
comment is public at once (report → hide moderation as for every comment,
app/comments/service.py). Government staff answer each (答复, a text) or mark it noted
(已记录, an optional note); the answer is public beside the comment with who and when, and
final. A hidden comment needs no answer.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit import service as audit
from app.auth.deps import ensure_scope
from app.auth.roles import Perm, has_perm
from app.comments import service as comment_service
from app.errors import Conflict, Forbidden, Invalid
from app.govlist import draft
from app.models import Candidate, Comment, Cycle, User, utcnow

ANSWER_KINDS = {"answered": "答复", "noted": "已记录"}
MAX_ANSWER = 2000


async def add(session: AsyncSession, *, actor: User, cycle: Cycle, body: str,
              candidate_id: str | None = None) -> Comment:
    """Comment on the draft list (or on one of its items) during the comment period."""
    draft.ensure_commenting(cycle)
    if candidate_id:
        candidate = await session.get(Candidate, candidate_id)
        on_list = {c.id for c in await draft.draft_items(session, cycle)}
        if candidate is None or candidate.id not in on_list:
            raise Invalid("candidate_id names no item of this draft list; leave it out to "
                          "comment on the list as a whole.", code="not_on_draft_list",
                          zh="所选事项不在本征求意见稿中。")
    return await comment_service.store(session, Comment(
        cycle_id=cycle.id, candidate_id=candidate_id or None, author_id=actor.id, body=body))


async def get_draft_comment(session: AsyncSession, comment_id: str) -> tuple[Comment, Cycle]:
    """A comment on a draft list and its cycle, or 404 (409 for another kind of comment)."""
    comment = await comment_service.get_comment(session, comment_id)
    if comment.cycle_id is None:
        raise Conflict("Only comments on a government's draft list are answered here.",
                       code="not_answerable", zh="只有对征求意见稿的意见需要在此答复。")
    return comment, await session.get(Cycle, comment.cycle_id)


async def answer(session: AsyncSession, *, actor: User, comment: Comment, cycle: Cycle,
                 kind: str, text: str) -> Comment:
    """Answer a draft-list comment (答复, a text) or mark it noted (已记录, an optional note).

    Government staff of the jurisdiction, during the comment period, once per comment.
    """
    if not has_perm(actor.role, Perm.list_adopt):
        raise Forbidden("Government staff answer comments on the draft list.",
                        code="permission_denied", zh="征求意见由政府工作人员答复。")
    await ensure_scope(session, actor, cycle.jurisdiction_code)
    draft.ensure_commenting(cycle)
    if kind not in ANSWER_KINDS:
        raise Invalid("kind is 'answered' (a reply) or 'noted' (recorded, optional note).",
                      code="invalid_answer_kind", zh="请选择“答复”或“已记录”。")
    text = (text or "").strip()
    if kind == "answered" and not text:
        raise Invalid("Write the reply (or mark the comment noted).", code="answer_required",
                      zh="请填写答复内容（或标记为已记录）。")
    if len(text) > MAX_ANSWER:
        raise Invalid(f"A reply is at most {MAX_ANSWER} characters.", code="answer_too_long",
                      zh=f"答复太长：最多 {MAX_ANSWER} 字，现有 {len(text)} 字。")
    if comment.hidden_at is not None:
        raise Conflict("This comment is hidden; hidden comments need no answer.",
                       code="comment_hidden", zh="该意见已被隐藏，无需答复。")
    if comment.answer_kind is not None:
        raise Conflict("This comment has been answered already; an answer is final.",
                       code="already_answered", zh="该意见已经答复或记录，不能重复办理。")
    comment.answer_kind, comment.answer_text = kind, text
    comment.answered_by, comment.answered_by_id = actor.display_name, actor.id
    comment.answered_at = utcnow()
    session.add(comment)
    await session.flush()
    await audit.record(session, actor=actor.username, action="comment.answer",
                       entity_type="comment", entity_id=comment.id,
                       data={"cycle_id": cycle.id, "kind": kind, "text": text})
    return comment


def _unanswered(cycle_id: str):
    return (Comment.cycle_id == cycle_id, Comment.answer_kind.is_(None),
            Comment.hidden_at.is_(None))


async def unanswered_count(session: AsyncSession, cycle_id: str) -> int:
    """Visible comments on the cycle's draft list that are neither answered nor noted."""
    return await session.scalar(select(func.count()).select_from(Comment).where(
        *_unanswered(cycle_id))) or 0


@dataclass
class CommentFigures:
    """征求意见情况: how many comments the draft list received and how each was handled."""

    total: int = 0
    answered: int = 0
    noted: int = 0
    hidden: int = 0
    unanswered: int = 0
    on_list: int = 0  # about the list as a whole (the rest are about one item)


async def figures(session: AsyncSession, cycle_id: str) -> CommentFigures:
    """The comment figures of one draft list, in one query."""
    hidden = Comment.hidden_at.is_not(None)
    row = (await session.execute(select(
        func.count(),
        func.count(case((Comment.answer_kind == "answered", 1))),
        func.count(case((Comment.answer_kind == "noted", 1))),
        func.count(case((hidden, 1))),
        func.count(case((Comment.answer_kind.is_(None) & Comment.hidden_at.is_(None), 1))),
        func.count(case((Comment.candidate_id.is_(None), 1))))
        .where(Comment.cycle_id == cycle_id))).one()
    return CommentFigures(*row)


@dataclass
class DraftComment:
    """A draft-list comment with its author's name and the item it is about (None: the list)."""

    comment: Comment
    author: str
    item_title: str | None


async def list_comments(session: AsyncSession, cycle: Cycle, *,
                        candidate_id: str | None = None, whole_list: bool = False,
                        unanswered: bool = False) -> list[DraftComment]:
    """The draft list's comments, oldest first (one query): all, one item's, those about the
    list as a whole, or those still waiting for an answer."""
    query = (select(Comment, User.display_name, Candidate.title)
             .join(User, User.id == Comment.author_id)
             .outerjoin(Candidate, Candidate.id == Comment.candidate_id)
             .where(Comment.cycle_id == cycle.id))
    if candidate_id:
        query = query.where(Comment.candidate_id == candidate_id)
    elif whole_list:
        query = query.where(Comment.candidate_id.is_(None))
    if unanswered:
        query = query.where(*_unanswered(cycle.id))
    rows = await session.execute(query.order_by(Comment.created_at, Comment.id))
    return [DraftComment(c, name, title) for c, name, title in rows.all()]
