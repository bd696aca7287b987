"""JSON API: check the audit chain; the signed anchors of its head and the key that signs them."""

from __future__ import annotations

import asyncio
import logging
from typing import Annotated

from fastapi import APIRouter, Request
from pydantic import BaseModel
from sqlalchemy import func, select

from app.audit import anchors, service
from app.auth.deps import require
from app.auth.roles import Perm
from app.db import SessionDep
from app.errors import NotFound
from app.models import AuditAnchor, User
from app.pagination import Page, PageDep

log = logging.getLogger(__name__)

router = APIRouter(tags=["audit"])


class VerifyOut(BaseModel):
    ok: bool
    checked: int
    broken_seq: int | None
    problem: str


@router.get("/audit/verify", response_model=VerifyOut)
async def verify_chain(request: Request, session: SessionDep,
                       _: Annotated[User, require(Perm.audit_read)]):
    """Recompute the audit log's hash chain and check it against the signed anchors of the
    database and the anchor file, when a key is configured (admin, congress_staff)."""
    r = await service.verify(session)
    result = VerifyOut(ok=r.ok, checked=r.checked, broken_seq=r.broken_seq, problem=r.problem)
    if not r.ok:
        return result
    settings = request.app.state.settings
    try:
        key = anchors.configured_public_key(settings)
        path = settings.audit_anchor_file
        in_file = (await asyncio.to_thread(anchors.read_anchor_file, path)
                   if key and path.is_file() else None)
    except anchors.AnchorInputError as exc:
        return result.model_copy(update={"ok": False, "problem": f"cannot check the anchors: {exc}"})
    if key is None:
        return result
    sources = {"the database": await anchors.database_anchors(session)}
    if in_file is not None:
        sources["the anchor file"] = in_file
    report = await anchors.check(session, sources, {anchors.key_id(key): key},
                                 anchor_file="the anchor file" if in_file is not None else None)
    if report.problems:
        return result.model_copy(update={"ok": False, "broken_seq": report.first_seq,
                                         "problem": report.problems[0]})
    return result


class AnchorOut(BaseModel):
    """An anchor exactly as signed: `signature` covers the canonical JSON of the other fields."""

    kind: str
    seq: int
    hash: str
    count: int
    signed_at: str
    key_id: str
    signature: str


class PublicKeyOut(BaseModel):
    algorithm: str
    key_id: str
    public_key: str
    pem: str


@router.get("/audit/anchors", response_model=Page[AnchorOut])
async def list_anchors(session: SessionDep, paging: PageDep):
    """The signed anchors of the audit chain, newest first (anyone)."""
    total = await session.scalar(select(func.count()).select_from(AuditAnchor))
    rows = (await session.scalars(select(AuditAnchor).order_by(AuditAnchor.seq.desc())
                                  .offset((paging.page - 1) * paging.per_page)
                                  .limit(paging.per_page))).all()
    return Page(items=[anchors.Anchor.from_row(r).to_json() for r in rows], total=total,
                page=paging.page, per_page=paging.per_page)


@router.get("/audit/anchors/latest", response_model=AnchorOut)
async def latest_anchor(session: SessionDep):
    """The newest anchor (anyone); 404 `no_anchor` before the first."""
    row = (await session.scalars(select(AuditAnchor).order_by(AuditAnchor.seq.desc())
                                 .limit(1))).first()
    if row is None:
        raise NotFound("The audit chain has not been anchored yet.", code="no_anchor")
    return anchors.Anchor.from_row(row).to_json()


@router.get("/audit/public-key", response_model=PublicKeyOut)
async def public_key(request: Request):
    """The Ed25519 public key the anchors are signed with (anyone); 404 `no_audit_key` when
    the installation has none configured."""
    try:
        key = anchors.configured_public_key(request.app.state.settings)
    except anchors.AnchorInputError as exc:
        log.error("audit anchors: %s", exc)
        key = None
    if key is None:
        raise NotFound("No audit signing key is configured.", code="no_audit_key")
    return PublicKeyOut(algorithm="Ed25519", key_id=anchors.key_id(key),
                        public_key=anchors.public_key_text(key), pem=anchors.public_key_pem(key))
