"""Implementation plans (实施方案) of decided projects: validate, save, read, history, lateness.

The cycle story page (app/cycles) reads plans only through `plan_summaries`; keep its signature
and the PlanSummary fields.

A plan is due `plan_due_days` (the jurisdiction's setting, default 30) after the Beijing date
the cycle was announced. A plan first saved on the due date is on time, one first saved later is
late; with no plan, a project is late once today (Beijing) is after the due date. A saved plan is
public at once; every later save that changes it is kept as a new version with who, when and
the 说明, and shown as changes (added / removed / changed milestones, funding, targets).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit import service as audit
from app.auth.deps import ensure_scope
from app.auth.roles import Perm, has_perm
from app.errors import Conflict, Forbidden, Invalid, NotFound
from app.jurisdictions.settings import settings_for
from app.models import Cycle, Jurisdiction, Project, ProjectPlan, ProjectPlanVersion, User, utcnow
from app.projects.plan_rules import MAX_REASON, funding_total, validate
from app.projects.service import ANNOUNCED_PHASES, published_at
from app.timeutil import CHINA_TZ, china_today
from app.workflows.cycle import CyclePhase
from app.workflows.project import ProjectState

# A plan may be written or changed from 公开 until the cycle is closed (归档: read-only).
OPEN_PHASES = (CyclePhase.announced, CyclePhase.supervising, CyclePhase.evaluating)
# Projects whose plan can no longer change.
FINISHED_STATES = (ProjectState.terminated, ProjectState.accepted)
PLAN_FIELDS = ("milestones", "funding", "targets", "stage_targets")


@dataclass
class PlanSummary:
    """What a list of projects shows of each one's plan (one entry per project asked about)."""

    due: date                      # announcement date + the jurisdiction's plan_due_days
    saved_at: datetime | None      # when the current plan was first published; None: no plan yet
    late: bool                     # no plan and today is past `due`, or first published after `due`
    milestones: int                # number of milestones in the current plan (0 without a plan)
    next_milestone: dict | None    # {"title", "due"} of the first milestone not yet due, or None
    funding_total_wan: Decimal | None  # sum of the funding rows; None without a plan
    revisions: int                 # how many times the plan was changed after it was first saved


def beijing_date(value: datetime) -> date:
    """The Beijing date of a timestamp."""
    return value.astimezone(CHINA_TZ).date()


async def plan_due(session: AsyncSession, cycle: Cycle,
                   announced_at: datetime | None = None) -> date:
    """The day the cycle's plans are due: announcement date (Beijing) + plan_due_days.

    `announced_at` saves the query for it when the caller has read the cycle's history.
    """
    jurisdiction = await session.get(Jurisdiction, cycle.jurisdiction_code)
    days = settings_for(jurisdiction).plan_due_days
    at = announced_at or await published_at(session, cycle)
    return beijing_date(at) + timedelta(days=days)


def is_late(due: date, first_saved: datetime | None, today: date | None = None) -> bool:
    """Late: first saved after `due`, or not saved and today is after `due`."""
    if first_saved is not None:
        return beijing_date(first_saved) > due
    return (today or china_today()) > due


def next_milestone(milestones: list[dict], today: date) -> dict | None:
    """The first milestone (by due date) not yet due, as {"title", "due"}."""
    upcoming = sorted((m for m in milestones if str(m.get("due", "")) >= today.isoformat()),
                      key=lambda m: str(m.get("due", "")))
    return {"title": upcoming[0]["title"], "due": upcoming[0]["due"]} if upcoming else None


def summary_of(plan: ProjectPlan | None, due: date, today: date) -> PlanSummary:
    """One project's PlanSummary from its current plan (or None)."""
    if plan is None:
        return PlanSummary(due=due, saved_at=None, late=is_late(due, None, today), milestones=0,
                           next_milestone=None, funding_total_wan=None, revisions=0)
    return PlanSummary(due=due, saved_at=plan.published_at,
                       late=is_late(due, plan.published_at, today),
                       milestones=len(plan.milestones),
                       next_milestone=next_milestone(plan.milestones, today),
                       funding_total_wan=funding_total(plan.funding),
                       revisions=plan.version - 1)


async def current_plans(session: AsyncSession, project_ids: list[str]) -> dict[str, ProjectPlan]:
    """project id → its current plan, for those that have one (one query)."""
    if not project_ids:
        return {}
    rows = await session.scalars(select(ProjectPlan).where(
        ProjectPlan.project_id.in_(list(project_ids))))
    return {p.project_id: p for p in rows}


async def plan_summaries(session: AsyncSession, cycle: Cycle, project_ids: list[str],
                         announced_at: datetime | None = None) -> dict[str, PlanSummary]:
    """project id → its PlanSummary, for every id given; a fixed number of queries."""
    due = await plan_due(session, cycle, announced_at)
    plans = await current_plans(session, project_ids)
    today = china_today()
    return {pid: summary_of(plans.get(pid), due, today) for pid in project_ids}


# ---------------------------------------------------------------- reading

async def get_project(session: AsyncSession, project_id: str) -> Project:
    """The project, or 404."""
    project = await session.get(Project, project_id) if len(project_id) <= 32 else None
    if project is None:
        raise NotFound("There is no project with this id.", code="unknown_project",
                       zh="找不到该民生实事项目。")
    return project


def plan_data(plan: ProjectPlan) -> dict[str, list]:
    """The plan's content: {"milestones", "funding", "targets", "stage_targets"}."""
    return {"milestones": list(plan.milestones), "funding": list(plan.funding),
            "targets": list(plan.targets), "stage_targets": list(plan.stage_targets)}


def plan_out(plan: ProjectPlan | None, due: date, today: date | None = None) -> dict | None:
    """The plan as the API shows it (None without a plan)."""
    if plan is None:
        return None
    return {**plan_data(plan), "version": plan.version, "published_at": plan.published_at,
            "updated_at": plan.updated_at, "due": due,
            "late": is_late(due, plan.published_at, today)}


@dataclass
class ProjectPlanView:
    """One project with its cycle, the plan's due date and its current plan (or None)."""

    project: Project
    cycle: Cycle
    jurisdiction: Jurisdiction
    announced_on: date
    due: date
    plan: ProjectPlan | None
    late: bool
    publish_vote_counts: bool = True


async def view(session: AsyncSession, project: Project) -> ProjectPlanView:
    """The project's plan as the public and staff pages and GET /projects/{id} show it."""
    cycle = await session.get(Cycle, project.cycle_id)
    jurisdiction = await session.get(Jurisdiction, cycle.jurisdiction_code)
    settings = settings_for(jurisdiction)
    announced_on = beijing_date(await published_at(session, cycle))
    due = announced_on + timedelta(days=settings.plan_due_days)
    plan = (await current_plans(session, [project.id])).get(project.id)
    return ProjectPlanView(project=project, cycle=cycle, jurisdiction=jurisdiction,
                           announced_on=announced_on, due=due, plan=plan,
                           late=is_late(due, plan.published_at if plan else None),
                           publish_vote_counts=settings.publish_vote_counts)


async def plans_for(session: AsyncSession, cycle: Cycle,
                    project_ids: list[str]) -> tuple[date, dict[str, ProjectPlan]]:
    """The cycle's due date and project id → current plan (a fixed number of queries)."""
    return await plan_due(session, cycle), await current_plans(session, project_ids)


async def versions(session: AsyncSession, project_ids: list[str]) -> list[ProjectPlanVersion]:
    """Every saved version of these projects' plans, oldest first (one query)."""
    if not project_ids:
        return []
    return list(await session.scalars(
        select(ProjectPlanVersion).where(ProjectPlanVersion.project_id.in_(list(project_ids)))
        .order_by(ProjectPlanVersion.project_id, ProjectPlanVersion.version)))


# ---------------------------------------------------------------- what changed

def _keyed(items: list, key) -> dict:
    return {key(item): item for item in items}


CHANGE_KEYS = {
    "milestones": lambda m: m["title"],
    "funding": lambda f: f["source"],
    "targets": lambda t: t,
    "stage_targets": lambda s: s["year"],
}


def plan_changes(old: dict | None, new: dict) -> list[dict]:
    """What changed from `old` to `new`: [{"field", "action", "old", "new"}], field by field.

    Milestones are matched by title, funding rows by source, stage targets by year and targets
    by their text, so a new due date is one `changed` milestone, a rewritten target is one
    `removed` and one `added`. The first version (old None) lists nothing.
    """
    if old is None:
        return []
    changes = []
    for name, key in CHANGE_KEYS.items():
        before = _keyed(old.get(name, []), key)
        after = _keyed(new.get(name, []), key)
        for k, item in before.items():
            if k not in after:
                changes.append({"field": name, "action": "removed", "old": item, "new": None})
            elif after[k] != item:
                changes.append({"field": name, "action": "changed", "old": item,
                                "new": after[k]})
        changes += [{"field": name, "action": "added", "old": None, "new": item}
                    for k, item in after.items() if k not in before]
    return changes


@dataclass
class HistoryItem:
    """One saved version with who saved it, when, the 说明, and what it changed."""

    version: ProjectPlanVersion
    changes: list[dict] = field(default_factory=list)


def history_of(rows: list[ProjectPlanVersion]) -> list[HistoryItem]:
    """One project's versions (oldest first in) as history items, newest first."""
    items, before = [], None
    for row in rows:
        items.append(HistoryItem(row, plan_changes(before, row.data)))
        before = row.data
    return list(reversed(items))


async def history(session: AsyncSession, project: Project) -> list[HistoryItem]:
    """The project's plan versions, newest first, each with what it changed."""
    return history_of(await versions(session, [project.id]))


# ---------------------------------------------------------------- saving

@dataclass
class Saved:
    """The outcome of a save: the current plan and whether a new version was stored."""

    plan: ProjectPlan
    changed: bool
    changes: list[dict]
    due: date


def may_write(user: User) -> bool:
    """Whether the user's role writes plans (the government's staff; admins)."""
    return has_perm(user.role, Perm.plan_write)


def ensure_writer(user: User) -> None:
    """403 unless the user's role writes plans."""
    if not may_write(user):
        raise Forbidden("Implementation plans are written by government staff.",
                        code="permission_denied", zh="实施方案由政府工作人员填写。")


async def ensure_open(session: AsyncSession, cycle: Cycle, project: Project) -> None:
    """409 unless the project's plan may be written now."""
    if cycle.phase not in ANNOUNCED_PHASES:
        raise Conflict("The plan is written once the cycle is announced (公开).",
                       code="not_announced", zh="本年度票决结果公告后才能填写实施方案。")
    if cycle.phase not in OPEN_PHASES:
        raise Conflict("The cycle is closed (归档); its plans are read-only.",
                       code="cycle_closed", zh="本年度已归档，实施方案不能再修改。")
    if project.state in FINISHED_STATES:
        raise Conflict(f"The project is {project.state}; its plan can no longer change.",
                       code="project_finished", zh="该项目已终止或已验收，实施方案不能再修改。")


async def save(session: AsyncSession, *, actor: User, project: Project, raw: dict,
               reason: str = "") -> Saved:
    """Publish or change the project's plan (gov staff of its jurisdiction).

    Saving what is already the current plan stores nothing. Each change keeps the new version
    with who, when and the 说明, and leaves an audit entry.
    """
    ensure_writer(actor)
    cycle = await session.get(Cycle, project.cycle_id)
    await ensure_scope(session, actor, cycle.jurisdiction_code)
    await ensure_open(session, cycle, project)
    reason = (reason or "").strip()
    if len(reason) > MAX_REASON:
        raise Invalid(f"The explanation is at most {MAX_REASON} characters.",
                      code="reason_too_long",
                      zh=f"修改说明太长：最多 {MAX_REASON} 字，现有 {len(reason)} 字。")
    due = await plan_due(session, cycle)
    announced_on = beijing_date(await published_at(session, cycle))
    data = validate(project, announced_on, raw)
    # One writer per project at a time (PostgreSQL; SQLite writers are serialised already).
    await session.execute(select(Project.id).where(Project.id == project.id).with_for_update())
    plan = (await current_plans(session, [project.id])).get(project.id)
    if plan is not None and plan_data(plan) == data:
        return Saved(plan, False, [], due)
    now = utcnow()
    before = plan_data(plan) if plan else None
    if plan is None:
        plan = ProjectPlan(project_id=project.id, **data, version=1, published_at=now,
                           published_by=actor.username, updated_at=now, updated_by=actor.username)
    else:
        for name in PLAN_FIELDS:
            setattr(plan, name, data[name])
        plan.version += 1
        plan.updated_at, plan.updated_by = now, actor.username
    session.add(plan)
    session.add(ProjectPlanVersion(project_id=project.id, version=plan.version, data=data,
                                   saved_by=actor.username, saved_at=now, reason=reason))
    await session.flush()
    changes = plan_changes(before, data)
    await audit.record(session, actor=actor.username,
                       action="project.plan_publish" if before is None else "project.plan_change",
                       entity_type="project", entity_id=project.id,
                       data={"version": plan.version, "reason": reason, "changes": len(changes),
                             "due": due.isoformat(), "late": is_late(due, plan.published_at)})
    return Saved(plan, True, changes, due)
