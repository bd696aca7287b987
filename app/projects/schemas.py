"""JSON shapes of publication (API.md "Publication (公开) and open data")."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, Field

from app.govlist.schemas import AdoptionOut, CommentFiguresOut, adoption_out
from app.models import ProjectPlan
from app.projects.plans import HistoryItem, is_late, plan_data
from app.projects.service import Announcement, ProjectRow
from app.schemas import Input
from app.workflows.states import ProjectState


class AnnouncedCycleOut(BaseModel):
    """The cycle a 公告 belongs to."""

    id: str
    jurisdiction_code: str
    jurisdiction_name: str
    year: int
    title: str
    seats: int
    phase: str
    congress_session: str | None = None  # 第十八届人民代表大会第五次会议 (after the jurisdiction)
    # the body the 公告 speaks for: 乐至县第十八届人民代表大会第五次会议, or for a list decided
    # by the government 瑶海区人民政府
    issued_by: str
    decided_by: str = "ballot"


class AnnouncedProjectOut(BaseModel):
    """AnnouncedProject — 公告项目: a decided project as the 公告 lists it."""

    id: str
    title: str
    responsible_unit: str
    budget_wan: Decimal
    deadline: date
    yes: int | None  # null when the jurisdiction does not publish vote counts, or no ballot
    source_proposal_ids: list[str]


class AnnouncementOut(BaseModel):
    cycle: AnnouncedCycleOut
    published_at: datetime
    ballots: list[dict[str, Any]]  # [] for a list decided by the government
    projects: list[AnnouncedProjectOut]
    decided_by: str = "ballot"  # ballot (代表票决) or government (政府研究确定)
    # a government list: the adopting meeting, its date and document number, items left out
    adoption: AdoptionOut | None = None
    # a government list: how the public comments on the draft were handled (征求意见情况)
    comments: CommentFiguresOut | None = None


class Milestone(BaseModel):
    title: str = Field(description="what is done by then, e.g. 完成招标")
    due: date = Field(description="between the announcement date and the project's deadline")


class Funding(BaseModel):
    source: str = Field(description="e.g. 县级财政, 上级补助")
    amount_wan: Decimal = Field(description="万元, more than 0; the rows add up to budget_wan")


class StageTarget(BaseModel):
    year: int
    target: str


class PlanFields(BaseModel):
    milestones: list[Milestone]
    funding: list[Funding]
    targets: list[str]
    stage_targets: list[StageTarget] = []


class DecisionIn(Input):
    """A congress decision (人大常委会决定): its document number (文号) and date."""

    number: str = Field(min_length=1, max_length=100)
    date: date


class ProjectTransitionIn(Input):
    """POST /projects/{id}/transitions. `decision` is required for adjusted, suspended and
    terminated and for resuming a suspended project, and refused for any other move."""

    to: ProjectState
    reason: str = Field(default="", max_length=1000)
    decision: DecisionIn | None = None


class ProjectStateOut(BaseModel):
    state: str


class SourceAmountIn(Input):
    source: str = Field(min_length=1, max_length=50)
    amount_wan: Decimal = Field(ge=0, le=1000000, decimal_places=2)


class MilestoneMetIn(Input):
    index: int = Field(ge=0, le=100)
    date: date


class ProgressIn(Input):
    """POST /projects/{id}/progress: physical percent complete, money spent to date (万元), a
    note; optionally the money by source (adding up to spent_wan), the plan's milestones met
    (by their place, 0 first), and the earlier report this one corrects."""

    percent: int = Field(ge=0, le=100)
    spent_wan: Decimal = Field(ge=0, le=1000000, decimal_places=2)
    note: str = Field(default="", max_length=2000)
    spent_by_source: list[SourceAmountIn] = Field(default_factory=list, max_length=10)
    milestones_met: list[MilestoneMetIn] = Field(default_factory=list, max_length=30)
    corrects: str | None = Field(default=None, min_length=1, max_length=32)


class ProgressFiledOut(BaseModel):
    id: str
    percent: int
    planned_percent: float
    status: str | None  # green / yellow / red / blue the day it was filed; null: no colour


class ProgressOut(BaseModel):
    id: str
    percent: int
    spent_wan: Decimal
    spent_by_source: list[dict]
    milestones_met: list[dict]
    note: str
    corrects: str | None
    corrected_by: list[str]  # the later reports that correct this one
    reported_on: date
    planned_percent: float
    status: str | None
    filed_by: str
    filed_at: datetime
    photos: list[dict] = Field(default_factory=list)
    comments: int = 0


class BoardItemOut(BaseModel):
    project_id: str
    title: str
    responsible_unit: str
    state: str
    status: str | None
    status_words: str
    status_reason: str
    percent: int
    planned_percent: float
    gap: float
    spent_wan: Decimal
    budget_wan: Decimal
    overdue_findings: int


class BoardOut(BaseModel):
    """The 督办 board: how many projects of each colour, and every project reddest first."""

    counts: dict[str, int]
    items: list[BoardItemOut]


class SupervisionOut(BaseModel):
    """A project's 监督 figures today, computed when read."""

    percent: int
    planned_percent: float
    gap: float
    spent_wan: Decimal
    status: str | None  # green / yellow / red / blue; null while suspended or terminated
    status_words: str
    status_reason: str
    last_report_at: datetime | None
    report_due: date | None
    open_findings: int
    overdue_findings: int


class PlanIn(Input):
    """PUT /projects/{id}/plan. Lengths and sums are checked by the service (422 with a code).

    `stage_targets` (one per year from the announcement's year to the deadline's) is required
    for a cross-year project, optional otherwise. `reason` is the 说明 of a change.
    """

    milestones: list[dict[str, Any]] = Field(default_factory=list, max_length=200)
    funding: list[dict[str, Any]] = Field(default_factory=list, max_length=200)
    targets: list[str] = Field(default_factory=list, max_length=200)
    stage_targets: list[dict[str, Any]] = Field(default_factory=list, max_length=200)
    reason: str = Field(default="", max_length=2000)


class PlanOut(PlanFields):
    """ProjectPlan — the implementation plan as published."""

    version: int
    published_at: datetime  # first saved: the plan is public from then on
    updated_at: datetime
    due: date               # announcement date (Beijing) + the jurisdiction's plan_due_days
    late: bool              # first published after `due`


class PlanSavedOut(PlanOut):
    project_id: str
    changed: bool  # false when the same plan was saved again (no new version)


class PlanChange(BaseModel):
    field: str   # milestones | funding | targets | stage_targets
    action: str  # added | removed | changed
    old: Any = None
    new: Any = None


class PlanVersionOut(PlanFields):
    version: int
    saved_by: str
    saved_at: datetime
    reason: str
    changes: list[PlanChange]  # from the version before (empty for the first)


class ProjectOut(AnnouncedProjectOut):
    cycle_id: str
    candidate_id: str
    responsible_unit_id: str
    ballot_id: str | None  # null for a list decided by the government
    state: str
    plan: PlanOut | None = None  # the implementation plan (实施方案), once published
    plan_due: date        # when the plan is due
    plan_late: bool       # published after plan_due, or still missing after it
    created_at: datetime
    # 监督: on GET /projects/{id} only (null in lists)
    supervision: SupervisionOut | None = None


def plan_out(plan: ProjectPlan | None, due: date) -> PlanOut | None:
    if plan is None:
        return None
    return PlanOut(**plan_data(plan), version=plan.version, published_at=plan.published_at,
                   updated_at=plan.updated_at, due=due, late=is_late(due, plan.published_at))


def project_out(row: ProjectRow, show_counts: bool, plan: ProjectPlan | None,
                due: date) -> ProjectOut:
    p = row.project
    return ProjectOut(id=p.id, title=p.title, responsible_unit=p.responsible_unit,
                      budget_wan=p.budget_wan, deadline=p.deadline,
                      yes=p.yes if show_counts else None,
                      source_proposal_ids=row.source_proposal_ids, cycle_id=p.cycle_id,
                      candidate_id=p.candidate_id, responsible_unit_id=p.responsible_unit_id,
                      ballot_id=p.ballot_id, state=p.state, plan=plan_out(plan, due),
                      plan_due=due, plan_late=is_late(due, plan.published_at if plan else None),
                      created_at=p.created_at)


def version_out(item: HistoryItem) -> PlanVersionOut:
    v = item.version
    return PlanVersionOut(**v.data, version=v.version, saved_by=v.saved_by, saved_at=v.saved_at,
                          reason=v.reason, changes=[PlanChange(**c) for c in item.changes])


def announcement_out(a: Announcement) -> AnnouncementOut:
    c = a.cycle
    return AnnouncementOut(
        cycle=AnnouncedCycleOut(id=c.id, jurisdiction_code=c.jurisdiction_code,
                                jurisdiction_name=a.jurisdiction.name, year=c.year,
                                title=c.title, seats=c.seats, phase=c.phase,
                                congress_session=c.congress_session, issued_by=a.issued_by,
                                decided_by=a.decided_by),
        published_at=a.published_at, ballots=a.ballots(), decided_by=a.decided_by,
        adoption=adoption_out(a.adoption),
        comments=CommentFiguresOut(**vars(a.comments)) if a.comments else None,
        projects=[AnnouncedProjectOut(
            id=row.project.id, title=row.project.title,
            responsible_unit=row.project.responsible_unit, budget_wan=row.project.budget_wan,
            deadline=row.project.deadline,
            yes=row.project.yes if a.publish_vote_counts else None,
            source_proposal_ids=row.source_proposal_ids) for row in a.projects])
