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


class AuditAnchor(SQLModel, table=True):
    """AuditAnchor — 审计锚点: the chain's head at one moment, signed with a key kept outside
    the database (`minsheng audit anchor`), published so a later truncation or re-hashing of the
    chain shows (app/audit/anchors.py)."""

    __tablename__ = "audit_anchor"

    # The position of the anchored entry (its AuditEntry.seq): one anchor per head.
    seq: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    hash: str = Field(max_length=64)  # that entry's hash
    count: int = Field(sa_column=Column(BigInteger, nullable=False))  # entries at signing
    signed_at: datetime = Field(sa_type=UTCDateTime, nullable=False)  # whole seconds
    key_id: str = Field(max_length=16)
    signature: str = Field(max_length=88)  # Ed25519, base64
