"""Pages of a responsible unit (责任单位) in 监督, made for a phone at the site: "my projects"
with what is due, and one project's progress form — start the work, report progress, say it is
finished. Government staff see and act for every project of their jurisdiction the same way.

Every action goes through the services (app/projects/transitions.py, progress.py) inside a
savepoint; a refusal re-shows the form with the service's Chinese sentence and what was typed.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from fastapi import APIRouter, Request
from sqlalchemy import select

from app.auth.roles import Role
from app.db import SessionDep
from app.errors import Forbidden, Invalid
from app.jurisdictions.settings import settings_for
from app.models import Cycle, Jurisdiction, Project, User
from app.pages.deps import LoggedIn
from app.pages.forms import attempting, refusal_text, refuse_nul
from app.pages.render import redirect, render
from app.projects import display, plans, progress, service, transitions
from app.projects.progress_rules import COLOUR_WORDS
from app.timeutil import china_today
from app.workflows.project import STATE_LABELS
from app.workflows.states import ProjectState

router = APIRouter(include_in_schema=False, prefix="/staff")

BUILDER_ROLES = (Role.unit_staff, Role.gov_staff, Role.admin)
# What the form's buttons may do (decisions are congress staff's, through the API for now).
PAGE_MOVES = {ProjectState.announced: ProjectState.in_progress,
              ProjectState.in_progress: ProjectState.completed}
MINE_LIMIT = 200


def _ensure_builder(user: User) -> None:
    if user.role not in BUILDER_ROLES:
        raise Forbidden("builders only", zh="“我的项目”供责任单位和政府工作人员使用。")


async def _mine(session, user: User) -> list[Project]:
    """The unit's projects (unit_staff), or those of the jurisdiction (gov staff), newest cycle
    first, from the announcement on."""
    query = select(Project).join(Cycle, Cycle.id == Project.cycle_id).where(
        Cycle.phase.in_(service.ANNOUNCED_PHASES))
    if user.role == Role.unit_staff:
        query = query.where(Project.responsible_unit_id == (user.unit_id or "-"))
    elif user.role != Role.admin:
        query = query.where(Cycle.jurisdiction_code == user.jurisdiction_code)
    return list(await session.scalars(query.order_by(Cycle.year.desc(), Project.created_at)
                                      .limit(MINE_LIMIT)))


@router.get("/my-projects")
async def my_projects(request: Request, session: SessionDep, user: LoggedIn):
    """我的项目: each project with its colour and reason, progress and when a report is due."""
    _ensure_builder(user)
    projects = await _mine(session, user)
    ids = [p.id for p in projects]
    current = await plans.current_plans(session, ids)
    latest = await progress.latest_reports(session, ids)
    rows, today = [], china_today()
    cycles: dict[str, tuple[Cycle, object, object]] = {}
    for p in projects:
        if p.cycle_id not in cycles:
            cycle = await session.get(Cycle, p.cycle_id)
            rules = settings_for(await session.get(Jurisdiction, cycle.jurisdiction_code))
            cycles[p.cycle_id] = (cycle, rules, plans.beijing_date(
                await service.published_at(session, cycle)))
        cycle, rules, announced_on = cycles[p.cycle_id]
        rows.append({"p": p, "cycle": cycle, "f": progress.figures(
            p, current.get(p.id), announced_on, rules, latest.get(p.id), today)})
    rows.sort(key=lambda r: (r["f"].report_due or today.replace(year=9999)))
    return render(request, "projects/mine.html", {
        "rows": rows, "no_unit": user.role == Role.unit_staff and not user.unit_id,
        "COLOUR_WORDS": {c.value: w for c, w in COLOUR_WORDS.items()}, "today": today,
        "STATE_LABELS": {str(k): v for k, v in STATE_LABELS.items()}, "wan": display.wan})


async def _project(session, user: User, project_id: str) -> tuple[Project, Cycle]:
    _ensure_builder(user)
    project = await plans.get_project(session, project_id)
    cycle = await session.get(Cycle, project.cycle_id)
    await transitions.ensure_may_act(session, user, project, cycle)  # unit, or scope
    return project, cycle


async def _form_page(request: Request, session, project: Project, form: dict, *,
                     error: str | None = None, status: int = 200):
    view = await plans.view(session, project)
    sv = await progress.supervision(session, view)
    return render(request, "projects/progress_form.html", {
        "p": project, "cycle": view.cycle, "plan": view.plan, "sv": sv, "form": form,
        "error": error, "move_to": PAGE_MOVES.get(project.state),
        "may_report": project.state in progress.REPORTING_STATES,
        "STATE_LABELS": {str(k): v for k, v in STATE_LABELS.items()}, "wan": display.wan},
        status=status)


@router.get("/projects/{project_id}/progress")
async def progress_form(request: Request, project_id: str, session: SessionDep, user: LoggedIn):
    """报告进度: the project's figures, and the form (its last report's figures filled in)."""
    project, _ = await _project(session, user, project_id)
    reports = await progress.reports_of(session, project.id)
    last = reports[0] if reports else None
    form = {"percent": str(last.percent) if last else "",
            "spent_wan": display.wan(last.spent_wan) if last else "", "note": ""}
    return await _form_page(request, session, project, form)


def _number(text: str, what: str, zh: str, kind=int):
    try:
        return kind(text.strip())
    except (ValueError, InvalidOperation):
        raise Invalid(f"{what} must be a number.", code="invalid_field", zh=zh) from None


@router.post("/projects/{project_id}/progress")
async def file_progress(request: Request, project_id: str, session: SessionDep,
                        user: LoggedIn):
    """File the report; on bad input the form comes back with the message and what was typed."""
    project, _ = await _project(session, user, project_id)
    data = await request.form()
    form = {k: str(data.get(k, "")) for k in ("percent", "spent_wan", "note")}
    async with attempting(session) as tried:
        refuse_nul(*form.values())
        await progress.file_report(session, project, user, progress.ReportIn(
            percent=_number(form["percent"], "percent", "完成进度请填 0 到 100 的整数。"),
            spent_wan=_number(form["spent_wan"] or "0", "spent_wan", "累计支出请填数字（万元）。",
                              Decimal),
            note=form["note"]))
    if exc := tried.refused:
        return await _form_page(request, session, project, form, error=refusal_text(exc),
                                status=exc.status)
    return redirect(request, f"/projects/{project.id}#progress-h")


@router.post("/projects/{project_id}/move")
async def move_project(request: Request, project_id: str, session: SessionDep, user: LoggedIn):
    """开工 / 完工: the one move the form offers for the project's state."""
    project, _ = await _project(session, user, project_id)
    target = PAGE_MOVES.get(project.state)
    async with attempting(session) as tried:
        if target is None:
            raise Invalid("Nothing to do here for this project's state.", code="invalid_field",
                          zh="项目当前状态不能在此办理。")
        await transitions.move(session, project, target, actor=user)
    if exc := tried.refused:
        return await _form_page(request, session, project, {}, error=refusal_text(exc),
                                status=exc.status)
    return redirect(request, f"/staff/projects/{project.id}/progress")
