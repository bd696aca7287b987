"""The in-app inbox and the SMS verification codes."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, Text
from sqlmodel import Field, SQLModel

from app.models.base import UTCDateTime, new_id, utcnow


class Notification(SQLModel, table=True):
    """Notification — 站内消息: tells a person what happened to their proposal."""

    __tablename__ = "notification"
    __table_args__ = (Index("ix_notification_user_created", "user_id", "created_at"),)

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    user_id: str = Field(foreign_key="user_account.id", max_length=32)
    proposal_id: str | None = Field(default=None, foreign_key="proposal.id", max_length=32)
    message: str = Field(sa_type=Text)
    read_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)


class SmsCode(SQLModel, table=True):
    """SmsCode — 短信验证码: stored as an HMAC, expires; guesses are rate-limited."""

    __tablename__ = "sms_code"
    __table_args__ = (Index("ix_sms_code_phone_created", "phone", "created_at"),)

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    phone: str = Field(max_length=20)
    # What the code is for: "register" (a new resident) or "login" (logging in by SMS code); a
    # code of one purpose never serves the other.
    purpose: str = Field(default="register", max_length=16,
                         sa_column_kwargs={"server_default": "register"})
    # The jurisdiction it was requested for: a registration's, or the account's for a log-in.
    jurisdiction_code: str | None = Field(default=None, foreign_key="jurisdiction.code",
                                          max_length=32)
    code_hash: str = Field(max_length=64)
    expires_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    consumed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)


class SmsMessage(SQLModel, table=True):
    """SmsMessage — 短信发件箱: what the built-in sender "sent", for staff to read."""

    __tablename__ = "sms_outbox"

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    phone: str = Field(max_length=20, index=True)
    body: str = Field(max_length=500)
    # Whose staff may read it: the jurisdiction the code was requested for (None: admins only).
    jurisdiction_code: str | None = Field(default=None, foreign_key="jurisdiction.code",
                                          index=True, max_length=32)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False,
                                 index=True)
