"""JSON API of 公开: a cycle's announcement (公告) and its decided projects."""

from __future__ import annotations

from fastapi import APIRouter

from app.cycles.api import CurrentCycle
from app.db import SessionDep
from app.pagination import Page, PageDep
from app.projects import service
from app.projects.schemas import AnnouncementOut, ProjectOut, announcement_out, project_out

router = APIRouter(tags=["publication"])


@router.get("/cycles/{cycle_id}/announcement", response_model=AnnouncementOut)
async def read_announcement(cycle: CurrentCycle, session: SessionDep):
    """The 公告 (anyone, once announced; 409 `not_announced` before).

    When the jurisdiction does not publish vote counts, each project's `yes` is null and the
    ballots' candidates carry no yes / no / abstain counts.
    """
    return announcement_out(await service.announcement(session, cycle))


@router.get("/cycles/{cycle_id}/projects", response_model=Page[ProjectOut])
async def list_projects(cycle: CurrentCycle, session: SessionDep, paging: PageDep):
    """The cycle's decided projects in 公告 order, with `state` and `plan` (anyone).

    Empty before the cycle is announced. A cycle has at most its seats of projects, so the
    page is cut from the full list.
    """
    rows, show_counts = await service.list_projects(session, cycle)
    start = (paging.page - 1) * paging.per_page
    return Page(items=[project_out(r, show_counts) for r in rows[start:start + paging.per_page]],
                total=len(rows), page=paging.page, per_page=paging.per_page)
