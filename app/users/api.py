"""JSON API: accounts, one's own password, grants."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from app.auth import login_sessions
from app.auth.deps import CurrentUser, ensure_scope, require
from app.auth.roles import Perm, Role
from app.db import SessionDep
from app.errors import Forbidden
from app.models import User
from app.pagination import Page, PageDep
from app.users import service
from app.users.schemas import (
    GrantIn,
    GrantOut,
    LoginSessionOut,
    PasswordChange,
    UserCreated,
    UserIn,
    UserOut,
)

router = APIRouter(tags=["users"])


def to_out(u: User) -> UserOut:
    return UserOut(id=u.id, username=u.username, display_name=u.display_name, role=u.role,
                   jurisdiction_code=u.jurisdiction_code, unit_id=u.unit_id,
                   is_active=u.is_active,
                   must_change_password=u.must_change_password)


@router.post("/users", status_code=201, response_model=UserCreated)
async def create_user(body: UserIn, session: SessionDep, actor: CurrentUser):
    """Create an account (admin); congress staff create deputies of their jurisdiction.

    A unit_staff account names its responsible unit (`unit_id`), one of its jurisdiction's."""
    if actor.role not in (Role.admin, Role.congress_staff):
        raise Forbidden("Your role may not create accounts.", code="permission_denied")
    user = await service.create(session, actor=actor, username=body.username,
                                password=body.password, display_name=body.display_name,
                                role=body.role, jurisdiction_code=body.jurisdiction_code,
                                unit_id=body.unit_id)
    return UserCreated(id=user.id, username=user.username, role=user.role)


@router.get("/users", response_model=Page[UserOut])
async def list_users(session: SessionDep, paging: PageDep,
                     actor: Annotated[User, require(Perm.deputy_manage)],
                     jurisdiction_code: Annotated[str | None, Query(max_length=32)] = None,
                     role: Role | None = None):
    """Accounts (admin: all; congress staff: the deputies of their jurisdiction)."""
    if actor.role != Role.admin:
        jurisdiction_code = jurisdiction_code or actor.jurisdiction_code
        await ensure_scope(session, actor, jurisdiction_code)
        # Congress staff keep the deputy roster and no other accounts; a resident's username
        # is their phone number.
        if role not in (None, Role.deputy):
            raise Forbidden("Congress staff list the deputies of their jurisdiction only.",
                            code="deputies_only", zh="人大工作人员只能查看本级代表名单。")
        role = Role.deputy
    rows, total = await service.list_users(session, page=paging.page, per_page=paging.per_page,
                                           jurisdiction_code=jurisdiction_code, role=role)
    return Page(items=[to_out(u) for u in rows], total=total, page=paging.page,
                per_page=paging.per_page)


@router.get("/users/me", response_model=UserOut)
async def me(actor: CurrentUser):
    """The logged-in account."""
    return to_out(actor)


@router.post("/users/me/password", status_code=204)
async def change_my_password(body: PasswordChange, session: SessionDep, actor: CurrentUser):
    """Change one's own password; every token issued before stops working."""
    await service.change_password(session, user=actor, current=body.current_password,
                                  new=body.new_password)


@router.get("/users/me/sessions", response_model=list[LoginSessionOut])
async def my_sessions(session: SessionDep, actor: CurrentUser):
    """The browsers logged in to one's pages, the most recently used first."""
    return [LoginSessionOut(created_at=s.created_at, last_seen_at=s.last_seen_at,
                            expires_at=s.expires_at, device=s.device, address=s.address)
            for s in await login_sessions.active(session, actor.id)]


@router.post("/users/me/logout-all", status_code=204)
async def log_out_everywhere(session: SessionDep, actor: CurrentUser):
    """Log out everywhere: every page session and every bearer token of the account end,
    the one of this call too."""
    await login_sessions.log_out_everywhere(session, actor)


@router.post("/users/{user_id}/grants", status_code=201, response_model=GrantOut)
async def grant_jurisdiction(user_id: str, body: GrantIn, session: SessionDep,
                             actor: Annotated[User, require(Perm.grant_manage)]):
    """Let a staff member act in another jurisdiction too (admin)."""
    row = await service.grant(session, actor=actor, user_id=user_id,
                              jurisdiction_code=body.jurisdiction_code)
    return GrantOut(user_id=row.user_id, jurisdiction_code=row.jurisdiction_code)
