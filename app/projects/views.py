"""Public pages of 公开: the 公告 of a cycle, and each decided project with its plan.

Anyone may read the 公告 once the cycle is announced; before that the page says 尚未公告 (200).
It prints on A4 (the print block of app/static/app.css) and stacks its table on phones. The
project page shows the implementation plan (实施方案), a 逾期 flag when it is late, and every
change to it since it was first published.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from fastapi import APIRouter, Request

from app.cycles import service as cycles
from app.db import SessionDep
from app.jurisdictions import service as jurisdictions
from app.jurisdictions.settings import settings_for
from app.pages.deps import PageUser
from app.pages.render import render
from app.projects import display, plans, progress, service
from app.projects.progress_rules import COLOUR_WORDS, Colour
from app.timeutil import CHINA_TZ, china_today
from app.workflows.project import STATE_LABELS

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
        "ballots": a.ballots(), "show_counts": a.publish_vote_counts and not a.by_government,
        "published_on": local_date(a.published_at), "wan": wan})


def cycle_supervised(cycle) -> bool:
    """From the announcement on, a project's progress is shown (公开 → 监督 → 测评 → 归档)."""
    return cycle.phase in service.ANNOUNCED_PHASES


@router.get("/cycles/{cycle_id}/supervision")
async def board_page(request: Request, cycle_id: str, session: SessionDep,
                     status: str = ""):
    """督办: every decided project of the cycle with its colour in words and the reason,
    reddest first; `status` (red, yellow, green, blue) shows one colour."""
    cycle = await cycles.get(session, cycle_id)
    jurisdiction = await jurisdictions.get(session, cycle.jurisdiction_code)
    items = await progress.board(session, cycle) if cycle_supervised(cycle) else []
    counts = {c.value: sum(1 for i in items if i.figures.status.colour == c) for c in Colour}
    chosen = status if status in counts else ""
    shown = [i for i in items if not chosen or i.figures.status.colour == chosen]
    return render(request, "projects/board.html", {
        "cycle": cycle, "jurisdiction": jurisdiction, "items": shown, "total": len(items),
        "counts": counts, "chosen": chosen, "COLOUR_WORDS": {c.value: w for c, w in
                                                             COLOUR_WORDS.items()},
        "STATE_LABELS": {str(k): val for k, val in STATE_LABELS.items()}, "wan": display.wan,
        "supervised": cycle_supervised(cycle)}, shared=True)


@router.get("/projects/{project_id}")
async def project_page(request: Request, project_id: str, session: SessionDep,
                       user: PageUser):
    """民生实事项目: the project as decided, its plan (or 尚未公布 with the due date) and the
    plan's changes, newest first."""
    project = await plans.get_project(session, project_id)
    v = await plans.view(session, project)
    history = await plans.history(session, project)
    reports = await progress.reports_of(session, project.id)
    return render(request, "projects/detail.html", {
        "v": v, "p": project, "cycle": v.cycle, "jurisdiction": v.jurisdiction,
        "plan": v.plan, "today": china_today(),
        "sv": progress.figures(project, v.plan, v.announced_on, settings_for(v.jurisdiction),
                               reports[0] if reports else None, china_today())
        if cycle_supervised(v.cycle) else None,
        "reports": reports, "corrected": {r.corrects for r in reports if r.corrects},
        "history": [{"item": h, "changes": display.change_rows(h)} for h in history],
        "STATE_LABELS": {str(k): val for k, val in STATE_LABELS.items()},
        "wan": display.wan, "item_text": display.item_text,
        "funding_total": plans.funding_total(v.plan.funding) if v.plan else None,
        "may_edit": user is not None and plans.may_write(user)}, shared=True)
