"""A proposal's states: submitted → accepted (储备库) | rejected | merged; accepted → adopted."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.roles import Role
from app.i18n import N_
from app.models import Cycle, Proposal
from app.workflows.cycle import CyclePhase
from app.workflows.engine import Transition, Workflow
from app.workflows.states import ProposalState

STATE_LABELS = {
    ProposalState.submitted: N_("已提交"),
    ProposalState.accepted: N_("已采纳入库"),
    ProposalState.rejected: N_("未采纳"),
    ProposalState.merged: N_("已合并"),
    ProposalState.adopted: N_("已列入候选项目"),
    ProposalState.carried: N_("已结转下一年度"),
}

CHANNELS = {"online": N_("网上提交"), "deputy": N_("代表建议"), "hotline": N_("12345热线"),
            "visit": N_("走访/问卷"), "letter": N_("来信")}

# 负面清单 quick picks for a rejection's public reason.
REJECTION_REASONS = [
    N_("属于楼堂馆所建设，列入负面清单"),
    N_("可能形成政府隐性债务，列入负面清单"),
    N_("属于上级政府事权或已有专项安排"),
    N_("不属于民生实事范围，已转交相关部门办理"),
    N_("所需资金超出本级财力"),
]

REVIEW_PHASES = {CyclePhase.soliciting, CyclePhase.screening}


async def _cycle_reviewing(session: AsyncSession, proposal: Proposal,
                           reason: str) -> tuple[str, str] | None:
    cycle = await session.get(Cycle, proposal.cycle_id)
    if cycle is None or cycle.phase not in REVIEW_PHASES:
        return ("Proposals are reviewed while the cycle is soliciting or screening.",
                "只有在征集或初定阶段才能审核建议。")
    return None


_GOV = frozenset({Role.gov_staff})

PROPOSAL_WORKFLOW = Workflow(
    entity_type="proposal",
    states=ProposalState,
    transitions=[
        Transition(ProposalState.submitted, ProposalState.accepted, _GOV, _cycle_reviewing),
        Transition(ProposalState.submitted, ProposalState.rejected, _GOV, _cycle_reviewing,
                   reason_required=True),
        Transition(ProposalState.submitted, ProposalState.merged, _GOV, _cycle_reviewing,
                   reason_required=True),
        Transition(ProposalState.accepted, ProposalState.merged, _GOV, _cycle_reviewing,
                   reason_required=True),
        # 初定: a candidate project is built from it (the candidates module moves it).
        Transition(ProposalState.accepted, ProposalState.adopted, _GOV),
        # The candidate answering it was changed to leave it out: back to the reserve.
        Transition(ProposalState.adopted, ProposalState.accepted, _GOV, reason_required=True),
        # 储备库: carried into a later cycle of the same jurisdiction.
        Transition(ProposalState.accepted, ProposalState.carried, _GOV, reason_required=True),
    ],
)
