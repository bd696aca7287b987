"""JSON API: candidate projects (初定), responsible units, the 差额 quota, the 公示 period."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request

from app.auth.deps import CurrentUser, OptionalUser, ensure_scope, in_scope, require
from app.auth.roles import STAFF_ROLES, Perm
from app.candidates import service
from app.candidates.detail import candidate_outs
from app.candidates.schemas import (
    CandidateCreated,
    CandidateEdit,
    CandidateIn,
    CandidateOut,
    PublicityIn,
    QuotaOut,
    RevisionOut,
    StateOut,
    TransitionIn,
    UnitIn,
    UnitOut,
)
from app.comments import service as comments
from app.comments.schemas import CommentIn, CommentOut, comment_out
from app.cycles.deps import CurrentCycle
from app.db import SessionDep
from app.errors import Forbidden, NotFound
from app.models import Candidate, Cycle, User
from app.pagination import Page, PageDep
from app.ratelimit import COMMENTS_PER_PERSON
from app.workflows.candidate import CandidateState, quota

router = APIRouter(tags=["candidates"])


async def _is_staff_of(session, user: User | None, cycle: Cycle) -> bool:
    return (user is not None and user.role in STAFF_ROLES
            and await in_scope(session, user, cycle.jurisdiction_code))


async def _visible(candidate_id: str, session: SessionDep, viewer: OptionalUser) -> Candidate:
    """A candidate the viewer may see: published ones for all, drafts for the staff."""
    candidate = await service.get(session, candidate_id)
    cycle = await session.get(Cycle, candidate.cycle_id)
    if not service.is_public(candidate, cycle):
        if not await _is_staff_of(session, viewer, cycle):
            raise NotFound("There is no such candidate project.", code="unknown_candidate",
                           zh="找不到该候选项目。")
    return candidate


VisibleCandidate = Annotated[Candidate, Depends(_visible)]


@router.post("/cycles/{cycle_id}/candidates", status_code=201, response_model=CandidateCreated)
async def create_candidate(cycle: CurrentCycle, body: CandidateIn, session: SessionDep,
                           actor: CurrentUser):
    """Build a candidate from accepted proposals (gov_staff, cycle in `screening`)."""
    candidate = await service.create(
        session, actor=actor, cycle=cycle, **body.model_dump(exclude={"funding"}),
        funding=[f.model_dump() for f in body.funding])
    return CandidateCreated(id=candidate.id, state=candidate.state)


@router.get("/cycles/{cycle_id}/candidates", response_model=Page[CandidateOut])
async def list_candidates(cycle: CurrentCycle, session: SessionDep, viewer: OptionalUser,
                          paging: PageDep, state: CandidateState | None = None):
    """The candidate list: reviewed ones (公示) for everyone — for a list decided by the
    government, its published draft list (征求意见稿) — and drafts too for the staff."""
    rows = await service.list_for(session, cycle,
                                  include_drafts=await _is_staff_of(session, viewer, cycle),
                                  state=state)
    start = (paging.page - 1) * paging.per_page
    return Page(items=await candidate_outs(session, rows[start:start + paging.per_page]),
                total=len(rows), page=paging.page, per_page=paging.per_page)


@router.get("/cycles/{cycle_id}/candidates/quota", response_model=QuotaOut)
async def candidate_quota(cycle: CurrentCycle, session: SessionDep):
    """The 差额 rule for this cycle: how many reviewed candidates the ballot needs."""
    have, need = await quota(session, cycle)
    counts = await service.counts(session, cycle.id)
    return QuotaOut(seats=cycle.seats, required=need, reviewed=have,
                    drafted=sum(counts.values()) - have, enough=have >= need)


@router.get("/candidates/{candidate_id}", response_model=CandidateOut)
async def read_candidate(candidate: VisibleCandidate, session: SessionDep):
    """One candidate with the proposals it answers."""
    return (await candidate_outs(session, [candidate]))[0]


@router.patch("/candidates/{candidate_id}", response_model=CandidateOut)
async def edit_candidate(candidate_id: str, body: CandidateEdit, session: SessionDep,
                         actor: CurrentUser):
    """Change a drafted candidate (gov_staff); every version is kept."""
    candidate = await service.get(session, candidate_id)
    changes = body.model_dump(exclude={"reason"}, exclude_unset=True)
    if body.funding is not None:
        changes["funding"] = [f.model_dump() for f in body.funding]
    await service.edit(session, actor=actor, candidate=candidate, changes=changes)
    return (await candidate_outs(session, [candidate]))[0]


@router.post("/candidates/{candidate_id}/transitions", response_model=StateOut)
async def transition_candidate(candidate_id: str, body: TransitionIn, session: SessionDep,
                               actor: CurrentUser):
    """Move along the approval chain: gov_staff → gov_approved; congress_staff → reviewed;
    either sends back to drafted with a reason."""
    candidate = await service.get(session, candidate_id)
    await service.transition(session, actor=actor, candidate=candidate, to=body.to,
                             reason=body.reason)
    return StateOut(state=candidate.state)


@router.get("/candidates/{candidate_id}/revisions", response_model=list[RevisionOut])
async def candidate_revisions(candidate_id: str, session: SessionDep, actor: CurrentUser):
    """Every saved version of a candidate (staff of its jurisdiction)."""
    candidate = await service.get(session, candidate_id)
    cycle = await session.get(Cycle, candidate.cycle_id)
    if actor.role not in STAFF_ROLES:
        raise Forbidden("The edit history is for staff.", code="permission_denied",
                        zh="修改记录仅供工作人员查看。")
    await ensure_scope(session, actor, cycle.jurisdiction_code)
    return [RevisionOut(version=r.version, edited_by=r.edited_by, edited_at=r.edited_at,
                        data=r.data) for r in await service.revisions(session, candidate)]


@router.get("/jurisdictions/{code}/units", response_model=list[UnitOut])
async def list_units(code: str, session: SessionDep):
    """The jurisdiction's responsible units (责任单位)."""
    return [UnitOut(id=u.id, name=u.name, jurisdiction_code=u.jurisdiction_code)
            for u in await service.units(session, code)]


@router.post("/jurisdictions/{code}/units", status_code=201, response_model=UnitOut)
async def add_unit(code: str, body: UnitIn, session: SessionDep,
                   actor: Annotated[User, require(Perm.unit_manage)]):
    """Add a responsible unit to the jurisdiction's list (gov_staff, admin)."""
    unit = await service.add_unit(session, actor=actor, jurisdiction_code=code, name=body.name)
    return UnitOut(id=unit.id, name=unit.name, jurisdiction_code=unit.jurisdiction_code)


@router.put("/cycles/{cycle_id}/publicity", response_model=PublicityIn)
async def set_publicity(cycle: CurrentCycle, body: PublicityIn, session: SessionDep,
                        actor: Annotated[User, require(Perm.publicity_manage)]):
    """Set the 公示 period of the reviewed candidate list (gov_staff, congress_staff)."""
    await service.set_publicity(session, actor=actor, cycle=cycle, start=body.start,
                                end=body.end)
    return PublicityIn(start=cycle.publicity_start, end=cycle.publicity_end)


@router.get("/candidates/{candidate_id}/comments", response_model=list[CommentOut])
async def candidate_comments(candidate: VisibleCandidate, session: SessionDep,
                             viewer: OptionalUser):
    """Residents' comments on a published candidate."""
    cycle = await session.get(Cycle, candidate.cycle_id)
    staff = await comments.moderates(session, viewer, cycle.jurisdiction_code)
    return [comment_out(c, name, staff=staff)
            for c, name in await comments.comments_on(session, candidate_id=candidate.id)]


@router.post("/candidates/{candidate_id}/comments", status_code=201, response_model=CommentOut)
async def comment_candidate(candidate: VisibleCandidate, body: CommentIn, request: Request,
                            session: SessionDep, actor: CurrentUser):
    """Comment on a published candidate during its 公示 period."""
    await request.app.state.rate_limits.consume(COMMENTS_PER_PERSON, actor.id)
    comment = await comments.add_comment(session, actor=actor, candidate=candidate,
                                         body=body.body)
    return comment_out(comment, actor.display_name, staff=False)
