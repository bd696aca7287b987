"""Accounts and the grants that widen a staff member's reach."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, String, UniqueConstraint
from sqlmodel import Field, SQLModel

from app.models.base import UTCDateTime, new_id, utcnow


class User(SQLModel, table=True):
    """User — 用户: one person with one role in one jurisdiction (an admin: in none, acting in all)."""

    __tablename__ = "user_account"

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    username: str = Field(sa_column=Column(String(64), unique=True, nullable=False))
    display_name: str = Field(max_length=100)
    role: str = Field(max_length=32, index=True)
    # None only for an administrator, who belongs to no jurisdiction (app/auth/deps.py in_scope).
    jurisdiction_code: str | None = Field(default=None, foreign_key="jurisdiction.code",
                                          index=True, max_length=32)
    # A unit_staff account's responsible unit (责任单位), of its jurisdiction; None for every
    # other role. Such an account acts on that unit's projects only.
    unit_id: str | None = Field(default=None, foreign_key="responsible_unit.id", index=True,
                                max_length=32)
    password_hash: str = Field(max_length=255)
    # A resident's verified mobile number (also their username when they registered themselves).
    phone: str | None = Field(default=None, sa_column=Column(String(20), unique=True))
    must_change_password: bool = False
    is_active: bool = True
    # Bumped on password change: invalidates every token and session issued before.
    token_version: int = 1
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)


class JurisdictionGrant(SQLModel, table=True):
    """JurisdictionGrant — 授权: lets staff act in a jurisdiction other than their own."""

    __tablename__ = "jurisdiction_grant"
    __table_args__ = (UniqueConstraint("user_id", "jurisdiction_code"),)

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    user_id: str = Field(foreign_key="user_account.id", index=True, max_length=32)
    jurisdiction_code: str = Field(foreign_key="jurisdiction.code", max_length=32)
    granted_by: str = Field(max_length=64)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
