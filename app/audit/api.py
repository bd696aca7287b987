"""JSON API: check the audit chain."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter
from pydantic import BaseModel

from app.audit import service
from app.auth.deps import require
from app.auth.roles import Perm
from app.db import SessionDep
from app.models import User

router = APIRouter(tags=["audit"])


class VerifyOut(BaseModel):
    ok: bool
    checked: int
    broken_seq: int | None
    problem: str


@router.get("/audit/verify", response_model=VerifyOut)
async def verify_chain(session: SessionDep, _: Annotated[User, require(Perm.audit_read)]):
    """Recompute the audit log's hash chain (admin, congress_staff)."""
    r = await service.verify(session)
    return VerifyOut(ok=r.ok, checked=r.checked, broken_seq=r.broken_seq, problem=r.problem)
