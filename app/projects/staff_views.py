"""Staff pages of 实施方案: the cycle's plan dashboard (gov and congress staff) and the plan
form (gov staff), which works without JavaScript: one milestone, funding row, target or stage
target per line of a textarea, e.g. `完成招标 | 2027-03-31`."""

from __future__ import annotations

import re

from fastapi import APIRouter, Request

from app.auth.deps import ensure_scope
from app.auth.roles import Role
from app.cycles import service as cycles
from app.db import SessionDep
from app.errors import Forbidden
from app.models import Cycle, Project, ProjectPlan, User
from app.pages.deps import LoggedIn
from app.pages.forms import attempting, refusal_text, refuse_nul
from app.pages.render import redirect, render
from app.projects import display, plans, service
from app.workflows.project import STATE_LABELS

router = APIRouter(include_in_schema=False)

DASHBOARD_ROLES = (Role.gov_staff, Role.congress_staff, Role.admin)
SEP = re.compile(r"\s*[|｜]\s*")
AMOUNT_UNIT = re.compile(r"\s*(万元|万)\s*$")
STAGE_LINE = re.compile(r"^\s*(\d{4})\s*(?:年)?\s*(?:[|｜:：]\s*)?(.*)$")
TEXT_FIELDS = ("milestones", "funding", "targets", "stage_targets", "reason")


def _lines(text: str) -> list[str]:
    """Every non-blank line (the service refuses too many, naming the limit)."""
    return [line.strip() for line in text.splitlines() if line.strip()]


def _split_last(line: str) -> tuple[str, str]:
    parts = SEP.split(line)
    return (" | ".join(parts[:-1]).strip(), parts[-1].strip()) if len(parts) > 1 else (line, "")


def parse_form(v: dict) -> dict:
    """The textareas as the service's plan dict (the service says what is wrong with it)."""
    milestones = [dict(zip(("title", "due"), _split_last(line), strict=True))
                  for line in _lines(v["milestones"])]
    funding = []
    for line in _lines(v["funding"]):
        source, amount = _split_last(line)
        funding.append({"source": source, "amount_wan": AMOUNT_UNIT.sub("", amount)})
    stages = []
    for line in _lines(v["stage_targets"]):
        m = STAGE_LINE.match(line)
        stages.append({"year": m.group(1), "target": m.group(2).strip()} if m
                      else {"year": line, "target": ""})
    return {"milestones": milestones, "funding": funding, "targets": _lines(v["targets"]),
            "stage_targets": stages}


def values_of(plan: ProjectPlan | None) -> dict:
    """The current plan written back into the textareas."""
    if plan is None:
        return dict.fromkeys(TEXT_FIELDS, "")
    return {"milestones": "\n".join(f"{m['title']} | {m['due']}" for m in plan.milestones),
            "funding": "\n".join(f"{f['source']} | {display.wan(f['amount_wan'])}"
                                 for f in plan.funding),
            "targets": "\n".join(plan.targets),
            "stage_targets": "\n".join(f"{s['year']} | {s['target']}"
                                       for s in plan.stage_targets),
            "reason": ""}


async def _staff_cycle(session, user: User, cycle_id: str) -> Cycle:
    if user.role not in DASHBOARD_ROLES:
        raise Forbidden("not staff", zh="实施方案一览供政府和人大工作人员使用。")
    cycle = await cycles.get(session, cycle_id)
    await ensure_scope(session, user, cycle.jurisdiction_code)
    return cycle


@router.get("/staff/cycles/{cycle_id}/plans")
async def plans_dashboard(request: Request, cycle_id: str, session: SessionDep,
                          user: LoggedIn):
    """实施方案一览: each project with its plan status, due date and a red 逾期 flag."""
    cycle = await _staff_cycle(session, user, cycle_id)
    rows, _ = await service.list_projects(session, cycle)
    ids = [r.project.id for r in rows]
    summaries = await plans.plan_summaries(session, cycle, ids)
    return render(request, "projects/plans_dashboard.html", {
        "cycle": cycle, "rows": [{"p": r.project, "s": summaries[r.project.id]} for r in rows],
        "late": sum(1 for s in summaries.values() if s.late),
        "missing": sum(1 for s in summaries.values() if s.saved_at is None),
        "announced": cycle.phase in service.ANNOUNCED_PHASES,
        "may_edit": user.role in (Role.gov_staff, Role.admin),
        "done": request.query_params.get("done", ""),
        "same": request.query_params.get("same", ""),
        "STATE_LABELS": {str(k): val for k, val in STATE_LABELS.items()}, "wan": display.wan})


async def _form_project(session, user: User, project_id: str) -> tuple[Project, Cycle]:
    plans.ensure_writer(user)
    project = await plans.get_project(session, project_id)
    cycle = await cycles.get(session, project.cycle_id)
    await ensure_scope(session, user, cycle.jurisdiction_code)
    return project, cycle


async def _form_page(request: Request, session, project: Project, v: dict, *,
                     error: str | None = None, status: int = 200):
    view = await plans.view(session, project)
    closed_error = None
    async with attempting(session) as tried:
        await plans.ensure_open(session, view.cycle, project)
    if exc := tried.refused:
        closed_error = refusal_text(exc)
    years = list(range(view.announced_on.year, project.deadline.year + 1))
    return render(request, "projects/plan_form.html", {
        "v": view, "p": project, "cycle": view.cycle, "form": v, "error": error,
        "closed_error": closed_error, "years": years, "cross_year": len(years) > 1,
        "wan": display.wan}, status=max(status, 409) if closed_error else status)


@router.get("/staff/projects/{project_id}/plan")
async def plan_form(request: Request, project_id: str, session: SessionDep, user: LoggedIn):
    """填写 / 修改实施方案 (gov staff of the project's jurisdiction)."""
    project, _ = await _form_project(session, user, project_id)
    plan = (await plans.current_plans(session, [project.id])).get(project.id)
    return await _form_page(request, session, project, values_of(plan))


@router.post("/staff/projects/{project_id}/plan")
async def save_plan_form(request: Request, project_id: str, session: SessionDep,
                         user: LoggedIn):
    """Save the plan; on bad input the form comes back with the message and what was typed."""
    project, cycle = await _form_project(session, user, project_id)
    form = await request.form()
    v = {k: str(form.get(k, "")) for k in TEXT_FIELDS}
    async with attempting(session) as tried:
        refuse_nul(*v.values())
        saved = await plans.save(session, actor=user, project=project, raw=parse_form(v),
                                 reason=v["reason"])
    if exc := tried.refused:
        return await _form_page(request, session, project, v, error=refusal_text(exc),
                                status=exc.status)
    flag = "done" if saved.changed else "same"
    return redirect(request, f"/staff/cycles/{cycle.id}/plans?{flag}={project.id}#p-{project.id}")
