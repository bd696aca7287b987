"""The append-only audit log: each entry holds the hash of the one before."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Column, Index, Text
from sqlmodel import Field, SQLModel

from app.models.base import UTCDateTime, utcnow


class AuditEntry(SQLModel, table=True):
    """AuditEntry — 审计日志条目: one link of the hash chain `minsheng audit verify` checks."""

    __tablename__ = "audit_entry"
    # One record's history (e.g. a jurisdiction's changes of settings), newest first.
    __table_args__ = (Index("ix_audit_entry_entity", "entity_type", "entity_id", "seq"),)

    # seq is the chain position (1, 2, 3 …), unique, so two writers cannot both extend one tip.
    seq: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    actor: str = Field(max_length=64)
    action: str = Field(max_length=64)
    entity_type: str = Field(max_length=32)
    entity_id: str = Field(max_length=64)
    data: str = Field(sa_type=Text)  # canonical JSON
    prev_hash: str = Field(max_length=64)
    hash: str = Field(max_length=64, unique=True)
