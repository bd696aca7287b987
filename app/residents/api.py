"""JSON API: resident registration by mobile number, the SMS outbox."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from app.auth.deps import client_address, require
from app.auth.roles import Perm
from app.db import SessionDep
from app.models import User
from app.residents import service
from app.schemas import Input
from app.users.schemas import UserCreated

router = APIRouter(tags=["residents"])


class CodeRequest(Input):
    phone: str = Field(min_length=11, max_length=20)
    # Where the resident will register: the staff of that jurisdiction (and of the ones above
    # it) see the code in the SMS outbox; without it only administrators do.
    jurisdiction_code: str | None = Field(default=None, min_length=1, max_length=32)


class CodeSent(BaseModel):
    expires_in: int


class Registration(Input):
    phone: str = Field(min_length=11, max_length=20)
    code: str = Field(min_length=6, max_length=6, pattern=r"^\d{6}$")
    password: str = Field(min_length=1, max_length=128)
    display_name: str = Field(min_length=1, max_length=50)
    jurisdiction_code: str = Field(min_length=1, max_length=32)


class OutboxItem(BaseModel):
    phone: str
    body: str
    created_at: str


@router.post("/residents/sms-codes", status_code=202, response_model=CodeSent)
async def request_code(body: CodeRequest, request: Request, session: SessionDep):
    """Send a 6-digit verification code to a mobile number."""
    ttl = await service.send_code(session, settings=request.app.state.settings,
                                  limits=request.app.state.rate_limits, phone=body.phone,
                                  address=client_address(request),
                                  jurisdiction_code=body.jurisdiction_code)
    return CodeSent(expires_in=ttl)


@router.post("/residents", status_code=201, response_model=UserCreated)
async def register(body: Registration, request: Request, session: SessionDep):
    """Register as a resident with the code; the mobile number becomes the username."""
    user = await service.register(session, settings=request.app.state.settings,
                                  limits=request.app.state.rate_limits,
                                  address=client_address(request), **body.model_dump())
    return UserCreated(id=user.id, username=user.username, role=user.role)


@router.get("/sms-outbox", response_model=list[OutboxItem])
async def sms_outbox(session: SessionDep,
                     viewer: Annotated[User, require(Perm.sms_outbox_read)]):
    """The built-in sender's last 100 messages of one's jurisdictions (staff; admins: all), for
    when no SMS gateway is set up."""
    rows = await service.outbox(session, viewer)
    return [OutboxItem(phone=m.phone, body=m.body, created_at=m.created_at.isoformat())
            for m in rows]
