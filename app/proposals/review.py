"""Staff triage (gov_staff): accept into the reserve, reject with a public reason, merge; carry
reserve proposals into a later cycle (储备库)."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit import service as audit
from app.auth.deps import ensure_scope
from app.errors import Conflict, Invalid
from app.models import Cycle, Endorsement, Proposal, User
from app.notifications import service as inbox
from app.proposals.service import get
from app.workflows.cycle import CyclePhase
from app.workflows.proposal import PROPOSAL_WORKFLOW, STATE_LABELS, ProposalState


async def _endorser_ids(session: AsyncSession, proposal_id: str) -> set[str]:
    return set(await session.scalars(select(Endorsement.user_id)
                                     .where(Endorsement.proposal_id == proposal_id)))


async def recount(session: AsyncSession, proposal: Proposal) -> None:
    """Set the stored endorsement count from the endorsement rows."""
    proposal.endorsement_count = await session.scalar(
        select(func.count()).select_from(Endorsement)
        .where(Endorsement.proposal_id == proposal.id)) or 0
    session.add(proposal)


async def _merge(session: AsyncSession, actor: User, source: Proposal, target_id: str | None,
                 reason: str) -> str:
    if not target_id:
        raise Invalid("Name the proposal to merge into (merge_into_id).",
                      code="merge_target_required", zh="请选择要合并到的建议。")
    target = await get(session, target_id)
    if target.id == source.id or target.cycle_id != source.cycle_id:
        raise Invalid("Merge into another proposal of the same cycle.", code="bad_merge_target",
                      zh="只能合并到同一年度的另一条建议。")
    if target.state not in (ProposalState.submitted, ProposalState.accepted):
        raise Conflict("The target proposal is not open (it was rejected, merged or adopted).",
                       code="bad_merge_target", zh="目标建议已不在受理状态，不能合并。")
    reason = reason or f"与建议“{target.title}”内容相同，予以合并"
    await PROPOSAL_WORKFLOW.apply(session, source, ProposalState.merged, actor=actor,
                                  reason=reason)
    source.merged_into_id = target.id
    # Endorsements follow, and the proposer backs the proposal theirs joined; nobody twice.
    backers = await _endorser_ids(session, source.id)
    if source.proposer_id:
        backers.add(source.proposer_id)
    already = await _endorser_ids(session, target.id)
    for user_id in sorted(backers - already - {target.proposer_id}):
        session.add(Endorsement(proposal_id=target.id, user_id=user_id))
    await session.flush()
    await recount(session, target)
    return reason


async def review(session: AsyncSession, *, actor: User, proposal: Proposal, decision: str,
                 reason: str = "", merge_into_id: str | None = None) -> Proposal:
    """Accept, reject (with a public reason) or merge a proposal; the proposer is told."""
    cycle = await session.get(Cycle, proposal.cycle_id)
    await ensure_scope(session, actor, cycle.jurisdiction_code)
    if decision == "accept":
        reason = reason or "进入储备库，将作为候选项目的来源"
        await PROPOSAL_WORKFLOW.apply(session, proposal, ProposalState.accepted, actor=actor,
                                      reason=reason)
    elif decision == "reject":
        await PROPOSAL_WORKFLOW.apply(session, proposal, ProposalState.rejected, actor=actor,
                                      reason=reason)
    else:
        reason = await _merge(session, actor, proposal, merge_into_id, reason)
    await inbox.tell_proposer(session, proposal,
                              f"您的建议“{proposal.title}”{STATE_LABELS[proposal.state]}：{reason}")
    return proposal


async def reserve(session: AsyncSession, jurisdiction_code: str, *, before_year: int,
                  limit: int = 200) -> list[Proposal]:
    """储备库: accepted, not adopted proposals of earlier cycles of this jurisdiction."""
    rows = await session.scalars(
        select(Proposal).join(Cycle, Cycle.id == Proposal.cycle_id)
        .where(Cycle.jurisdiction_code == jurisdiction_code, Cycle.year < before_year,
               Proposal.state == ProposalState.accepted)
        .order_by(Proposal.endorsement_count.desc(), Proposal.created_at.desc()).limit(limit))
    return list(rows)


async def carry(session: AsyncSession, *, actor: User, cycle: Cycle, proposal_ids: list[str],
                reason: str = "") -> list[tuple[Proposal, Proposal]]:
    """Carry reserve proposals into `cycle`: a copy, accepted, with its endorsements."""
    await ensure_scope(session, actor, cycle.jurisdiction_code)
    if cycle.phase not in (CyclePhase.draft, CyclePhase.soliciting, CyclePhase.screening):
        raise Conflict("Carry reserve proposals into a cycle that is being prepared, soliciting "
                       "or screening.", code="wrong_phase", zh="只能结转到筹备、征集或初定阶段的年度。")
    pairs = []
    for proposal_id in dict.fromkeys(proposal_ids):
        original = await get(session, proposal_id)
        source_cycle = await session.get(Cycle, original.cycle_id)
        if (source_cycle.jurisdiction_code != cycle.jurisdiction_code
                or source_cycle.year >= cycle.year):
            raise Invalid(f"Proposal {proposal_id} is not from an earlier cycle of this "
                          "jurisdiction.", code="not_in_reserve",
                          zh="只能结转本级往年储备库中的建议。")
        note = reason or f"结转至{cycle.year}年度"
        await PROPOSAL_WORKFLOW.apply(session, original, ProposalState.carried, actor=actor,
                                      reason=note)
        copy = Proposal(
            cycle_id=cycle.id, title=original.title, description=original.description,
            category=original.category if original.category in cycle.categories
            else cycle.categories[0], location_code=original.location_code,
            place=original.place, estimated_cost_wan=original.estimated_cost_wan,
            channel=original.channel, state=ProposalState.accepted,
            proposer_id=original.proposer_id, recorded_by=original.recorded_by,
            proposer_name=original.proposer_name, proposer_phone=original.proposer_phone,
            source_ref=original.source_ref, received_at=original.received_at,
            carried_from_id=original.id,
            search_text=original.search_text, created_at=original.created_at)
        session.add(copy)
        await session.flush()
        await PROPOSAL_WORKFLOW.record_creation(
            session, copy, actor=actor, reason=f"由{source_cycle.year}年度储备库结转")
        for user_id in await _endorser_ids(session, original.id):
            session.add(Endorsement(proposal_id=copy.id, user_id=user_id))
        await session.flush()
        await recount(session, copy)
        await audit.record(session, actor=actor.username, action="proposal.carry",
                           entity_type="proposal", entity_id=copy.id,
                           data={"from": original.id, "cycle_id": cycle.id})
        await inbox.tell_proposer(session, copy, f"您的建议“{copy.title}”已从储备库结转至"
                                                 f"{cycle.year}年度，附议继续有效。")
        pairs.append((original, copy))
    return pairs
