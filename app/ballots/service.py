"""Ballot rounds of the deputies' ballot (票决): which candidates a round lists and for how many
seats (the 差额 rule, run-offs), the tally into a decision, the published rounds and the
bulletin.

Everything a round shares with 测评 — the roster snapshot, attendance and quorum, scrutineers
and sign-off, moving a round and its close, casting in secret, paper and devices — is the box's
(app/ballotbox/rounds.py, casting.py, paper.py, devices.py); this module gives it the form
`deputies_ballot` and the candidates.
"""

from __future__ import annotations

import json

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit import service as audit
from app.auth.deps import ensure_scope
from app.ballotbox import rounds
from app.ballotbox.forms import DEPUTIES_BALLOT
from app.ballotbox.queries import stored_ballots
from app.ballotbox.sheets import ensure_resolved
from app.ballots.tally import Ballot, Results, RoundFacts, tally
from app.errors import Conflict, Invalid
from app.jurisdictions.settings import settings_for
from app.models import (
    BallotItem,
    BallotRound,
    Candidate,
    Cycle,
    Jurisdiction,
    User,
)
from app.workflows.ballot import BALLOT_WORKFLOW, BallotState, present_count
from app.workflows.candidate import CandidateState, required_candidates
from app.workflows.cycle import CyclePhase

# ----------------------------------------------------------------------------- loading

async def published_rounds(session: AsyncSession, cycle_id: str) -> list[BallotRound]:
    """The cycle's published 票决 rounds (results public), first round first."""
    rows = await session.scalars(select(BallotRound).where(
        BallotRound.cycle_id == cycle_id, BallotRound.form == DEPUTIES_BALLOT.name,
        BallotRound.state == BallotState.published).order_by(BallotRound.round))
    return [r for r in rows if r.results]


async def candidates_of(session: AsyncSession, ballot_id: str) -> list[Candidate]:
    """The candidates on the round's ballot paper, in their order."""
    rows = await session.scalars(
        select(Candidate).join(BallotItem, BallotItem.item_id == Candidate.id)
        .where(BallotItem.round_id == ballot_id).order_by(BallotItem.position))
    return list(rows)


# ----------------------------------------------------------------------------- creating

async def create(session: AsyncSession, *, actor: User, cycle: Cycle,
                 candidate_ids: list[str] | None, seats: int | None, secret: bool | None,
                 parent: BallotRound | None = None) -> BallotRound:
    """A new 票决 round of the cycle: the reviewed candidates given (all by default), at least
    as many as the 差额 rule asks for the seats (a run-off: any); T, quorum and the rules as
    the box keeps them (app/ballotbox/rounds.py `create_round`)."""
    await ensure_scope(session, actor, cycle.jurisdiction_code)
    if cycle.phase != CyclePhase.balloting:
        raise Conflict("Ballot rounds are created while the cycle is in 票决 (balloting).",
                       code="wrong_phase", zh="只有在票决阶段才能建立票决轮次。")
    await rounds.ensure_none_unfinished(session, cycle)
    rules = settings_for(await session.get(Jurisdiction, cycle.jurisdiction_code))
    reviewed = list(await session.scalars(select(Candidate).where(
        Candidate.cycle_id == cycle.id, Candidate.state == CandidateState.reviewed)
        .order_by(Candidate.created_at, Candidate.id)))
    by_id = {c.id: c for c in reviewed}
    if candidate_ids is None:
        chosen = reviewed
    else:
        unknown = [cid for cid in candidate_ids if cid not in by_id]
        if unknown:
            raise Invalid(f"Not reviewed candidates of this cycle: {', '.join(unknown)}.",
                          code="unknown_candidate", zh="所选项目不是本年度经审查的候选项目。")
        chosen = [by_id[cid] for cid in dict.fromkeys(candidate_ids)]
    seats = seats or cycle.seats
    if parent is None:
        need = required_candidates(seats, rules.extra_candidates_ratio)
        if len(chosen) < need:
            raise Conflict(f"The 差额 rule needs at least {need} candidates for {seats} seats; "
                           f"{len(chosen)} given.", code="too_few_candidates",
                           zh=f"差额票决：{seats} 个项目至少需要 {need} 个候选项目，目前 {len(chosen)} 个。")
    elif not chosen:
        raise Conflict("A run-off needs candidates.", code="too_few_candidates",
                       zh="没有需要再次票决的候选项目。")
    # A run-off keeps its first round's T and rules (DOMAIN.md: same T, same threshold).
    ballot = await rounds.create_round(session, actor=actor, cycle=cycle, new=rounds.NewRound(
        form=DEPUTIES_BALLOT.name, item_ids=[c.id for c in chosen], seats=seats, secret=secret,
        parent=parent))
    await BALLOT_WORKFLOW.record_creation(
        session, ballot, actor=actor,
        reason=f"第 {ballot.round} 轮，{len(chosen)} 个候选项目，{seats} 个名额，"
               f"全体代表 {ballot.total_deputies} 人")
    await audit.record(session, actor=actor.username, action="ballot_round.create",
                       entity_type="ballot_round", entity_id=ballot.id,
                       data={"cycle_id": cycle.id, "round": ballot.round, "seats": seats,
                             "total_deputies": ballot.total_deputies, "secret": ballot.secret,
                             "candidate_ids": [c.id for c in chosen],
                             "parent_id": ballot.parent_id})
    return ballot


# ----------------------------------------------------------------------------- tally

async def facts_of(session: AsyncSession, ballot: BallotRound) -> RoundFacts:
    return RoundFacts(ballot_id=ballot.id, round=ballot.round, seats=ballot.seats,
                      total_deputies=ballot.total_deputies,
                      present=await present_count(session, ballot.id),
                      issued=await rounds.issued_count(session, ballot),
                      threshold_base=ballot.threshold_base)


async def count(session: AsyncSession, ballot: BallotRound, actor: User) -> Results:
    """计票: close → tallied with the results stored; more returned than issued → void."""
    cycle = await session.get(Cycle, ballot.cycle_id)
    await ensure_scope(session, actor, cycle.jurisdiction_code)
    if ballot.state != BallotState.closed:
        raise Conflict("Tally a round once it is closed.", code="wrong_state",
                       zh="投票结束后才能计票。")
    await ensure_resolved(session, ballot)  # 409 while a paper sheet is unresolved
    candidates = await candidates_of(session, ballot.id)
    contents = await stored_ballots(session, ballot.id)
    results = tally(await facts_of(session, ballot), [(c.id, c.title) for c in candidates],
                    [Ballot(marks=json.loads(b.marks), paper=b.paper, invalid=b.invalid)
                     for b in contents])
    ballot.results = results.as_dict()
    if results.outcome == "void":
        await BALLOT_WORKFLOW.apply(
            session, ballot, BallotState.void, actor=actor,
            reason=f"收回选票 {results.cast} 张，多于发出的 {results.facts.issued} 张，本轮无效，须重新投票")
    else:
        await BALLOT_WORKFLOW.apply(session, ballot, BallotState.tallied, actor=actor,
                                    reason=f"有效票 {results.valid}，无效票 {results.invalid}")
    return results


async def runoff(session: AsyncSession, ballot: BallotRound, actor: User,
                 carry_attendance: bool) -> BallotRound:
    """The next round with the candidates and seats the results name (ties, shortfall)."""
    if ballot.state != BallotState.published or not ballot.results:
        raise Conflict("A run-off follows a published round.", code="wrong_state",
                       zh="本轮结果公布后才能安排再次投票。")
    results = ballot.results
    if results["outcome"] == "complete":
        raise Conflict("Every seat was filled; no run-off is needed.", code="no_runoff_needed",
                       zh="名额已全部产生，无需再次投票。")
    if results["outcome"] == "shortfall" and ballot.shortfall_policy == "leave_empty":
        raise Conflict("This jurisdiction leaves unfilled seats empty.", code="no_runoff_needed",
                       zh="按本级规定，未产生的名额空缺，不再投票。")
    cycle = await session.get(Cycle, ballot.cycle_id)
    nxt = await create(session, actor=actor, cycle=cycle,
                       candidate_ids=results["runoff_candidate_ids"],
                       seats=results["remaining_seats"], secret=ballot.secret, parent=ballot)
    await rounds.carry_over(session, ballot, nxt, actor, carry_attendance)
    return nxt


async def bulletin(session: AsyncSession, ballot: BallotRound) -> dict:
    """The published bulletin (API.md): receipts sorted, ballots sorted by their content."""
    facts = await facts_of(session, ballot)
    receipts, ballots = await rounds.bulletin_parts(session, ballot)
    return {
        "ballot": {"id": ballot.id, "round": ballot.round, "seats": ballot.seats,
                   "total_deputies": ballot.total_deputies, "present": facts.present,
                   "issued": facts.issued, "threshold_base": ballot.threshold_base,
                   "secret": ballot.secret},
        "candidates": [{"id": c.id, "title": c.title}
                       for c in await candidates_of(session, ballot.id)],
        "receipts": receipts,
        "ballots": ballots,
        "results": ballot.results,
    }
