"""Notifications (站内消息): the in-app inbox of what happened to one's proposals.

Shared by every domain that tells a person something: review and the reserve (proposals),
listing as a candidate (candidates); read on the inbox page and the API.
"""

from __future__ import annotations

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import Notification, Proposal, User, utcnow


async def tell_proposer(session: AsyncSession, proposal: Proposal, message: str) -> None:
    """Leave a message for the proposal's proposer, if they have an account."""
    if proposal.proposer_id:
        session.add(Notification(user_id=proposal.proposer_id, proposal_id=proposal.id,
                                 message=message))
        await session.flush()


async def messages(session: AsyncSession, user: User, *, page: int, per_page: int
                   ) -> tuple[list[Notification], int]:
    """A page of the person's messages, newest first."""
    where = Notification.user_id == user.id
    total = await session.scalar(select(func.count()).select_from(Notification).where(where))
    rows = await session.scalars(select(Notification).where(where)
                                 .order_by(Notification.created_at.desc(), Notification.id)
                                 .offset((page - 1) * per_page).limit(per_page))
    return list(rows), total or 0


async def unread_count(session: AsyncSession, user: User) -> int:
    return await session.scalar(select(func.count()).select_from(Notification).where(
        Notification.user_id == user.id, Notification.read_at.is_(None))) or 0


async def mark_read(session: AsyncSession, user: User) -> None:
    await session.execute(update(Notification).where(
        Notification.user_id == user.id, Notification.read_at.is_(None)).values(read_at=utcnow()))
