"""JSON API of a list decided by the government: the draft list (征求意见稿), public comments on
it and the government's answers, and the adopting meeting's record (通过记录)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request

from app.auth.deps import CurrentUser, OptionalUser, require
from app.auth.roles import Perm
from app.comments.service import moderates
from app.cycles.deps import CurrentCycle
from app.db import SessionDep
from app.govlist import comments, draft
from app.govlist.schemas import (
    AdoptionIn,
    AdoptionOut,
    AnswerIn,
    AnswerOut,
    CommentFiguresOut,
    DraftCommentIn,
    DraftCommentOut,
    DraftItemOut,
    DraftListOut,
    PeriodOut,
    adoption_out,
)
from app.govlist.view import draft_list
from app.models import Candidate, Comment, User
from app.pagination import Page, PageDep
from app.ratelimit import COMMENTS_PER_PERSON

router = APIRouter(tags=["government lists"])


def comment_out(comment: Comment, author: str, item_title: str | None, *,
                staff: bool) -> DraftCommentOut:
    """A draft-list comment as the API shows it: a hidden one's text only to staff."""
    hidden = comment.hidden_at is not None
    answer = None
    if comment.answer_kind:
        answer = AnswerOut(kind=comment.answer_kind, text=comment.answer_text,
                           by=comment.answered_by or "", at=comment.answered_at)
    return DraftCommentOut(
        id=comment.id, cycle_id=comment.cycle_id, candidate_id=comment.candidate_id,
        candidate_title=item_title, author=author,
        body=comment.body if staff or not hidden else None, hidden=hidden,
        hidden_reason=comment.hidden_reason, created_at=comment.created_at, answer=answer)


async def _item_title(session, comment: Comment) -> str | None:
    if not comment.candidate_id:
        return None
    return (await session.get(Candidate, comment.candidate_id)).title


def _period_out(period: draft.CommentPeriod | None) -> PeriodOut | None:
    if period is None:
        return None
    return PeriodOut(began_at=period.began, began_on=period.began_on, min_days=period.min_days,
                     earliest_end_at=period.earliest_end, earliest_end_on=period.earliest_end_on,
                     ended_at=period.ended, open=period.open, days_left=period.days_left())


@router.get("/cycles/{cycle_id}/draft-list", response_model=DraftListOut)
async def read_draft_list(cycle: CurrentCycle, session: SessionDep):
    """The draft list of a government-decided cycle (anyone), from its comment period on: each
    item with its unit, budget, deadline, the proposals it answers and its comment count; the
    period (began, minimum days, days left); the comment figures; the adoption record.

    409 `decided_by_ballot` for a balloted cycle, `not_published` before the comment period.
    """
    d = await draft_list(session, cycle)
    return DraftListOut(
        cycle_id=cycle.id, jurisdiction_code=cycle.jurisdiction_code, year=cycle.year,
        title=cycle.title, phase=cycle.phase, decided_by=cycle.decided_by,
        period=_period_out(d.period),
        items=[DraftItemOut(
            id=i.candidate.id, title=i.candidate.title, summary=i.candidate.summary,
            responsible_unit=i.unit, budget_wan=i.candidate.budget_wan,
            deadline=i.candidate.deadline, targets=i.candidate.targets, state=i.candidate.state,
            source_proposal_ids=sorted(p.id for p in i.sources), comments=i.comments,
            left_out=i.left_out, left_out_reason=i.left_out_reason) for i in d.items],
        comments=CommentFiguresOut(**vars(d.figures)), adoption=adoption_out(d.adoption))


@router.get("/cycles/{cycle_id}/draft-list/comments", response_model=Page[DraftCommentOut])
async def list_draft_comments(
        cycle: CurrentCycle, session: SessionDep, viewer: OptionalUser, paging: PageDep,
        candidate_id: Annotated[str | None, Query(max_length=32,
                                                  description="one item's comments")] = None,
        whole_list: Annotated[bool, Query(description="only those about the whole list")] = False,
        unanswered: Annotated[bool, Query(description="only those neither answered nor noted "
                                                      "(and not hidden)")] = False):
    """The draft list's public comments with the government's answers, oldest first (anyone).

    A hidden comment shows its reason; staff also see its text.
    """
    draft.ensure_published(cycle)
    rows = await comments.list_comments(session, cycle, candidate_id=candidate_id,
                                        whole_list=whole_list, unanswered=unanswered)
    staff = await moderates(session, viewer, cycle.jurisdiction_code)
    start = (paging.page - 1) * paging.per_page
    return Page(items=[comment_out(r.comment, r.author, r.item_title, staff=staff)
                       for r in rows[start:start + paging.per_page]],
                total=len(rows), page=paging.page, per_page=paging.per_page)


@router.post("/cycles/{cycle_id}/draft-list/comments", status_code=201,
             response_model=DraftCommentOut)
async def comment_draft_list(cycle: CurrentCycle, body: DraftCommentIn, request: Request,
                             session: SessionDep, actor: CurrentUser):
    """Comment on the draft list as a whole, or on one item (`candidate_id`), during the comment
    period (anyone logged in). Public at once; 409 `not_commenting` outside the period, 422
    `not_on_draft_list` for an item not on it."""
    await request.app.state.rate_limits.consume(COMMENTS_PER_PERSON, actor.id)
    comment = await comments.add(session, actor=actor, cycle=cycle, body=body.body,
                                 candidate_id=body.candidate_id)
    return comment_out(comment, actor.display_name, await _item_title(session, comment),
                       staff=False)  # a new comment is not hidden


@router.post("/comments/{comment_id}/answer", response_model=DraftCommentOut)
async def answer_comment(comment_id: str, body: AnswerIn, session: SessionDep,
                         actor: Annotated[User, require(Perm.list_adopt)]):
    """Answer a comment on the draft list (`answered`, with the reply) or mark it noted
    (`noted`, 已记录, an optional note): government staff of the jurisdiction, during the
    comment period, once per comment (409 `already_answered`)."""
    comment, cycle = await comments.get_draft_comment(session, comment_id)
    await comments.answer(session, actor=actor, comment=comment, cycle=cycle, kind=body.kind,
                          text=body.text)
    author = await session.get(User, comment.author_id)
    return comment_out(comment, author.display_name, await _item_title(session, comment),
                       staff=True)


@router.put("/cycles/{cycle_id}/adoption", response_model=AdoptionOut)
async def record_adoption(cycle: CurrentCycle, body: AdoptionIn, session: SessionDep,
                          actor: Annotated[User, require(Perm.list_adopt)]):
    """Record the meeting that adopted the draft list (研究确定): name, date, document number,
    and the items it left out with the reason (government staff, during the comment period;
    a second PUT corrects it until the 公告). The move to `announced` needs it."""
    await draft.record_adoption(session, actor=actor, cycle=cycle, meeting=body.meeting,
                                on=body.date, number=body.document_number,
                                left_out=[r.model_dump() for r in body.left_out])
    return adoption_out(draft.adoption_of(cycle))
