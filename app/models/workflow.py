"""The one history table every workflow writes: who, when, from, to, why."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, Text
from sqlmodel import Field, SQLModel

from app.models.base import UTCDateTime, new_id, utcnow


class StateTransition(SQLModel, table=True):
    """StateTransition — 状态变更记录: one recorded move of one entity between two states."""

    __tablename__ = "state_transition"
    __table_args__ = (Index("ix_state_transition_entity", "entity_type", "entity_id", "at"),)

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    entity_type: str = Field(max_length=32)
    entity_id: str = Field(max_length=32)
    from_state: str | None = Field(default=None, max_length=32)
    to_state: str = Field(max_length=32)
    actor_id: str | None = Field(default=None, max_length=32)
    actor_username: str = Field(max_length=64)
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    reason: str = Field(default="", sa_type=Text)
