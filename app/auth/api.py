"""POST /api/v1/auth/token — bearer tokens for the API."""

from __future__ import annotations

from fastapi import APIRouter, Request

from app.auth.deps import client_address
from app.auth.tokens import issue_token
from app.db import SessionDep
from app.errors import NotAuthenticated
from app.users import service as users
from app.users.schemas import TokenIn, TokenOut

router = APIRouter(tags=["auth"])


@router.post("/auth/token", response_model=TokenOut,
             responses={401: {"description": "wrong credentials"}, 429: {"description": "throttled"}})
async def create_token(body: TokenIn, request: Request, session: SessionDep) -> TokenOut:
    """Exchange a username and password for a bearer token."""
    throttle = request.app.state.login_throttle
    address = client_address(request)
    await throttle.check(body.username, address)
    try:
        user = await users.authenticate(session, body.username, body.password)
    except NotAuthenticated:
        await throttle.failed(body.username, address)
        raise
    await throttle.succeeded(body.username, address)
    settings = request.app.state.settings
    return TokenOut(access_token=issue_token(settings, user.id, user.token_version),
                    role=user.role, expires_in=settings.token_ttl_seconds)
