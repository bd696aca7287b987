"""Notification schemas for the JSON API."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel


class NotificationOut(BaseModel):
    id: str
    proposal_id: str | None
    message: str
    read: bool
    created_at: datetime
