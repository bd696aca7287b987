"""JSON shapes of publication (API.md "Publication (公开) and open data")."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from pydantic import BaseModel

from app.projects.service import Announcement, ProjectRow


class AnnouncedCycleOut(BaseModel):
    """The cycle a 公告 belongs to."""

    id: str
    jurisdiction_code: str
    jurisdiction_name: str
    year: int
    title: str
    seats: int
    phase: str


class AnnouncedProjectOut(BaseModel):
    """AnnouncedProject — 公告项目: a decided project as the 公告 lists it."""

    id: str
    title: str
    responsible_unit: str
    budget_wan: Decimal
    deadline: date
    yes: int | None  # null when the jurisdiction does not publish vote counts
    source_proposal_ids: list[str]


class AnnouncementOut(BaseModel):
    cycle: AnnouncedCycleOut
    published_at: datetime
    ballots: list[dict[str, Any]]
    projects: list[AnnouncedProjectOut]


class ProjectOut(AnnouncedProjectOut):
    cycle_id: str
    candidate_id: str
    responsible_unit_id: str
    ballot_id: str
    state: str
    plan: dict[str, Any] | None = None  # the implementation plan (实施方案), once published
    created_at: datetime


def project_out(row: ProjectRow, show_counts: bool) -> ProjectOut:
    p = row.project
    return ProjectOut(id=p.id, title=p.title, responsible_unit=p.responsible_unit,
                      budget_wan=p.budget_wan, deadline=p.deadline,
                      yes=p.yes if show_counts else None,
                      source_proposal_ids=row.source_proposal_ids, cycle_id=p.cycle_id,
                      candidate_id=p.candidate_id, responsible_unit_id=p.responsible_unit_id,
                      ballot_id=p.ballot_id, state=p.state, plan=None, created_at=p.created_at)


def announcement_out(a: Announcement) -> AnnouncementOut:
    c = a.cycle
    return AnnouncementOut(
        cycle=AnnouncedCycleOut(id=c.id, jurisdiction_code=c.jurisdiction_code,
                                jurisdiction_name=a.jurisdiction.name, year=c.year,
                                title=c.title, seats=c.seats, phase=c.phase),
        published_at=a.published_at, ballots=a.ballots(),
        projects=[AnnouncedProjectOut(
            id=row.project.id, title=row.project.title,
            responsible_unit=row.project.responsible_unit, budget_wan=row.project.budget_wan,
            deadline=row.project.deadline,
            yes=row.project.yes if a.publish_vote_counts else None,
            source_proposal_ids=row.source_proposal_ids) for row in a.projects])
