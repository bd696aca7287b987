"""Server-side records of page log-ins, so that logging out ends them for good."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index
from sqlmodel import Field, SQLModel

from app.models.base import UTCDateTime, utcnow


class LoginSession(SQLModel, table=True):
    """LoginSession — 登录会话: one browser's log-in to the pages.

    The browser's signed session cookie holds a random secret; the record's id is its SHA-256,
    so someone who reads the database cannot use what they read as a cookie. Logging out (here,
    or everywhere), a password change and expiry end the record, and with it the cookie.
    """

    __tablename__ = "login_session"
    __table_args__ = (Index("ix_login_session_user_ended", "user_id", "ended_at"),
                      Index("ix_login_session_expires", "expires_at"))

    id: str = Field(primary_key=True, max_length=64)  # SHA-256 hex of the cookie's secret
    user_id: str = Field(foreign_key="user_account.id", max_length=32)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    last_seen_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    expires_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    # For the person's own list of devices: the browser and system, and the address.
    device: str = Field(default="", max_length=120)
    address: str = Field(default="", max_length=64)
    ended_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # logout, logout_all, password_change, replaced (a new log-in in the same browser)
    ended_reason: str | None = Field(default=None, max_length=20)
