"""Moving a decided project through 监督 (项目状态): work starts, finishes, is accepted (验收), or a
congress decision adjusts, suspends, resumes or terminates it (DOMAIN.md 监督).

Every move goes through the project's workflow (app/workflows/project.py: who may make which
move, a reason where one is required) and leaves its record. On top of it:

- **whose project**: a unit_staff account moves its own unit's projects only; government and
  congress staff those of their jurisdiction (or one they were granted);
- **when**: from the announcement (公开) until the cycle is closed;
- **decisions**: a move to adjusted, suspended or terminated, and resuming a suspended project,
  carries the congress decision (its document number and date, not in the future), kept as a
  ProjectDecision flagged "report to the next session"; any other move takes none.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession

from app.audit import service as audit
from app.auth.deps import ensure_scope
from app.auth.roles import Role
from app.errors import Conflict, Forbidden, Invalid
from app.models import Cycle, Project, ProjectDecision, User
from app.timeutil import china_today
from app.workflows.cycle import CyclePhase
from app.workflows.project import PROJECT_WORKFLOW
from app.workflows.states import ProjectState

MOVING_PHASES = frozenset({CyclePhase.announced, CyclePhase.supervising, CyclePhase.evaluating})
BY_DECISION = frozenset({ProjectState.adjusted, ProjectState.suspended, ProjectState.terminated})
MAX_NUMBER = 100


@dataclass(frozen=True)
class Decision:
    """A congress decision as given: its document number (文号) and date."""

    number: str
    decided_on: date


def needs_decision(source: str, target: str) -> bool:
    """Whether moving `source` → `target` is made by a congress decision."""
    return target in BY_DECISION or (source == ProjectState.suspended
                                     and target == ProjectState.in_progress)


async def ensure_may_act(session: AsyncSession, actor: User, project: Project,
                         cycle: Cycle) -> None:
    """403 unless `actor` may act on `project`: its unit's staff, or staff of its jurisdiction."""
    if actor.role == Role.unit_staff:
        if actor.unit_id is None or actor.unit_id != project.responsible_unit_id:
            raise Forbidden("Only the project's responsible unit acts on it.",
                            code="not_your_unit", zh="这不是本单位负责的项目。")
        return
    await ensure_scope(session, actor, cycle.jurisdiction_code)


async def move(session: AsyncSession, project: Project, target: str, *, actor: User,
               reason: str = "", decision: Decision | None = None) -> Project:
    """Move the project to `target` (see the module), or 403/409/422 saying why not."""
    cycle = await session.get(Cycle, project.cycle_id)
    await ensure_may_act(session, actor, project, cycle)
    if cycle.phase not in MOVING_PHASES:
        raise Conflict("Projects move from the announcement until the cycle is closed.",
                       code="wrong_phase", zh="项目须在公告之后、年度归档之前办理。")
    source = str(project.state)
    if needs_decision(source, target):
        if decision is None:
            raise Invalid("This move is made by a congress decision: give decision.number and "
                          "decision.date.", code="decision_required",
                          zh="这一步须依据人大常委会决定，请填写决定文号和日期。")
        number = decision.number.strip()
        if not 1 <= len(number) <= MAX_NUMBER:
            raise Invalid(f"decision.number must be 1–{MAX_NUMBER} characters.",
                          code="invalid_decision", zh="请填写决定文号（100 字以内）。")
        if decision.decided_on > china_today():
            raise Invalid("decision.date cannot be in the future.", code="invalid_decision",
                          zh="决定日期不能晚于今天。")
    elif decision is not None:
        raise Invalid("Only an adjustment, a suspension, a termination or resuming a suspended "
                      "project carries a decision; leave it out.", code="decision_not_allowed",
                      zh="只有重大调整、暂缓、终止和恢复实施须填写人大常委会决定。")
    await PROJECT_WORKFLOW.apply(session, project, target, actor=actor, reason=reason)
    if decision is not None:
        record = ProjectDecision(project_id=project.id, from_state=source, to_state=target,
                                 number=decision.number.strip(),
                                 decided_on=decision.decided_on, reason=reason.strip(),
                                 recorded_by=actor.username)
        session.add(record)
        await session.flush()
        await audit.record(session, actor=actor.username, action="project.decision",
                           entity_type="project", entity_id=project.id,
                           data={"decision_id": record.id, "number": record.number,
                                 "date": record.decided_on.isoformat(), "from": source,
                                 "to": target})
    return project
