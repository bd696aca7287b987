"""CSV export of a cycle's proposals for staff (UTF-8 with a BOM, so spreadsheets read it)."""

from __future__ import annotations

import csv
import io

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from app.models import Cycle, Jurisdiction, Proposal, User
from app.workflows.proposal import CHANNELS, STATE_LABELS

COLUMNS = ["id", "created_at", "title", "description", "category", "location_code",
           "location_name", "place", "estimated_cost_wan", "channel", "channel_name", "state",
           "state_name", "endorsements", "proposer", "recorded_by", "merged_into_id",
           "carried_from_id", "source_ref"]


def _safe(value) -> str:
    """A cell that spreadsheet programs will not run as a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


async def proposals_csv(session: AsyncSession, cycle: Cycle) -> bytes:
    """Every proposal of the cycle, with the recorded proposer's name and record number (工单号)
    but never a phone number."""
    proposer, recorder = aliased(User), aliased(User)
    rows = await session.execute(
        select(Proposal, Jurisdiction.name, proposer.display_name, recorder.username)
        .join(Jurisdiction, Jurisdiction.code == Proposal.location_code)
        .outerjoin(proposer, proposer.id == Proposal.proposer_id)
        .outerjoin(recorder, recorder.id == Proposal.recorded_by)
        .where(Proposal.cycle_id == cycle.id).order_by(Proposal.created_at, Proposal.id))
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    for p, place_name, proposer_name, recorder_name in rows.all():
        writer.writerow([_safe(v) for v in (
            p.id, p.created_at.isoformat(), p.title, p.description, p.category,
            p.location_code, place_name, p.place, p.estimated_cost_wan, p.channel,
            CHANNELS.get(p.channel, ""), p.state, STATE_LABELS.get(p.state, ""),
            p.endorsement_count, p.proposer_name or proposer_name or "", recorder_name or "",
            p.merged_into_id, p.carried_from_id, p.source_ref)])
    return ("\ufeff" + out.getvalue()).encode("utf-8")
