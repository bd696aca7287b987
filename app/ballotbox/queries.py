"""What several modules of the box read about a round: its items, its stored ballots, which
came from the devices, the round locked for staff, and the advisory lock's class.

A leaf module: it imports no other module of app/ballotbox or of a stage.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.deps import ensure_scope
from app.models import (
    BallotContent,
    BallotItem,
    BallotRound,
    Cycle,
    DeviceBallot,
    User,
)

# The class of the PostgreSQL advisory lock on a round: casts hold it shared, a close
# exclusively (stop_casting), so a close waits for the casts under way.
ROUND_LOCK_CLASS = 73_412


async def item_ids_of(session: AsyncSession, round_id: str) -> list[str]:
    """The ids of the items on the round's ballot paper (candidates or projects), in order."""
    return list(await session.scalars(select(BallotItem.item_id).where(
        BallotItem.round_id == round_id).order_by(BallotItem.position)))


async def stored_ballots(session: AsyncSession, ballot_id: str) -> list[BallotContent]:
    """Every returned ballot of the round, in canonical order (by content, never by time)."""
    rows = await session.scalars(select(BallotContent).where(
        BallotContent.round_id == ballot_id, BallotContent.filled.is_(True)))
    return sorted(rows, key=lambda b: (b.marks or "", b.paper, b.invalid))


async def device_content_ids(session: AsyncSession, round_id: str) -> set[str]:
    """The ids of the round's content rows that came from the devices."""
    return set(await session.scalars(select(DeviceBallot.content_id).where(
        DeviceBallot.round_id == round_id)))


async def locked_staff_round(session: AsyncSession, ballot: BallotRound, actor: User) -> None:
    """Check the actor's jurisdiction, then lock the round (PostgreSQL) and reread its state.

    The lock serialises paper entries, the device import and the tally of one round, so a
    sheet is confirmed once and nothing is entered while the round is being counted.
    """
    cycle = await session.get(Cycle, ballot.cycle_id)
    await ensure_scope(session, actor, cycle.jurisdiction_code)
    await session.refresh(ballot, with_for_update=True)
