"""Assemble one proposal for the public: state, endorsements, photos, history with reasons."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from app.models import Proposal, User
from app.proposals.photos import photo_url, photos_of
from app.proposals.schemas import HistoryEntry, ProposalOut
from app.proposals.service import proposer_label
from app.workflows.engine import history
from app.workflows.proposal import PROPOSAL_WORKFLOW


async def public_history(session: AsyncSession, proposal: Proposal) -> list:
    """The proposal's transitions, with those of the reserve proposal it was carried from."""
    chain = []
    if proposal.carried_from_id:
        chain += await history(session, PROPOSAL_WORKFLOW.entity_type, proposal.carried_from_id)
    return chain + await history(session, PROPOSAL_WORKFLOW.entity_type, proposal.id)


async def proposal_out(session: AsyncSession, proposal: Proposal) -> ProposalOut:
    proposer = await session.get(User, proposal.proposer_id) if proposal.proposer_id else None
    return ProposalOut(
        id=proposal.id, cycle_id=proposal.cycle_id, title=proposal.title,
        category=proposal.category, location_code=proposal.location_code, place=proposal.place,
        channel=proposal.channel, state=proposal.state, endorsements=proposal.endorsement_count,
        created_at=proposal.created_at, description=proposal.description,
        estimated_cost_wan=proposal.estimated_cost_wan,
        proposer=proposer_label(proposal, proposer), merged_into_id=proposal.merged_into_id,
        carried_from_id=proposal.carried_from_id,
        photos=[photo_url(p) for p in await photos_of(session, proposal.id)],
        history=[HistoryEntry(from_=h.from_state, to=h.to_state, by=_public_actor(h),
                              at=h.at, reason=h.reason)
                 for h in await public_history(session, proposal)])


def _public_actor(entry) -> str:
    # Staff act in office and are named; a resident's own submission is shown without a name.
    return "" if entry.from_state is None else entry.actor_username
