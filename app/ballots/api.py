"""JSON API: ballot rounds (票决) — attendance, secret casting, tally, sign-off, publication."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Depends, Request
from sqlalchemy import func, select

from app.auth.deps import (
    CurrentUser,
    OptionalUser,
    bearer_claims,
    ensure_scope,
    in_scope,
    require,
)
from app.auth.roles import Perm, has_perm
from app.ballotbox import casting, rounds
from app.ballotbox.forms import DEPUTIES_BALLOT
from app.ballots import service
from app.ballots.schemas import (
    BallotCreateIn,
    BallotOut,
    BallotTransitionIn,
    PresentOut,
    ReceiptOut,
    RunoffIn,
    ScrutineersOut,
    SignOffOut,
    UsernamesIn,
    VoteIn,
)
from app.cycles import service as cycles
from app.db import SessionDep
from app.errors import Conflict, Forbidden
from app.models import BallotRound, Cycle, User
from app.pagination import Page, PageDep
from app.workflows.ballot import BallotState

router = APIRouter(tags=["ballots"])
StaffUser = Annotated[User, require(Perm.ballot_manage)]


async def _ballot(ballot_id: str, session: SessionDep) -> BallotRound:
    return await rounds.get(session, ballot_id, DEPUTIES_BALLOT.name)


CurrentBallot = Annotated[BallotRound, Depends(_ballot)]


async def out(session, ballot: BallotRound) -> BallotOut:
    return BallotOut(id=ballot.id, cycle_id=ballot.cycle_id, round=ballot.round,
                     state=ballot.state, seats=ballot.seats,
                     total_deputies=ballot.total_deputies, quorum=ballot.quorum,
                     secret=ballot.secret, **await rounds.turnout(session, ballot),
                     candidates=[{"id": c.id, "title": c.title}
                                 for c in await service.candidates_of(session, ballot.id)])


async def _staff_scope(session, ballot: BallotRound, user: User) -> Cycle:
    cycle = await session.get(Cycle, ballot.cycle_id)
    await ensure_scope(session, user, cycle.jurisdiction_code)
    return cycle


@router.post("/cycles/{cycle_id}/ballots", response_model=BallotOut, status_code=201)
async def create_ballot(cycle_id: str, session: SessionDep, actor: StaffUser,
                        body: BallotCreateIn = Body(default_factory=BallotCreateIn)):
    """Create a round from the reviewed candidates (差额 rule checked); T is fixed now."""
    cycle = await cycles.get(session, cycle_id)
    ballot = await service.create(session, actor=actor, cycle=cycle,
                                  candidate_ids=body.candidate_ids, seats=body.seats,
                                  secret=body.secret)
    return await out(session, ballot)


@router.get("/cycles/{cycle_id}/ballots", response_model=Page[BallotOut])
async def list_ballots(cycle_id: str, session: SessionDep, paging: PageDep):
    """The cycle's rounds, first to last (turnout only)."""
    await cycles.get(session, cycle_id)
    where = (BallotRound.cycle_id == cycle_id) & (BallotRound.form == DEPUTIES_BALLOT.name)
    total = await session.scalar(select(func.count()).select_from(BallotRound).where(where))
    rounds = await session.scalars(select(BallotRound).where(where).order_by(BallotRound.round)
                                   .offset((paging.page - 1) * paging.per_page)
                                   .limit(paging.per_page))
    return Page(items=[await out(session, b) for b in rounds], total=total or 0,
                page=paging.page, per_page=paging.per_page)


@router.get("/ballots/{ballot_id}", response_model=BallotOut)
async def read_ballot(ballot: CurrentBallot, session: SessionDep):
    """The round and its turnout: present and cast, never content."""
    return await out(session, ballot)


@router.post("/ballots/{ballot_id}/check-in", response_model=PresentOut)
async def check_in(ballot: CurrentBallot, session: SessionDep, user: CurrentUser):
    """A deputy of the jurisdiction checks in (签到); twice is harmless."""
    return PresentOut(present=await rounds.check_in(session, ballot, user))


@router.post("/ballots/{ballot_id}/attendance", response_model=PresentOut)
async def record_attendance(ballot: CurrentBallot, body: UsernamesIn, session: SessionDep,
                            actor: StaffUser):
    """Staff record deputies present by username (all or nothing)."""
    return PresentOut(present=await rounds.record_attendance(session, ballot, actor,
                                                             body.usernames))


@router.post("/ballots/{ballot_id}/scrutineers", response_model=ScrutineersOut)
async def name_scrutineers(ballot: CurrentBallot, body: UsernamesIn, session: SessionDep,
                           actor: StaffUser):
    """Name the scrutineers (监票人), deputies of the jurisdiction, before the round opens."""
    return ScrutineersOut(scrutineers=await rounds.name_scrutineers(session, ballot, actor,
                                                                    body.usernames))


@router.post("/ballots/{ballot_id}/transitions", response_model=BallotOut)
async def move_ballot(ballot: CurrentBallot, body: BallotTransitionIn, session: SessionDep,
                      actor: StaffUser):
    """Open (quorum), close, publish (sign-offs) or void (with a reason) the round."""
    await rounds.move(session, ballot, body.to, actor=actor, reason=body.reason)
    return await out(session, ballot)


# A well-formed cast is answered before FastAPI's routing (app/ballots/fastpath.py); this route
# answers the rest with the same function, and documents the endpoint.
@router.post("/ballots/{ballot_id}/votes", response_model=ReceiptOut, status_code=201)
async def cast_vote(ballot_id: str, body: VoteIn, request: Request):
    """Cast one's one ballot; the answer is the receipt code, shown once.

    The hot path of a session hall: no ORM session; the token is read here and the account is
    checked in the cast's one read (casting.cast_in_own_transaction), not through CurrentUser.
    """
    user_id, version = bearer_claims(request)
    return ReceiptOut(receipt=await casting.cast_in_own_transaction(
        request.app.state, ballot_id, user_id, dict(body.marks), token_version=version,
        form=DEPUTIES_BALLOT.name))


@router.post("/ballots/{ballot_id}/tally")
async def tally_ballot(ballot: CurrentBallot, session: SessionDep, actor: StaffUser) -> dict:
    """Count a closed round (计票): results stored, state `tallied` (or `void`)."""
    return (await service.count(session, ballot, actor)).as_dict()


@router.post("/ballots/{ballot_id}/sign-off", response_model=SignOffOut)
async def sign_off(ballot: CurrentBallot, session: SessionDep, user: CurrentUser):
    """A named scrutineer confirms the tally."""
    signed, required = await rounds.sign_off(session, ballot, user)
    return SignOffOut(signed=signed, required=required)


async def _results_visible(session, ballot: BallotRound, viewer: User | None) -> None:
    if ballot.results is None:
        raise Conflict("This round has not been tallied.", code="not_tallied",
                       zh="本轮尚未计票。")
    if ballot.state == BallotState.published:
        return
    cycle = await session.get(Cycle, ballot.cycle_id)
    if viewer is None or not (has_perm(viewer.role, Perm.ballot_manage)
                              and await in_scope(session, viewer, cycle.jurisdiction_code)):
        raise Forbidden("The results are public once the round is published.",
                        code="not_published", zh="计票结果经监票人确认并公布后公开。")


@router.get("/ballots/{ballot_id}/results")
async def results(ballot: CurrentBallot, session: SessionDep, viewer: OptionalUser) -> dict:
    """The tally: congress staff once tallied, everyone once published."""
    await _results_visible(session, ballot, viewer)
    return ballot.results


@router.get("/ballots/{ballot_id}/bulletin")
async def bulletin(ballot: CurrentBallot, session: SessionDep) -> dict:
    """Everything needed to recompute the result, and nothing that names a deputy."""
    if ballot.state != BallotState.published:
        raise Forbidden("The bulletin is public once the round is published.",
                        code="not_published", zh="计票清单在结果公布后公开。")
    return await service.bulletin(session, ballot)


@router.post("/ballots/{ballot_id}/runoff", response_model=BallotOut, status_code=201)
async def runoff(ballot: CurrentBallot, session: SessionDep, actor: StaffUser,
                 body: RunoffIn = Body(default_factory=RunoffIn)):
    """The next round with the candidates and seats the results name."""
    await _staff_scope(session, ballot, actor)
    return await out(session, await service.runoff(session, ballot, actor,
                                                   body.carry_attendance))
