"""Pages: the inbox (站内消息)."""

from __future__ import annotations

from fastapi import APIRouter, Request

from app.db import SessionDep
from app.notifications import service as inbox
from app.pages.deps import LoggedIn
from app.pages.render import render

router = APIRouter(include_in_schema=False)

INBOX_PER_PAGE = 20


@router.get("/inbox")
async def inbox_page(request: Request, session: SessionDep, user: LoggedIn, page: str = "1"):
    """The person's messages, newest first; opening the page marks them read."""
    number = max(1, min(int(page) if page.isdigit() else 1, 100_000))
    rows, total = await inbox.messages(session, user, page=number, per_page=INBOX_PER_PAGE)
    unread = {n.id for n in rows if n.read_at is None}
    await inbox.mark_read(session, user)
    return render(request, "notifications/inbox.html", {
        "messages": rows, "unread": unread, "total": total, "page": number,
        "per_page": INBOX_PER_PAGE})
