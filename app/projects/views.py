"""The public 公告 page: the decided projects of a cycle, as an official notice.

Anyone may read it once the cycle is announced; before that the page says 尚未公告 (200).
It prints on A4 (the print block of app/static/app.css) and stacks its table on phones.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from fastapi import APIRouter, Request

from app.cycles import service as cycles
from app.db import SessionDep
from app.jurisdictions import service as jurisdictions
from app.pages.render import render
from app.projects import service
from app.timeutil import CHINA_TZ

router = APIRouter(include_in_schema=False)


def local_date(value: datetime) -> date:
    """The Beijing date of a timestamp (the template writes it as 2026年3月1日)."""
    return value.astimezone(CHINA_TZ).date()


def wan(value: Decimal) -> str:
    """A budget in 万元 without trailing zeros (1200.00 → 1200, 85.50 → 85.5)."""
    text = f"{value:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


@router.get("/cycles/{cycle_id}/announcement")
async def announcement_page(request: Request, cycle_id: str, session: SessionDep):
    """票决结果公告: the notice, or a friendly 尚未公告 page before the cycle is announced."""
    cycle = await cycles.get(session, cycle_id)
    if cycle.phase not in service.ANNOUNCED_PHASES:
        jurisdiction = await jurisdictions.get(session, cycle.jurisdiction_code)
        return render(request, "projects/announcement.html", {
            "cycle": cycle, "jurisdiction": jurisdiction, "announced": False})
    a = await service.announcement(session, cycle)
    return render(request, "projects/announcement.html", {
        "cycle": cycle, "jurisdiction": a.jurisdiction, "announced": True, "a": a,
        "ballots": a.ballots(), "show_counts": a.publish_vote_counts,
        "published_on": local_date(a.published_at), "wan": wan})
