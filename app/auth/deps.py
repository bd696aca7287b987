"""Who is asking, and may they: dependencies that load the user and check the permission table."""

from __future__ import annotations

from typing import Annotated

from fastapi import BackgroundTasks, Depends, Request
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth import login_sessions
from app.auth.login_sessions import SESSION_USER, SESSION_VERSION  # noqa: F401 - their old home
from app.auth.roles import Perm, Role, has_perm
from app.auth.tokens import read_token
from app.db import SessionDep
from app.errors import Forbidden, NotAuthenticated
from app.models import JurisdictionGrant, User


def client_address(request: Request) -> str:
    """The caller's address (uvicorn resolves X-Forwarded-For from trusted proxies)."""
    return request.client.host if request.client else "unknown"


async def _load_active(session: AsyncSession, user_id: str, version: int) -> User | None:
    user = await session.get(User, user_id)
    if user is None or not user.is_active or user.token_version != version:
        return None
    return user


def _bearer(request: Request) -> str | None:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def bearer_claims(request: Request) -> tuple[str, int]:
    """(user id, token version) of the request's bearer token, checked without the database.

    For a hot path that checks the account itself (ensure_token_user) in a query it makes anyway.
    """
    token = _bearer(request)
    if token is None:
        raise not_authenticated()
    claims = read_token(request.app.state.settings, token)
    if claims is None:
        raise invalid_token()
    return claims


def ensure_token_user(valid: bool, must_change_password: bool) -> None:
    """The refusals of current_user for an account read elsewhere: 401 if the token's account
    is gone, inactive or logged out everywhere since; 403 until a generated password is changed."""
    if not valid:
        raise invalid_token()
    if must_change_password:
        raise password_change_required()


def not_authenticated() -> NotAuthenticated:
    return NotAuthenticated("Log in first (POST /api/v1/auth/token, then send "
                            "'Authorization: Bearer <token>').", code="not_authenticated")


def invalid_token() -> NotAuthenticated:
    return NotAuthenticated("The access token is invalid or has expired; log in again "
                            "with POST /api/v1/auth/token.", code="invalid_token")


def password_change_required() -> Forbidden:
    return Forbidden("Change the generated password first (POST /api/v1/users/me/password).",
                     code="password_change_required", zh="请先修改初始密码。")


async def optional_user(request: Request, session: SessionDep,
                        background: BackgroundTasks) -> User | None:
    """The logged-in user or None: bearer token on /api, session cookie on pages (its
    server-side session must be running: app/auth/login_sessions.py)."""
    if request.url.path.startswith("/api/"):
        token = _bearer(request)
        if token is None:
            return None
        claims = read_token(request.app.state.settings, token)
        user = await _load_active(session, *claims) if claims else None
        # A public route answers a stale token as it answers anyone; a protected one says why.
        request.state.bad_token = user is None
        return user
    found = await login_sessions.user_of(session, request)
    if found is None:
        return None
    user, last_seen = found
    if login_sessions.needs_touch(last_seen):
        background.add_task(login_sessions.touch, request.app.state,
                            login_sessions.current_key(request))
    return user


# What an account with a generated password may still do on the API: see itself and change it.
PASSWORD_CHANGE_PATHS = ("/api/v1/users/me", "/api/v1/users/me/password",
                         "/api/v1/users/me/logout-all")


async def current_user(request: Request,
                       user: Annotated[User | None, Depends(optional_user)]) -> User:
    """The logged-in user; 401 if nobody is, 403 until a generated password is changed."""
    if user is None:
        raise invalid_token() if getattr(request.state, "bad_token", False) else (
            not_authenticated())
    if (user.must_change_password and request.url.path.startswith("/api/")
            and request.url.path not in PASSWORD_CHANGE_PATHS):
        raise password_change_required()
    return user


OptionalUser = Annotated[User | None, Depends(optional_user)]
CurrentUser = Annotated[User, Depends(current_user)]


def require(perm: Perm):
    """A dependency that returns the user if their role carries `perm`, else 403."""

    async def dependency(user: CurrentUser) -> User:
        if not has_perm(user.role, perm):
            raise Forbidden("Your role may not do this.", code="permission_denied",
                            zh="您的角色无权进行此操作。")
        return user

    dependency.__name__ = f"require_{perm.name}"
    return Depends(dependency)


async def in_scope(session: AsyncSession, user: User, jurisdiction_code: str) -> bool:
    """Whether `user` may act in `jurisdiction_code`: their own, a granted one, or any (admin)."""
    if user.role == Role.admin or user.jurisdiction_code == jurisdiction_code:
        return True
    grant = await session.scalar(select(JurisdictionGrant.id).where(
        JurisdictionGrant.user_id == user.id,
        JurisdictionGrant.jurisdiction_code == jurisdiction_code))
    return grant is not None


async def ensure_scope(session: AsyncSession, user: User, jurisdiction_code: str) -> None:
    """403 unless `user` may act in `jurisdiction_code`."""
    if not await in_scope(session, user, jurisdiction_code):
        raise Forbidden("This belongs to another jurisdiction; your rights hold in your own "
                        "jurisdiction only unless an administrator grants more.",
                        code="outside_jurisdiction",
                        zh="这属于其他行政区域；您的权限仅限本级，如需跨级办理请联系系统管理员授权。")
