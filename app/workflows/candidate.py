"""A candidate's approval chain: drafted → gov_approved (政府常务会议) → [party_approved (党委)]
→ reviewed (人大常委会 / 乡镇人大主席团); any step can send it back to drafted with a reason."""

from __future__ import annotations

import math

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.roles import Role
from app.i18n import N_
from app.jurisdictions.settings import settings_for
from app.models import Candidate, Cycle, Jurisdiction
from app.workflows.cycle import CyclePhase
from app.workflows.engine import Transition, Workflow
from app.workflows.states import CandidateState

# The states of a candidate on a government's draft list (征求意见稿): through the government's
# own approval chain (政府常务会议, and the 党委 step where the jurisdiction has one). The
# congress does not review a list it does not decide.
DRAFT_LIST_STATES = (CandidateState.gov_approved, CandidateState.party_approved)

STATE_LABELS = {
    CandidateState.drafted: N_("拟定中"),
    CandidateState.gov_approved: N_("政府常务会议已通过"),
    CandidateState.party_approved: N_("党委会议已通过"),
    CandidateState.reviewed: N_("人大审查通过"),
}


async def _settings(session: AsyncSession, candidate: Candidate):
    cycle = await session.get(Cycle, candidate.cycle_id)
    jurisdiction = await session.get(Jurisdiction, cycle.jurisdiction_code)
    return cycle, settings_for(jurisdiction)


async def _screening(session: AsyncSession, candidate: Candidate,
                     reason: str) -> tuple[str, str] | None:
    cycle, _ = await _settings(session, candidate)
    if cycle.phase != CyclePhase.screening:
        return ("Candidates move through approval while the cycle is screening (初定).",
                "只有在初定阶段才能办理候选项目的审议。")
    return None


async def _party_step_on(session: AsyncSession, candidate: Candidate,
                         reason: str) -> tuple[str, str] | None:
    refusal = await _screening(session, candidate, reason)
    if refusal:
        return refusal
    _, settings = await _settings(session, candidate)
    if not settings.party_committee_step:
        return ("This jurisdiction has no 党委 step; send the candidate to the congress directly.",
                "本级未设党委审议环节，请直接提交人大审查。")
    return None


async def _congress_reviews(session: AsyncSession, candidate: Candidate,
                            reason: str) -> tuple[str, str] | None:
    """The congress reviews candidates for its own ballot only: a list decided by the
    government goes from its approval chain to the public comment period instead."""
    refusal = await _screening(session, candidate, reason)
    if refusal:
        return refusal
    cycle = await session.get(Cycle, candidate.cycle_id)
    if cycle.decided_by == "government":
        return ("This cycle's list is decided by the government; the congress does not review "
                "its candidates (the draft list goes to public comment instead).",
                "本年度民生实事项目由政府研究确定，候选项目不提交人大审查，草案将公开征求意见。")
    return None


async def _party_step_off(session: AsyncSession, candidate: Candidate,
                          reason: str) -> tuple[str, str] | None:
    refusal = await _congress_reviews(session, candidate, reason)
    if refusal:
        return refusal
    _, settings = await _settings(session, candidate)
    if settings.party_committee_step:
        return ("This jurisdiction requires the 党委 step before the congress reviews.",
                "本级设有党委审议环节，须先经党委会议通过。")
    return None


_GOV = frozenset({Role.gov_staff})
_CONGRESS = frozenset({Role.congress_staff})
_BACK = frozenset({Role.gov_staff, Role.congress_staff})

CANDIDATE_WORKFLOW = Workflow(
    entity_type="candidate",
    states=CandidateState,
    transitions=[
        Transition(CandidateState.drafted, CandidateState.gov_approved, _GOV, _screening),
        Transition(CandidateState.gov_approved, CandidateState.party_approved, _GOV,
                   _party_step_on),
        Transition(CandidateState.gov_approved, CandidateState.reviewed, _CONGRESS,
                   _party_step_off),
        Transition(CandidateState.party_approved, CandidateState.reviewed, _CONGRESS,
                   _congress_reviews),
        # Sending back: the candidate can be edited again, and must pass the chain again.
        Transition(CandidateState.gov_approved, CandidateState.drafted, _BACK, _screening,
                   reason_required=True),
        Transition(CandidateState.party_approved, CandidateState.drafted, _BACK, _screening,
                   reason_required=True),
        Transition(CandidateState.reviewed, CandidateState.drafted, _CONGRESS, _screening,
                   reason_required=True),
    ],
)


def required_candidates(seats: int, extra_ratio: float) -> int:
    """差额 rule: at least N + ⌈r × N⌉ candidates for N seats (12 for 10 at the default 0.2)."""
    return seats + math.ceil(round(extra_ratio * seats, 9))


async def reviewed_count(session: AsyncSession, cycle_id: str) -> int:
    return await session.scalar(select(func.count()).select_from(Candidate).where(
        Candidate.cycle_id == cycle_id, Candidate.state == CandidateState.reviewed)) or 0


async def quota(session: AsyncSession, cycle: Cycle) -> tuple[int, int]:
    """(reviewed candidates, required by the 差额 rule) for the cycle."""
    jurisdiction = await session.get(Jurisdiction, cycle.jurisdiction_code)
    ratio = settings_for(jurisdiction).extra_candidates_ratio
    return await reviewed_count(session, cycle.id), required_candidates(cycle.seats, ratio)
