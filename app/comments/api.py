"""JSON API: comments on proposals, reports, and hiding by staff."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Request

from app.auth.deps import CurrentUser, OptionalUser, require
from app.auth.roles import Perm
from app.comments import service as comments
from app.comments.schemas import CommentIn, CommentOut, HideIn, ReportIn, comment_out
from app.db import SessionDep
from app.models import Cycle, User
from app.proposals import service as proposals
from app.ratelimit import COMMENTS_PER_PERSON

router = APIRouter(tags=["comments"])


@router.get("/proposals/{proposal_id}/comments", response_model=list[CommentOut])
async def list_comments(proposal_id: str, session: SessionDep, viewer: OptionalUser):
    """Comments, oldest first; a hidden one shows its reason (its jurisdiction's staff also see
    its text)."""
    proposal = await proposals.get(session, proposal_id)
    cycle = await session.get(Cycle, proposal.cycle_id)
    staff = await comments.moderates(session, viewer, cycle.jurisdiction_code)
    return [comment_out(c, name, staff=staff)
            for c, name in await comments.comments_on(session, proposal_id)]


@router.post("/proposals/{proposal_id}/comments", status_code=201, response_model=CommentOut)
async def add_comment(proposal_id: str, body: CommentIn, request: Request, session: SessionDep,
                      actor: CurrentUser):
    """Comment on a proposal (any logged-in person)."""
    proposal = await proposals.get(session, proposal_id)
    await request.app.state.rate_limits.consume(COMMENTS_PER_PERSON, actor.id)
    comment = await comments.add_comment(session, actor=actor, proposal=proposal,
                                         body=body.body)
    return comment_out(comment, actor.display_name, staff=False)  # a new comment is not hidden


@router.post("/comments/{comment_id}/reports", status_code=201)
async def report_comment(comment_id: str, body: ReportIn, session: SessionDep,
                         actor: CurrentUser) -> dict:
    """Report a comment to staff (once per person)."""
    comment = await comments.get_comment(session, comment_id)
    await comments.report(session, actor=actor, comment=comment, reason=body.reason)
    return {"reported": True}


@router.post("/comments/{comment_id}/hide", response_model=CommentOut)
async def hide_comment(comment_id: str, body: HideIn, session: SessionDep,
                       actor: Annotated[User, require(Perm.comment_moderate)]):
    """Hide a comment from the public with a reason (staff); it is kept, never deleted."""
    comment = await comments.get_comment(session, comment_id)
    await comments.hide(session, actor=actor, comment=comment, reason=body.reason)
    author = await session.get(User, comment.author_id)
    return comment_out(comment, author.display_name, staff=True)
