"""Assemble candidates for the API and the open data: unit names and source proposals."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from app.candidates import service
from app.candidates.schemas import CandidateOut, SourceOut
from app.models import Candidate


async def candidate_outs(session: AsyncSession, candidates: list[Candidate]) -> list[CandidateOut]:
    """Candidates with their unit names and source proposals (three queries in all)."""
    sources = await service.sources_of(session, [c.id for c in candidates])
    names = await service.unit_names(session, {c.responsible_unit_id for c in candidates})
    return [CandidateOut(
        id=c.id, cycle_id=c.cycle_id, title=c.title, summary=c.summary,
        responsible_unit=names.get(c.responsible_unit_id, ""), budget_wan=c.budget_wan,
        funding=c.funding, targets=c.targets, deadline=c.deadline, feasibility=c.feasibility,
        state=c.state, version=c.version, updated_at=c.updated_at,
        source_proposals=[SourceOut(id=p.id, title=p.title, endorsements=p.endorsement_count)
                          for p in sources[c.id]]) for c in candidates]
