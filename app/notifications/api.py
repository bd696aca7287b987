"""JSON API: one's own notifications (the in-app inbox)."""

from __future__ import annotations

from fastapi import APIRouter

from app.auth.deps import CurrentUser
from app.db import SessionDep
from app.notifications import service as inbox
from app.notifications.schemas import NotificationOut
from app.pagination import Page, PageDep

# Listed with the residents' endpoints in the OpenAPI document, as before they had a package.
router = APIRouter(tags=["residents"])


@router.get("/users/me/notifications", response_model=Page[NotificationOut])
async def my_notifications(session: SessionDep, paging: PageDep, actor: CurrentUser):
    """The in-app inbox: what happened to one's proposals."""
    rows, total = await inbox.messages(session, actor, page=paging.page,
                                       per_page=paging.per_page)
    return Page(items=[NotificationOut(id=n.id, proposal_id=n.proposal_id, message=n.message,
                                       read=n.read_at is not None, created_at=n.created_at)
                       for n in rows], total=total, page=paging.page, per_page=paging.per_page)


@router.post("/users/me/notifications/read", status_code=204)
async def mark_notifications_read(session: SessionDep, actor: CurrentUser):
    """Mark every message read."""
    await inbox.mark_read(session, actor)
