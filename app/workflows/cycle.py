"""The cycle's phases (筹备 → 征集 → 初定 → 票决 → 公开 → 监督 → 测评 → 归档) as a transition table."""

from __future__ import annotations

from enum import StrEnum

from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.roles import Role
from app.i18n import N_
from app.jurisdictions.settings import settings_for
from app.models import Cycle, Jurisdiction, utcnow
from app.workflows.engine import Transition, Workflow


class CyclePhase(StrEnum):
    """CyclePhase — 周期阶段."""

    draft = "draft"
    soliciting = "soliciting"
    screening = "screening"
    balloting = "balloting"
    announced = "announced"
    supervising = "supervising"
    evaluating = "evaluating"
    closed = "closed"


PHASE_LABELS = {
    CyclePhase.draft: N_("筹备"),
    CyclePhase.soliciting: N_("征集"),
    CyclePhase.screening: N_("初定"),
    CyclePhase.balloting: N_("票决"),
    CyclePhase.announced: N_("公开"),
    CyclePhase.supervising: N_("监督"),
    CyclePhase.evaluating: N_("测评"),
    CyclePhase.closed: N_("归档"),
}

# The six public stages shown on every timeline (draft and closed sit outside them).
TIMELINE = [CyclePhase.soliciting, CyclePhase.screening, CyclePhase.balloting,
            CyclePhase.announced, CyclePhase.supervising, CyclePhase.evaluating]


async def _ready_to_solicit(session: AsyncSession, cycle: Cycle,
                            reason: str) -> tuple[str, str] | None:
    if cycle.seats < 1:
        return ("Set the number of projects to decide (seats) before opening 征集.",
                "请先设定拟票决的项目数量，再开始征集。")
    return None


async def _solicited_long_enough(session: AsyncSession, cycle: Cycle,
                                 reason: str) -> tuple[str, str] | None:
    jurisdiction = await session.get(Jurisdiction, cycle.jurisdiction_code)
    days = settings_for(jurisdiction).soliciting_min_days
    elapsed = utcnow() - cycle.phase_since
    if elapsed.total_seconds() < days * 86400:
        left = days - elapsed.days
        return (f"征集 must stay open at least {days} days (this jurisdiction's setting); "
                f"{left} more day(s) to go.",
                f"征集期不少于 {days} 天（本级设定），还需 {left} 天。")
    return None


async def _enough_reviewed_candidates(session: AsyncSession, cycle: Cycle,
                                      reason: str) -> tuple[str, str] | None:
    # Imported here: the candidate workflow imports this module for the phases.
    from app.workflows.candidate import quota

    have, need = await quota(session, cycle)
    if have < need:
        return (f"The ballot needs at least {need} reviewed candidates for {cycle.seats} seats "
                f"(差额 rule); {have} are reviewed.",
                f"差额票决：{cycle.seats} 个项目至少需要 {need} 个经人大审查的候选项目，"
                f"目前只有 {have} 个。")
    return None


async def _ballot_result_published(session: AsyncSession, cycle: Cycle,
                                   reason: str) -> tuple[str, str] | None:
    # Imported here: the ballot service imports this module for the phases. The reason is the
    # transition's: with it, staff record why seats left unfilled stay empty.
    from app.ballots.cycle_guard import ready_to_announce

    return await ready_to_announce(session, cycle, reason)


_GOV = frozenset({Role.gov_staff})
_CONGRESS = frozenset({Role.congress_staff})

# "Moved on by" of DOMAIN.md: the role that moves the cycle out of each phase (admins too).
# Guards that depend on later stages (candidates reviewed, a published ballot, every project
# evaluated) are added to this table by the modules that own those records.
CYCLE_TRANSITIONS = [
    Transition(CyclePhase.draft, CyclePhase.soliciting, _GOV, _ready_to_solicit),
    Transition(CyclePhase.soliciting, CyclePhase.screening, _GOV, _solicited_long_enough),
    Transition(CyclePhase.screening, CyclePhase.balloting, _CONGRESS,
               _enough_reviewed_candidates),
    Transition(CyclePhase.balloting, CyclePhase.announced, _CONGRESS,
               _ballot_result_published),
    Transition(CyclePhase.announced, CyclePhase.supervising, _CONGRESS),
    Transition(CyclePhase.supervising, CyclePhase.evaluating, _CONGRESS),
    Transition(CyclePhase.evaluating, CyclePhase.closed, _CONGRESS),
]


def _stamp_phase_start(cycle: Cycle) -> None:
    cycle.phase_since = utcnow()


CYCLE_WORKFLOW = Workflow(
    entity_type="cycle",
    states=CyclePhase,
    transitions=CYCLE_TRANSITIONS,
    state_attr="phase",
    on_enter={phase: _stamp_phase_start for phase in CyclePhase},
)
