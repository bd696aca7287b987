"""Dates as people in China read them (Beijing time), whatever the server's clock zone."""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

from app.models.base import utcnow

CHINA_TZ = ZoneInfo("Asia/Shanghai")


def china_today() -> date:
    """Today's date in Beijing."""
    return utcnow().astimezone(CHINA_TZ).date()
