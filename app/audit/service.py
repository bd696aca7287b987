"""Append to and verify the hash-chained audit log (审计日志)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import AuditEntry, utcnow

GENESIS_HASH = "0" * 64
# Arbitrary constant key of the PostgreSQL advisory lock that serialises appends.
_PG_LOCK_KEY = 7_341_202_601


def canonical_json(value: Any) -> str:
    """JSON with sorted keys and no spaces: the one text a hash is taken of."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def entry_hash(entry: AuditEntry) -> str:
    """The SHA-256 of an entry's content together with the previous entry's hash."""
    payload = canonical_json([entry.seq, entry.prev_hash, entry.at.isoformat(), entry.actor,
                              entry.action, entry.entity_type, entry.entity_id, entry.data])
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


async def record(session: AsyncSession, *, actor: str, action: str, entity_type: str,
                 entity_id: str, data: dict[str, Any] | None = None) -> AuditEntry:
    """Append one entry; two concurrent writers cannot both extend the same tip."""
    return (await record_many(session, actor=actor,
                              entries=[(action, entity_type, entity_id, data)]))[0]


async def record_many(session: AsyncSession, *, actor: str,
                      entries: list[tuple[str, str, str, dict[str, Any] | None]]
                      ) -> list[AuditEntry]:
    """Append (action, entity_type, entity_id, data) entries in order, chained, in one flush."""
    if session.bind.dialect.name == "postgresql":
        await session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_LOCK_KEY})
    # On SQLite a writing request already holds the write lock (BEGIN IMMEDIATE, see db.py).
    last = (await session.execute(
        select(AuditEntry.seq, AuditEntry.hash).order_by(AuditEntry.seq.desc()).limit(1)
    )).first()
    seq, prev_hash = (last.seq, last.hash) if last else (0, GENESIS_HASH)
    at = utcnow()
    added = []
    for action, entity_type, entity_id, data in entries:
        seq += 1
        entry = AuditEntry(seq=seq, prev_hash=prev_hash, at=at, actor=actor, action=action,
                           entity_type=entity_type, entity_id=entity_id,
                           data=canonical_json(data or {}), hash="")
        entry.hash = prev_hash = entry_hash(entry)
        added.append(entry)
    session.add_all(added)
    await session.flush()
    return added


@dataclass
class VerifyResult:
    """What `minsheng audit verify` found."""

    ok: bool
    checked: int
    broken_seq: int | None = None
    problem: str = ""


async def _entries(session: AsyncSession, batch: int = 1000) -> AsyncIterator[AuditEntry]:
    after = 0
    while True:
        rows = (await session.scalars(
            select(AuditEntry).where(AuditEntry.seq > after).order_by(AuditEntry.seq).limit(batch)
        )).all()
        if not rows:
            return
        for row in rows:
            yield row
        after = rows[-1].seq


async def verify(session: AsyncSession) -> VerifyResult:
    """Walk the chain from the start; report the first entry that was edited or follows a gap."""
    expected_prev, expected_seq, checked = GENESIS_HASH, 1, 0
    async for entry in _entries(session):
        if entry.seq != expected_seq:
            return VerifyResult(False, checked, expected_seq,
                                f"entry {expected_seq} is missing (deleted?); next is {entry.seq}")
        if entry.prev_hash != expected_prev:
            return VerifyResult(False, checked, entry.seq,
                                f"entry {entry.seq} does not follow entry {entry.seq - 1}")
        if entry_hash(entry) != entry.hash:
            return VerifyResult(False, checked, entry.seq,
                                f"entry {entry.seq} was changed after it was written")
        checked += 1
        expected_prev, expected_seq = entry.hash, entry.seq + 1
    return VerifyResult(True, checked)
