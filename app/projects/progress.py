"""Progress reports (进度报告) and a project's supervision figures (监督, DOMAIN.md).

A project's unit (or the government for it) reports physical percent complete, money spent to
date (万元, optionally by funding source), the plan's milestones met and a note. A report is
public at once and never deleted; a correction is a new report naming the one it corrects — the
only way a percent may go below the last report's. Reports are filed while the project is being
built (实施中, or 已完工 for a last correction).

What the public sees of a project's supervision — planned progress (序时进度), the gap, the
colour with its reasons — is computed when read (app/projects/progress_rules.py) from the plan,
the latest report and today's date.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit import service as audit
from app.auth.roles import Role
from app.errors import Conflict, Forbidden, Invalid
from app.jurisdictions.settings import settings_for
from app.models import Cycle, Jurisdiction, ProgressReport, Project, ProjectPlan, User
from app.projects import plans
from app.projects.progress_rules import Colour, Facts, Status, planned_percent, status
from app.projects.service import published_at
from app.projects.transitions import ensure_may_act
from app.timeutil import china_today
from app.workflows.states import ProjectState

REPORTING_STATES = frozenset({ProjectState.in_progress, ProjectState.completed})
REPORTERS = frozenset({Role.unit_staff, Role.gov_staff, Role.admin})
MAX_NOTE = 2000
MAX_SPENT = Decimal("1000000")


@dataclass(frozen=True)
class ReportIn:
    """A report as sent (already shaped by the API's schema)."""

    percent: int
    spent_wan: Decimal
    note: str = ""
    spent_by_source: tuple[tuple[str, Decimal], ...] = ()
    milestones_met: tuple[tuple[int, date], ...] = ()
    corrects: str | None = None


@dataclass(frozen=True)
class Supervision:
    """A project's supervision figures on one day (GET /projects/{id} `supervision`)."""

    percent: int
    planned_percent: float
    status: Status
    spent_wan: Decimal
    last_report_at: datetime | None
    report_due: date | None
    open_findings: int = 0
    overdue_findings: int = 0


def _money(value: Decimal, where: str) -> Decimal:
    try:
        amount = Decimal(value).quantize(Decimal("0.01"))
    except (InvalidOperation, ValueError):
        raise Invalid(f"{where} must be an amount in 万元.", code="invalid_amount",
                      zh="金额须为数字（万元）。") from None
    if not Decimal(0) <= amount <= MAX_SPENT:
        raise Invalid(f"{where} must be between 0 and {MAX_SPENT} 万元.", code="invalid_amount",
                      zh="金额须在 0 到 1000000 万元之间。")
    return amount


async def reports_of(session: AsyncSession, project_id: str) -> list[ProgressReport]:
    """The project's reports, newest first."""
    return list(await session.scalars(select(ProgressReport).where(
        ProgressReport.project_id == project_id)
        .order_by(ProgressReport.filed_at.desc(), ProgressReport.id.desc())))


def _facts(project: Project, plan: ProjectPlan | None, announced_on: date, rules,
           latest: ProgressReport | None, today: date, reported_on: date | None = None,
           reported: int | None = None) -> Facts:
    dues = [date.fromisoformat(m["due"]) for m in (plan.milestones if plan else [])]
    planned = planned_percent(announced_on, project.deadline, dues, today,
                              rules.planned_progress)
    return Facts(state=str(project.state), today=today, announced=announced_on,
                 deadline=project.deadline, planned=planned,
                 reported=reported if reported is not None else (
                     latest.percent if latest else None),
                 last_report=reported_on or (latest.reported_on if latest else None),
                 overdue_findings=0, report_interval_days=rules.progress_report_max_days,
                 yellow_gap_points=rules.yellow_gap_points, red_gap_points=rules.red_gap_points)


def figures(project: Project, plan: ProjectPlan | None, announced_on: date, rules,
            latest: ProgressReport | None, today: date) -> Supervision:
    """One project's supervision figures on `today`, from what was read for it."""
    facts = _facts(project, plan, announced_on, rules, latest, today)
    building = project.state in (ProjectState.announced, ProjectState.in_progress,
                                 ProjectState.adjusted)
    since = latest.reported_on if latest else announced_on
    return Supervision(percent=latest.percent if latest else 0,
                       planned_percent=facts.planned, status=status(facts),
                       spent_wan=latest.spent_wan if latest else Decimal("0.00"),
                       last_report_at=latest.filed_at if latest else None,
                       report_due=(since + timedelta(days=rules.progress_report_max_days)
                                   if building else None))


async def supervision(session: AsyncSession, view: plans.ProjectPlanView,
                      today: date | None = None) -> Supervision:
    """The project's figures today: latest report, 序时进度, gap, colour, next report due."""
    reports = await reports_of(session, view.project.id)
    return figures(view.project, view.plan, view.announced_on, settings_for(view.jurisdiction),
                   reports[0] if reports else None, today or china_today())


async def latest_reports(session: AsyncSession,
                         project_ids: list[str]) -> dict[str, ProgressReport]:
    """project id → its latest report, for those that have one (one query)."""
    if not project_ids:
        return {}
    latest: dict[str, ProgressReport] = {}
    for r in await session.scalars(select(ProgressReport).where(
            ProgressReport.project_id.in_(project_ids))
            .order_by(ProgressReport.filed_at, ProgressReport.id)):
        latest[r.project_id] = r
    return latest


# Reddest first: red, yellow, green, blue, then those without a colour.
_ORDER = {Colour.red: 0, Colour.yellow: 1, Colour.green: 2, Colour.blue: 3, None: 4}


@dataclass(frozen=True)
class BoardItem:
    project: Project
    figures: Supervision


async def board(session: AsyncSession, cycle: Cycle,
                today: date | None = None) -> list[BoardItem]:
    """The cycle's 督办 board: every decided project with its figures, reddest first (within a
    colour, furthest behind plan first). A fixed number of queries, whatever the projects."""
    today = today or china_today()
    projects = list(await session.scalars(select(Project).where(
        Project.cycle_id == cycle.id).order_by(Project.created_at, Project.id)))
    if not projects:
        return []
    rules = settings_for(await session.get(Jurisdiction, cycle.jurisdiction_code))
    announced_on = plans.beijing_date(await published_at(session, cycle))
    ids = [p.id for p in projects]
    current = await plans.current_plans(session, ids)
    latest = await latest_reports(session, ids)
    items = [BoardItem(p, figures(p, current.get(p.id), announced_on, rules, latest.get(p.id),
                                  today)) for p in projects]
    items.sort(key=lambda i: (_ORDER[i.figures.status.colour], -i.figures.status.gap))
    return items


async def file_report(session: AsyncSession, project: Project, actor: User,
                      report: ReportIn) -> ProgressReport:
    """File a progress report (see the module), or 403/409/422 saying why not."""
    cycle = await session.get(Cycle, project.cycle_id)
    if actor.role not in REPORTERS:
        raise Forbidden("Progress is reported by the project's unit or the government.",
                        code="role_not_allowed", zh="进度由责任单位或政府工作人员报告。")
    await ensure_may_act(session, actor, project, cycle)
    if project.state not in REPORTING_STATES:
        raise Conflict("Progress is reported while the project is being built (实施中): move it "
                       "to in_progress first.", code="not_building",
                       zh="项目实施中才能报告进度，请先将项目转为“实施中”。")
    view = await plans.view(session, project)
    reports = await reports_of(session, project.id)
    latest = reports[0] if reports else None
    if not 0 <= report.percent <= 100:
        raise Invalid("percent must be between 0 and 100.", code="invalid_percent",
                      zh="完成进度须在 0 到 100 之间。")
    if report.corrects is not None and report.corrects not in {r.id for r in reports}:
        raise Invalid("corrects must name an earlier report of this project.",
                      code="unknown_report", zh="所更正的报告不是本项目的进度报告。")
    if latest is not None and report.percent < latest.percent and report.corrects is None:
        raise Invalid(f"percent {report.percent} is below the last report's "
                      f"{latest.percent}; a lower figure corrects a report: name it in "
                      "corrects.", code="percent_decreased",
                      zh=f"完成进度 {report.percent}% 低于上次报告的 {latest.percent}%；"
                         "如需更正，请指明更正哪一份报告。")
    spent = _money(report.spent_wan, "spent_wan")
    by_source = [(source.strip(), _money(amount, "spent_by_source.amount_wan"))
                 for source, amount in report.spent_by_source]
    if any(not source for source, _ in by_source):
        raise Invalid("Every spent_by_source row names its source.", code="invalid_source",
                      zh="请填写每一笔资金的来源。")
    if by_source and sum((a for _, a in by_source), Decimal(0)) != spent:
        raise Invalid("spent_by_source must add up to spent_wan.", code="spent_mismatch",
                      zh="各来源支出之和须等于累计支出。")
    milestones = view.plan.milestones if view.plan else []
    today = china_today()
    for index, met_on in report.milestones_met:
        if not 0 <= index < len(milestones):
            raise Invalid(f"milestones_met index {index} is not a milestone of the plan "
                          f"(0–{len(milestones) - 1}).", code="unknown_milestone",
                          zh="所报的进度节点不在实施方案中。")
        if met_on > today:
            raise Invalid("A milestone's date cannot be in the future.",
                          code="invalid_milestone_date", zh="节点完成日期不能晚于今天。")
    note = report.note.strip()
    if len(note) > MAX_NOTE:
        raise Invalid(f"The note is longer than {MAX_NOTE} characters.", code="note_too_long",
                      zh=f"说明不能超过 {MAX_NOTE} 字。")
    facts = _facts(project, view.plan, view.announced_on, settings_for(view.jurisdiction),
                   latest, today, reported_on=today, reported=report.percent)
    now = status(facts)
    filed = ProgressReport(
        project_id=project.id, percent=report.percent, spent_wan=spent,
        spent_by_source=[{"source": s, "amount_wan": str(a)} for s, a in by_source],
        milestones_met=[{"index": i, "date": d.isoformat()} for i, d in report.milestones_met],
        note=note, corrects=report.corrects, reported_on=today,
        planned_percent=facts.planned, status=now.colour.value if now.colour else None,
        filed_by=actor.username)
    session.add(filed)
    await session.flush()
    await audit.record(session, actor=actor.username, action="project.progress",
                       entity_type="project", entity_id=project.id,
                       data={"report_id": filed.id, "percent": filed.percent,
                             "spent_wan": str(spent), "corrects": filed.corrects})
    return filed
