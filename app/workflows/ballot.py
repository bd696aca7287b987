"""The ballot round's states (票决轮次状态) and the moves between them.

created → open (quorum present, scrutineers named) → closed → tallied → published
(enough scrutineers signed off); void from open, closed or tallied, with a reason.
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.roles import Role
from app.i18n import N_
from app.models import BallotAttendance, BallotRound, BallotScrutineer
from app.workflows.engine import Transition, Workflow
from app.workflows.states import BallotState

# A round not yet published or void: a cycle has at most one, and is not announced while it has.
UNFINISHED = (BallotState.created, BallotState.open, BallotState.closed, BallotState.tallied)

STATE_LABELS = {
    BallotState.created: N_("准备中"),
    BallotState.open: N_("投票中"),
    BallotState.closed: N_("投票结束"),
    BallotState.tallied: N_("已计票"),
    BallotState.published: N_("已公布"),
    BallotState.void: N_("已作废"),
}


async def present_count(session: AsyncSession, round_id: str) -> int:
    return await session.scalar(select(func.count()).select_from(BallotAttendance).where(
        BallotAttendance.round_id == round_id)) or 0


async def _quorum_and_scrutineers(session: AsyncSession, ballot: BallotRound,
                                  reason: str) -> tuple[str, str] | None:
    present = await present_count(session, ballot.id)
    if present < ballot.quorum:
        return (f"Quorum not met: {present} of {ballot.total_deputies} deputies present, "
                f"{ballot.quorum} needed to open the round.",
                f"出席代表 {present} 人，未达到法定人数 {ballot.quorum} 人（全体代表 "
                f"{ballot.total_deputies} 人），不能开始投票。")
    named = await session.scalar(select(func.count()).select_from(BallotScrutineer).where(
        BallotScrutineer.round_id == ballot.id)) or 0
    if named < ballot.signoffs_required:
        return (f"Name at least {ballot.signoffs_required} scrutineers before opening; "
                f"{named} named.",
                f"开始投票前须推选至少 {ballot.signoffs_required} 名监票人，目前 {named} 名。")
    return None


async def signed_count(session: AsyncSession, round_id: str) -> int:
    """How many of the round's scrutineers have signed off its tally."""
    return await session.scalar(select(func.count()).select_from(BallotScrutineer).where(
        BallotScrutineer.round_id == round_id, BallotScrutineer.signed_at.is_not(None))) or 0


async def _signed_off(session: AsyncSession, ballot: BallotRound,
                      reason: str) -> tuple[str, str] | None:
    signed = await signed_count(session, ballot.id)
    if signed < ballot.signoffs_required:
        return (f"The tally needs {ballot.signoffs_required} scrutineer sign-offs before "
                f"publication; {signed} so far.",
                f"计票结果须经 {ballot.signoffs_required} 名监票人确认后才能公布，目前 {signed} 名。")
    return None


_STAFF = frozenset({Role.congress_staff})

BALLOT_WORKFLOW = Workflow(
    entity_type="ballot_round",
    states=BallotState,
    transitions=[
        Transition(BallotState.created, BallotState.open, _STAFF, _quorum_and_scrutineers),
        Transition(BallotState.open, BallotState.closed, _STAFF),
        Transition(BallotState.closed, BallotState.tallied, _STAFF),
        Transition(BallotState.tallied, BallotState.published, _STAFF, _signed_off),
        Transition(BallotState.open, BallotState.void, _STAFF, reason_required=True),
        Transition(BallotState.closed, BallotState.void, _STAFF, reason_required=True),
        Transition(BallotState.tallied, BallotState.void, _STAFF, reason_required=True),
    ],
)
