"""POST /api/v1/auth/sms-code and /auth/sms-token: a bearer token for a code sent by SMS."""

from __future__ import annotations

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from app.auth import sms_login
from app.auth.deps import client_address
from app.auth.tokens import issue_token
from app.db import SessionDep
from app.schemas import Input
from app.users.schemas import TokenOut

router = APIRouter(tags=["auth"])


class SmsCodeIn(Input):
    phone: str = Field(min_length=11, max_length=20)


class SmsCodeSent(BaseModel):
    expires_in: int


class SmsTokenIn(Input):
    phone: str = Field(min_length=11, max_length=20)
    code: str = Field(min_length=6, max_length=6, pattern=r"^\d{6}$")


@router.post("/auth/sms-code", status_code=202, response_model=SmsCodeSent,
             responses={429: {"description": "too many codes"}})
async def request_login_code(body: SmsCodeIn, request: Request, session: SessionDep):
    """Text a 6-digit log-in code to the number if an account has it (the answer never says)."""
    ttl = await sms_login.send_code(session, settings=request.app.state.settings,
                                    limits=request.app.state.rate_limits, phone=body.phone,
                                    address=client_address(request))
    return SmsCodeSent(expires_in=ttl)


@router.post("/auth/sms-token", response_model=TokenOut,
             responses={401: {"description": "wrong or expired code"},
                        429: {"description": "too many codes tried"}})
async def create_sms_token(body: SmsTokenIn, request: Request, session: SessionDep) -> TokenOut:
    """Exchange a log-in code for a bearer token, also while the password is throttled."""
    address = client_address(request)
    user = await sms_login.log_in(session, settings=request.app.state.settings,
                                  limits=request.app.state.rate_limits, phone=body.phone,
                                  code=body.code, address=address)
    await request.app.state.login_throttle.succeeded(user.username, address)
    settings = request.app.state.settings
    return TokenOut(access_token=issue_token(settings, user.id, user.token_version),
                    role=user.role, expires_in=settings.token_ttl_seconds)
