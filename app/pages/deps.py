"""Dependencies of the pages: the logged-in person, first-login password change, permissions."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from app.auth.deps import OptionalUser
from app.auth.roles import Perm, has_perm
from app.db import SessionDep
from app.errors import Forbidden, NotAuthenticated
from app.models import User
from app.notifications import service as inbox

PASSWORD_PAGE = "/account/password"


@dataclass(frozen=True)
class PageUserView:
    """What the page layout shows of the person; a plain copy, usable after a rollback."""

    id: str
    username: str
    display_name: str
    role: str
    jurisdiction_code: str | None  # None: an administrator
    unread: int = 0  # inbox messages not yet read, shown in the navigation


class RedirectTo(Exception):
    """Send the browser elsewhere (303, or HX-Redirect for htmx)."""

    def __init__(self, url: str):
        super().__init__(url)
        self.url = url


async def page_user(request: Request, user: OptionalUser, session: SessionDep) -> User | None:
    """The person on the page (or None); one with a generated password must change it first."""
    request.state.user = user and PageUserView(user.id, user.username, user.display_name,
                                               user.role, user.jurisdiction_code,
                                               await inbox.unread_count(session, user))
    if user is not None and user.must_change_password and request.url.path not in (
            PASSWORD_PAGE, "/logout"):
        raise RedirectTo(PASSWORD_PAGE)
    return user


async def login_required(user: Annotated[User | None, Depends(page_user)]) -> User:
    if user is None:
        raise NotAuthenticated("log in", zh="请先登录。")
    return user


PageUser = Annotated[User | None, Depends(page_user)]
LoggedIn = Annotated[User, Depends(login_required)]


def page_perm(perm: Perm):
    """The logged-in person, if their role carries `perm`; else the 403 page."""

    async def dependency(user: LoggedIn) -> User:
        if not has_perm(user.role, perm):
            raise Forbidden("not allowed", zh="您的角色无权打开此页面。")
        return user

    return Depends(dependency)
