"""The cycle's phases (筹备 → 征集 → 初定 → 票决 → 公开 → 监督 → 测评 → 归档) as a transition table.

A list decided by the government (`Cycle.decided_by` = `government`) goes from 初定 through a
public comment period on the draft list (征求意见, `commenting`) to 公开 instead of 票决; the
guards of that path are in app/govlist/guards.py.
"""

from __future__ import annotations

from enum import StrEnum

from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.roles import Role
from app.i18n import N_
from app.jurisdictions.settings import settings_for
from app.models import Cycle, Jurisdiction, utcnow
from app.workflows.cycle_guard import ready_to_announce
from app.workflows.engine import Transition, Workflow
from app.workflows.states import CyclePhase

PHASE_LABELS = {
    CyclePhase.draft: N_("筹备"),
    CyclePhase.soliciting: N_("征集"),
    CyclePhase.screening: N_("初定"),
    CyclePhase.commenting: N_("征求意见"),
    CyclePhase.balloting: N_("票决"),
    CyclePhase.announced: N_("公开"),
    CyclePhase.supervising: N_("监督"),
    CyclePhase.evaluating: N_("测评"),
    CyclePhase.closed: N_("归档"),
}

# The six public stages shown on every timeline (draft and closed sit outside them).
TIMELINE = [CyclePhase.soliciting, CyclePhase.screening, CyclePhase.balloting,
            CyclePhase.announced, CyclePhase.supervising, CyclePhase.evaluating]
# A list decided by the government has its comment period (征求意见) where the ballot would be.
GOVERNMENT_TIMELINE = [CyclePhase.soliciting, CyclePhase.screening, CyclePhase.commenting,
                       CyclePhase.announced, CyclePhase.supervising, CyclePhase.evaluating]


class DecidedBy(StrEnum):
    """DecidedBy — 定单方式: who decides a cycle's list (DOMAIN.md `decided_by`)."""

    ballot = "ballot"          # 人大代表票决
    government = "government"  # 政府研究确定, after a public comment period on the draft


def timeline_for(decided_by: str) -> list[CyclePhase]:
    """The six stages of a cycle whose list is decided by `decided_by`."""
    return GOVERNMENT_TIMELINE if decided_by == DecidedBy.government else TIMELINE


# Phases only one way of deciding passes through.
_ONLY_FOR = {CyclePhase.balloting: DecidedBy.ballot, CyclePhase.commenting: DecidedBy.government}


def fits(cycle: Cycle, target: str) -> bool:
    """Whether a cycle decided the way it is may ever enter `target` (a balloted cycle never
    enters the comment period, a government list never the ballot)."""
    only = _ONLY_FOR.get(target)
    return only is None or cycle.decided_by == only


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


def _government_list(cycle: Cycle) -> tuple[str, str] | None:
    if cycle.decided_by == DecidedBy.government:
        return ("This cycle's list is decided by the government (decided_by: government): its "
                "draft goes to a public comment period (commenting), not to a deputies' ballot.",
                "本年度民生实事项目由政府研究确定，草案应公开征求意见，不进行代表票决。")
    return None


async def _enough_reviewed_candidates(session: AsyncSession, cycle: Cycle,
                                      reason: str) -> tuple[str, str] | None:
    # Imported here: the candidate workflow imports this module for the phases.
    from app.workflows.candidate import quota

    if refusal := _government_list(cycle):
        return refusal
    have, need = await quota(session, cycle)
    if have < need:
        return (f"The ballot needs at least {need} reviewed candidates for {cycle.seats} seats "
                f"(差额 rule); {have} are reviewed.",
                f"差额票决：{cycle.seats} 个项目至少需要 {need} 个经人大审查的候选项目，"
                f"目前只有 {have} 个。")
    return None


async def _ballot_result_published(session: AsyncSession, cycle: Cycle,
                                   reason: str) -> tuple[str, str] | None:
    # The reason is the transition's: with it, staff record why seats left unfilled stay empty.
    return await ready_to_announce(session, cycle, reason)


async def _draft_list_ready(session: AsyncSession, cycle: Cycle,
                            reason: str) -> tuple[str, str] | None:
    # Imported here: the government-list rules import this module for the phases.
    from app.govlist.guards import ready_for_comments

    return await ready_for_comments(session, cycle, reason)


async def _list_adopted(session: AsyncSession, cycle: Cycle,
                        reason: str) -> tuple[str, str] | None:
    from app.govlist.guards import ready_to_adopt

    return await ready_to_adopt(session, cycle, reason)


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
    # A list decided by the government: the government publishes its draft for comment and
    # adopts it (DOMAIN.md "Lists decided by the government").
    Transition(CyclePhase.screening, CyclePhase.commenting, _GOV, _draft_list_ready),
    Transition(CyclePhase.commenting, CyclePhase.announced, _GOV, _list_adopted),
    Transition(CyclePhase.announced, CyclePhase.supervising, _CONGRESS),
    Transition(CyclePhase.supervising, CyclePhase.evaluating, _CONGRESS),
    Transition(CyclePhase.evaluating, CyclePhase.closed, _CONGRESS),
]


def open_moves(cycle: Cycle, role: str) -> list[Transition]:
    """The moves from the cycle's phase that `role` may make (admin: every one) and that fit
    how its list is decided; guards are checked when a move is made."""
    return [t for t in CYCLE_WORKFLOW.permitted(cycle.phase, role) if fits(cycle, t.target)]


def _stamp_phase_start(cycle: Cycle) -> None:
    cycle.phase_since = utcnow()


CYCLE_WORKFLOW = Workflow(
    entity_type="cycle",
    states=CyclePhase,
    transitions=CYCLE_TRANSITIONS,
    state_attr="phase",
    on_enter={phase: _stamp_phase_start for phase in CyclePhase},
)
