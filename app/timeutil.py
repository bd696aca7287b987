"""Dates as people in China read them (Beijing time), whatever the server's clock zone."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

CHINA_TZ = ZoneInfo("Asia/Shanghai")


def china_today() -> date:
    """Today's date in Beijing."""
    return datetime.now(CHINA_TZ).date()
