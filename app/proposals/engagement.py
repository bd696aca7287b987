"""Endorsements (附议); comments are in app/comments/."""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.roles import Role
from app.errors import Conflict, Forbidden
from app.models import Cycle, Endorsement, Proposal, User
from app.workflows.cycle import CyclePhase
from app.workflows.proposal import ProposalState

OPEN_STATES = (ProposalState.submitted, ProposalState.accepted)


async def endorse(session: AsyncSession, *, actor: User, proposal: Proposal) -> Proposal:
    """Back a proposal once; a merged proposal's endorsement goes to the one it joined."""
    if actor.role not in (Role.resident, Role.deputy):
        raise Forbidden("Residents and deputies endorse proposals.", code="permission_denied",
                        zh="只有群众和人大代表可以附议。")
    if proposal.state == ProposalState.merged and proposal.merged_into_id:
        raise Conflict("This proposal was merged; endorse the one it joined instead "
                       f"({proposal.merged_into_id}).", code="proposal_merged",
                       zh="该建议已合并，请附议合并后的建议。")
    if proposal.state not in OPEN_STATES:
        raise Conflict("This proposal is no longer open for endorsement.", code="not_open",
                       zh="该建议已不再接受附议。")
    cycle = await session.get(Cycle, proposal.cycle_id)
    if cycle.phase != CyclePhase.soliciting:
        raise Conflict("Endorsements are taken only while the cycle is soliciting (征集).",
                       code="not_soliciting", zh="征集阶段已结束，不能再附议。")
    if proposal.proposer_id == actor.id:
        raise Conflict("You made this proposal; it counts you already.", code="own_proposal",
                       zh="这是您本人提出的建议，无需附议。")
    try:
        async with session.begin_nested():
            session.add(Endorsement(proposal_id=proposal.id, user_id=actor.id))
    except IntegrityError:
        raise Conflict("You have endorsed this proposal already.", code="already_endorsed",
                       zh="您已经附议过这条建议。") from None
    # Counted in the database, so concurrent endorsements cannot lose one another.
    await session.execute(update(Proposal).where(Proposal.id == proposal.id)
                          .values(endorsement_count=Proposal.endorsement_count + 1))
    await session.refresh(proposal, ["endorsement_count"])
    return proposal


async def has_endorsed(session: AsyncSession, user: User | None, proposal_id: str) -> bool:
    if user is None:
        return False
    return await session.scalar(select(Endorsement.id).where(
        Endorsement.proposal_id == proposal_id, Endorsement.user_id == user.id)) is not None
