"""Pages: the person's own login sessions (登录设备) and 退出所有设备."""

from __future__ import annotations

from fastapi import APIRouter, Request

from app.auth import login_sessions
from app.db import SessionDep
from app.pages.deps import LoggedIn
from app.pages.render import render

router = APIRouter(include_in_schema=False)


@router.get("/account/sessions")
async def sessions_page(request: Request, session: SessionDep, user: LoggedIn):
    """The browsers logged in to this account, the most recently used first."""
    return render(request, "auth/sessions.html", {
        "sessions": await login_sessions.active(session, user.id),
        "current": login_sessions.current_key(request)})


@router.post("/account/sessions/logout-all")
async def logout_everywhere(request: Request, session: SessionDep, user: LoggedIn):
    """退出所有设备: every browser's session and every API token of the account end, this one's
    too."""
    await login_sessions.log_out_everywhere(session, user)
    request.session.clear()
    request.state.user = None  # the page shows nobody logged in
    return render(request, "auth/sessions.html", {"done": True})
